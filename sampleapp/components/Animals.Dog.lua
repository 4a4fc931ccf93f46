-- Animals.Dog: one dog per session, living in that session's own apartment,
-- so a slow dog can never hold up another visitor.
local Dog = {}

function Dog:Initialize()
  self.barks = 0
end

function Dog:WoofWoof()
  self.barks = self.barks + 1
  return "Woof #" .. self.barks
end

return Dog
