-- wrk script for bench/scale_bench.py: every connection pauses between its
-- requests, so the load is a fixed rate instead of back-to-back requests.
-- KLAG_WRK_PAUSE_MS sets the pause (default 50 ms).
local pause_ms = tonumber(os.getenv("KLAG_WRK_PAUSE_MS") or "50")

function delay()
  return pause_ms
end
