/* diagnostics.c — see diagnostics.h. */
#include "diagnostics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


/* How a layer's saturation is counted, per activation. */
typedef enum saturation_kind {
    SATURATION_LOGISTIC,    /* a(1 − a) < the threshold, per (example, neuron) */
    SATURATION_TANH,        /* 1 − a² < the threshold, likewise */
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
    double threshold;               /* the slope below which a unit is saturated */
    layer_sums layers[DIAGNOSTICS_MAX_LAYERS];
    const kernel_variant *kernels;  /* the process's: every variant gives the same doubles */
    double *gradient;               /* one layer's gradient (inputs x neurons) */
    double *delta_t, *delta_gram;   /* the first layer's δᵀ (neurons x rows), δ δᵀ (rows²) */
    uint32_t *row_start, *row_index;    /* its inputs' nonzeros by row, when not given */
};

/* What sum4 adds up of each value. */
typedef enum sum_of { SUM_VALUES, SUM_ABSOLUTE, SUM_SQUARES } sum_of;

static inline double term(double x, sum_of what)
{
    return what == SUM_ABSOLUTE ? fabs(x) : what == SUM_SQUARES ? x * x : x;
}

/* Σ_i term(v[i]) in four lanes (lane l: the i ≡ l mod 4, in increasing i from
 * +0), added as (lane 0 + lane 1) + (lane 2 + lane 3): a fixed order in plain
 * C, without one long chain of dependent additions. */
static double sum4(const double *v, size_t n, sum_of what)
{
    double l0 = 0.0, l1 = 0.0, l2 = 0.0, l3 = 0.0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        l0 += term(v[i], what);
        l1 += term(v[i + 1], what);
        l2 += term(v[i + 2], what);
        l3 += term(v[i + 3], what);
    }
    if (i < n)
        l0 += term(v[i], what);
    if (i + 1 < n)
        l1 += term(v[i + 1], what);
    if (i + 2 < n)
        l2 += term(v[i + 2], what);
    return (l0 + l1) + (l2 + l3);
}

/* The squared Frobenius norm of one batch's gradient Σ_r δ_r x_rᵀ (δ rows x
 * neurons, x rows x inputs), computed in one fixed order, so that it is the
 * same double on every CPU and under every kernel variant (docs/numerics.md):
 * products of matrices through the project's kernels, the rest in plain C.
 *
 * The first layer of a small batch goes through the Gram matrices,
 * ‖Σ_r δ_r x_rᵀ‖² = Σ_{r,s} (δ_r·δ_s)(x_r·x_s), which skips the zero inputs:
 * rows²/2 · (nonzero inputs + neurons) products against the gradient's rows ·
 * inputs · neurons (at a batch of 10 on [784,30,10], 55 · (150 + 30) against
 * 10 · 784 · 30). Every other layer, and a large batch, goes through the
 * gradient itself, which the kernels compute at their full vector width. */
static int use_gram(size_t k, size_t rows, size_t inputs, size_t neurons)
{
    return k == 0 && rows * (rows + 1) / 2 * (inputs + neurons) <= rows * inputs * neurons;
}

/* out[u] = Σ_t v[i_t] w[u][i_t] over the positions i_t = index[t] (index
 * NULL: i_t = t), t = 0 … count − 1, from +0: one chain per u, in increasing
 * i, so a list of the nonzero positions gives the same doubles as all of them
 * (a zero term changes no partial sum). Four chains at once keep the CPU's
 * pipelines busy. */
static void dot4(const double *v, const uint32_t *index, size_t count,
                 const double *const w[4], double out[4])
{
    const double *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3];
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    if (index != NULL) {
        for (size_t t = 0; t < count; t++) {
            size_t i = index[t];
            double x = v[i];
            s0 += x * w0[i], s1 += x * w1[i], s2 += x * w2[i], s3 += x * w3[i];
        }
    } else {
        for (size_t i = 0; i < count; i++) {
            double x = v[i];
            s0 += x * w0[i], s1 += x * w1[i], s2 += x * w2[i], s3 += x * w3[i];
        }
    }
    out[0] = s0, out[1] = s1, out[2] = s2, out[3] = s3;
}

/* Σ_r (D_rr X_rr + Σ_{s > r} 2 D_rs X_rs), r and s increasing, with D = δ δᵀ
 * from the kernels (a product like any other) and X_rs = x_r·x_s from dot4
 * over x_r's nonzeros. */
static double gram_squared_norm(diagnostics *d, const double *delta, size_t neurons,
                                const double *input, size_t inputs, const sparse_rows *nonzero,
                                size_t rows)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < neurons; j++)
            d->delta_t[j * rows + r] = delta[r * neurons + j];
    d->kernels->forward_dense(delta, rows, neurons, d->delta_t, rows, NULL, d->delta_gram);
    sparse_rows listed = {.rows = rows, .start = d->row_start, .index = d->row_index};
    if (nonzero == NULL) {      /* the same lists the sparse path makes (net.c) */
        size_t n = 0;
        for (size_t r = 0; r < rows; r++) {
            d->row_start[r] = (uint32_t)n;
            n += d->kernels->list_nonzero(input + r * inputs, inputs, d->row_index + n);
        }
        d->row_start[rows] = (uint32_t)n;
        nonzero = &listed;
    }
    double sum = 0.0;
    for (size_t r = 0; r < rows; r++) {
        const uint32_t *index = nonzero != NULL ? nonzero->index + nonzero->start[r] : NULL;
        size_t count = nonzero != NULL ? nonzero->start[r + 1] - nonzero->start[r] : inputs;
        for (size_t s = r; s < rows; s += 4) {
            size_t width = rows - s < 4 ? rows - s : 4;
            const double *input_s[4];
            for (size_t u = 0; u < 4; u++)          /* past the last row: the last, again */
                input_s[u] = input + (s + (u < width ? u : width - 1)) * inputs;
            double x[4];
            dot4(input + r * inputs, index, count, input_s, x);
            for (size_t u = 0; u < width; u++)
                sum += (s + u == r ? 1.0 : 2.0) * d->delta_gram[r * rows + s + u] * x[u];
        }
    }
    return sum;
}

/* The gradient g = xᵀ δ from the kernels' update (W ← 0 · W + 1 · xᵀ δ on
 * zeros: g itself), then Σ g² (sum4). */
static double direct_squared_norm(diagnostics *d, const double *delta, size_t neurons,
                                  const double *input, size_t inputs, size_t rows)
{
    size_t n = inputs * neurons;
    memset(d->gradient, 0, n * sizeof *d->gradient);
    d->kernels->update_dense(input, rows, inputs, delta, neurons, 1.0, 0.0, d->gradient);
    return sum4(d->gradient, n, SUM_SQUARES);
}

diagnostics *diagnostics_new(size_t n_layers, const size_t *sizes,
                             const activation *const *activations, size_t capacity,
                             double threshold, mlp_error *err)
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
    d->threshold = threshold;
    d->kernels = kernels_active();
    /* Layer 0 takes the Gram matrices up to gram_rows rows (use_gram grows
     * faster in rows than the gradient's cost: true up to some rows, then
     * false), the gradient above; every other layer the gradient. */
    size_t gram_rows = 0, gradient_size = 0;
    while (gram_rows < capacity && use_gram(0, gram_rows + 1, sizes[0], sizes[1]))
        gram_rows++;
    for (size_t k = gram_rows < capacity ? 0 : 1; k < n_layers; k++)
        if (sizes[k] * sizes[k + 1] > gradient_size)
            gradient_size = sizes[k] * sizes[k + 1];
    d->gradient = malloc((gradient_size + 1) * sizeof(double));
    d->delta_t = malloc((sizes[1] * gram_rows + 1) * sizeof(double));
    d->delta_gram = malloc((gram_rows * gram_rows + 1) * sizeof(double));
    d->row_start = malloc((gram_rows + 1) * sizeof *d->row_start);
    d->row_index = malloc((gram_rows * sizes[0] + KERNELS_LIST_SLACK) * sizeof *d->row_index);
    int failed = d->gradient == NULL || d->delta_t == NULL || d->delta_gram == NULL ||
                 d->row_start == NULL || d->row_index == NULL;
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
    free(d->gradient);
    free(d->delta_t);
    free(d->delta_gram);
    free(d->row_start);
    free(d->row_index);
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

void diagnostics_add_layer(diagnostics *d, size_t k, const double *z, const double *a,
                           const double *delta, const double *input,
                           const sparse_rows *input_nonzero, size_t rows)
{
    (void)z;
    layer_sums *l = &d->layers[k];
    size_t count = rows * l->neurons;
    double abs_delta = sum4(delta, count, SUM_ABSOLUTE), activation_sum = sum4(a, count, SUM_VALUES);
    /* Counted into integers in plain loops the compiler keeps in registers. */
    double threshold = d->threshold;
    size_t below = 0;
    switch (l->rule->kind) {
    case SATURATION_LOGISTIC:
        for (size_t i = 0; i < count; i++)
            below += a[i] * (1.0 - a[i]) < threshold;
        break;
    case SATURATION_TANH:
        for (size_t i = 0; i < count; i++)
            below += 1.0 - a[i] * a[i] < threshold;
        break;
    case SATURATION_DEAD:
        for (size_t r = 0; r < rows; r++)
            for (size_t j = 0; j < l->neurons; j++)
                l->alive[j] |= a[r * l->neurons + j] > 0.0;
        break;
    case SATURATION_NEVER:
        break;
    }
    l->saturated += (double)below;
    l->abs_delta += abs_delta;
    l->activation += activation_sum;
    l->values += count;
    double squares =
        use_gram(k, rows, l->inputs, l->neurons)
            ? gram_squared_norm(d, delta, l->neurons, input, l->inputs, input_nonzero, rows)
            : direct_squared_norm(d, delta, l->neurons, input, l->inputs, rows);
    l->gradient_norm += sqrt(squares > 0.0 ? squares : 0.0) / (double)rows;
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
