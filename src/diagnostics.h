/* diagnostics.h — why a network learns slowly: per-layer measurements taken on
 * an epoch's training mini-batches as they train (train.diagnostics: true).
 *
 * After each training step the trainer hands every layer's buffers to
 * diagnostics_add_layer: its activations a and errors δ = ∂C_x/∂z (rows x
 * neurons, one row per example of the mini-batch), and its input (rows x inputs:
 * the batch, or the previous layer's activations). No extra pass over the data is
 * made. Per epoch and layer it reports
 *
 *   saturated_fraction    sigmoid, softmax: the fraction of (example, neuron)
 *                         pairs with a(1 − a) below the threshold (by default
 *                         0.01: σ'(z) < 0.01, |z| > 4.6); tanh: 1 − a² below it
 *                         (|a| > 0.995); relu: the
 *                         fraction of neurons that were 0 for every example of
 *                         the epoch ("dead"); linear: 0 (it never saturates)
 *   mean_abs_delta        mean |δ| over the epoch's (example, neuron) pairs
 *   weight_gradient_norm  mean over the mini-batches of the Frobenius norm of
 *                         the mini-batch gradient (1/m) Σ_x ∂C_x/∂W (no L2 term)
 *   mean_activation       mean a over the epoch's (example, neuron) pairs
 *
 * The gradient norm of a small batch comes from its Gram matrices,
 * ‖Σ_x δ_x a_xᵀ‖² = Σ_{x,y} (δ_x·δ_y)(a_x·a_y), which costs m²/2 (inputs +
 * neurons) instead of the gradient's m · inputs · neurons, and in the first layer
 * skips the blocks of inputs that are 0; a batch of bytes (MNIST) has its input
 * Gram matrix computed exactly in integers. Every other value is computed in a
 * fixed order (plain C, or the same operations in AVX-512), whose accuracy
 * src/diagnostics.c states: the same doubles on every CPU and under every kernel
 * variant. docs/run-file.md (/diagnostics) is the
 * user's description.
 *
 * Ownership: diagnostics_new allocates; diagnostics_free frees. */
#ifndef MLP_DIAGNOSTICS_H
#define MLP_DIAGNOSTICS_H

#include <stddef.h>
#include <stdint.h>

#include "activation.h"
#include "error.h"

/* The slope below which a sigmoid, softmax or tanh unit counts as saturated
 * by default (train.saturation_threshold). */
#define DIAGNOSTICS_SLOPE_THRESHOLD 0.01

typedef struct layer_diagnostics {
    double saturated_fraction;
    double mean_abs_delta;
    double weight_gradient_norm;
    double mean_activation;
} layer_diagnostics;

typedef struct diagnostics diagnostics;

/* For a network of n_layers weight layers: sizes[0] inputs, sizes[k + 1]
 * neurons in layer k, activations[k] its activation; mini-batches of up to
 * capacity rows; a sigmoid, softmax or tanh value counts as saturated when its
 * slope is below threshold. */
diagnostics *diagnostics_new(size_t n_layers, const size_t *sizes,
                             const activation *const *activations, size_t capacity,
                             double threshold, mlp_error *err);
void diagnostics_free(diagnostics *d);

/* Forgets the previous epoch. */
void diagnostics_start_epoch(diagnostics *d);

/* The first layer's input of a batch as the bytes it was scaled from (IDX
 * data: x = p / 255, data_batch): row r is pixels + indices[r] * inputs. */
typedef struct diagnostics_pixels {
    const unsigned char *pixels;
    const size_t *indices;
} diagnostics_pixels;

/* Adds layer k of one training step on `rows` examples (buffers as above).
 * pixels, if not NULL (k = 0 only), are the bytes input was scaled from: the
 * first layer's input Gram matrix is then computed from them in integers, exactly
 * (Σ p q, then divided by 255² with one rounding), the same doubles whichever
 * version runs; NULL: from input. */
void diagnostics_add_layer(diagnostics *d, size_t k, const double *a, const double *delta,
                           const double *input, const diagnostics_pixels *pixels, size_t rows);

/* Whether diagnostics_add_layer of the first layer, given its pixels, still
 * reads its input as doubles (the direct gradient norm, for batches large
 * against the layer); if not, that input may be NULL. */
int diagnostics_reads_first_input(const diagnostics *d, size_t rows);

/* The epoch's values of layer k (NaN when no batch was added). */
layer_diagnostics diagnostics_layer(const diagnostics *d, size_t k);

/* The names of layer_diagnostics' fields, in its order: "saturated_fraction",
 * "mean_abs_delta", "weight_gradient_norm", "mean_activation". The run file's
 * /diagnostics columns, and (as layerK_NAME, K from 1) the per-epoch metrics
 * store_read offers. */
enum { DIAGNOSTICS_FIELDS = 4, DIAGNOSTICS_MAX_LAYERS = 16 };
extern const char *const diagnostics_field_names[DIAGNOSTICS_FIELDS];

/* 1 when name is layerK_FIELD for some K >= 1 and field name. */
int diagnostics_metric_name(const char *name);

#endif
