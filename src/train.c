/* train.c — see train.h. */
#include "train.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "diagnostics.h"
#include "grouping.h"

/* Evaluation runs in chunks this large: big enough that per-call overheads
 * vanish, small enough that a chunk's inputs as doubles (627 KB) and the
 * first layer's weights share the CPU's L2 cache (1000 rows, 6 MB, pushed the
 * weights out and made evaluation 1.7x slower). Rounded down to whole groups
 * of the listed kernel (so that grouping.c's groups stay aligned); the
 * results do not depend on it (costs are summed per example). */
enum { EVALUATION_CHUNK = 100 };

/* A part's evaluation order (grouping.h), for the part it was made from: used
 * while the part still has those pixels and that count (the natural order
 * otherwise: the same results, only slower). With it, the union of nonzero
 * pixels of each of its groups, listed once for every evaluation of the run
 * (the listing was 8 % of an evaluation pass). */
typedef struct part_order {
    const unsigned char *pixels;
    size_t count;
    size_t *order;
    size_t *group_start;        /* group k's inputs: group_inputs[group_start[k] ..] */
    uint32_t *group_inputs;
} part_order;

struct trainer {
    const mlp_config *config;
    const dataset *data;
    const cost *cost;
    mlp_net *net;
    net_workspace *ws;
    gsl_rng *rng;
    size_t *order;              /* training indices, shuffled each epoch */
    size_t *chunk_indices;      /* one chunk's examples, in the natural order */
    size_t chunk;               /* examples an evaluation chunk (<= capacity) */
    double *x, *y;              /* one batch or chunk, as doubles */
    const unsigned char **images;       /* one batch's or chunk's pixels (IDX data) */
    /* the evaluation orders of the train, validation and test parts */
    part_order orders[3];
    size_t group;               /* rows the listed kernel multiplies together */
    double *example_cost;       /* each example's cost in the part measured */
    size_t most_examples;       /* example_cost's length: the largest part */
    double *row_cost;           /* one chunk's costs, row by row */
    double *weights[NET_MAX_LAYERS];    /* W [neurons x inputs] per layer, for the store */
    /* predicted class of every validation and test example, from the last
     * trainer_evaluate (for the confusion matrices) */
    int *predicted_validation, *predicted_test;
    diagnostics *diagnostics;   /* train.diagnostics: measured on the training batches */
};

static int copy_fixed(mlp_net *net, const mlp_config *config, mlp_error *err)
{
    for (size_t k = 0; k < net->n_layers; k++) {
        if (config->fixed_weights[k] == NULL || config->fixed_biases[k] == NULL)
            return mlp_error_set(err, MLP_ERR_CONFIG,
                                 "init: fixed needs weights and biases for layer %zu", k + 1);
        net_set_weights(net, k, config->fixed_weights[k]);
        memcpy(net->biases[k], config->fixed_biases[k], net->sizes[k + 1] * sizeof(double));
    }
    return MLP_OK;
}

/* The parts in orders[] order. */
static const data_part *order_part(const trainer *t, int k)
{
    return k == 0 ? &t->data->train : k == 1 ? &t->data->validation : &t->data->test;
}

/* A grouped order for one IDX part as it is now (none for an empty or inline
 * one). */
static void order_free(part_order *o)
{
    free(o->order);
    free(o->group_start);
    free(o->group_inputs);
    *o = (part_order){0};
}

/* Lists group k's union of nonzero pixels (t->group examples of o->order
 * from k t->group on, fewer at the end) into index, through the kernels' own
 * listing (so the list is exactly the one the kernel would make); returns its
 * length. index takes the kernels' slack past it. */
static size_t list_group(const trainer *t, const data_part *part, const part_order *o, size_t k,
                         uint32_t *index)
{
    const unsigned char *images[16];
    assert(t->group <= 16);
    size_t first = k * t->group;
    size_t rows = part->count - first < t->group ? part->count - first : t->group;
    data_images(part, o->order + first, rows, images);
    return t->net->kernels->list_any_bytes(images, rows, part->input_size, index);
}

/* o->group_start and o->group_inputs for o->order's groups: their lengths
 * first, then the lists themselves in one allocation. */
static int list_groups(const trainer *t, const data_part *part, part_order *o, mlp_error *err)
{
    size_t groups = (part->count + t->group - 1) / t->group;
    uint32_t *scratch = malloc((part->input_size + KERNELS_LIST_SLACK) * sizeof *scratch);
    o->group_start = malloc((groups + 1) * sizeof *o->group_start);
    if (scratch == NULL || o->group_start == NULL) {
        free(scratch);
        return mlp_error_nomem(err, "the evaluation groups");
    }
    o->group_start[0] = 0;
    for (size_t k = 0; k < groups; k++)
        o->group_start[k + 1] = o->group_start[k] + list_group(t, part, o, k, scratch);
    free(scratch);
    o->group_inputs = malloc((o->group_start[groups] + KERNELS_LIST_SLACK) *
                             sizeof *o->group_inputs);
    if (o->group_inputs == NULL)
        return mlp_error_nomem(err, "the evaluation groups");
    for (size_t k = 0; k < groups; k++)
        list_group(t, part, o, k, o->group_inputs + o->group_start[k]);
    return MLP_OK;
}

static int order_one(trainer *t, int k, mlp_error *err)
{
    const data_part *part = order_part(t, k);
    part_order *o = &t->orders[k];
    order_free(o);
    if (part->pixels == NULL || part->count == 0)
        return MLP_OK;
    o->order = malloc(part->count * sizeof *o->order);
    if (o->order == NULL)
        return mlp_error_nomem(err, "the evaluation order");
    int status = grouping_order(part, t->group, o->order, err);
    if (status == MLP_OK && net_evaluates_from_bytes(t->net))
        status = list_groups(t, part, o, err);
    if (status != MLP_OK)
        return status;
    o->pixels = part->pixels;
    o->count = part->count;
    return MLP_OK;
}

int trainer_order_parts(trainer *t, mlp_error *err)
{
    int status = MLP_OK;
    for (int k = t->config->monitor_train ? 0 : 1; k < 3 && status == MLP_OK; k++)
        status = order_one(t, k, err);
    return status;
}

int trainer_new(const mlp_config *config, const dataset *data, trainer **out, mlp_error *err)
{
    *out = NULL;
    const activation *hidden = activation_find(config->activation);
    const activation *output = activation_find(config->output);
    const cost *c = cost_find(config->cost);
    const initializer *init = init_find(config->init);
    if (hidden == NULL || output == NULL || c == NULL || init == NULL)
        return mlp_error_set(err, MLP_ERR_CONFIG, "internal: config names an unknown table entry");
    size_t sizes[NET_MAX_LAYERS + 1];
    for (int k = 0; k < config->n_layers; k++)
        sizes[k] = (size_t)config->sizes[k];

    trainer *t = calloc(1, sizeof *t);
    if (t == NULL)
        return mlp_error_nomem(err, "the trainer");
    t->config = config;
    t->data = data;
    t->cost = c;
    size_t capacity = (size_t)config->batch_size > EVALUATION_CHUNK ? (size_t)config->batch_size
                                                                     : EVALUATION_CHUNK;
    size_t n_train = data->train.count ? data->train.count : 1;
    t->net = net_new(sizes, (size_t)config->n_layers, hidden, output, err);
    if (t->net == NULL)
        goto fail;
    t->ws = net_workspace_new(t->net, capacity, err);
    if (t->ws == NULL)
        goto fail;
    t->rng = gsl_rng_alloc(gsl_rng_mt19937);
    t->order = malloc(n_train * sizeof *t->order);
    t->chunk_indices = malloc(capacity * sizeof *t->chunk_indices);
    t->x = malloc(capacity * data->input_size * sizeof *t->x);
    t->y = malloc(capacity * data->output_size * sizeof *t->y);
    t->images = malloc(capacity * sizeof *t->images);
    t->row_cost = malloc(capacity * sizeof *t->row_cost);
    size_t most = data->train.count;
    most = data->validation.count > most ? data->validation.count : most;
    most = data->test.count > most ? data->test.count : most;
    t->example_cost = malloc((most + 1) * sizeof *t->example_cost);
    t->most_examples = most;
    size_t n_weights = 0;
    for (size_t k = 0; k < t->net->n_layers; k++)
        n_weights += sizes[k + 1] * sizes[k];
    t->weights[0] = malloc(n_weights * sizeof(double));
    t->predicted_validation = malloc((data->validation.count + 1) * sizeof(int));
    t->predicted_test = malloc((data->test.count + 1) * sizeof(int));
    if (t->rng == NULL || t->order == NULL || t->chunk_indices == NULL || t->x == NULL ||
        t->y == NULL || t->images == NULL || t->row_cost == NULL || t->example_cost == NULL ||
        t->weights[0] == NULL ||
        t->predicted_validation == NULL || t->predicted_test == NULL) {
        mlp_error_nomem(err, "the trainer");
        goto fail;
    }
    for (size_t k = 1; k < t->net->n_layers; k++)
        t->weights[k] = t->weights[k - 1] + sizes[k] * sizes[k - 1];
    if (config->diagnostics) {
        const activation *acts[NET_MAX_LAYERS];
        for (size_t k = 0; k < t->net->n_layers; k++)
            acts[k] = k + 1 == t->net->n_layers ? output : hidden;
        t->diagnostics = diagnostics_new(t->net->n_layers, t->net->sizes, acts,
                                         (size_t)config->batch_size,
                                         config->saturation_threshold, err);
        if (t->diagnostics == NULL)
            goto fail;
    }
    t->group = t->net->kernels->listed_group(sizes[1]);
    t->chunk = capacity / t->group * t->group;
    if (trainer_order_parts(t, err) != MLP_OK)
        goto fail;
    gsl_rng_set(t->rng, config->seed);
    for (size_t i = 0; i < n_train; i++)
        t->order[i] = i;
    if (init->fill == NULL) {
        if (copy_fixed(t->net, config, err) != MLP_OK)
            goto fail;
    } else {
        net_init_random(t->net, init, t->rng);
    }
    *out = t;
    return MLP_OK;
fail:
    trainer_free(t);
    return err && err->status ? err->status : MLP_ERR_RUN;
}

void trainer_free(trainer *t)
{
    if (t == NULL)
        return;
    free(t->weights[0]);
    diagnostics_free(t->diagnostics);
    free(t->predicted_test);
    free(t->predicted_validation);
    for (int k = 0; k < 3; k++)
        order_free(&t->orders[k]);
    free(t->example_cost);
    free(t->row_cost);
    free(t->images);
    free(t->y);
    free(t->x);
    free(t->chunk_indices);
    free(t->order);
    if (t->rng)
        gsl_rng_free(t->rng);
    net_workspace_free(t->ws);
    net_free(t->net);
    free(t);
}

mlp_net *trainer_net(trainer *t)
{
    return t->net;
}

gsl_rng *trainer_rng(trainer *t)
{
    return t->rng;
}

double *const *trainer_weights(trainer *t)
{
    for (size_t k = 0; k < t->net->n_layers; k++)
        net_get_weights(t->net, k, t->weights[k]);
    return t->weights;
}

void trainer_set_timing(trainer *t, net_timing *timing)
{
    t->ws->timing = timing;
}

void trainer_load_weights(trainer *t)
{
    for (size_t k = 0; k < t->net->n_layers; k++)
        net_set_weights(t->net, k, t->weights[k]);
}

int trainer_epoch(trainer *t, double learning_rate, volatile sig_atomic_t *stop, mlp_error *err)
{
    const data_part *train = &t->data->train;
    size_t n = train->count, batch = (size_t)t->config->batch_size;
    /* Each epoch shuffles 0..n-1 afresh, so the generator's state alone (saved
     * in checkpoints) fixes every later epoch's order: a resumed run sees the
     * same batches as an uninterrupted one. */
    for (size_t i = 0; i < n; i++)
        t->order[i] = i;
    gsl_ran_shuffle(t->rng, t->order, n, sizeof *t->order);
    if (t->diagnostics != NULL)
        diagnostics_start_epoch(t->diagnostics);
    /* IDX images train from their bytes where that is the fast path (the same
     * doubles either way); the diagnostics may still want the batch as doubles. */
    int from_bytes = train->pixels != NULL && net_trains_from_bytes(t->net);
    for (size_t start = 0; start < n; start += batch) {
        if (stop != NULL && *stop)
            return mlp_error_set(err, MLP_ERR_INTERRUPTED, "interrupted during an epoch");
        size_t rows = n - start < batch ? n - start : batch;
        net_workspace *ws = t->ws;
        double started = ws->timing != NULL ? net_cpu_seconds() : 0.0;
        int converted = !from_bytes || (t->diagnostics != NULL &&
                                        diagnostics_reads_first_input(t->diagnostics, rows));
        if (from_bytes) {
            data_images(train, t->order + start, rows, t->images);
            data_targets(train, t->order + start, rows, t->y);
        }
        if (converted)
            data_batch(train, t->order + start, rows, t->x, t->y);
        if (start + rows < n)
            data_prefetch(train, t->order + start + rows,
                          n - start - rows < batch ? n - start - rows : batch);
        if (ws->timing != NULL)
            ws->timing->conversion += net_cpu_seconds() - started;
        if (from_bytes)
            net_train_batch_bytes(t->net, t->cost, t->ws, t->images, t->y, rows, learning_rate,
                                  t->config->l2, n);
        else
            net_train_batch(t->net, t->cost, t->ws, t->x, t->y, rows, learning_rate,
                            t->config->l2, n);
        /* The step left each layer's a and δ of this batch in the workspace; x
         * came from the bytes of IDX data. */
        diagnostics_pixels pixels = {train->pixels, t->order + start};
        for (size_t k = 0; t->diagnostics != NULL && k < t->net->n_layers; k++)
            diagnostics_add_layer(t->diagnostics, k, ws->a[k], ws->delta[k],
                                  k > 0 ? ws->a[k - 1] : converted ? t->x : NULL,
                                  k == 0 && train->pixels != NULL ? &pixels : NULL, rows);
    }
    return MLP_OK;
}

static double weight_squares(const mlp_net *net)
{
    double sum = 0.0;
    for (size_t k = 0; k < net->n_layers; k++) {
        size_t count = net->sizes[k + 1] * net->sizes[k];
        for (size_t i = 0; i < count; i++)
            sum += net->weights_t[k][i] * net->weights_t[k][i];
    }
    return sum;
}

static size_t argmax(const double *values, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (values[i] > values[best])
            best = i;
    return best;
}

/* The examples indices[0 .. rows) of part, forward: the outputs are in t->ws,
 * the targets in t->y. groups: their unions listed (NULL: listed as they go). */
static void forward_examples(trainer *t, const data_part *part, const size_t *indices,
                             size_t rows, const listed_groups *groups)
{
    if (part->pixels != NULL && net_evaluates_from_bytes(t->net)) {
        /* the pixels are read where they are, not converted */
        data_images(part, indices, rows, t->images);
        data_targets(part, indices, rows, t->y);
        net_forward_bytes(t->net, t->ws, t->images, rows, groups);
    } else {
        data_batch(part, indices, rows, t->x, t->y);
        net_forward(t->net, t->ws, t->x, rows);
    }
}

/* The examples of chunk `start` of part in `order` (NULL: the natural order),
 * fewer at its end; returns how many and points *indices at them. */
static size_t chunk_at(trainer *t, const data_part *part, const size_t *order, size_t start,
                       const size_t **indices)
{
    size_t rows = part->count - start < t->chunk ? part->count - start : t->chunk;
    if (order != NULL) {
        *indices = order + start;
    } else {
        for (size_t i = 0; i < rows; i++)
            t->chunk_indices[i] = start + i;
        *indices = t->chunk_indices;
    }
    return rows;
}

static const part_order *evaluation_order(const trainer *t, const data_part *part)
{
    for (int k = 0; k < 3; k++) {
        const part_order *o = &t->orders[k];
        if (part == order_part(t, k) && o->order != NULL && o->pixels == part->pixels &&
            o->count == part->count)
            return o;
    }
    return NULL;
}

/* Σ values in the order given, as the sum of consecutive blocks' sums: the
 * rounding error grows with the block length plus the number of blocks, not
 * with n (tests/test_numerics.c checks a part's cost to 4 ulps). */
static double sum_in_blocks(const double *values, size_t n)
{
    enum { BLOCK = 100 };
    double total = 0.0;
    for (size_t b = 0; b < n; b += BLOCK) {
        double block = 0.0;
        for (size_t i = b; i < n && i < b + BLOCK; i++)
            block += values[i];
        total += block;
    }
    return total;
}

/* Cost and accuracy of the network on part; predicted (NULL: not wanted)
 * receives each example's predicted class. The examples run in the part's
 * evaluation order; each one's cost is kept and the costs summed in the
 * part's own order, so the order changes no result. */
static void measure(trainer *t, const data_part *part, double *cost_out, double *accuracy_out,
                    int *predicted)
{
    *cost_out = NAN;
    *accuracy_out = NAN;
    if (part->count == 0)
        return;
    assert(part->count <= t->most_examples);    /* train.h: no larger than the data's parts */
    const mlp_net *net = t->net;
    size_t last = net->n_layers - 1, outputs = net->sizes[net->n_layers], correct = 0;
    const part_order *o = evaluation_order(t, part);
    const size_t *order = o != NULL ? o->order : NULL, *indices;
    for (size_t start = 0; start < part->count; start += t->chunk) {
        size_t rows = chunk_at(t, part, order, start, &indices);
        /* chunks are whole groups (trainer_new), so a chunk's groups are the order's */
        int listed = o != NULL && o->group_start != NULL;
        listed_groups groups = {t->group, listed ? o->group_start + start / t->group : NULL,
                                listed ? o->group_inputs : NULL};
        forward_examples(t, part, indices, rows, listed ? &groups : NULL);
        t->cost->row_values(net->output, t->ws->z[last], t->ws->a[last], t->y, rows, outputs,
                            t->row_cost);
        for (size_t r = 0; r < rows; r++) {
            size_t example = indices[r];
            int guess = (int)argmax(t->ws->a[last] + r * outputs, outputs);
            t->example_cost[example] = t->row_cost[r];
            if (predicted != NULL)
                predicted[example] = guess;
            if (guess == data_class(part, example))
                correct++;
        }
    }
    double total = sum_in_blocks(t->example_cost, part->count);
    double n = (double)part->count;
    *cost_out = total / n + 0.5 * (t->config->l2 / n) * weight_squares(net);
    *accuracy_out = t->data->has_classes ? (double)correct / n : NAN;
}

void trainer_measure(trainer *t, const data_part *part, double *cost_out, double *accuracy_out)
{
    measure(t, part, cost_out, accuracy_out, NULL);
}

void trainer_evaluate(trainer *t, epoch_metrics *row)
{
    if (t->config->monitor_train) {
        trainer_measure(t, &t->data->train, &row->train_cost, &row->train_accuracy);
    } else {
        row->train_cost = NAN;
        row->train_accuracy = NAN;
    }
    measure(t, &t->data->validation, &row->validation_cost, &row->validation_accuracy,
            t->predicted_validation);
    measure(t, &t->data->test, &row->test_cost, &row->test_accuracy, t->predicted_test);
}

const diagnostics *trainer_diagnostics(const trainer *t)
{
    return t->diagnostics;
}

const int *trainer_predictions(const trainer *t, const data_part *part)
{
    if (part == &t->data->validation)
        return t->predicted_validation;
    if (part == &t->data->test)
        return t->predicted_test;
    return NULL;
}

double trainer_mean_output(trainer *t, const data_part *part)
{
    if (part->count == 0)
        return NAN;
    const mlp_net *net = t->net;
    size_t last = net->n_layers - 1, outputs = net->sizes[net->n_layers];
    const size_t *indices;
    double total = 0.0;
    for (size_t start = 0; start < part->count; start += t->chunk) {
        size_t rows = chunk_at(t, part, NULL, start, &indices);
        forward_examples(t, part, indices, rows, NULL);
        for (size_t i = 0; i < rows * outputs; i++)
            total += t->ws->a[last][i];
    }
    return total / ((double)part->count * (double)outputs);
}
