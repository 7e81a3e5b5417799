-- syntax-error.lua — does not compile.
function learning_rate(epoch, history, args)
  return 0.1 +
end
