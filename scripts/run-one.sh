#!/bin/sh
# run-one.sh [--fresh] CONFIG OUT NAME LABEL SEED K N — one run of a study, as
# the rules of a generated runs.mk call it (see `mlplab plan`, docs/studies.md).
#
# Runs `$LAUNCH $MLPLAB run CONFIG --out OUT --quiet --tsv` (LAUNCH is empty, or
# e.g. "srun -n1 -c1" on a cluster; MLPLAB defaults to bin/mlplab) and prints
# one line when it ends:
#   [K/N] NAME LABEL seed=SEED  test_accuracy=0.9549 (12.3 s)
# The exit status is mlplab's: non-zero fails the make target, 130 means it was
# interrupted (the run resumes from OUT.partial next time), also when mlplab or
# the launcher was killed by a stop signal (TERM, HUP, INT, USR1, USR2, KILL);
# killed by any other signal (a crash) is 1.
set -u

fresh=
if [ "${1:-}" = "--fresh" ]; then
    fresh=--fresh
    shift
fi
if [ $# -ne 7 ]; then
    echo "usage: run-one.sh [--fresh] CONFIG OUT NAME LABEL SEED K N" >&2
    exit 2
fi
config=$1 out=$2 name=$3 label=$4 seed=$5 k=$6 n=$7
mlplab=${MLPLAB:-bin/mlplab}

# mlplab runs in the background so that this script can pass on the signals
# that stop a run: make sends SIGTERM to its children only (this script), and
# mlplab, a grandchild, would otherwise train on after make is gone. SIGINT is
# not passed on: Ctrl-C reaches the whole process group, mlplab included, and
# a second SIGINT stops mlplab at once.
summary_file=$(mktemp "${TMPDIR:-/tmp}/mlplab-run-one.XXXXXX") || exit 1
trap 'rm -f "$summary_file"' EXIT
# LAUNCH is split into words on purpose ("srun -n1 -c1").
# shellcheck disable=SC2086
${LAUNCH:-} "$mlplab" run "$config" --out "$out" --quiet --tsv $fresh >"$summary_file" &
child=$!
for signal in TERM HUP USR1 USR2; do
    # shellcheck disable=SC2064
    trap "kill -$signal $child 2>/dev/null" "$signal"
done
# wait returns early (above 128) when a trapped signal arrives: wait again
# until mlplab is gone. If the shell had already collected it, a last wait
# gives its status again, or 127 when the one before was that status.
while :; do
    wait "$child"
    status=$?
    kill -0 "$child" 2>/dev/null && continue
    wait "$child" 2>/dev/null
    last=$?
    [ "$last" -ne 127 ] && status=$last
    break
done
summary=$(cat "$summary_file")
# 128 + N: mlplab, or the launcher in front of it (srun), was killed by signal
# N before it could stop cleanly with 130. A stop signal is an interruption:
# the run resumes from its checkpoint, and the status is 130, as README's exit
# codes have it. Any other signal (SEGV, ABRT, ...) is a crash: a failed run, 1.
if [ "$status" -gt 128 ] && [ "$status" -ne 130 ]; then
    signal=$(kill -l "$status" 2>/dev/null) || signal=$((status - 128))
    case "$signal" in
    INT | TERM | HUP | USR1 | USR2 | KILL)
        echo "[$k/$n] $name $label seed=$seed  interrupted (SIG$signal):" \
             "make again to resume" >&2
        exit 130 ;;
    *)
        echo "[$k/$n] $name $label seed=$seed  FAILED (killed by signal $signal, exit $status):" \
             "$config" >&2
        exit 1 ;;
    esac
fi
if [ "$status" -ne 0 ]; then
    if [ "$status" -eq 130 ]; then
        echo "[$k/$n] $name $label seed=$seed  interrupted: make again to resume" >&2
    else
        echo "[$k/$n] $name $label seed=$seed  FAILED (exit $status): $config" >&2
    fi
    exit "$status"
fi
# --tsv: RUN_ID EPOCHS TEST_ACCURACY VALIDATION_ACCURACY SECONDS PATH, tab-separated.
tab=$(printf '\t')
IFS=$tab read -r _ _ accuracy _ seconds _ <<LINE
$(printf '%s\n' "$summary" | tail -n 1)
LINE
if [ -n "${accuracy:-}" ] && [ -n "${seconds:-}" ]; then
    LC_ALL=C printf '[%s/%s] %s %s seed=%s  test_accuracy=%.4f (%.1f s)\n' "$k" "$n" "$name" "$label" \
        "$seed" "$accuracy" "$seconds"
else
    echo "[$k/$n] $name $label seed=$seed  done"
fi
