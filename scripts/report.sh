#!/usr/bin/env bash
# report.sh RESULTS STUDY...: writes RESULTS/REPORT.md with each study's
# description, comparison table, notes and figures, linked.
#
# The figures are those `mlplab figures RESULTS/NAME --list` names, in its
# order (the order of the study's report.figures), each linked as PNG when
# scripts/figures.sh has drawn it. MLPLAB (exported by mk/experiments.mk;
# default bin/mlplab) is the binary asked. A study without a table is left
# out; one whose figures cannot be listed gets its table and a warning.
set -euo pipefail
results=$1
shift
mlplab=${MLPLAB:-bin/mlplab}
out="$results/REPORT.md"
{
    echo "# mlplab report"
    echo
    for name in "$@"; do
        dir="$results/$name"
        [ -f "$dir/table.md" ] || continue
        cat "$dir/table.md"
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
        done <<<"$lines"
        echo
    done
} >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
