#!/usr/bin/env bash
# slurm-submit.sh RESULTS STUDY... — `make submit`: submit every planned run
# that is neither complete nor already queued as Slurm job arrays, plus one
# report job that runs after them (afterany), print the job ids, and return.
# Nothing waits, nothing polls sacct: the run files are the state (`mlplab
# status`), and Slurm is asked only `squeue` (what is queued) and
# `scontrol show config` (MaxArraySize). docs/cluster.md is the user's page.
#
# Per study RESULTS/NAME (planned already: study.yaml, runs.mk):
#   1. `mlplab status --runs` lists the runs and their states;
#   2. runs listed in a task of ours that squeue still shows (pending or
#      running) are left alone, and so are complete ones and runs a process is
#      writing now (status "running": a make elsewhere, say);
#   3. the rest is packed RUNS_PER_TASK to a task, written one task per line
#      to RESULTS/NAME/slurm/shards-STAMP (before sbatch), and submitted as
#      arrays of at most MaxArraySize tasks (indices 0..n-1, the chunk's offset
#      into the shard file is an argument), each line of RESULTS/NAME/slurm/jobs
#      "ARRAY_JOB_ID OFFSET TASKS SHARD_FILE" recording one.
# Then the report job (REPORT_COMMAND) depends on every array of this call and
# every one still queued.
#
# Settings (environment; mk/experiments.mk passes its make variables):
#   SLURM_PARTITION, SLURM_ACCOUNT, SLURM_TIME (per task), SLURM_MEM (per CPU,
#   e.g. 500M), SLURM_CPUS (CPUs per task = runs at once in a task; default 1),
#   SLURM_THROTTLE (at most N tasks of an array at once: %N), RUNS_PER_TASK
#   (default 4), SLURM_ARGS (more sbatch options, split into words),
#   SLURM_SIGNAL_SECONDS (SIGTERM this long before the time limit; default 60),
#   MLPLAB, RUN_ONE, REPORT_COMMAND (what the report job runs).
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: scripts/slurm-submit.sh RESULTS STUDY..." >&2
    exit 2
fi
results=$1
shift
mlplab=${MLPLAB:-bin/mlplab}
here=$(pwd)
# The jobs start make afresh: not as a sub-make of this one (its jobserver).
unset MAKEFLAGS MFLAGS MAKELEVEL
task_script=$(cd "$(dirname "$0")" && pwd)/slurm-task.sh
runs_per_task=${RUNS_PER_TASK:-4}
cpus=${SLURM_CPUS:-1}
signal_seconds=${SLURM_SIGNAL_SECONDS:-60}

die() { echo "make submit: $*" >&2; exit 1; }
for tool in sbatch squeue scontrol; do
    command -v $tool >/dev/null || die "$tool not found: make submit needs the Slurm client commands (run it on a login node)"
done
case $runs_per_task in ''|*[!0-9]*|0) die "RUNS_PER_TASK must be a positive number, not '$runs_per_task'" ;; esac
case $cpus in ''|*[!0-9]*|0) die "SLURM_CPUS must be a positive number, not '$cpus'" ;; esac

# The site options, common to every job; the SLURM_* make variables would
# otherwise also reach srun/sbatch inside the jobs as input variables.
site=()
[ -z "${SLURM_PARTITION:-}" ] || site+=(--partition="$SLURM_PARTITION")
[ -z "${SLURM_ACCOUNT:-}" ] || site+=(--account="$SLURM_ACCOUNT")
# shellcheck disable=SC2206  # SLURM_ARGS is split into words on purpose
[ -z "${SLURM_ARGS:-}" ] || site+=(${SLURM_ARGS})
task_options=(--cpus-per-task="$cpus" --requeue --open-mode=append --signal="B:TERM@$signal_seconds")
[ -z "${SLURM_TIME:-}" ] || task_options+=(--time="$SLURM_TIME")
[ -z "${SLURM_MEM:-}" ] || task_options+=(--mem-per-cpu="$SLURM_MEM")
unset SLURM_PARTITION SLURM_ACCOUNT SLURM_TIME SLURM_MEM SLURM_CPUS SLURM_ARGS

max_array=$(scontrol show config 2>/dev/null | awk '$1 == "MaxArraySize" { print $3 }') ||
    die "scontrol show config failed: is Slurm reachable from here?"
case $max_array in ''|*[!0-9]*) max_array=1001 ;; esac   # Slurm's default
[ "$max_array" -gt 0 ] || max_array=1001
throttle=${SLURM_THROTTLE:+%$SLURM_THROTTLE}

# Our queued tasks: "ARRAY_JOB_ID TASK_ID" per pending or running array task.
queued_tasks() {   # queued_tasks JOB_NAME
    squeue -h -r -u "$(id -un)" -n "$1" -o '%F %K' ||
        die "squeue failed: cannot tell what is queued, so nothing is submitted"
}

# The run files of the tasks squeue lists, from our ledger.
queued_runs() {    # queued_runs LEDGER QUEUED_TASKS_TEXT
    local ledger=$1 tasks=$2 job task offset count shards line
    [ -f "$ledger" ] || return 0
    while read -r job task; do
        [ -n "$job" ] || continue
        while read -r ledger_job offset count shards; do
            [ "$ledger_job" = "$job" ] || continue
            case $task in *[!0-9]*) continue ;; esac
            [ "$task" -lt "$count" ] || continue
            line=$((offset + task + 1))
            sed -n "${line}p" "$shards" | tr ' ' '\n'
        done <"$ledger"
    done <<<"$tasks"
}

report_deps=()
submitted_any=0
stamp=$(date -u +%Y%m%dT%H%M%SZ)-$$
for name in "$@"; do
    dir=$results/$name
    [ -f "$dir/study.yaml" ] && [ -f "$dir/runs.mk" ] ||
        die "$dir is not planned (no study.yaml or runs.mk): plan it first (make submit does)"
    slurm_dir=$dir/slurm
    mkdir -p "$slurm_dir/logs"
    job_name="mlplab-$name"
    ledger=$slurm_dir/jobs

    status=0
    lines=$("$mlplab" status --runs "$dir") || status=$?
    case $status in 0|1|6) ;; *) die "mlplab status --runs $dir failed (exit $status)" ;; esac
    if [ -z "$lines" ]; then
        echo "$name: no runs to train"
        continue
    fi
    tasks=$(queued_tasks "$job_name")
    queued=$(queued_runs "$ledger" "$tasks" | sort -u)
    # The arrays of ours that are still queued: the report waits for them too.
    while read -r job _; do
        [ -n "$job" ] && [ -f "$ledger" ] && grep -q "^$job " "$ledger" && report_deps+=("$job")
    done <<<"$tasks"

    pending=()
    complete=0 in_queue=0
    while IFS=$'\t' read -r state file _; do
        if [ "$state" = complete ]; then
            complete=$((complete + 1))
        elif [ "$state" = running ] || grep -qxF "$file" <<<"$queued"; then
            # queued by us, or being written right now by some process: left alone
            in_queue=$((in_queue + 1))
        else
            pending+=("$file")
        fi
    done <<<"$lines"

    total=$((complete + in_queue + ${#pending[@]}))
    if [ ${#pending[@]} -eq 0 ]; then
        echo "$name: $total runs: $complete complete, $in_queue queued; nothing to submit"
        continue
    fi

    # Pack the runs into tasks, one task per line, written before any sbatch.
    shards=$slurm_dir/shards-$stamp
    : >"$shards.tmp"
    for ((i = 0; i < ${#pending[@]}; i += runs_per_task)); do
        echo "${pending[*]:i:runs_per_task}" >>"$shards.tmp"
    done
    mv "$shards.tmp" "$shards"
    n_tasks=$(wc -l <"$shards")

    ids=()
    for ((offset = 0; offset < n_tasks; offset += max_array)); do
        count=$((n_tasks - offset < max_array ? n_tasks - offset : max_array))
        if ! job=$(sbatch --parsable --job-name="$job_name" --chdir="$here" \
                --array="0-$((count - 1))$throttle" --output="$slurm_dir/logs/%A_%a.log" \
                "${task_options[@]}" "${site[@]}" \
                "$task_script" "$dir/runs.mk" "$shards" "$offset" "$cpus"); then
            die "sbatch refused the array of $name (tasks $offset-$((offset + count - 1)) of $shards)"
        fi
        job=${job%%;*}
        echo "$job $offset $count $shards" >>"$ledger"
        ids+=("$job")
        report_deps+=("$job")
    done
    submitted_any=1
    echo "$name: $total runs: $complete complete, $in_queue queued, ${#pending[@]} submitted" \
         "in $n_tasks task(s) as array job(s) ${ids[*]}; logs in $slurm_dir/logs/"
done

if [ $submitted_any -eq 0 ]; then
    if [ ${#report_deps[@]} -eq 0 ]; then
        echo "nothing to submit; every run is complete (make tables plots report builds the report)"
    else
        echo "nothing new to submit; the queued jobs' report job is still to come"
    fi
    exit 0
fi

deps=$(IFS=:; echo "${report_deps[*]}")
report_command=${REPORT_COMMAND:-make tables plots report RESULTS=$results STUDIES="$*"}
mkdir -p "$results/slurm"
if ! report=$(sbatch --parsable --job-name=mlplab-report --chdir="$here" \
        --dependency="afterany:$deps" --kill-on-invalid-dep=no \
        --output="$results/slurm/report-%j.log" "${site[@]}" \
        --wrap="$report_command"); then
    die "sbatch refused the report job (the run arrays are submitted: ${report_deps[*]})"
fi
report=${report%%;*}
echo "report: job $report after $deps: writes $results/REPORT.md; log $results/slurm/report-$report.log"
echo "watch:  mlplab status ${@/#/$results/}   (squeue -n mlplab-NAME for the queue)"
