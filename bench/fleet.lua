-- wrk script for bench/fleet: thread i connects to the i-th port of
-- FLEET_PORTS (comma list, reused in turn), so one wrk process spreads its
-- connections evenly over the replicas and keeps one latency histogram;
-- requests go round-robin over BENCH_TENANTS of the simulator's bench
-- tenants, each thread starting at a different one.
local ports = {}
for p in string.gmatch(os.getenv("FLEET_PORTS") or "", "[^,]+") do ports[#ports + 1] = p end
local n = tonumber(os.getenv("BENCH_TENANTS") or "50")
local started = 0

setup = function(thread)
  started = started + 1
  local port = ports[(started - 1) % #ports + 1]
  thread.addr = wrk.lookup("127.0.0.1", port)[1]
  thread:set("first", started)
end

local reqs, next_req = {}, 1
init = function(args)
  for i = 1, n do
    local id = string.format("%08x-0000-4000-8000-000000000000", i)
    reqs[i] = wrk.format(nil, nil, {["X-Tenant-ID"] = id})
  end
  next_req = ((first or 1) * 17) % n + 1
end

request = function()
  local r = reqs[next_req]
  next_req = next_req % n + 1
  return r
end

done = function(summary, latency, requests)
  io.write(string.format("BENCH requests=%d duration_us=%d errors=%d non2xx=%d p50=%d p99=%d p999=%d\n",
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
