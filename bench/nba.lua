-- wrk script for bench/nba.sh: GET /api/v1/hcps/<id>/recommendations?explain=true (one doctor's
-- next best actions, with what was blocked and why, as the doctor's page asks) for doctors drawn
-- from the file named by the first script argument (one external id a line), each thread starting
-- at its own place. The second argument, when given, is a pause in milliseconds between a
-- connection's requests: connections × 1000 / pause bounds the offered rate, so the latencies are
-- those of a server at that load, not of one pushed to its limit. The summary line (done) is
-- bench/summary.lua's.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "summary.lua")

local paths = {}
local at = 1
local pause = 0
local started = 0

setup = function(thread)
  started = started + 1
  thread:set("thread_no", started)
end

init = function(args)
  local f = assert(io.open(assert(args[1], "nba.lua: give the id file after --"), "r"))
  for line in f:lines() do
    if #line > 0 then
      paths[#paths + 1] = "/api/v1/hcps/" .. line .. "/recommendations?explain=true"
    end
  end
  f:close()
  assert(#paths > 0, "nba.lua: no ids")
  pause = tonumber(args[2] or "0") or 0
  at = ((thread_no or 1) - 1) * 7919 % #paths + 1
end

request = function()
  local path = paths[at]
  at = at % #paths + 1
  return wrk.format("GET", path)
end

delay = function()
  return pause
end
