/* gradcheck.h — backpropagation against central differences.
 *
 * For a small random network and batch, compares every weight and bias
 * gradient from net_backward with (C(θ + ε) − C(θ − ε)) / 2ε of the summed
 * cost, and reports the largest relative error |g − ĝ| / max(|g| + |ĝ|, 1e-8)
 * per layer. Any activation / output / cost combination can be checked,
 * including the ones `mlplab run` refuses: that is how the ReLU + binary
 * cross-entropy failure of the seed question is shown. */
#ifndef MLP_GRADCHECK_H
#define MLP_GRADCHECK_H

#include <stddef.h>

#include "activation.h"
#include "cost.h"
#include "error.h"
#include "net.h"

typedef struct gradcheck_spec {
    size_t sizes[NET_MAX_LAYERS + 1];
    size_t n_sizes;
    const activation *hidden, *output;
    const cost *cost;
    unsigned long seed;
    size_t examples;            /* rows in the random batch */
    double epsilon;             /* step of the central difference */
    double tolerance;           /* PASS when every layer's error is below it */
} gradcheck_spec;

typedef struct gradcheck_result {
    size_t n_layers;
    double max_relative_error[NET_MAX_LAYERS];  /* per weight layer, weights and biases */
    double worst;                               /* max over layers */
    double cost;                                /* mean cost per example at the checked point */
    int passed;
} gradcheck_result;

/* Fills spec with the defaults: sizes 20-10-5 (the question's shape, scaled
 * down), 8 examples, ε = 1e-5, tolerance 1e-4, seed 1. Smaller steps drown
 * small gradients in rounding (1e-7 gives 3e-3 on tanh); real mistakes (a
 * missing σ'(z) factor) give errors of 1e-2 and above. */
void gradcheck_defaults(gradcheck_spec *spec);

int gradcheck_run(const gradcheck_spec *spec, gradcheck_result *out, mlp_error *err);

#endif
