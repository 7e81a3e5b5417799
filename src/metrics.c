/* metrics.c — see metrics.h. */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const metrics_field_names[METRICS_FIELD_COUNT] = {
    "epoch", "learning_rate", "train_cost", "train_accuracy", "validation_cost",
    "validation_accuracy", "test_cost", "test_accuracy", "seconds",
};

int metrics_field_index(const char *name)
{
    for (int i = 0; i < METRICS_FIELD_COUNT; i++)
        if (strcmp(metrics_field_names[i], name) == 0)
            return i;
    return -1;
}

double metrics_field(const epoch_metrics *row, const char *name)
{
    switch (metrics_field_index(name)) {
    case 0: return (double)row->epoch;
    case 1: return row->learning_rate;
    case 2: return row->train_cost;
    case 3: return row->train_accuracy;
    case 4: return row->validation_cost;
    case 5: return row->validation_accuracy;
    case 6: return row->test_cost;
    case 7: return row->test_accuracy;
    case 8: return row->seconds;
    default: return NAN;
    }
}

void metrics_history_init(metrics_history *history)
{
    memset(history, 0, sizeof *history);
}

void metrics_history_free(metrics_history *history)
{
    if (history == NULL)
        return;
    for (size_t j = 0; j < history->custom_count; j++) {
        free(history->custom_names[j]);
        free(history->custom_values[j]);
    }
    free(history->custom_names);
    free(history->custom_values);
    free(history->rows);
    metrics_history_init(history);
}

static int grow_rows(metrics_history *history, mlp_error *err)
{
    size_t capacity = history->capacity ? history->capacity * 2 : 64;
    epoch_metrics *rows = realloc(history->rows, capacity * sizeof *rows);
    if (rows == NULL)
        return mlp_error_nomem(err, "the metrics history");
    history->rows = rows;
    for (size_t j = 0; j < history->custom_count; j++) {
        double *values = realloc(history->custom_values[j], capacity * sizeof *values);
        if (values == NULL)
            return mlp_error_nomem(err, "the metrics history");
        history->custom_values[j] = values;
    }
    history->capacity = capacity;
    return MLP_OK;
}

int metrics_history_append(metrics_history *history, const epoch_metrics *row, mlp_error *err)
{
    if (row->epoch != (int)history->count)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: metrics for epoch %d appended at row %zu",
                             row->epoch, history->count);
    if (history->count == history->capacity && grow_rows(history, err) != MLP_OK)
        return err ? err->status : MLP_ERR_RUN;
    history->rows[history->count] = *row;
    for (size_t j = 0; j < history->custom_count; j++)
        history->custom_values[j][history->count] = NAN;
    history->count++;
    return MLP_OK;
}

int metrics_history_custom_index(const metrics_history *history, const char *name)
{
    for (size_t j = 0; j < history->custom_count; j++)
        if (strcmp(history->custom_names[j], name) == 0)
            return (int)j;
    return -1;
}

int metrics_history_set_custom(metrics_history *history, size_t epoch, const char *name,
                               double value, mlp_error *err)
{
    if (epoch >= history->count)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: custom metric for missing epoch %zu", epoch);
    int index = metrics_history_custom_index(history, name);
    if (index < 0) {
        char **names = realloc(history->custom_names, (history->custom_count + 1) * sizeof *names);
        if (names == NULL)
            return mlp_error_nomem(err, "a custom metric");
        history->custom_names = names;
        double **values = realloc(history->custom_values, (history->custom_count + 1) * sizeof *values);
        if (values == NULL)
            return mlp_error_nomem(err, "a custom metric");
        history->custom_values = values;
        char *copy = strdup(name);
        double *column = malloc((history->capacity ? history->capacity : 1) * sizeof *column);
        if (copy == NULL || column == NULL) {
            free(copy);
            free(column);
            return mlp_error_nomem(err, "a custom metric");
        }
        for (size_t i = 0; i < history->count; i++)
            column[i] = NAN;
        names[history->custom_count] = copy;
        values[history->custom_count] = column;
        index = (int)history->custom_count++;
    }
    history->custom_values[index][epoch] = value;
    return MLP_OK;
}
