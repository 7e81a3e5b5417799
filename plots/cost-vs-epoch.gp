# cost-vs-epoch.gp — a single run per label against epoch, for the
# single-neuron studies (Nielsen ch. 3: quadratic vs cross-entropy learning
# slowdown): the cost by default, or another column such as the output.
#
# Usage:
#   gnuplot -e "data='results/S/neuron.dat'; out='results/S/figures/cost.png'; \
#               title='starting at w = 2, b = 2'; logy=1" plots/cost-vs-epoch.gp
#   gnuplot -e "data='results/S/neuron.dat'; out='results/S/figures/output.png'; \
#               col=3; ylabel='output'" plots/cost-vs-epoch.gp
#
# Variables (only `data` is required; see also common.gp: out, title, metric,
# ylabel, scale, logy, ymin, ymax, xmin, xmax, width, height, font):
#   data      one block per label, blocks separated by two blank lines; each
#             block is `# label: TEXT`, optionally `# columns: epoch cost ...`,
#             the quoted label line "TEXT", then rows `epoch cost [more columns]`
#             (docs/figures.md gives the exact format)
#   col       column to plot against epoch (default 2, the cost)
#   xlabel    default "epoch"
#   ylabel    default: metric, else "cost" for column 2, else "column N"
#   keypos    where the legend goes, as for `set key` (default "below vertical": a slow
#             start runs flat along the top, where a key inside would hide it)
#   points    marks per line, roughly (default 10; 0 = lines only)

# common.gp sits next to this script, wherever it is run from.
dirname(p) = strstrt(p, "/") ? p[1:strstrt(p, "/")].dirname(p[strstrt(p, "/") + 1:]) : ""
load dirname(ARG0).'common.gp'

if (!exists("col")) { col = 2 }
if (!exists("xlabel")) { xlabel = "epoch" }
if (!exists("ylabel")) {
    ylabel = metric ne "" ? metric : (col == 2 ? "cost" : sprintf("column %d", col))
}
if (!exists("keypos")) { keypos = "below vertical" }
if (!exists("points")) { points = 10 }

stats [*:*][*:*] data using 1 name "EPOCH" nooutput
# Blocks counted by the index of the last one holding data: STATS_blocks would
# also count an empty block after trailing blank lines.
stats [*:*][*:*] data using (column(-2)) name "BLOCK" nooutput
blocks = BLOCK_max + 1
# The x range: the file's epochs, narrowed by xmin/xmax when given.
x_low = exists("xmin") ? xmin : EPOCH_min
x_high = exists("xmax") ? xmax : EPOCH_max
every_nth = (points > 0 && x_high - x_low > points) ? int((x_high - x_low) / points) : 1
mark_size = points > 0 ? 1.1 : 0

set xlabel xlabel
set ylabel ylabel
eval "set key Left reverse ".keypos
# gnuplot 5.4 lets a key below overlap the x label: make room for one line per entry.
if (strstrt(keypos, "below")) { set bmargin 4.5 + 1.1 * blocks }
if (x_high > x_low) { set xrange [x_low:x_high] }   # one epoch: automatic
if (x_high - x_low <= 10) { set xtics 1 }   # whole epochs, not 0.5 steps

plot for [i=0:blocks-1] data index i using 1:(scale * column(col)) \
    with linespoints lw 2 lc rgb colour(i) dt style_dash[style(i)] \
    pt style_point[style(i)] ps mark_size pi every_nth title @key_title
load dirname(ARG0).'draw.gp'
