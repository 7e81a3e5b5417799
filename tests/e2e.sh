#!/usr/bin/env bash
# End-to-end tests of the mlplab binary: commands, config errors, data errors,
# run files, reproducibility, interrupt and resume, and a real MNIST run.
# Usage: tests/e2e.sh PATH/TO/mlplab     Ends with "e2e: N passed, M failed".
set -uo pipefail

MLPLAB=$(realpath "$1")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA="$ROOT/tests/data/e2e"
# shellcheck source=tests/lib.sh
. "$ROOT/tests/lib.sh"
suite_begin e2e
cd "$work" || exit 2

# start_and_stop SIGNAL OUT: starts the MNIST run in the background, sends SIGNAL
# once epoch 2 is done (read from its per-epoch lines), and waits for it. Fails
# the check (and sends nothing) if epoch 2 never comes, so that a signal that
# lands before the first checkpoint cannot pass for a resume.
start_and_stop() {
    # Emptied here, not by the redirection below: that happens in the child,
    # which on a loaded machine may run after the first grep, which would then
    # find the previous signal's "epoch 2/" and stop a run that has no file yet.
    : >"$work/progress"
    "$MLPLAB" run "$DATA/mnist-small.yaml" train.epochs=10 --out "$2" 2>>"$work/progress" >/dev/null &
    local pid=$! reached=0
    for _ in $(seq 1 2400); do
        if grep -q "^epoch 2/" "$work/progress" 2>/dev/null; then reached=1; break; fi
        sleep 0.05
    done
    [ "$reached" -eq 1 ] && kill "-$1" "$pid"
    wait "$pid" 2>/dev/null
    stopped_status=$?
    check "$1: the run reached epoch 2 before the signal" [ "$reached" -eq 1 ]
}

# resume_proven SIGNAL OUT: after start_and_stop, runs the same command again
# and checks that it resumed: the rows the stopped attempt had checkpointed
# are in the final file unchanged, seconds included (a retrained epoch would
# have new seconds), the resumed attempt trained exactly the remaining epochs
# (its per-epoch lines start after the checkpoint), and the result equals the
# uninterrupted run.
resume_proven() {
    local signal=$1 file=$2 kept_epoch kept
    kept_epoch=$(checkpoint_epoch "$file.partial")
    check "$signal: the .partial holds a checkpoint of an epoch in 2..9 (epoch ${kept_epoch:-none})" \
        test -n "$kept_epoch" -a "${kept_epoch:-0}" -ge 2 -a "${kept_epoch:-0}" -le 9
    kept_epoch=${kept_epoch:-0}
    kept=$(metrics_rows "$file.partial" $((kept_epoch + 1)))
    expect_exit "$signal: the same command again completes the run" 0 -- \
        "$MLPLAB" run "$DATA/mnist-small.yaml" train.epochs=10 --out "$file"
    check "$signal: epochs 0..$kept_epoch are kept from the .partial, seconds included" \
        same_text "$kept" "$(metrics_rows "$file" $((kept_epoch + 1)))"
    local trained
    trained=$(grep -o '^epoch [0-9]*/10 ' <<<"$err" | tr -d '\n')
    local want="" e
    for e in $(seq $((kept_epoch + 1)) 10); do want+="epoch $e/10 "; done
    check "$signal: the resumed attempt trained only epochs $((kept_epoch + 1))..10" \
        same_text "$want" "$trained"
    check "$signal: the resumed run equals the uninterrupted one (metrics but seconds, weights)" \
        eval 'same_text "$(metrics_text full.h5)" "$(metrics_text "$file")" &&
              same_text "$(weights_text full.h5)" "$(weights_text "$file")"'
}

# --- the command line -------------------------------------------------------
expect_exit "mlplab --help" 0 -- "$MLPLAB" --help
expect_text "mlplab --help lists the subcommands" "$out" "plan       expand a study"
for sub in run gradcheck info plan table series check figures; do
    "$MLPLAB" "$sub" --help >"$work/help" 2>&1
    status=$?
    check "mlplab $sub --help: exit 0 and its usage" \
        test "$status" -eq 0 -a "$(grep -c "^usage: mlplab $sub\( \|$\)" "$work/help")" -eq 1
done
expect_exit "unknown subcommand" 2 -- "$MLPLAB" frobnicate
expect_exit "run without a file" 2 -- "$MLPLAB" run
expect_exit "info" 0 -- "$MLPLAB" info
expect_text "info names the BLAS" "$out" "blas:"
expect_exit "info --checksums mnist" 0 -- "$MLPLAB" info --checksums mnist
if [ -f "$ROOT/data/mnist/.verified" ]; then
    check "  ... sha256sum -c accepts the fetched MNIST files with them (4 lines)" \
        eval '[ "$(wc -l <<<"$out")" -eq 4 ] && (cd "$ROOT/data/mnist" && sha256sum --quiet -c <<<"$out")'
fi
expect_exit "info --checksums of a set without files" 2 -- "$MLPLAB" info --checksums inline
expect_exit "an option without its value" 2 -- "$MLPLAB" table results/x --confidence
expect_text "  ... says so" "$err" "mlplab table: --confidence needs a value"
expect_exit "a --confidence out of range" 2 -- "$MLPLAB" figures results/x --confidence 1.5
expect_text "  ... says so" "$err" "--confidence must be a number between 0 and 1, not '1.5'"
expect_exit "an unknown option" 2 -- "$MLPLAB" check results/x --frob
expect_text "  ... is named" "$err" "mlplab check: unknown option '--frob'"
expect_exit "a second study directory" 2 -- "$MLPLAB" series results/x results/y --metric m
expect_text "  ... is named" "$err" "mlplab series: unexpected argument 'results/y'"

# --- config errors: file:line:column, the line, a caret, a hint, exit 3 --------
# error_shape NAME FILE:LINE:COL: the message starts with the location, then
# quotes the line, puts a caret under the column, and ends with a hint.
error_shape() {
    local col=${2##*:} located=0 caret hinted=0
    grep -q "^mlplab: .*$2: " <<<"$err" && located=1
    caret=$(sed -n 3p <<<"$err" | awk '{ print index($0, "^") }')
    grep -q "^hint: " <<<"$err" && hinted=1
    check "$1: names $2, quotes the line, a caret under column $col, a hint" \
        test "$located" -eq 1 -a "${caret:-0}" -eq $((col + 2)) -a "$hinted" -eq 1
}
expect_exit "bad indentation" 3 -- "$MLPLAB" run "$DATA/bad-indent.yaml"
error_shape "YAML error" "bad-indent.yaml:3:2"
expect_exit "unknown key" 3 -- "$MLPLAB" run "$DATA/typo.yaml"
error_shape "unknown key" "typo.yaml:2:20"
expect_text "unknown key: did you mean" "$err" "did you mean 'learning_rate'?"
expect_exit "relu output with cross-entropy" 3 -- "$MLPLAB" run "$DATA/relu-ce.yaml"
error_shape "pairing error" "relu-ce.yaml:2:7"
expect_text "pairing error explains" "$err" "Use network.output: sigmoid"
expect_exit "input size does not match MNIST" 3 -- "$MLPLAB" run "$DATA/sizes-mismatch.yaml"
expect_text "size mismatch names 784" "$err" "mnist examples have 784 inputs"
expect_exit "bad override" 3 -- "$MLPLAB" run "$DATA/neuron.yaml" train.learning_rate=fast
expect_text "override error names the argument" "$err" "command line: argument 1: train.learning_rate"
expect_exit "missing config file" 3 -- "$MLPLAB" run "$work/nope.yaml"
expect_text "missing config file named" "$err" "nope.yaml: cannot open"
[ ! -e results ] && pass "no run file after config errors" || fail "config errors left results/"

# --- gradient checks ----------------------------------------------------------
expect_exit "gradcheck --all: every accepted pair passes" 0 -- "$MLPLAB" gradcheck --all
expect_exit "gradcheck --all on two hidden layers (--sizes 7,6,5,4)" 0 -- \
    "$MLPLAB" gradcheck --all --sizes 7,6,5,4 --format csv
check "  ... three layers' errors in each of the 28 accepted rows, all PASS" \
    test "$(grep -c '^[a-z]*,[a-z]*,[a-z-]*,yes,[^,]*,[^,]*,[^,]*,PASS$' <<<"$out")" -eq 28
expect_exit "gradcheck --question" 0 -- "$MLPLAB" gradcheck --question --format csv
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
fields=$(h5dump -H -d /metrics neuron.h5 | sed -n 's/^ *H5T_[A-Z0-9_]* "\([a-z_]*\)";$/\1/p' | tr '\n' ' ')
check "metrics fields are the documented nine, in order" \
    [ "$fields" = "epoch learning_rate train_cost train_accuracy validation_cost validation_accuracy test_cost test_accuracy seconds " ]
expect_text "status attribute" "$(h5dump -a /status neuron.h5)" '"complete"'
rows=$(h5dump -H -d /metrics neuron.h5 | grep -o 'DATASPACE  SIMPLE { ( [0-9]*' | grep -o '[0-9]*$')
[ "$rows" = 301 ] && pass "301 metric rows (epoch 0..300)" || fail "metric rows: $rows"
expect_exit "same config again, --quiet --tsv" 0 -- "$MLPLAB" run "$DATA/neuron.yaml" --out neuron2.h5 --quiet --tsv
IFS=$'\t' read -r tsv_id tsv_epochs _ _ tsv_seconds tsv_path <<<"$out"
check "  ... one line of six tab-separated fields: id, 300 epochs, ..., seconds, neuron2.h5" \
    test "$(wc -l <<<"$out")" -eq 1 -a "${#tsv_id}" -eq 64 -a "$tsv_epochs" = 300 \
    -a -n "$tsv_seconds" -a "$tsv_path" = neuron2.h5
check "rerun is bit-identical (metrics but seconds, weights)" \
    eval 'same_text "$(metrics_text neuron.h5)" "$(metrics_text neuron2.h5)" &&
          same_text "$(weights_text neuron.h5)" "$(weights_text neuron2.h5)"'
expect_exit "override changes the run" 0 -- "$MLPLAB" run "$DATA/neuron.yaml" train.learning_rate=0.3 --out neuron3.h5
check "override took effect" \
    eval '[ -n "$(weights_text neuron3.h5)" ] && [ "$(weights_text neuron.h5)" != "$(weights_text neuron3.h5)" ]'

# --- a hook that fails: exit 1, a .failed file, never one that looks complete
expect_exit "failing hook" 1 -- "$MLPLAB" run "$DATA/neuron.yaml" "hooks=$DATA/bad-hook.lua" --out hooked.h5
expect_text "hook error names script:line" "$err" "bad-hook.lua:4: no rate for epoch 3"
expect_text "hook error has a traceback" "$err" "stack traceback"
[ -f hooked.h5.failed ] && [ ! -e hooked.h5 ] && [ ! -e hooked.h5.partial ] &&
    pass "failed run kept as .failed only" || fail "failed run files" "$(ls)"
h5dump -a /status hooked.h5.failed | grep -q '"failed"' && pass "failed run says failed" ||
    fail "failed run status"

printf '%s\n' 'custom_metrics = {"gap"}' 'function on_epoch_end(epoch, history, args)' \
    '  return {gapp = 1}' 'end' >undeclared.lua
expect_exit "hook returning a custom metric it does not declare" 1 -- \
    "$MLPLAB" run "$DATA/neuron.yaml" "hooks=$work/undeclared.lua" --out undeclared.h5
expect_text "  ... names the script:line and the metric" "$err" \
    'undeclared.lua:2: on_epoch_end returned the custom metric "gapp" = 1 for epoch 0, but the script does not declare it'

# --- data errors: exit 4, the file named -------------------------------------
mkdir -p badmnist
if [ -d "$ROOT/data/mnist" ]; then
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        cp "$ROOT/data/mnist/$f" badmnist/
    done
    truncate -s 1000000 badmnist/train-images-idx3-ubyte
    MNIST_DIR=$work/badmnist expect_exit "truncated IDX file" 4 -- "$MLPLAB" run "$DATA/mnist-small.yaml" --out bad.h5
    expect_text "truncated file named" "$err" "train-images-idx3-ubyte"
    [ ! -e bad.h5 ] && pass "no run file after a data error" || fail "data error left a run file"
fi
MNIST_DIR=$work/empty expect_exit "missing MNIST" 4 -- "$MLPLAB" run "$DATA/mnist-small.yaml" --out bad.h5
expect_text "missing data says how to fetch" "$err" "make data"

# --- real MNIST: learns, interrupt and resume -----------------------------------
if [ -f "$ROOT/data/mnist/.verified" ]; then
    export MNIST_DIR=$ROOT/data/mnist
    expect_exit "MNIST subset run" 0 -- "$MLPLAB" run "$DATA/mnist-small.yaml" train.epochs=10 --out full.h5 --tsv
    accuracy=$(cut -f 3 <<<"$out")
    # A correct net reaches about 0.90 here; with no hidden layer ([784, 10], sigmoid +
    # cross-entropy or softmax + log-likelihood) the same run reaches 0.85-0.86.
    awk -v a="$accuracy" 'BEGIN { exit !(a > 0.88) }' && pass "MNIST subset learns (test accuracy $accuracy > 0.88)" ||
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

    # Ctrl-C and SIGTERM: exit 130, the .partial says running, then resume.
    for signal in INT TERM; do
        start_and_stop "$signal" "stopped-$signal.h5"
        check "$signal: exit 130, partial file kept, no complete file (exit $stopped_status)" \
            test "$stopped_status" -eq 130 -a -f "stopped-$signal.h5.partial" -a ! -e "stopped-$signal.h5"
        check "$signal: the interrupted file says running" \
            eval "h5dump -a /status 'stopped-$signal.h5.partial' | grep -q running"
        resume_proven "$signal" "stopped-$signal.h5"
    done
    start_and_stop KILL killed.h5
    check "kill -9 leaves a file h5dump reads" \
        eval 'HDF5_USE_FILE_LOCKING=FALSE h5dump -d /metrics killed.h5.partial >/dev/null 2>&1'
    resume_proven KILL killed.h5
else
    fail "MNIST is not fetched: run 'make data' (the MNIST tests need it)"
fi

suite_end
