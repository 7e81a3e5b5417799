#!/bin/sh
# run-one.sh [--fresh] CONFIG OUT NAME LABEL SEED K N — one run of a study, as
# the rules of a generated runs.mk call it (see `mlplab plan`, docs/studies.md).
#
# Runs `$LAUNCH $MLPLAB run CONFIG --out OUT --quiet` (LAUNCH is empty, or e.g.
# "srun -n1 -c1" on a cluster; MLPLAB defaults to bin/mlplab) and prints one
# line when it ends:
#   [K/N] NAME LABEL seed=SEED  test_accuracy=0.9549 (12.3 s)
# The exit status is mlplab's: non-zero fails the make target, 130 means it was
# interrupted (the run resumes from OUT.partial next time).
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

# LAUNCH is split into words on purpose ("srun -n1 -c1").
# shellcheck disable=SC2086
summary=$(${LAUNCH:-} "$mlplab" run "$config" --out "$out" --quiet $fresh)
status=$?
if [ "$status" -ne 0 ]; then
    if [ "$status" -eq 130 ]; then
        echo "[$k/$n] $name $label seed=$seed  interrupted: make again to resume" >&2
    else
        echo "[$k/$n] $name $label seed=$seed  FAILED (exit $status): $config" >&2
    fi
    exit "$status"
fi
# The summary line reads "ID  epochs=E  test_accuracy=A  validation_accuracy=V  (S s)  PATH".
accuracy=$(printf '%s\n' "$summary" | sed -n 's/.*\(test_accuracy=[^ ]*\).*/\1/p' | tail -n 1)
seconds=$(printf '%s\n' "$summary" | sed -n 's/.*\(([0-9.]* s)\).*/\1/p' | tail -n 1)
echo "[$k/$n] $name $label seed=$seed  ${accuracy:-done} ${seconds}"
