#!/usr/bin/env bash
# report.sh RESULTS STUDY...: writes RESULTS/REPORT.md with each study's
# description, comparison table, notes and figures, linked.
set -euo pipefail
results=$1
shift
out="$results/REPORT.md"
{
    echo "# mlplab report"
    echo
    for name in "$@"; do
        dir="$results/$name"
        [ -f "$dir/table.md" ] || continue
        cat "$dir/table.md"
        echo
        for figure in "$dir"/figures/*.png; do
            [ -f "$figure" ] || continue
            echo "![$(basename "$figure" .png)]($name/figures/$(basename "$figure"))"
        done
        echo
    done
} >"$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
