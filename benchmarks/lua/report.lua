-- Shared by the scenario scripts: wrk's summary as one JSON line, for benchmarks.wrk to parse.
-- Errors: socket errors, timeouts and "status" (wrk's count of HTTP statuses above 399).

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %.0f, "duration_us": %.0f, "bytes": %.0f, '
      .. '"connect": %.0f, "read": %.0f, "write": %.0f, "status": %.0f, "timeout": %.0f, '
      .. '"p50_us": %.0f, "p99_us": %.0f, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean
  ))
end
