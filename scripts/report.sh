#!/usr/bin/env bash
# report.sh RESULTS STUDY...: writes RESULTS/REPORT.md with one section per
# study: its heading, the results of `mlplab check` on its claims (✓ holds,
# ✗ does not, ○ not checked, with the reason), its description, comparison
# table and notes, and its figures, linked; then RESULTS/REPORT.html, the
# same Markdown rendered by `mlplab report-html` (cmark-gfm) into one
# self-contained page with the figures embedded.
#
# The figures are those `mlplab figures RESULTS/NAME --list` names, in its
# order (the order of the study's report.figures), each linked as PNG when
# scripts/figures.sh has drawn it. MLPLAB (exported by mk/experiments.mk;
# default bin/mlplab) is the binary asked. A study without a table is left
# out; one whose figures cannot be listed gets its table and a warning.
# A claim that does not hold is reported, not an error here: `make
# check-reproduction` is the target that fails on it.
set -euo pipefail
results=$1
shift
mlplab=${MLPLAB:-bin/mlplab}
out="$results/REPORT.md"

# claims DIR: `mlplab check` as a Markdown list. Its lines start with "ok  ",
# "FAIL" or "skip"; the summary line is left out (the list says it).
claims() {
    local lines status=0
    lines=$("$mlplab" check "$1" 2>&1) || status=$?
    if [ "$status" -ne 0 ] && [ "$status" -ne 5 ]; then
        echo "report.sh: $1: mlplab check failed (exit $status); the report says so" >&2
        echo "- ✗ the claims could not be checked: $(head -n 1 <<<"$lines")"
        return
    fi
    grep -E '^(ok  |FAIL|skip)' <<<"$lines" | sed -E \
        -e 's/^ok +/- ✓ /' -e 's/^FAIL +/- ✗ /' -e 's/^skip +/- ○ not checked: /' || true
}

{
    echo "# mlplab report"
    echo
    for name in "$@"; do
        dir="$results/$name"
        [ -f "$dir/table.md" ] || continue
        # table.md starts with "# NAME": a section of this report, one level down.
        echo "#$(head -n 1 "$dir/table.md")"
        echo
        echo "**Claims** (\`mlplab check\`):"
        echo
        checked=$(claims "$dir")
        if [ -n "$checked" ]; then echo "$checked"; else echo "- none: the study makes no claim"; fi
        echo
        tail -n +2 "$dir/table.md"
        echo
        if ! lines=$("$mlplab" figures "$dir" --list); then
            echo "report.sh: $name: cannot list its figures; the report shows its table only" >&2
            lines=""
        fi
        while IFS=$'\t' read -r script stem _; do
            [ -n "$script" ] || continue
            figure=$(basename "$stem")
            [ -f "$stem.png" ] || continue
            echo "![$figure]($name/figures/$figure.png)"
            echo
        done <<<"$lines"
    done
} >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
"$mlplab" report-html "$out"
