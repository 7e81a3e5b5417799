#!/bin/sh
# run-one.sh [--fresh] CONFIG OUT NAME LABEL SEED K N — one run of a study, as
# the rules of a generated runs.mk call it (see `mlplab plan`, docs/studies.md).
#
# Runs `$LAUNCH $MLPLAB run CONFIG --out OUT --quiet --tsv` (LAUNCH is empty, or
# e.g. "srun -n1 -c1" on a cluster; MLPLAB defaults to bin/mlplab) and prints
# one line when it ends:
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
summary=$(${LAUNCH:-} "$mlplab" run "$config" --out "$out" --quiet --tsv $fresh)
status=$?
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
