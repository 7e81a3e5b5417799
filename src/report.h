/* report.h — a study's results as the reports read them: its runs across seeds,
 * by label, with the per-label values and statistics that the comparison
 * table (report_table.h) and the gnuplot data files (report_series.h) show.
 *
 * A study directory (results/NAME) holds study.yaml (written by `mlplab plan`;
 * optional here) and runs/ID.h5 run files. Only complete runs (ID.h5) are ever
 * averaged; .partial and .failed files, unreadable files and runs study.yaml
 * lists but that have no file are named in notes instead. Everything is
 * ordered deterministically (labels in study order, runs by seed then id), so
 * the same inputs give byte-identical outputs. docs/reports.md is the user's
 * description of the columns, files and statistics.
 *
 * Ownership: report_study_load allocates *out, report_study_free frees it.
 * Functions returning text through `char **text` malloc it; the caller frees. */
#ifndef MLP_REPORT_H
#define MLP_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"
#include "manifest.h"
#include "stats.h"
#include "store.h"

/* A published figure from study.yaml's `reference:` list. */
typedef struct report_reference {
    char *label, *metric, *source;   /* source "" when not given */
    double value;
} report_reference;

typedef struct report_pair {
    char *a, *b;                     /* labels compared by report.compare */
} report_pair;

typedef struct report_run {
    char *file_name;                 /* e.g. "3f2a9c0d5e7b1a48.h5", relative to runs/ */
    size_t label;                    /* index into report_study.labels */
    run_file data;
} report_run;

typedef struct report_study {
    char *dir;                       /* results/NAME as given */
    char *name;                      /* study.yaml name:, else the directory's base name */
    char *description;               /* "" when none */
    size_t label_count;
    char **labels;                   /* study order, then labels only run files name */
    size_t run_count;
    report_run *runs;                /* complete runs, sorted by label, seed, run id */
    size_t note_count;
    char **notes;                    /* runs left out and why, one sentence each */
    size_t reference_count;
    report_reference *references;
    size_t metric_count;
    char **metrics;                  /* report.table.metrics; 0 = the default columns */
    size_t compare_count;
    report_pair *compare;
    study_manifest *manifest;        /* study.yaml as read; NULL when the directory has none */
} report_study;

/* Reads DIR/study.yaml (if present) and every file in DIR/runs. Fails when DIR
 * has neither, or study.yaml is invalid (MLP_ERR_CONFIG). */
int report_study_load(const char *dir, report_study **out, mlp_error *err);
void report_study_free(report_study *study);

/* 1 when `metric` has a row in measures.h or is a custom metric some run of
 * the study has. */
int report_metric_known(const report_study *study, const char *metric);

/* The range a metric's values can take, in stored units (measures.h gives
 * them in shown units): [0, 1] for an accuracy, [0, inf) for a cost,
 * (-inf, inf) for a custom metric. Intervals in tables and data files are
 * clipped to it, and figures never draw an axis past it. */
void report_metric_bounds(const char *metric, double *low, double *high);

/* ---- per label: what the table and the data files are made of ---------- */

/* The index of label in study->labels, -1 when the study has no such label. */
int report_label_find(const report_study *study, const char *label);

/* How many complete runs the label has. */
size_t report_label_runs(const report_study *study, size_t label);

/* `metric` (measures_run_value) of each run of the label, in run order; *count
 * of them. Caller frees; NULL on out-of-memory. */
double *report_label_values(const report_study *study, size_t label, const char *metric,
                            size_t *count);

/* stats_summarize, with the interval clipped to the metric's bounds. */
int report_summarize(const double *values, size_t count, const char *metric, double confidence,
                     stats_summary *out, mlp_error *err);

/* report_summarize over the label's runs. */
int report_label_summary(const report_study *study, size_t label, const char *metric,
                         double confidence, stats_summary *out, mlp_error *err);

/* The study's published value of metric for label; NULL when it gives none. */
const report_reference *report_find_reference(const report_study *study, const char *label,
                                              const char *metric);

/* MLP_OK for a confidence level strictly between 0 and 1, else MLP_ERR_USAGE. */
int report_check_confidence(double confidence, mlp_error *err);

/* A number in the machine-read files (table.csv, the series/ data files): %.9g, with
 * NaN, Inf and -Inf spelt so. */
void report_put_number(FILE *out, double value);

/* Each value after a separator (",1,2" or " 1 2"). */
void report_put_numbers(FILE *out, char separator, const double *values, size_t count);

#endif
