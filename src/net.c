/* net.c — see net.h. All arithmetic on weights goes through the kernels
 * (kernels.h); this file only lays out buffers and lists the nonzero inputs. */
#include "net.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double net_cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Runs STATEMENT, adding its time to ws->timing->FIELD when timing is on. */
#define TIMED(ws, FIELD, ...)                                                           \
    do {                                                                                      \
        double started_ = (ws)->timing != NULL ? net_cpu_seconds() : 0.0;                     \
        __VA_ARGS__;                                                                          \
        if ((ws)->timing != NULL)                                                             \
            (ws)->timing->FIELD += net_cpu_seconds() - started_;                              \
    } while (0)

static size_t widest_layer(const size_t *sizes, size_t n_layers)
{
    size_t widest = 0;
    for (size_t k = 0; k < n_layers; k++)
        if (sizes[k + 1] * sizes[k] > widest)
            widest = sizes[k + 1] * sizes[k];
    return widest;
}

mlp_net *net_new(const size_t *sizes, size_t n_sizes, const activation *hidden,
                 const activation *output, mlp_error *err)
{
    if (n_sizes < 2 || n_sizes > NET_MAX_LAYERS + 1) {
        mlp_error_set(err, MLP_ERR_CONFIG, "a network needs 2 to %d layer sizes, not %zu",
                      NET_MAX_LAYERS + 1, n_sizes);
        return NULL;
    }
    const kernel_variant *kernels = kernels_choose(err);
    if (kernels == NULL)
        return NULL;
    size_t parameters = 0;
    for (size_t k = 0; k + 1 < n_sizes; k++)
        parameters += sizes[k + 1] * sizes[k] + sizes[k + 1];
    size_t scratch = widest_layer(sizes, n_sizes - 1);
    /* One allocation: the struct, every layer's weights and biases, the scratch. */
    mlp_net *net = calloc(1, sizeof *net + (parameters + scratch) * sizeof(double));
    if (net == NULL) {
        mlp_error_nomem(err, "the network");
        return NULL;
    }
    net->n_layers = n_sizes - 1;
    memcpy(net->sizes, sizes, n_sizes * sizeof *sizes);
    net->hidden = hidden;
    net->output = output;
    net->kernels = kernels;
    net->input_path = NET_PATH_AUTO;
    double *cursor = (double *)(net + 1);
    for (size_t k = 0; k < net->n_layers; k++) {
        net->weights_t[k] = cursor;
        cursor += sizes[k + 1] * sizes[k];
        net->biases[k] = cursor;
        cursor += sizes[k + 1];
    }
    net->scratch = cursor;
    return net;
}

void net_free(mlp_net *net)
{
    free(net);
}

size_t net_parameter_count(const mlp_net *net)
{
    size_t parameters = 0;
    for (size_t k = 0; k < net->n_layers; k++)
        parameters += net->sizes[k + 1] * net->sizes[k] + net->sizes[k + 1];
    return parameters;
}

/* dst [cols x rows] = srcᵀ for src [rows x cols]. */
static void transpose(const double *src, size_t rows, size_t cols, double *dst)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            dst[c * rows + r] = src[r * cols + c];
}

void net_get_weights(const mlp_net *net, size_t k, double *w)
{
    transpose(net->weights_t[k], net->sizes[k], net->sizes[k + 1], w);
}

void net_set_weights(mlp_net *net, size_t k, const double *w)
{
    transpose(w, net->sizes[k + 1], net->sizes[k], net->weights_t[k]);
}

/* The initializer draws W in [neurons x inputs] order, as before the layout
 * changed, so a seed still gives the same starting network. */
void net_init_random(mlp_net *net, const initializer *init, gsl_rng *rng)
{
    for (size_t k = 0; k < net->n_layers; k++) {
        init->fill(rng, net->scratch, net->biases[k], net->sizes[k + 1], net->sizes[k]);
        net_set_weights(net, k, net->scratch);
    }
}

net_workspace *net_workspace_new(const mlp_net *net, size_t capacity, mlp_error *err)
{
    size_t values = 0, widest = 0;
    for (size_t k = 0; k < net->n_layers; k++) {
        values += 3 * capacity * net->sizes[k + 1];
        if (net->sizes[k + 1] > widest)
            widest = net->sizes[k + 1];
    }
    values += widest + widest_layer(net->sizes, net->n_layers);
    size_t n_in = net->sizes[0], entries = capacity * n_in;
    size_t indices = (capacity + 1) + entries + KERNELS_LIST_SLACK + 2 * (n_in + 1) + entries +
                     3 * (n_in + KERNELS_LIST_SLACK);
    size_t row_words = n_in * KERNELS_ROW_WORDS(capacity);
    net_workspace *ws = calloc(1, sizeof *ws + values * sizeof(double) +
                                      row_words * sizeof(uint64_t) + indices * sizeof(uint32_t));
    if (ws == NULL) {
        mlp_error_nomem(err, "the batch workspace");
        return NULL;
    }
    ws->capacity = capacity;
    double *cursor = (double *)(ws + 1);
    for (size_t k = 0; k < net->n_layers; k++) {
        size_t n = capacity * net->sizes[k + 1];
        ws->z[k] = cursor;
        ws->a[k] = cursor + n;
        ws->delta[k] = cursor + 2 * n;
        cursor += 3 * n;
    }
    ws->bias_sum = cursor;
    ws->weights = cursor + widest;
    ws->row_bits = (uint64_t *)(cursor + widest + widest_layer(net->sizes, net->n_layers));
    uint32_t *next = (uint32_t *)(ws->row_bits + row_words);
    ws->row_start = next;
    ws->row_index = next + capacity + 1;
    ws->col_start = ws->row_index + entries + KERNELS_LIST_SLACK;
    ws->col_cursor = ws->col_start + n_in + 1;
    ws->col_row = ws->col_cursor + n_in + 1;
    ws->any_index = ws->col_row + entries;
    ws->none_index = ws->any_index + n_in + KERNELS_LIST_SLACK;
    ws->group_index = ws->none_index + n_in + KERNELS_LIST_SLACK;
    return ws;
}

void net_workspace_free(net_workspace *ws)
{
    free(ws);
}

net_gradients *net_gradients_new(const mlp_net *net, mlp_error *err)
{
    size_t parameters = net_parameter_count(net);
    net_gradients *grads = calloc(1, sizeof *grads + parameters * sizeof(double));
    if (grads == NULL) {
        mlp_error_nomem(err, "the gradients");
        return NULL;
    }
    double *cursor = (double *)(grads + 1);
    for (size_t k = 0; k < net->n_layers; k++) {
        grads->weights_t[k] = cursor;
        cursor += net->sizes[k + 1] * net->sizes[k];
        grads->biases[k] = cursor;
        cursor += net->sizes[k + 1];
    }
    return grads;
}

void net_gradients_free(net_gradients *grads)
{
    free(grads);
}

static const activation *layer_activation(const mlp_net *net, size_t k)
{
    return k + 1 == net->n_layers ? net->output : net->hidden;
}

/* Lists the nonzero inputs of each row; returns how many there are. */
static size_t list_rows(const kernel_variant *kv, net_workspace *ws, const double *x,
                        size_t rows, size_t n_in)
{
    size_t n = 0;
    for (size_t r = 0; r < rows; r++) {
        ws->row_start[r] = (uint32_t)n;
        n += kv->list_nonzero(x + r * n_in, n_in, ws->row_index + n);
    }
    ws->row_start[rows] = (uint32_t)n;
    return n;
}

/* The same nonzeros by input, rows in increasing order (a counting sort). */
static void list_columns(net_workspace *ws, size_t rows, size_t n_in)
{
    memset(ws->col_start, 0, (n_in + 1) * sizeof *ws->col_start);
    uint32_t total = ws->row_start[rows];
    for (uint32_t t = 0; t < total; t++)
        ws->col_start[ws->row_index[t] + 1]++;
    for (size_t i = 0; i < n_in; i++) {
        ws->col_start[i + 1] += ws->col_start[i];
        ws->col_cursor[i] = ws->col_start[i];
    }
    for (size_t r = 0; r < rows; r++)
        for (uint32_t t = ws->row_start[r]; t < ws->row_start[r + 1]; t++)
            ws->col_row[ws->col_cursor[ws->row_index[t]]++] = (uint32_t)r;
}

/* The inputs zero in every row: the complement of any_index. */
static void list_unused(net_workspace *ws, size_t n_in)
{
    size_t used = 0, unused = 0;
    for (size_t i = 0; i < n_in; i++) {
        int listed = used < ws->n_any && ws->any_index[used] == i;
        ws->none_index[unused] = (uint32_t)i;
        unused += !listed;
        used += listed;
    }
}

/* The listed path multiplies every row by every listed input, zeros included,
 * but loads each weight vector once per group of listed_rows rows, where the
 * sparse path loads one per nonzero. Measured with `make bench` (--only H B
 * --path P, docs/performance.md): it wins when a group shares a load among 4
 * rows or more and does at most listed_rows times the sparse path's
 * multiply-adds (MNIST: 2.5 times at batch 10, 4 to 4.5 at batch 100 and in
 * the 100-row evaluation chunks, where it is still as fast or faster). */
enum { LISTED_MIN_ROWS = 4, LISTED_WORK_TENTHS = 10 };

static net_input_path choose_path(const mlp_net *net, net_workspace *ws, const double *x,
                                  size_t rows)
{
    size_t n_in = net->sizes[0], nonzero = 0;
    if (net->input_path == NET_PATH_DENSE)
        return NET_PATH_DENSE;
    net_input_path path = net->input_path;
    size_t shared = net->kernels->listed_rows;
    if (path == NET_PATH_AUTO && shared < LISTED_MIN_ROWS)
        path = NET_PATH_SPARSE;     /* this variant never shares enough: no union needed */
    if (path != NET_PATH_SPARSE)
        ws->n_any = net->kernels->list_nonzero_any(x, rows, n_in, ws->any_index, &nonzero);
    if (path == NET_PATH_AUTO)
        path = shared >= LISTED_MIN_ROWS &&
                       10 * ws->n_any * rows <= LISTED_WORK_TENTHS * shared * nonzero
                   ? NET_PATH_LISTED
                   : NET_PATH_SPARSE;
    if (path == NET_PATH_SPARSE)
        list_rows(net->kernels, ws, x, rows, n_in);
    return path;
}

/* The activations of the first layer, whose z[0] is computed, and every
 * layer after it. */
static void forward_from_first(const mlp_net *net, net_workspace *ws, size_t rows)
{
    const kernel_variant *kv = net->kernels;
    for (size_t k = 0; k < net->n_layers; k++) {
        size_t n_in = net->sizes[k], n_out = net->sizes[k + 1];
        if (k > 0)
            TIMED(ws, other_layers,
                  kv->forward_dense(ws->a[k - 1], rows, n_in, net->weights_t[k], n_out,
                                    net->biases[k], ws->z[k]));
        TIMED(ws, activations, layer_activation(net, k)->apply(ws->z[k], ws->a[k], rows, n_out));
    }
}

void net_forward(const mlp_net *net, net_workspace *ws, const double *x, size_t rows)
{
    const kernel_variant *kv = net->kernels;
    size_t n_in = net->sizes[0], n_out = net->sizes[1];
    const double *w = net->weights_t[0], *bias = net->biases[0];
    TIMED(ws, layer1, ws->path = choose_path(net, ws, x, rows));
    if (ws->path == NET_PATH_LISTED) {
        TIMED(ws, layer1, kv->forward_listed(x, rows, n_in, w, n_out, bias, ws->z[0],
                                             ws->group_index));
    } else if (ws->path == NET_PATH_SPARSE) {
        sparse_rows nonzero = {.rows = rows, .start = ws->row_start, .index = ws->row_index};
        TIMED(ws, layer1, kv->forward_sparse(&nonzero, x, n_in, w, n_out, bias, ws->z[0]));
    } else {
        TIMED(ws, layer1, kv->forward_dense(x, rows, n_in, w, n_out, bias, ws->z[0]));
    }
    forward_from_first(net, ws, rows);
}

void net_forward_bytes(const mlp_net *net, net_workspace *ws,
                       const unsigned char *const *images, size_t rows,
                       const listed_groups *groups)
{
    ws->path = NET_PATH_LISTED;
    TIMED(ws, layer1,
          net->kernels->forward_listed_bytes(images, rows, net->sizes[0], net->weights_t[0],
                                             net->sizes[1], net->biases[0], ws->z[0],
                                             ws->group_index, groups));
    forward_from_first(net, ws, rows);
}

/* Where the backward pass puts each layer's weight gradient G = a_prevᵀ δ:
 * Wᵀ ← beta Wᵀ + alpha G (alpha 1, beta 0 into a gradient buffer; alpha −η/m,
 * beta 1 − ηλ/n into the weights themselves), and the bias gradient
 * b ← b + bias_alpha Σ_rows δ. */
typedef struct gradient_sink {
    double *weights[NET_MAX_LAYERS], *biases[NET_MAX_LAYERS];
    double alpha, beta, bias_alpha;
    int accumulate_biases;              /* 0: biases are overwritten with the sum */
} gradient_sink;

/* The first layer's update of the listed inputs, from x or from the images,
 * each group of inputs skipping the rows in which it is all zero (with the
 * workspace's row bits). */
static void update_first_listed(const kernel_variant *kv, net_workspace *ws,
                                const uint32_t *inputs, size_t count, const double *x,
                                const unsigned char *const *images, size_t rows, size_t n_in,
                                const double *delta, size_t n_out, const gradient_sink *sink)
{
    if (images != NULL)
        kv->update_listed_bytes(inputs, count, images, rows, n_in, delta, n_out, sink->alpha,
                                sink->beta, sink->weights[0], ws->row_bits);
    else
        kv->update_listed(inputs, count, x, rows, n_in, delta, n_out, sink->alpha, sink->beta,
                          sink->weights[0], ws->row_bits);
}

/* x, or the images it is converted from (on the listed path only). */
static void backward(const mlp_net *net, const cost *c, net_workspace *ws, const double *x,
                     const unsigned char *const *images, const double *y, size_t rows,
                     const gradient_sink *sink)
{
    assert(images == NULL || ws->path == NET_PATH_LISTED);
    const kernel_variant *kv = net->kernels;
    size_t last = net->n_layers - 1;
    TIMED(ws, activations,
          c->delta_output(net->output, ws->z[last], ws->a[last], y, ws->delta[last], rows,
                          net->sizes[net->n_layers]));
    for (size_t k = net->n_layers; k-- > 0;) {
        size_t n_in = net->sizes[k], n_out = net->sizes[k + 1];
        const double *delta = ws->delta[k];
        const double *input = k == 0 ? x : ws->a[k - 1];
        /* Propagate the error through the weights before they are updated; the
         * input layer needs no error, so that pass is skipped for k = 0. The
         * error δ_prev = δ W is a forward pass through W [neurons x inputs]. */
        if (k > 0) {
            double *previous = ws->delta[k - 1];
            TIMED(ws, other_layers, {
                net_get_weights(net, k, ws->weights);
                kv->forward_dense(delta, rows, n_out, ws->weights, n_in, NULL, previous);
            });
            TIMED(ws, activations,
                  net->hidden->backprop(ws->z[k - 1], ws->a[k - 1], previous, previous, rows,
                                        n_in));
        }
        if (k == 0 && ws->path == NET_PATH_LISTED) {
            TIMED(ws, layer1, {
                update_first_listed(kv, ws, ws->any_index, ws->n_any, x, images, rows, n_in,
                                    delta, n_out, sink);
                /* Inputs zero in every row change only by β (kernels.h); with
                 * β = 1 and α <= 0 not at all. */
                if (!(sink->beta == 1.0 && signbit(sink->alpha))) {
                    list_unused(ws, n_in);
                    update_first_listed(kv, ws, ws->none_index, n_in - ws->n_any, x, images, 0,
                                        n_in, delta, n_out, sink);
                }
            });
        } else if (k == 0 && ws->path == NET_PATH_SPARSE) {
            TIMED(ws, layer1, {
                list_columns(ws, rows, n_in);
                sparse_columns by_input = {
                    .inputs = n_in, .start = ws->col_start, .row = ws->col_row};
                kv->update_sparse(&by_input, x, n_in, delta, n_out, sink->alpha, sink->beta,
                                  sink->weights[0]);
            });
        } else if (k == 0) {
            TIMED(ws, layer1,
                  kv->update_dense(input, rows, n_in, delta, n_out, sink->alpha, sink->beta,
                                   sink->weights[k]));
        } else {
            TIMED(ws, other_layers,
                  kv->update_dense(input, rows, n_in, delta, n_out, sink->alpha, sink->beta,
                                   sink->weights[k]));
        }
        /* Σ δ over the batch first, then scaled once, as network2.py does. */
        double *sum = ws->bias_sum;
        memset(sum, 0, n_out * sizeof *sum);
        for (size_t r = 0; r < rows; r++) {
            const double *delta_row = delta + r * n_out;
            for (size_t j = 0; j < n_out; j++)
                sum[j] += delta_row[j];
        }
        double *bias = sink->biases[k];
        for (size_t j = 0; j < n_out; j++)
            bias[j] = sink->accumulate_biases ? bias[j] + sink->bias_alpha * sum[j] : sum[j];
    }
}

void net_backward(const mlp_net *net, const cost *c, net_workspace *ws, const double *x,
                  const double *y, size_t rows, net_gradients *grads)
{
    gradient_sink sink = {.alpha = 1.0, .beta = 0.0, .bias_alpha = 1.0, .accumulate_biases = 0};
    for (size_t k = 0; k < net->n_layers; k++) {
        /* β = 0 multiplies the old contents: start from zeros, not from
         * whatever an earlier call left (an infinity would give NaN). */
        memset(grads->weights_t[k], 0, net->sizes[k + 1] * net->sizes[k] * sizeof(double));
        sink.weights[k] = grads->weights_t[k];
        sink.biases[k] = grads->biases[k];
    }
    backward(net, c, ws, x, NULL, y, rows, &sink);
}

/* The SGD step's sink: into the weights themselves (net.h). */
static gradient_sink step_sink(mlp_net *net, size_t rows, double learning_rate, double l2,
                               size_t training_size)
{
    gradient_sink sink = {
        .alpha = -learning_rate / (double)rows,
        .beta = 1.0 - learning_rate * l2 / (double)training_size,
        .bias_alpha = -learning_rate / (double)rows,
        .accumulate_biases = 1,
    };
    for (size_t k = 0; k < net->n_layers; k++) {
        sink.weights[k] = net->weights_t[k];
        sink.biases[k] = net->biases[k];
    }
    return sink;
}

void net_train_batch(mlp_net *net, const cost *c, net_workspace *ws, const double *x,
                     const double *y, size_t rows, double learning_rate, double l2,
                     size_t training_size)
{
    net_forward(net, ws, x, rows);
    gradient_sink sink = step_sink(net, rows, learning_rate, l2, training_size);
    backward(net, c, ws, x, NULL, y, rows, &sink);
}

int net_evaluates_from_bytes(const mlp_net *net)
{
    return net->input_path == NET_PATH_AUTO || net->input_path == NET_PATH_LISTED;
}

int net_trains_from_bytes(const mlp_net *net)
{
    return net_evaluates_from_bytes(net) && net->kernels->listed_rows >= LISTED_MIN_ROWS;
}

void net_train_batch_bytes(mlp_net *net, const cost *c, net_workspace *ws,
                           const unsigned char *const *images, const double *y, size_t rows,
                           double learning_rate, double l2, size_t training_size)
{
    TIMED(ws, layer1,
          ws->n_any = net->kernels->list_any_bytes(images, rows, net->sizes[0], ws->any_index));
    net_forward_bytes(net, ws, images, rows, NULL);
    gradient_sink sink = step_sink(net, rows, learning_rate, l2, training_size);
    backward(net, c, ws, NULL, images, y, rows, &sink);
}
