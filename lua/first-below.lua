-- first-below.lua — a custom metric: the first epoch at which a metric fell
-- below a threshold, e.g. when a saturated neuron's output first drops below
-- 0.5 (Nielsen, chapter 3: how long the quadratic cost's slow start lasts).
--
--   first_epoch_below = the smallest epoch e with history metric < threshold
--
-- Stored from that epoch on (the same number every later epoch), so the value
-- at the last epoch, which tables show, is the answer; a run in which the
-- metric never falls below the threshold has no value (a table shows —).
--
-- hook_args:
--   metric     the column to watch   (default "train_output", recorded with
--              train.monitor_output: true)
--   threshold  a number              (default 0.5)
--   name       the custom metric's name (default "first_epoch_below")

-- The custom metric on_epoch_end may return: its name is hook_args.name, so
-- the declaration is a function of args (mlplab plan checks a study's report
-- against it).
function custom_metrics(args)
  return { args.name or "first_epoch_below" }
end

-- The metric it reads from history: mlplab plan refuses a run that does not
-- record it (train_output without train.monitor_output: true, a typo).
function watched_metrics(args)
  return { args.metric or "train_output" }
end

function on_epoch_end(epoch, history, args)
  local metric = args.metric or "train_output"
  local threshold = args.threshold or 0.5
  local name = args.name or "first_epoch_below"
  if type(metric) ~= "string" or type(name) ~= "string" then
    error("first-below: hook_args.metric and hook_args.name must be strings")
  end
  if type(threshold) ~= "number" then
    error("first-below: hook_args.threshold must be a number, not " .. tostring(threshold))
  end
  for i = 1, #history do                      -- history[i] is epoch i - 1
    local value = history[i][metric]
    if value == nil then
      error(("first-below: no metric '%s' at epoch %d (for train_output, set "
             .. "train.monitor_output: true)"):format(metric, i - 1))
    end
    if value < threshold then
      return { [name] = i - 1 }
    end
  end
end
