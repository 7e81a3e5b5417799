-- cosine-annealing.lua — follow half a cosine from base down towards min_rate.
--
--   t            = min(epoch - 1, epochs - 1) / epochs
--   rate(epoch)  = min_rate + (base - min_rate) * (1 + cos(pi * t)) / 2
--
-- Epoch 1 trains at base; the rate falls smoothly and reaches min_rate one
-- epoch after `epochs`; past `epochs` it stays at the last epoch's value, so
-- the rate stays > 0 even with min_rate = 0.
--
-- hook_args:
--   epochs    length of the schedule in epochs; required (usually the same as
--             train.epochs, which the hook cannot see)
--   min_rate  the floor, 0 <= min_rate < base                 (default 0)
--   base      the starting rate (default: train.learning_rate, passed as
--             args.base_learning_rate)

function learning_rate(epoch, history, args)
  local epochs = args.epochs
  if math.type(epochs) ~= "integer" or epochs < 1 then
    error("cosine-annealing: hook_args.epochs must be a positive whole number, not " .. tostring(epochs))
  end
  local base = args.base or args.base_learning_rate
  if type(base) ~= "number" or not (base > 0) then
    error("cosine-annealing: hook_args.base must be a number > 0, not " .. tostring(base))
  end
  local min_rate = args.min_rate or 0
  if type(min_rate) ~= "number" or not (min_rate >= 0 and min_rate < base) then
    error("cosine-annealing: hook_args.min_rate must be a number in [0, base), not " .. tostring(min_rate))
  end
  local t = math.min(epoch - 1, epochs - 1) / epochs
  return min_rate + (base - min_rate) * (1 + math.cos(math.pi * t)) / 2
end
