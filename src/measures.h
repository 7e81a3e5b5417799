/* measures.h — the one table of the metrics mlplab reports: every /metrics
 * field of a run file (test_accuracy per epoch, ...) and every derived per-run
 * value (best_validation_accuracy, seconds_per_epoch, ...). The comparison
 * table (report.c), the figures (figures.c), the reproduction checks (check.c)
 * and `mlplab plan`'s validation of a study's report: block all look metrics
 * up here, so a metric known to one is known to all.
 *
 * A row says what the metric is called for a reader (label, unit), what values
 * it can take (bounds, in the unit shown), whether it has a value per epoch or
 * one per run, and how that value is computed from a run file. Adding a metric
 * is adding a row to measures.c (and its line to docs/reports.md).
 *
 * Custom metrics (returned by Lua hooks, which declare their names; hooks.h,
 * docs/hooks.md) have no row: they are per-epoch values found in the run file
 * by name, shown in percent when their name contains "accuracy" (as fractions
 * are stored), else as they are. A hook cannot declare a built-in name.
 *
 * Everything here is static data or pure functions; the caller frees nothing. */
#ifndef MLP_MEASURES_H
#define MLP_MEASURES_H

#include <stddef.h>

#include "store.h"

/* What a run must have for a metric to have a value (a row's `needs`, a set
 * of these bits) and what a run has (measures_recorded): a report that asks
 * for a metric its runs cannot record is refused by `mlplab plan`
 * (study.h), not found empty after training. */
enum {
    MEASURE_TRAIN_PASS = 1u << 0,   /* train.monitor_train: the training set measured */
    MEASURE_VALIDATION = 1u << 1,   /* a validation part */
    MEASURE_TEST = 1u << 2,         /* a test part */
    MEASURE_CLASSES = 1u << 3,      /* class targets: accuracies and confusion matrices */
    MEASURE_OUTPUT = 1u << 4,       /* train.monitor_output: train_output */
    MEASURE_DIAGNOSTICS = 1u << 5,  /* train.diagnostics: the /diagnostics fields */
};

/* How a value is printed in tables and notes: fixed decimals or significant digits. */
typedef enum measure_style { MEASURE_SIGNIFICANT, MEASURE_FIXED } measure_style;

typedef struct measure {
    const char *name;        /* as written in study files and on the command line */
    const char *label;       /* a reader's name for it, e.g. "test accuracy" */
    const char *unit;        /* the unit shown ("%", "s", "epoch"), "" for plain numbers */
    double scale;            /* shown = stored * scale (100: fractions shown in percent) */
    double lower, upper;     /* bounds of the shown value (INFINITY when unbounded) */
    int per_epoch;           /* 1: one value per epoch (a /metrics field);
                                0: one value per run, derived from the whole history */
    const char *column;      /* the comparison table's heading; NULL: derived from the name */
    measure_style style;     /* with digits: how a shown value is printed */
    int digits;
    /* per_epoch 0 only: the run's value, NaN when the run has none. */
    double (*per_run)(const run_file *run);
    unsigned needs;          /* MEASURE_* bits a run needs for a value (0: every run has one) */
    const char *doc;         /* how it is computed, one line (docs/reports.md says the same) */
} measure;

/* The rows, in a fixed order (the /metrics fields first, in metrics.h's order). */
extern const measure measures_table[];
extern const size_t measures_count;

/* The row named `name`, NULL when `name` is not a built-in metric (it may
 * still be a custom metric of some run). */
const measure *measures_find(const char *name);

/* The row of a /diagnostics field (diagnostics.h) for its per-epoch metric
 * layerK_FIELD or for FIELD itself, NULL for any other name; *layer (if not
 * NULL) gets K, 0 for FIELD. Its label and unit name the field ("saturated
 * fraction"), not the layer; its bounds are the field's. Not in
 * measures_table: which layers a run has depends on the run. */
const measure *measures_diagnostic(const char *name, int *layer);

/* The MEASURE_* bits a run of `config` records (data_shape_of for its data). */
struct mlp_config;
unsigned measures_recorded(const struct mlp_config *config);

/* Why a run does not record what the bits `missing` (needs & ~recorded, not 0)
 * stand for, for the first of them: *reason ("inline data has no test part")
 * and *hint ("set train.monitor_train: true"). is_inline: the run's data is
 * dataset.inline. Static strings. */
void measures_unrecorded(unsigned missing, int is_inline, const char **reason, const char **hint);

/* 1 when `name` is a built-in metric's: a row's, or a /diagnostics metric's
 * (layerK_FIELD). A custom metric may not take such a name. */
int measures_is_builtin(const char *name);

/* "; did you mean 'x'?" when `word` is near a row's name or one of the n_extra
 * names of `extra` (custom metrics; may be NULL), else "" (suggest.h). */
void measures_did_you_mean(const char *word, const char *const *extra, size_t n_extra,
                           char *text, size_t size);

/* The comparison table's default columns, in order, NULL-terminated. */
extern const char *const measures_default_columns[];

/* The value of `name` at `epoch`: a /metrics field or a custom metric of the
 * run; NaN when absent, out of range, or a per-run measure. */
double measures_epoch_value(const run_file *run, const char *name, size_t epoch);

/* One number per run: a per-run row's value, else the per-epoch value at the
 * final epoch. NaN when the run does not have it. */
double measures_run_value(const run_file *run, const char *name);

/* Shown = stored * measures_scale(name): the row's scale, for a custom metric
 * 100 when its name contains "accuracy", else 1. */
double measures_scale(const char *name);

/* 1 when the metric is shown in percent (a row with unit "%", or a custom
 * metric named *accuracy*). */
int measures_is_percent(const char *name);

/* A stored value as the tables print it: scaled, in the row's style; "—"
 * when NaN, "inf"/"-inf"; sign != 0 forces a leading + or −. */
void measures_format(const char *name, double value, int sign, char *text, size_t size);

/* The comparison table's heading for a column: the row's `column`, else
 * "final LABEL (UNIT)" from the row ("final validation accuracy (%)"); a
 * custom metric: "NAME (%, final)" or "NAME (final)". */
void measures_column_heading(const char *name, char *text, size_t size);

#endif
