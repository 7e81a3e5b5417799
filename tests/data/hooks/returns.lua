-- returns.lua — returns what hook_args.kind names, right or wrong.
local rates = {
  string = function() return "fast" end,
  nothing = function() end,
  explicit_nil = function() return nil end,
  table = function() return {} end,
  nan = function() return 0 / 0 end,
  negative = function() return -0.5 end,
  zero = function() return 0 end,
  inf = function() return math.huge end,
  numeric_string = function() return "0.1" end,
  integer = function() return 2 end,
}

local ends = {
  nothing = function() end,
  stop = function() return "stop" end,
  metrics = function() return { zeta = 3, alpha = 1, mid = 2.5 } end,
  stop_and_table = function() return "stop", { alpha = 1 } end,
  table_and_stop = function() return { alpha = 2 }, "stop" end,
  bad_string = function() return "stp" end,
  number = function() return 1 end,
  float = function() return 120.0 end,
  boolean = function() return true end,
  two_tables = function() return { a = 1 }, { b = 2 } end,
  two_stops = function() return "stop", "stop" end,
  bad_name = function() return { ["2fast"] = 1 } end,
  dotted_name = function() return { ["a.b"] = 1 } end,
  long_name = function() return { [string.rep("n", 65)] = 1 } end,
  builtin_name = function() return { test_accuracy = 1 } end,
  number_key = function() return { [1] = 2 } end,
  nan_value = function() return { gap = 0 / 0 } end,
  inf_value = function() return { gap = -math.huge } end,
  string_value = function() return { gap = "0.5" } end,
  undeclared = function() return { alpha = 1, omega = 2 } end,
  output_name = function() return { train_output = 0.5 } end,
}

-- Every name the "metrics" kinds return, but not omega or train_output.
custom_metrics = { "alpha", "mid", "zeta", "gap" }

function learning_rate(epoch, history, args)
  return rates[args.kind]()
end

function on_epoch_end(epoch, history, args)
  return ends[args.kind]()
end
