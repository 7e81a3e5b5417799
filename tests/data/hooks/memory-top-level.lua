-- memory-top-level.lua — hostile: the top-level chunk allocates without end.
local t = {}
for i = 1, 1e9 do t[i] = { i, i, i, i } end
