-- The "wrk" scenario's load: PUT pushes of the benchmark's 1 KiB body spread over many groups
-- (/metrics/job/bench/instance/host-N, N < GROUPS), each thread starting at its own offset.
--   wrk -t THREADS -c CONNECTIONS -d SECONDS -s bench/wrk-groups.lua URL -- GROUPS BODY_FILE THREADS
-- done() prints the figures as one line, "wrk-json {...}", which bench/wrk.ts reads.
local count = 0

function setup(thread)
  thread:set("id", count)
  count = count + 1
end

function init(args)
  groups = assert(tonumber(args[1]), "GROUPS")
  local f = assert(io.open(args[2], "rb"))
  body = f:read("*a")
  f:close()
  local threads = tonumber(args[3]) or 1
  n = (id or 0) * math.floor(groups / threads)
  headers = { ["Content-Type"] = "text/plain; version=0.0.4" }
end

function request()
  n = (n + 1) % groups
  return wrk.format("PUT", "/metrics/job/bench/instance/host-" .. n, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'wrk-json {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.timeout, e.status))
end
