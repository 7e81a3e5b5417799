#!/usr/bin/env bash
# e2e-studies.sh MLPLAB — the promises of `make experiments`, checked through
# the real Makefile on a small MNIST study (configs/mnist-tiny.yaml):
#   - make -j2 gives the same run files as make -j1;
#   - Ctrl-C (SIGINT to the whole make), kill -9, and SIGTERM to make alone in
#     the middle of a study (no run trains on after make is gone), then make
#     again, give run files bit-identical to an uninterrupted study,
#     including runs steered by a Lua hook (halve-on-plateau);
#   - deleting the tables, figures and report and running `make tables plots
#     report` brings them back byte-identical, without training;
#   - a new label or description re-runs nothing and reaches the table;
#   - every shipped study runs on the quick profile through to the report,
#     whose REPORT.html headless Chromium opens with every figure loaded and
#     whose tables and LaTeX figures pdflatex compiles, and
#     passes `make check-reproduction QUICK=1` (the fast claims: saturation and
#     the gradient-check matrix),
#     and a claim that does not hold fails it.
# Needs MNIST (make data). Prints one line per check and ends with
# "e2e-studies: N passed, M failed"; exits non-zero if any check failed.
set -uo pipefail

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
suite_usage 1 "PATH/TO/mlplab" "$@"
mlplab=$(absolute "$1")
suite_begin e2e-studies

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
# one value that does not reproduce), custom metrics, final weights, status.
study_text() {
    local f
    for f in "$1"/tiny/runs/*.h5; do
        echo "== $(basename "$f")"
        metrics_text "$f"
        h5dump -m %.17g -g /custom_metrics -g /weights/final -a /status "$f" | tail -n +2
    done
}
run_count() { find "$1/tiny/runs" -name '*.h5' 2>/dev/null | wc -l; }
partial_count() { find "$1/tiny/runs" -name '*.h5.partial' 2>/dev/null | wc -l; }

# Starts the study with -j2 in its own process group (its id in $pid; the
# shell's own child, so that `wait` works) and returns once some run has a
# checkpoint of epoch 2 to 5 of its 8, so the signal lands mid-run, not after
# it; returns 1 if none comes.
start_and_wait() {
    local results=$1 i f e
    setsid make --no-print-directory -C "$repo" experiments-runs STUDIES=tiny \
        EXPERIMENTS_DIR="$work/experiments" RESULTS="$results" MLPLAB="$mlplab" -j2 \
        >"$results.log" 2>&1 &
    pid=$!
    for i in $(seq 1 2400); do
        for f in "$results"/tiny/runs/*.h5.partial; do
            [ -f "$f" ] || continue
            e=$(checkpoint_epoch "$f")
            if [ -n "$e" ] && [ "$e" -ge 2 ] && [ "$e" -le 5 ]; then
                return 0
            fi
        done
        sleep 0.05
    done
    return 1
}

# keep_partials RESULTS: saves, for every .partial run with a checkpoint, the
# metrics rows up to the checkpoint, every column (seconds included), as
# RESULTS.kept/ID.rows; prints how many of them have trained epochs.
keep_partials() {
    local results=$1 f e id trained=0
    mkdir -p "$results.kept"
    for f in "$results"/tiny/runs/*.h5.partial; do
        [ -f "$f" ] || continue
        e=$(checkpoint_epoch "$f")
        [ -n "$e" ] || continue
        id=$(basename "$f" .h5.partial)
        echo "$e" >"$results.kept/$id.epoch"
        metrics_rows "$f" $((e + 1)) >"$results.kept/$id.rows"
        [ "$e" -ge 1 ] && trained=$((trained + 1))
    done
    echo "$trained"
}

# kept_rows_survive RESULTS: every saved set of rows is the start of the
# completed run file, unchanged (so the make that resumed trained only the
# epochs after each checkpoint: a retrained epoch would have new seconds).
kept_rows_survive() {
    local results=$1 rows id e n=0
    for rows in "$results.kept"/*.rows; do
        [ -f "$rows" ] || continue
        id=$(basename "$rows" .rows)
        e=$(cat "$results.kept/$id.epoch")
        same_text "$(cat "$rows")" "$(metrics_rows "$results/tiny/runs/$id.h5" $((e + 1)))" || return 1
        n=$((n + 1))
    done
    [ "$n" -ge 1 ]
}

# interrupt_and_resume SIGNAL NAME [make]: the study stopped by SIGNAL sent to
# the whole make (with "make": to the make process alone, which passes SIGTERM
# to its children only), then make again: the run files must come out as the
# uninterrupted study's, and the stopped runs' checkpointed epochs kept as they were.
interrupt_and_resume() {
    local signal=$1 name=$2 to=${3:-group} results status trained
    results=$work/stopped-by-$signal-$to
    start_and_wait "$results"
    check "$name: some run had a checkpoint of epoch 2..5 before the signal" [ $? -eq 0 ]
    if [ "$to" = make ]; then
        kill "-$signal" "$pid" 2>/dev/null
    else
        kill "-$signal" -- "-$pid" 2>/dev/null
    fi
    { wait "$pid"; } 2>/dev/null
    status=$?
    check "$name: make stops with a failure status (exit $status)" [ "$status" -ne 0 ]
    sleep 1
    check "$name: no run trains on after make is gone" \
        bash -c '! pgrep -f -- "--out $1/" >/dev/null' _ "$results"
    check "$name: the stopped runs are left as .partial" [ "$(partial_count "$results")" -ge 1 ]
    trained=$(keep_partials "$results")
    check "$name: at least one .partial has trained epochs to keep ($trained)" [ "$trained" -ge 1 ]
    make_in "$results" experiments-runs -j2 >/dev/null 2>&1
    status=$?
    check "$name: make again completes the study (exit $status, 6 runs)" \
        test "$status" -eq 0 -a "$(run_count "$results")" -eq 6
    check "$name: every resumed run kept its checkpointed rows, seconds included" \
        kept_rows_survive "$results"
    check "$name: resumed study is bit-identical to the uninterrupted one" \
        same_text "$reference" "$(study_text "$results")"
}

# --- -j1 and -j2 ----------------------------------------------------------
make_in "$work/j1" experiments-runs -j1 >/dev/null 2>&1
status=$?
check "make -j1 finishes the study (exit $status, 6 runs)" test "$status" -eq 0 -a "$(run_count "$work/j1")" -eq 6
make_in "$work/j2" experiments-runs -j2 >/dev/null 2>&1
status=$?
check "make -j2 finishes the study (exit $status, 6 runs)" test "$status" -eq 0 -a "$(run_count "$work/j2")" -eq 6
reference=$(study_text "$work/j1")
check "-j2 gives the same run files as -j1" same_text "$reference" "$(study_text "$work/j2")"
"$mlplab" series "$work/j1/tiny" --metric learning_rate --label halving --out "$work/rates.dat" \
    >/dev/null
check "halve-on-plateau steered the hooked runs (their rate fell below 3.0)" \
    awk '/^[0-9]/ && $2 < 3 { found = 1 } END { exit !found }' "$work/rates.dat"

# --- Ctrl-C and kill -9 in the middle of the study, then make again ----------
interrupt_and_resume INT "Ctrl-C"
interrupt_and_resume KILL "kill -9"
interrupt_and_resume TERM "SIGTERM to make" make

# --- tables, figures and report regenerate identically ----------------------
outputs() {   # checksums of everything the report stage writes
    (cd "$work/j1" && find . -path ./tiny/runs -prune -o -path ./tiny/configs -prune -o \
        -type f ! -name runs.mk ! -name study.yaml -print | sort | xargs sha256sum)
}
make_in "$work/j1" tables plots report >/dev/null 2>&1
status=$?
first=$(outputs)
check "the report stage succeeds (exit $status) and writes a table, PDF figures and REPORT.md" \
    bash -c '[ "$2" -eq 0 ] && grep -q "table.md" <<<"$1" && grep -q "figures/.*\.pdf" <<<"$1" && grep -q "REPORT.md" <<<"$1"' _ "$first" "$status"
runs_before=$(stat -c '%n %.9Y' "$work/j1"/tiny/runs/*.h5)
rm -rf "$work/j1/tiny/table."* "$work/j1/tiny/figures" "$work/j1/tiny/series" "$work/j1/REPORT.md"
make_in "$work/j1" tables plots report >/dev/null 2>&1
status=$?
check "deleted tables, figures and report come back byte-identical (exit $status)" \
    eval '[ "$status" -eq 0 ] && same_text "$first" "$(outputs)"'
check "regenerating trained nothing (run files untouched)" \
    same_text "$runs_before" "$(stat -c '%n %.9Y' "$work/j1"/tiny/runs/*.h5)"

# --- a new label or description re-runs nothing -------------------------------
sed -i -e 's/label: "constant 0.5"/label: "constant, η = 0.5"/' \
    -e 's/^description: .*/description: "e2e-studies: reworded"/' "$work/experiments/tiny.yaml"
make_in "$work/j1" experiments-runs tables >/dev/null 2>&1
status=$?
check "a relabelled case: make succeeds (exit $status) and re-runs nothing" \
    eval '[ "$status" -eq 0 ] && same_text "$runs_before" "$(stat -c "%n %.9Y" "$work"/j1/tiny/runs/*.h5)"'
check "  ... and its table shows the new label and description" \
    bash -c 'grep -q "^| constant, η = 0.5 | 2 |" "$1" && grep -q "reworded" "$1"' _ "$work/j1/tiny/table.md"

# --- the quick reproduction check --------------------------------------------
quick() {
    make --no-print-directory -C "$repo" "$@" QUICK=1 RESULTS="$work/quick" MLPLAB="$mlplab"
}
# Every shipped study on the quick profile, through to the report, as `make
# experiments` does it: each study's table and figures as soon as its runs are
# done, two jobs at a time, then the report.
quick experiments-after-runs -j2 >/dev/null 2>&1
status=$?
check "every study in experiments/ runs on the quick profile, then its table, figures and the report (make -j2, exit $status)" [ "$status" -eq 0 ]
# report_complete: REPORT.md has a section per study, each study a table.md,
# and every figure REPORT.md links to is a file that was drawn.
report_complete() {
    local f name link missing=0
    for f in "$repo"/experiments/*.yaml; do
        name=$(basename "$f" .yaml)
        grep -qx "## $name" "$work/quick/REPORT.md" && [ -s "$work/quick/$name/table.md" ] || missing=1
    done
    while read -r link; do
        [ -s "$work/quick/$link" ] || missing=1
    done < <(sed -n 's/^!\[[^]]*\](\([^)]*\))$/\1/p' "$work/quick/REPORT.md")
    [ "$missing" -eq 0 ] && grep -q '^!\[' "$work/quick/REPORT.md"
}
check "  ... REPORT.md has every study, its table and figures that exist" report_complete
# REPORT.html in a real browser: one section per study, every figure loaded.
studies=$(ls "$repo"/experiments/*.yaml | wc -l)
check "  ... and REPORT.html opens in headless Chromium: $studies sections, every figure loaded" \
    bash -c '"$1" "$2" "$3" >"$4" 2>&1 || { cat "$4"; false; }' _ "$repo/tests/report-html-test.sh" \
    "$work/quick/REPORT.html" "$studies" "$work/report-html.log"
# Every table.tex and LaTeX figure \input's into a document pdflatex compiles.
check "  ... and every study's table.tex and LaTeX figures compile with pdflatex" \
    bash -c '"$1" "$2" >"$3" 2>&1 || { cat "$3"; false; }' _ "$repo/tests/latex-test.sh" \
    "$work/quick" "$work/latex.log"
out=$(quick check-reproduction 2>&1)
status=$?
check "make check-reproduction QUICK=1 passes (exit $status)" \
    [ "$status" -eq 0 ]
check "  ... and checked the plateau claim" \
    grep -q 'ok   saturation: quadratic, start (2, 2): first_epoch_below' <<<"$out"
# How long the quadratic neuron's plateau from (2, 2) lasts, derived here from
# its recurrence rather than read from the program: input 1, target 0, η = 0.15,
# w, b ← w, b − η (a − y) σ'(z); the first epoch whose output σ(w + b) is below 0.5.
plateau=$(awk 'BEGIN { w = 2; b = 2
    for (e = 0; e <= 300; e++) { a = 1 / (1 + exp(-(w + b))); if (a < 0.5) { print e; exit }
                                 d = a * a * (1 - a); w -= 0.15 * d; b -= 0.15 * d } }')
check "the plateau from (2, 2) ends at epoch $plateau by the recurrence (over 150, as Nielsen says)" \
    test "${plateau:-0}" -gt 150
# A claim that does not hold: the plateau is shorter than 250 epochs.
sed -e 's/metric: first_epoch_below, min: 150}/metric: first_epoch_below, min: 250}/' \
    -e "s|\.\./lua/|$repo/lua/|" \
    "$repo/experiments/saturation.yaml" >"$work/experiments/saturation.yaml"
"$mlplab" plan "$work/experiments/saturation.yaml" --results "$work/wrong" >/dev/null 2>&1
mkdir -p "$work/wrong/saturation/runs"
cp "$work/quick/saturation/runs/"*.h5 "$work/wrong/saturation/runs/"
out=$("$mlplab" check "$work/wrong/saturation" 2>&1)
status=$?
check "a claim that does not hold fails the check with exit 5 (got $status)" [ "$status" -eq 5 ]
check "  ... naming the claim and the plateau's true length" \
    grep -q "FAIL saturation: quadratic, start (2, 2): first_epoch_below $plateau .*expected >= 250" <<<"$out"

# Published figures on the full profile (the quick one skips them): the
# saturation study with references added, its quick run files (the same runs)
# copied in, through `make check-reproduction`. A figure within the tolerance
# passes, one outside fails with exit 5, an exempt one is skipped with its reason.
published() {   # published VALUE: check saturation against a published plateau of VALUE epochs
    sed -e "s|\.\./lua/|$repo/lua/|" "$repo/experiments/saturation.yaml" >"$work/experiments/saturation.yaml"
    printf '%s\n' \
        '    tolerance: 0.5' \
        '    exempt:' \
        '      - {label: "cross-entropy at η = 0.15, start (2, 2)", reason: "e2e: exempt, so not checked"}' \
        'reference:' \
        "  - {label: \"quadratic, start (2, 2)\", first_epoch_below: $1, source: \"e2e-studies.sh\"}" \
        '  - {label: "cross-entropy at η = 0.15, start (2, 2)", first_epoch_below: 1000}' \
        >>"$work/experiments/saturation.yaml"
    rm -rf "$work/published"
    "$mlplab" plan "$work/experiments/saturation.yaml" --results "$work/published" >/dev/null 2>&1
    mkdir -p "$work/published/saturation/runs"
    cp "$work/quick/saturation/runs/"*.h5 "$work/published/saturation/runs/"
    make --no-print-directory -C "$repo" check-reproduction STUDIES=saturation \
        EXPERIMENTS_DIR="$work/experiments" RESULTS="$work/published" MLPLAB="$mlplab" 2>&1
}
out=$(published "$plateau")
status=$?
check "make check-reproduction: a published figure within the tolerance passes (exit $status)" \
    eval 'test "$status" -eq 0 &&
          grep -qF "ok   saturation: quadratic, start (2, 2): first_epoch_below $plateau (mean of 1) vs published $plateau (e2e-studies.sh): difference +0.00, tolerance 0.50" <<<"$out"'
check "  ... an exempt one is skipped with its reason, and counted" \
    eval 'grep -qF "skip saturation: cross-entropy at η = 0.15, start (2, 2): published first_epoch_below 1000 not checked: e2e: exempt, so not checked" <<<"$out" &&
          grep -q "^check: 6 ok, 0 failed, 1 skipped$" <<<"$out"'
out=$(published $((plateau + 1)))
status=$?
check "  ... one just outside the tolerance fails (exit $status)" \
    eval 'test "$status" -ne 0 &&
          grep -qF "FAIL saturation: quadratic, start (2, 2): first_epoch_below $plateau (mean of 1) vs published $((plateau + 1)) (e2e-studies.sh): difference -1.00, tolerance 0.50" <<<"$out" &&
          grep -q "^check: 5 ok, 1 failed, 1 skipped$" <<<"$out"'
rm -f "$work/wrong/saturation/runs/"*.h5
out=$("$mlplab" check "$work/wrong/saturation" 2>&1)
check "a claim with no runs behind it fails" grep -q 'FAIL saturation: .*no complete run' <<<"$out"

# --- a mistake in report.check stops the plan at its line, with a hint ------
bad_check() {   # bad_check YAML-LINE: plan the saturation study with that check block
    sed -e "s|\.\./lua/|$repo/lua/|" -e '/^  check:$/,$d' "$repo/experiments/saturation.yaml" \
        >"$work/experiments/saturation.yaml"
    printf '  check:\n    %s\n' "$1" >>"$work/experiments/saturation.yaml"
    rm -rf "$work/bad"
    "$mlplab" plan "$work/experiments/saturation.yaml" --results "$work/bad" 2>&1 >/dev/null
}
out=$(bad_check 'tolerence: 0.01')
status=$?
check "a misspelt report.check key stops the plan with exit 3 (got $status)" [ "$status" -eq 3 ]
check "  ... before anything is written" [ ! -e "$work/bad/saturation" ]
check "  ... naming saturation.yaml:line:col and the key it meant" \
    grep -q "saturation.yaml:[0-9]*:[0-9]*: unknown key 'tolerence' in report.check; did you mean 'tolerance'?" <<<"$out"
out=$(bad_check 'expect: [{label: "quadratic, start (2, 2)", metric: train_output, of: median, max: 1}]')
status=$?
check "of: median is refused with the choices (exit $status)" \
    eval 'test "$status" -eq 3 && grep -q "report.check.expect.of must be mean, min or max, not '"'median'"'" <<<"$out"'
out=$(bad_check 'exempt: [{label: "quadratic, start (2, 2)"}]')
status=$?
check "an exemption without a reason is refused (exit $status)" \
    eval 'test "$status" -eq 3 && grep -q "an exemption needs a label and a reason" <<<"$out"'
out=$(bad_check 'expect: [{label: "no such case", metric: train_output, max: 1}]')
status=$?
check "an expectation for an unknown label is refused (exit $status)" \
    eval 'test "$status" -eq 3 && grep -q "no label '"'no such case'"'" <<<"$out"'

suite_end
