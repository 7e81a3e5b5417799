/* test_config.c — the run config: schema checks and their messages, extends,
 * overrides, data set and cost pairing checks, canonical text and run id.
 * Run from the repository root (fixtures are in tests/data/configs/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_support.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_canonical.h"
#include "config_keys.h"

#define FIXTURES "tests/data/configs/"

typedef test_scratch scratch;

/* Loads text as a config; returns the status (config freed unless out given). */
static int load_text(scratch *s, const char *text, mlp_config **out, mlp_error *err)
{
    const char *path = test_scratch_write(s, "run.yaml", text);
    mlp_config *c = NULL;
    int rc = config_load(path, NULL, 0, &c, err);
    if (out != NULL)
        *out = c;
    else
        config_free(c);
    return rc;
}

/* The config at path with overrides[0..n), which must load (the test fails
 * with its message otherwise); the caller frees it. */
static mlp_config *loaded(const char *path, char *const overrides[], int n)
{
    mlp_config *c = NULL;
    mlp_error err = {0};
    if (config_load(path, overrides, n, &c, &err) != MLP_OK)
        fail_msg("%s", err.message);
    return c;
}

/* As loaded, for text written to the scratch directory. */
static mlp_config *loaded_text(scratch *s, const char *text)
{
    return loaded(test_scratch_write(s, "run.yaml", text), NULL, 0);
}

static const char mnist_net[] = "network: {sizes: [784, 30, 10]}\n";

/* ------------------------------------------------------------------------- */

static void test_defaults(void **state)
{
    mlp_config *c = NULL;
    mlp_error err = {0};
    assert_int_equal(load_text(*state, mnist_net, &c, &err), 0);
    assert_string_equal(c->dataset_name, "mnist");
    assert_int_equal(c->train_size, 50000);
    assert_int_equal(c->validation_size, 10000);
    assert_int_equal(c->test_size, 10000);
    assert_int_equal(c->n_layers, 3);
    assert_int_equal(c->sizes[1], 30);
    assert_string_equal(c->activation, "sigmoid");
    assert_string_equal(c->output, "sigmoid");
    assert_string_equal(c->cost, "cross-entropy");
    assert_string_equal(c->init, "large");
    assert_int_equal(c->epochs, 30);
    assert_int_equal(c->batch_size, 10);
    assert_true(c->learning_rate == 0.5);
    assert_true(c->l2 == 0.0);
    assert_int_equal(c->monitor_train, 1);
    assert_int_equal(c->monitor_output, 0);
    assert_int_equal(c->seed, 1);
    assert_int_equal(c->save_weights_every, 0);
    assert_string_equal(c->hooks_path, "");
    assert_null(c->hook_args);
    assert_string_equal(c->experiment, "");
    config_free(c);
}

static void test_parse_error_has_position_and_caret(void **state)
{
    mlp_error err = {0};
    int rc = load_text(*state, "network:\n  sizes: [784, 30, 10\ncost: quadratic\n", NULL, &err);
    assert_int_equal(rc, MLP_ERR_CONFIG);
    scratch *s = *state;
    char head[600];
    snprintf(head, sizeof head, "%s/run.yaml:3:5: ", s->dir);
    assert_contains(err.message, head);
    assert_contains(err.message, "\n  cost: quadratic\n      ^\nhint: ");
}

static void test_unknown_key_did_you_mean(void **state)
{
    mlp_error err = {0};
    int rc = load_text(*state, "network: {sizes: [784, 30, 10]}\n"
                               "train:\n"
                               "  epochs: 3\n"
                               "  learnig_rate: 0.1\n", NULL, &err);
    assert_int_equal(rc, MLP_ERR_CONFIG);
    assert_contains(err.message, ":4:3: unknown key 'train.learnig_rate'; "
                                 "did you mean 'learning_rate'?");
    assert_contains(err.message, "\n    learnig_rate: 0.1\n    ^\n");
    assert_contains(err.message, "hint: the keys of train are: epochs, batch_size, "
                                 "learning_rate, l2, monitor_train");

    /* a section's key at the top level points to its section */
    load_text(*state, "network: {sizes: [784, 30, 10]}\nlearning_rate: 0.1\n", NULL, &err);
    assert_contains(err.message, ":2:1: unknown key 'learning_rate'; "
                                 "did you mean 'train.learning_rate'?");

    /* far from everything: no guess, but the list of keys */
    load_text(*state, "network: {sizes: [784, 30, 10]}\nzzzzzz: 1\n", NULL, &err);
    assert_contains(err.message, "unknown key 'zzzzzz'\n");
    assert_contains(err.message, "hint: the keys of a run config are: experiment, label");

    load_text(*state, "network: {sizes: [784, 30, 10], activaton: relu}\n", NULL, &err);
    assert_contains(err.message, ":1:33: unknown key 'network.activaton'; did you mean "
                                 "'activation'?");
}

/* A document config_load must refuse (MLP_ERR_CONFIG), and what its message says. */
typedef struct refusal {
    const char *text, *needle;
} refusal;

static void expect_refusals(scratch *s, const refusal *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        mlp_error err = {0};
        int rc = load_text(s, cases[i].text, NULL, &err);
        if (rc != MLP_ERR_CONFIG)
            fail_msg("status %d, not %d, for\n%s", rc, MLP_ERR_CONFIG, cases[i].text);
        assert_contains(err.message, cases[i].needle);
    }
}

static void test_wrong_types(void **state)
{
    static const refusal cases[] = {
        {"network: {sizes: [784, 30, 10]}\ntrain: {learning_rate: fast}\n",
         ":2:24: train.learning_rate must be a number, not the string 'fast'"},
        {"network: {sizes: [784, 30, 10]}\ntrain: {epochs: 2.5}\n",
         "train.epochs must be an integer"},
        {"network: {sizes: [784, 30, 10]}\ntrain: {monitor_train: maybe}\n",
         "train.monitor_train must be true or false, not the string 'maybe'"},
        {"network: {sizes: [784, 30, 10]}\ntrain: 5\n",
         ":2:8: train must be a mapping, not the number 5"},
        /* the node described as the scalar getters describe it (yt_describe) */
        {"network: {sizes: 784}\n",
         "network.sizes must be a list of 2 to 16 layer sizes, not the number 784"},
        {"network: {sizes: [784, x, 10]}\n",
         ":1:24: network.sizes[1] must be an integer, not the string 'x'"},
        {"network: {sizes: [784, 30, 10]}\nlabel: [a, b]\n",
         "label must be a string, not a list"},
        {"network: {sizes: [784, 30, 10]}\ntrain: {learning_rate: .inf}\n",
         "train.learning_rate must be a finite number"},
    };
    expect_refusals(*state, cases, sizeof cases / sizeof cases[0]);
}

static void test_out_of_range(void **state)
{
    static const refusal cases[] = {
        {"network: {sizes: [784, 30, 10]}\ntrain: {epochs: 0}\n",
         ":2:17: train.epochs must be at least 1, not 0"},
        {"network: {sizes: [784, 30, 10]}\ntrain: {learning_rate: 0}\n",
         "train.learning_rate must be greater than 0, not 0"},
        {"network: {sizes: [784, 30, 10]}\ntrain: {l2: -0.1}\n",
         "train.l2 must be at least 0, not -0.1"},
        {"network: {sizes: [784, 30, 10]}\nseed: -1\n", "seed must be at least 0, not -1"},
        {"network: {sizes: [784, 30, 10]}\ndataset: {train_size: 55000}\n",
         "dataset.train_size must be at most 50000, not 55000"},
        {"network: {sizes: [784, 30, 10]}\ndataset: {test_size: 10001}\n",
         "dataset.test_size must be at most 10000"},
        {"network: {sizes: [784]}\n", "not 1 sizes"},
        {"network: {sizes: [784, 0, 10]}\n", "network.sizes[1] must be between 1 and"},
        {"train: {epochs: 3}\n", "network.sizes is missing"},
    };
    expect_refusals(*state, cases, sizeof cases / sizeof cases[0]);
}

static void test_extends_chain(void **state)
{
    (void)state;
    mlp_config *c = loaded(FIXTURES "grandchild.yaml", NULL, 0);
    assert_string_equal(c->label, "grandchild");          /* grandchild over child */
    assert_int_equal(c->sizes[1], 100);                   /* grandchild over base */
    assert_string_equal(c->activation, "sigmoid");        /* base, merged key by key */
    assert_int_equal(c->epochs, 3);
    assert_true(c->learning_rate == 0.1);                 /* child */
    assert_true(c->l2 == 5.0);
    assert_int_equal(c->batch_size, 10);                  /* base */
    assert_int_equal(c->train_size, 1000);
    assert_null(yt_map_get(c->tree, "extends"));

    /* marks remember which file set what */
    yt_mark m = config_mark(c, "train.learning_rate");
    assert_string_equal(m.file, FIXTURES "./child.yaml");     /* as grandchild names it */
    assert_int_equal(m.line, 5);
    m = config_mark(c, "train.batch_size");
    assert_string_equal(m.file, FIXTURES "./base.yaml");
    m = config_mark(c, "network.sizes.1");
    assert_string_equal(m.file, FIXTURES "grandchild.yaml");
    assert_int_equal(m.line, 4);
    assert_int_equal(m.column, 24);
    assert_null(config_mark(c, "train.nothing").file);
    config_free(c);
}

static void test_extends_relative_directories(void **state)
{
    scratch *s = *state;
    test_scratch_write(s, "configs/base.yaml", "network: {sizes: [1, 1]}\n"
                                "dataset: {inline: {inputs: [[1]], targets: [[0]]}}\n"
                                "hooks: ../lua/h.lua\n");
    test_scratch_write(s, "lua/h.lua", "-- nothing\n");
    test_scratch_write(s, "experiments/run.yaml", "extends: ../configs/base.yaml\ntrain: {epochs: 2}\n");
    char path[600];
    snprintf(path, sizeof path, "%s/experiments/run.yaml", s->dir);
    /* run from elsewhere: the chain must not depend on the current directory */
    mlp_error err = {0};
    mlp_config *c = loaded(path, NULL, 0);
    assert_int_equal(c->epochs, 2);
    /* hooks: relative to configs/base.yaml, the file that names it */
    char expected[600];
    snprintf(expected, sizeof expected, "%s/experiments/../configs/../lua/h.lua", s->dir);
    assert_string_equal(c->hooks_path, expected);
    config_free(c);

    test_scratch_write(s, "experiments/missing.yaml", "extends: nowhere.yaml\n");
    snprintf(path, sizeof path, "%s/experiments/missing.yaml", s->dir);
    int rc = config_load(path, NULL, 0, &c, &err);
    assert_int_equal(rc, MLP_ERR_CONFIG);
    assert_contains(err.message, ":1:10: extends: cannot read ");
    assert_contains(err.message, "experiments/nowhere.yaml");
    assert_contains(err.message, "relative to the file that contains them");
}

static void test_extends_cycle(void **state)
{
    (void)state;
    mlp_config *c = NULL;
    mlp_error err = {0};
    int rc = config_load(FIXTURES "cycle-a.yaml", NULL, 0, &c, &err);
    assert_int_equal(rc, MLP_ERR_CONFIG);
    assert_null(c);
    assert_contains(err.message, FIXTURES "cycle-b.yaml:1:10: extends cycle: "
                                 FIXTURES "cycle-a.yaml -> " FIXTURES "cycle-b.yaml -> "
                                 FIXTURES "cycle-a.yaml");
    assert_contains(err.message, "hint: a file cannot extend itself");

    scratch *s = *state;
    const char *self = test_scratch_write(s, "self.yaml", "extends: self.yaml\n");
    rc = config_load(self, NULL, 0, &c, &err);
    assert_int_equal(rc, MLP_ERR_CONFIG);
    assert_contains(err.message, "extends cycle");
}

static void test_overrides(void **state)
{
    (void)state;
    char *ok[] = {"train.learning_rate=0.1", "network.sizes=[784, 100, 10]",
                  "train={epochs: 2}", "label=from the command line", "seed=7"};
    mlp_error err = {0};
    mlp_config *c = loaded(FIXTURES "base.yaml", ok, 5);
    assert_true(c->learning_rate == 0.1);
    assert_int_equal(c->sizes[1], 100);
    assert_int_equal(c->epochs, 2);
    assert_int_equal(c->batch_size, 10);       /* a mapping override merges key by key */
    assert_string_equal(c->label, "from the command line");
    assert_int_equal(c->seed, 7);
    assert_string_equal(config_mark(c, "seed").file, "command line: argument 5");
    config_free(c);

    char *no_eq[] = {"train.learning_rate"};
    int rc = config_load(FIXTURES "base.yaml", no_eq, 1, &c, &err);
    assert_int_equal(rc, MLP_ERR_USAGE);
    assert_contains(err.message, "command line: argument 1: 'train.learning_rate' is not an "
                                 "override: it has no '='");

    char *no_key[] = {"seed=1", "=0.5"};
    rc = config_load(FIXTURES "base.yaml", no_key, 2, &c, &err);
    assert_int_equal(rc, MLP_ERR_USAGE);
    assert_contains(err.message, "command line: argument 2: '=0.5' has no key before '='");

    char *unknown[] = {"train.learnig_rate=0.1"};
    rc = config_load(FIXTURES "base.yaml", unknown, 1, &c, &err);
    assert_int_equal(rc, MLP_ERR_CONFIG);
    assert_contains(err.message, "command line: argument 1: unknown key 'train.learnig_rate'; "
                                 "did you mean 'learning_rate'?");

    char *wrong[] = {"train.learning_rate=fast"};
    rc = config_load(FIXTURES "base.yaml", wrong, 1, &c, &err);
    assert_int_equal(rc, MLP_ERR_CONFIG);
    assert_contains(err.message, "command line: argument 1: train.learning_rate must be a "
                                 "number, not the string 'fast'\n  fast\n  ^");

    char *broken[] = {"network.sizes=[784, 30"};
    rc = config_load(FIXTURES "base.yaml", broken, 1, &c, &err);
    assert_int_not_equal(rc, 0);
    assert_contains(err.message, "command line: argument 1: did not find expected ','");

    char *into_scalar[] = {"train.epochs.x=1"};
    rc = config_load(FIXTURES "base.yaml", into_scalar, 1, &c, &err);
    assert_int_not_equal(rc, 0);
    assert_contains(err.message, "'train.epochs' is not a mapping");

    char *sizes_bad[] = {"network.sizes=[784, 0, 10]"};
    rc = config_load(FIXTURES "base.yaml", sizes_bad, 1, &c, &err);
    assert_contains(err.message, "command line: argument 1: network.sizes[1] must be "
                                 "between 1");
    assert_contains(err.message, "\n  [784, 0, 10]\n        ^");
    assert_null(c);

    /* err may be NULL: only the status comes back */
    assert_int_equal(config_load(FIXTURES "base.yaml", wrong, 1, &c, NULL), MLP_ERR_CONFIG);
    assert_int_equal(config_load(FIXTURES "cycle-a.yaml", NULL, 0, &c, NULL), MLP_ERR_CONFIG);
    assert_null(c);
}

static void test_cost_output_pairing(void **state)
{
    mlp_error err = {0};
    int rc = load_text(*state, "network: {sizes: [784, 30, 10], output: relu}\n"
                               "cost: cross-entropy\n", NULL, &err);
    assert_int_equal(rc, MLP_ERR_CONFIG);
    assert_contains(err.message, ":2:7: cost: cross-entropy cannot train a relu output layer");
    assert_contains(err.message, "hint: cross-entropy needs outputs in (0, 1)");

    /* the default cost with a relu output: the output is what was written */
    load_text(*state, "network: {sizes: [784, 30, 10], output: relu}\n", NULL, &err);
    assert_contains(err.message, ":1:41: cost: cross-entropy cannot train a relu output");

    /* changed on the command line: the error points there */
    char *relu[] = {"network.output=relu"};
    mlp_config *none = NULL;
    rc = config_load(FIXTURES "base.yaml", relu, 1, &none, &err);
    assert_int_equal(rc, MLP_ERR_CONFIG);
    assert_contains(err.message, "command line: argument 1: cost: cross-entropy cannot train a "
                                 "relu output layer");

    rc = load_text(*state, "network: {sizes: [784, 30, 10], output: sigmoid}\n"
                           "cost: log-likelihood\n", NULL, &err);
    assert_int_equal(rc, MLP_ERR_CONFIG);
    assert_contains(err.message, "cost: log-likelihood cannot train a sigmoid output layer");
    assert_contains(err.message, "hint: log-likelihood");

    mlp_config *c = NULL;
    rc = load_text(*state, "network: {sizes: [784, 30, 10], activation: relu, output: softmax}\n"
                           "cost: log-likelihood\n", &c, &err);
    assert_int_equal(rc, 0);
    config_free(c);

    load_text(*state, "network: {sizes: [784, 30, 10], activation: softmax, output: softmax}\n"
                      "cost: log-likelihood\n", NULL, &err);
    assert_contains(err.message, "network.activation: softmax can only be the output");

    load_text(*state, "network: {sizes: [784, 30, 10], output: softmx}\n", NULL, &err);
    assert_contains(err.message, "network.output: unknown activation 'softmx'; did you mean "
                                 "'softmax'?");
    load_text(*state, "network: {sizes: [784, 30, 10]}\ncost: crossentropy\n", NULL, &err);
    assert_contains(err.message, "unknown cost 'crossentropy'; did you mean 'cross-entropy'?");
}

static void test_mnist_size_mismatch(void **state)
{
    mlp_error err = {0};
    int rc = load_text(*state, "dataset: {name: mnist}\nnetwork: {sizes: [100, 30, 10]}\n", NULL,
                       &err);
    assert_int_equal(rc, MLP_ERR_CONFIG);
    assert_contains(err.message, ":2:19: network.sizes[0] is 100, but mnist examples have "
                                 "784 inputs");
    assert_contains(err.message, "hint: mnist has 784 inputs and 10 classes");

    load_text(*state, "network: {sizes: [784, 30, 2]}\n", NULL, &err);
    assert_contains(err.message, "network.sizes[2] is 2, but mnist has 10 classes");

    load_text(*state, "dataset: {name: mnst}\n" "network: {sizes: [784, 30, 10]}\n", NULL, &err);
    assert_contains(err.message, "unknown data set 'mnst'; did you mean 'mnist'?");

    mlp_config *c = NULL;
    rc = load_text(*state, "dataset: {name: fashion-mnist, dir: /data/f}\n"
                           "network: {sizes: [784, 10]}\n", &c, &err);
    assert_int_equal(rc, 0);
    assert_string_equal(c->dataset_dir, "/data/f");
    config_free(c);
}

static void test_inline_data(void **state)
{
    mlp_error err = {0};
    mlp_config *c = loaded_text(*state, "dataset:\n"
                                        "  inline:\n"
                                        "    inputs: [[0, 0], [0, 1], [1, 0], [1, 1]]\n"
                                        "    targets: [[0], [1], [1], [0]]\n"
                                        "network: {sizes: [2, 3, 1]}\n");
    assert_string_equal(c->dataset_name, "inline");
    assert_int_equal(c->inline_count, 4);
    assert_true(c->inline_inputs[3] == 1.0 && c->inline_inputs[4] == 1.0);
    assert_true(c->inline_targets[1] == 1.0 && c->inline_targets[3] == 0.0);
    assert_int_equal(c->train_size, 4);
    assert_int_equal(c->validation_size, 0);
    config_free(c);

    load_text(*state, "dataset: {inline: {inputs: [[0, 0], [0]], targets: [[0], [1]]}}\n"
                      "network: {sizes: [2, 1]}\n", NULL, &err);
    assert_contains(err.message, ":1:37: dataset.inline.inputs[1] has 1 values, but the first "
                                 "row has 2");

    load_text(*state, "dataset: {inline: {inputs: [[0], [1]], targets: [[0]]}}\n"
                      "network: {sizes: [1, 1]}\n", NULL, &err);
    assert_contains(err.message, "dataset.inline.targets has 1 rows, but dataset.inline.inputs "
                                 "has 2");

    load_text(*state, "dataset: {inline: {inputs: [[0, 1]], targets: [[0]]}}\n"
                      "network: {sizes: [3, 1]}\n", NULL, &err);
    assert_contains(err.message, ":2:19: network.sizes[0] is 3, but the rows of "
                                 "dataset.inline.inputs have 2 values");

    load_text(*state, "dataset: {name: inline}\nnetwork: {sizes: [1, 1]}\n", NULL, &err);
    assert_contains(err.message, "dataset.name is inline, but dataset.inline is missing");

    load_text(*state, "dataset: {name: mnist, inline: {inputs: [[1]], targets: [[1]]}}\n"
                      "network: {sizes: [1, 1]}\n", NULL, &err);
    assert_contains(err.message, "dataset.inline is only read when dataset.name is inline");

    load_text(*state, "dataset: {inline: {inputs: [1, 2], targets: [[1]]}}\n"
                      "network: {sizes: [1, 1]}\n", NULL, &err);
    assert_contains(err.message, "dataset.inline.inputs[0] must be a list of numbers");

    load_text(*state, "dataset: {inline: {inputs: [[1]], targets: [[1]]}, train_size: 1}\n"
                      "network: {sizes: [1, 1]}\n", NULL, &err);
    assert_contains(err.message, "dataset.train_size is for mnist and fashion-mnist");
}

/* A [2, 3, 1] network on one inline example: layer 0 is 3x2, layer 1 is 1x3. */
#define NET_2_3_1 \
    "dataset: {inline: {inputs: [[0, 1]], targets: [[1]]}}\nnetwork: {sizes: [2, 3, 1]}\n"

static void test_fixed_init(void **state)
{
    (void)state;
    mlp_config *c = loaded(FIXTURES "single-neuron.yaml", NULL, 0);
    assert_string_equal(c->init, "fixed");
    assert_true(c->fixed_weights[0][0] == 0.6);
    assert_true(c->fixed_biases[0][0] == 0.9);
    assert_string_equal(c->experiment, "single-neuron");
    assert_int_equal(c->epochs, 300);
    config_free(c);

    c = loaded_text(*state, NET_2_3_1 "init:\n  fixed:\n"
                    "    weights: [[[1, 2], [3, 4], [5, 6]], [[7, 8, 9]]]\n"
                    "    biases: [[0.1, 0.2, 0.3], [0.4]]\n");
    assert_true(c->fixed_weights[0][5] == 6.0);
    assert_true(c->fixed_weights[1][2] == 9.0);
    assert_true(c->fixed_biases[1][0] == 0.4);
    config_free(c);

    static const refusal cases[] = {
        {NET_2_3_1 "init:\n  fixed:\n"
                   "    weights: [[[1, 2], [3, 4, 0], [5, 6]], [[7, 8, 9]]]\n"
                   "    biases: [[0.1, 0.2, 0.3], [0.4]]\n",
         ":5:24: init.fixed.weights[0][1] has 3 values, but network.sizes[0] = 2 inputs need "
         "one weight each"},
        {NET_2_3_1 "init:\n  fixed:\n"
                   "    weights: [[[1, 2], [3, 4]], [[7, 8, 9]]]\n"
                   "    biases: [[0.1, 0.2, 0.3], [0.4]]\n",
         ":5:15: init.fixed.weights[0] has 2 rows, but network.sizes[1] = 3 neurons need one "
         "row each"},
        {NET_2_3_1 "init:\n  fixed:\n"
                   "    weights: [[[1, 2], [3, 4], [5, 6]], [[7, 8, 9]]]\n"
                   "    biases: [[0.1, 0.2, 0.3], [0.4, x]]\n",
         "init.fixed.biases[1] has 2 values"},
        {NET_2_3_1 "init:\n  fixed:\n    weights: [[[1, 2], [3, 4], [5, 6]]]\n"
                   "    biases: [[0.1, 0.2, 0.3], [0.4]]\n",
         "init.fixed.weights must be a list with one entry per layer after the input (2 for "
         "network.sizes), not 1"},
        {NET_2_3_1 "init: fixed\n", "init: fixed needs the values"},
        {NET_2_3_1 "init: xavir\n", "unknown initializer 'xavir'; did you mean 'xavier'?"},
    };
    expect_refusals(*state, cases, sizeof cases / sizeof cases[0]);
}

static void test_save_weights_and_study_keys(void **state)
{
    mlp_config *c = NULL;
    mlp_error err = {0};
    char text[256];
    const char *forms[] = {"final", "5", "{every: 7}"};
    int expected[] = {0, 5, 7};
    for (int i = 0; i < 3; i++) {
        snprintf(text, sizeof text, "%ssave_weights: %s\n", mnist_net, forms[i]);
        assert_int_equal(load_text(*state, text, &c, &err), 0);
        assert_int_equal(c->save_weights_every, expected[i]);
        config_free(c);
    }
    static const refusal cases[] = {
        {"network: {sizes: [784, 30, 10]}\nsave_weights: 0\n",
         "save_weights must be at least 1 epoch, not 0"},
        {"network: {sizes: [784, 30, 10]}\nsave_weights: always\n",
         "save_weights must be final or a number of epochs"},
        {"network: {sizes: [784, 30, 10]}\nseeds: [1, 2, 3]\n",
         "seeds: this is a study file; run `mlplab plan "},
    };
    expect_refusals(*state, cases, sizeof cases / sizeof cases[0]);

    snprintf(text, sizeof text, "%sname: my-study\nlabel: a\n", mnist_net);
    assert_int_equal(load_text(*state, text, &c, &err), 0);
    assert_string_equal(c->experiment, "my-study");
    config_free(c);
}

static void test_hooks(void **state)
{
    scratch *s = *state;
    test_scratch_write(s, "h.lua", "function learning_rate(e) return 0.1 end\n");
    mlp_config *c = NULL;
    mlp_error err = {0};
    char text[256];
    snprintf(text, sizeof text, "%shooks: h.lua\nhook_args: {patience: 5, mode: min}\n",
             mnist_net);
    c = loaded_text(s, text);
    char expected[600];
    snprintf(expected, sizeof expected, "%s/h.lua", s->dir);
    assert_string_equal(c->hooks_path, expected);
    assert_non_null(c->hook_args);
    assert_string_equal(yt_get(c->hook_args, "patience")->scalar, "5");
    char id1[65], id2[65];
    assert_int_equal(config_run_id(c, id1, &err), 0);
    config_free(c);

    /* the script's bytes are part of the run id */
    test_scratch_write(s, "h.lua", "function learning_rate(e) return 0.2 end\n");
    assert_int_equal(load_text(s, text, &c, &err), 0);
    assert_int_equal(config_run_id(c, id2, &err), 0);
    assert_string_not_equal(id1, id2);
    config_free(c);

    /* the same bytes under another name and directory: the same run */
    char id3[65];
    test_scratch_write(s, "sub/other.lua", "function learning_rate(e) return 0.2 end\n");
    snprintf(text, sizeof text, "%shooks: sub/other.lua\nhook_args: {patience: 5, mode: min}\n",
             mnist_net);
    assert_int_equal(load_text(s, text, &c, &err), 0);
    assert_int_equal(config_run_id(c, id3, &err), 0);
    assert_string_equal(id2, id3);
    config_free(c);

    snprintf(text, sizeof text, "%shooks: missing.lua\n", mnist_net);
    int rc = load_text(s, text, NULL, &err);
    assert_int_equal(rc, MLP_ERR_CONFIG);
    assert_contains(err.message, ":2:8: hooks: cannot read ");
    assert_contains(err.message, "relative to the YAML file that names them");

    snprintf(text, sizeof text, "%shooks: h.py\n", mnist_net);
    load_text(s, text, NULL, &err);
    assert_contains(err.message, "hooks must be a .lua file");

    snprintf(text, sizeof text, "%shook_args: [1, 2]\n", mnist_net);
    load_text(s, text, NULL, &err);
    assert_contains(err.message, "hook_args must be a mapping");
}

static char *canonical_of_file(const char *path, char *const overrides[], int n, int metadata,
                               char id[65])
{
    mlp_error err = {0};
    mlp_config *c = loaded(path, overrides, n);
    char *text = config_canonical_yaml(c, metadata, &err);
    assert_non_null(text);
    assert_int_equal(config_run_id(c, id, &err), 0);
    config_free(c);
    return text;
}

static void test_canonical_text_and_run_id(void **state)
{
    (void)state;
    char id_a[65], id_b[65], id_c[65];
    char *a = canonical_of_file(FIXTURES "base.yaml", NULL, 0, 0, id_a);
    char *b = canonical_of_file(FIXTURES "reordered.yaml", NULL, 0, 0, id_b);
    assert_string_equal(a, b);
    assert_string_equal(id_a, id_b);
    assert_int_equal(strlen(id_a), 64);
    assert_int_equal(strspn(id_a, "0123456789abcdef"), 64);
    /* every resolved field, sorted, defaults included */
    assert_string_equal(a,
        "cost: cross-entropy\n"
        "dataset:\n"
        "  name: mnist\n"
        "  test_size: 100\n"
        "  train_size: 1000\n"
        "  validation_size: 100\n"
        "hook_args: {}\n"
        "init: large\n"
        "network:\n"
        "  activation: sigmoid\n"
        "  output: sigmoid\n"
        "  sizes: [784, 30, 10]\n"
        "save_weights: final\n"
        "seed: 1\n"
        "train:\n"
        "  batch_size: 10\n"
        "  epochs: 30\n"
        "  l2: 0.0\n"
        "  learning_rate: 0.5\n"
        "  monitor_output: false\n"
        "  monitor_train: true\n");
    free(b);

    /* 3, 3.0 and 3e0 are one learning rate */
    char *three[] = {"train.learning_rate=3"}, *three_f[] = {"train.learning_rate=3.0"},
         *three_e[] = {"train.learning_rate=3e0"}, *other[] = {"train.learning_rate=3.0001"};
    char *t1 = canonical_of_file(FIXTURES "base.yaml", three, 1, 0, id_a);
    char *t2 = canonical_of_file(FIXTURES "base.yaml", three_f, 1, 0, id_b);
    char *t3 = canonical_of_file(FIXTURES "base.yaml", three_e, 1, 0, id_c);
    assert_string_equal(t1, t2);
    assert_string_equal(t1, t3);
    assert_string_equal(id_a, id_b);
    assert_string_equal(id_a, id_c);
    assert_non_null(strstr(t1, "learning_rate: 3.0\n"));
    char *t4 = canonical_of_file(FIXTURES "base.yaml", other, 1, 0, id_c);
    assert_string_not_equal(t1, t4);
    assert_string_not_equal(id_a, id_c);
    assert_string_not_equal(a, t1);
    free(t1);
    free(t2);
    free(t3);
    free(t4);

    /* metadata is in the text with metadata, not in the run id */
    char *label[] = {"label=another label", "experiment=x"};
    char id_l[65], id_0[65];
    char *with = canonical_of_file(FIXTURES "base.yaml", label, 2, 1, id_l);
    char *without = canonical_of_file(FIXTURES "base.yaml", NULL, 0, 1, id_0);
    assert_non_null(strstr(with, "label: another label\n"));
    assert_non_null(strstr(with, "experiment: x\n"));
    assert_string_not_equal(with, without);
    assert_string_equal(id_l, id_0);
    free(with);
    free(without);

    /* the seed is part of the run */
    char *seed[] = {"seed=2"};
    char *s2 = canonical_of_file(FIXTURES "base.yaml", seed, 1, 0, id_b);
    assert_string_not_equal(id_0, id_b);
    free(s2);

    /* where the data lives is recorded, but is not part of the run */
    char *dir[] = {"dataset.dir=/somewhere/else"};
    char *d = canonical_of_file(FIXTURES "base.yaml", dir, 1, 1, id_b);
    assert_non_null(strstr(d, "dir: /somewhere/else\n"));
    assert_string_equal(id_0, id_b);
    free(d);
    free(a);
}

static void test_canonical_inline_and_fixed_round_trip(void **state)
{
    (void)state;
    char id[65], id2[65];
    char *a = canonical_of_file(FIXTURES "single-neuron.yaml", NULL, 0, 1, id);
    assert_non_null(strstr(a, "  inline:\n    inputs:\n    - [1.0]\n    targets:\n    - [0.0]\n"));
    assert_non_null(strstr(a, "init:\n  fixed:\n    biases:\n    - [0.9]\n    weights:\n"
                              "    - - [0.6]\n"));
    assert_non_null(strstr(a, "experiment: single-neuron\n"));

    /* the canonical text is itself a valid config that means the same run */
    mlp_error err = {0};
    yt_node *tree = yt_parse_string(a, "canonical", &err);
    assert_non_null(tree);
    mlp_config *c = NULL;
    if (config_from_tree(tree, &c, &err) != 0)
        fail_msg("%s", err.message);
    char *b = config_canonical_yaml(c, 1, &err);
    assert_string_equal(a, b);
    assert_int_equal(config_run_id(c, id2, &err), 0);
    assert_string_equal(id, id2);
    config_free(c);
    free(a);
    free(b);
}

/* docs/config.md's key list is the schema table's: adding a key is one row in
 * config.c, and the docs must follow. */
static void test_docs_list_every_key(void **state)
{
    (void)state;
    char *table = config_keys_markdown();
    assert_non_null(table);
    char *docs = test_read_text("docs/config.md");
    assert_contains(docs, table);
    free(docs);
    free(table);
}

/* Run ids hash the canonical form, so any change to it (a new key written out
 * with its default, another number format) re-runs every study. This is the
 * id configs/nielsen-ch3.yaml has had since the first studies ran; a change
 * that must alter it has to say so. */
static void test_run_id_is_stable(void **state)
{
    (void)state;
    mlp_config *c = NULL;
    mlp_error err = {0};
    assert_int_equal(config_load("configs/nielsen-ch3.yaml", NULL, 0, &c, &err), 0);
    char id[65];
    assert_int_equal(config_run_id(c, id, &err), 0);
    assert_string_equal(id, "2fb93829e71a91e6fdd49d38cdefc41cff177c6b6f4fdedd9901c8aaccafbbc5");
    config_free(c);
}

/* Found by make fuzz: an override that fails freed its value, and with it
 * the mark its error message then read: one on a document that is not a
 * mapping, one whose key is not a dotted key (`mlplab run FILE ".x=1"`). */
static void test_overrides_that_fail(void **state)
{
    (void)state;
    static const struct {
        const char *document, *override, *needle;
    } cases[] = {
        {"# only a comment\n", "seed=5", "is not a mapping"},
        {"seed: 1\n", ".x=1", "is not a valid dotted key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mlp_error err = {0};
        yt_node *tree = yt_parse_string(cases[i].document, "fuzz.yaml", &err);
        assert_non_null(tree);
        assert_int_not_equal(config_apply_override(tree, cases[i].override, 1, &err), 0);
        assert_contains(err.message, "command line: argument 1");
        assert_contains(err.message, cases[i].needle);
        yt_free(tree);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_IN_SCRATCH(test_defaults),
        TEST_IN_SCRATCH(test_parse_error_has_position_and_caret),
        TEST_IN_SCRATCH(test_unknown_key_did_you_mean),
        TEST_IN_SCRATCH(test_wrong_types),
        TEST_IN_SCRATCH(test_out_of_range),
        TEST_IN_SCRATCH(test_extends_chain),
        TEST_IN_SCRATCH(test_extends_relative_directories),
        TEST_IN_SCRATCH(test_extends_cycle),
        TEST_IN_SCRATCH(test_overrides),
        TEST_IN_SCRATCH(test_cost_output_pairing),
        TEST_IN_SCRATCH(test_mnist_size_mismatch),
        TEST_IN_SCRATCH(test_inline_data),
        TEST_IN_SCRATCH(test_fixed_init),
        TEST_IN_SCRATCH(test_save_weights_and_study_keys),
        TEST_IN_SCRATCH(test_hooks),
        TEST_IN_SCRATCH(test_canonical_text_and_run_id),
        TEST_IN_SCRATCH(test_canonical_inline_and_fixed_round_trip),
        cmocka_unit_test(test_docs_list_every_key),
        cmocka_unit_test(test_run_id_is_stable),
        cmocka_unit_test(test_overrides_that_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
