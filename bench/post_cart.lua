-- wrk script for the benches' POST /cart, in one of two modes (the second argument):
--   new    (default; bench/fleet_load.ts) every request adds the demo product for a new session:
--          on a product with stock each one is a new hold (a change), on a sold-out one a 409.
--   toggle (bench/ratios.ts) a steady POST /cart whose holds do not grow: a fixed pool of 64
--          sessions per wrk thread, taken in turn, each request alternating add and remove for its
--          session, so every answered request is a change and at most 64 units are held. With 10
--          connections a session's next request is sent only after 54 others, so its previous one
--          has almost always been answered; if not, the server takes the repeat as a no-op (an add
--          of a unit already held, or a remove of one not held, answers 200 and changes nothing).
--          More connections need a larger pool to keep that spacing (bench/group_commit.ts).
-- Usage: wrk -t1 -c32 -d5s -s bench/post_cart.lua http://127.0.0.1:PORT/cart -- RUN_TAG [MODE] [POOL]
-- RUN_TAG (up to 8 hex digits) keeps the sessions of one run apart from another's; POOL is the
-- toggle mode's sessions per thread (64 unless given).

local POOL = 64
local tag = 0
local toggle = false
local thread_count = 0
local sent = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  tag = tonumber(args[1] or "0", 16) or 0
  toggle = args[2] == "toggle"
  POOL = tonumber(args[3] or "64") or 64
  wrk.method = "POST"
  wrk.headers["content-type"] = "application/x-www-form-urlencoded"
end

function request()
  local slot, action = sent, "add"
  if toggle then
    slot = sent % POOL
    if math.floor(sent / POOL) % 2 == 1 then action = "remove" end
  end
  sent = sent + 1
  -- A UUID (version 4 layout) made of the run's tag, the thread and a counter or a pool slot.
  local session = string.format("%08x-%04x-4000-8000-%012x", tag, thread_index or 0, slot)
  return wrk.format(nil, nil, nil, "action=" .. action .. "&session=" .. session)
end
