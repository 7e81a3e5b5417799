/* report_table.h — a training study's comparison table: one row per label,
 * the mean ± sd over its seeds of each metric (report.table.metrics, or the
 * default columns of measures.h), a confidence interval where it matters, the
 * published value and the difference where the study gives one; below it the
 * notes (statistics, sources, runs left out) and the report.compare pairs
 * (Welch's t test). docs/reports.md describes the columns for users.
 *
 * Markdown and LaTeX come from one grid of cells (table.h); CSV has the raw
 * numbers (mean, sd, interval, n) instead of display text.
 *
 * Ownership: text returned through `char **` is malloc'ed; the caller frees. */
#ifndef MLP_REPORT_TABLE_H
#define MLP_REPORT_TABLE_H

#include "error.h"
#include "report.h"

/* The metric report.compare compares (its final values, Welch's t test). */
#define REPORT_COMPARED_METRIC "test_accuracy"

/* Renders the table. Markdown includes the notes and comparisons below it. */
typedef enum report_format { REPORT_MARKDOWN, REPORT_CSV, REPORT_LATEX } report_format;
int report_table_render(const report_study *study, double confidence, report_format format,
                        char **text, mlp_error *err);

/* Writes OUT_DIR/table.{md,csv,tex} atomically (creating OUT_DIR) and returns the
 * Markdown text in *markdown (may be NULL when not wanted). */
int report_table_write(const report_study *study, double confidence, const char *out_dir,
                       char **markdown, mlp_error *err);

#endif
