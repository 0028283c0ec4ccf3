/** Route guards in process: an async guard on upgrades blocks the upgrade until it settles. */
import assert from "node:assert/strict";
import { onUpgrades } from "../lib/http/guards.ts";
import { errorResponse, HttpError } from "../lib/http/http_error.ts";
import { Router } from "../lib/http/router.ts";

/** A router of one route whose only guard, on upgrades, refuses after a tick. */
function guardedRouter(seen: string[]): Router {
  const refuseLater = onUpgrades(async () => {
    await Promise.resolve();
    seen.push("guard");
    throw new HttpError(403, "Not from here");
  });
  return new Router([{
    name: "status",
    path: "/status",
    methods: ["GET"],
    guards: [refuseLater],
    handle: () => {
      seen.push("handler");
      return new Response("ok");
    },
  }]);
}

async function answer(router: Router, request: Request): Promise<Response> {
  const url = new URL(request.url);
  try {
    return await router.run(router.find(url)!, request, url);
  } catch (error) {
    return errorResponse(error);
  }
}

Deno.test("an async guard on upgrades refuses the upgrade before the handler runs", async () => {
  const seen: string[] = [];
  const router = guardedRouter(seen);
  const upgrade = new Request("http://x/status", { headers: { upgrade: "websocket" } });
  const response = await answer(router, upgrade);
  assert.equal(response.status, 403);
  assert.deepEqual(seen, ["guard"]);
  router.close();
});

Deno.test("a guard on upgrades lets a plain request through without running", async () => {
  const seen: string[] = [];
  const router = guardedRouter(seen);
  const response = await answer(router, new Request("http://x/status"));
  assert.equal(response.status, 200);
  assert.deepEqual(seen, ["handler"]);
  router.close();
});
