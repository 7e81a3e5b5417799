/* net.h — a fully connected network and its mini-batch forward and backward
 * passes, in matrix form through the project's kernels (kernels.h: one
 * kernel call per layer per pass, the same doubles on every CPU).
 *
 * Layout: layer k (k = 0 is the first layer after the input) has weights
 * stored input-major, weights_t[k] = Wᵀ [sizes[k] x sizes[k+1]] (so that a
 * nonzero input is one contiguous row of weights), and biases [sizes[k+1]].
 * Everything outside the network sees W as [neurons, inputs], as Nielsen's
 * network2.py and the run file store it, through net_get_weights and
 * net_set_weights. A batch is row-major [rows x features], one example per row.
 *
 * The first layer skips the batch's zero inputs (81 % of an MNIST image): by
 * default it works on the inputs nonzero in some row of the batch, dense over
 * the rows (the "listed" path: each weight row loaded once per batch), or on
 * each row's own nonzeros (sparse) when that is much less work, or when the
 * kernels have too few registers to share a load among rows (AVX2). Every path gives the same doubles (kernels.h), so the choice only
 * changes the speed. IDX images can be given as their bytes (net_forward_bytes,
 * net_train_batch_bytes), which the listed kernels read without converting.
 *
 * Ownership: net_new / net_workspace_new / net_gradients_new allocate (one
 * block each); free with the matching _free. The net keeps pointers to the
 * activation entries (static tables), not copies. */
#ifndef MLP_NET_H
#define MLP_NET_H

#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "activation.h"
#include "cost.h"
#include "error.h"
#include "init.h"
#include "kernels.h"

enum { NET_MAX_LAYERS = 16 };

/* How the first layer treats its inputs: by density (the default), or always
 * one path (for tests and the benchmark; the results are the same). */
typedef enum net_input_path {
    NET_PATH_AUTO,
    NET_PATH_DENSE,             /* every input of every row */
    NET_PATH_SPARSE,            /* each row's nonzero inputs */
    NET_PATH_LISTED,            /* the inputs nonzero in some row, for every row */
} net_input_path;

typedef struct mlp_net {
    size_t n_layers;                    /* weight layers: number of sizes − 1 */
    size_t sizes[NET_MAX_LAYERS + 1];   /* sizes[0] input, sizes[n_layers] output */
    const activation *hidden, *output;
    double *weights_t[NET_MAX_LAYERS];  /* Wᵀ: [i * sizes[k+1] + j] = input i → neuron j */
    double *biases[NET_MAX_LAYERS];
    const kernel_variant *kernels;      /* kernels_choose()'s at net_new; any variant gives
                                           the same results */
    net_input_path input_path;
    double *scratch;                    /* one layer's W [neurons x inputs], for init */
} mlp_net;

/* Where a batch's time goes, in seconds, summed while a workspace's timing
 * points here (`make bench`; NULL, the default, measures nothing). */
typedef struct net_timing {
    double conversion;          /* bytes → doubles (charged by the trainer) */
    double layer1;              /* the first layer: nonzero lists, forward, update */
    double other_layers;        /* forward, error and update of the other layers */
    double activations;         /* activations, their derivatives, the output error */
} net_timing;

/* Buffers for batches of up to `capacity` rows: weighted inputs z, activations
 * a and errors δ per layer, and the first layer's nonzero inputs. After
 * net_forward, a[n_layers − 1] is the output. */
typedef struct net_workspace {
    size_t capacity;
    double *z[NET_MAX_LAYERS], *a[NET_MAX_LAYERS], *delta[NET_MAX_LAYERS];
    double *bias_sum;                   /* one layer's Σ_rows δ, summed before scaling */
    double *weights;                    /* one layer's W [neurons x inputs], for the error */
    uint32_t *row_start, *row_index;    /* the batch's nonzero inputs, by row (kernels.h) */
    uint32_t *col_start, *col_cursor, *col_row;    /* the same, by input */
    uint32_t *any_index, *none_index;   /* inputs nonzero in some row / in none */
    size_t n_any;                       /* entries of any_index */
    uint32_t *group_index;              /* forward_listed's scratch (kernels.h) */
    uint64_t *row_bits;                 /* update_listed's: a bit per row an input */
    net_input_path path;                /* the one the last net_forward took (not AUTO) */
    net_timing *timing;                 /* NULL, or where to add up the time */
} net_workspace;

/* Seconds of CPU time of this thread (for net_timing). */
double net_cpu_seconds(void);

/* ∂C/∂w and ∂C/∂b summed over a batch, laid out like the net's parameters
 * (weights_t input-major). */
typedef struct net_gradients {
    double *weights_t[NET_MAX_LAYERS];
    double *biases[NET_MAX_LAYERS];
} net_gradients;

/* Fails (MLP_ERR_CONFIG) also when MLPLAB_KERNELS names a variant this CPU
 * lacks (kernels_choose). */
mlp_net *net_new(const size_t *sizes, size_t n_sizes, const activation *hidden,
                 const activation *output, mlp_error *err);
void net_free(mlp_net *net);

/* Layer k's weights as [neurons x inputs] row-major (the run file's layout):
 * copied out into w, or set from w. */
void net_get_weights(const mlp_net *net, size_t k, double *w);
void net_set_weights(mlp_net *net, size_t k, const double *w);

/* Draws every layer from rng with `init` (layer by layer, weights then biases). */
void net_init_random(mlp_net *net, const initializer *init, gsl_rng *rng);

net_workspace *net_workspace_new(const mlp_net *net, size_t capacity, mlp_error *err);
void net_workspace_free(net_workspace *ws);
net_gradients *net_gradients_new(const mlp_net *net, mlp_error *err);
void net_gradients_free(net_gradients *grads);

/* Forward pass of `rows` <= ws->capacity examples x [rows x sizes[0]]. */
void net_forward(const mlp_net *net, net_workspace *ws, const double *x, size_t rows);

/* The same for the examples whose inputs are images' bytes (row r's
 * sizes[0] bytes at images[r], anywhere in memory), each input byte / 255 (an
 * IDX image's pixels), without converting them first: the same doubles as
 * net_forward of the converted batch (data_batch), by the listed path,
 * whatever net->input_path says (net_evaluates_from_bytes). Lists no batch
 * union: train with net_train_batch_bytes, not net_backward. With groups (not
 * NULL), the first layer multiplies those groups over their lists (kernels.h,
 * listed_groups): the same doubles. */
void net_forward_bytes(const mlp_net *net, net_workspace *ws,
                       const unsigned char *const *images, size_t rows,
                       const listed_groups *groups);

/* Backward pass after net_forward on the same x: fills grads with the
 * gradients of the summed cost over the batch (δ^L as cost.h describes). */
void net_backward(const mlp_net *net, const cost *c, net_workspace *ws, const double *x,
                  const double *y, size_t rows, net_gradients *grads);

/* One step of mini-batch SGD with L2 weight decay, as network2.py's
 * update_mini_batch: w ← (1 − ηλ/n) w − (η/m) Σ ∂C_x/∂w, b ← b − (η/m) Σ ∂C_x/∂b,
 * with m = rows and n = training_size (each weight: fma(−η/m, g, β w), kernels.h).
 * Forward, backward and update in one pass: each layer's weights are updated
 * by the kernel that computes their gradient, after the error has been
 * propagated through them. */
void net_train_batch(mlp_net *net, const cost *c, net_workspace *ws, const double *x,
                     const double *y, size_t rows, double learning_rate, double l2,
                     size_t training_size);

/* The same step for a batch of images (as net_forward_bytes), on the listed
 * path: the same doubles as net_train_batch of the converted batch. Only
 * where net_trains_from_bytes. */
void net_train_batch_bytes(mlp_net *net, const cost *c, net_workspace *ws,
                           const unsigned char *const *images, const double *y, size_t rows,
                           double learning_rate, double l2, size_t training_size);

/* Whether reading bytes is this net's way: for evaluation (net_forward_bytes)
 * unless a path other than the listed one is forced (net->input_path); for
 * training (net_train_batch_bytes) also only where the kernels share each
 * weight load among enough rows for the listed path to be the fast one. The
 * answers change the speed, never the results. */
int net_evaluates_from_bytes(const mlp_net *net);
int net_trains_from_bytes(const mlp_net *net);

/* Total number of parameters (weights and biases). */
size_t net_parameter_count(const mlp_net *net);

#endif
