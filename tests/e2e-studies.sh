#!/usr/bin/env bash
# e2e-studies.sh MLPLAB — the promises of `make experiments`, checked through
# the real Makefile on a small MNIST study (configs/mnist-tiny.yaml):
#   - make -j2 gives the same run files as make -j1;
#   - Ctrl-C (SIGINT to the whole make) and kill -9 in the middle of a study,
#     then make again, give run files bit-identical to an uninterrupted study,
#     including runs steered by a Lua hook (halve-on-plateau);
#   - deleting the tables, figures and report and running `make tables plots
#     report` brings them back byte-identical, without training;
#   - a new label or description re-runs nothing and reaches the table;
#   - every shipped study runs on the quick profile through to the report, and
#     passes `make check-reproduction QUICK=1` (the fast claims: saturation and
#     the gradient-check matrix),
#     and a claim that does not hold fails it.
# Needs MNIST (make data). Prints one line per check and ends with
# "e2e-studies: N passed, M failed"; exits non-zero if any check failed.
set -uo pipefail

if [ $# -ne 1 ]; then
    echo "usage: tests/e2e-studies.sh PATH/TO/mlplab" >&2
    exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
mlplab=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d "${TMPDIR:-/tmp}/e2e-studies.XXXXXX")
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
check() {   # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then
        echo "ok    $what"
        passed=$((passed + 1))
    else
        echo "FAIL  $what"
        failed=$((failed + 1))
    fi
}

mkdir -p "$work/experiments"
printf '%s\n' \
    'description: "e2e-studies: two learning rates and a schedule on 1000 MNIST images"' \
    "extends: $repo/configs/mnist-tiny.yaml" \
    'train: {epochs: 8}' \
    'seeds: 2' \
    'cases:' \
    '  - {label: "constant 0.5"}' \
    '  - {label: "constant 3.0", train.learning_rate: 3.0}' \
    '  - label: "halving"' \
    "    hooks: $repo/lua/halve-on-plateau.lua" \
    '    hook_args: {patience: 1}' \
    '    train.learning_rate: 3.0' \
    'report:' \
    '  table: {metrics: [test_accuracy, best_validation_accuracy, learning_rate]}' \
    >"$work/experiments/tiny.yaml"

# make_in RESULTS TARGET... [VAR=value...]: the repository's Makefile on the tiny study
make_in() {
    local results=$1
    shift
    make --no-print-directory -C "$repo" "$@" STUDIES=tiny EXPERIMENTS_DIR="$work/experiments" \
        RESULTS="$results" MLPLAB="$mlplab"
}
# Every run file of a study as text: metrics without the seconds column (the
# 9th field of each row, the one value that does not reproduce), custom
# metrics, final weights, status.
study_text() {
    local f
    for f in "$1"/tiny/runs/*.h5; do
        echo "== $(basename "$f")"
        h5dump -m %.17g -d /metrics "$f" | tail -n +2 |
            awk '/^[ \t]*[-0-9.]|^[ \t]*-?(nan|inf)/ { if (++field % 9 == 0) next } { print }'
        h5dump -m %.17g -g /custom_metrics -g /weights/final -a /status "$f" | tail -n +2
    done
}
same_text() { [ -n "$1" ] && [ "$1" = "$2" ]; }
run_count() { find "$1/tiny/runs" -name '*.h5' 2>/dev/null | wc -l; }
partial_count() { find "$1/tiny/runs" -name '*.h5.partial' 2>/dev/null | wc -l; }

# Starts the study with -j2 in its own process group (its id in $pid; the
# shell's own child, so that `wait` works) and returns once some run has a
# checkpoint of epoch 2 to 5 of its 8, so the signal lands mid-run, not after it.
start_and_wait() {
    local results=$1 i f
    setsid make --no-print-directory -C "$repo" experiments-runs STUDIES=tiny \
        EXPERIMENTS_DIR="$work/experiments" RESULTS="$results" MLPLAB="$mlplab" -j2 \
        >"$results.log" 2>&1 &
    pid=$!
    for i in $(seq 1 1200); do
        for f in "$results"/tiny/runs/*.h5.partial; do
            [ -f "$f" ] || continue
            if HDF5_USE_FILE_LOCKING=FALSE h5dump -a /checkpoint/epoch "$f" 2>/dev/null |
                grep -qE '\(0\): [2-5]$'; then
                return 0
            fi
        done
        sleep 0.05
    done
}

# --- -j1 and -j2 ----------------------------------------------------------
make_in "$work/j1" experiments-runs -j1 >/dev/null 2>&1
check "make -j1 finishes the study (6 runs)" [ "$(run_count "$work/j1")" -eq 6 ]
make_in "$work/j2" experiments-runs -j2 >/dev/null 2>&1
check "make -j2 finishes the study (6 runs)" [ "$(run_count "$work/j2")" -eq 6 ]
reference=$(study_text "$work/j1")
check "-j2 gives the same run files as -j1" same_text "$reference" "$(study_text "$work/j2")"
"$mlplab" series "$work/j1/tiny" --metric learning_rate --label halving --out "$work/rates.dat" \
    >/dev/null
check "halve-on-plateau steered the hooked runs (their rate fell below 3.0)" \
    awk '/^[0-9]/ && $2 < 3 { found = 1 } END { exit !found }' "$work/rates.dat"

# --- Ctrl-C in the middle of the study, then make again ---------------------
start_and_wait "$work/int"
kill -INT -- "-$pid" 2>/dev/null
{ wait "$pid"; } 2>/dev/null
status=$?
check "Ctrl-C stops make with a failure status (got $status)" [ "$status" -ne 0 ]
check "Ctrl-C leaves the stopped runs as .partial" [ "$(partial_count "$work/int")" -ge 1 ]
make_in "$work/int" experiments-runs -j2 >/dev/null 2>&1
check "make again completes the interrupted study" [ "$(run_count "$work/int")" -eq 6 ]
check "resumed after Ctrl-C: bit-identical to the uninterrupted study" \
    same_text "$reference" "$(study_text "$work/int")"

# --- kill -9 in the middle of the study, then make again ---------------------
start_and_wait "$work/kill"
kill -KILL -- "-$pid" 2>/dev/null
{ wait "$pid"; } 2>/dev/null
check "kill -9 leaves runs as .partial" [ "$(partial_count "$work/kill")" -ge 1 ]
make_in "$work/kill" experiments-runs -j2 >/dev/null 2>&1
check "make again completes the killed study" [ "$(run_count "$work/kill")" -eq 6 ]
check "resumed after kill -9: bit-identical to the uninterrupted study" \
    same_text "$reference" "$(study_text "$work/kill")"

# --- tables, figures and report regenerate identically ----------------------
outputs() {   # checksums of everything the report stage writes
    (cd "$work/j1" && find . -path ./tiny/runs -prune -o -path ./tiny/configs -prune -o \
        -type f ! -name runs.mk ! -name study.yaml -print | sort | xargs sha256sum)
}
make_in "$work/j1" tables plots report >/dev/null 2>&1
first=$(outputs)
check "the report stage writes a table, PDF figures and REPORT.md" \
    bash -c 'grep -q "table.md" <<<"$1" && grep -q "figures/.*\.pdf" <<<"$1" && grep -q "REPORT.md" <<<"$1"' _ "$first"
runs_before=$(stat -c '%n %.9Y' "$work/j1"/tiny/runs/*.h5)
rm -rf "$work/j1/tiny/table."* "$work/j1/tiny/figures" "$work/j1/tiny/series" "$work/j1/REPORT.md"
make_in "$work/j1" tables plots report >/dev/null 2>&1
check "deleted tables, figures and report come back byte-identical" same_text "$first" "$(outputs)"
check "regenerating trained nothing (run files untouched)" \
    same_text "$runs_before" "$(stat -c '%n %.9Y' "$work/j1"/tiny/runs/*.h5)"

# --- a new label or description re-runs nothing -------------------------------
sed -i -e 's/label: "constant 0.5"/label: "constant, η = 0.5"/' \
    -e 's/^description: .*/description: "e2e-studies: reworded"/' "$work/experiments/tiny.yaml"
make_in "$work/j1" experiments-runs tables >/dev/null 2>&1
check "a relabelled case re-runs nothing" \
    same_text "$runs_before" "$(stat -c '%n %.9Y' "$work/j1"/tiny/runs/*.h5)"
check "  ... and its table shows the new label and description" \
    bash -c 'grep -q "^| constant, η = 0.5 | 2 |" "$1" && grep -q "reworded" "$1"' _ "$work/j1/tiny/table.md"

# --- the quick reproduction check --------------------------------------------
quick() {
    make --no-print-directory -C "$repo" "$@" QUICK=1 RESULTS="$work/quick" MLPLAB="$mlplab"
}
# Every shipped study on the quick profile, through to the report.
quick experiments-runs >/dev/null 2>&1
check "every study in experiments/ runs on the quick profile" [ $? -eq 0 ]
quick tables >/dev/null 2>&1 && quick plots >/dev/null 2>&1 && quick report >/dev/null 2>&1
check "  ... and its tables, figures and report are made" [ $? -eq 0 ]
out=$(quick check-reproduction 2>&1)
status=$?
check "make check-reproduction QUICK=1 passes (exit $status)" \
    [ "$status" -eq 0 ]
check "  ... and checked the plateau claim" \
    grep -q 'ok   saturation: quadratic, start (2, 2): first_epoch_below' <<<"$out"
# A claim that does not hold: the quadratic plateau from (2, 2) lasts 232 epochs.
sed -e 's/metric: first_epoch_below, min: 150}/metric: first_epoch_below, min: 250}/' \
    -e "s|\.\./lua/|$repo/lua/|" \
    "$repo/experiments/saturation.yaml" >"$work/experiments/saturation.yaml"
"$mlplab" plan "$work/experiments/saturation.yaml" --results "$work/wrong" >/dev/null 2>&1
mkdir -p "$work/wrong/saturation/runs"
cp "$work/quick/saturation/runs/"*.h5 "$work/wrong/saturation/runs/"
out=$("$mlplab" check "$work/wrong/saturation" 2>&1)
status=$?
check "a claim that does not hold fails the check with exit 5 (got $status)" [ "$status" -eq 5 ]
check "  ... naming the claim" \
    grep -q 'FAIL saturation: quadratic, start (2, 2): first_epoch_below 232 .*expected >= 250' <<<"$out"
rm -f "$work/wrong/saturation/runs/"*.h5
out=$("$mlplab" check "$work/wrong/saturation" 2>&1)
check "a claim with no runs behind it fails" grep -q 'FAIL saturation: .*no complete run' <<<"$out"

# --- a mistake in report.check is an error at its line, with a hint ----------
bad_check() {   # bad_check YAML-LINE: plan the saturation study with that check block
    sed -e "s|\.\./lua/|$repo/lua/|" -e '/^  check:$/,$d' "$repo/experiments/saturation.yaml" \
        >"$work/experiments/saturation.yaml"
    printf '  check:\n    %s\n' "$1" >>"$work/experiments/saturation.yaml"
    rm -rf "$work/bad"
    "$mlplab" plan "$work/experiments/saturation.yaml" --results "$work/bad" >/dev/null 2>&1
    "$mlplab" check "$work/bad/saturation" 2>&1
}
out=$(bad_check 'tolerence: 0.01')
status=$?
check "a misspelt report.check key exits 3 (got $status)" [ "$status" -eq 3 ]
check "  ... naming study.yaml:line:col and the key it meant" \
    grep -q "study.yaml:[0-9]*:[0-9]*: unknown key 'tolerence' in report.check; did you mean 'tolerance'?" <<<"$out"
out=$(bad_check 'expect: [{label: "quadratic, start (2, 2)", metric: train_output, of: median, max: 1}]')
check "of: median is refused with the choices" \
    grep -q "report.check.expect.of must be mean, min or max, not 'median'" <<<"$out"
out=$(bad_check 'exempt: [{label: "quadratic, start (2, 2)"}]')
check "an exemption without a reason is refused" \
    grep -q "an exemption needs a label and a reason" <<<"$out"
out=$(bad_check 'expect: [{label: "no such case", metric: train_output, max: 1}]')
check "an expectation for an unknown label is refused" grep -q "no label 'no such case'" <<<"$out"

echo "e2e-studies: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
