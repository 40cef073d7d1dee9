-- wrk script for bench/run.sh: prints one machine-readable line after wrk's
-- own report. It defines only done(), so wrk keeps its fast C path for every
-- request (no per-request Lua). Latencies are in microseconds.
--
-- wrk counts a response with status > 399 as a "status" error; run.sh checks
-- separately, before each run, that the URL answers exactly 200.

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "MRBENCH requests=%d duration_us=%d bytes=%d mean_us=%.1f p50_us=%d p90_us=%d" ..
    " p99_us=%d p999_us=%d max_us=%d err_connect=%d err_read=%d err_write=%d" ..
    " err_timeout=%d err_status=%d\n",
    summary.requests, summary.duration, summary.bytes, latency.mean,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max,
    e.connect, e.read, e.write, e.timeout, e.status))
end
