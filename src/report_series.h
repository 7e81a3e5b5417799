/* report_series.h — a study's gnuplot data files (docs/figures.md): the series
 * file (metric against epoch, one block per label, mean and interval), the
 * seeds file (one block per run), the final file (one row per label, with the
 * published value where the study gives one) and the final seeds file (the
 * final value of every run, one row each). Intervals are clipped to the
 * metric's bounds (report_metric_bounds).
 *
 * Ownership: text returned through `char **` is malloc'ed; the caller frees. */
#ifndef MLP_REPORT_SERIES_H
#define MLP_REPORT_SERIES_H

#include "error.h"
#include "report.h"

/* only_label NULL: every label; else only that label's runs, in the same
 * formats (one block or row; label_index 0 in the seeds file). A label the
 * study does not have is an error (MLP_ERR_USAGE) that lists its labels. */
typedef enum report_series_kind {
    REPORT_SERIES, REPORT_SEEDS, REPORT_FINAL, REPORT_FINAL_SEEDS
} report_series_kind;
int report_series_render(const report_study *study, const char *metric, double confidence,
                         report_series_kind kind, const char *only_label, char **text,
                         mlp_error *err);

/* Label text safe inside gnuplot double quotes: `"` -> `'`, `\` -> `/`, control
 * characters -> space. Returns a malloc'ed string, NULL on out-of-memory. */
char *report_gnuplot_label(const char *label);

#endif
