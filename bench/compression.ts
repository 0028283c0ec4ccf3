/**
 * Issue 25, point 8: what compressing answers costs and saves.
 *
 * 1. At start: the time to compress every file of static/ and templates/ in each coding and
 *    setting, and the bytes each leaves.
 * 2. The catalog page's resources (the page, its scripts and their imports, its style, icons and
 *    pictures) as a browser gets them, with and without `Accept-Encoding`, from a real server on
 *    the example catalog: the bytes Lighthouse's "Enable text compression" counts.
 * 3. The whole answer to `GET /` in process, as it is and gzipped: what a page costs the server.
 * 4. Per page: the time to compress a rendered catalog page and product page per answer, by
 *    gzipSync, brotliCompressSync and CompressionStream.
 *
 * Run: `deno run -A bench/compression.ts`
 */
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { startServer } from "../lib/server/start_server.ts";
import { exampleCatalog } from "../tests/support/products.ts";
import { TEST_CONFIG } from "../tests/support/server.ts";

const ROOT = join(import.meta.dirname!, "..");
const ROUNDS = 5;

function readFolder(folder: string): Uint8Array[] {
  return [...Deno.readDirSync(join(ROOT, folder))]
    .filter((entry) => entry.isFile)
    .map((entry) => Deno.readFileSync(join(ROOT, folder, entry.name)));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function atStart(): void {
  const files = [...readFolder("static"), ...readFolder("templates")];
  const raw = files.reduce((sum, file) => sum + file.byteLength, 0);
  console.log(`\n1. At start: ${files.length} files, ${raw} B (median of ${ROUNDS} rounds)`);
  const settings: [string, (file: Uint8Array) => Uint8Array][] = [
    ["gzip level 9", (file) => gzipSync(file, { level: 9 })],
    ...[5, 6, 10, 11].map((quality): [string, (file: Uint8Array) => Uint8Array] => [
      `brotli quality ${quality}`,
      (file) =>
        brotliCompressSync(file, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: quality,
            [constants.BROTLI_PARAM_SIZE_HINT]: file.byteLength,
          },
        }),
    ]),
  ];
  for (const [name, compress] of settings) {
    const times: number[] = [];
    let bytes = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      bytes = files.reduce((sum, file) => sum + compress(file).byteLength, 0);
      times.push(performance.now() - started);
    }
    console.log(
      `   ${name.padEnd(18)} ${String(bytes).padStart(6)} B  ${median(times).toFixed(1)} ms`,
    );
  }
}

async function perPage(pages: Record<string, Uint8Array<ArrayBuffer>>): Promise<void> {
  console.log("\n4. Per page (µs per page, median of 5 runs of 1,000)");
  const ways: [string, (page: Uint8Array<ArrayBuffer>) => number | Promise<number>][] = [
    ["gzipSync level 6", (page) => gzipSync(page, { level: 6 }).byteLength],
    [
      "brotliCompressSync q4",
      (page) =>
        brotliCompressSync(page, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }).byteLength,
    ],
    ["CompressionStream gzip", async (page) =>
      (await new Response(
        new Blob([page]).stream().pipeThrough(new CompressionStream("gzip")),
      ).arrayBuffer()).byteLength],
  ];
  for (const [name, page] of Object.entries(pages)) {
    for (const [way, compress] of ways) {
      const times: number[] = [];
      let bytes = 0;
      for (let run = 0; run < 5; run++) {
        const started = performance.now();
        for (let i = 0; i < 1000; i++) bytes = await compress(page);
        times.push((performance.now() - started) / 1000 * 1000);
      }
      console.log(
        `   ${name.padEnd(13)} ${String(page.byteLength).padStart(5)} B → ${
          String(bytes).padStart(5)
        } B  ${way.padEnd(24)} ${median(times).toFixed(0)} µs`,
      );
    }
  }
}

/** GETs through node:http, which leaves the body as sent. */
function wireBytes(url: string, acceptEncoding: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = acceptEncoding
      ? { "accept-encoding": acceptEncoding }
      : {};
    httpRequest(url, { headers, agent: false }, (response) => {
      let bytes = 0;
      response.on("data", (chunk: Uint8Array) => bytes += chunk.byteLength);
      response.on("end", () => resolve(bytes));
      response.on("error", reject);
    }).on("error", reject).end();
  });
}

async function catalogResources(): Promise<Record<string, Uint8Array<ArrayBuffer>>> {
  const server = await startServer(TEST_CONFIG, { log: () => {}, catalog: await exampleCatalog() });
  try {
    const html = await (await fetch(server.url, { headers: { "accept-encoding": "identity" } }))
      .text();
    const product = await (await fetch(`${server.url}products/moon-pin`, {
      headers: { "accept-encoding": "identity" },
    })).text();
    // The page's own links, and the scripts' imports, as a browser follows them.
    const paths = new Set(
      [...html.matchAll(/(?:src|href)="(\/(?:static|media)\/[^"]+)"/g)].map((m) => m[1]),
    );
    // A Set met in insertion order: imports found are followed in turn (bounded by the files).
    for (const script of paths) {
      if (!script.endsWith(".js")) continue;
      const text = await (await fetch(new URL(script, server.url))).text();
      for (const [, name] of text.matchAll(/^import .* from "\.\/([^"]+)";$/gm)) {
        paths.add(`/static/${name}`);
      }
    }
    console.log("\n2. The catalog page's resources on the wire (B)");
    console.log(
      `   ${"resource".padEnd(32)} ${"none".padStart(6)} ${"gzip".padStart(6)} ${"br".padStart(6)}`,
    );
    let totals = [0, 0, 0];
    for (const path of ["/", ...paths]) {
      const url = new URL(path, server.url).href;
      const sizes = [
        await wireBytes(url, undefined),
        await wireBytes(url, "gzip"),
        await wireBytes(url, "gzip, deflate, br, zstd"),
      ];
      totals = totals.map((total, i) => total + sizes[i]);
      console.log(`   ${path.padEnd(32)} ${sizes.map((s) => String(s).padStart(6)).join(" ")}`);
    }
    console.log(`   ${"total".padEnd(32)} ${totals.map((s) => String(s).padStart(6)).join(" ")}`);
    await wholeAnswer(server.app.handle);
    const encoder = new TextEncoder();
    return { catalog: encoder.encode(html), product: encoder.encode(product) };
  } finally {
    await server.stop();
  }
}

/** The whole answer to GET / (the catalog page), in process: rendered as it is, and gzipped. */
async function wholeAnswer(handle: (request: Request) => Promise<Response>): Promise<void> {
  console.log(
    "\n3. GET / answered in process, the page read whole (µs per page, median of 5 × 1,000)",
  );
  for (const acceptEncoding of ["identity", "gzip, deflate, br, zstd"]) {
    const times: number[] = [];
    for (let run = 0; run < 5; run++) {
      const started = performance.now();
      for (let i = 0; i < 1000; i++) {
        const answer = await handle(
          new Request("http://127.0.0.1/", {
            headers: { "accept-encoding": acceptEncoding, cookie: "sid=" + crypto.randomUUID() },
          }),
        );
        await answer.arrayBuffer();
      }
      times.push((performance.now() - started) / 1000 * 1000);
    }
    console.log(`   Accept-Encoding: ${acceptEncoding.padEnd(24)} ${median(times).toFixed(0)} µs`);
  }
}

atStart();
const pages = await catalogResources();
await perPage(pages);
