-- wrk script for bench/masterdata.sh: GET /api/v1/hcps?q=<prefix>&limit=20, rotating through
-- the prefixes of the file named by the first script argument (after "--"), one per line.
-- Each wrk thread starts at a different place in the list, so connections do not ask the
-- same prefix at the same moment. The Authorization header comes from wrk's -H. The summary
-- line (done) is bench/summary.lua's, loaded from the same directory.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "summary.lua")

local paths = {}
local at = 1
local started = 0

local function encode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

-- setup runs in the main Lua state, once per thread, before that thread's init
setup = function(thread)
  started = started + 1
  thread:set("thread_no", started)
end

init = function(args)
  local f = assert(io.open(assert(args[1], "md_search.lua: give the prefix file after --"), "r"))
  for line in f:lines() do
    if #line > 0 then
      paths[#paths + 1] = "/api/v1/hcps?q=" .. encode(line) .. "&limit=20"
    end
  end
  f:close()
  assert(#paths > 0, "md_search.lua: no prefixes")
  at = ((thread_no or 1) - 1) * 7919 % #paths + 1
end

request = function()
  local path = paths[at]
  at = at % #paths + 1
  return wrk.format("GET", path)
end
