"""bench/load.py's wrk scripts (Lua), one per operation; ``@NAME@`` is filled in with the
run's data (tokens, codes by 30-second step, shops, activities).

Each wrk runs two threads, one on each instance (``thread.addr``). Every request carries
its own ``X-Request-Id``, which the server echoes; a 503 puts that request (same body,
same idempotency key) back in the queue, sent again after a quarter second. ``done()``
prints one ``RESULT {json}`` line: req/s, p50/p95/p99 of every request, statuses, 503s
retried, socket errors.
"""

COMMON = r"""
local ports = @PORTS@
local run = @RUN@
local threads = {}
function setup(thread)
  local n = #threads
  thread.addr = wrk.lookup("127.0.0.1", tostring(ports[(n % #ports) + 1]))[1]
  thread:set("tid", n)
  table.insert(threads, thread)
end
statuses, retried, inflight, retry, seq, backoff = {}, 0, {}, {}, 0, false
function send(method, path, headers, body)
  seq = seq + 1
  local id = run .. "-" .. tid .. "-" .. seq
  headers["X-Request-Id"] = id
  inflight[id] = {method, path, body, headers}
  return wrk.format(method, path, headers, body)
end
function again()
  if #retry > 0 then
    local r = table.remove(retry, 1)
    return send(r[1], r[2], r[4], r[3])
  end
  return nil
end
function note(status, headers)
  statuses[status] = (statuses[status] or 0) + 1
  local id = headers["X-Request-Id"] or headers["x-request-id"]
  local sent = id and inflight[id]
  if id then inflight[id] = nil end
  if status == 503 and sent then
    retried = retried + 1
    table.insert(retry, sent)
    backoff = true
  end
  return sent
end
function delay()
  if backoff then
    backoff = false
    return 250
  end
  return 0
end
function done(summary, latency, requests)
  local merged, again_count = {}, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      merged[tostring(status)] = (merged[tostring(status)] or 0) + count
    end
    again_count = again_count + thread:get("retried")
  end
  local parts = {}
  for status, count in pairs(merged) do
    table.insert(parts, string.format('"%s": %d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"rps": %f, "requests": %d, "p50": %f, "p95": %f, "p99": %f, "statuses": {%s}, '
    .. '"retried": %d, "errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}}\n',
    summary.requests / (summary.duration / 1e6), summary.requests,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, table.concat(parts, ", "), again_count,
    e.connect, e.read, e.write, e.timeout))
end
"""

CHECKIN = r"""
local tokens = @TOKENS@
local kiosk = @KIOSK@
function init(args) counter = tid end
function request()
  local retried_request = again()
  if retried_request then return retried_request end
  counter = counter + 2
  local codes = kiosk[math.floor(os.time() / 30)]
  local member = (counter % #tokens) + 1
  local activity = (math.floor(counter / #tokens) % #codes) + 1
  local headers = {}
  headers["Authorization"] = "Bearer " .. tokens[member]
  headers["Content-Type"] = "application/json"
  return send("POST", "/api/v1/checkins", headers, '{"token": "' .. codes[activity] .. '"}')
end
function response(status, headers, body) note(status, headers) end
"""

BALANCES = r"""
local tokens = @TOKENS@
function init(args) counter = tid end
function request()
  local retried_request = again()
  if retried_request then return retried_request end
  counter = counter + 2
  local headers = {}
  headers["Authorization"] = "Bearer " .. tokens[(counter % #tokens) + 1]
  return send("GET", "/api/v1/me/balances", headers, nil)
end
function response(status, headers, body) note(status, headers) end
"""

REDEEM = r"""
local redeem = @REDEEM@
local shops = @SHOPS@
function init(args)
  counter = tid
  pending = {}
end
function request()
  local retried_request = again()
  if retried_request then return retried_request end
  if #pending > 0 then
    local hold = table.remove(pending, 1)
    local headers = {}
    headers["Authorization"] = hold[2]
    return send("POST", "/api/v1/redemptions/" .. hold[1] .. "/confirm", headers, "")
  end
  counter = counter + 2
  local codes = redeem[math.floor(os.time() / 30)]
  local shop = shops[(math.floor(counter / 2) % #shops) + 1]
  local headers = {}
  headers["Authorization"] = "Bearer " .. shop[3]
  headers["Content-Type"] = "application/json"
  local body = '{"code": "' .. codes[(counter % #codes) + 1] .. '", "offer_id": ' .. shop[2]
    .. ', "idempotency_key": "' .. run .. '-' .. tid .. '-' .. counter .. '"}'
  return send("POST", "/api/v1/redemptions", headers, body)
end
function response(status, headers, body)
  local sent = note(status, headers)
  if sent and sent[2] == "/api/v1/redemptions" and (status == 201 or status == 200) then
    local id = string.match(body, '"id":%s*(%d+)')
    if id then table.insert(pending, {id, sent[4]["Authorization"]}) end
  end
end
"""

APPROVE = r"""
local ended = @ENDED@
local organizer = "Bearer " .. @ORGANIZER@
function init(args)
  counter = tid
  batch = nil
end
function request()
  local retried_request = again()
  if retried_request then return retried_request end
  local headers = {}
  headers["Authorization"] = organizer
  if batch then
    headers["Content-Type"] = "application/json"
    local path = "/api/v1/activities/" .. batch[1] .. "/attendance/approve"
    local body = '{"ids": [' .. batch[2] .. ']}'
    batch = nil
    return send("POST", path, headers, body)
  end
  counter = counter + 2
  current = ended[(counter % #ended) + 1]
  return send("GET", "/api/v1/activities/" .. current .. "/attendance?status=pending", headers, nil)
end
function response(status, headers, body)
  local sent = note(status, headers)
  if status == 200 and sent and sent[1] == "GET" then
    local ids = {}
    for id in string.gmatch(body, '"id":%s*(%d+)') do
      table.insert(ids, id)
      if #ids == 25 then break end
    end
    if #ids > 0 then
      batch = {string.match(sent[2], "/activities/(%d+)/"), table.concat(ids, ",")}
    end
  end
end
"""

REPORT = r"""
local street = @STREET@
local token = @STREET_ORGANIZER@
function request()
  local retried_request = again()
  if retried_request then return retried_request end
  local headers = {}
  headers["Authorization"] = "Bearer " .. token
  return send("GET", "/api/v1/reports/units/" .. street .. "?period=quarter", headers, nil)
end
function response(status, headers, body) note(status, headers) end
"""

SCRIPTS = {
    name: COMMON + body
    for name, body in {
        "checkin": CHECKIN,
        "balances": BALANCES,
        "redeem": REDEEM,
        "approve": APPROVE,
        "report": REPORT,
    }.items()
}
