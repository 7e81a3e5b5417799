# final-errorbars.gp — the final value of a metric per label: the mean over
# seeds with its confidence interval as an error bar (or the median with the
# range of the seeds), every seed's value as a point beside it, and the
# published value where the study gives one.
#
# Usage:
#   gnuplot -e "data='results/S/series/final_test_accuracy.dat'; \
#               seeds_data='results/S/series/final_test_accuracy-seeds.dat'; \
#               out='results/S/figures/final.png'; metric='test_accuracy'; \
#               ylabel='test accuracy (%)'; scale=100; ybound_low=0; ybound_high=100" \
#           plots/final-errorbars.gp
#
# Variables (only `data` is required; see also common.gp: out, title, metric,
# ylabel, scale, logy, ymin, ymax, ybound_low, ybound_high, summary, width,
# height, font):
#   data        one row per label:
#               "LABEL" mean ci_low ci_high n reference median min max
#               (quoted label; reference NaN where there is none;
#               docs/figures.md gives the exact format)
#   seeds_data  optional: one row per run, `label_index value seed ordinal`:
#               each run's value drawn as a small open circle right of its bar
#   confidence  level of the error bars, for the legend only (default 0.95)
#   ylabel      default: metric, else "value"
#   show_n      1 = add "n=5" (values behind the bar) to each label (default 1)
#   reference_title  legend text of the published values (default "published")

# common.gp sits next to this script, wherever it is run from.
dirname(p) = strstrt(p, "/") ? p[1:strstrt(p, "/")].dirname(p[strstrt(p, "/") + 1:]) : ""
load dirname(ARG0).'common.gp'

if (!exists("confidence")) { confidence = 0.95 }
if (!exists("ylabel")) { ylabel = metric ne "" ? metric : "value" }
if (!exists("show_n")) { show_n = 1 }
if (!exists("reference_title")) { reference_title = "published" }

# Rows, the longest label, and whether any row has a reference value.
# (One column at a time: two-column stats fits a line and warns on 2 rows.)
stats [*:*][*:*] data using (strlen(strcol(1))) nooutput
rows = STATS_records
longest = STATS_max
stats [*:*][*:*] data using (valid(6) ? 1 : 0) nooutput
has_reference = STATS_sum > 0 ? 1 : 0
with_seeds = exists("seeds_data")

set ylabel ylabel
set xrange [-0.6:rows - 0.4]
set grid noxtics ytics
set xtics scale 0
# Long labels would overlap: turn them when they do not fit side by side.
# Turned labels carry n on the same line, upright ones on a second line.
rotated = (longest * rows > 70 || longest > 18) ? 1 : 0
bar_label(label, n) = !show_n ? label : \
    sprintf(rotated ? "%s (n=%d)" : "%s\nn=%d", label, n)
# gnuplot sizes the bottom margin for turned labels but not the left one, where
# the first label reaches past the axis; nor does it count the second line.
if (rotated) {
    set xtics rotate by 30 right
    set lmargin (longest + 6 * show_n) * 0.6 > 10 ? (longest + 6 * show_n) * 0.6 : 10
} else {
    if (show_n) { set bmargin 5 }    # two lines of labels and the key below
}
set offsets 0, 0, graph 0.05, graph 0.05
set key below center horizontal Left reverse    # never over a bar

# Final file columns: label mean ci_low ci_high n reference median min max.
centre = median_range ? 7 : 2
bar_low = median_range ? 8 : 3
bar_high = median_range ? 9 : 4
bar_title = median_range ? "median, range of the seeds" : \
    sprintf("mean, %g%s confidence interval", 100 * confidence, pct)
# The seeds sit right of their label's bar, a little apart from each other
# (by their order in the label), so that equal values stay countable.
seed_x(ordinal) = 0.14 + 0.05 * (int(ordinal) % 4)
# The seeds and the reference points are spliced in as macros (gnuplot reads a
# clause's data even inside an empty iteration); '' is the previous clause's file.
seed_points = with_seeds ? ", seeds_data using ($1 + seed_x($4)):($2 * scale) with points \
    lc rgb colour(1) pt 6 ps 0.9 lw 1.2 title 'single seeds'" : ""
reference_points = has_reference ? ", data using 0:($6 * scale) with points \
    lc rgb colour(2) pt 8 ps 1.8 lw 2 title reference_title" : ""
plot \
    data using 0:(scale * column(centre)):(scale * or_centre(bar_low)):(scale * or_centre(bar_high)):xtic(bar_label(latex_labelled ? latex_labels[int(column(0)) + 1] : strcol(1), $5)) \
        with yerrorbars lc rgb colour(0) pt 7 ps 1.3 lw 1.5 title bar_title @seed_points @reference_points
load dirname(ARG0).'draw.gp'
