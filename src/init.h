/* init.h — the table of weight initializers.
 *
 * Every draw comes from the caller's GSL generator, layer by layer in order,
 * weights (row-major, [neurons, inputs]) before biases, so a seed fixes the
 * starting point exactly. "fixed" takes explicit values from the config and
 * draws nothing (see net_init in net.h). */
#ifndef MLP_INIT_H
#define MLP_INIT_H

#include <stddef.h>

#include <gsl/gsl_rng.h>

typedef struct initializer {
    const char *name;
    const char *description;    /* for --help and docs */
    /* Fills one layer: weights rows x cols (rows = neurons, cols = inputs), biases rows. */
    void (*fill)(gsl_rng *rng, double *weights, double *biases, size_t rows, size_t cols);
} initializer;

const initializer *init_find(const char *name);
const initializer *init_table(size_t *count);

#endif
