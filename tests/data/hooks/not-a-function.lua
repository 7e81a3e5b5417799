-- not-a-function.lua — learning_rate must be a function, not a value.
learning_rate = 0.1
