-- exponential-decay.lua — shrink the learning rate by a constant factor each epoch.
--
--   rate(epoch) = base * decay ^ (epoch - 1)
--
-- hook_args (all optional):
--   decay  factor per epoch, 0 < decay                       (default 0.95)
--   base   the starting rate (default: train.learning_rate, passed as
--          args.base_learning_rate)

local function positive(args, name, default)
  local value = args[name]
  if value == nil then return default end
  if type(value) ~= "number" or not (value > 0) or value == math.huge then
    error(("exponential-decay: hook_args.%s must be a number > 0, not %s"):format(name, tostring(value)))
  end
  return value
end

function learning_rate(epoch, history, args)
  local decay = positive(args, "decay", 0.95)
  local base = positive(args, "base", args.base_learning_rate)
  return base * decay ^ (epoch - 1)
end
