-- wrk script for bench/ratios.ts: a steady POST /cart whose holds do not grow.
-- A fixed pool of 64 sessions per wrk thread, taken in turn; each request alternates add and
-- remove for its session, so every answered request is a change and at most 64 units are held.
-- With 10 connections a session's next request is sent only after 54 others, so its previous one
-- has almost always been answered; if not, the server takes the repeat as a no-op (an add of a
-- unit already held, or a remove of one not held, answers 200 and changes nothing).
-- Usage: wrk -t1 -c10 -d5s -s bench/post_cart_toggle.lua http://127.0.0.1:PORT/cart -- RUN_TAG
-- RUN_TAG (up to 8 hex digits) keeps the sessions of one run apart from another's.

local POOL = 64
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
  local slot = sent % POOL
  local action = (math.floor(sent / POOL) % 2 == 0) and "add" or "remove"
  sent = sent + 1
  local session = string.format("%08x-%04x-4000-8000-%012x", tag, thread_index or 0, slot)
  return wrk.format(nil, nil, nil, "action=" .. action .. "&session=" .. session)
end
