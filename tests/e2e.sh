#!/usr/bin/env bash
# End-to-end tests of the mlplab binary: commands, config errors, data errors,
# run files, reproducibility, interrupt and resume, and a real MNIST run.
# Usage: tests/e2e.sh PATH/TO/mlplab     Ends with "e2e: N passed, M failed".
set -uo pipefail

MLPLAB=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA="$ROOT/tests/data/e2e"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; shift; for line in "$@"; do echo "     $line"; done; }

# expect_exit NAME STATUS -- command...: runs it, keeps stdout/stderr in $out/$err.
expect_exit() {
    local name=$1 want=$2
    shift 3
    "$@" >"$WORK/stdout" 2>"$WORK/stderr"
    local got=$?
    out=$(cat "$WORK/stdout")
    err=$(cat "$WORK/stderr")
    if [ "$got" -eq "$want" ]; then pass "$name (exit $got)"; else fail "$name: exit $got, wanted $want" "$err"; fi
}

# expect_text NAME HAYSTACK NEEDLE
expect_text() {
    if grep -qF -- "$3" <<<"$2"; then pass "$1"; else fail "$1: missing '$3'" "$2"; fi
}

# Metrics without the seconds column, and the final weights, as text.
# (h5dump's first line names the file, so it is dropped.)
# h5dump prints one field a line; seconds, the 9th field of each row, is dropped.
metrics_text() {
    h5dump -m %.17g -d /metrics "$1" | tail -n +2 |
        awk '/^[ \t]*[-0-9.]|^[ \t]*-?(nan|inf)/ { if (++field % 9 == 0) next } { print }'
}
weights_text() { h5dump -m %.17g -g /weights/final "$1" | tail -n +2; }

# start_and_stop SIGNAL OUT: starts the MNIST run in the background, sends SIGNAL
# once epoch 2 is done (read from its per-epoch lines), and waits for it.
start_and_stop() {
    "$MLPLAB" run "$DATA/mnist-small.yaml" train.epochs=10 --out "$2" 2>"$WORK/progress" >/dev/null &
    local pid=$!
    for _ in $(seq 1 1200); do
        grep -q "^epoch 2/" "$WORK/progress" 2>/dev/null && break
        sleep 0.05
    done
    kill "-$1" "$pid"
    wait "$pid" 2>/dev/null
    stopped_status=$?
}

# --- the command line -------------------------------------------------------
expect_exit "mlplab --help" 0 -- "$MLPLAB" --help
for sub in run gradcheck info; do
    expect_exit "mlplab $sub --help" 0 -- "$MLPLAB" "$sub" --help
    expect_text "$sub --help prints usage" "$out" "usage: mlplab $sub"
done
expect_exit "unknown subcommand" 2 -- "$MLPLAB" frobnicate
expect_exit "run without a file" 2 -- "$MLPLAB" run
expect_exit "info" 0 -- "$MLPLAB" info
expect_text "info names the BLAS" "$out" "blas:"

# --- config errors: file:line:column, a hint, exit 3 -------------------------
expect_exit "bad indentation" 3 -- "$MLPLAB" run "$DATA/bad-indent.yaml"
expect_text "YAML error names file:line:col" "$err" "bad-indent.yaml:3:"
expect_exit "unknown key" 3 -- "$MLPLAB" run "$DATA/typo.yaml"
expect_text "unknown key located" "$err" "typo.yaml:2:"
expect_text "unknown key did-you-mean" "$err" "learning_rate"
expect_exit "relu output with cross-entropy" 3 -- "$MLPLAB" run "$DATA/relu-ce.yaml"
expect_text "pairing error located" "$err" "relu-ce.yaml:"
expect_text "pairing error explains" "$err" "sigmoid"
expect_exit "input size does not match MNIST" 3 -- "$MLPLAB" run "$DATA/sizes-mismatch.yaml"
expect_text "size mismatch names 784" "$err" "784"
expect_exit "bad override" 3 -- "$MLPLAB" run "$DATA/neuron.yaml" train.learning_rate=fast
expect_text "override error names the argument" "$err" "command line"
expect_exit "missing config file" 3 -- "$MLPLAB" run "$WORK/nope.yaml"
[ ! -e results ] && pass "no run file after config errors" || fail "config errors left results/"

# --- gradient checks ----------------------------------------------------------
expect_exit "gradcheck --all: every accepted pair passes" 0 -- "$MLPLAB" gradcheck --all
expect_exit "gradcheck --question" 0 -- "$MLPLAB" gradcheck --question --format csv
expect_text "question: relu + cross-entropy fails" "$out" "relu,relu,cross-entropy,no,"
if grep -q '^relu,relu,cross-entropy,no,.*FAIL$' <<<"$out" &&
   grep -q '^relu,softmax,log-likelihood,yes,.*PASS$' <<<"$out" &&
   grep -q '^sigmoid,sigmoid,cross-entropy,yes,.*PASS$' <<<"$out"; then
    pass "question matrix: relu+CE FAIL, relu+softmax+LL PASS, sigmoid+CE PASS"
else
    fail "question matrix" "$out"
fi
expect_exit "gradcheck of a refused pair exits 5" 5 -- "$MLPLAB" gradcheck --activation relu --output relu --cost cross-entropy

# --- a run file: the single neuron --------------------------------------------
expect_exit "single neuron run" 0 -- "$MLPLAB" run "$DATA/neuron.yaml" --out neuron.h5
[ -f neuron.h5 ] && [ ! -e neuron.h5.partial ] && pass "run file complete, no .partial left" ||
    fail "run file state" "$(ls -la)"
dump=$(h5dump -H neuron.h5)
for field in epoch learning_rate train_cost train_accuracy validation_cost validation_accuracy test_cost test_accuracy seconds; do
    expect_text "metrics field $field" "$dump" "\"$field\""
done
expect_text "status attribute" "$(h5dump -a /status neuron.h5)" '"complete"'
rows=$(h5dump -H -d /metrics neuron.h5 | grep -o 'DATASPACE  SIMPLE { ( [0-9]*' | grep -o '[0-9]*$')
[ "$rows" = 301 ] && pass "301 metric rows (epoch 0..300)" || fail "metric rows: $rows"
expect_exit "same config again" 0 -- "$MLPLAB" run "$DATA/neuron.yaml" --out neuron2.h5
[ "$(metrics_text neuron.h5)" = "$(metrics_text neuron2.h5)" ] && [ "$(weights_text neuron.h5)" = "$(weights_text neuron2.h5)" ] &&
    pass "rerun is bit-identical (metrics but seconds, weights)" || fail "rerun differs"
expect_exit "override changes the run" 0 -- "$MLPLAB" run "$DATA/neuron.yaml" train.learning_rate=0.3 --out neuron3.h5
[ "$(weights_text neuron.h5)" != "$(weights_text neuron3.h5)" ] && pass "override took effect" || fail "override ignored"

# --- a hook that fails: exit 1, a .failed file, never one that looks complete
expect_exit "failing hook" 1 -- "$MLPLAB" run "$DATA/neuron.yaml" "hooks=$DATA/bad-hook.lua" --out hooked.h5
expect_text "hook error names script:line" "$err" "bad-hook.lua:4: no rate for epoch 3"
expect_text "hook error has a traceback" "$err" "stack traceback"
[ -f hooked.h5.failed ] && [ ! -e hooked.h5 ] && [ ! -e hooked.h5.partial ] &&
    pass "failed run kept as .failed only" || fail "failed run files" "$(ls)"
h5dump -a /status hooked.h5.failed | grep -q '"failed"' && pass "failed run says failed" ||
    fail "failed run status"

# --- data errors: exit 4, the file named -------------------------------------
mkdir -p badmnist
if [ -d "$ROOT/data/mnist" ]; then
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        cp "$ROOT/data/mnist/$f" badmnist/
    done
    truncate -s 1000000 badmnist/train-images-idx3-ubyte
    MNIST_DIR=$WORK/badmnist expect_exit "truncated IDX file" 4 -- "$MLPLAB" run "$DATA/mnist-small.yaml" --out bad.h5
    expect_text "truncated file named" "$err" "train-images-idx3-ubyte"
    [ ! -e bad.h5 ] && pass "no run file after a data error" || fail "data error left a run file"
fi
MNIST_DIR=$WORK/empty expect_exit "missing MNIST" 4 -- "$MLPLAB" run "$DATA/mnist-small.yaml" --out bad.h5
expect_text "missing data says how to fetch" "$err" "make data"

# --- real MNIST: learns, interrupt and resume are bit-identical ---------------
if [ -f "$ROOT/data/mnist/.verified" ]; then
    export MNIST_DIR=$ROOT/data/mnist
    expect_exit "MNIST subset run" 0 -- "$MLPLAB" run "$DATA/mnist-small.yaml" train.epochs=10 --out full.h5
    accuracy=$(sed -n 's/.*test_accuracy=\([0-9.]*\).*/\1/p' <<<"$out")
    awk -v a="$accuracy" 'BEGIN { exit !(a > 0.8) }' && pass "MNIST subset learns (test accuracy $accuracy > 0.8)" ||
        fail "MNIST subset accuracy $accuracy"
    expect_exit "halve-on-plateau hook" 0 -- "$MLPLAB" run "$DATA/mnist-small.yaml" train.epochs=30 \
        "hooks=$ROOT/lua/halve-on-plateau.lua" hook_args.patience=1 --out schedule.h5
    rates=$(h5dump -m %.17g -d /metrics schedule.h5 | awk '/^   \([0-9]+\): \{/ { getline; getline; print $1 }' | tr -d , | uniq | tr '\n' ' ')
    [ "$rates" = "0.5 0.25 0.125 0.0625 0.03125 0.015625 0.0078125 " ] &&
        pass "learning rate halves on plateaus down to 1/64 of the start: $rates" || fail "schedule: $rates"
    epochs=$(sed -n 's/.*epochs=\([0-9]*\).*/\1/p' <<<"$out")
    [ "$epochs" -lt 30 ] && pass "schedule stopped the run early (epoch $epochs)" || fail "no early stop: $epochs"
    h5dump -a /hook_sha256 schedule.h5 | grep -q "$(sha256sum "$ROOT/lua/halve-on-plateau.lua" | cut -c1-64)" &&
        pass "run file records the hook's SHA-256" || fail "hook_sha256 attribute"
    start_and_stop INT resumed.h5
    status=$stopped_status
    [ "$status" -eq 130 ] && [ -f resumed.h5.partial ] && [ ! -e resumed.h5 ] &&
        pass "Ctrl-C: exit 130, partial file kept, no complete file" || fail "interrupt: status $status" "$(ls)"
    h5dump -a /status resumed.h5.partial | grep -q running && pass "interrupted file says running" ||
        fail "interrupted file status"
    expect_exit "resume" 0 -- "$MLPLAB" run "$DATA/mnist-small.yaml" train.epochs=10 --out resumed.h5
    [ "$(metrics_text full.h5)" = "$(metrics_text resumed.h5)" ] && [ "$(weights_text full.h5)" = "$(weights_text resumed.h5)" ] &&
        pass "resumed run is bit-identical to the uninterrupted one" || fail "resumed run differs"
    start_and_stop KILL killed.h5
    h5dump -d /metrics killed.h5.partial >/dev/null 2>&1 && pass "kill -9 leaves a file h5dump reads" ||
        fail "kill -9 left an unreadable file"
    expect_exit "resume after kill -9" 0 -- "$MLPLAB" run "$DATA/mnist-small.yaml" train.epochs=10 --out killed.h5
    [ "$(metrics_text full.h5)" = "$(metrics_text killed.h5)" ] && [ "$(weights_text full.h5)" = "$(weights_text killed.h5)" ] &&
        pass "run resumed after kill -9 is bit-identical" || fail "run resumed after kill -9 differs"
else
    fail "MNIST is not fetched: run 'make data' (the MNIST tests need it)"
fi

echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
