/* cost.h — the table of cost functions: the cost C and the output error δ^L.
 *
 * Values are summed over the examples of a batch and over output neurons; the
 * caller divides by the number of examples (Nielsen's C = (1/n) Σ_x C_x).
 *
 * delta_output computes δ^L = ∂C/∂z^L the way Nielsen's network2.py does:
 *   quadratic      (a − y) ⊙ f'(z)      exact for every output activation
 *   cross-entropy  a − y               exact only for a sigmoid output
 *   log-likelihood a − y               exact only for a softmax output
 * The shortcut is the point of these costs (the σ'(z) factor cancels, so
 * saturated outputs still learn), and it is also why cross-entropy with a
 * ReLU, tanh or linear output fails a gradient check: there the shortcut is
 * not the derivative of the cost. `required_output` names the only output
 * activation for which the cost's δ^L is exact (NULL: any); `mlplab run`
 * refuses other pairings with `pairing_hint`, `mlplab gradcheck` shows them. */
#ifndef MLP_COST_H
#define MLP_COST_H

#include <stddef.h>

#include "activation.h"

typedef struct cost {
    const char *name;
    /* Σ over rows and outputs of the cost; z is the output layer's weighted
     * input (used for a numerically stable value when out is sigmoid). */
    double (*value)(const activation *out, const double *z, const double *a, const double *y,
                    size_t rows, size_t cols);
    /* δ^L for every row (rows x cols), as described above. */
    void (*delta_output)(const activation *out, const double *z, const double *a,
                         const double *y, double *delta, size_t rows, size_t cols);
    const char *required_output;
    const char *pairing_hint;
} cost;

const cost *cost_find(const char *name);
const cost *cost_table(size_t *count);

/* 1 if the pair trains correctly (δ^L exact and the cost defined on the
 * activation's outputs). */
int cost_pair_is_valid(const cost *c, const activation *out);

#endif
