/* metrics.h — one epoch's measurements and the history of a run.
 *
 * Row 0 of a history is epoch 0: the untrained network. A metric a run does not
 * measure (no validation set, train monitoring turned off) is NaN, never 0.
 * Custom metrics (returned by Lua hooks) are named columns added as they first
 * appear; earlier rows hold NaN for them. The history owns all its memory. */
#ifndef MLP_METRICS_H
#define MLP_METRICS_H

#include <stddef.h>

#include "error.h"

typedef struct epoch_metrics {
    int epoch;
    double learning_rate;        /* the rate used to train this epoch (epoch 0: the start rate) */
    double train_cost, train_accuracy;
    double validation_cost, validation_accuracy;
    double test_cost, test_accuracy;
    double seconds;              /* wall time of training + evaluation for this epoch */
} epoch_metrics;

/* Names of the built-in fields, in the order of the struct (for tables, files, Lua). */
enum { METRICS_FIELD_COUNT = 9 };
extern const char *const metrics_field_names[METRICS_FIELD_COUNT];

/* Reads a built-in field by name (epoch returned as a double); NAN when unknown. */
double metrics_field(const epoch_metrics *row, const char *name);
/* Index of a built-in field, or -1. */
int metrics_field_index(const char *name);

typedef struct metrics_history {
    size_t count, capacity;
    epoch_metrics *rows;         /* rows[i] is epoch i */
    size_t custom_count;
    char **custom_names;         /* custom_count names */
    double **custom_values;      /* custom_values[j][i]: metric j at epoch i (NAN if absent) */
} metrics_history;

void metrics_history_init(metrics_history *history);
void metrics_history_free(metrics_history *history);   /* frees contents, not the struct */

/* Appends a row (its epoch must equal history->count). Custom columns get NAN. */
int metrics_history_append(metrics_history *history, const epoch_metrics *row, mlp_error *err);

/* Sets custom metric `name` at epoch (an existing row), adding the column if new. */
int metrics_history_set_custom(metrics_history *history, size_t epoch, const char *name,
                               double value, mlp_error *err);

/* Index of custom column `name`, or -1. */
int metrics_history_custom_index(const metrics_history *history, const char *name);

#endif
