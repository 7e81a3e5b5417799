/* net.h — a fully connected network and its mini-batch forward and backward
 * passes, in matrix form through CBLAS (one GEMM per layer per batch).
 *
 * Layout: layer k (k = 0 is the first layer after the input) has weights
 * [sizes[k+1] x sizes[k]] row-major ([neurons, inputs], as Nielsen's
 * network2.py and the run file store them) and biases [sizes[k+1]]. A batch is
 * row-major [rows x features], one example per row.
 *
 * Ownership: net_new / net_workspace_new / net_gradients_new allocate (one
 * block each); free with the matching _free. The net keeps pointers to the
 * activation entries (static tables), not copies. */
#ifndef MLP_NET_H
#define MLP_NET_H

#include <stddef.h>

#include <gsl/gsl_rng.h>

#include "activation.h"
#include "cost.h"
#include "error.h"
#include "init.h"

enum { NET_MAX_LAYERS = 16 };

typedef struct mlp_net {
    size_t n_layers;                    /* weight layers: number of sizes − 1 */
    size_t sizes[NET_MAX_LAYERS + 1];   /* sizes[0] input, sizes[n_layers] output */
    const activation *hidden, *output;
    double *weights[NET_MAX_LAYERS];
    double *biases[NET_MAX_LAYERS];
} mlp_net;

/* Buffers for batches of up to `capacity` rows: weighted inputs z, activations
 * a and errors δ per layer. After net_forward, a[n_layers − 1] is the output. */
typedef struct net_workspace {
    size_t capacity;
    double *z[NET_MAX_LAYERS], *a[NET_MAX_LAYERS], *delta[NET_MAX_LAYERS];
    double *bias_sum;                   /* one layer's Σ_rows δ, summed before scaling */
} net_workspace;

/* ∂C/∂w and ∂C/∂b summed over a batch, shaped like the net's parameters. */
typedef struct net_gradients {
    double *weights[NET_MAX_LAYERS];
    double *biases[NET_MAX_LAYERS];
} net_gradients;

mlp_net *net_new(const size_t *sizes, size_t n_sizes, const activation *hidden,
                 const activation *output, mlp_error *err);
void net_free(mlp_net *net);

/* Draws every layer from rng with `init` (layer by layer, weights then biases). */
void net_init_random(mlp_net *net, const initializer *init, gsl_rng *rng);

net_workspace *net_workspace_new(const mlp_net *net, size_t capacity, mlp_error *err);
void net_workspace_free(net_workspace *ws);
net_gradients *net_gradients_new(const mlp_net *net, mlp_error *err);
void net_gradients_free(net_gradients *grads);

/* Forward pass of `rows` <= ws->capacity examples x [rows x sizes[0]]. */
void net_forward(const mlp_net *net, net_workspace *ws, const double *x, size_t rows);

/* Backward pass after net_forward on the same x: fills grads with the
 * gradients of the summed cost over the batch (δ^L as cost.h describes). */
void net_backward(const mlp_net *net, const cost *c, net_workspace *ws, const double *x,
                  const double *y, size_t rows, net_gradients *grads);

/* One step of mini-batch SGD with L2 weight decay, as network2.py's
 * update_mini_batch: w ← (1 − ηλ/n) w − (η/m) Σ ∂C_x/∂w, b ← b − (η/m) Σ ∂C_x/∂b,
 * with m = rows and n = training_size. Forward, backward and update in one
 * pass: each layer's weights are updated by the GEMM that computes their
 * gradient, after the error has been propagated through them. */
void net_train_batch(mlp_net *net, const cost *c, net_workspace *ws, const double *x,
                     const double *y, size_t rows, double learning_rate, double l2,
                     size_t training_size);

/* Total number of parameters (weights and biases). */
size_t net_parameter_count(const mlp_net *net);

#endif
