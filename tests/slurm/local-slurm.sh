#!/usr/bin/env bash
# local-slurm.sh start DIR | stop DIR — a real single-node Slurm (Debian's
# slurmctld, slurmd, slurm-client and munge) on localhost, for the tests.
#
#   eval "$(tests/slurm/local-slurm.sh start "$dir")"   # exports SLURM_CONF
#   ... sbatch, squeue, scontrol ...
#   tests/slurm/local-slurm.sh stop "$dir"
#
# Everything lives under DIR: config, munge key and socket, spool, state,
# logs, pid files. Nothing under /etc, no systemd. `start` prints the
# `export SLURM_CONF=...` line to eval and returns once the node is idle
# (a few seconds); `stop` kills the daemons by the pids it wrote. Runs as root
# (slurmd must, to start jobs); the jobs run as root too.
#
# Why it looks like this:
# - The ports are picked free at start, so several copies (other worktrees'
#   tests) can run side by side on one machine.
# - The node offers 8 CPUs on whatever the machine has (config_overrides):
#   single-threaded runs only get slower when oversubscribed, never different.
# - Memory is consumable (CR_CPU_Memory), as on real clusters, so per-step
#   memory matters as it does there.
# - slurmctld -c: start from a clean state, no ghost jobs of an earlier run.
# - munge: the key is mode 600 and the socket directory (and every directory
#   above it) world-executable, or munged/slurmd refuse.
# MAX_ARRAY_SIZE (default 4) sets MaxArraySize, small so the tests see arrays split.
set -euo pipefail

usage() { echo "usage: local-slurm.sh start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
base=$2
sbin=/usr/sbin
node=mlplab-node

stop() {
    local name pid i
    for name in slurmd slurmctld munged; do
        [ -f "$base/run/$name.pid" ] || continue
        pid=$(cat "$base/run/$name.pid")
        kill "$pid" 2>/dev/null || continue
        for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$base/run/$name.pid"
    done
    # Jobs started by slurmd that outlived it (slurmstepd and their children).
    pkill_stepd
}

# slurmstepd processes of this instance only: their environment names our conf.
pkill_stepd() {
    local p
    for p in $(pgrep -x slurmstepd 2>/dev/null || true); do
        if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "SLURM_CONF=$base/slurm.conf" ||
           grep -q "$base" "/proc/$p/cmdline" 2>/dev/null; then
            kill -9 "$p" 2>/dev/null || true
        fi
    done
}

free_port() {   # a TCP port nothing listens on, from a range others rarely use
    local port
    for _ in $(seq 200); do
        port=$((20000 + RANDOM % 20000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    echo "local-slurm.sh: no free port found" >&2
    return 1
}

wait_for() {    # wait_for SECONDS DESCRIPTION COMMAND...
    local limit=$1 what=$2 i
    shift 2
    for i in $(seq $((limit * 10))); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    echo "local-slurm.sh: $what did not happen within $limit s; logs in $base/log" >&2
    tail -n 20 "$base"/log/*.log >&2 || true
    return 1
}

start() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "local-slurm.sh: must run as root (slurmd starts the jobs)" >&2
        exit 1
    fi
    local missing=
    for tool in slurmctld slurmd munged; do [ -x "$sbin/$tool" ] || missing="$missing $tool"; done
    for tool in sbatch squeue scontrol; do command -v $tool >/dev/null || missing="$missing $tool"; done
    if [ -n "$missing" ]; then
        echo "local-slurm.sh: missing:$missing; install with: scripts/deps.sh --test" >&2
        exit 1
    fi
    mkdir -p "$base"
    base=$(cd "$base" && pwd)
    # munged checks every directory above its socket is not writable by others.
    mkdir -p "$base"/{etc,run,log,spool/ctld,spool/d,munge}
    chmod 755 "$base" "$base"/{etc,run,log,spool,munge}
    dd if=/dev/urandom of="$base/etc/munge.key" bs=1024 count=1 status=none
    chmod 600 "$base/etc/munge.key"

    "$sbin/munged" --force --key-file="$base/etc/munge.key" --socket="$base/munge/munge.socket" \
        --pid-file="$base/run/munged.pid" --log-file="$base/log/munged.log" \
        --seed-file="$base/munge/munged.seed"
    wait_for 10 "munged start" test -S "$base/munge/munge.socket"

    local ctld_port slurmd_port cpus
    ctld_port=$(free_port)
    slurmd_port=$(free_port)
    while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port=$(free_port); done
    cat >"$base/slurm.conf" <<EOF
ClusterName=mlplab-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$base/munge/munge.socket
StateSaveLocation=$base/spool/ctld
SlurmdSpoolDir=$base/spool/d
SlurmctldPidFile=$base/run/slurmctld.pid
SlurmdPidFile=$base/run/slurmd.pid
SlurmctldLogFile=$base/log/slurmctld.log
SlurmdLogFile=$base/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
SlurmdParameters=config_overrides
ReturnToService=2
DefMemPerCPU=256
MaxArraySize=${MAX_ARRAY_SIZE:-4}
KillWait=5
MinJobAge=600
InactiveLimit=0
Waittime=0
NodeName=$node NodeHostname=$(hostname) NodeAddr=127.0.0.1 CPUs=8 Sockets=1 CoresPerSocket=8 ThreadsPerCore=1 RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
    export SLURM_CONF=$base/slurm.conf
    "$sbin/slurmctld" -c -f "$SLURM_CONF"
    wait_for 15 "slurmctld start" scontrol ping
    "$sbin/slurmd" -N "$node" -f "$SLURM_CONF"
    wait_for 30 "the node registering" node_is_up
    echo "export SLURM_CONF=$base/slurm.conf"
}

node_is_up() {
    local state
    state=$(sinfo -h -n "$node" -o '%T' 2>/dev/null)
    case $state in
        idle|mixed|allocated) return 0 ;;
        down*|drain*) scontrol update nodename="$node" state=resume 2>/dev/null; return 1 ;;
        *) return 1 ;;
    esac
}

case $action in
    start) start ;;
    stop) [ -d "$base" ] || exit 0; base=$(cd "$base" && pwd); stop ;;
    *) usage ;;
esac
