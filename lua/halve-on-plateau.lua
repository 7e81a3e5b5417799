-- halve-on-plateau.lua — Nielsen's learning-rate schedule (chapter 3):
-- halve the rate each time validation accuracy has not improved for
-- `patience` epochs, and stop once it has been halved `max_halvings` times
-- (7: the rate has fallen to 1/128 of the start).
--
-- The rate is a pure function of the history: both hooks walk it from epoch 1,
-- keeping the best accuracy so far and the epochs since it improved; when that
-- count reaches `patience` the rate is halved and the count starts again.
--
-- hook_args (all optional):
--   patience      epochs without improvement before halving    (default 10)
--   max_halvings  stop after this many halvings                (default 7)
--   base          the starting rate (default: train.learning_rate, passed as
--                 args.base_learning_rate)

local function whole(args, name, default)
  local value = args[name]
  if value == nil then return default end
  if math.type(value) ~= "integer" or value < 1 then
    error(("halve-on-plateau: hook_args.%s must be a positive whole number, not %s")
          :format(name, tostring(value)))
  end
  return value
end

-- How many times the rate has been halved after the epochs in `history`.
local function halvings(history, patience)
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
  local base = args.base or args.base_learning_rate
  if type(base) ~= "number" or not (base > 0) then
    error("halve-on-plateau: hook_args.base must be a number > 0, not " .. tostring(base))
  end
  return base * 0.5 ^ halvings(history, whole(args, "patience", 10))
end

function on_epoch_end(epoch, history, args)
  if halvings(history, whole(args, "patience", 10)) >= whole(args, "max_halvings", 7) then
    return "stop"
  end
end
