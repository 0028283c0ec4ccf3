/** The Lua of the drops' lines in the library: each queue operation one function, the rules of lib/queue/line.ts. */

/**
 * How long an add may keep its admission claimed (neither ending nor taken back) before the claim
 * counts as abandoned: its process died or lost Redis between the claim and the settle. Well
 * above a command timeout, so a live add always settles first.
 */
export const CLAIM_LEASE_MS = 10_000;

/**
 * The Lua functions of the drops' lines, put after {@linkcode PRODUCT_LUA}'s helpers (they use
 * `open`, `finish`, `now_ms` and `int`).
 *
 * Every line function takes the product's four keys, then the line's seven (line, tickets, ids,
 * window, admissions, clients, window MACs: one hash tag, so a function reads the product's total
 * and holds with its line), and the arguments `changes channel, queue channel, product id, opensAt (ms),
 * window (ms), the server's admit rate, admission ttl (ms), seed, commitment`, then its own.
 * The time is Redis's `TIME`, the same for every process. A line function answers
 * `{status, line state JSON, ...}`; the state omits the seed until the draw. A change a page
 * sees raises the line's version and is published on the queue channel within the same call, so
 * that the channel's order is the version order; a change only of admissions is written without
 * a new version (a process learns it from the answer, or its periodic read).
 *
 * Stored: the line hash (seed, commitment, closed, drawn, servingUpTo, count of numbers given,
 * tickets, revoked and recent as comma lists, admitRate, paused, version); tickets (session →
 * `id|number|used|client`, number empty until the draw); ids (ticket id → session); window (the
 * window's ticket ids in join order); admissions (number → `expiresAt|claimedUntil`, 0 when not
 * claimed); clients (client → tickets); window MACs (ticket id → its HMAC under the seed, made
 * by the joining process).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(QUEUE_LUA.includes("redis.register_function('queue_join', queue_join)"));
 * ```
 */
export const QUEUE_LUA = `
local RATE_WINDOW_MS = 1000
local CLAIM_LEASE_MS = ${CLAIM_LEASE_MS}

local function numbers_of(text)
  local list = {}
  for n in string.gmatch(text, '%d+') do list[#list + 1] = tonumber(n) end
  return list
end

local function text_of(list)
  local parts = {}
  for i, n in ipairs(list) do parts[i] = int(n) end
  return table.concat(parts, ',')
end

local LINE_FIELDS = { 'seed', 'commitment', 'closed', 'drawn', 'servingUpTo', 'count', 'tickets',
  'revoked', 'recent', 'admitRate', 'paused', 'version' }

-- args: changes, queue channel, product, opensAt, window, rate, ttl, seed, commitment.
local function context(args)
  return {
    changes = args[1], channel = args[2], product = args[3], opens_at = tonumber(args[4]),
    window = tonumber(args[5]), rate = tonumber(args[6]), ttl = tonumber(args[7]),
    seed = args[8], commitment = args[9],
  }
end

local function read_line(keys)
  local raw = redis.call('HMGET', keys[5], unpack(LINE_FIELDS))
  local v = {}
  for i, name in ipairs(LINE_FIELDS) do v[name] = raw[i] or '' end
  return {
    seed = v.seed, commitment = v.commitment, closed = v.closed == '1', drawn = v.drawn == '1',
    servingUpTo = tonumber(v.servingUpTo) or 0, count = tonumber(v.count) or 0,
    tickets = tonumber(v.tickets) or 0, revoked = numbers_of(v.revoked),
    recent = numbers_of(v.recent), admitRate = tonumber(v.admitRate), paused = v.paused == '1',
    version = tonumber(v.version) or 0, dirty = false, visible = false,
  }
end

local function parse_ticket(raw)
  if not raw then return nil end
  local id, number, used, client = string.match(raw, '^([^|]*)|(%d*)|([01])|(.*)$')
  return { id = id, number = tonumber(number), used = used == '1', client = client }
end

local function format_ticket(t)
  return t.id .. '|' .. (t.number and int(t.number) or '') .. '|' .. (t.used and '1' or '0') ..
    '|' .. t.client
end

-- Admissions given and not used, each {number, expiresAt, claimedUntil}.
local function admissions_of(keys)
  local raw = redis.call('HGETALL', keys[9])
  local list = {}
  for i = 1, #raw, 2 do
    local e, c = string.match(raw[i + 1], '^(%d+)|(%d+)$')
    list[#list + 1] = { number = tonumber(raw[i]), expiresAt = tonumber(e), claimedUntil = tonumber(c) }
  end
  return list
end

local function rate_of(l, ctx)
  return l.admitRate or ctx.rate
end

-- When the line should be looked at again though nothing else changes; nil for never.
local function next_wake(keys, l, ctx, now)
  local wake = nil
  for _, a in ipairs(admissions_of(keys)) do
    local at = a.claimedUntil > now and a.claimedUntil or a.expiresAt
    if not wake or at < wake then wake = at end
  end
  local rate = rate_of(l, ctx)
  if l.drawn and not l.paused and l.servingUpTo < l.count and #l.recent >= rate then
    local freed = l.recent[#l.recent - rate + 1] + RATE_WINDOW_MS
    if not wake or freed < wake then wake = freed end
  end
  return wake
end

local function line_state(keys, l, ctx, now)
  local queued = l.drawn and (l.count - l.servingUpTo) or l.tickets
  return cjson.encode({
    product = ctx.product, version = l.version,
    commitment = l.commitment ~= '' and l.commitment or cjson.null,
    seed = l.drawn and l.seed or cjson.null,
    closed = l.closed, drawn = l.drawn, servingUpTo = l.servingUpTo, queued = queued,
    count = l.count, admitRate = l.admitRate or cjson.null, paused = l.paused,
    nextWake = next_wake(keys, l, ctx, now) or cjson.null,
  })
end

-- Writes what changed; a change a page sees raises the version and is published.
local function save_line(keys, l, ctx, now)
  if l.visible then l.version = l.version + 1 end
  if l.dirty or l.visible then
    redis.call('HSET', keys[5], 'seed', l.seed, 'commitment', l.commitment,
      'closed', l.closed and '1' or '0', 'drawn', l.drawn and '1' or '0',
      'servingUpTo', int(l.servingUpTo), 'count', int(l.count), 'tickets', int(l.tickets),
      'revoked', text_of(l.revoked), 'recent', text_of(l.recent),
      'admitRate', l.admitRate and int(l.admitRate) or '', 'paused', l.paused and '1' or '0',
      'version', int(l.version))
  end
  local json = line_state(keys, l, ctx, now)
  if l.visible then redis.call('PUBLISH', ctx.channel, json) end
  return json
end

-- Opens the window with the first seed offered, and closes it at the opening: from then on a
-- ticket is numbered on arrival, after the window's. Answers 'before', 'needs seed' or nil.
local function prepare(keys, l, ctx, now)
  if now < ctx.opens_at - ctx.window then return 'before' end
  if l.seed == '' then
    if ctx.seed == '' then return 'needs seed' end
    l.seed, l.commitment, l.visible = ctx.seed, ctx.commitment, true
  end
  if now >= ctx.opens_at and not l.closed then
    l.closed, l.count, l.dirty = true, redis.call('LLEN', keys[8]), true
  end
  return nil
end

-- The units free: total − held, never below 0.
local function free_of(keys, p)
  return math.max(0, tonumber(p.total) - redis.call('HLEN', keys[2]))
end

-- Ends admissions that ran out, takes back the newest when the free units fell below them, then
-- admits (those taken back first, then the next numbers) while units are free beyond the
-- admissions given and the rate allows. An admission claimed by an add in flight neither ends nor
-- is taken back.
local function advance(keys, l, ctx, now, free)
  local open, claims = {}, 0
  for _, a in ipairs(admissions_of(keys)) do
    a.claimed = a.claimedUntil > now
    if a.expiresAt <= now and not a.claimed then
      redis.call('HDEL', keys[9], int(a.number))
      l.dirty = true
    else
      open[#open + 1] = a
      if a.claimed then claims = claims + 1 end
    end
  end
  table.sort(open, function(x, y) return x.number > y.number end)
  local count, i = #open, 1
  while count - claims > free do
    while open[i].claimed do i = i + 1 end
    redis.call('HDEL', keys[9], int(open[i].number))
    l.revoked[#l.revoked + 1] = open[i].number
    count, i, l.dirty = count - 1, i + 1, true
  end
  table.sort(l.revoked)
  local recent = {}
  for _, at in ipairs(l.recent) do
    if at > now - RATE_WINDOW_MS then recent[#recent + 1] = at end
  end
  if #recent ~= #l.recent then l.dirty = true end
  l.recent = recent
  if not l.drawn or l.paused then return end
  local rate = rate_of(l, ctx)
  while #l.recent < rate and free - count > 0 do
    local number = table.remove(l.revoked, 1)
    if not number then
      if l.servingUpTo >= l.count then break end
      l.servingUpTo = l.servingUpTo + 1
      number = l.servingUpTo
      l.visible = true
    end
    redis.call('HSET', keys[9], int(number), int(now + ctx.ttl) .. '|0')
    l.recent[#l.recent + 1] = now
    count, l.dirty = count + 1, true
  end
end

-- Opens the product, ending its due holds (published as the product's change).
local function open_product(keys, ctx)
  local p, changed = open(keys)
  if p and changed then finish(keys, ctx.changes, p, true, 'ok') end
  return p
end

-- Opens the window, closes it, and admits: what any process's timer calls, idempotently.
-- Answers 'draw' when the window closed and the draw is still to be applied.
local function queue_advance(keys, args)
  local ctx = context(args)
  local p = open_product(keys, ctx)
  if not p then return { 'unknown product' } end
  local now = now_ms()
  local l = read_line(keys)
  local status = prepare(keys, l, ctx, now) or 'ok'
  if status == 'ok' and p.retired ~= '1' then advance(keys, l, ctx, now, free_of(keys, p)) end
  if status == 'ok' and l.closed and not l.drawn then status = 'draw' end
  return { status, save_line(keys, l, ctx, now) }
end

-- args after the context: session, client, the client's most tickets (0: not counted), new id,
-- and the new id's HMAC with the commitment of the seed that made it ('' when the process had no
-- seed): kept for the draw only when that seed is the line's.
-- Answers {'ok', state, ticket id, number or ''} or a refusal.
local function queue_join(keys, args)
  local ctx = context(args)
  local session, client, max, new_id = args[10], args[11], tonumber(args[12]), args[13]
  local mac, mac_commitment = args[14] or '', args[15] or ''
  local p = open_product(keys, ctx)
  if not p then return { 'unknown product' } end
  local now = now_ms()
  local l = read_line(keys)
  local refused = prepare(keys, l, ctx, now)
  if refused == 'before' then refused = 'not open yet' end
  if not refused and p.retired == '1' then refused = 'retired' end
  if not refused and tonumber(p.total) == 0 and redis.call('HLEN', keys[2]) == 0 then
    refused = 'sold out'
  end
  local known = parse_ticket(redis.call('HGET', keys[6], session))
  if not refused and not known and max > 0 and
      (tonumber(redis.call('HGET', keys[10], client)) or 0) >= max then
    refused = 'too many tickets'
  end
  if refused then return { refused, save_line(keys, l, ctx, now) } end
  if not known then
    known = { id = new_id, used = false, client = client }
    if l.closed then
      l.count = l.count + 1
      known.number = l.count
    else
      redis.call('RPUSH', keys[8], new_id)
      if mac ~= '' and mac_commitment == l.commitment then redis.call('HSET', keys[11], new_id, mac) end
    end
    redis.call('HSET', keys[6], session, format_ticket(known))
    redis.call('HSET', keys[7], new_id, session)
    redis.call('HINCRBY', keys[10], client, 1)
    l.tickets, l.visible = l.tickets + 1, true
  end
  local json = save_line(keys, l, ctx, now)
  return { 'ok', json, known.id, known.number and int(known.number) or '' }
end

-- args after the context: every window ticket's id in the draw's order (see drawOrder). The
-- first application numbers them and reveals the seed; any later one is refused as 'drawn'.
local function queue_apply_draw(keys, args)
  local ctx = context(args)
  local p = open_product(keys, ctx)
  if not p then return { 'unknown product' } end
  local now = now_ms()
  local l = read_line(keys)
  if l.drawn then return { 'drawn', save_line(keys, l, ctx, now) } end
  if not l.closed then return { 'window open', save_line(keys, l, ctx, now) } end
  local n = #args - 9
  if n ~= redis.call('LLEN', keys[8]) then return { 'wrong order', save_line(keys, l, ctx, now) } end
  local sessions, seen = {}, {}
  for i = 1, n do
    local id = args[9 + i]
    local session = redis.call('HGET', keys[7], id)
    local ticket = session and parse_ticket(redis.call('HGET', keys[6], session))
    if not ticket or ticket.number or seen[id] then
      return { 'wrong order', save_line(keys, l, ctx, now) }
    end
    seen[id], sessions[i] = true, session
  end
  for i = 1, n do
    local ticket = parse_ticket(redis.call('HGET', keys[6], sessions[i]))
    ticket.number = i
    redis.call('HSET', keys[6], sessions[i], format_ticket(ticket))
  end
  l.drawn, l.visible = true, true
  if p.retired ~= '1' then advance(keys, l, ctx, now, free_of(keys, p)) end
  return { 'ok', save_line(keys, l, ctx, now) }
end

-- args after the context: session. Claims the session's admission for its add: 'claimed', else
-- 'ticket' (it has one, not admitted now), 'none', or 'not drawn'.
local function queue_claim(keys, args)
  local ctx = context(args)
  local now = now_ms()
  local l = read_line(keys)
  if not l.drawn then return { 'not drawn', line_state(keys, l, ctx, now) } end
  local ticket = parse_ticket(redis.call('HGET', keys[6], args[10]))
  if not ticket then return { 'none', line_state(keys, l, ctx, now) } end
  local raw = ticket.number and redis.call('HGET', keys[9], int(ticket.number))
  if raw then
    local e, c = string.match(raw, '^(%d+)|(%d+)$')
    if tonumber(e) > now and tonumber(c) <= now then
      redis.call('HSET', keys[9], int(ticket.number), e .. '|' .. int(now + CLAIM_LEASE_MS))
      return { 'claimed', line_state(keys, l, ctx, now) }
    end
  end
  return { 'ticket', line_state(keys, l, ctx, now) }
end

-- args after the context: session, took ('1' or '0'). Ends a claim: the admission is used, or
-- open again; then admits what the stock allows.
local function queue_settle(keys, args)
  local ctx = context(args)
  local p = open_product(keys, ctx)
  if not p then return { 'unknown product' } end
  local now = now_ms()
  local l = read_line(keys)
  local ticket = parse_ticket(redis.call('HGET', keys[6], args[10]))
  local raw = ticket and ticket.number and redis.call('HGET', keys[9], int(ticket.number))
  local e, c = string.match(raw or '', '^(%d+)|(%d+)$')
  if c and c ~= '0' then
    if args[11] == '1' then
      redis.call('HDEL', keys[9], int(ticket.number))
      ticket.used = true
      redis.call('HSET', keys[6], args[10], format_ticket(ticket))
    else
      redis.call('HSET', keys[9], int(ticket.number), e .. '|0')
    end
    l.dirty = true
  end
  if p.retired ~= '1' then advance(keys, l, ctx, now, free_of(keys, p)) end
  return { 'ok', save_line(keys, l, ctx, now) }
end

-- args after the context: session. Answers {'ok', state, ticket id, number, admission's end},
-- each '' when there is none.
local function queue_turn(keys, args)
  local ctx = context(args)
  local now = now_ms()
  local l = read_line(keys)
  local ticket = parse_ticket(redis.call('HGET', keys[6], args[10]))
  if not ticket then return { 'ok', line_state(keys, l, ctx, now), '', '', '' } end
  local ends = ''
  local raw = ticket.number and redis.call('HGET', keys[9], int(ticket.number))
  if raw then
    local e, c = string.match(raw, '^(%d+)|(%d+)$')
    if tonumber(e) > now or tonumber(c) > now then ends = e end
  end
  local number = ticket.number and int(ticket.number) or ''
  return { 'ok', line_state(keys, l, ctx, now), ticket.id, number, ends }
end

-- args after the context: admit rate ('' for the server's, '-' unchanged), paused ('1', '0', '-').
local function queue_control(keys, args)
  local ctx = context(args)
  local p = open_product(keys, ctx)
  if not p then return { 'unknown product' } end
  local now = now_ms()
  local l = read_line(keys)
  local rate, paused = l.admitRate, l.paused
  if args[10] ~= '-' then rate = tonumber(args[10]) end
  if args[11] ~= '-' then paused = args[11] == '1' end
  if rate ~= l.admitRate or paused ~= l.paused then
    l.admitRate, l.paused, l.visible = rate, paused, true
  end
  if p.retired ~= '1' then advance(keys, l, ctx, now, free_of(keys, p)) end
  return { 'ok', save_line(keys, l, ctx, now) }
end

-- The line's state, writing nothing: how a process reloads it.
local function queue_read(keys, args)
  local ctx = context(args)
  return { 'ok', line_state(keys, read_line(keys), ctx, now_ms()) }
end

redis.register_function('queue_advance', queue_advance)
redis.register_function('queue_join', queue_join)
redis.register_function('queue_apply_draw', queue_apply_draw)
redis.register_function('queue_claim', queue_claim)
redis.register_function('queue_settle', queue_settle)
redis.register_function('queue_turn', queue_turn)
redis.register_function('queue_control', queue_control)
redis.register_function{function_name = 'queue_read', callback = queue_read, flags = {'no-writes'}}
`;
