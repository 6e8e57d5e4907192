-- Shared by every wrk script of the benches (bench/lib/wrk.ts puts this file first, then the
-- bench's own script). Counts answers and non-2xx per thread and prints one JSON line in done():
-- wrk's own latency percentiles, its error counters, our counters summed over threads, and wrk's
-- own CPU time (from /proc/self/stat) so the reader sees whether the client saturated.
-- Each wrk thread runs its own Lua state: counters are per thread globals, summed in done()
-- through thread:get(). Never print anything else on stdout that starts with WRK_JSON.

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

answers = 0
non2xx = 0
sent = {}

function count_sent(kind)
  sent[kind] = (sent[kind] or 0) + 1
end

-- true when the answer is 2xx; counts it either way.
function count_answer(status)
  answers = answers + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    return false
  end
  return true
end

local function cpu_ticks()
  local f = io.open("/proc/self/stat", "r")
  if f == nil then return -1 end
  local s = f:read("*a")
  f:close()
  local rest = s:match("^.*%)%s(.*)$")
  local fields = {}
  for w in rest:gmatch("%S+") do fields[#fields + 1] = w end
  -- fields[1] is the state (field 3 of stat): utime and stime are fields 14 and 15.
  return tonumber(fields[12]) + tonumber(fields[13])
end

function done(summary, latency, requests)
  local total_answers, total_non2xx, kinds = 0, 0, {}
  for _, t in ipairs(threads) do
    total_answers = total_answers + t:get("answers")
    total_non2xx = total_non2xx + t:get("non2xx")
    for k, v in pairs(t:get("sent")) do kinds[k] = (kinds[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(kinds) do parts[#parts + 1] = string.format('"%s":%d', k, v) end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"answers":%d,"non2xx":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"statusErrors":%d,"timeouts":%d,' ..
    '"p50Us":%d,"p99Us":%d,"p999Us":%d,"maxUs":%d,"meanUs":%.1f,"cpuTicks":%d,"sent":{%s}}\n',
    summary.requests, summary.duration, total_answers, total_non2xx, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean,
    cpu_ticks(), table.concat(parts, ",")))
end
