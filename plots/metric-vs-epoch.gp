# metric-vs-epoch.gp — one metric against epoch, one line per label: the mean
# over seeds with its confidence band, and optionally every seed as a thin line.
#
# Usage:
#   gnuplot -e "data='results/S/test_accuracy.dat'; out='results/S/figures/test_accuracy.png'; \
#               title='...'; metric='test_accuracy'; ylabel='test accuracy (%)'; scale=100" \
#           plots/metric-vs-epoch.gp
#
# Variables (only `data` is required; see also common.gp: out, title, metric,
# ylabel, scale, logy, ymin, ymax, xmin, xmax, width, height, font):
#   data        series file: one block per label, blocks separated by two blank
#               lines; each block is `# label: TEXT`, then the quoted label
#               line "TEXT", then rows `epoch mean ci_low ci_high n median min max`
#               (docs/figures.md gives the exact format)
#   seeds_data  optional second file with one block per label x seed, rows
#               `epoch value label_index seed`: drawn as thin lines under the means
#   confidence  level of the bands, for the legend only (default 0.95)
#   summary     mean-ci (default): mean and confidence band; median-range: the
#               median and the range of the seeds (columns 6-8)
#   xlabel      default "epoch"
#   ylabel      default: metric, else "value"
#   keypos      where the legend goes, as for `set key` (default "bottom right",
#               "top right" when the metric is a cost)
#   points      marks per line, roughly (default 10; 0 = lines only)

# common.gp sits next to this script, wherever it is run from.
dirname(p) = strstrt(p, "/") ? p[1:strstrt(p, "/")].dirname(p[strstrt(p, "/") + 1:]) : ""
load dirname(ARG0).'common.gp'

if (!exists("confidence")) { confidence = 0.95 }
if (!exists("xlabel")) { xlabel = "epoch" }
if (!exists("ylabel")) { ylabel = metric ne "" ? metric : "value" }
if (!exists("keypos")) { keypos = strstrt(metric, "cost") ? "top right" : "bottom right" }
if (!exists("points")) { points = 10 }

stats [*:*][*:*] data using 1 name "EPOCH" nooutput
# Blocks counted by the index of the last one holding data: STATS_blocks would
# also count an empty block after trailing blank lines.
stats [*:*][*:*] data using (column(-2)) name "BLOCK" nooutput
blocks = BLOCK_max + 1
# Marks every few epochs, so long runs do not turn into a smear of symbols.
# The x range: the file's epochs, narrowed by xmin/xmax when given.
x_low = exists("xmin") ? xmin : EPOCH_min
x_high = exists("xmax") ? xmax : EPOCH_max
every_nth = (points > 0 && x_high - x_low > points) ? int((x_high - x_low) / points) : 1
mark_size = points > 0 ? 1.1 : 0

set xlabel xlabel
set ylabel ylabel
eval "set key Left reverse ".keypos
# gnuplot 5.4 lets a key below overlap the x label: make room for one line per entry.
if (strstrt(keypos, "below")) { set bmargin 4.5 + 1.1 * (blocks + 1 + exists("seeds_data")) }
if (x_high > x_low) { set xrange [x_low:x_high] }   # one epoch: automatic
if (x_high - x_low <= 10) { set xtics 1 }   # whole epochs, not 0.5 steps

band_title = median_range ? "range of the seeds (line: median)" : \
    sprintf("%g%s confidence interval of the mean", 100 * confidence, pct)
# Series file columns: epoch mean ci_low ci_high n median min max.
centre = median_range ? 6 : 2
band_low = median_range ? 7 : 3
band_high = median_range ? 8 : 4
seed_title = "single seeds"

# Drawn bottom to top: seeds, bands, means. The legend lists the labels first;
# the keyentry lines at the end only explain the band and the thin lines.
# The optional seeds are spliced in as macros: gnuplot evaluates a clause's
# file name even when an iteration around it is empty.
seeds_lines = exists("seeds_data") ? "seeds_data using 1:($2 * scale):(faint(int($3))) \
    with lines lw 0.7 lc rgb variable notitle," : ""
seeds_key = exists("seeds_data") ? \
    ", keyentry with lines lw 0.7 lc rgb '#999999' title seed_title" : ""
plot @seeds_lines \
    for [i=0:blocks-1] data index i using 1:(scale * or_centre(band_low)):(scale * or_centre(band_high)) \
        with filledcurves fs transparent solid 0.18 noborder lc rgb colour(i) notitle, \
    for [i=0:blocks-1] data index i using 1:(scale * column(centre)) \
        with linespoints lw 2 lc rgb colour(i) dt style_dash[style(i)] \
        pt style_point[style(i)] ps mark_size pi every_nth title @key_title, \
    keyentry with filledcurves fs transparent solid 0.25 noborder lc rgb "#777777" \
        title band_title @seeds_key
load dirname(ARG0).'draw.gp'
