/* activation.c — see activation.h. One entry per activation; adding one means
 * writing its apply and backprop and a row in the table. */
#include "activation.h"
#include "named.h"

#include <math.h>
#include <string.h>

#include "kernels.h"

/* 1 / (1 + e^−z) through the kernels: the project's own exp (exponential.h),
 * a vector at a time, the same doubles in every variant. */
static void sigmoid_apply(const double *z, double *a, size_t rows, size_t cols)
{
    kernels_active()->sigmoid_values(z, rows * cols, a);
}

static void sigmoid_backprop(const double *z, const double *a, const double *grad, double *delta,
                             size_t rows, size_t cols)
{
    (void)z;
    for (size_t i = 0; i < rows * cols; i++)
        delta[i] = grad[i] * a[i] * (1.0 - a[i]);
}

static void tanh_apply(const double *z, double *a, size_t rows, size_t cols)
{
    for (size_t i = 0; i < rows * cols; i++)
        a[i] = tanh(z[i]);
}

static void tanh_backprop(const double *z, const double *a, const double *grad, double *delta,
                          size_t rows, size_t cols)
{
    (void)z;
    for (size_t i = 0; i < rows * cols; i++)
        delta[i] = grad[i] * (1.0 - a[i] * a[i]);
}

static void relu_apply(const double *z, double *a, size_t rows, size_t cols)
{
    for (size_t i = 0; i < rows * cols; i++)
        a[i] = z[i] > 0.0 ? z[i] : 0.0;
}

/* The derivative at exactly 0 is taken as 0 (the subgradient most libraries use). */
static void relu_backprop(const double *z, const double *a, const double *grad, double *delta,
                          size_t rows, size_t cols)
{
    (void)a;
    for (size_t i = 0; i < rows * cols; i++)
        delta[i] = z[i] > 0.0 ? grad[i] : 0.0;
}

static void linear_apply(const double *z, double *a, size_t rows, size_t cols)
{
    memcpy(a, z, rows * cols * sizeof *a);
}

static void linear_backprop(const double *z, const double *a, const double *grad, double *delta,
                            size_t rows, size_t cols)
{
    (void)z;
    (void)a;
    if (delta != grad)
        memcpy(delta, grad, rows * cols * sizeof *delta);
}

/* Softmax per row, shifted by the row's maximum so exp never overflows. */
static void softmax_apply(const double *z, double *a, size_t rows, size_t cols)
{
    for (size_t r = 0; r < rows; r++) {
        const double *zr = z + r * cols;
        double *ar = a + r * cols;
        double max = zr[0];
        for (size_t c = 1; c < cols; c++)
            if (zr[c] > max)
                max = zr[c];
        for (size_t c = 0; c < cols; c++)
            ar[c] = zr[c] - max;
        kernels_active()->exp_values(ar, cols, ar);
        double sum = 0.0;
        for (size_t c = 0; c < cols; c++)
            sum += ar[c];
        for (size_t c = 0; c < cols; c++)
            ar[c] /= sum;
    }
}

/* dC/dz_j = a_j (g_j − Σ_k a_k g_k): the softmax Jacobian applied to the gradient. */
static void softmax_backprop(const double *z, const double *a, const double *grad, double *delta,
                             size_t rows, size_t cols)
{
    (void)z;
    for (size_t r = 0; r < rows; r++) {
        const double *ar = a + r * cols;
        const double *gr = grad + r * cols;
        double *dr = delta + r * cols;
        double dot = 0.0;
        for (size_t c = 0; c < cols; c++)
            dot += ar[c] * gr[c];
        for (size_t c = 0; c < cols; c++)
            dr[c] = ar[c] * (gr[c] - dot);
    }
}

static const activation table[] = {
    {"sigmoid", sigmoid_apply, sigmoid_backprop, 0, 0.0, 1.0, 1, 1, "(0, 1)"},
    {"tanh", tanh_apply, tanh_backprop, 0, -1.0, 1.0, 1, 1, "(-1, 1)"},
    {"relu", relu_apply, relu_backprop, 0, 0.0, INFINITY, 0, 1, "[0, inf)"},
    {"linear", linear_apply, linear_backprop, 0, -INFINITY, INFINITY, 1, 1, "(-inf, inf)"},
    {"softmax", softmax_apply, softmax_backprop, 1, 0.0, 1.0, 1, 1, "(0, 1), each row summing to 1"},
};

const activation *activation_table(size_t *count)
{
    *count = sizeof table / sizeof table[0];
    return table;
}

const activation *activation_find(const char *name)
{
    return named_find(table, sizeof table / sizeof table[0], sizeof table[0], name);
}
