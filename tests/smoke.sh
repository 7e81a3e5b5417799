#!/usr/bin/env bash
# smoke.sh RELEASE ASAN — a smoke test of the release binary (bin/mlplab, -O2:
# the binary behind `make experiments` and every number in the README), which
# the other suites do not run (they use the sanitizer build ASAN): it starts,
# checks its gradients, trains a real MNIST subset to the same numbers as the
# sanitizer build, and runs a study through the Makefile's default
# MLPLAB=bin/mlplab path to `make check-reproduction`.
# Needs MNIST (make data). Ends with "smoke: N passed, M failed".
set -uo pipefail

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
suite_usage 2 "PATH/TO/bin/mlplab PATH/TO/asan/mlplab" "$@"
release=$(realpath "$1")
asan=$(realpath "$2")
suite_begin smoke
cd "$work" || exit 2

# close_files A B: the same lines, where they differ both numbers within 1e-9
# relative (the two builds are expected to agree to the last bit, but a
# kernel may be compiled differently at -O1 and -O2: 1e-9 still catches any
# real difference, which shows up in the first digits).
close_files() {
    awk 'NR == FNR { a[FNR] = $0; n = FNR; next }
         { x = a[FNR]; y = $0; if (x == y) next
           gsub(/,/, "", x); gsub(/,/, "", y)
           number = "^ *-?[0-9][0-9.]*(e[-+]?[0-9]+)? *$"
           if (x !~ number || y !~ number) { bad = 1; exit }
           d = x - y; d = d < 0 ? -d : d; m = x < 0 ? -x : x; m = m > 1 ? m : 1
           if (d > 1e-9 * m) { bad = 1; exit } }
         END { exit bad || FNR != n || n == 0 }' "$1" "$2"
}

expect_exit "bin/mlplab --help" 0 -- "$release" --help
expect_text "bin/mlplab --help lists run" "$out" "run        train one network"
expect_exit "bin/mlplab info" 0 -- "$release" info

# The benchmark (make bench) is not run here (timings are not tests), but its
# usage is: a mistake in its options says which and exits 2 before any data
# is read.
bench=$(dirname "$release")/mlplab-bench
expect_exit "mlplab-bench --help" 0 -- "$bench" --help
expect_text "mlplab-bench --help prints the usage on stdout" "$out" "usage: mlplab-bench [--epochs N]"
expect_exit "mlplab-bench --bogus is a usage error" 2 -- "$bench" --bogus
expect_text "mlplab-bench --bogus names the option" "$err" "unknown option --bogus"
expect_exit "mlplab-bench --only 30 (no batch) is a usage error" 2 -- "$bench" --only 30
expect_text "mlplab-bench --only 30 says what --only needs" "$err" "--only needs HIDDEN and BATCH"
expect_exit "mlplab-bench --only 0 10 is refused" 2 -- "$bench" --only 0 10
expect_text "mlplab-bench --only 0 10 gives the range" "$err" "hint: 1 to 4096 hidden units"
expect_exit "mlplab-bench --epochs many is refused" 2 -- "$bench" --epochs many
expect_text "mlplab-bench --epochs many gives the range" "$err" "hint: 1 to 1000 epochs"
expect_exit "mlplab-bench --path fast is refused" 2 -- "$bench" --path fast
expect_text "mlplab-bench --path fast names the paths" "$err" "hint: auto, dense, sparse or listed"
expect_exit "bin/mlplab gradcheck --all: every accepted pair passes" 0 -- "$release" gradcheck --all

if [ -f "$repo/data/mnist/.verified" ]; then
    export MNIST_DIR=$repo/data/mnist
    small=$repo/tests/data/e2e/mnist-small.yaml
    expect_exit "bin/mlplab run: 3 epochs on an MNIST subset" 0 -- "$release" run "$small" --out release.h5 --quiet --tsv
    accuracy=$(cut -f 3 <<<"$out")
    check "bin/mlplab learns (test accuracy $accuracy > 0.88)" \
        awk -v a="$accuracy" 'BEGIN { exit !(a > 0.88) }'
    "$asan" run "$small" --out asan.h5 --quiet >/dev/null 2>&1
    metrics_text release.h5 >release.metrics
    metrics_text asan.h5 >asan.metrics
    weights_text release.h5 >release.weights
    weights_text asan.h5 >asan.weights
    check "bin/mlplab and the sanitizer build train the same metrics and weights" \
        eval 'close_files release.metrics asan.metrics && close_files release.weights asan.weights'
else
    fail "MNIST is not fetched: run 'make data' (the smoke test needs it)"
fi

# The Makefile's default MLPLAB is bin/mlplab: plan, run and check a study with it.
mk() { make --no-print-directory -C "$repo" "$@" QUICK=1 STUDIES=saturation RESULTS="$work/results" \
    MLPLAB=bin/mlplab EXPERIMENTS_DATA=; }
mk experiments-runs >"$work/make.log" 2>&1
status=$?
check "make experiments-runs with bin/mlplab runs the saturation study (exit $status, 6 runs)" \
    test "$status" -eq 0 -a "$(find "$work/results/saturation/runs" -name '*.h5' | wc -l)" -eq 6
out=$(mk check-reproduction 2>&1)
status=$?
check "make check-reproduction with bin/mlplab: every saturation claim holds (exit $status)" \
    test "$status" -eq 0 -a "$(grep -c '^check: 5 ok, 0 failed, 0 skipped$' <<<"$out")" -eq 1

suite_end
