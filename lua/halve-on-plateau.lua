-- halve-on-plateau.lua — Nielsen's learning-rate schedule (chapter 3):
-- halve the rate each time validation accuracy has gone `patience` epochs
-- without improving, and stop training once the rate has fallen to 1/128 of
-- where it started.
--
-- The rate is a pure function of the history: both hooks walk it from epoch 1,
-- keeping the best validation accuracy so far and the number of epochs since
-- it last improved; when that number reaches `patience` the rate is cut and
-- the count starts again (the best accuracy is kept).
--
-- hook_args (all optional):
--   patience      epochs without improvement before a cut         (default 10)
--   factor        each cut multiplies the rate by this, 0 < factor < 1
--                                                                 (default 0.5)
--   min_fraction  stop once rate <= base * min_fraction, 0 < min_fraction < 1
--                                                           (default 1/128)
--   base          the starting rate (default: train.learning_rate, passed as
--                 args.base_learning_rate)

-- What the schedule reads: mlplab plan refuses a run without a validation
-- set before anything trains.
watched_metrics = { "validation_accuracy" }

local function settings(args)
  local patience = args.patience or 10
  if math.type(patience) ~= "integer" or patience < 1 then
    error("halve-on-plateau: hook_args.patience must be a positive whole number, not "
          .. tostring(patience))
  end
  local factor = args.factor or 0.5
  if type(factor) ~= "number" or not (factor > 0 and factor < 1) then
    error("halve-on-plateau: hook_args.factor must be a number in (0, 1), not " .. tostring(factor))
  end
  local min_fraction = args.min_fraction or 1 / 128
  if type(min_fraction) ~= "number" or not (min_fraction > 0 and min_fraction < 1) then
    error("halve-on-plateau: hook_args.min_fraction must be a number in (0, 1), not "
          .. tostring(min_fraction))
  end
  return patience, factor, min_fraction
end

-- How many cuts the epochs in `history` have earned.
local function cuts(history, patience)
  local best, since, count = -math.huge, 0, 0
  for i = 2, #history do                      -- history[i] is epoch i - 1
    local accuracy = history[i].validation_accuracy
    if accuracy ~= accuracy then
      error(("halve-on-plateau: validation_accuracy is NaN at epoch %d; "
             .. "the schedule needs a validation set"):format(i - 1))
    end
    if accuracy > best then
      best, since = accuracy, 0
    else
      since = since + 1
      if since >= patience then count, since = count + 1, 0 end
    end
  end
  return count
end

function learning_rate(epoch, history, args)
  local patience, factor = settings(args)
  local base = args.base or args.base_learning_rate
  if type(base) ~= "number" or not (base > 0) then
    error("halve-on-plateau: hook_args.base must be a number > 0, not " .. tostring(base))
  end
  return base * factor ^ cuts(history, patience)
end

function on_epoch_end(epoch, history, args)
  local patience, factor, min_fraction = settings(args)
  -- The fraction of the start rate the next epoch would train at. The small
  -- margin keeps 0.5^7 <= 1/128 true despite rounding in other factors.
  if factor ^ cuts(history, patience) <= min_fraction * (1 + 1e-12) then
    return "stop"
  end
end
