-- wrk script for single-report intake.
-- usage: wrk ... -s intake.lua URL -- PATH SERVICE FEATURE DUP_EVERY RUN_ID
-- Every request comes from a different reporter (User-Agent and X-Forwarded-For,
-- the server runs with TREMOR_NUM_PROXIES=1), as in an outage where many people
-- report once; every DUP_EVERY-th request repeats the previous reporter, so the
-- dedupe path answers 200 and stores nothing. done() prints one JSON line.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  path = args[1]
  dup_every = tonumber(args[4]) or 0
  run_id = args[5] or "0"  -- a fresh reporter set per run: earlier runs' dedupe claims last 15 minutes
  run_num = tonumber(string.match(run_id, "(%d+)$")) or 0
  body = string.format('{"service":"%s","feature":"%s","code":"503","country":"FR"}', args[2], args[3])
  n = 0
  statuses = {}
end

function request()
  n = n + 1
  local who = n
  if dup_every > 0 and n % dup_every == 0 then who = n - 1 end
  local headers = {
    ["Content-Type"] = "application/json",
    ["User-Agent"] = "tremor-bench/" .. run_id .. "/" .. tid .. "/" .. who,
    -- The run's number in the first octet: networks are capped at 5 counted reports per 15 minutes
    -- (reports/dedupe.py), and runs that reused the same addresses turned later runs into duplicates.
    ["X-Forwarded-For"] = string.format("%d.%d.%d.%d", 10 + run_num % 200, tid % 256, math.floor(who / 256) % 256,
                                        who % 256),
  }
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(counts) do
    table.insert(parts, string.format('"%d":%d', status, count))
  end
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    table.concat(parts, ",")))
end
