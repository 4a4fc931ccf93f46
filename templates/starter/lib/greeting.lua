-- A module for require("greeting"). Files in lib/ are never served.
--
-- A module runs once per Lua state, so its local variables are not shared
-- between requests: keep shared data in Application or Session.
local M = {}

-- salutation returns a greeting for an hour of the day (0-23).
function M.salutation(hour)
  if hour < 12 then
    return "Good morning"
  elseif hour < 18 then
    return "Good afternoon"
  end
  return "Good evening"
end

return M
