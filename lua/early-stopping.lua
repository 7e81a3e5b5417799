-- early-stopping.lua — stop when a metric has not improved for `patience` epochs.
--
-- After each epoch, find the best epoch so far (from epoch 1; the first of
-- equal values); stop once the current epoch is `patience` epochs past it.
-- Nielsen's "no improvement in ten epochs" rule is the default.
--
-- hook_args (all optional):
--   patience  epochs without improvement before stopping       (default 10)
--   metric    the metric to watch                  (default validation_accuracy)
--   minimize  true for metrics where lower is better, such as validation_cost
--                                                              (default false)

-- The metric on_epoch_end reads: mlplab plan refuses a run that does not
-- record it (a typo, train_cost with train.monitor_train: false) before
-- anything trains, instead of this script failing after the first epoch.
function watched_metrics(args)
  return { args.metric or "validation_accuracy" }
end

function on_epoch_end(epoch, history, args)
  local patience = args.patience or 10
  if math.type(patience) ~= "integer" or patience < 1 then
    error("early-stopping: hook_args.patience must be a positive whole number, not " .. tostring(patience))
  end
  local metric = args.metric or "validation_accuracy"
  local sign = args.minimize and -1 or 1
  local best, best_epoch = -math.huge, nil
  for i = 2, #history do                      -- history[i] is epoch i - 1
    local value = history[i][metric]
    if type(value) ~= "number" or value ~= value then
      error(("early-stopping: %s is %s at epoch %d (does the run measure it?)")
            :format(metric, tostring(value), i - 1))
    end
    if sign * value > best then best, best_epoch = sign * value, i - 1 end
  end
  if best_epoch ~= nil and epoch - best_epoch >= patience then
    return "stop"
  end
end
