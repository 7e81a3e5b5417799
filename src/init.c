/* init.c — see init.h. */
#include "init.h"
#include "named.h"

#include <math.h>
#include <string.h>

#include <gsl/gsl_randist.h>

static void fill_gaussian(gsl_rng *rng, double *values, size_t n, double sd)
{
    for (size_t i = 0; i < n; i++)
        values[i] = gsl_ran_gaussian_ziggurat(rng, sd);
}

/* Nielsen's large_weight_initializer: weights and biases N(0, 1). */
static void init_large(gsl_rng *rng, double *weights, double *biases, size_t rows, size_t cols)
{
    fill_gaussian(rng, weights, rows * cols, 1.0);
    fill_gaussian(rng, biases, rows, 1.0);
}

/* Nielsen's default_weight_initializer: weights N(0, 1/n_in), biases N(0, 1). */
static void init_scaled(gsl_rng *rng, double *weights, double *biases, size_t rows, size_t cols)
{
    fill_gaussian(rng, weights, rows * cols, 1.0 / sqrt((double)cols));
    fill_gaussian(rng, biases, rows, 1.0);
}

/* Glorot & Bengio (2010), normal form: weights N(0, 2/(n_in + n_out)), biases 0. */
static void init_xavier(gsl_rng *rng, double *weights, double *biases, size_t rows, size_t cols)
{
    fill_gaussian(rng, weights, rows * cols, sqrt(2.0 / (double)(rows + cols)));
    memset(biases, 0, rows * sizeof *biases);
}

/* He et al. (2015): weights N(0, 2/n_in), biases 0. */
static void init_he(gsl_rng *rng, double *weights, double *biases, size_t rows, size_t cols)
{
    fill_gaussian(rng, weights, rows * cols, sqrt(2.0 / (double)cols));
    memset(biases, 0, rows * sizeof *biases);
}

static const initializer table[] = {
    {"large", "weights and biases N(0, 1) (Nielsen's large_weight_initializer)", init_large},
    {"scaled", "weights N(0, 1/n_in), biases N(0, 1) (Nielsen's default_weight_initializer)",
     init_scaled},
    {"xavier", "weights N(0, 2/(n_in + n_out)), biases 0 (Glorot & Bengio 2010)", init_xavier},
    {"he", "weights N(0, 2/n_in), biases 0 (He et al. 2015)", init_he},
    {"fixed", "explicit weights and biases from the config (init: {fixed: {weights, biases}})",
     NULL},
};

const initializer *init_table(size_t *count)
{
    *count = sizeof table / sizeof table[0];
    return table;
}

const initializer *init_find(const char *name)
{
    return named_find(table, sizeof table / sizeof table[0], sizeof table[0], name);
}
