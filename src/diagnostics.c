/* diagnostics.c — see diagnostics.h. */
#include "diagnostics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"

/* How a layer's saturation is counted, per activation. */
typedef enum saturation_kind {
    SATURATION_LOGISTIC,    /* a(1 − a) < DIAGNOSTICS_SLOPE_THRESHOLD, per (example, neuron) */
    SATURATION_TANH,        /* 1 − a² < DIAGNOSTICS_SLOPE_THRESHOLD, likewise */
    SATURATION_DEAD,        /* neurons 0 for every example of the epoch */
    SATURATION_NEVER,       /* the slope is 1 everywhere */
} saturation_kind;

typedef struct saturation_rule {
    const char *activation;
    saturation_kind kind;
} saturation_rule;

/* softmax: the Jacobian's diagonal, ∂a_j/∂z_j = a_j (1 − a_j). */
static const saturation_rule rules[] = {
    {"sigmoid", SATURATION_LOGISTIC},
    {"softmax", SATURATION_LOGISTIC},
    {"tanh", SATURATION_TANH},
    {"relu", SATURATION_DEAD},
    {"linear", SATURATION_NEVER},
};

static const saturation_rule *rule_for(const activation *act)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].activation, act->name) == 0)
            return &rules[i];
    return NULL;
}

typedef struct layer_sums {
    size_t inputs, neurons;
    const saturation_rule *rule;
    double saturated, abs_delta, activation, gradient_norm;
    size_t values, batches;
    unsigned char *alive;           /* DEAD rule: neuron was > 0 for some example */
} layer_sums;

struct diagnostics {
    size_t n_layers, capacity;
    layer_sums layers[16];
    double *gram_delta, *gram_input;   /* capacity x capacity each */
};

diagnostics *diagnostics_new(size_t n_layers, const size_t *sizes,
                             const activation *const *activations, size_t capacity,
                             mlp_error *err)
{
    if (n_layers == 0 || n_layers > sizeof ((diagnostics *)0)->layers /
                                        sizeof ((diagnostics *)0)->layers[0]) {
        mlp_error_set(err, MLP_ERR_RUN, "internal: diagnostics for %zu layers", n_layers);
        return NULL;
    }
    diagnostics *d = calloc(1, sizeof *d);
    if (d == NULL) {
        mlp_error_nomem(err, "the diagnostics");
        return NULL;
    }
    d->n_layers = n_layers;
    d->capacity = capacity;
    d->gram_delta = malloc(capacity * capacity * sizeof(double));
    d->gram_input = malloc(capacity * capacity * sizeof(double));
    int failed = d->gram_delta == NULL || d->gram_input == NULL;
    for (size_t k = 0; k < n_layers && !failed; k++) {
        layer_sums *l = &d->layers[k];
        l->inputs = sizes[k];
        l->neurons = sizes[k + 1];
        l->rule = rule_for(activations[k]);
        if (l->rule == NULL) {
            mlp_error_set(err, MLP_ERR_RUN, "internal: no saturation rule for activation %s",
                          activations[k]->name);
            diagnostics_free(d);
            return NULL;
        }
        if (l->rule->kind == SATURATION_DEAD)
            failed = (l->alive = calloc(l->neurons, 1)) == NULL;
    }
    if (failed) {
        mlp_error_nomem(err, "the diagnostics");
        diagnostics_free(d);
        return NULL;
    }
    return d;
}

void diagnostics_free(diagnostics *d)
{
    if (d == NULL)
        return;
    for (size_t k = 0; k < d->n_layers; k++)
        free(d->layers[k].alive);
    free(d->gram_delta);
    free(d->gram_input);
    free(d);
}

void diagnostics_start_epoch(diagnostics *d)
{
    for (size_t k = 0; k < d->n_layers; k++) {
        layer_sums *l = &d->layers[k];
        l->saturated = l->abs_delta = l->activation = l->gradient_norm = 0.0;
        l->values = l->batches = 0;
        if (l->alive != NULL)
            memset(l->alive, 0, l->neurons);
    }
}

/* ‖Σ_r δ_r x_rᵀ‖_F² = Σ_{r,s} D_rs X_rs from the Gram matrices D = δ δᵀ and
 * X = x xᵀ (rows x rows). Full GEMMs, not dsyrk: at these shapes (10 x 784)
 * OpenBLAS's dgemm takes half dsyrk's time (make bench). */
static double gradient_squared_norm(diagnostics *d, const double *delta, size_t neurons,
                                    const double *input, size_t inputs, size_t rows)
{
    int m = (int)rows;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, m, (int)neurons, 1.0, delta,
                (int)neurons, delta, (int)neurons, 0.0, d->gram_delta, m);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, m, (int)inputs, 1.0, input,
                (int)inputs, input, (int)inputs, 0.0, d->gram_input, m);
    double sum = 0.0;
    for (size_t i = 0; i < rows * rows; i++)
        sum += d->gram_delta[i] * d->gram_input[i];
    return sum > 0.0 ? sum : 0.0;
}

void diagnostics_add_layer(diagnostics *d, size_t k, const double *z, const double *a,
                           const double *delta, const double *input, size_t rows)
{
    (void)z;
    layer_sums *l = &d->layers[k];
    size_t count = rows * l->neurons;
    double saturated = 0.0, abs_delta = 0.0, activation_sum = 0.0;
    for (size_t i = 0; i < count; i++) {
        abs_delta += fabs(delta[i]);
        activation_sum += a[i];
    }
    /* Counted into integers in plain loops the compiler keeps in registers. */
    size_t below = 0;
    switch (l->rule->kind) {
    case SATURATION_LOGISTIC:
        for (size_t i = 0; i < count; i++)
            below += a[i] * (1.0 - a[i]) < DIAGNOSTICS_SLOPE_THRESHOLD;
        break;
    case SATURATION_TANH:
        for (size_t i = 0; i < count; i++)
            below += 1.0 - a[i] * a[i] < DIAGNOSTICS_SLOPE_THRESHOLD;
        break;
    case SATURATION_DEAD:
        for (size_t r = 0; r < rows; r++)
            for (size_t j = 0; j < l->neurons; j++)
                l->alive[j] |= a[r * l->neurons + j] > 0.0;
        break;
    case SATURATION_NEVER:
        break;
    }
    saturated = (double)below;
    l->saturated += saturated;
    l->abs_delta += abs_delta;
    l->activation += activation_sum;
    l->values += count;
    l->gradient_norm +=
        sqrt(gradient_squared_norm(d, delta, l->neurons, input, l->inputs, rows)) / (double)rows;
    l->batches++;
}

layer_diagnostics diagnostics_layer(const diagnostics *d, size_t k)
{
    const layer_sums *l = &d->layers[k];
    layer_diagnostics out = {NAN, NAN, NAN, NAN};
    if (l->batches == 0)
        return out;
    double values = (double)l->values;
    switch (l->rule->kind) {
    case SATURATION_LOGISTIC:
    case SATURATION_TANH:
        out.saturated_fraction = l->saturated / values;
        break;
    case SATURATION_DEAD: {
        size_t dead = 0;
        for (size_t j = 0; j < l->neurons; j++)
            dead += !l->alive[j];
        out.saturated_fraction = (double)dead / (double)l->neurons;
        break;
    }
    case SATURATION_NEVER:
        out.saturated_fraction = 0.0;
        break;
    }
    out.mean_abs_delta = l->abs_delta / values;
    out.mean_activation = l->activation / values;
    out.weight_gradient_norm = l->gradient_norm / (double)l->batches;
    return out;
}

const char *const diagnostics_field_names[DIAGNOSTICS_FIELDS] = {
    "saturated_fraction", "mean_abs_delta", "weight_gradient_norm", "mean_activation",
};

int diagnostics_metric_name(const char *name)
{
    if (strncmp(name, "layer", 5) != 0 || name[5] < '1' || name[5] > '9')
        return 0;
    const char *field = name + 6;
    while (*field >= '0' && *field <= '9')
        field++;
    if (*field++ != '_')
        return 0;
    for (size_t i = 0; i < DIAGNOSTICS_FIELDS; i++)
        if (strcmp(field, diagnostics_field_names[i]) == 0)
            return 1;
    return 0;
}
