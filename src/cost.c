/* cost.c — see cost.h. */
#include "cost.h"
#include "named.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "kernels.h"

/* The exponentials go through the kernels (the project's own exp, a vector at
 * a time: kernels.h) in blocks of this many values on the stack. */
enum { EXP_BLOCK = 64 };

/* Logs of outputs outside (0, 1] are clamped to ln(DBL_EPSILON), as in the ReLU
 * question's max(y, eps): the cost then stays finite, so a gradient check can
 * report how wrong the gradient is instead of comparing NaNs. */
static double clamped_log(double x)
{
    return log(x > DBL_EPSILON ? x : DBL_EPSILON);
}

static int is_named(const activation *out, const char *name)
{
    return out != NULL && strcmp(out->name, name) == 0;
}

/* Sums flat terms (rows x cols, in blocks) into each row's cost, in column
 * order from +0: what every cost's row_values does with its own terms. */
typedef struct row_sums {
    double *per_row;
    size_t cols, column;
    double sum;
} row_sums;

static void add_terms(row_sums *rs, const double *terms, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rs->sum += terms[i];
        if (++rs->column == rs->cols) {
            *rs->per_row++ = rs->sum;
            rs->sum = 0.0;
            rs->column = 0;
        }
    }
}

static void quadratic_rows(const activation *out, const double *z, const double *a,
                           const double *y, size_t rows, size_t cols, double *per_row)
{
    (void)out;
    (void)z;
    for (size_t r = 0; r < rows; r++) {
        double sum = 0.0;
        for (size_t c = 0; c < cols; c++) {
            double diff = a[r * cols + c] - y[r * cols + c];
            sum += diff * diff;
        }
        per_row[r] = 0.5 * sum;
    }
}

static void quadratic_delta(const activation *out, const double *z, const double *a,
                            const double *y, double *delta, size_t rows, size_t cols)
{
    for (size_t i = 0; i < rows * cols; i++)
        delta[i] = a[i] - y[i];
    out->backprop(z, a, delta, delta, rows, cols);
}

/* With a sigmoid output, ln a = −softplus(−z) and ln(1 − a) = −softplus(z):
 * exact even where a rounds to 0 or 1 (saturated neurons with large weights).
 * softplus(x) = ln(1 + e^x) = max(x, 0) + ln(1 + e^−|x|), without overflow or
 * loss of precision; softplus(z) and softplus(−z) share the logarithm. */
static void cross_entropy_rows(const activation *out, const double *z, const double *a,
                               const double *y, size_t rows, size_t cols, double *per_row)
{
    int sigmoid = is_named(out, "sigmoid");
    const kernel_variant *kv = kernels_active();
    row_sums rs = {per_row, cols, 0, 0.0};
    double terms[EXP_BLOCK];
    for (size_t i0 = 0; i0 < rows * cols; i0 += EXP_BLOCK) {
        size_t n = rows * cols - i0 < EXP_BLOCK ? rows * cols - i0 : EXP_BLOCK;
        const double *zb = z + i0, *ab = a + i0, *yb = y + i0;
        if (sigmoid) {
            for (size_t i = 0; i < n; i++)
                terms[i] = -fabs(zb[i]);
            kv->exp_values(terms, n, terms);
            kv->log1p_values(terms, n, terms);
            for (size_t i = 0; i < n; i++) {
                double zi = zb[i], shared = terms[i];
                double softplus_minus = (-zi > 0.0 ? -zi : 0.0) + shared;
                double softplus_plus = (zi > 0.0 ? zi : 0.0) + shared;
                terms[i] = yb[i] * softplus_minus + (1.0 - yb[i]) * softplus_plus;
            }
        } else {
            for (size_t i = 0; i < n; i++)
                terms[i] = -(yb[i] * clamped_log(ab[i]) + (1.0 - yb[i]) * clamped_log(1.0 - ab[i]));
        }
        add_terms(&rs, terms, n);
    }
}

/* a − y for every output activation, as network2.py's CrossEntropyCost.delta. */
static void output_minus_target(const activation *out, const double *z, const double *a,
                                const double *y, double *delta, size_t rows, size_t cols)
{
    (void)out;
    (void)z;
    for (size_t i = 0; i < rows * cols; i++)
        delta[i] = a[i] - y[i];
}

/* −Σ y ln a. With softmax, ln a_j = z_j − max − ln Σ_k e^(z_k − max), exact. */
static void log_likelihood_rows(const activation *out, const double *z, const double *a,
                                const double *y, size_t rows, size_t cols, double *per_row)
{
    for (size_t r = 0; r < rows; r++) {
        const double *zr = z + r * cols, *ar = a + r * cols, *yr = y + r * cols;
        double sum = 0.0;
        if (is_named(out, "softmax")) {
            double max = zr[0];
            for (size_t c = 1; c < cols; c++)
                if (zr[c] > max)
                    max = zr[c];
            double total = 0.0, e[EXP_BLOCK];
            for (size_t c0 = 0; c0 < cols; c0 += EXP_BLOCK) {
                size_t n = cols - c0 < EXP_BLOCK ? cols - c0 : EXP_BLOCK;
                for (size_t c = 0; c < n; c++)
                    e[c] = zr[c0 + c] - max;
                kernels_active()->exp_values(e, n, e);
                for (size_t c = 0; c < n; c++)
                    total += e[c];
            }
            double log_total = log(total);
            for (size_t c = 0; c < cols; c++)
                if (yr[c] != 0.0)
                    sum -= yr[c] * (zr[c] - max - log_total);
        } else {
            for (size_t c = 0; c < cols; c++)
                if (yr[c] != 0.0)
                    sum -= yr[c] * clamped_log(ar[c]);
        }
        per_row[r] = sum;
    }
}

static const cost table[] = {
    {"quadratic", quadratic_rows, quadratic_delta, NULL, NULL},
    {"cross-entropy", cross_entropy_rows, output_minus_target, "sigmoid",
     "cross-entropy needs outputs in (0, 1), and its output error δ = a − y is the true "
     "gradient only for a sigmoid output, where the σ'(z) factor cancels. A relu or linear "
     "output can be 0 or above 1, where ln a or ln(1 − a) is undefined; a tanh output can be "
     "negative. Use network.output: sigmoid, or network.output: softmax with cost: "
     "log-likelihood (see `mlplab gradcheck` for the failing gradients)"},
    {"log-likelihood", log_likelihood_rows, output_minus_target, "softmax",
     "log-likelihood reads the outputs as a probability distribution over the classes, and "
     "its output error δ = a − y is the true gradient only for a softmax output. Use "
     "network.output: softmax, or cost: cross-entropy with a sigmoid output"},
};

const cost *cost_table(size_t *count)
{
    *count = sizeof table / sizeof table[0];
    return table;
}

const cost *cost_find(const char *name)
{
    return named_find(table, sizeof table / sizeof table[0], sizeof table[0], name);
}

int cost_pair_is_valid(const cost *c, const activation *out)
{
    if (c == NULL || out == NULL)
        return 0;
    return c->required_output == NULL || strcmp(c->required_output, out->name) == 0;
}

double cost_total(const cost *c, const activation *out, const double *z, const double *a,
                  const double *y, size_t rows, size_t cols)
{
    double total = 0.0;
    for (size_t r = 0; r < rows; r++) {
        double row;
        c->row_values(out, z + r * cols, a + r * cols, y + r * cols, 1, cols, &row);
        total += row;
    }
    return total;
}
