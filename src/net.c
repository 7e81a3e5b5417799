/* net.c — see net.h. All matrix products go through CBLAS. */
#include "net.h"

#include <stdlib.h>
#include <string.h>

#include "blas.h"

mlp_net *net_new(const size_t *sizes, size_t n_sizes, const activation *hidden,
                 const activation *output, mlp_error *err)
{
    if (n_sizes < 2 || n_sizes > NET_MAX_LAYERS + 1) {
        mlp_error_set(err, MLP_ERR_CONFIG, "a network needs 2 to %d layer sizes, not %zu",
                      NET_MAX_LAYERS + 1, n_sizes);
        return NULL;
    }
    size_t parameters = 0;
    for (size_t k = 0; k + 1 < n_sizes; k++)
        parameters += sizes[k + 1] * sizes[k] + sizes[k + 1];
    /* One allocation: the struct, then every layer's weights and biases. */
    mlp_net *net = calloc(1, sizeof *net + parameters * sizeof(double));
    if (net == NULL) {
        mlp_error_nomem(err, "the network");
        return NULL;
    }
    net->n_layers = n_sizes - 1;
    memcpy(net->sizes, sizes, n_sizes * sizeof *sizes);
    net->hidden = hidden;
    net->output = output;
    double *cursor = (double *)(net + 1);
    for (size_t k = 0; k < net->n_layers; k++) {
        net->weights[k] = cursor;
        cursor += sizes[k + 1] * sizes[k];
        net->biases[k] = cursor;
        cursor += sizes[k + 1];
    }
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

void net_init_random(mlp_net *net, const initializer *init, gsl_rng *rng)
{
    for (size_t k = 0; k < net->n_layers; k++)
        init->fill(rng, net->weights[k], net->biases[k], net->sizes[k + 1], net->sizes[k]);
}

net_workspace *net_workspace_new(const mlp_net *net, size_t capacity, mlp_error *err)
{
    size_t values = 0, widest = 0;
    for (size_t k = 0; k < net->n_layers; k++) {
        values += 3 * capacity * net->sizes[k + 1];
        if (net->sizes[k + 1] > widest)
            widest = net->sizes[k + 1];
    }
    values += widest;
    net_workspace *ws = calloc(1, sizeof *ws + values * sizeof(double));
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
        grads->weights[k] = cursor;
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

void net_forward(const mlp_net *net, net_workspace *ws, const double *x, size_t rows)
{
    const double *input = x;
    for (size_t k = 0; k < net->n_layers; k++) {
        size_t n_in = net->sizes[k], n_out = net->sizes[k + 1];
        double *z = ws->z[k];
        /* z = 1 bᵀ + input Wᵀ: start from the biases, then one GEMM with β = 1. */
        for (size_t r = 0; r < rows; r++)
            memcpy(z + r * n_out, net->biases[k], n_out * sizeof *z);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)n_out, (int)n_in,
                    1.0, input, (int)n_in, net->weights[k], (int)n_in, 1.0, z, (int)n_out);
        layer_activation(net, k)->apply(z, ws->a[k], rows, n_out);
        input = ws->a[k];
    }
}

/* Where the backward pass puts each layer's weight gradient G = δᵀ a_prev:
 * W ← beta W + alpha G (alpha 1, beta 0 into a gradient buffer; alpha −η/m,
 * beta 1 − ηλ/n into the weights themselves), and the bias gradient
 * b ← b + bias_alpha Σ_rows δ. */
typedef struct gradient_sink {
    double *weights[NET_MAX_LAYERS], *biases[NET_MAX_LAYERS];
    double alpha, beta, bias_alpha;
    int accumulate_biases;              /* 0: biases are overwritten with the sum */
} gradient_sink;

static void backward(const mlp_net *net, const cost *c, net_workspace *ws, const double *x,
                     const double *y, size_t rows, const gradient_sink *sink)
{
    size_t last = net->n_layers - 1;
    c->delta_output(net->output, ws->z[last], ws->a[last], y, ws->delta[last], rows,
                    net->sizes[net->n_layers]);
    for (size_t k = net->n_layers; k-- > 0;) {
        size_t n_in = net->sizes[k], n_out = net->sizes[k + 1];
        const double *delta = ws->delta[k];
        const double *input = k == 0 ? x : ws->a[k - 1];
        /* Propagate the error through the weights before they are updated; the
         * input layer needs no error, so that GEMM is skipped for k = 0. */
        if (k > 0) {
            double *previous = ws->delta[k - 1];
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)n_in,
                        (int)n_out, 1.0, delta, (int)n_out, net->weights[k], (int)n_in, 0.0,
                        previous, (int)n_in);
            net->hidden->backprop(ws->z[k - 1], ws->a[k - 1], previous, previous, rows, n_in);
        }
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n_out, (int)n_in, (int)rows,
                    sink->alpha, delta, (int)n_out, input, (int)n_in, sink->beta,
                    sink->weights[k], (int)n_in);
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
        sink.weights[k] = grads->weights[k];
        sink.biases[k] = grads->biases[k];
    }
    backward(net, c, ws, x, y, rows, &sink);
}

void net_train_batch(mlp_net *net, const cost *c, net_workspace *ws, const double *x,
                     const double *y, size_t rows, double learning_rate, double l2,
                     size_t training_size)
{
    net_forward(net, ws, x, rows);
    gradient_sink sink = {
        .alpha = -learning_rate / (double)rows,
        .beta = 1.0 - learning_rate * l2 / (double)training_size,
        .bias_alpha = -learning_rate / (double)rows,
        .accumulate_biases = 1,
    };
    for (size_t k = 0; k < net->n_layers; k++) {
        sink.weights[k] = net->weights[k];
        sink.biases[k] = net->biases[k];
    }
    backward(net, c, ws, x, y, rows, &sink);
}
