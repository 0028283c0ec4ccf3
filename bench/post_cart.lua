-- wrk script for bench/fleet_load.ts: every request adds the demo product for a new session.
-- On a product with stock each one is a new hold (a change); on a sold-out one each is a 409.
-- Usage: wrk -t1 -c32 -d5s -s bench/post_cart.lua http://127.0.0.1:PORT/cart -- RUN_TAG
-- RUN_TAG (up to 8 hex digits) keeps the sessions of one run apart from another's.

local tag = 0
local thread_count = 0
local sent = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  tag = tonumber(args[1] or "0", 16) or 0
  wrk.method = "POST"
  wrk.headers["content-type"] = "application/x-www-form-urlencoded"
end

function request()
  sent = sent + 1
  -- A UUID (version 4 layout) made of the run's tag, the thread and a counter.
  local session = string.format("%08x-%04x-4000-8000-%012x", tag, thread_index or 0, sent)
  return wrk.format(nil, nil, nil, "action=add&session=" .. session)
end
