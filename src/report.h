/* report.h — aggregation of a study's runs across seeds: the comparison table
 * (Markdown, CSV, LaTeX) and the gnuplot data files of docs/figures.md.
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

#include "error.h"
#include "manifest.h"
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

/* Renders the table. Markdown includes the notes and comparisons below it. */
typedef enum report_format { REPORT_MARKDOWN, REPORT_CSV, REPORT_LATEX } report_format;
int report_table_render(const report_study *study, double confidence, report_format format,
                        char **text, mlp_error *err);

/* Writes OUT_DIR/table.{md,csv,tex} atomically (creating OUT_DIR) and returns the
 * Markdown text in *markdown (may be NULL when not wanted). */
int report_table_write(const report_study *study, double confidence, const char *out_dir,
                       char **markdown, mlp_error *err);

/* gnuplot data files (docs/figures.md): the series file (metric against epoch,
 * one block per label), the seeds file (one block per run), the final file
 * (one row per label, with the published value where the study gives one) and
 * the final seeds file (the final value of every run, one row each).
 * Intervals are clipped to the metric's bounds (report_metric_bounds).
 * only_label NULL: every label; else only that label's runs, in the same
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
