-- wrk script: replays requests prepared by bench/run.py and prints the result as one JSON line.
--
--   wrk -t T -c C -d D -s replay.lua URL -- FILE MODE
--
-- FILE holds one request per line: METHOD <TAB> PATH <TAB> BODY ('-' for none) <TAB> THREAD
-- <TAB> HEADER... (each 'Name: value'). MODE 'shared': every thread cycles through all lines
-- from its own random offset. MODE 'chain': thread N replays, in order, only the lines whose
-- THREAD is N (run with as many threads as connections, so each thread's requests are strictly
-- sequential: a ticket is accepted before it is assigned; the next step is taken when the
-- previous response has arrived); a thread that runs out of lines starts over and counts it,
-- since repeated commands then fail and show up as errors.

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("thread_id", counter)
   table.insert(threads, thread)
end

local function split(line)
   local fields = {}
   for field in (line .. "\t"):gmatch("([^\t]*)\t") do
      table.insert(fields, field)
   end
   return fields
end

function init(args)
   local file, mode = args[1], args[2]
   requests = {}
   wrapped = 0
   for line in io.lines(file) do
      local f = split(line)
      local owner = tonumber(f[4])
      if mode ~= "chain" or owner == thread_id then
         local headers = {}
         for i = 5, #f do
            local name, value = f[i]:match("^([^:]+):%s*(.*)$")
            if name then headers[name] = value end
         end
         local body = nil
         if f[3] ~= "-" then
            body = f[3]
            headers["Content-Type"] = "application/json"
         end
         table.insert(requests, wrk.format(f[1], f[2], headers, body))
      end
   end
   if #requests == 0 then
      error("no requests for thread " .. tostring(thread_id))
   end
   math.randomseed(thread_id * 7919)
   if mode == "chain" then
      -- A chain moves on when a response arrives, not when a request is built: wrk builds one
      -- request on the first thread at startup to inspect it, which must not skip a step.
      index = 1
      request = function() return requests[index] end
      response = function()
         index = index + 1
         if index > #requests then
            index = 1
            wrapped = wrapped + 1
         end
      end
   else
      index = math.random(#requests) - 1
      request = function()
         index = index + 1
         if index > #requests then
            index = 1
            wrapped = wrapped + 1
         end
         return requests[index]
      end
   end
end

function done(summary, latency, requests)
   local wraps = 0
   for _, t in ipairs(threads) do
      wraps = wraps + (t:get("wrapped") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      '{"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,' ..
      '"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,"p95_us":%d,' ..
      '"p99_us":%d,"mean_us":%.1f,"max_us":%d,"wrapped":%d}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
      e.timeout, latency:percentile(50), latency:percentile(95), latency:percentile(99),
      latency.mean, latency.max, wraps))
end
