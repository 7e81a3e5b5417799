# draw.gp — the end of every figure script; not a figure itself.
#
# The script has just plotted to /dev/null (common.gp sets that up), so gnuplot
# has chosen its ranges. Rounding the range to
# whole tics and `set offsets` can take an automatic y range past the bounds of
# what is plotted (an accuracy above 100 %); here the range is pulled back to
# ybound_low/ybound_high where it went past them, and the plot is drawn again,
# this time to `out`.
y_low = GPVAL_Y_MIN
y_high = GPVAL_Y_MAX
y_pulled = 0
if (exists("ybound_low") && y_low < ybound_low) { y_low = ybound_low; y_pulled = 1 }
if (exists("ybound_high") && y_high > ybound_high) { y_high = ybound_high; y_pulled = 1 }
if (y_pulled && y_low < y_high) { set yrange [y_low:y_high] }
if (latex) { eval terminal_command }   # the first pass was the PDF terminal
set output out
replot
set output
