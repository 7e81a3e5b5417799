-- inspect.lua — checks what the sandbox hands to a hook (args converted from
-- YAML, history rows, fresh tables per call) and that the allowed libraries
-- work. Any failed assert is an error naming the check.

function learning_rate(epoch, history, args)
  assert(math.type(args.count) == "integer" and args.count == 10, "count: integer 10")
  assert(math.type(args.ratio) == "float" and args.ratio == 0.001, "ratio: float 1e-3")
  assert(args.quoted == "10", "quoted scalar stays a string")
  assert(args.flag == true and args.off == false, "booleans")
  assert(args.name == "hello", "plain string")
  assert(args.nothing == nil, "null is absent")
  assert(args.hex == 16, "hex number")
  assert(args.word == "inf", "inf is not a number")
  assert(#args.list == 3 and args.list[1] == 1 and args.list[3] == "c", "sequence")
  assert(args.nested.inner.deep == 2.5, "nested mapping")
  assert(args.base_learning_rate == 0.5, "base_learning_rate")

  assert(#history == epoch, "history holds epochs 0 .. epoch-1")
  for i, row in ipairs(history) do
    assert(math.type(row.epoch) == "integer" and row.epoch == i - 1, "row epoch")
    assert(row.train_accuracy == (i - 1) / 10, "train_accuracy")
    assert(row.validation_cost ~= row.validation_cost, "NaN stays NaN")
  end
  assert(history[1].gap == nil and history[2].gap == 0.5, "custom metric only where set")

  -- Changes to history and args must not reach the next call.
  args.count, args.extra, history[1].epoch = 99, 1, 99
  history[#history + 1] = {}

  -- The allowed libraries work.
  assert(("abc"):upper() == "ABC" and string.format("%.2f", 1 / 3) == "0.33", "string")
  assert(#string.rep("ab", 3, ",") == 8 and ("x"):byte() == 120, "string.rep, byte")
  local t = { 3, 1, 2 }
  table.sort(t)
  assert(table.concat(t, " ") == "1 2 3", "table")
  table.insert(t, 1, 0)
  assert(table.remove(t, 1) == 0 and select("#", table.unpack(t)) == 3, "table.insert/remove")
  assert(math.floor(2.5) == 2 and math.max(1, 5) == 5, "math")
  assert(utf8.char(228) == "\u{e4}" and utf8.len("\u{e4}") == 1, "utf8")
  assert(pcall(error, "x") == false, "pcall")
  local seen = {}
  for name in pairs(_G) do seen[name] = true end
  assert(seen.learning_rate and seen.string and seen.on_epoch_end, "pairs(_G)")
  assert(getmetatable("") == false, "string metatable is locked")
  return 0.125
end

function on_epoch_end(epoch, history, args)
  assert(args.count == 10 and args.extra == nil, "args are fresh each call")
  assert(history[1].epoch == 0 and #history == epoch + 1, "history is fresh each call")
  assert(args.base_learning_rate == 0.5, "base_learning_rate in on_epoch_end")
end
