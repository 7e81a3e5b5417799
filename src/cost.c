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

static double quadratic_value(const activation *out, const double *z, const double *a,
                              const double *y, size_t rows, size_t cols)
{
    (void)out;
    (void)z;
    double sum = 0.0;
    for (size_t i = 0; i < rows * cols; i++) {
        double diff = a[i] - y[i];
        sum += diff * diff;
    }
    return 0.5 * sum;
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
static double cross_entropy_value(const activation *out, const double *z, const double *a,
                                  const double *y, size_t rows, size_t cols)
{
    double sum = 0.0;
    if (is_named(out, "sigmoid")) {
        double e[EXP_BLOCK];
        for (size_t i0 = 0; i0 < rows * cols; i0 += EXP_BLOCK) {
            size_t n = rows * cols - i0 < EXP_BLOCK ? rows * cols - i0 : EXP_BLOCK;
            for (size_t i = 0; i < n; i++)
                e[i] = -fabs(z[i0 + i]);
            kernels_active()->exp_values(e, n, e);
            for (size_t i = 0; i < n; i++) {
                double zi = z[i0 + i], shared = log1p(e[i]);
                double softplus_minus = (-zi > 0.0 ? -zi : 0.0) + shared;
                double softplus_plus = (zi > 0.0 ? zi : 0.0) + shared;
                sum += y[i0 + i] * softplus_minus + (1.0 - y[i0 + i]) * softplus_plus;
            }
        }
        return sum;
    }
    for (size_t i = 0; i < rows * cols; i++)
        sum -= y[i] * clamped_log(a[i]) + (1.0 - y[i]) * clamped_log(1.0 - a[i]);
    return sum;
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
static double log_likelihood_value(const activation *out, const double *z, const double *a,
                                   const double *y, size_t rows, size_t cols)
{
    double sum = 0.0;
    for (size_t r = 0; r < rows; r++) {
        const double *zr = z + r * cols, *ar = a + r * cols, *yr = y + r * cols;
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
    }
    return sum;
}

static const cost table[] = {
    {"quadratic", quadratic_value, quadratic_delta, NULL, NULL},
    {"cross-entropy", cross_entropy_value, output_minus_target, "sigmoid",
     "cross-entropy needs outputs in (0, 1), and its output error δ = a − y is the true "
     "gradient only for a sigmoid output, where the σ'(z) factor cancels. A relu or linear "
     "output can be 0 or above 1, where ln a or ln(1 − a) is undefined; a tanh output can be "
     "negative. Use network.output: sigmoid, or network.output: softmax with cost: "
     "log-likelihood (see `mlplab gradcheck` for the failing gradients)"},
    {"log-likelihood", log_likelihood_value, output_minus_target, "softmax",
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
