-- wrk script for bench/run: which room keys to ask for, a request limit, status counts,
-- and one machine-readable result line.
--
--   wrk -t2 -c64 -d10s --latency -s bench/wrk.lua http://127.0.0.1:8080/room/123-123-123 -- [options]
--
-- Options (key=value after `--`):
--   mode=fixed    the URL's own path (default)
--   mode=rooms    a random key of the fake vendor's first `rooms` rooms per request
--   mode=unknown  a random well-formed key that no room has (999-NNN-NNN)
--   mode=sweep    each of the first `rooms` keys exactly once (split between threads),
--                 then the thread stops; needs threads=<wrk -t>
--   rooms=N       how many rooms the fake vendor has (modes rooms and sweep)
--   limit=N       stop after N answers in all (needs threads=<wrk -t>)
--   threads=N     wrk's -t, to split sweep and limit between threads
--   donefile=PATH with sweep or limit: the last thread to get all its answers creates
--                 PATH. wrk itself runs until -d is over whatever its threads do, so
--                 bench/run waits for PATH and then ends wrk with SIGINT, which wrk
--                 takes as "stop and report".
--
-- At the end it prints `wrk-result {json}` with requests, rps, p50/p99 (microseconds),
-- socket errors and, when counted (every mode but fixed), the answers per status.
-- Keys follow the fake vendor's scheme: room i has key
-- (100 + i / 1000000)-(i / 1000 % 1000)-(i % 1000), three digits each.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

local opts = {}
local mode, rooms, id, nthreads, share
local served, handed = 0, 0
local first_call = true
statuses = {}

local function key_of(i)
   return string.format("%03d-%03d-%03d", 100 + math.floor(i / 1000000),
      math.floor(i / 1000) % 1000, i % 1000)
end

local function room_request(key)
   return wrk.format(nil, "/room/" .. key)
end

function init(args)
   for _, a in ipairs(args) do
      local k, v = a:match("^([%w_]+)=(.*)$")
      if k then opts[k] = v end
   end
   mode = opts.mode or "fixed"
   rooms = tonumber(opts.rooms or "1000")
   nthreads = tonumber(opts.threads or "1")
   id = tonumber(wrk.thread:get("id") or 0)
   math.randomseed(os.time() * 1000 + id * 7919)
   if mode == "sweep" then
      -- Keys id, id + nthreads, id + 2 * nthreads, … belong to this thread.
      share = math.floor((rooms - id + nthreads - 1) / nthreads)
   elseif opts.limit then
      share = math.floor((tonumber(opts.limit) + nthreads - 1) / nthreads)
   end
   if mode ~= "fixed" or share then
      response = count_response
   end
   if mode ~= "fixed" then
      request = make_request
   end
end

function make_request()
   if mode == "rooms" then
      return room_request(key_of(math.random(0, rooms - 1)))
   elseif mode == "unknown" then
      return room_request(string.format("999-%03d-%03d", math.random(0, 999), math.random(0, 999)))
   end
   -- sweep: wrk calls request() once in thread 0 before starting, to check for
   -- pipelining, and never sends that request: do not spend a key on it.
   if first_call and id == 0 then
      first_call = false
      return room_request(key_of(0))
   end
   first_call = false
   local i = id + handed * nthreads
   if handed < share then
      handed = handed + 1
      return room_request(key_of(i))
   end
   -- Every key handed out: ask again for a cached one until all answers are in.
   return room_request(key_of(id))
end

local through = false

-- This thread has all its answers: stop it, and end wrk when every thread is through.
local function finish()
   through = true
   wrk.thread:stop()
   local path = opts.donefile
   if not path then return end
   local f = assert(io.open(path .. ".part", "a"))
   f:write(id, "\n")
   f:close()
   local lines = 0
   for _ in io.lines(path .. ".part") do lines = lines + 1 end
   if lines >= nthreads then
      assert(io.open(path, "w")):close()
   end
end

function count_response(status, headers, body)
   local s = tostring(status)
   statuses[s] = (statuses[s] or 0) + 1
   served = served + 1
   if share and served >= share and not through then
      finish()
   end
end

function done(summary, latency, requests)
   local counts = {}
   local counted = false
   for _, t in ipairs(threads) do
      local s = t:get("statuses")
      if s then
         for k, v in pairs(s) do
            counts[k] = (counts[k] or 0) + v
            counted = true
         end
      end
   end
   local parts = {}
   for k, v in pairs(counts) do
      table.insert(parts, string.format('"%s":%d', k, v))
   end
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      'wrk-result {"requests":%d,"duration_s":%.3f,"rps":%.1f,"p50_us":%d,"p99_us":%d,' ..
      '"non_2xx_3xx":%d,"socket_errors":%d,"statuses":%s}\n',
      summary.requests, secs, summary.requests / secs,
      latency:percentile(50), latency:percentile(99), e.status,
      e.connect + e.read + e.write + e.timeout,
      counted and ("{" .. table.concat(parts, ",") .. "}") or "null"))
end
