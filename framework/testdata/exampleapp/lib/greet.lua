local M = {}
function M.hello(name) return "Hello, " .. name .. "!" end
return M
