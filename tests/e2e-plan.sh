#!/usr/bin/env bash
# e2e-plan.sh MLPLAB — end-to-end test of `mlplab plan` and the runs.mk it
# writes: plan a tiny study (inline XOR data, so no MNIST needed), run it with
# make -j2, check that a second make runs nothing, that editing one case re-runs
# exactly that case's runs, that FORCE=1 re-runs everything, that SIGTERM to
# make never deletes a complete run file (.PRECIOUS, seen working), and that errors
# name file:line:column. Then a gradient-check study (gradcheck:): planned with
# no runs, its runs.mk makes nothing, `mlplab table` writes the matrix and
# exits 5 when a result is not the one the study expects. Prints one line per check and ends with
# "e2e-plan: N passed, M failed"; exits non-zero if any check failed.
set -uo pipefail

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
suite_usage 1 "PATH/TO/mlplab" "$@"
run_one=$repo/scripts/run-one.sh
suite_begin e2e-plan
# a copy, so that the test can make it newer without touching the build
mkdir -p "$work/bin"
cp "$1" "$work/bin/mlplab" || exit 1
mlplab=$work/bin/mlplab

write_study() {   # write_study LEARNING_RATE_OF_CASE_B
    cat >"$work/experiments/tiny.yaml" <<EOF
# a tiny study for tests/e2e-plan.sh
description: "XOR, two learning rates"
dataset:
  inline: {inputs: [[0, 0], [0, 1], [1, 0], [1, 1]], targets: [[0], [1], [1], [0]]}
network: {sizes: [2, 3, 1], activation: sigmoid, output: sigmoid}
train: {epochs: 3, batch_size: 2}
seeds: 2
cases:
  - {label: "a (slow)", train.learning_rate: 0.5}
  - {label: "b, fast", train.learning_rate: $1}
EOF
}

plan() { "$mlplab" plan experiments/tiny.yaml "$@"; }
run_make() {
    make --no-print-directory -f results/tiny/runs.mk MLPLAB="$mlplab" RUN_ONE="$run_one" "$@"
}
run_make_study() {   # run_make_study NAME [make arguments]
    local name=$1
    shift
    make --no-print-directory -f "results/$name/runs.mk" MLPLAB="$mlplab" RUN_ONE="$run_one" "$@"
}
# "name mtime" of every file matching the glob, sorted
stamps() { for f in "$@"; do [ -e "$f" ] && stat -c '%n %.9Y' "$f"; done | sort; }
count_lines() { grep -c "$1" <<<"$2" || true; }

mkdir -p "$work/experiments"
cd "$work" || exit 1
write_study 3.0

out=$(plan 2>&1)
check "plan exits 0" test $? -eq 0
check "plan prints one row per run and a summary" \
    test "$(count_lines '^[0-9a-f]\{12\} ' "$out")" -eq 4 -a \
    "$(count_lines '4 runs (2 cases' "$out")" -eq 1
check "plan writes runs.mk and study.yaml" test -f results/tiny/runs.mk -a -f results/tiny/study.yaml
check "plan writes one config per run" test "$(find results/tiny/configs -name "*.yaml" | wc -l)" -eq 4

out=$(run_make -j2 2>&1)
status=$?
check "make -j2 runs the study" test $status -eq 0
check "every run prints its [k/4] line" test "$(count_lines '^\[[1-4]/4\] tiny ' "$out")" -eq 4
check "the label reaches run-one intact" test "$(count_lines '\] tiny b, fast seed=' "$out")" -eq 2
check "four run files exist" test "$(find results/tiny/runs -name "*.h5" | wc -l)" -eq 4
out=$("$mlplab" figures results/tiny --list 2>&1)
check "inline data, no report.figures: of the default figures only the training cost, which it records" \
    test "$(count_lines $'^metric-vs-epoch\t.*/figures/train_cost\t' "$out")" -eq 1 -a \
    "$(count_lines 'test_accuracy' "$out")" -eq 0

config=$(find results/tiny/configs -name "*.yaml" | head -1)
id=$(basename "$config" .yaml)
summary=$("$mlplab" run "$config" --out "$work/again.h5" --quiet 2>/dev/null)
check "mlplab run on a planned config reproduces its run id" test "${summary%% *}" = "$id"

before_runs=$(stamps results/tiny/runs/*.h5)
before_configs=$(stamps results/tiny/configs/*.yaml results/tiny/runs.mk results/tiny/study.yaml)
out=$(plan 2>&1)
check "re-planning an unchanged study writes nothing" \
    eval 'test "$(count_lines "0 configs written" "$out")" -eq 1 &&
          same_text "$before_configs" "$(stamps results/tiny/configs/*.yaml results/tiny/runs.mk results/tiny/study.yaml)"' 
check "re-planning shows the runs as done" test "$(count_lines ' done ' "$out")" -eq 4
out=$(run_make -j2 2>&1)
status=$?
check "a second make succeeds and runs nothing (exit $status)" \
    test "$status" -eq 0 -a "$(count_lines '^\[' "$out")" -eq 0
check "a second make leaves the run files alone" same_text "$before_runs" "$(stamps results/tiny/runs/*.h5)"
touch "$mlplab"
out=$(run_make -j2 2>&1)
status=$?
check "a newer mlplab binary: make succeeds and re-runs nothing (exit $status)" \
    test "$status" -eq 0 -a "$(count_lines '^\[' "$out")" -eq 0

# the first two runs study.yaml lists are case a's
mapfile -t a_files < <(grep -o "runs/[0-9a-f]*\.h5" results/tiny/study.yaml | head -2)
a_before=$(cd results/tiny && stamps "${a_files[@]}")
write_study 2.0
out=$(plan 2>&1)
check "editing case b rewrites two configs" test "$(count_lines '2 configs written' "$out")" -eq 1
out=$(run_make -j2 2>&1)
status=$?
check "editing case b re-runs exactly its two runs (exit $status)" \
    test "$status" -eq 0 -a "$(count_lines '^\[' "$out")" -eq 2 -a "$(count_lines '\] tiny b, fast seed=' "$out")" -eq 2
check "case a's run files are untouched" same_text "$a_before" "$(cd results/tiny && stamps "${a_files[@]}")"
check "study.yaml lists the current four runs" \
    test "$(grep -c '^- config: ' results/tiny/study.yaml)" -eq 4

out=$(run_make -j2 FORCE=1 2>&1)
status=$?
check "FORCE=1 re-runs every run (exit $status)" test "$status" -eq 0 -a "$(count_lines '^\[[1-4]/4\]' "$out")" -eq 4

# --- a signal never makes make delete a complete run file -----------------
# make deletes the target of a recipe a fatal signal interrupts, if the file
# changed, unless it is .PRECIOUS. hold.sh (as LAUNCH) keeps the recipe going
# after mlplab renamed the complete run file into place, the moment a signal
# can catch; then the whole make gets SIGTERM (Slurm's time limit, scancel).
cat >"$work/hold.sh" <<'EOF'
#!/bin/sh
"$@"
status=$?
touch "$HOLD_FLAG"
sleep 60
exit $status
EOF
chmod +x "$work/hold.sh"
held_run=results/tiny/${a_files[0]}
# interrupted_make MAKEFILE: remakes held_run under hold.sh and sends SIGTERM
# to the whole make once the run is complete; make's output in held.log.
interrupted_make() {
    local i pid
    rm -f "$work/held" "$held_run"
    HOLD_FLAG=$work/held setsid make --no-print-directory -f "$1" MLPLAB="$mlplab" \
        RUN_ONE="$run_one" LAUNCH="$work/hold.sh" "$held_run" >"$work/held.log" 2>&1 &
    pid=$!
    for i in $(seq 1000); do [ -f "$work/held" ] && break; sleep 0.02; done   # bounded: 20 s
    kill -TERM -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}
interrupted_make results/tiny/runs.mk
check "SIGTERM to make just after a run completed: the run file stays, complete (.PRECIOUS)" \
    bash -c 'h5dump -a /status "$1" | grep -q "\"complete\"" && ! grep -q "Deleting file" "$2"' _ \
    "$held_run" "$work/held.log"
sed '/^\.PRECIOUS:/d' results/tiny/runs.mk >"$work/no-precious.mk"
interrupted_make "$work/no-precious.mk"
check "  ... without .PRECIOUS the same signal makes make delete it (the check can fail)" \
    bash -c '[ ! -e "$1" ] && grep -q "Deleting file" "$2"' _ "$held_run" "$work/held.log"
run_make >/dev/null 2>&1

out=$(plan --quick 2>&1)
check "--quick plans the first seed only, into results-quick" \
    test "$(count_lines '2 runs (2 cases x 1 sweep point x 1 seed)' "$out")" -eq 1 -a \
    -f results-quick/tiny/runs.mk

cat >experiments/broken.yaml <<'EOF'
dataset:
  inline: {inputs: [[0, 0], [0, 1]], targets: [[0], [1]]}
network: {sizes: [2, 3, 1]}
cases:
  - {label: "ok"}
  - {label: "typo", train.learnin_rate: 0.5}
EOF
out=$("$mlplab" plan experiments/broken.yaml 2>&1)
status=$?
check "an unknown key in a case fails with status 3" test $status -eq 3
check "the error names file:line:column" \
    test "$(count_lines 'experiments/broken.yaml:6:21: unknown key' "$out")" -eq 1
check "nothing is written for a broken study" test ! -e results/broken

# --- every mistake in a study refused by plan, before anything trains ---------
# plan_refused DESCRIPTION NAME WHERE MESSAGE: `mlplab plan experiments/NAME.yaml`
# exits 3 with "experiments/NAME.yaml:WHERE: MESSAGE", the line and a caret,
# and writes nothing.
plan_refused() {
    local description=$1 name=$2 where=$3 message=$4 got
    "$mlplab" plan "experiments/$name.yaml" >/dev/null 2>"$work/refused.err"
    got=$?
    if [ "$got" -eq 3 ] && grep -qF -- "experiments/$name.yaml:$where: $message" "$work/refused.err" &&
        grep -q '^ *\^$' "$work/refused.err" && [ ! -e "results/$name" ]; then
        pass "$description"
    else
        fail "$description: exit $got, wanted 3 with experiments/$name.yaml:$where: $message" \
            "$(cat "$work/refused.err")"
    fi
}
write_broken() {   # write_broken NAME LINES...: a small study with the lines at its end
    local name=$1
    shift
    {
        echo 'dataset:'
        echo '  inline: {inputs: [[0, 0], [0, 1]], targets: [[0], [1]]}'
        echo 'network: {sizes: [2, 3, 1]}'
        printf '%s\n' "$@"
    } >"experiments/$name.yaml"
}
mkdir -p lua
echo 'function learning_rate(epoch, history, args) return 0.1 end' >lua/ok.lua
echo 'function learning_rate(epoch, history, args) return 0.1' >lua/unclosed.lua
echo 'error("cannot start")' >lua/fails.lua
echo 'on_epoch_end = 3' >lua/not-a-function.lua
write_broken hook-reserved 'hooks: ../lua/ok.lua' 'hook_args: {patience: 2, base_learning_rate: 3}'
plan_refused "hook_args.base_learning_rate is refused by plan" hook-reserved 5:26 \
    "hook_args.base_learning_rate is reserved"
deep="$(printf '[%.0s' $(seq 66))1$(printf ']%.0s' $(seq 66))"
write_broken hook-deep 'hooks: ../lua/ok.lua' "hook_args: {list: $deep}"
plan_refused "hook_args nested more than 64 levels are refused by plan" hook-deep 5:83 \
    "hook_args are nested more than 64 levels deep"
write_broken hook-no-script 'hook_args: {patience: 2}'
plan_refused "hook_args without hooks are refused by plan" hook-no-script 4:12 \
    "hook_args are given, but no hooks script reads them"
write_broken hook-unclosed 'cases:' '  - {label: a}' '  - {label: b, hooks: ../lua/unclosed.lua}'
plan_refused "a hook script that does not compile is refused by plan" hook-unclosed 6:23 \
    "hooks: $(pwd -P)/lua/unclosed.lua:2: 'end' expected"
write_broken hook-fails 'hooks: ../lua/fails.lua'
plan_refused "a hook script whose top level fails is refused by plan" hook-fails 4:8 \
    "hooks: $(pwd -P)/lua/fails.lua:1: cannot start"
write_broken hook-not-function 'hooks: ../lua/not-a-function.lua'
plan_refused "a hook script whose on_epoch_end is no function is refused by plan" \
    hook-not-function 4:8 "hooks: $(pwd -P)/lua/not-a-function.lua: 'on_epoch_end' is a number; it must be a function"

write_broken hook-metric-typo "hooks: $repo/lua/generalization-gap.lua" 'report:' \
    '  table: {metrics: [generalisation_gap]}'
plan_refused "a misspelt custom metric is refused by plan, with the name the hook declares" \
    hook-metric-typo 6:21 "report.table.metrics names no metric 'generalisation_gap'; did you mean 'generalization_gap'?"

# a metric a hook reads (its watched_metrics) is checked against what the run records
write_broken watch-typo "hooks: $repo/lua/early-stopping.lua" 'hook_args: {metric: train_cots, minimize: true}'
plan_refused "a misspelt metric a hook watches is refused by plan, with a did-you-mean among what the run records" \
    watch-typo 5:21 "early-stopping.lua watches 'train_cots', not a metric this run records; did you mean 'train_cost'?"
"$mlplab" run experiments/watch-typo.yaml --out "$work/watch-typo.h5" >/dev/null 2>&1
status=$?
check "mlplab run refuses it too, before the first epoch: exit 3, no run file (exit $status)" \
    test $status -eq 3 -a ! -e "$work/watch-typo.h5"

# --- a gradient-check study: nothing to run; `mlplab table` runs the matrix ---
write_gradcheck_study() {   # write_gradcheck_study NAME EXPECT-LINES...
    local name=$1
    shift
    {
        echo 'description: "ReLU + cross-entropy, small"'
        echo 'gradcheck:'
        echo '  matrix: question'
        echo '  sizes: [4, 6, 3]'
        echo '  expect:'
        printf '    - %s\n' "$@"
    } >"experiments/$name.yaml"
}
write_gradcheck_study gc "{hidden: relu, output: relu, cost: cross-entropy, result: FAIL}" \
    "{hidden: tanh, output: tanh, cost: cross-entropy, result: FAIL}"
out=$("$mlplab" plan experiments/gc.yaml train.epochs=5 2>&1)
status=$?
check "plan of a gradcheck study exits 0 (run overrides ignored)" test $status -eq 0
check "plan says it is a gradient check of 9 combinations" \
    test "$(count_lines 'gc: a gradient-check study with 9 combinations' "$out")" -eq 1
check "its study.yaml has gradcheck: and no runs" \
    test "$(grep -c -e '^gradcheck:$' -e '^runs: \[\]$' results/gc/study.yaml)" -eq 2
check "no configs are planned" test "$(find results/gc/configs -type f | wc -l)" -eq 0
out=$(run_make_study gc 2>&1)
status=$?
check "make -f its runs.mk succeeds, running nothing" \
    test $status -eq 0 -a "$(count_lines '^\[' "$out")" -eq 0
out=$("$mlplab" table results/gc 2>"$work/table.err")
status=$?
check "table of a gradcheck study exits 0 when every result is as expected" test $status -eq 0
check "table.md has the heading, the description and the matrix" \
    test "$(grep -c -e '^# gc$' -e '^ReLU + cross-entropy, small$' \
            -e '^| relu | relu | cross-entropy | no | .* | FAIL | FAIL |$' \
            -e '^| relu | softmax | log-likelihood | yes | .* | PASS | PASS |$' \
            -e '^Every result is as expected' results/gc/table.md)" -eq 5
check "table.csv and table.tex are written" \
    test "$(grep -c '^relu,relu,cross-entropy,no,.*,FAIL,FAIL$' results/gc/table.csv)" -eq 1 -a \
    "$(grep -c 'toprule' results/gc/table.tex)" -eq 1
check "table prints the Markdown" test "$(count_lines '^| hidden | output |' "$out")" -eq 1
cp results/gc/table.md "$work/table-1.md"
"$mlplab" table results/gc >/dev/null 2>&1
check "a second table is byte-identical" cmp -s results/gc/table.md "$work/table-1.md"

write_gradcheck_study gc-wrong "{hidden: relu, output: relu, cost: cross-entropy, result: FAIL}"
"$mlplab" plan experiments/gc-wrong.yaml >/dev/null 2>&1
out=$("$mlplab" table results/gc-wrong 2>&1 >/dev/null)
status=$?
check "a result not as expected exits 5" test $status -eq 5
check "... says so on stderr" test "$(count_lines 'not as the study expects' "$out")" -eq 1
check "... and still writes the tables" \
    test "$(grep -c '^\*\*Not as expected:\*\* 1 of 9 combinations: hidden tanh, output tanh, cost cross-entropy gave FAIL, expected PASS' results/gc-wrong/table.md)" -eq 1 -a \
    -f results/gc-wrong/table.csv -a -f results/gc-wrong/table.tex

out=$("$mlplab" check results/gc-wrong 2>&1)
status=$?
check "mlplab check of the same study exits 5 (exit $status), naming the combination" \
    test "$status" -eq 5 -a \
    "$(count_lines '^FAIL gc-wrong: tanh hidden, tanh output, cross-entropy: FAIL, expected PASS' "$out")" -eq 1 -a \
    "$(count_lines '^check: 8 ok, 1 failed, 0 skipped$' "$out")" -eq 1
out=$("$mlplab" check results/gc 2>&1)
status=$?
check "mlplab check of the study as expected exits 0 with 9 ok (exit $status)" \
    test "$status" -eq 0 -a "$(count_lines '^check: 9 ok, 0 failed, 0 skipped$' "$out")" -eq 1

{ cat experiments/gc.yaml; echo "seeds: 3"; } >experiments/gc-seeds.yaml
out=$("$mlplab" plan experiments/gc-seeds.yaml 2>&1)
status=$?
check "gradcheck with seeds fails with status 3 at file:line:column" \
    test $status -eq 3 -a \
    "$(count_lines 'experiments/gc-seeds.yaml:8:1: a gradcheck study trains nothing' "$out")" -eq 1

out=$(MLPLAB="$mlplab" "$run_one" missing.yaml out.h5 tiny x 1 1 1 2>&1)
status=$?
check "run-one.sh passes a failure on" test $status -ne 0 -a "$(count_lines 'FAILED' "$out")" -eq 1

# A launcher (srun, say) killed by SIGTERM: the run was interrupted, not failed.
printf '#!/bin/sh\nkill -TERM $$\n' >"$work/killed-launcher.sh"
printf '#!/bin/sh\nkill -SEGV $$\n' >"$work/crashed-launcher.sh"
chmod +x "$work/killed-launcher.sh" "$work/crashed-launcher.sh"
out=$(MLPLAB="$mlplab" LAUNCH="$work/killed-launcher.sh" "$run_one" "$config" out.h5 tiny x 1 1 1 2>&1)
status=$?
check "run-one.sh says a launcher killed by SIGTERM interrupted the run, and exits 130 (exit $status)" \
    test $status -eq 130 -a "$(count_lines 'interrupted (SIGTERM): make again to resume' "$out")" -eq 1 \
    -a "$(count_lines 'FAILED' "$out")" -eq 0
out=$(MLPLAB="$mlplab" LAUNCH="$work/crashed-launcher.sh" "$run_one" "$config" out.h5 tiny x 1 1 1 2>&1)
status=$?
check "  ... and one killed by SIGSEGV failed it, exit 1 (exit $status)" \
    test $status -eq 1 -a "$(count_lines 'FAILED (killed by signal SEGV, exit 139)' "$out")" -eq 1

# The same figure drawn in two checkouts at different paths: the same PDF bytes
# (ghostscript's /ID would otherwise come from the output's absolute path);
# with a relative TMPDIR, which gs, run in the figures' directory, also uses.
for dir in "$work/checkout" "$work/another/checkout-path"; do
    mkdir -p "$dir/experiments" "$dir/tmp"
    {
        echo 'dataset:'
        echo '  inline: {inputs: [[0, 0], [0, 1], [1, 0], [1, 1]], targets: [[0], [1], [1], [0]]}'
        echo 'network: {sizes: [2, 3, 1]}'
        echo 'train: {epochs: 2, batch_size: 2}'
        echo 'report: {figures: [{plot: metric-vs-epoch, metric: train_cost}]}'
    } >"$dir/experiments/fig.yaml"
    (cd "$dir" && "$mlplab" plan experiments/fig.yaml >/dev/null &&
        run_make_study fig >/dev/null 2>&1 && TMPDIR=tmp "$repo/scripts/figures.sh" results/fig "$mlplab") \
        >/dev/null 2>"$dir/figures.err"
done
check "a figure's PDFs are byte-identical when built under two different directories" \
    bash -c 'cd "$1/results/fig/figures" && ls train_cost.pdf latex/train_cost.pdf >/dev/null &&
             for f in train_cost.pdf latex/train_cost.pdf; do cmp "$f" "$2/results/fig/figures/$f" || exit 1; done' \
    _ "$work/checkout" "$work/another/checkout-path"

suite_end
