#!/usr/bin/env bash
# e2e-kill.sh MLPLAB — the torture test of "a killed run loses at most the
# epoch in progress": a small run (inline data, a weight snapshot every few
# epochs, so most of its time is HDF5 writes) is killed with SIGKILL at 50
# random moments, from process start (HDF5 creating the file) to the last
# epoch; after every kill
#   - nothing is named RUN.h5 unless it is the complete, right run;
#   - the next attempt completes, byte-identical (metrics but seconds, all
#     weights, custom metrics) to an uninterrupted run.
# Then SIGTERM twice in a row, 3 times (Slurm may signal twice): the run stops after
# its epoch (exit 130) and resumes to the same bytes.
# The moments come from a fixed seed (RANDOM=11); where they land depends on
# the machine, so the test also requires that a good part of them (20 of 50) hit
# a run in progress.
# Prints one line per check, ends with "e2e-kill: N passed, M failed".
set -uo pipefail

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
suite_usage 1 "PATH/TO/mlplab" "$@"
mlplab=$(absolute "$1")
suite_begin e2e-kill

cat >"$work/run.yaml" <<'EOF'
experiment: torture
dataset:
  inline:
    inputs: [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.5, 0.2], [0.1, 0.9]]
    targets: [[0.0], [1.0], [1.0], [0.0], [1.0], [0.0]]
network: {sizes: [2, 4, 1], activation: tanh, output: sigmoid}
cost: cross-entropy
init: scaled
seed: 7
train: {epochs: 40, batch_size: 2, learning_rate: 0.5}
save_weights: 5
EOF

# Everything of a run file but the times: metrics without seconds (the 9th
# field of each row), every weight group, custom metrics, status.
run_text() {
    [ -f "$1" ] || return 1
    metrics_text "$1"
    h5dump -m %.17g -g /weights -g /custom_metrics -a /status "$1" | tail -n +2
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

"$mlplab" run "$work/run.yaml" --out "$work/ref.h5" --quiet >/dev/null
reference=$(run_text "$work/ref.h5")
check "the uninterrupted run completes" test -n "$reference"
start=$(now_ms)
"$mlplab" run "$work/run.yaml" --out "$work/timed.h5" --quiet >/dev/null
span=$(( ($(now_ms) - start) * 3 / 4 ))   # the last quarter is mostly finishing
[ "$span" -gt 0 ] || span=1

# The .partial a failing next attempt started from, kept for a replay:
#   cp build/e2e-kill/kill-N.partial X.h5.partial; mlplab run CONFIG --out X.h5
keep_killed() {
    [ -f "$work/killed.partial" ] || return 0
    mkdir -p "$repo/build/e2e-kill"
    cp "$work/killed.partial" "$repo/build/e2e-kill/kill-$1.partial"
    cp "$work/run.yaml" "$repo/build/e2e-kill/run.yaml"
    echo "       kept as build/e2e-kill/kill-$1.partial (config build/e2e-kill/run.yaml)"
}

RANDOM=11
out=$work/run.h5
in_progress=0 false_complete=0 not_identical=0 not_completed=0 afresh=0
for i in $(seq 50); do
    rm -f "$out" "$out.partial" "$out.failed" "$work/killed.partial"
    delay_ms=$((RANDOM % span))
    "$mlplab" run "$work/run.yaml" --out "$out" --quiet >/dev/null 2>&1 &
    pid=$!
    sleep "$(awk -v ms="$delay_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    # Killed before completing: only .partial (or nothing). Complete: the right run.
    if [ -f "$out" ]; then
        [ "$(run_text "$out")" = "$reference" ] || false_complete=$((false_complete + 1))
    else
        in_progress=$((in_progress + 1))
    fi
    # Kept until the next attempt is known good: a failure can then be
    # replayed (cp it back to run.h5.partial, then mlplab run).
    [ -f "$out.partial" ] && cp "$out.partial" "$work/killed.partial"
    # HDF5 complaining at exit (in the release build, where no sanitizer
    # turns its leak into a failure) is a failure too.
    if ! "$mlplab" run "$work/run.yaml" --out "$out" --quiet >/dev/null 2>"$work/resume.err" ||
        grep -q 'HDF5: infinite loop\|HDF5-DIAG' "$work/resume.err"; then
        not_completed=$((not_completed + 1))
        keep_killed "$i"
        echo "       kill $i after ${delay_ms} ms: the next attempt failed: $(tr -d '\0' <"$work/resume.err" | head -1)"
    elif [ "$(run_text "$out")" != "$reference" ]; then
        not_identical=$((not_identical + 1))
        keep_killed "$i"
        echo "       kill $i after ${delay_ms} ms: the next attempt differs from the uninterrupted run"
    elif grep -q 'starting the run afresh' "$work/resume.err"; then
        afresh=$((afresh + 1))
    fi
done
check "50 kill -9: no file named complete that is not the complete run" test "$false_complete" -eq 0
check "50 kill -9: every next attempt completes" test "$not_completed" -eq 0
check "50 kill -9: every next attempt is byte-identical to the uninterrupted run" test "$not_identical" -eq 0
check "kills that hit a run in progress: $in_progress of 50 (at least 20; $afresh of them left no checkpoint to resume from)" \
    test "$in_progress" -ge 20

# Two SIGTERMs in a row: the second must not cut the checkpoint short. The run
# is long (about 2 s) so that the signals, sent within 0.1 s of the file
# appearing, always find it running: at 100 epochs it sometimes finished first
# and exited 0.
long="train.epochs=1000 save_weights=final"
double_term_ok=0
for i in $(seq 3); do
    rm -f "$out" "$out.partial"
    "$mlplab" run "$work/run.yaml" $long --out "$out" --quiet >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 1000); do [ -f "$out.partial" ] && break; sleep 0.02; done   # bounded: 20 s
    sleep "0.0$((RANDOM % 10))"
    kill -TERM "$pid" 2>/dev/null
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"
    [ $? -eq 130 ] && double_term_ok=$((double_term_ok + 1))
    "$mlplab" run "$work/run.yaml" $long --out "$out" --quiet >/dev/null 2>&1
    run_text "$out" >"$work/double-$i.txt"
done
"$mlplab" run "$work/run.yaml" $long --out "$work/long-ref.h5" --quiet >/dev/null
run_text "$work/long-ref.h5" >"$work/long-ref.txt"
check "SIGTERM twice: the run stops after its epoch (exit 130), 3 of 3" test "$double_term_ok" -eq 3
same_as_long_ref() {
    local f
    for f in "$work"/double-*.txt; do cmp -s "$f" "$work/long-ref.txt" || return 1; done
    [ "$(ls "$work"/double-*.txt | wc -l)" -eq 3 ]
}
check "  ... and resumes to the same bytes as an uninterrupted run" same_as_long_ref

suite_end
