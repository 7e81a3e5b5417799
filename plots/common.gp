# common.gp — shared set-up for the mlplab figure scripts; not a figure itself.
#
# Loaded by metric-vs-epoch.gp, final-errorbars.gp and cost-vs-epoch.gp as
#     load dirname.'common.gp'
# It checks the variables every script shares, fills in their defaults, picks
# the terminal from the extension of `out` and defines line styles that stay
# apart in grey print (colour, dash type and point type all vary).
#
# Shared variables (set with gnuplot -e "name='value'; ..."):
#   data    data file to plot (required)
#   out     output file; .png -> pngcairo, .svg -> svg, .pdf -> pdfcairo,
#           .tex -> cairolatex (NAME.tex and NAME.pdf, for \input in a paper)
#           (default: data with .dat replaced by .png)
#   paper   column or page: the PDF and .tex at the size of one column of a
#           two-column paper (3.4 x 2.4 in, 8 pt) or of the page width (7 x
#           2.8 in, 9 pt), without a title (the caption carries it)
#   latex_title, latex_ylabel, latex_xlabel, latex_labels  the texts escaped
#           for LaTeX, used for .tex (mlplab figures passes them)
#   title   figure title (default: none)
#   metric  name of what is plotted, e.g. test_accuracy (default: none; used as
#           the default ylabel)
#   ylabel  y axis label (default: metric, else the script's own default)
#   scale   factor applied to every y value, e.g. 100 for percent (default 1)
#   logy    1 = logarithmic y axis (default 0)
#   width, height  size in pixels for png/svg (default 800 x 560); pdf pages
#           are width/160 x height/160 inches (5 x 3.5 in by default)
#   font    font name and size for png/svg (default "sans,11"; pdf uses 9 pt)
#   ymin, ymax  y range in plotted units (after scale), e.g. ymin=90 to zoom in
#           (default: automatic)
#   ybound_low, ybound_high  the metric's bounds in plotted units (0 and 100 for
#           an accuracy in percent): the automatic range never goes past them
#   summary mean-ci (default) or median-range: what the line or bar stands for
#   xmin, xmax  x range in epochs, for the per-epoch scripts (metric-vs-epoch.gp,
#           cost-vs-epoch.gp), e.g. xmax=5 to show the first epochs (default:
#           the epochs in the data file); the y range then fits what is shown

if (!exists("data")) {
    print "error: no data file: run gnuplot -e \"data='FILE.dat'; out='FIG.png'\" ".ARG0
    exit status 2
}

# The default output is the data file's name with .png.
if (!exists("out")) {
    out = (strlen(data) > 4 && data[strlen(data)-3:] eq ".dat") ? \
          data[1:strlen(data)-4].".png" : data.".png"
}
if (!exists("title")) { title = "" }
if (!exists("metric")) { metric = "" }
if (!exists("scale")) { scale = 1 }
if (!exists("logy")) { logy = 0 }
if (!exists("width")) { width = 800 }
if (!exists("height")) { height = 560 }
if (!exists("font")) { font = "sans,11" }

# Paper sizes (PDF and .tex): `paper='column'` is one column of a two-column
# paper, 3.4 x 2.4 in, text at 8 pt; `paper='page'` the width of the page,
# 7 x 2.8 in, 9 pt. Without `paper` a PDF is width/160 x height/160 in, 9 pt.
if (!exists("paper")) { paper = "" }
if (paper ne "" && paper ne "column" && paper ne "page") {
    print sprintf("error: paper must be column or page, not '%s'", paper)
    exit status 2
}
paper_in_w = paper eq "page" ? 7.0 : (paper eq "column" ? 3.4 : width / 160.0)
paper_in_h = paper eq "page" ? 2.8 : (paper eq "column" ? 2.4 : height / 160.0)
paper_pt = paper eq "column" ? 8 : 9

# Terminal from the extension. noenhanced everywhere: labels such as
# "test_accuracy" or "x^2 cost" must print as written, not as sub/superscripts.
# .tex is gnuplot's cairolatex terminal: NAME.tex holds the text, typeset by
# LaTeX in the document's own fonts, and NAME.pdf the graphics it includes
# (\input{NAME.tex} with graphicx and color loaded).
# The figure is first drawn to /dev/null, then again by draw.gp to `out`.
out_ext = strlen(out) >= 4 ? out[strlen(out)-3:] : ""
latex = out_ext eq ".tex"
# Lines and marks thinner and smaller on a paper's 3.4 in than on a screen.
paper_lines = paper ne "" ? "linewidth 0.8 pointscale 0.5" : "linewidth 1.2"
paper_pdf = sprintf("set terminal pdfcairo noenhanced size %.3fin, %.3fin font 'sans,%d' %s", \
                    paper_in_w, paper_in_h, paper_pt, paper_lines)
if (out_ext eq ".png") {
    terminal_command = "set terminal pngcairo noenhanced size width, height font font linewidth 1.2"
} else {
    if (out_ext eq ".svg") {
        terminal_command = "set terminal svg noenhanced size width, height dynamic font font linewidth 1.2"
    } else {
        if (out_ext eq ".pdf") {
            terminal_command = paper_pdf
        } else {
            if (latex) {
                # The text at the size of a paper's figure text (\\footnotesize:
                # 8 pt in a 10 pt document; \\small for a page-wide figure);
                # the font size only tells gnuplot how much room text takes.
                terminal_command = sprintf("set terminal cairolatex pdf size %.3fin, %.3fin %s header '\\%s' font ',%d'", \
                                           paper_in_w, paper_in_h, paper_lines, \
                                           paper eq "page" ? "small" : "footnotesize", paper_pt)
            } else {
                print sprintf("error: cannot tell the output format of '%s': end it in .png, .svg, .pdf or .tex", out)
                exit status 2
            }
        }
    }
}
# Each script plots to /dev/null first and ends with `load dirname(ARG0).'draw.gp'`,
# which checks the y range gnuplot chose against the metric's bounds and draws
# the figure again, to `out`. (The `unknown` terminal would do without the
# drawing, but warns; the same terminal also rounds the ranges the same way.
# cairolatex writes a second file next to its output, so its first pass is
# the PDF terminal of the same size: the ranges do not depend on the text.)
if (latex) { eval paper_pdf } else { eval terminal_command }
set output "/dev/null"

# LaTeX typesets every text of a .tex figure: mlplab passes them escaped for
# it (latex_title, latex_ylabel, latex_xlabel, latex_labels: the labels in the
# order of the data file's blocks or rows), and the scripts' own texts write %
# as `pct`. A paper's caption carries the title: paper figures have none.
pct = latex ? "\\%" : "%"
if (latex) {
    title = ""
    if (exists("latex_ylabel")) { ylabel = latex_ylabel }
    if (exists("latex_xlabel")) { xlabel = latex_xlabel }
}
if (out_ext eq ".pdf" && paper ne "") { title = "" }
latex_labelled = latex && exists("latex_labels")
if (!exists("latex_labels")) { array latex_labels[1] }
# The legend entry of block i: its label line, or for LaTeX its escaped label.
key_title = latex_labelled ? "latex_labels[i+1]" : "columnheader(1)"

# Eight styles, cycled. Colours: the Okabe-Ito colour-blind-safe palette,
# darkest first; each style also has its own dash type and point type.
array style_colour[8] = [0x000000, 0x0072B2, 0xD55E00, 0x009E73, \
                         0xCC79A7, 0xE69F00, 0x56B4E9, 0x666666]
array style_dash[8] = [1, 2, 4, 5, 3, 2, 4, 5]
array style_point[8] = [7, 5, 9, 13, 6, 4, 8, 12]
style(i) = (i % 8) + 1        # i counts from 0 (block or row index)
colour(i) = style_colour[style(i)]
# Same colour, mostly transparent (alpha in the top byte: 0 opaque, 255 clear).
faint(i) = colour(i) + 0xA0 * 2**24

set encoding utf8
set title title
set grid back lc rgb "#dddddd" lw 1 dt 1
set border 3 back
set tics nomirror out
set key noenhanced opaque box lc rgb "#aaaaaa" samplen 3 spacing 1.1
if (paper ne "" && (out_ext eq ".pdf" || latex)) { set key samplen 1.5 spacing 0.9 }
if (logy) { set logscale y }
# The y range: ymin/ymax where given, else automatic, but never past the
# metric's bounds (ybound_low/ybound_high: 0 and 100 for an accuracy in
# percent): gnuplot's autoscale limits [low<*:*<high] keep the data range in,
# and draw.gp pulls back what rounding to tics and offsets add.
# Only numbers reach eval.
y_from = exists("ymin") ? sprintf("%.17g", ymin) : \
         (exists("ybound_low") ? sprintf("%.17g<*", ybound_low) : "*")
y_to = exists("ymax") ? sprintf("%.17g", ymax) : \
       (exists("ybound_high") ? sprintf("*<%.17g", ybound_high) : "*")
eval "set yrange [".y_from.":".y_to."]"
# What a line or bar stands for: mean-ci (the mean, its confidence interval)
# or median-range (the median, the range of the seeds: for a spread that is not
# normal). The series and final files carry both (docs/figures.md).
if (!exists("summary")) { summary = "mean-ci" }
if (summary ne "mean-ci" && summary ne "median-range") {
    print sprintf("error: summary must be mean-ci or median-range, not '%s'", summary)
    exit status 2
}
median_range = summary eq "median-range"
if (exists("xmin") && exists("xmax")) {
    if (!(xmin < xmax)) {
        print sprintf("error: xmin (%g) must be less than xmax (%g)", xmin, xmax)
        exit status 2
    }
}

# Undefined values (NaN) read as "missing"; a band bound that is missing (fewer
# than 2 seeds) falls back to the column drawn as the line or point (`centre`,
# set by each script: the mean, or the median), so the band narrows to it.
or_centre(c) = valid(c) ? column(c) : column(centre)
