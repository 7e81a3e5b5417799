#!/usr/bin/env bash
# figures.sh RESULTS/NAME MLPLAB: the series files and gnuplot figures of one
# study: test accuracy and training cost against epoch (mean and interval band
# per label), final test accuracy with error bars; PNG, SVG and PDF each.
set -euo pipefail
study=$1
mlplab=$2
name=$(basename "$study")
mkdir -p "$study/figures"
plot() {   # plot SCRIPT DATA OUT-STEM TITLE YLABEL SCALE
    for ext in png svg pdf; do
        gnuplot -e "data='$2'; out='$3.$ext'; title='$4'; ylabel='$5'; scale=$6" "$1"
    done
}
"$mlplab" series "$study" --metric test_accuracy >/dev/null
plot plots/metric-vs-epoch.gp "$study/series/test_accuracy.dat" "$study/figures/test_accuracy" \
    "$name: test accuracy" "test accuracy (%)" 100
"$mlplab" series "$study" --metric train_cost >/dev/null
plot plots/metric-vs-epoch.gp "$study/series/train_cost.dat" "$study/figures/train_cost" \
    "$name: training cost" "training cost" 1
"$mlplab" series "$study" --metric test_accuracy --final >/dev/null
plot plots/final-errorbars.gp "$study/series/final-test_accuracy.dat" "$study/figures/final_test_accuracy" \
    "$name: final test accuracy" "test accuracy (%)" 100
