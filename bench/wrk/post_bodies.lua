-- POSTs pre-generated bodies, one per line of a file; thread k of n cycles through lines k, k+n, ...
-- wrk -t N -c C -d D -s bench/wrk/post_bodies.lua URL -- BODIES_FILE "Basic ..." N
-- Prints one line `WRK_JSON {...}` with counts, latency percentiles and each thread's share.
-- wrk 4.1 calls thread 1's request() once before the run and discards the result, so the first
-- two calls of every thread return its first body: body i of a thread is sent for i < calls - 1.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads - 1)
end

function init(args)
  local nthreads = tonumber(args[3])
  bodies = {}
  local line_number = 0
  for line in io.lines(args[1]) do
    if line_number % nthreads == id then
      bodies[#bodies + 1] = line
    end
    line_number = line_number + 1
  end
  share, sent, status_5xx, status_4xx = #bodies, 0, 0, 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = args[2]
end

function request()
  local body = bodies[math.max(sent - 1, 0) % share + 1]
  sent = sent + 1
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status >= 500 then
    status_5xx = status_5xx + 1
  elseif status >= 400 then
    status_4xx = status_4xx + 1
  end
end

function done(summary, latency, requests)
  local sent_total, distinct, s5, s4, shares = 0, 0, 0, 0, {}
  for _, thread in ipairs(threads) do
    local thread_sent, thread_share = thread:get("sent") - 1, thread:get("share")
    sent_total = sent_total + thread_sent
    distinct = distinct + math.min(thread_sent, thread_share)
    s5 = s5 + thread:get("status_5xx")
    s4 = s4 + thread:get("status_4xx")
    shares[#shares + 1] = string.format("[%d, %d]", thread:get("id"), thread_sent)
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"responses": %d, "duration_us": %d, "sent": %d, "distinct_sent": %d, '
      .. '"status_5xx": %d, "status_4xx": %d, "socket_errors": %d, "timeouts": %d, '
      .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "sent_by_thread": [%s]}\n',
    summary.requests, summary.duration, sent_total, distinct, s5, s4,
    errors.connect + errors.read + errors.write, errors.timeout,
    latency:percentile(50.0), latency:percentile(90.0), latency:percentile(99.0), latency.max,
    table.concat(shares, ", ")))
end
