-- One fixed request, built once:
--   wrk -s request.lua URL -- METHOD PATH BODY_FILE ["Name: value" ...]
-- BODY_FILE is a file whose bytes are the body, or "" for none.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

function init(args)
  wrk.method = args[1]
  wrk.path = args[2]
  if args[3] ~= "" then
    local file = assert(io.open(args[3], "rb"))
    wrk.body = file:read("*a")
    file:close()
  end
  for i = 4, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    wrk.headers[name] = value
  end
end
