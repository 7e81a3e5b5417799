#!/usr/bin/env bash
# plots-test.sh — runs every figure script in plots/ on small synthetic data
# files, for each output format, and checks what comes out: exit status, a
# non-empty file with the right magic (PNG signature, "<svg", "%PDF"), no
# gnuplot warnings (one check per figure), the legend labels in the SVG, and a
# clear failure when `data` is missing or `out` has an unknown extension.
#
# Usage: tests/plots-test.sh [GNUPLOT]       (default: gnuplot on PATH)
# Set PLOTS_TEST_KEEP=DIR to keep the generated files there for a look.
# Prints one line per check, then "plots: N passed, M failed"; exits 1 on any failure.
set -u

gnuplot_bin=${1:-gnuplot}
plots_dir=$(cd "$(dirname "$0")/../plots" && pwd) || exit 2
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
suite_begin plots

# Synthetic data, in the formats of docs/figures.md --------------------------

# Labels with a comma, a '#', an underscore and non-ASCII text: they must reach
# the legend as written.
cat >"$work/series.dat" <<'EOF'
# mlplab series: synthetic, metric test_accuracy, confidence 0.95
# label: cross-entropy, 30 hidden
"cross-entropy, 30 hidden"
0 0.1000 0.0900 0.1100 3
1 0.8000 0.7500 0.8500 3
2 0.9000 NaN NaN 1
3 0.9300 0.9100 0.9500 3


# label: quadratic #2 η_0=3.0
"quadratic #2 η_0=3.0"
0 0.1000 0.0900 0.1100 3
1 0.6000 0.5500 0.6500 3
2 0.8000 0.7500 0.8500 3
3 0.8800 0.8600 0.9000 3
EOF

cat >"$work/seeds.dat" <<'EOF'
# mlplab series: synthetic, metric test_accuracy, one block per label x seed
# label: cross-entropy, 30 hidden; seed: 1
0 0.09 0 1
1 0.78 0 1
2 0.90 0 1
3 0.92 0 1


# label: cross-entropy, 30 hidden; seed: 2
0 0.11 0 2
1 0.82 0 2
2 NaN 0 2
3 0.94 0 2


# label: quadratic #2 η_0=3.0; seed: 1
0 0.10 1 1
1 0.58 1 1
2 0.79 1 1
3 0.87 1 1
EOF

cat >"$work/final.dat" <<'EOF'
# mlplab series: synthetic, metric test_accuracy at the final epoch, confidence 0.95
# columns: label mean ci_low ci_high n reference median min max
"cross-entropy, 30 hidden" 0.9531 0.9512 0.9550 5 0.9549 0.953 0.951 0.955
"quadratic #2 η_0=3.0" 0.9482 0.9460 0.9504 5 NaN 0.948 0.946 0.951
"one seed only" 0.9400 NaN NaN 1 NaN 0.94 0.94 0.94
EOF

cat >"$work/final-seeds.dat" <<'EOF'
# columns: label_index value seed ordinal
0 0.951 1 0
0 0.953 2 1
0 0.955 3 2
1 0.946 1 0
1 0.951 2 1
2 0.94 1 0
EOF

# Bounded metrics: two seeds 40 % and 95 % apart give a 95 % interval of the
# mean of [-282, 417] %, which mlplab clips to [0, 100] % (the first row); the
# second row is what a writer that does not clip would give. Neither may take
# the axis past 0 or 100 %.
cat >"$work/wide-final.dat" <<'EOF'
# columns: label mean ci_low ci_high n reference median min max
"two seeds, clipped" 0.675 0 1 2 NaN 0.675 0.4 0.95
"not clipped" 0.675 -2.82 4.17 2 NaN 0.675 0.4 0.95
EOF
cat >"$work/wide-seeds.dat" <<'EOF'
0 0.4 1 0
0 0.95 2 1
1 0.4 1 0
1 0.95 2 1
EOF
cat >"$work/wide-series.dat" <<'EOF'
# label: two seeds
"two seeds"
0 0.1 0.05 0.15 2 0.1 0.09 0.11
1 0.98 0.9 1 2 0.98 0.97 0.99
2 0.995 0.97 1 2 0.995 0.99 1
EOF

cat >"$work/final-noref.dat" <<'EOF'
"cross-entropy" 0.9531 0.9512 0.9550 5
"quadratic" 0.9482 0.9460 0.9504 5
EOF

# A confusion matrix as `mlplab figures` writes it: % of each true class.
cat >"$work/confusion.dat" <<'EOF'
# /confusion/final/test of synthetic, seed 1, epoch 3
# rows: true class 0..2; columns: predicted class; cells: % of the true class's examples
88 12 0
0 100 0
40 60 0
EOF

cat >"$work/neuron.dat" <<'EOF'
# mlplab series: synthetic single neuron
# label: quadratic, w = b = 2
# columns: epoch cost output
"quadratic, w = b = 2"
0 0.4822 0.9820
1 0.4820 0.9818
2 0.4818 0.9816
3 0.4816 0.9814


# label: cross-entropy, w = b = 2
# columns: epoch cost output
"cross-entropy, w = b = 2"
0 4.0181 0.9820
1 3.8680 0.9791
2 3.7180 0.9757
3 3.5681 0.9718
EOF

# Checks ----------------------------------------------------------------------

has_magic() {   # has_magic FILE: the bytes a file of its extension starts with
    local file=$1
    case $file in
    *.png) [ "$(head -c 8 "$file" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ;;
    *.svg) head -c 4096 "$file" | grep -q '<svg' ;;
    *.pdf) [ "$(head -c 4 "$file")" = "%PDF" ] ;;
    *) return 1 ;;
    esac
}

no_warnings() { ! grep -qi 'warning\|error' "$1"; }
contains() { grep -qF -- "$2" "$1"; }

# render NAME SCRIPT EXTENSION SETTINGS: runs one script; one check that the
# figure was drawn: exit 0, a file that starts with the format's magic bytes
# (so it is not empty), and no gnuplot warnings.
render() {
    local name=$1 script=$2 ext=$3 settings=$4
    local out="$work/$name.$ext" log="$work/$name.$ext.log"
    "$gnuplot_bin" -e "$settings; out='$out'" "$plots_dir/$script" 2>"$log"
    local status=$?
    if [ "$status" -eq 0 ] && has_magic "$out" && no_warnings "$log"; then
        pass "$name.$ext: $script draws it"
    else
        fail "$name.$ext: $script: exit $status, $(has_magic "$out" && echo "a $ext file" ||
            echo "no $ext file")" "$(cat "$log")"
    fi
}

for ext in png svg pdf; do
    render metric metric-vs-epoch.gp "$ext" \
        "data='$work/series.dat'; title='test accuracy'; metric='test_accuracy'; ylabel='test accuracy (%)'; scale=100"
    render metric-seeds metric-vs-epoch.gp "$ext" \
        "data='$work/series.dat'; seeds_data='$work/seeds.dat'; scale=100; keypos='below vertical'"
    render final final-errorbars.gp "$ext" \
        "data='$work/final.dat'; seeds_data='$work/final-seeds.dat'; metric='test_accuracy'; scale=100"
    render final-noref final-errorbars.gp "$ext" "data='$work/final-noref.dat'; show_n=0"
    render cost cost-vs-epoch.gp "$ext" "data='$work/neuron.dat'; logy=1"
    render output cost-vs-epoch.gp "$ext" "data='$work/neuron.dat'; col=3; ymin=0; ymax=1"
    render confusion confusion.gp "$ext" "data='$work/confusion.dat'; title='test set'"
done
check "confusion.svg: shows the cells' percentages" contains "$work/confusion.svg" ">88<"
check "confusion.svg: names its axes" contains "$work/confusion.svg" "predicted class"
printf '1 2 3\n4 5 6\n' >"$work/not-square.dat"
check "confusion.gp: refuses a matrix that is not square" \
    bash -c "! '$gnuplot_bin' -e \"data='$work/not-square.dat'; out='$work/ns.png'\" '$plots_dir/confusion.gp' 2>'$work/ns.log'"
check "confusion.gp: says it is not square" contains "$work/ns.log" "is not a square matrix"


# diagnostics-vs-epoch.gp: one curve per layer of one case, as mlplab figures
# writes it for a figure without layer: (blocks "layer 1", "layer 2").
cat >"$work/layers.dat" <<'EOF'
# mlplab series: diagnostics saturated_fraction per layer of one label, confidence 0.95: quadratic, 100 hidden
# layer 1
"layer 1"
0 NaN NaN NaN 0
1 0.20 0.18 0.22 3
2 0.15 0.13 0.17 3


# layer 2
"layer 2"
0 NaN NaN NaN 0
1 0.95 0.93 0.97 3
2 0.90 0.88 0.92 3
EOF
for ext in png svg pdf; do
    render layers diagnostics-vs-epoch.gp "$ext" \
        "data='$work/layers.dat'; title='saturated fraction per layer'; metric='saturated_fraction'; ylabel='saturated fraction'; ybound_low=0; ybound_high=1"
done
check "layers.svg: one curve per layer in the legend" \
    bash -c "grep -qF 'layer 1' '$work/layers.svg' && grep -qF 'layer 2' '$work/layers.svg'"
# A writer that ends every block with two blank lines leaves an empty block at
# the end: it must not count as a label (gnuplot would warn about it).
{ cat "$work/series.dat"; printf '\n\n'; } >"$work/trailing.dat"
render trailing metric-vs-epoch.gp png "data='$work/trailing.dat'"
{ cat "$work/neuron.dat"; printf '\n\n'; } >"$work/neuron-trailing.dat"
render neuron-trailing cost-vs-epoch.gp png "data='$work/neuron-trailing.dat'"

# The legend and tick labels come from the data files, unchanged.
check "metric.svg: legend shows a label with a comma" contains "$work/metric.svg" "cross-entropy, 30 hidden"
check "metric.svg: legend shows a label with '#', '_' and non-ASCII" \
    contains "$work/metric.svg" "quadratic #2 η_0=3.0"
check "metric.svg: legend explains the band" contains "$work/metric.svg" "95% confidence interval of the mean"
check "metric-seeds.svg: legend explains the thin lines" contains "$work/metric-seeds.svg" "single seeds"
check "final.svg: tick labels carry n" contains "$work/final.svg" "(n=5)"
check "final.svg: legend shows the published values" contains "$work/final.svg" "published"
check "final-noref.svg: no published entry without references" \
    bash -c "test -s '$work/final-noref.svg' && ! grep -qF published '$work/final-noref.svg'"
check "output.svg: default y label names the column" contains "$work/output.svg" "column 3"

check "final.svg: legend names the seeds' points" contains "$work/final.svg" "single seeds"

# Bounded metrics: the y axis never passes the bounds, also where the
# automatic range would (offsets, rounding to tics, an unclipped interval).
# y_range SCRIPT SETTINGS: "YMIN YMAX" of the figure drawn.
y_range() {
    "$gnuplot_bin" -e "$2; out='$work/yrange.png'" "$plots_dir/$1" \
        -e "print sprintf('%g %g', GPVAL_Y_MIN, GPVAL_Y_MAX)" 2>&1
}
in_bounds() {   # in_bounds "YMIN YMAX": 0 <= YMIN < YMAX <= 100
    awk -v r="$1" 'BEGIN { split(r, a, " "); exit !(a[1] >= 0 && a[2] <= 100 && a[1] < a[2]) }'
}
bounded="scale=100; ybound_low=0; ybound_high=100"
range=$(y_range final-errorbars.gp "data='$work/wide-final.dat'; seeds_data='$work/wide-seeds.dat'; $bounded")
check "final-errorbars.gp: an interval past 100 % keeps the axis in [0, 100] ($range)" in_bounds "$range"
range=$(y_range final-errorbars.gp "data='$work/wide-final.dat'; scale=100")
check "final-errorbars.gp: without bounds the same file goes past them ($range)" \
    bash -c "! awk -v r='$range' 'BEGIN { split(r, a, \" \"); exit !(a[1] >= 0 && a[2] <= 100) }'"
range=$(y_range metric-vs-epoch.gp "data='$work/wide-series.dat'; $bounded")
check "metric-vs-epoch.gp: a band up to 100 % keeps the axis in [0, 100] ($range)" in_bounds "$range"
check "metric-vs-epoch.gp: the axis reaches the bound, 100 ($range)" test "${range#* }" = 100
range=$(y_range metric-vs-epoch.gp "data='$work/wide-series.dat'; $bounded; ymin=50")
check "metric-vs-epoch.gp: ymin=50 with the bound gives [50, 100] ($range)" test "$range" = "50 100"

# median-range: the median and the seeds' range instead of the mean and CI.
for ext in png svg; do
    render final-median final-errorbars.gp "$ext" \
        "data='$work/final.dat'; seeds_data='$work/final-seeds.dat'; summary='median-range'; scale=100"
    render metric-median metric-vs-epoch.gp "$ext" \
        "data='$work/wide-series.dat'; summary='median-range'; $bounded"
done
check "final-median.svg: legend says median and range" contains "$work/final-median.svg" "median, range of the seeds"
check "metric-median.svg: legend says range of the seeds" contains "$work/metric-median.svg" "range of the seeds"
check "an unknown summary fails" \
    bash -c "! '$gnuplot_bin' -e \"data='$work/final.dat'; out='$work/s.png'; summary='mode'\" '$plots_dir/final-errorbars.gp' 2>'$work/summary.log'"
check "an unknown summary is named" contains "$work/summary.log" "summary must be mean-ci or median-range"

# xmin/xmax limit the epochs shown, and the y range fits only those.
# x_range SCRIPT SETTINGS: "XMIN XMAX YMIN YMAX" of the plot just drawn.
x_range() {
    "$gnuplot_bin" -e "$2; out='$work/range.svg'" "$plots_dir/$1" \
        -e "print sprintf('%g %g %g %g', GPVAL_X_MIN, GPVAL_X_MAX, GPVAL_Y_MIN, GPVAL_Y_MAX)" 2>&1
}
for ext in png svg pdf; do
    render metric-xrange metric-vs-epoch.gp "$ext" \
        "data='$work/series.dat'; seeds_data='$work/seeds.dat'; xmin=1; xmax=2"
    render cost-xmax cost-vs-epoch.gp "$ext" "data='$work/neuron.dat'; xmax=1; logy=1"
done
check "metric-vs-epoch.gp: xmin=1; xmax=2 shows epochs 1 to 2" \
    test "$(x_range metric-vs-epoch.gp "data='$work/series.dat'; xmin=1; xmax=2" | cut -d' ' -f1,2)" = "1 2"
check "metric-vs-epoch.gp: the y range fits epochs 1 to 2 only (max 0.9, not 0.95)" \
    test "$(x_range metric-vs-epoch.gp "data='$work/series.dat'; xmin=1; xmax=2" | cut -d' ' -f4)" = "0.9"
check "metric-vs-epoch.gp: without xmin/xmax every epoch is shown" \
    test "$(x_range metric-vs-epoch.gp "data='$work/series.dat'" | cut -d' ' -f1,2)" = "0 3"
check "cost-vs-epoch.gp: xmax=2 alone keeps the first epoch" \
    test "$(x_range cost-vs-epoch.gp "data='$work/neuron.dat'; xmax=2" | cut -d' ' -f1,2)" = "0 2"
check "cost-vs-epoch.gp: xmin=1 alone keeps the last epoch" \
    test "$(x_range cost-vs-epoch.gp "data='$work/neuron.dat'; xmin=1" | cut -d' ' -f1,2)" = "1 3"
check "metric-vs-epoch.gp: xmin >= xmax fails" \
    bash -c "! '$gnuplot_bin' -e \"data='$work/series.dat'; out='$work/bad.png'; xmin=3; xmax=1\" '$plots_dir/metric-vs-epoch.gp' 2>'$work/xrange.log'"
check "metric-vs-epoch.gp: says xmin must be less than xmax" \
    contains "$work/xrange.log" "xmin (3) must be less than xmax (1)"

# Study-file text reaches gnuplot only inside single-quoted strings, where
# gnuplot 5 expands neither backquotes nor @macros (mlplab figures relies on it).
check "a backquote in a single-quoted title is not run" \
    bash -c "'$gnuplot_bin' -e \"x='m'; title='a\\\`touch $work/pwned\\\` @x '' b'; print title\" 2>'$work/quote.log'; \
             [ ! -e '$work/pwned' ] && grep -qF \"a\\\`touch $work/pwned\\\` @x ' b\" '$work/quote.log'"

# The default output name: data file with .dat replaced by .png.
check "default out: series.png next to series.dat" \
    "$gnuplot_bin" -e "data='$work/series.dat'" "$plots_dir/metric-vs-epoch.gp"
check "default out: file is a PNG" has_magic "$work/series.png"

# Misuse fails with a message, not a blank figure.
for script in metric-vs-epoch.gp final-errorbars.gp cost-vs-epoch.gp confusion.gp \
    diagnostics-vs-epoch.gp; do
    check "$script: fails without data" \
        bash -c "! '$gnuplot_bin' -e \"out='$work/none.png'\" '$plots_dir/$script' 2>'$work/nodata.log'"
    check "$script: says data is missing" contains "$work/nodata.log" "error: no data file"
    check "$script: fails on an unknown output extension" \
        bash -c "! '$gnuplot_bin' -e \"data='$work/series.dat'; out='$work/x.jpg'\" '$plots_dir/$script' 2>'$work/ext.log'"
    check "$script: names the allowed extensions" contains "$work/ext.log" ".png, .svg, .pdf or .tex"
done

# Paper sizes: paper='column' is a 3.4 x 2.4 in PDF, 'page' 7 x 2.8 in (cairo
# rounds the page to whole points); an unknown size fails.
render paper-column final-errorbars.gp pdf "data='$work/final.dat'; scale=100; paper='column'"
render paper-page metric-vs-epoch.gp pdf "data='$work/series.dat'; scale=100; paper='page'"
check "paper='column': the PDF page is 3.4 x 2.4 in (244 x 172 pt)" \
    grep -aq '/MediaBox \[ 0 0 244 172 \]' "$work/paper-column.pdf"
check "paper='page': the PDF page is 7 x 2.8 in (504 x 201 pt)" \
    grep -aq '/MediaBox \[ 0 0 504 201 \]' "$work/paper-page.pdf"
check "an unknown paper size fails" \
    bash -c "! '$gnuplot_bin' -e \"data='$work/final.dat'; out='$work/p.pdf'; paper='a4'\" '$plots_dir/final-errorbars.gp' 2>/dev/null"

# LaTeX figures (cairolatex): NAME.tex with the texts, NAME.pdf with the
# lines; the texts come escaped for LaTeX in latex_* variables (as mlplab
# figures passes them), and a document that \input's every figure compiles.
mkdir -p "$work/tex"
cat >"$work/tex/texts.gp" <<'EOF'
latex_ylabel = 'test accuracy (\%)'
array latex_labels = ['cross-entropy, 30 hidden', 'quadratic \#2 \ensuremath{\eta}\_0=3.0', 'one seed only']
EOF
cat >"$work/tex/neuron-texts.gp" <<'EOF'
array latex_labels = ['quadratic, w = b = 2', 'cross-entropy, w = b = 2']
EOF
tex_figure() {   # tex_figure NAME SCRIPT SETTINGS [TEXTS]: draws tex/NAME.tex in tex/
    (cd "$work/tex" && "$gnuplot_bin" -e "load '${4:-texts.gp}'; $3; out='$1.tex'" \
        "$plots_dir/$2" 2>"$work/tex/$1.log")
    check "$1.tex: $2 draws NAME.tex and NAME.pdf" \
        bash -c "[ \$? -eq 0 ] && grep -q 'includegraphics' '$work/tex/$1.tex' && [ -s '$work/tex/$1.pdf' ]"
}
tex_figure metric metric-vs-epoch.gp "data='$work/series.dat'; seeds_data='$work/seeds.dat'; scale=100; paper='column'"
tex_figure final final-errorbars.gp "data='$work/final.dat'; seeds_data='$work/final-seeds.dat'; scale=100; paper='page'"
tex_figure neuron cost-vs-epoch.gp "data='$work/neuron.dat'; logy=1" neuron-texts.gp
check "metric.tex: the legend has the escaped label, not the raw one" \
    bash -c "grep -qF 'quadratic \#2 \ensuremath{\eta}\_0=3.0' '$work/tex/metric.tex' && ! grep -qF 'η' '$work/tex/metric.tex'"
check "final.tex: the bar labels are the escaped ones" \
    grep -qF 'quadratic \#2 \ensuremath{\eta}' "$work/tex/final.tex"
check "metric.tex: the band's legend writes % for LaTeX" grep -qF '95\% confidence' "$work/tex/metric.tex"
check "metric.tex: a paper figure has no title" bash -c "! grep -q 'title' '$work/tex/metric.tex'"
printf '%s\n' '\documentclass{article}' '\usepackage{graphicx,color}' '\begin{document}' \
    '\input{metric.tex}' '\input{final.tex}' '\input{neuron.tex}' '\end{document}' \
    >"$work/tex/paper.tex"
check "pdflatex compiles the three LaTeX figures" \
    bash -c "cd '$work/tex' && timeout 60 pdflatex -interaction=nonstopmode -halt-on-error paper.tex >/dev/null 2>&1"

if [ -n "${PLOTS_TEST_KEEP:-}" ]; then
    mkdir -p "$PLOTS_TEST_KEEP" && cp "$work"/*.png "$work"/*.svg "$work"/*.pdf "$work"/*.dat \
        "$PLOTS_TEST_KEEP"/
fi

suite_end
