// Checks a drop's draw: node check-draw.mjs <shop URL> <product> [your ticket, from GET /queue]
const [shop, product, ticket] = process.argv.slice(2);
const check = (ok, why) => {
  if (!ok) throw new Error(why);
};
const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
const sha256 = async (bytes) => hex(await crypto.subtle.digest("SHA-256", bytes));
const utf8 = (text) => new TextEncoder().encode(text);
const draw = await (await fetch(new URL(`/queue/draw?product=${product}`, shop))).json();
const seed = Uint8Array.from(draw.seed.match(/../g), (pair) => parseInt(pair, 16));
check(await sha256(seed) === draw.commitment, "the seed does not match the commitment");
draw.macs.forEach((mac, i) => check(i === 0 || draw.macs[i - 1] < mac, `order breaks at ${i + 1}`));
console.log(`The seed matches the commitment; ${draw.macs.length} tickets drawn in HMAC order.`);
if (ticket) {
  const hmac = { name: "HMAC", hash: "SHA-256" };
  const key = await crypto.subtle.importKey("raw", seed, hmac, false, ["sign"]);
  const mac = hex(await crypto.subtle.sign("HMAC", key, utf8(ticket)));
  const number = draw.order.indexOf(await sha256(utf8(ticket))) + 1;
  check(number > 0, "your ticket is not in the draw");
  check(
    number > draw.macs.length || draw.macs[number - 1] === mac,
    "your HMAC is not at your number",
  );
  console.log(`Your ticket is number ${number}.`);
}
