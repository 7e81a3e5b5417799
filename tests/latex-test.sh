#!/usr/bin/env bash
# latex-test.sh RESULTS — do the tables and figures `make tables plots` wrote
# \input into a LaTeX document as they are? Builds one document with every
# study's table.tex (in a table environment, booktabs) and every LaTeX figure
# figures/latex/NAME.tex (in a figure environment, graphicx and color), and
# compiles it with pdflatex (Debian texlive-latex-base and
# texlive-latex-recommended, for booktabs), stopping at the first error.
# Prints one line per check and "latex: N passed, M failed".
set -uo pipefail

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
suite_usage 1 "RESULTS" "$@"
results=$(cd "$1" && pwd)
suite_begin latex

check "pdflatex is installed (scripts/deps.sh --test installs it)" bash -c "command -v pdflatex >/dev/null"
tables=("$results"/*/table.tex)
figures=("$results"/*/figures/latex/*.tex)
check "there are tables (${#tables[@]}) and LaTeX figures (${#figures[@]})" \
    test -f "${tables[0]}" -a -f "${figures[0]}"

{
    echo '\documentclass{article}'
    echo '\usepackage{booktabs,graphicx,color}'
    echo '\begin{document}'
    for table in "${tables[@]}"; do
        echo "\\begin{table}\\centering\\input{$table}\\caption{table}\\end{table}\\clearpage"
    done
    for figure in "${figures[@]}"; do
        # \input finds NAME.tex; NAME.tex names its graphics NAME.pdf, found
        # through the graphics path.
        echo "\\begin{figure}\\centering\\graphicspath{{$(dirname "$figure")/}}"
        echo "\\input{$figure}\\caption{figure}\\end{figure}\\clearpage"
    done
    echo '\end{document}'
} >"$work/paper.tex"
(cd "$work" && timeout 120 pdflatex -interaction=nonstopmode -halt-on-error paper.tex >/dev/null 2>&1)
status=$?
check "pdflatex compiles every table and figure (exit $status)" test "$status" -eq 0
[ "$status" -eq 0 ] || grep -A3 '^!' "$work/paper.log" | head -20
pages=$(sed -n 's/^Output written on paper.pdf (\([0-9]*\) page.*/\1/p' "$work/paper.log")
check "one page each: $((${#tables[@]} + ${#figures[@]})) expected, ${pages:-0} written" \
    test "${pages:-0}" -eq "$((${#tables[@]} + ${#figures[@]}))"
check "no text was lost (no undefined control sequence, no missing character)" \
    bash -c "! grep -q 'Undefined control sequence\|Missing character' '$work/paper.log'"

suite_end
