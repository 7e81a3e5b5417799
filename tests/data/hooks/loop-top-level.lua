-- loop-top-level.lua — hostile: the top-level chunk never ends.
local n = 0
while true do n = n + 1 end
