/** A child of `bench/load.ts`: holds its share of the subscribers and answers the parent's asks. */
import { parseArgs } from "node:util";
import { Fleet, wallClock } from "../tests/support/fleet.ts";
import {
  type ChildMessage,
  type ParentMessage,
  readMessages,
  writeMessage,
} from "./load_protocol.ts";
import { type Transport, TRANSPORTS } from "./subscribers.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    url: { type: "string" },
    transport: { type: "string" },
    n: { type: "string" },
    "deadline-ms": { type: "string" },
  },
});
const transport = values.transport as Transport;
if (!values.url || !TRANSPORTS.includes(transport) || !values.n || !values["deadline-ms"]) {
  console.error("load_child: needs --url, --transport, --n and --deadline-ms");
  Deno.exit(2);
}
const n = Number(values.n);
// The child ends itself when the whole run's time is up, even if the parent is gone.
const deadline = AbortSignal.timeout(Number(values["deadline-ms"]));
deadline.addEventListener("abort", () => Deno.exit(3));

const out = Deno.stdout.writable.getWriter();
const send = (message: ChildMessage) => writeMessage(out, message);

const fleet = new Fleet();
const start = wallClock();
const report = await fleet.open(new URL(values.url), transport, n, 256, deadline);
await send({
  type: "opened",
  opened: report.opened,
  failed: report.failed,
  firstError: report.firstError,
  start,
  end: start + report.ms,
});

// When stdin ends the parent has gone: close everything and exit.
for await (const message of readMessages<ParentMessage>(Deno.stdin.readable)) {
  if (message.type === "arm") {
    fleet.arm(message.version);
    await send({ type: "armed" });
    const version = message.version;
    fleet.reached(deadline).then((at) => send({ type: "reached", version, at }), () => {});
  } else if (message.type === "check") {
    await send({
      type: "checked",
      behind: fleet.behind(message.version),
      duplicates: fleet.duplicates,
      lost: fleet.lost,
      firstLoss: fleet.firstLoss,
    });
  } else break;
}
fleet.close();
Deno.exit(0);
