/* cost.h — the table of cost functions: the cost C and the output error δ^L.
 *
 * Values are given per example (summed over its output neurons in their
 * order); the caller sums the examples in their order and divides by their
 * number (Nielsen's C = (1/n) Σ_x C_x). Per example, so that a pass may
 * evaluate the examples in any order or grouping and still sum the same
 * doubles in the same order (train.c).
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
    /* per_row[r] = the cost of row r (Σ over its outputs, from +0 in column
     * order); z is the output layer's weighted input (used for a numerically
     * stable value when out is sigmoid). */
    void (*row_values)(const activation *out, const double *z, const double *a,
                       const double *y, size_t rows, size_t cols, double *per_row);
    /* δ^L for every row (rows x cols), as described above. */
    void (*delta_output)(const activation *out, const double *z, const double *a,
                         const double *y, double *delta, size_t rows, size_t cols);
    const char *required_output;
    const char *pairing_hint;
} cost;

const cost *cost_find(const char *name);

/* Σ over rows, in row order from +0, of c's row values. */
double cost_total(const cost *c, const activation *out, const double *z, const double *a,
                  const double *y, size_t rows, size_t cols);
const cost *cost_table(size_t *count);

/* 1 if the pair trains correctly (δ^L exact and the cost defined on the
 * activation's outputs). */
int cost_pair_is_valid(const cost *c, const activation *out);

#endif
