-- bad-hook.lua — a hook that fails at epoch 3, for the failed-run path.
function learning_rate(epoch, history, args)
  if epoch >= 3 then
    error("no rate for epoch " .. epoch)
  end
  return 0.15
end
