#!/usr/bin/env bash
# Runs each cmocka test binary given, shows its output, and ends with one
# summary line "unit: N passed, M failed" counting test cases.
set -uo pipefail

passed=0
failed=0
for binary in "$@"; do
    output=$("$binary" 2>&1)
    status=$?
    printf '%s\n' "$output"
    # A binary may run several groups (test_data.c's real-MNIST group): add
    # up every group's summary, not just the last.
    n_ok=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' <<<"$output" | awk '{ n += $1 } END { print n + 0 }')
    n_bad=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' <<<"$output" | awk '{ n += $1 } END { print n + 0 }')
    if [ "$status" -ne 0 ] && [ "$n_bad" -eq 0 ]; then
        # A crash or sanitizer report: count the binary itself as a failure.
        echo "$binary: exited with status $status" >&2
        n_bad=1
    fi
    passed=$((passed + n_ok))
    failed=$((failed + n_bad))
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
