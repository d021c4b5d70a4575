-- Prints one machine-readable line after a wrk run (scripts/bench/http and memory parse it):
--   WRK requests=N seconds=S rps=R p50_ms=X p99_ms=Y max_ms=Z errors=E non2xx=F bytes=B
-- Only done() is defined, so wrk neither parses response bodies nor builds requests in Lua.
done = function(summary, latency, requests)
   local e = summary.errors
   local seconds = summary.duration / 1e6
   io.write(string.format(
      "WRK requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%d non2xx=%d bytes=%d\n",
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
      e.connect + e.read + e.write + e.timeout, e.status, summary.bytes))
end
