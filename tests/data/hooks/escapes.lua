-- escapes.lua — hostile hook: learning_rate runs the attack named by
-- hook_args.attack. Every attack must fail with a clear error; none may
-- return a rate. Used by tests/test_hooks.c.

local attacks = {}

attacks.os_execute = function() return os.execute("touch /tmp/mlplab-hook-escaped") end
attacks.io_open = function() return io.open("/etc/passwd") end
attacks.require = function() return require("os") end
attacks.dofile = function() return dofile("/etc/passwd") end
attacks.loadfile = function() return loadfile("/etc/passwd") end
attacks.load_binary = function() return load("\27Lua\84\0\25\147\13\10\26\10\4\8\8") end
attacks.load_mode_b = function() return load("return 1", "chunk", "b") end
attacks.debug = function() return debug.getregistry() end
attacks.package = function() return package.loaded.os end
attacks.coroutine = function() return coroutine.wrap(function() while true do end end)() end
attacks.string_dump = function() return string.dump(learning_rate) end
attacks.string_find = function() return ("a"):rep(30):find(("a*"):rep(20) .. "b") end
attacks.string_match = function() return string.match(("a"):rep(30), ("a*"):rep(20) .. "b") end
attacks.string_gmatch = function() return string.gmatch("aaaa", "a") end
attacks.string_gsub = function() return string.gsub("aaaa", "a", "b") end
attacks.string_rep_bomb = function() return #string.rep("x", 2^31) end
attacks.string_rep_method_bomb = function() return #("xy"):rep(2^20, ",") end
attacks.concat_bomb = function()
  local s = "x"
  for _ = 1, 40 do s = s .. s end
  return #s
end
attacks.concat_loop = function()
  local s = ("x"):rep(2^20)
  for _ = 1, 1e6 do local t = s .. "y" end
end
attacks.rep_loop = function()
  for _ = 1, 1e6 do local t = ("x"):rep(2^20) end
end
attacks.table_bomb = function()
  local t = {}
  for i = 1, 1e9 do t[i] = ("x"):rep(1000) .. i end
  return #t
end
attacks.endless_loop = function() while true do end end
attacks.pcall_loop = function()
  while true do pcall(function() while true do end end) end
end
attacks.xpcall_loop = function()
  while true do xpcall(function() while true do end end, function() return "ignored" end) end
end
attacks.recursion = function()
  local function deeper(n) return 1 + deeper(n + 1) end
  return deeper(1)
end
attacks.string_metatable = function()
  getmetatable("").__index = { upper = function() return "pwned" end }
end
attacks.setmetatable_G = function() setmetatable(_G, { __newindex = function() end }) end
attacks.rawset_G = function() rawset(_G, "counter", 1) end
attacks.global_state = function() counter = (counter or 0) + 1 end
attacks.overwrite_function = function() learning_rate = function() return 1 end end
attacks.library_state = function() string.counter = 1 end
attacks.math_state = function() math.pi = 3 end
attacks.collectgarbage = function() collectgarbage("stop") end
attacks.print = function() print("hello") end
attacks.math_random = function() return math.random() end
attacks.math_randomseed = function() math.randomseed(42) end
attacks.warn = function() warn("@on") end
attacks.gc_finalizer = function() setmetatable({}, { __gc = function() while true do end end }) end
attacks.weak_table = function() setmetatable({}, { __mode = "k" }) end
attacks.table_insert_len = function()
  local t = setmetatable({}, { __len = function() return math.maxinteger // 2 end })
  table.insert(t, 1, "x")
end
attacks.table_remove_len = function()
  local t = setmetatable({}, { __len = function() return math.maxinteger // 2 end })
  table.remove(t, 1)
end
attacks.table_move = function() table.move({}, 1, 1e15, 2) end
attacks.table_concat_index = function()
  local t = setmetatable({}, { __index = function() return "" end })
  return table.concat(t, "", 1, 1e15)
end
attacks.table_unpack = function() return table.unpack({}, 1, 1e8) end
attacks.table_sort_len = function()
  local t = setmetatable({}, { __len = function() return 1e8 end, __index = function() return 0 end })
  table.sort(t)
end
attacks.error_no_position = function() error("plain message", 0) end
attacks.error_table = function() error({ code = 42 }) end

-- Harmless on purpose: string.rep of an empty string must return at once
-- (the original copies nothing math.maxinteger times).
attacks.string_rep_empty = function() return #string.rep("", math.maxinteger) + 0.25 end

function learning_rate(epoch, history, args)
  local attack = attacks[args.attack]
  if attack == nil then error("no attack named " .. tostring(args.attack)) end
  return attack() or 0.5
end
