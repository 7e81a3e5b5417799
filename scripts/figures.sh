#!/usr/bin/env bash
# figures.sh RESULTS/NAME MLPLAB: draws the figures of one study, as its
# study.yaml report.figures lists them (or the defaults: test accuracy and
# training cost against epoch, final test accuracy with error bars), each as
# PNG and SVG (for screens) and PDF (at the paper size the figure asks for)
# in RESULTS/NAME/figures/, and for LaTeX as figures/latex/NAME.tex with its
# figures/latex/NAME.pdf (gnuplot's cairolatex: \input{NAME.tex} typesets the
# text in the paper's fonts); then removes the figures there that the study no
# longer lists. docs/figures.md describes it.
#
# `mlplab figures` writes the data files and prints one line per figure:
# SCRIPT<TAB>OUTSTEM<TAB>ASSIGNMENTS. The assignments come from mlplab, which
# quotes every string from the study file as a gnuplot single-quoted string
# (no backquote or macro expansion there), so a shared study file cannot run
# commands through gnuplot; the stem holds no quote (mlplab refuses those).
#
# PDFs: cairo 1.16 writes the current time into each PDF (/CreationDate) and
# ignores SOURCE_DATE_EPOCH. Ghostscript's pdfwrite does honour it, so the PDF
# is passed through gs with SOURCE_DATE_EPOCH (default 0) to make `make plots`
# byte-identical from one run to the next, and from one checkout to another.
# Without gs the PDF is kept as cairo wrote it, with a note.
set -euo pipefail
# Absolute, so that gnuplot can run inside figures/latex: cairolatex names the
# graphics file in NAME.tex as its output was named (NAME, not a long path).
study=$(cd "$1" && pwd)
mlplab=$2
plots_dir=$(cd "$(dirname "$0")/../plots" && pwd)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}

lines=$("$mlplab" figures "$study")
mkdir -p "$study/figures/latex"
# gs runs in the figures' directories (undated): a relative TMPDIR, its own
# and ours, must not depend on where it runs.
if [ -n "${TMPDIR:-}" ]; then
    TMPDIR=$(cd "$TMPDIR" && pwd)
    export TMPDIR
fi
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mlplab-figures.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

have_gs=0
if command -v gs >/dev/null; then
    have_gs=1
else
    echo "figures.sh: ghostscript (gs) not found: the PDFs keep cairo's creation date," \
         "so they differ from one run to the next" >&2
fi

# pdfwrite derives the trailer's /ID from the output file name as given, so
# gs runs in the output's directory and is given its bare name: the PDF's bytes
# do not depend on where the checkout is. (CAIRO.pdf must be absolute.)
undated() {   # undated CAIRO.pdf OUT.pdf: the same PDF, dated SOURCE_DATE_EPOCH
    (cd "$(dirname "$2")" && gs -q -dSAFER -dBATCH -dNOPAUSE -sDEVICE=pdfwrite \
        -dAutoRotatePages=/None -sOutputFile="$(basename "$2")" "$1")
}

declare -A listed=()
while IFS=$'\t' read -r script stem assignments; do
    [ -n "$script" ] || continue
    listed[$(basename "$stem")]=1
    for ext in png svg; do
        gnuplot -e "$assignments; out='$stem.$ext'" "$plots_dir/$script.gp"
    done
    name=$(basename "$stem")
    (cd "$study/figures/latex" && gnuplot -e "$assignments; out='$name.tex'" "$plots_dir/$script.gp")
    if [ "$have_gs" -eq 1 ]; then
        gnuplot -e "$assignments; out='$scratch/cairo.pdf'" "$plots_dir/$script.gp"
        undated "$scratch/cairo.pdf" "$stem.pdf"
        mv "$study/figures/latex/$name.pdf" "$scratch/cairo.pdf"
        undated "$scratch/cairo.pdf" "$study/figures/latex/$name.pdf"
    else
        gnuplot -e "$assignments; out='$stem.pdf'" "$plots_dir/$script.gp"
    fi
done <<<"$lines"

# Figures of an older version of the study's report.figures.
for figure in "$study/figures"/*.png "$study/figures"/*.svg "$study/figures"/*.pdf \
    "$study/figures/latex"/*.tex "$study/figures/latex"/*.pdf; do
    [ -f "$figure" ] || continue
    name=$(basename "$figure")
    name=${name%.*}
    if [ -z "${listed[$name]:-}" ]; then
        rm -f -- "$figure"
        echo "figures.sh: removed $figure (no longer in the study's figures)" >&2
    fi
done
