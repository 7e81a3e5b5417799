/* test_train.c — the SGD loop against closed forms (Nielsen's single neuron)
 * and against an independent reference of the training step for every
 * accepted activation/cost pair (several layers, mini-batches, L2). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "train.h"

/* Nielsen's single neuron: input 1, target 0, one sigmoid output. */
typedef struct neuron_fixture {
    mlp_config config;
    dataset data;
    double input, target, weight, bias;
} neuron_fixture;

static void neuron_setup(neuron_fixture *f, const char *cost_name, double w, double b,
                         double rate)
{
    memset(f, 0, sizeof *f);
    f->input = 1.0;
    f->target = 0.0;
    f->weight = w;
    f->bias = b;
    mlp_config *c = &f->config;
    test_config_network(c, "inline", 2, (const int[]){1, 1}, "sigmoid", "sigmoid", cost_name,
                        "fixed");
    c->fixed_weights[0] = &f->weight;
    c->fixed_biases[0] = &f->bias;
    c->epochs = 300;
    c->batch_size = 1;
    c->learning_rate = rate;
    c->monitor_train = 1;
    c->seed = 1;
    f->data.input_size = 1;
    f->data.output_size = 1;
    f->data.train = (data_part){.count = 1, .input_size = 1, .output_size = 1,
                                .inputs = &f->input, .targets = &f->target};
}

static double sigmoid(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

/* w ← w − η δ x, b ← b − η δ with δ = (a − y) σ'(z) (quadratic) or a − y (cross-entropy). */
static void check_against_recurrence(const char *cost_name, double w0, double b0, double rate)
{
    neuron_fixture f;
    neuron_setup(&f, cost_name, w0, b0, rate);
    trainer *t = NULL;
    mlp_error err = {0};
    assert_int_equal(trainer_new(&f.config, &f.data, &t, &err), MLP_OK);
    double w = w0, b = b0;
    int quadratic = strcmp(cost_name, "quadratic") == 0;
    for (int epoch = 1; epoch <= 300; epoch++) {
        assert_int_equal(trainer_epoch(t, rate, NULL, &err), MLP_OK);
        double a = sigmoid(w * f.input + b);
        double delta = quadratic ? (a - f.target) * a * (1.0 - a) : a - f.target;
        w -= rate * delta * f.input;
        b -= rate * delta;
        mlp_net *net = trainer_net(t);
        assert_true(fabs(net->weights_t[0][0] - w) < 1e-12);
        assert_true(fabs(net->biases[0][0] - b) < 1e-12);
    }
    /* the reported cost is the cost of the closed-form output */
    epoch_metrics row = {0};
    trainer_evaluate(t, &row);
    double a = sigmoid(w + b);
    double expected = quadratic ? 0.5 * a * a : -log(1.0 - a);
    assert_true(fabs(row.train_cost - expected) < 1e-12);
    assert_true(isnan(row.validation_cost) && isnan(row.test_accuracy));
    trainer_free(t);
}

static void test_single_neuron_quadratic(void **state)
{
    (void)state;
    check_against_recurrence("quadratic", 0.6, 0.9, 0.15);
    check_against_recurrence("quadratic", 2.0, 2.0, 0.15);
}

static void test_single_neuron_cross_entropy(void **state)
{
    (void)state;
    check_against_recurrence("cross-entropy", 0.6, 0.9, 0.005);
    check_against_recurrence("cross-entropy", 2.0, 2.0, 0.005);
}

/* Nielsen's point: from (2, 2) the quadratic cost barely moves for the first
 * epochs (a saturated neuron), cross-entropy does not stall. */
static void test_saturation_slowdown(void **state)
{
    (void)state;
    neuron_fixture f;
    double drop[2];
    const char *costs[2] = {"quadratic", "cross-entropy"};
    double rates[2] = {0.15, 0.15};
    for (int i = 0; i < 2; i++) {
        neuron_setup(&f, costs[i], 2.0, 2.0, rates[i]);
        trainer *t = NULL;
        assert_int_equal(trainer_new(&f.config, &f.data, &t, NULL), MLP_OK);
        double before = sigmoid(4.0);
        for (int e = 0; e < 30; e++)
            assert_int_equal(trainer_epoch(t, rates[i], NULL, NULL), MLP_OK);
        mlp_net *net = trainer_net(t);
        drop[i] = before - sigmoid(net->weights_t[0][0] + net->biases[0][0]);
        trainer_free(t);
    }
    assert_true(drop[0] < 0.05);        /* quadratic: stuck near 0.98 */
    assert_true(drop[1] > 0.5);         /* cross-entropy: well on its way to 0 */
}

/* ---- the training step against an independent reference ------------------
 *
 * Textbook backpropagation written out here, one example at a time in plain
 * loops (no BLAS, nothing of net.c, activation.c or cost.c): the forward pass,
 * ∂C/∂a from each cost's definition, the chain rule through each activation's
 * derivative (the full Jacobian for softmax), then the update net.h documents
 * (network2.py's update_mini_batch), every gradient of a batch taken at the
 * weights before the step:
 *   w ← (1 − ηλ/n) w − (η/m) Σ_x ∂C_x/∂w,   b ← b − (η/m) Σ_x ∂C_x/∂b
 * with m the rows of the batch and n the training set's size. The code under
 * test must agree to 1e-12 relative to each layer's largest value: rounding
 * (a different summation order, a rewritten kernel) stays far below that,
 * while a wrong batch mean, decay factor, sign or update order shows in the
 * first digits. */

enum { REF_LAYERS = 3, REF_WIDTH = 8, REF_ROWS = 5, REF_IN = 3, REF_OUT = 2 };
/* η and λ: the decay 1 − ηλ/n = 0.986 per step, far from 1 (a decay off by a
 * factor shows at once) and an η small enough that the all-linear network does
 * not diverge within three epochs. */
static const double ref_eta = 0.1, ref_lambda = 0.7;

static const size_t ref_sizes[REF_LAYERS + 1] = {REF_IN, 4, 3, REF_OUT};

typedef struct ref_net {
    const char *hidden, *output, *cost, *inputs;
    double w[REF_LAYERS][REF_WIDTH * REF_WIDTH], b[REF_LAYERS][REF_WIDTH];
} ref_net;

static double ref_apply(const char *name, double z)
{
    if (strcmp(name, "sigmoid") == 0)
        return 1.0 / (1.0 + exp(-z));
    if (strcmp(name, "tanh") == 0)
        return (exp(z) - exp(-z)) / (exp(z) + exp(-z));
    if (strcmp(name, "relu") == 0)
        return z > 0.0 ? z : 0.0;
    assert_string_equal(name, "linear");
    return z;
}

static double ref_derivative(const char *name, double z)
{
    if (strcmp(name, "sigmoid") == 0)
        return ref_apply(name, z) * (1.0 - ref_apply(name, z));
    if (strcmp(name, "tanh") == 0)
        return 1.0 - ref_apply(name, z) * ref_apply(name, z);
    if (strcmp(name, "relu") == 0)
        return z > 0.0 ? 1.0 : 0.0;
    return 1.0;
}

/* a = f(z) for one layer of n neurons. */
static void ref_layer(const char *name, const double *z, double *a, size_t n)
{
    if (strcmp(name, "softmax") == 0) {
        double sum = 0.0;
        for (size_t j = 0; j < n; j++)
            sum += exp(z[j]);
        for (size_t j = 0; j < n; j++)
            a[j] = exp(z[j]) / sum;
        return;
    }
    for (size_t j = 0; j < n; j++)
        a[j] = ref_apply(name, z[j]);
}

/* dC/dz = Jᵀ dC/da, J the layer's Jacobian ∂a_i/∂z_j. */
static void ref_chain(const char *name, const double *z, const double *a, const double *grad,
                      double *delta, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        if (strcmp(name, "softmax") == 0) {
            delta[j] = 0.0;
            for (size_t i = 0; i < n; i++)
                delta[j] += grad[i] * a[i] * ((i == j ? 1.0 : 0.0) - a[j]);
        } else {
            delta[j] = grad[j] * ref_derivative(name, z[j]);
        }
    }
}

/* One example's cost C_x, and dC_x/da. */
static double ref_cost(const char *cost_name, const double *a, const double *y, double *grad,
                       size_t n)
{
    double c = 0.0;
    for (size_t j = 0; j < n; j++) {
        if (strcmp(cost_name, "quadratic") == 0) {
            c += 0.5 * (a[j] - y[j]) * (a[j] - y[j]);
            grad[j] = a[j] - y[j];
        } else if (strcmp(cost_name, "cross-entropy") == 0) {
            c -= y[j] * log(a[j]) + (1.0 - y[j]) * log(1.0 - a[j]);
            grad[j] = -y[j] / a[j] + (1.0 - y[j]) / (1.0 - a[j]);
        } else {
            assert_string_equal(cost_name, "log-likelihood");
            c -= y[j] != 0.0 ? y[j] * log(a[j]) : 0.0;
            grad[j] = y[j] != 0.0 ? -y[j] / a[j] : 0.0;
        }
    }
    return c;
}

typedef struct ref_pass {
    double z[REF_LAYERS][REF_WIDTH], a[REF_LAYERS][REF_WIDTH];
} ref_pass;

static void ref_forward(const ref_net *r, const double *x, ref_pass *p)
{
    const double *input = x;
    for (size_t k = 0; k < REF_LAYERS; k++) {
        size_t n_in = ref_sizes[k], n_out = ref_sizes[k + 1];
        for (size_t j = 0; j < n_out; j++) {
            p->z[k][j] = r->b[k][j];
            for (size_t i = 0; i < n_in; i++)
                p->z[k][j] += r->w[k][j * n_in + i] * input[i];
        }
        ref_layer(k + 1 == REF_LAYERS ? r->output : r->hidden, p->z[k], p->a[k], n_out);
        input = p->a[k];
    }
}

/* One SGD step on the rows `order[0..rows)` of x, y. */
static void ref_step(ref_net *r, const double *x, const double *y, const size_t *order,
                     size_t rows, double eta, double lambda, size_t n)
{
    double gw[REF_LAYERS][REF_WIDTH * REF_WIDTH] = {{0}}, gb[REF_LAYERS][REF_WIDTH] = {{0}};
    for (size_t e = 0; e < rows; e++) {
        const double *xe = x + order[e] * REF_IN, *ye = y + order[e] * REF_OUT;
        ref_pass p;
        ref_forward(r, xe, &p);
        double grad[REF_WIDTH], delta[REF_WIDTH];
        ref_cost(r->cost, p.a[REF_LAYERS - 1], ye, grad, REF_OUT);
        ref_chain(r->output, p.z[REF_LAYERS - 1], p.a[REF_LAYERS - 1], grad, delta, REF_OUT);
        for (size_t k = REF_LAYERS; k-- > 0;) {
            size_t n_in = ref_sizes[k], n_out = ref_sizes[k + 1];
            const double *input = k == 0 ? xe : p.a[k - 1];
            for (size_t j = 0; j < n_out; j++) {
                gb[k][j] += delta[j];
                for (size_t i = 0; i < n_in; i++)
                    gw[k][j * n_in + i] += delta[j] * input[i];
            }
            if (k == 0)
                break;
            double back[REF_WIDTH];                 /* Wᵀ δ, through the old weights */
            for (size_t i = 0; i < n_in; i++) {
                back[i] = 0.0;
                for (size_t j = 0; j < n_out; j++)
                    back[i] += r->w[k][j * n_in + i] * delta[j];
            }
            ref_chain(r->hidden, p.z[k - 1], p.a[k - 1], back, delta, n_in);
        }
    }
    double decay = 1.0 - eta * lambda / (double)n, scale = eta / (double)rows;
    for (size_t k = 0; k < REF_LAYERS; k++) {
        size_t n_in = ref_sizes[k], n_out = ref_sizes[k + 1];
        for (size_t i = 0; i < n_out * n_in; i++)
            r->w[k][i] = decay * r->w[k][i] - scale * gw[k][i];
        for (size_t j = 0; j < n_out; j++)
            r->b[k][j] -= scale * gb[k][j];
    }
}

static void ref_copy_from(ref_net *r, const mlp_net *net)
{
    for (size_t k = 0; k < REF_LAYERS; k++) {
        net_get_weights(net, k, r->w[k]);   /* [neurons x inputs], as the reference */
        memcpy(r->b[k], net->biases[k], ref_sizes[k + 1] * sizeof(double));
    }
}

static void assert_close(const double *got, const double *want, size_t n, const char *what,
                         const ref_net *r, int step)
{
    double largest = 0.0;
    for (size_t i = 0; i < n; i++)
        largest = fmax(largest, fabs(want[i]));
    for (size_t i = 0; i < n; i++)
        if (!(fabs(got[i] - want[i]) <= 1e-12 * fmax(largest, 1e-3)))
            fail_msg("%s hidden, %s output, %s, %s inputs, after step %d: %s[%zu] = %.17g, the "
                     "reference gives %.17g", r->hidden, r->output, r->cost, r->inputs, step, what,
                     i, got[i], want[i]);
}

static void assert_net_matches(const mlp_net *net, const ref_net *r, int step)
{
    for (size_t k = 0; k < REF_LAYERS; k++) {
        char what[32];
        snprintf(what, sizeof what, "layer %zu weights", k + 1);
        double w[REF_WIDTH * REF_WIDTH];
        net_get_weights(net, k, w);
        assert_close(w, r->w[k], ref_sizes[k + 1] * ref_sizes[k], what, r, step);
        snprintf(what, sizeof what, "layer %zu biases", k + 1);
        assert_close(net->biases[k], r->b[k], ref_sizes[k + 1], what, r, step);
    }
}

/* Five examples of three inputs, one-hot targets of two classes. Sparse: one
 * nonzero input per example, like the mostly black MNIST pixels, which a
 * kernel may treat on a path of its own (skipping the zeros). */
static void ref_data(double *x, double *y, int sparse)
{
    for (size_t e = 0; e < REF_ROWS; e++) {
        for (size_t i = 0; i < REF_IN; i++)
            x[e * REF_IN + i] = !sparse || (e + i) % REF_IN == 0
                                    ? sin(1.0 + 3.0 * (double)e + (double)i)
                                    : 0.0;
        y[e * REF_OUT] = e % 2 == 0;
        y[e * REF_OUT + 1] = e % 2 != 0;
    }
}

/* The output/cost pairs `mlplab run` accepts, each checked against the table. */
static const char *const ref_hidden[] = {"sigmoid", "tanh", "relu", "linear"};
static const char *const ref_pairs[][2] = {
    {"sigmoid", "quadratic"}, {"tanh", "quadratic"},         {"relu", "quadratic"},
    {"linear", "quadratic"},  {"softmax", "quadratic"},      {"sigmoid", "cross-entropy"},
    {"softmax", "log-likelihood"},
};
enum { REF_PAIRS = sizeof ref_pairs / sizeof ref_pairs[0] };

static void test_reference_pairs_are_the_accepted_ones(void **state)
{
    (void)state;
    size_t n_act, n_cost, accepted = 0;
    const activation *acts = activation_table(&n_act);
    const cost *costs = cost_table(&n_cost);
    for (size_t o = 0; o < n_act; o++)
        for (size_t c = 0; c < n_cost; c++)
            accepted += (size_t)cost_pair_is_valid(&costs[c], &acts[o]);
    assert_int_equal(accepted, REF_PAIRS);
    for (size_t p = 0; p < REF_PAIRS; p++)
        assert_true(cost_pair_is_valid(cost_find(ref_pairs[p][1]), activation_find(ref_pairs[p][0])));
    for (size_t h = 0; h < 4; h++)
        assert_false(activation_find(ref_hidden[h])->output_only);
}

/* The first step: net_train_batch on a batch of 3 of the 5 examples (m = 3,
 * n = 5), λ > 0, three weight layers, from random starting weights; dense
 * inputs and sparse ones, through the first-layer path given (the tests below
 * run every path). */
static void check_first_step(int sparse, net_input_path path)
{
    double x[REF_ROWS * REF_IN], y[REF_ROWS * REF_OUT];
    ref_data(x, y, sparse);
    const size_t order[3] = {0, 1, 2};
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    assert_non_null(rng);
    for (size_t h = 0; h < 4; h++)
        for (size_t p = 0; p < REF_PAIRS; p++) {
            ref_net r = {ref_hidden[h], ref_pairs[p][0], ref_pairs[p][1],
                         sparse ? "sparse" : "dense", {{0}}, {{0}}};
            mlp_net *net = net_new(ref_sizes, REF_LAYERS + 1, activation_find(r.hidden),
                                   activation_find(r.output), NULL);
            net_workspace *ws = net_workspace_new(net, 3, NULL);
            assert_non_null(net);
            assert_non_null(ws);
            net->input_path = path;
            gsl_rng_set(rng, 11 + h * REF_PAIRS + p);
            net_init_random(net, init_find("scaled"), rng);
            ref_copy_from(&r, net);
            net_train_batch(net, cost_find(r.cost), ws, x, y, 3, ref_eta, ref_lambda, REF_ROWS);
            assert_int_equal(ws->path, path);   /* the path meant here was taken */
            ref_step(&r, x, y, order, 3, ref_eta, ref_lambda, REF_ROWS);
            assert_net_matches(net, &r, 1);
            net_workspace_free(ws);
            net_free(net);
        }
    gsl_rng_free(rng);
}

/* A few steps in: three epochs of trainer_epoch (batches of 2, 2 and the
 * short 1, in the order of the trainer's documented shuffle: one
 * gsl_ran_shuffle of 0..n−1 per epoch from its generator), then the reported
 * cost with its L2 term, (1/n) Σ C_x + (λ/2n) Σ w², and the accuracy. */
static void check_epochs(int sparse)
{
    static double x[REF_ROWS * REF_IN], y[REF_ROWS * REF_OUT];
    ref_data(x, y, sparse);
    for (size_t h = 0; h < 4; h++)
        for (size_t p = 0; p < REF_PAIRS; p++) {
            ref_net r = {ref_hidden[h], ref_pairs[p][0], ref_pairs[p][1],
                         sparse ? "sparse" : "dense", {{0}}, {{0}}};
            int sizes[REF_LAYERS + 1];
            for (size_t k = 0; k <= REF_LAYERS; k++)
                sizes[k] = (int)ref_sizes[k];
            mlp_config config;
            /* xavier: biases 0, no far-out N(0, 1) bias */
            test_config_network(&config, "inline", REF_LAYERS + 1, sizes, r.hidden, r.output,
                                r.cost, "xavier");
            config.epochs = 3;
            config.batch_size = 2;
            config.learning_rate = ref_eta;
            config.l2 = ref_lambda;
            config.monitor_train = 1;
            config.seed = 3 + h * REF_PAIRS + p;
            dataset data;
            memset(&data, 0, sizeof data);
            data.input_size = REF_IN;
            data.output_size = REF_OUT;
            data.has_classes = 1;
            data.train = (data_part){.count = REF_ROWS, .input_size = REF_IN,
                                     .output_size = REF_OUT, .inputs = x, .targets = y};
            /* a test part of the last two examples: its L2 term uses its own n = 2 */
            data.test = data.train;
            data.test.count = 2;
            data.test.inputs = x + 3 * REF_IN;
            data.test.targets = y + 3 * REF_OUT;
            trainer *t = NULL;
            mlp_error err = {0};
            assert_int_equal(trainer_new(&config, &data, &t, &err), MLP_OK);
            ref_copy_from(&r, trainer_net(t));
            gsl_rng *shuffle = gsl_rng_clone(trainer_rng(t));
            assert_non_null(shuffle);
            int step = 0;
            for (int epoch = 1; epoch <= 3; epoch++) {
                assert_int_equal(trainer_epoch(t, ref_eta, NULL, &err), MLP_OK);
                size_t order[REF_ROWS];
                for (size_t i = 0; i < REF_ROWS; i++)
                    order[i] = i;
                gsl_ran_shuffle(shuffle, order, REF_ROWS, sizeof *order);
                for (size_t start = 0; start < REF_ROWS; start += 2) {
                    ref_step(&r, x, y, order + start, REF_ROWS - start < 2 ? 1 : 2, ref_eta,
                             ref_lambda, REF_ROWS);
                    step++;
                }
                assert_net_matches(trainer_net(t), &r, step);
            }
            double total = 0.0, test_total = 0.0, squares = 0.0;
            size_t correct = 0, test_correct = 0;
            for (size_t e = 0; e < REF_ROWS; e++) {
                ref_pass pass;
                ref_forward(&r, x + e * REF_IN, &pass);
                double grad[REF_OUT];
                const double *out = pass.a[REF_LAYERS - 1];
                double c = ref_cost(r.cost, out, y + e * REF_OUT, grad, REF_OUT);
                size_t guess = out[1] > out[0], truth = y[e * REF_OUT + 1] > y[e * REF_OUT];
                total += c;
                correct += guess == truth;
                test_total += e >= 3 ? c : 0.0;
                test_correct += e >= 3 && guess == truth;
            }
            for (size_t k = 0; k < REF_LAYERS; k++)
                for (size_t i = 0; i < ref_sizes[k + 1] * ref_sizes[k]; i++)
                    squares += r.w[k][i] * r.w[k][i];
            double want = total / REF_ROWS + ref_lambda / (2.0 * REF_ROWS) * squares;
            epoch_metrics row = {0};
            trainer_evaluate(t, &row);
            if (!(fabs(row.train_cost - want) <= 1e-12 * fabs(want)))
                fail_msg("%s hidden, %s output, %s, %s inputs: train cost %.17g, the reference "
                         "gives %.17g", r.hidden, r.output, r.cost, r.inputs, row.train_cost, want);
            assert_true(row.train_accuracy == (double)correct / REF_ROWS);
            want = test_total / 2 + ref_lambda / (2.0 * 2) * squares;
            if (!(fabs(row.test_cost - want) <= 1e-12 * fabs(want)))
                fail_msg("%s hidden, %s output, %s, %s inputs: test cost %.17g, the reference "
                         "gives %.17g", r.hidden, r.output, r.cost, r.inputs, row.test_cost, want);
            assert_true(row.test_accuracy == (double)test_correct / 2);
            assert_true(isnan(row.validation_cost) && isnan(row.validation_accuracy));
            gsl_rng_free(shuffle);
            trainer_free(t);
        }
}

/* A stop requested before the first batch trains nothing. */
static void test_interrupt_before_a_batch(void **state)
{
    (void)state;
    neuron_fixture f;
    neuron_setup(&f, "quadratic", 0.6, 0.9, 0.15);
    trainer *t = NULL;
    assert_int_equal(trainer_new(&f.config, &f.data, &t, NULL), MLP_OK);
    volatile sig_atomic_t stop = 1;
    mlp_error err = {0};
    assert_int_equal(trainer_epoch(t, 0.15, &stop, &err), MLP_ERR_INTERRUPTED);
    assert_true(trainer_net(t)->weights_t[0][0] == 0.6);   /* nothing was trained */
    trainer_free(t);
}

static void test_first_step_matches_reference(void **state)
{
    (void)state;
    check_first_step(0, NET_PATH_DENSE);
    check_first_step(0, NET_PATH_LISTED);
    check_first_step(1, NET_PATH_SPARSE);
    check_first_step(1, NET_PATH_LISTED);
}

static void test_epochs_match_reference(void **state)
{
    (void)state;
    check_epochs(0);
    check_epochs(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_neuron_quadratic),
        cmocka_unit_test(test_single_neuron_cross_entropy),
        cmocka_unit_test(test_saturation_slowdown),
        cmocka_unit_test(test_interrupt_before_a_batch),
        cmocka_unit_test(test_reference_pairs_are_the_accepted_ones),
        cmocka_unit_test(test_first_step_matches_reference),
        cmocka_unit_test(test_epochs_match_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
