#!/usr/bin/env bash
# slurm-task.sh RUNS_MK SHARDS OFFSET CPUS — one task of a `make submit` job
# array (scripts/slurm-submit.sh writes the sbatch line): makes the run files
# on line OFFSET + SLURM_ARRAY_TASK_ID + 1 of SHARDS through the study's
# runs.mk, CPUS at a time, keeping on past a failing run (-k) so one bad run
# costs only itself.
#
# Signals: Slurm's SIGTERM (time limit, --signal=B:TERM@N, scancel,
# preemption, scontrol requeue) reaches this shell; it is passed to make's
# whole process group, so each mlplab finishes its epoch, keeps its
# .partial and exits 130. make never deletes a complete run file (runs.mk
# marks them .PRECIOUS). A requeued task starts this script again and make
# resumes the partial runs and skips the complete ones.
set -uo pipefail

if [ $# -ne 4 ] || [ -z "${SLURM_ARRAY_TASK_ID:-}" ]; then
    echo "usage: slurm-task.sh RUNS_MK SHARDS OFFSET CPUS (as a Slurm array task)" >&2
    exit 2
fi
runs_mk=$1 shards=$2 offset=$3 cpus=$4
line=$((offset + SLURM_ARRAY_TASK_ID + 1))
targets=$(sed -n "${line}p" "$shards")
if [ -z "$targets" ]; then
    echo "slurm-task.sh: $shards has no line $line" >&2
    exit 2
fi
echo "slurm-task.sh: job ${SLURM_JOB_ID:-?} (array ${SLURM_ARRAY_JOB_ID:-?} task $SLURM_ARRAY_TASK_ID," \
     "restart ${SLURM_RESTART_COUNT:-0}) on $(hostname): $targets"

# make in its own process group, so one kill reaches every run of the task.
set -m
# shellcheck disable=SC2086  # targets are file names without spaces (run ids)
make --no-print-directory -k -j"$cpus" -f "$runs_mk" $targets &
make_pid=$!
trap 'kill -TERM -- -"$make_pid" 2>/dev/null' TERM INT
status=0
while :; do
    wait "$make_pid"
    status=$?
    # wait returns early (> 128) when a trapped signal arrives; make may still run.
    kill -0 "$make_pid" 2>/dev/null || break
done
echo "slurm-task.sh: make exited with $status"
exit "$status"
