/* activation.h — the table of activation functions.
 *
 * Each entry works on a mini-batch held row-major (rows = examples, cols =
 * neurons), so softmax (a function of a whole row) fits the same protocol as
 * the element-wise ones. `backprop` is the chain rule through the activation:
 * given dC/da it returns dC/dz. For element-wise activations that is
 * dC/da ⊙ f'(z); for softmax the Jacobian-vector product. */
#ifndef MLP_ACTIVATION_H
#define MLP_ACTIVATION_H

#include <stddef.h>

typedef struct activation {
    const char *name;
    /* a = f(z) for rows x cols values; a and z may not alias. */
    void (*apply)(const double *z, double *a, size_t rows, size_t cols);
    /* delta = dC/dz from grad = dC/da (delta may alias grad). */
    void (*backprop)(const double *z, const double *a, const double *grad, double *delta,
                     size_t rows, size_t cols);
    int output_only;            /* 1: only valid as an output layer (softmax) */
    double low, high;           /* bounds of the outputs, possibly infinite */
    int low_open, high_open;    /* 1: the bound itself is never reached */
    const char *range_text;     /* "(0, 1)", "[0, inf)": for messages */
} activation;

/* The entry named `name`, or NULL. */
const activation *activation_find(const char *name);

/* Every entry, in table order; *count receives the number. */
const activation *activation_table(size_t *count);

#endif
