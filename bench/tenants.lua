-- wrk script: spread requests over the simulator's bench tenants.
local n = tonumber(os.getenv("BENCH_TENANTS") or "10000")
request = function()
  local id = string.format("%08x-0000-4000-8000-000000000000", math.random(1, n))
  return wrk.format(nil, nil, {["X-Tenant-ID"] = id})
end
done = function(summary, latency, requests)
  io.write(string.format("BENCH requests=%d duration_us=%d errors=%d p50=%d p99=%d p999=%d\n",
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
