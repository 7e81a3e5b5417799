# confusion.gp — one run's confusion matrix as a heat map: true class down the
# side (0 at the top), predicted class along the bottom, each cell the % of the
# true class's examples predicted as that class, so the diagonal is the
# per-class accuracy and a class the network never predicts is an empty column.
#
# Usage:
#   gnuplot -e "data='results/S/series/confusion-final-test-x.dat'; \
#               out='results/S/figures/confusion-final-test-x.png'; \
#               title='quadratic, seed 2: test set'" plots/confusion.gp
#
# Variables (only `data` is required; see also common.gp: out, title, width,
# height, font):
#   data      the matrix, gnuplot's `matrix` format: one line per true class,
#             one number per predicted class, in % of the row ('#' lines are
#             comments); `mlplab figures` writes it (docs/figures.md)
#   xlabel    default "predicted class"
#   ylabel    default "true class"

dirname(p) = strstrt(p, "/") ? p[1:strstrt(p, "/")].dirname(p[strstrt(p, "/") + 1:]) : ""
if (!exists("height")) { height = 700 }
if (!exists("width")) { width = 760 }
load dirname(ARG0).'common.gp'

if (!exists("xlabel")) { xlabel = "predicted class" }
if (!exists("ylabel") || ylabel eq "") { ylabel = "true class" }

stats data matrix using 3 name "CELL" nooutput
classes = int(sqrt(CELL_records + CELL_invalid) + 0.5)
if (classes * classes != CELL_records + CELL_invalid) {
    print sprintf("error: %s is not a square matrix (%d cells)", data, CELL_records + CELL_invalid)
    exit status 2
}

unset key
unset grid
set border 15
set tics nomirror in scale 0
set xtics 1
set ytics 1
set xlabel xlabel
set ylabel ylabel
set xrange [-0.5:classes - 0.5]
set yrange [classes - 0.5:-0.5]
set size ratio -1
set cbrange [0:100]
set cblabel "% of the true class"
set cbtics 20
# White to the palette's blue (Okabe-Ito, colour-blind safe); cells above half
# get white numbers, the rest black.
set palette defined (0 "#ffffff", 100 "#0072B2")
cell(v) = v != v ? "" : (v < 0.5 ? (v > 0 ? "<1" : "0") : sprintf("%.0f", v))

plot data matrix with image pixels, \
     data matrix using 1:2:($3 >= 50 ? cell($3) : "") with labels tc rgb "#ffffff", \
     data matrix using 1:2:($3 < 50 ? cell($3) : "") with labels tc rgb "#000000"
load dirname(ARG0).'draw.gp'
