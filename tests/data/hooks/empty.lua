-- empty.lua — defines no hook function: every call gives the default.
local unused = 1
