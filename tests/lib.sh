# tests/lib.sh — the helpers every shell test sources: one reported line per
# check, a scratch directory, and the closing summary line that `make check`
# adds up. Source it, call suite_begin NAME once, end with suite_end.
# Sourcing it sets $repo, the checkout the test belongs to.
#
#   suite_usage COUNT ARGS "$@"
#                             exit 2 with "usage: tests/SCRIPT ARGS" on stderr
#                             unless the script was given COUNT arguments
#   absolute PATH             prints PATH from /, for a script that changes directory
#   suite_begin NAME          $work: a fresh scratch directory, removed on exit
#   pass DESCRIPTION          count a check as passed
#   fail DESCRIPTION [LINE…]  count it as failed; the lines explain why
#   check DESCRIPTION CMD…    pass if CMD exits 0, fail otherwise
#   expect_exit DESCRIPTION STATUS -- CMD…
#                             run CMD (stdout in $out, stderr in $err) and check
#                             its exit status
#   expect_text DESCRIPTION HAYSTACK NEEDLE
#                             check that NEEDLE (a fixed string) is in HAYSTACK
#   same_text A B             true if A is not empty and equals B (a
#                             comparison of two empty dumps proves nothing)
#   suite_end                 prints "NAME: N passed, M failed"; returns 1 on
#                             any failure, so `suite_end; exit` or a last line
#                             `suite_end` gives the script's exit status
# shellcheck shell=bash

# shellcheck disable=SC2034  # for the scripts that source this file
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

suite_usage() {
    local count=$1 words=$2
    shift 2
    if [ $# -ne "$count" ]; then
        echo "usage: tests/$(basename "$0") $words" >&2
        exit 2
    fi
}

absolute() {
    echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
}

suite_begin() {
    suite_name=$1
    passed=0
    failed=0
    work=$(mktemp -d "${TMPDIR:-/tmp}/mlplab-$suite_name.XXXXXX") || exit 2
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" EXIT
}

pass() {
    passed=$((passed + 1))
    echo "ok   $1"
}

fail() {
    failed=$((failed + 1))
    echo "FAIL $1"
    shift
    local line
    for line in "$@"; do
        printf '     %s\n' "$line"
    done
}

check() {
    local description=$1
    shift
    if "$@"; then pass "$description"; else fail "$description"; fi
}

expect_exit() {
    local description=$1 want=$2
    shift 3
    "$@" >"$work/.stdout" 2>"$work/.stderr"
    local got=$?
    out=$(cat "$work/.stdout")
    err=$(cat "$work/.stderr")
    if [ "$got" -eq "$want" ]; then
        pass "$description (exit $got)"
    else
        fail "$description: exit $got, wanted $want" "$err"
    fi
}

expect_text() {
    if grep -qF -- "$3" <<<"$2"; then pass "$1"; else fail "$1: missing '$3'" "$2"; fi
}

same_text() { [ -n "$1" ] && [ "$1" = "$2" ]; }

suite_end() {
    echo "$suite_name: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# --- run files (h5dump) -------------------------------------------------------
# h5dump's first line names the file, so every dump below drops it.

# metrics_text FILE: /metrics without the seconds column (the one value that
# does not reproduce), one field a line; seconds is the 9th field of each row.
metrics_text() {
    h5dump -m %.17g -d /metrics "$1" | tail -n +2 |
        awk '/^[ \t]*[-0-9.]|^[ \t]*-?(nan|inf)/ { if (++field % 9 == 0) next } { print }'
}

# weights_text FILE: the final weights and biases.
weights_text() { h5dump -m %.17g -g /weights/final "$1" | tail -n +2; }

# checkpoint_epoch FILE: the epoch of the checkpoint in a .partial file (empty
# if it has none). Read without HDF5's lock, which a killed writer may hold.
checkpoint_epoch() {
    HDF5_USE_FILE_LOCKING=FALSE h5dump -a /checkpoint/epoch "$1" 2>/dev/null |
        sed -n 's/^ *(0): \([0-9][0-9]*\)$/\1/p'
}

# metrics_rows FILE N: the first N rows of /metrics with every column, seconds
# included: what an interrupted attempt wrote, to be found unchanged after the
# resume (a run that trained those epochs again would have new seconds).
metrics_rows() {
    HDF5_USE_FILE_LOCKING=FALSE h5dump -m %.17g -d /metrics -s 0 -c "$2" "$1" 2>/dev/null |
        sed -n '/^ *DATA {/,$p'
}
