-- Raw-body uploads, each to a path of its own:
--   wrk -s upload.lua URL -- PREFIX SIZE ["Name: value" ...]
-- Request n goes to PREFIX .. n; the caller makes PREFIX unique per run.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local prefix, body, headers, sent = "", "", {}, 0

function init(args)
  prefix = args[1]
  local size = tonumber(args[2])
  body = string.rep("0123456789abcdef", math.ceil(size / 16)):sub(1, size)
  for i = 3, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
end

function request()
  sent = sent + 1
  return wrk.format("POST", prefix .. sent, headers, body)
end
