-- textutil: small text helpers for the sample pages, loaded with
-- require("textutil"). A module runs once per Lua state: keep no
-- per-request data in module variables.
local M = {}

-- wordcount returns how many words (runs of non-space characters) s holds.
function M.wordcount(s)
  local n = 0
  for _ in string.gmatch(s or "", "%S+") do
    n = n + 1
  end
  return n
end

-- titlecase upper-cases the first letter of every word of s and lower-cases
-- the rest: "ada LOVELACE" becomes "Ada Lovelace".
function M.titlecase(s)
  return (string.gsub(s or "", "(%a)([%w']*)", function(first, rest)
    return string.upper(first) .. string.lower(rest)
  end))
end

-- plural returns "1 word", "2 words": n and the word, with an "s" unless n is 1.
function M.plural(n, word)
  if n == 1 then
    return n .. " " .. word
  end
  return n .. " " .. word .. "s"
end

return M
