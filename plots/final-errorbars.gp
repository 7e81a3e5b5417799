# final-errorbars.gp — the final value of a metric per label: the mean over
# seeds with its confidence interval as an error bar, and the published value
# where the study gives one.
#
# Usage:
#   gnuplot -e "data='results/S/final-test_accuracy.dat'; out='results/S/figures/final.png'; \
#               metric='test_accuracy'; ylabel='test accuracy (%)'; scale=100" \
#           plots/final-errorbars.gp
#
# Variables (only `data` is required; see also common.gp: out, title, metric,
# ylabel, scale, logy, ymin, ymax, width, height, font):
#   data        one row per label: "LABEL" mean ci_low ci_high n [reference]
#               (quoted label; reference is optional, NaN where there is none;
#               docs/figures.md gives the exact format)
#   confidence  level of the error bars, for the legend only (default 0.95)
#   ylabel      default: metric, else "value"
#   show_n      1 = add "n=5" (values behind the bar) to each label (default 1)
#   reference_title  legend text for the published values (default "published")

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

mean_title = sprintf("mean, %g%% confidence interval", 100 * confidence)
# The reference points are spliced in as a macro (gnuplot reads a clause's data
# even inside an empty iteration); '' is the previous clause's file.
reference_points = has_reference ? ", '' using 0:($6 * scale) with points \
    lc rgb colour(2) pt 6 ps 2 lw 2 title reference_title" : ""
plot \
    data using 0:($2 * scale):(scale * or_mean(3)):(scale * or_mean(4)):xtic(bar_label(strcol(1), $5)) \
        with yerrorbars lc rgb colour(0) pt 7 ps 1.3 lw 1.5 title mean_title @reference_points
