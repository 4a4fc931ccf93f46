-- Animals.Cat: one cat for the whole application. Lua components are
-- apartment-threaded: this one lives in the application's apartment and
-- every request reaches it through a proxy, one call at a time.
local Cat = {}

function Cat:Initialize()
  self.mates = 0
end

function Cat:Meow()
  return "Meow! (" .. self.mates .. " dates so far)"
end

-- MateWith takes another object: a session's dog arrives as a proxy too.
function Cat:MateWith(other)
  self.mates = self.mates + 1
  return "Morris met a dog who says " .. other:WoofWoof()
end

return Cat
