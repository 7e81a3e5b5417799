-- step-decay.lua — multiply the learning rate by `factor` every `step` epochs.
--
--   rate(epoch) = base * factor ^ floor((epoch - 1) / step)
--
-- so epochs 1..step train at base, the next `step` epochs at base * factor, …
--
-- hook_args (all optional):
--   factor  multiplier applied at each step, 0 < factor      (default 0.5)
--   step    epochs between two steps, a positive integer     (default 10)
--   base    the starting rate (default: train.learning_rate, which mlplab
--           passes to every hook as args.base_learning_rate)

local function positive(args, name, default)
  local value = args[name]
  if value == nil then return default end
  if type(value) ~= "number" or not (value > 0) or value == math.huge then
    error(("step-decay: hook_args.%s must be a number > 0, not %s"):format(name, tostring(value)))
  end
  return value
end

function learning_rate(epoch, history, args)
  local factor = positive(args, "factor", 0.5)
  local step = positive(args, "step", 10)
  if math.type(step) ~= "integer" then
    error("step-decay: hook_args.step must be a whole number of epochs, not " .. tostring(step))
  end
  local base = positive(args, "base", args.base_learning_rate)
  return base * factor ^ ((epoch - 1) // step)
end
