#!/usr/bin/env bash
# e2e-slurm.sh MLPLAB — mlplab on a real Slurm: starts a local single-node
# Slurm (tests/slurm/local-slurm.sh, stopped on exit whatever happens) and checks
#   - the local Slurm itself: srun, an array of MaxArraySize tasks;
#   - make submit: arrays split under MaxArraySize, a second submit submits
#     nothing queued, a cancelled task is resubmitted and nothing complete is,
#     the report job runs (afterany), run files identical to a local make;
#   - scontrol requeue in the middle of a run resumes it to the same bytes;
#   - a failing run shows as failed in mlplab status and the report job runs;
#   - make -j2 LAUNCH=srun inside an allocation gives the same run files.
# The test waits for jobs itself, always with a bounded timeout (never
# `make submit`, which returns at once). Prints one line per check and ends
# with "e2e-slurm: N passed, M failed"; exits non-zero if any check failed.
set -uo pipefail

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
suite_usage 1 "PATH/TO/mlplab" "$@"
mlplab=$(absolute "$1")
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

# ---- sites that are not this machine ------------------------------------------

cp "$repo/scripts/deps.sh" "$work/deps.sh"
chmod 755 "$work/deps.sh"
check "deps.sh, not root, libraries found by pkg-config: nothing to install (exit 0)" \
    runuser -u nobody -- "$work/deps.sh"
runuser -u nobody -- env PKG_CONFIG_LIBDIR="$work/nowhere" "$work/deps.sh" >"$work/deps.out" 2>&1
deps_exit=$?
check "deps.sh, not root, libraries not found: exit 1" test "$deps_exit" -eq 1
check "  ... naming what is missing and the command to install it" \
    bash -c "grep -q 'not found: .*hdf5' '$work/deps.out' && grep -q 'apt-get install' '$work/deps.out'"

# A filesystem without flock (NFS without lockd): a clear error, and the way out.
cc -shared -fPIC -o "$work/flock-unsupported.so" "$repo/tests/slurm/flock-unsupported.c"
no_flock() {
    LD_PRELOAD="$work/flock-unsupported.so" ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
        "$mlplab" run "$repo/configs/mnist-tiny.yaml" train.epochs=1 --out "$work/nolock/run.h5" --quiet "$@"
}
no_flock >/dev/null 2>"$work/nolock.err"
nolock_exit=$?
check "without file locking, mlplab run fails (exit 1)" test "$nolock_exit" -eq 1
check "  ... with an error naming HDF5_USE_FILE_LOCKING" grep -q 'HDF5_USE_FILE_LOCKING=FALSE' "$work/nolock.err"
locking_off_completes() {
    HDF5_USE_FILE_LOCKING=FALSE no_flock >/dev/null 2>&1 && test -f "$work/nolock/run.h5"
}
check "  ... and with HDF5_USE_FILE_LOCKING=FALSE the run completes" locking_off_completes

# ---- make submit ----------------------------------------------------------------

mkdir -p "$work/experiments"
study() {   # study NAME LINE...: a study on 1000 MNIST images (configs/mnist-tiny.yaml)
    local name=$1
    shift
    printf '%s\n' "description: \"e2e-slurm: $name\"" "extends: $repo/configs/mnist-tiny.yaml" "$@" \
        >"$work/experiments/$name.yaml"
}
study pair 'seeds: 3' 'cases:' '  - {label: "eta 0.5"}' '  - {label: "eta 3.0", train.learning_rate: 3.0}'
study long 'train: {epochs: 150}' 'seeds: 1' 'cases:' '  - {label: "long"}'
study fails 'seeds: 1' 'cases:' '  - {label: "fine"}' \
    '  - {label: "broken hook", hooks: '"$repo"'/tests/data/hooks/error-in-hook.lua}'

make_in() {   # make_in RESULTS TARGET... [VAR=value...]: the repository's Makefile
    local results=$1
    shift
    make --no-print-directory -C "$repo" "$@" EXPERIMENTS_DIR="$work/experiments" \
        RESULTS="$results" MLPLAB="$mlplab"
}
# A study's complete run files as text: metrics but the seconds column (the
# 9th field of a row), custom metrics, final weights, status; not /attempts.
study_text() {   # study_text RESULTS NAME
    local f
    for f in "$1/$2"/runs/*.h5; do
        [ -f "$f" ] || continue
        echo "== $(basename "$f")"
        metrics_text "$f"
        h5dump -m %.17g -g /custom_metrics -g /weights/final -a /status "$f" | tail -n +2
    done
}
same_runs() {    # same_runs RESULTS_A RESULTS_B NAME: identical and not empty
    same_text "$(study_text "$1" "$3")" "$(study_text "$2" "$3")"
}
array_ids() { sed -n 's/.* as array job(s) \([0-9 ]*\);.*/\1/p' "$1"; }
report_id() { sed -n 's/^report: job \([0-9]*\) .*/\1/p' "$1"; }
state_count() {  # state_count RESULTS/NAME STATE: runs in that state
    "$mlplab" status --runs "$1" | awk -F'\t' -v s="$2" '$1 == s { n++ } END { print n + 0 }'
}
submit() {       # submit RESULTS NAME LOG [VAR=value...]
    local results=$1 name=$2 log=$3
    shift 3
    make_in "$results" submit STUDIES="$name" RUNS_PER_TASK=1 "$@" >"$log" 2>&1
}

local_ref=$work/local
make_in "$local_ref" study-pair study-long >"$work/local.log" 2>&1
check "the local reference runs (make study-pair study-long)" \
    test "$(find "$local_ref" -name '*.h5' | wc -l)" -eq 7

# Six runs, one per task, MaxArraySize 4: two arrays. Held, so nothing runs
# while the next checks look at the queue.
slurm=$work/results
submit "$slurm" pair "$work/submit1.log" SLURM_ARGS=--hold
check "make submit returns with the ids of the arrays and the report job" \
    grep -q '^report: job [0-9]* after' "$work/submit1.log"
read -r -a arrays <<<"$(array_ids "$work/submit1.log")"
report1=$(report_id "$work/submit1.log")
check "six tasks under MaxArraySize=4 are split into two arrays" test "${#arrays[@]}" -eq 2
check "  ... at offsets 0 and 4 of one shard file" \
    test "$(awk '{ print $2, $3 }' "$slurm/pair/slurm/jobs" | tr '\n' ' ')" = "0 4 4 2 "
check "squeue shows the six tasks pending" \
    test "$(squeue -h -r -n mlplab-pair -o %i | wc -l)" -eq 6
submit "$slurm" pair "$work/submit2.log"
check "a second make submit submits nothing that is queued" \
    grep -q 'pair: 6 runs: 0 complete, 6 queued; nothing to submit' "$work/submit2.log"
scancel "${arrays[0]}_1"
scontrol release "${arrays[0]}" "${arrays[1]}" "$report1" >/dev/null   # --hold held every job
check "the released tasks and the report job finish (bounded wait)" \
    wait_jobs 180 "${arrays[@]}" "$report1"
check "the cancelled task's run is not started, the five others complete" \
    test "$(state_count "$slurm/pair" todo) $(state_count "$slurm/pair" complete)" = "1 5"
check "the report job ran after the arrays (afterany): REPORT.md has the study" \
    grep -q 'e2e-slurm: pair' "$slurm/REPORT.md"
complete_before=$(stat -c '%n %i %y' "$slurm"/pair/runs/*.h5)
submit "$slurm" pair "$work/submit3.log"
check "the next make submit submits the cancelled run only" \
    grep -q 'pair: 6 runs: 5 complete, 0 queued, 1 submitted in 1 task' "$work/submit3.log"
read -r -a arrays <<<"$(array_ids "$work/submit3.log")"
check "  ... which completes (bounded wait)" \
    wait_jobs 120 "${arrays[@]}" "$(report_id "$work/submit3.log")"
untouched() {
    local names
    names=$(awk '{ print $1 }' <<<"$complete_before")
    # shellcheck disable=SC2086
    [ "$(echo $names | wc -w)" -eq 5 ] && [ "$(stat -c '%n %i %y' $names)" = "$complete_before" ]
}
check "  ... and leaves the five complete run files untouched" untouched
check "run files made through Slurm are identical to local ones (but seconds)" \
    same_runs "$local_ref" "$slurm" pair
check "the run files record the array job and task of their attempt" \
    bash -c "h5dump -d /attempts '$slurm'/pair/runs/*.h5 | grep -q '\"${arrays[0]}\"'"

# scontrol requeue in the middle of a run: it resumes to the same bytes.
submit "$slurm" long "$work/submit-long.log"
read -r -a arrays <<<"$(array_ids "$work/submit-long.log")"
reached_epoch() {   # until the run is being written and past epoch 2
    { "$mlplab" status --runs "$slurm/long" || true; } | awk -F'\t' '$1 == "running" && $3 >= 2 { ok = 1 } END { exit !ok }'
}
wait_until() {      # wait_until SECONDS COMMAND...
    local limit=$1 i
    shift
    for i in $(seq $((limit * 5))); do "$@" && return 0; sleep 0.2; done
    return 1
}
check "the long run starts on Slurm (bounded wait)" wait_until 120 reached_epoch
scontrol requeue "${arrays[0]}_0"
check "scontrol requeue: the task runs again and completes (bounded wait)" \
    wait_jobs 240 "${arrays[0]}" "$(report_id "$work/submit-long.log")"
check "  ... the requeued run is identical to the local one" same_runs "$local_ref" "$slurm" long
check "  ... and its run file has two attempts, the second after a requeue" \
    bash -c "h5dump -d /attempts '$slurm'/long/runs/*.h5 | grep -c '\"interrupted\"\|\"running\"\|\"complete\"' | grep -qx 2"

# A failing run: failed in mlplab status, and the report job still runs.
submit "$slurm" fails "$work/submit-fails.log"
read -r -a arrays <<<"$(array_ids "$work/submit-fails.log")"
check "a study with a failing run finishes on Slurm (bounded wait)" \
    wait_jobs 120 "${arrays[@]}" "$(report_id "$work/submit-fails.log")"
"$mlplab" status "$slurm/fails" >"$work/status-fails.txt"
status_exit=$?
check "mlplab status exits 1 for the failed run" test "$status_exit" -eq 1
check "  ... and names it failed with the first line of its error" \
    grep -q 'failed .*broken hook seed=1  .*error-in-hook.lua:[0-9]*: ' "$work/status-fails.txt"
check "  ... the other run is complete" grep -q 'fails: 2 runs: 1 complete, 0 partial, 1 failed' "$work/status-fails.txt"
check "the report job ran all the same (afterany): REPORT.md has the study" \
    grep -q 'e2e-slurm: fails' "$slurm/REPORT.md"

# make -jN experiments inside an allocation, each run a job step.
job=$(sbatch --parsable -n 2 -c 1 --mem-per-cpu=256M -o "$work/alloc.log" --chdir="$repo" \
    --wrap "make --no-print-directory -j2 study-pair EXPERIMENTS_DIR='$work/experiments' \
            RESULTS='$work/alloc' MLPLAB='$mlplab' LAUNCH='srun --exact -n1 -c1 --mem-per-cpu=256M'")
check "make -j2 LAUNCH='srun --exact ...' in an allocation finishes (bounded wait)" wait_jobs 180 "$job"
check "  ... its run files are identical to the local ones" same_runs "$local_ref" "$work/alloc" pair

finish
