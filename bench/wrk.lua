-- One request kind for wrk (bench/http.py):
--   wrk -s bench/wrk.lua URL -- METHOD PATH KEY BODY IDS THREADS
-- PATH may hold {id}, replaced by the next id of the file IDS (one per line, "-" for
-- none); each of the THREADS wrk threads walks its own share of the ids, so no two
-- connections send the same id at once. BODY is a JSON body, or "-" for none; KEY is the
-- API key, or "-" for none. The summary is one JSON line on stdout.

local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function init(args)
  method, template, key, body, idfile = args[1], args[2], args[3], args[4], args[5]
  stride = tonumber(args[6])
  if body == "-" then body = nil end
  wrk.headers["Content-Type"] = "application/json"
  if key ~= "-" then wrk.headers["Authorization"] = "Bearer " .. key end
  ids = {}
  if idfile ~= "-" then
    for line in io.lines(idfile) do ids[#ids + 1] = line end
  end
  position = tid
end

function request()
  local path = template
  if #ids > 0 then
    path = string.gsub(template, "{id}", ids[(position % #ids) + 1])
    position = position + stride
  end
  return wrk.format(method, path, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"non_2xx_3xx":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.status,
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
