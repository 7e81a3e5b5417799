-- error-in-hook.lua — raises an error two calls deep from learning_rate once
-- epoch > 2, and from on_epoch_end always (for messages and tracebacks).
local function check(epoch)
  if epoch > 2 then
    error("epoch " .. epoch .. " is too late")
  end
end

function learning_rate(epoch, history, args)
  check(epoch)
  return 0.1
end

function on_epoch_end(epoch, history, args)
  return history[epoch + 1].no_such_field.value
end
