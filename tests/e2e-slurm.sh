#!/usr/bin/env bash
# e2e-slurm.sh MLPLAB — mlplab on a real Slurm: starts a local single-node
# Slurm (tests/slurm/local-slurm.sh, stopped on exit whatever happens) and checks
#   - the local Slurm itself: srun, an array of MaxArraySize tasks;
# The test waits for jobs itself, always with a bounded timeout (never
# `make submit`, which returns at once). Prints one line per check and ends
# with "e2e-slurm: N passed, M failed"; exits non-zero if any check failed.
set -uo pipefail

if [ $# -ne 1 ]; then
    echo "usage: tests/e2e-slurm.sh PATH/TO/mlplab" >&2
    exit 2
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
mlplab=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
# shellcheck source=tests/lib.sh
. "$repo/tests/lib.sh"
suite_begin e2e-slurm
chmod 755 "$work"
cleanup() {
    "$repo/tests/slurm/local-slurm.sh" stop "$work/slurm" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
finish() {
    suite_end
    exit
}

if ! settings=$(MAX_ARRAY_SIZE=4 "$repo/tests/slurm/local-slurm.sh" start "$work/slurm"); then
    fail "the local Slurm starts"
    finish
fi
eval "$settings"
export SLURM_CONF

# wait_jobs SECONDS JOBID...: until squeue lists none of them (bounded).
wait_jobs() {
    local limit=$1 i
    shift
    local ids
    ids=$(IFS=,; echo "$*")
    for i in $(seq $((limit * 5))); do
        [ -z "$(squeue -h -j "$ids" -o %i 2>/dev/null)" ] && return 0
        sleep 0.2
    done
    echo "       jobs $ids still queued after $limit s:" >&2
    squeue -a >&2
    return 1
}

# ---- the local Slurm ----------------------------------------------------------

check "srun runs a step" test "$(srun -n1 -t 1 echo hello 2>&1)" = hello
job=$(sbatch --parsable --array=0-3 -o "$work/array-%a.out" --wrap 'echo "task $SLURM_ARRAY_TASK_ID"')
check "an array of MaxArraySize tasks runs to the end" wait_jobs 60 "$job"
check "every array task wrote its output" \
    test "$(cat "$work"/array-*.out 2>/dev/null | sort | tr '\n' ' ')" = "task 0 task 1 task 2 task 3 "
check "MaxArraySize is the small one the tests asked for" \
    test "$(scontrol show config | awk '$1 == "MaxArraySize" { print $3 }')" = 4
check "an array beyond MaxArraySize is refused" \
    bash -c '! sbatch --array=0-4 --wrap true 2>/dev/null'

finish
