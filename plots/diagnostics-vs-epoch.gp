# diagnostics-vs-epoch.gp — a /diagnostics field against epoch (the saturated
# fraction, mean |δ|, ... of a layer; docs/run-file.md): one curve per label
# (one layer of every case) or one curve per layer (of one case), each the mean
# over seeds with its confidence band.
#
# The data file is metric-vs-epoch's series file, whose blocks are the curves
# ("layer 1", "layer 2", ... for one curve per layer), and every variable is
# metric-vs-epoch.gp's; only the legend's default place differs, as these
# curves mostly fall or stay low.

if (!exists("keypos")) { keypos = "top right" }
dirname(p) = strstrt(p, "/") ? p[1:strstrt(p, "/")].dirname(p[strstrt(p, "/") + 1:]) : ""
load dirname(ARG0).'metric-vs-epoch.gp'
