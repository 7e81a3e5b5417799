/* measures.c — see measures.h. The table, then the lookups over it. */
#include "measures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "confusion.h"
#include "data.h"
#include "diagnostics.h"
#include "metrics.h"
#include "suggest.h"

/* ---- per-run values ----------------------------------------------------- */

/* Epoch row of the highest validation accuracy (the first, on ties); -1 if none. */
static long best_validation_row(const run_file *run)
{
    long best = -1;
    for (size_t i = 0; i < run->history.count; i++) {
        double v = run->history.rows[i].validation_accuracy;
        if (!isnan(v) && (best < 0 || v > run->history.rows[best].validation_accuracy))
            best = (long)i;
    }
    return best;
}

static double best_validation_accuracy(const run_file *run)
{
    long best = best_validation_row(run);
    return best < 0 ? NAN : run->history.rows[best].validation_accuracy;
}

static double best_validation_epoch(const run_file *run)
{
    long best = best_validation_row(run);
    return best < 0 ? NAN : (double)run->history.rows[best].epoch;
}

static double test_accuracy_at_best_validation(const run_file *run)
{
    long best = best_validation_row(run);
    return best < 0 ? NAN : run->history.rows[best].test_accuracy;
}

/* After one epoch of training: how fast a network starts (the row of epoch 1). */
static double validation_accuracy_epoch1(const run_file *run)
{
    for (size_t i = 0; i < run->history.count; i++)
        if (run->history.rows[i].epoch == 1)
            return run->history.rows[i].validation_accuracy;
    return NAN;
}

/* The peak over epochs, as Nielsen quotes his results: optimistic, since the
 * test set picks the epoch. */
static double best_test_accuracy(const run_file *run)
{
    const metrics_history *h = &run->history;
    double best = NAN;
    for (size_t i = 0; i < h->count; i++)
        if (!isnan(h->rows[i].test_accuracy) && !(h->rows[i].test_accuracy <= best))
            best = h->rows[i].test_accuracy;
    return best;
}

/* Epoch 0 only evaluates the untrained network, so it is left out. */
static double seconds_per_epoch(const run_file *run)
{
    const metrics_history *h = &run->history;
    double sum = 0.0;
    size_t n = 0;
    for (size_t i = 1; i < h->count; i++)
        if (!isnan(h->rows[i].seconds)) {
            sum += h->rows[i].seconds;
            n++;
        }
    return n > 0 ? sum / (double)n : NAN;
}

/* Per-class accuracy at the final epoch, from the run file's test confusion
 * matrix (/confusion/final/test; NaN without it or the class). */
static double final_test_class_accuracy(const run_file *run, size_t c)
{
    const int32_t *counts = run->confusion[STORE_FINAL][STORE_TEST];
    return counts == NULL || c >= run->classes ? NAN
                                               : confusion_class_accuracy(counts, run->classes, c);
}

#define CLASS_ACCURACY(K)                                                                     \
    static double test_accuracy_class##K(const run_file *run)                                 \
    {                                                                                         \
        return final_test_class_accuracy(run, K);                                             \
    }
CLASS_ACCURACY(0)
CLASS_ACCURACY(1)
CLASS_ACCURACY(2)
CLASS_ACCURACY(3)
CLASS_ACCURACY(4)
CLASS_ACCURACY(5)
CLASS_ACCURACY(6)
CLASS_ACCURACY(7)
CLASS_ACCURACY(8)
CLASS_ACCURACY(9)
#undef CLASS_ACCURACY

static double worst_class_test_accuracy(const run_file *run)
{
    double worst = NAN;
    for (size_t c = 0; c < run->classes; c++) {
        double a = final_test_class_accuracy(run, c);
        if (!isnan(a) && !(a >= worst))
            worst = a;
    }
    return worst;
}

/* Classes the network (nearly) never gets right: below 10 % of their test
 * examples at the final epoch — the digits a stuck network does not recognize. */
static double test_classes_missed(const run_file *run)
{
    if (run->confusion[STORE_FINAL][STORE_TEST] == NULL)
        return NAN;
    int missed = 0;
    for (size_t c = 0; c < run->classes; c++)
        if (final_test_class_accuracy(run, c) < 0.1)
            missed++;
    return missed;
}

/* ---- the table ---------------------------------------------------------- */

/* A /metrics field: one value per epoch, read from the run file by name. */
#define FIELD(NAME, LABEL, UNIT, SCALE, LOWER, UPPER, COLUMN, STYLE, DIGITS, NEEDS, DOC)       \
    {.name = NAME, .label = LABEL, .unit = UNIT, .scale = SCALE, .lower = LOWER,               \
     .upper = UPPER, .per_epoch = 1, .column = COLUMN, .style = STYLE, .digits = DIGITS,       \
     .per_run = NULL, .needs = NEEDS, .doc = DOC}
/* A derived value: one per run, computed from the whole history by FN. */
#define DERIVED(NAME, LABEL, UNIT, SCALE, LOWER, UPPER, COLUMN, STYLE, DIGITS, FN, NEEDS, DOC) \
    {.name = NAME, .label = LABEL, .unit = UNIT, .scale = SCALE, .lower = LOWER,               \
     .upper = UPPER, .per_epoch = 0, .column = COLUMN, .style = STYLE, .digits = DIGITS,       \
     .per_run = FN, .needs = NEEDS, .doc = DOC}

#define SIG MEASURE_SIGNIFICANT
#define FIX MEASURE_FIXED
/* what the metrics need (MEASURE_*) */
#define TRAIN MEASURE_TRAIN_PASS
#define VALIDATION MEASURE_VALIDATION
#define TEST MEASURE_TEST
#define CLASSES MEASURE_CLASSES
#define OUTPUT MEASURE_OUTPUT
#define DIAGNOSTICS MEASURE_DIAGNOSTICS
#define CLASS_ROW(K)                                                                          \
    DERIVED("test_accuracy_class" #K, "test accuracy on class " #K, "%", 100, 0, 100,        \
            "class " #K " test accuracy (%)", FIX, 2, test_accuracy_class##K, TEST | CLASSES,  \
            "fraction of class " #K "'s test examples classified correctly, final epoch")

/* ORDER METRICS: the FIELD rows follow metrics_field_names (checked in measures_find's
 * test, tests/test_measures.c). */
const measure measures_table[] = {
    FIELD("epoch", "epoch", "epoch", 1, 0, INFINITY, NULL, SIG, 4, 0,
          "the epoch number (0: the untrained network)"),
    FIELD("learning_rate", "learning rate", "", 1, 0, INFINITY, NULL, SIG, 4, 0,
          "the rate used to train the epoch"),
    FIELD("train_cost", "training cost", "", 1, 0, INFINITY, "final training cost", SIG, 4,
          TRAIN,
          "cost on the training set, regularisation included"),
    FIELD("train_accuracy", "training accuracy", "%", 100, 0, 100, NULL, FIX, 2, TRAIN | CLASSES,
          "fraction of the training set classified correctly"),
    FIELD("validation_cost", "validation cost", "", 1, 0, INFINITY, NULL, SIG, 4, VALIDATION,
          "cost on the validation set"),
    FIELD("validation_accuracy", "validation accuracy", "%", 100, 0, 100, NULL, FIX, 2,
          VALIDATION | CLASSES,
          "fraction of the validation set classified correctly"),
    FIELD("test_cost", "test cost", "", 1, 0, INFINITY, NULL, SIG, 4, TEST,
          "cost on the test set"),
    FIELD("test_accuracy", "test accuracy", "%", 100, 0, 100, "test accuracy (%)", FIX, 2,
          TEST | CLASSES,
          "fraction of the test set classified correctly"),
    FIELD("seconds", "seconds", "s", 1, 0, INFINITY, NULL, SIG, 4, 0,
          "wall time of the epoch's training and evaluation"),
    /* Recorded as a custom metric of the run file, not a /metrics field. */
    FIELD("train_output", "mean output on the training set", "", 1, -INFINITY, INFINITY, NULL,
          SIG, 4, OUTPUT,
          "mean activation of the output layer over the training set, recorded with "
          "train.monitor_output: true"),
    DERIVED("best_validation_accuracy", "best validation accuracy", "%", 100, 0, 100,
            "best validation accuracy (%)", FIX, 2, best_validation_accuracy,
            VALIDATION | CLASSES,
            "highest validation accuracy over all epochs (epoch 0 included)"),
    DERIVED("best_validation_epoch", "epoch of best validation", "epoch", 1, 0, INFINITY,
            "epoch of best validation", FIX, 1, best_validation_epoch,
            VALIDATION | CLASSES,
            "first epoch reaching the highest validation accuracy"),
    DERIVED("test_accuracy_at_best_validation", "test accuracy at best validation", "%", 100, 0,
            100, "test accuracy at best validation (%)", FIX, 2,
            test_accuracy_at_best_validation, VALIDATION | TEST | CLASSES,
            "test accuracy at the epoch of best validation (the early-stopping estimate)"),
    DERIVED("validation_accuracy_epoch1", "validation accuracy after epoch 1", "%", 100, 0, 100,
            "validation accuracy after epoch 1 (%)", FIX, 2, validation_accuracy_epoch1,
            VALIDATION | CLASSES,
            "validation accuracy after the first epoch of training: how fast a network starts"),
    DERIVED("best_test_accuracy", "peak test accuracy", "%", 100, 0, 100,
            "peak test accuracy (%)", FIX, 2, best_test_accuracy, TEST | CLASSES,
            "highest test accuracy over all epochs (Nielsen's way; optimistic)"),
    DERIVED("seconds_per_epoch", "seconds per epoch", "s", 1, 0, INFINITY, "seconds per epoch",
            SIG, 4, seconds_per_epoch, 0, "mean of seconds over epochs 1 and later"),
    DERIVED("worst_class_test_accuracy", "lowest per-class test accuracy", "%", 100, 0, 100,
            "worst class test accuracy (%)", FIX, 2, worst_class_test_accuracy, TEST | CLASSES,
            "lowest per-class test accuracy at the final epoch (from the confusion matrix)"),
    DERIVED("test_classes_missed", "classes missed", "", 1, 0, INFINITY, "classes below 10 %",
            FIX, 1, test_classes_missed, TEST | CLASSES,
            "classes with under 10 % of their test examples right at the final epoch"),
    CLASS_ROW(0), CLASS_ROW(1), CLASS_ROW(2), CLASS_ROW(3), CLASS_ROW(4),
    CLASS_ROW(5), CLASS_ROW(6), CLASS_ROW(7), CLASS_ROW(8), CLASS_ROW(9),
};

/* One row per diagnostics_field_names entry (tests/test_measures.c). */
static const measure diagnostic_rows[] = {
    FIELD("saturated_fraction", "saturated fraction", "", 1, 0, 1, NULL, SIG, 4, DIAGNOSTICS,
          "fraction of the layer's (example, neuron) values whose slope is below the "
          "saturation threshold; ReLU: of its neurons dead all epoch"),
    FIELD("mean_abs_delta", "mean |δ|", "", 1, 0, INFINITY, NULL, SIG, 4, DIAGNOSTICS,
          "mean |∂C/∂z| over the epoch's (example, neuron) values of the layer"),
    FIELD("weight_gradient_norm", "weight-gradient norm", "", 1, 0, INFINITY, NULL, SIG, 4,
          DIAGNOSTICS,
          "mean over the epoch's mini-batches of the Frobenius norm of the layer's gradient"),
    FIELD("mean_activation", "mean activation", "", 1, -INFINITY, INFINITY, NULL, SIG, 4,
          DIAGNOSTICS,
          "mean activation of the layer over the epoch's (example, neuron) values"),
};

#undef FIELD
#undef DERIVED
#undef SIG
#undef FIX
#undef TRAIN
#undef VALIDATION
#undef TEST
#undef CLASSES
#undef OUTPUT
#undef DIAGNOSTICS
#undef CLASS_ROW

enum { MEASURE_COUNT = sizeof measures_table / sizeof measures_table[0] };
const size_t measures_count = MEASURE_COUNT;

const char *const measures_default_columns[] = {
    "test_accuracy", "best_validation_accuracy", "best_validation_epoch",
    "test_accuracy_at_best_validation", "train_cost", "seconds_per_epoch", NULL,
};

/* ---- lookups ------------------------------------------------------------ */

const measure *measures_find(const char *name)
{
    for (size_t i = 0; i < MEASURE_COUNT; i++)
        if (strcmp(measures_table[i].name, name) == 0)
            return &measures_table[i];
    return NULL;
}

const measure *measures_diagnostic(const char *name, int *layer)
{
    int k = 0;
    const char *field = name;
    if (strncmp(name, "layer", 5) == 0 && diagnostics_metric_name(name)) {
        k = atoi(name + 5);
        field = strchr(name, '_') + 1;
    }
    for (size_t i = 0; i < sizeof diagnostic_rows / sizeof diagnostic_rows[0]; i++)
        if (strcmp(diagnostic_rows[i].name, field) == 0) {
            if (layer != NULL)
                *layer = k;
            return &diagnostic_rows[i];
        }
    return NULL;
}

double measures_epoch_value(const run_file *run, const char *name, size_t epoch)
{
    const metrics_history *h = &run->history;
    if (epoch >= h->count)
        return NAN;
    if (metrics_field_index(name) >= 0)
        return metrics_field(&h->rows[epoch], name);
    int custom = metrics_history_custom_index(h, name);
    return custom < 0 ? NAN : h->custom_values[custom][epoch];
}

double measures_run_value(const run_file *run, const char *name)
{
    if (run->history.count == 0)
        return NAN;
    const measure *m = measures_find(name);
    if (m != NULL && !m->per_epoch)
        return m->per_run(run);
    return measures_epoch_value(run, name, run->history.count - 1);
}

int measures_is_percent(const char *name)
{
    const measure *m = measures_find(name);
    return m != NULL ? strcmp(m->unit, "%") == 0 : strstr(name, "accuracy") != NULL;
}

double measures_scale(const char *name)
{
    const measure *m = measures_find(name);
    if (m != NULL)
        return m->scale;
    return measures_is_percent(name) ? 100.0 : 1.0;
}

void measures_format(const char *name, double value, int sign, char *text, size_t size)
{
    if (isnan(value)) {
        snprintf(text, size, "—");
        return;
    }
    value *= measures_scale(name);
    if (isinf(value)) {
        snprintf(text, size, "%s", value > 0 ? "inf" : "-inf");
        return;
    }
    const measure *m = measures_find(name);
    measure_style style = m != NULL ? m->style : measures_is_percent(name) ? MEASURE_FIXED
                                                                           : MEASURE_SIGNIFICANT;
    int digits = m != NULL ? m->digits : style == MEASURE_FIXED ? 2 : 4;
    if (style == MEASURE_FIXED)
        snprintf(text, size, sign ? "%+.*f" : "%.*f", digits, value);
    else
        snprintf(text, size, sign ? "%+.*g" : "%.*g", digits, value);
}

void measures_column_heading(const char *name, char *text, size_t size)
{
    const measure *m = measures_find(name);
    int layer = 0;
    if (m != NULL && m->column != NULL)
        snprintf(text, size, "%s", m->column);
    else if (m != NULL && m->unit[0] != '\0')   /* a reader's name, never the field's */
        snprintf(text, size, "final %s (%s)", m->label, m->unit);
    else if (m != NULL)
        snprintf(text, size, "final %s", m->label);
    else if ((m = measures_diagnostic(name, &layer)) != NULL && layer > 0)
        snprintf(text, size, "final %s, layer %d", m->label, layer);
    else
        snprintf(text, size, measures_is_percent(name) ? "%s (%%, final)" : "%s (final)", name);
}

unsigned measures_recorded(const mlp_config *config)
{
    data_shape shape;
    data_shape_of(config, &shape);
    return (config->monitor_train ? MEASURE_TRAIN_PASS : 0u) |
           (shape.has_validation ? MEASURE_VALIDATION : 0u) |
           (shape.has_test ? MEASURE_TEST : 0u) | (shape.has_classes ? MEASURE_CLASSES : 0u) |
           (config->monitor_output ? MEASURE_OUTPUT : 0u) |
           (config->diagnostics ? MEASURE_DIAGNOSTICS : 0u);
}

/* Why a need is not met, and what to do, for inline data and a named set. */
static const struct {
    unsigned need;
    const char *reason[2], *hint[2];   /* [0]: a named data set, [1]: inline data */
} unrecorded[] = {
    {MEASURE_TRAIN_PASS,
     {"train.monitor_train is false", "train.monitor_train is false"},
     {"set train.monitor_train: true (in the study or the case)",
      "set train.monitor_train: true (in the study or the case)"}},
    {MEASURE_VALIDATION,
     {"dataset.validation_size is 0: there is no validation part",
      "inline data has no validation part (every example trains)"},
     {"leave dataset.validation_size out (all of the part) or set it above 0",
      "report what the training set gives: train_cost, train_output"}},
    {MEASURE_TEST,
     {"dataset.test_size is 0: there is no test part",
      "inline data has no test part (every example trains)"},
     {"leave dataset.test_size out (all of the part) or set it above 0",
      "report what the training set gives: train_cost, train_output"}},
    {MEASURE_CLASSES,
     {"its data has no classes", "inline data has no classes (its targets are not one-hot "
                                 "rows of two or more): accuracy is not recorded"},
     {"report a cost instead", "report a cost (train_cost) or train_output instead"}},
    {MEASURE_OUTPUT,
     {"train.monitor_output is false", "train.monitor_output is false"},
     {"set train.monitor_output: true (in the study or the case)",
      "set train.monitor_output: true (in the study or the case)"}},
    {MEASURE_DIAGNOSTICS,
     {"train.diagnostics is false", "train.diagnostics is false"},
     {"set train: {diagnostics: true} (in the study or the case)",
      "set train: {diagnostics: true} (in the study or the case)"}},
};

void measures_unrecorded(unsigned missing, int is_inline, const char **reason, const char **hint)
{
    *reason = "it is not recorded";
    *hint = NULL;
    for (size_t i = 0; i < sizeof unrecorded / sizeof unrecorded[0]; i++)
        if (missing & unrecorded[i].need) {
            *reason = unrecorded[i].reason[is_inline != 0];
            *hint = unrecorded[i].hint[is_inline != 0];
            return;
        }
}

int measures_is_builtin(const char *name)
{
    return measures_find(name) != NULL || diagnostics_metric_name(name);
}

void measures_did_you_mean(const char *word, const char *const *extra, size_t n_extra,
                           char *text, size_t size)
{
    const char **names = malloc((MEASURE_COUNT + n_extra) * sizeof *names);
    if (names == NULL) {
        text[0] = '\0';       /* only a suggestion is lost */
        return;
    }
    for (size_t i = 0; i < MEASURE_COUNT; i++)
        names[i] = measures_table[i].name;
    for (size_t i = 0; i < n_extra; i++)
        names[MEASURE_COUNT + i] = extra[i];
    suggest_did_you_mean(word, names, MEASURE_COUNT + n_extra, text, size);
    free(names);
}
