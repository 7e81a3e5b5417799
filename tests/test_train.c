/* test_train.c — the SGD loop against closed forms, and reproducibility. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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
    strcpy(c->dataset_name, "inline");
    c->n_layers = 2;
    c->sizes[0] = 1;
    c->sizes[1] = 1;
    strcpy(c->activation, "sigmoid");
    strcpy(c->output, "sigmoid");
    strcpy(c->cost, cost_name);
    strcpy(c->init, "fixed");
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
        assert_true(fabs(net->weights[0][0] - w) < 1e-12);
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
        drop[i] = before - sigmoid(net->weights[0][0] + net->biases[0][0]);
        trainer_free(t);
    }
    assert_true(drop[0] < 0.05);        /* quadratic: stuck near 0.98 */
    assert_true(drop[1] > 0.5);         /* cross-entropy: well on its way to 0 */
}

static void test_interrupt_between_batches(void **state)
{
    (void)state;
    neuron_fixture f;
    neuron_setup(&f, "quadratic", 0.6, 0.9, 0.15);
    trainer *t = NULL;
    assert_int_equal(trainer_new(&f.config, &f.data, &t, NULL), MLP_OK);
    volatile sig_atomic_t stop = 1;
    mlp_error err = {0};
    assert_int_equal(trainer_epoch(t, 0.15, &stop, &err), MLP_ERR_INTERRUPTED);
    assert_true(trainer_net(t)->weights[0][0] == 0.6);   /* nothing was trained */
    trainer_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_neuron_quadratic),
        cmocka_unit_test(test_single_neuron_cross_entropy),
        cmocka_unit_test(test_saturation_slowdown),
        cmocka_unit_test(test_interrupt_between_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
