-- generalization-gap.lua — a custom metric: how much better the network does
-- on the data it trains on than on data it has not seen.
--
--   generalization_gap = train_accuracy - validation_accuracy
--
-- stored with each epoch in the run file (column generalization_gap). Epochs
-- where either accuracy is not measured (NaN) get no value.
--
-- hook_args: none.

-- The custom metrics on_epoch_end may return (mlplab plan checks a study's
-- report against them).
custom_metrics = { "generalization_gap" }

function on_epoch_end(epoch, history, args)
  local row = history[#history]               -- the epoch just finished
  local gap = row.train_accuracy - row.validation_accuracy
  if gap == gap then
    return { generalization_gap = gap }
  end
end
