/* test_hooks.c — the Lua hook sandbox: the API, the shipped hooks' schedules,
 * and that every escape from the sandbox fails with a clear error.
 *
 * Scripts live in tests/data/hooks (hostile and good ones) and lua/ (shipped);
 * both are found relative to this source file, so run from the repository
 * root. hook_args trees are built by hand here (yamltree is not linked). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hooks.h"

/* ---- helpers: paths, YAML nodes, histories -------------------------------- */

static char path_buffer[4096];

/* tests/data/hooks/NAME or lua/NAME, relative to this file's directory. */
static const char *script_path(const char *folder, const char *name)
{
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    int dir_length = slash != NULL ? (int)(slash - file) : 1;
    snprintf(path_buffer, sizeof path_buffer, "%.*s/%s/%s", dir_length,
             slash != NULL ? file : ".", folder, name);
    return path_buffer;
}

static const char *data_script(const char *name)
{
    return script_path("data/hooks", name);
}

static const char *shipped_script(const char *name)
{
    return script_path("../lua", name);
}

static yt_node *tn_new(yt_kind kind)
{
    yt_node *node = calloc(1, sizeof *node);
    assert_non_null(node);
    node->kind = kind;
    return node;
}

static yt_node *tn_scalar(const char *text, int quoted)
{
    yt_node *node = tn_new(YT_SCALAR);
    node->scalar = strdup(text);
    node->quoted = quoted;
    return node;
}

/* Appends child to a sequence (key NULL) or a mapping. */
static yt_node *tn_add(yt_node *parent, const char *key, yt_node *child)
{
    parent->items = realloc(parent->items, (parent->count + 1) * sizeof *parent->items);
    assert_non_null(parent->items);
    if (parent->kind == YT_MAPPING) {
        parent->keys = realloc(parent->keys, (parent->count + 1) * sizeof *parent->keys);
        assert_non_null(parent->keys);
        parent->keys[parent->count] = strdup(key);
    }
    parent->items[parent->count++] = child;
    return parent;
}

static void tn_free(yt_node *node)
{
    if (node == NULL)
        return;
    for (size_t i = 0; i < node->count; i++) {
        tn_free(node->items[i]);
        if (node->keys != NULL)
            free(node->keys[i]);
    }
    free(node->items);
    free(node->keys);
    free(node->key_marks);
    free(node->scalar);
    free(node);
}

/* A mapping {key: value} with one unquoted scalar. */
static yt_node *tn_one(const char *key, const char *value)
{
    return tn_add(tn_new(YT_MAPPING), key, tn_scalar(value, 0));
}

/* A mapping from "key", "value", ..., NULL (unquoted scalars). */
static yt_node *tn_map(const char *key, ...)
{
    yt_node *map = tn_new(YT_MAPPING);
    va_list ap;
    va_start(ap, key);
    for (; key != NULL; key = va_arg(ap, const char *))
        tn_add(map, key, tn_scalar(va_arg(ap, const char *), 0));
    va_end(ap);
    return map;
}

/* Epochs 0 .. count-1 with validation accuracies from `accuracy` (NULL: all
 * 0.5), train_accuracy epoch/10 and no validation cost (NaN). */
static void make_history(metrics_history *history, size_t count, const double *accuracy)
{
    metrics_history_init(history);
    for (size_t i = 0; i < count; i++) {
        epoch_metrics row = {
            .epoch = (int)i, .learning_rate = 0.5,
            .train_cost = 1.0, .train_accuracy = (double)i / 10,
            .validation_cost = NAN,
            .validation_accuracy = accuracy != NULL ? accuracy[i] : 0.5,
            .test_cost = 1.0, .test_accuracy = 0.5, .seconds = 0.01,
        };
        assert_int_equal(metrics_history_append(history, &row, NULL), MLP_OK);
    }
}

static hooks *load_ok(const char *path, const yt_node *args, const hooks_limits *limits)
{
    hooks *h = NULL;
    mlp_error err = {0};
    int status = hooks_new(path, args, limits, &h, &err);
    if (status != MLP_OK)
        fail_msg("hooks_new(%s) failed: %s", path, err.message);
    assert_non_null(h);
    return h;
}

/* The rate the script gives for `epoch` with `history` cut to epochs 0..epoch-1. */
static double rate_at(hooks *h, metrics_history *history, int epoch, double base)
{
    size_t full = history->count;
    history->count = (size_t)epoch;
    double rate = NAN;
    mlp_error err = {0};
    int status = hooks_learning_rate(h, epoch, history, base, &rate, &err);
    history->count = full;
    if (status != MLP_OK)
        fail_msg("learning_rate(%d) failed: %s", epoch, err.message);
    return rate;
}

/* on_epoch_end for `epoch` with history cut to epochs 0..epoch. */
static int stops_at(hooks *h, metrics_history *history, int epoch)
{
    size_t full = history->count;
    history->count = (size_t)epoch + 1;
    int stop = -1;
    mlp_error err = {0};
    int status = hooks_epoch_end(h, epoch, history, &stop, &err);
    history->count = full;
    if (status != MLP_OK)
        fail_msg("on_epoch_end(%d) failed: %s", epoch, err.message);
    return stop;
}

static void assert_starts_with_position(const char *message, const char *path)
{
    size_t length = strlen(path);
    if (strncmp(message, path, length) != 0 || message[length] != ':'
        || message[length + 1] < '1' || message[length + 1] > '9')
        fail_msg("expected \"%s:LINE:\" at the start of:\n%s", path, message);
}

/* cmocka here has no double comparison; this one reports both values. */
#define assert_close(actual, expected, tolerance) \
    check_close((actual), (expected), (tolerance), __LINE__)

static void check_close(double actual, double expected, double tolerance, int line)
{
    if (!(fabs(actual - expected) <= tolerance))
        fail_msg("line %d: %.17g is not %.17g (tolerance %g)", line, actual, expected, tolerance);
}

/* Writes text to dir/name; returns the path (caller frees). */
static char *write_file(const char *dir, const char *name, const char *text, size_t length)
{
    size_t size = strlen(dir) + strlen(name) + 2;
    char *path = malloc(size);
    assert_non_null(path);
    snprintf(path, size, "%s/%s", dir, name);
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(text, 1, length, file), length);
    assert_int_equal(fclose(file), 0);
    return path;
}

/* ---- loading, identity, defaults -------------------------------------------- */

static void test_sha256_and_source(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_hooks_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = write_file(dir, "nil.lua", "return nil\n", 11);
    hooks *h = load_ok(path, NULL, NULL);
    /* sha256sum of "return nil\n" */
    assert_string_equal(hooks_sha256(h),
                        "d06dfa7571cc2cc603bfe12842b9e80b2f7c24ea6f4654b1db649fc0c616f193");
    assert_string_equal(hooks_source(h), "return nil\n");
    hooks_free(h);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
    free(path);
}

static void test_missing_functions_mean_defaults(void **state)
{
    (void)state;
    hooks *h = load_ok(data_script("empty.lua"), NULL, NULL);
    assert_false(hooks_has_learning_rate(h));
    assert_false(hooks_has_epoch_end(h));
    metrics_history history;
    make_history(&history, 2, NULL);
    double rate = 0;
    assert_int_equal(hooks_learning_rate(h, 2, &history, 0.75, &rate, NULL), MLP_OK);
    assert_true(rate == 0.75);
    int stop = 1;
    assert_int_equal(hooks_epoch_end(h, 1, &history, &stop, NULL), MLP_OK);
    assert_int_equal(stop, 0);
    assert_int_equal(history.custom_count, 0);
    metrics_history_free(&history);
    hooks_free(h);
}

/* Scripts hooks_new refuses: the status, and what the message says. */
static void test_refused_scripts(void **state)
{
    (void)state;
    static const struct {
        const char *script;
        int status;
        int positioned;         /* the message starts "PATH:LINE:" */
        const char *needle;
    } cases[] = {
        {"no-such-hook.lua", MLP_ERR_CONFIG, 0, "no-such-hook.lua: cannot open the hook script"},
        {"syntax-error.lua", MLP_ERR_CONFIG, 1, "syntax-error.lua:4:"},
        {"not-a-function.lua", MLP_ERR_RUN, 0,
         "'learning_rate' is a number; it must be a function"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = data_script(cases[i].script);
        hooks *h = (hooks *)1;
        mlp_error err = {0};
        assert_int_equal(hooks_new(path, NULL, NULL, &h, &err), cases[i].status);
        assert_null(h);
        if (cases[i].positioned)
            assert_starts_with_position(err.message, path);
        assert_contains(err.message, cases[i].needle);
    }
}

static void test_binary_chunk_refused(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_hooks_XXXXXX";
    assert_non_null(mkdtemp(dir));
    static const char bytecode[] = "\x1bLua\x54\x00\x19\x93\r\n\x1a\n\x04\x08\x08";
    char *path = write_file(dir, "compiled.lua", bytecode, sizeof bytecode - 1);
    hooks *h = NULL;
    mlp_error err = {0};
    assert_int_equal(hooks_new(path, NULL, NULL, &h, &err), MLP_ERR_CONFIG);
    assert_null(h);
    assert_contains(err.message, "precompiled (binary) Lua chunk");
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
    free(path);
}

static void test_args_must_be_mapping_and_not_reserved(void **state)
{
    (void)state;
    hooks *h = NULL;
    mlp_error err = {0};
    yt_node *scalar = tn_scalar("5", 0);
    scalar->mark = (yt_mark){"study.yaml", 7, 12};
    assert_int_equal(hooks_new(data_script("empty.lua"), scalar, NULL, &h, &err), MLP_ERR_CONFIG);
    assert_contains(err.message, "study.yaml:7:12: hook_args must be a mapping");
    tn_free(scalar);

    yt_node *reserved = tn_one("base_learning_rate", "0.1");
    assert_int_equal(hooks_new(data_script("empty.lua"), reserved, NULL, &h, &err),
                     MLP_ERR_CONFIG);
    assert_contains(err.message, "hook_args.base_learning_rate is reserved");
    assert_null(h);
    tn_free(reserved);
}

/* ---- what a hook sees ----------------------------------------------------- */

static void test_args_history_and_libraries(void **state)
{
    (void)state;
    yt_node *args = tn_map("count", "10", "ratio", "1e-3", "flag", "true", "off", "false",
                           "name", "hello", "nothing", "~", "hex", "0x10", "word", "inf", NULL);
    tn_add(args, "quoted", tn_scalar("10", 1));
    yt_node *list = tn_new(YT_SEQUENCE);
    tn_add(list, NULL, tn_scalar("1", 0));
    tn_add(list, NULL, tn_scalar("b", 0));
    tn_add(list, NULL, tn_scalar("c", 0));
    tn_add(args, "list", list);
    tn_add(args, "nested", tn_add(tn_new(YT_MAPPING), "inner", tn_one("deep", "2.5")));

    hooks *h = load_ok(data_script("inspect.lua"), args, NULL);
    tn_free(args);   /* the sandbox keeps its own copy */
    assert_true(hooks_has_learning_rate(h));
    assert_true(hooks_has_epoch_end(h));

    metrics_history history;
    make_history(&history, 4, NULL);
    assert_int_equal(metrics_history_set_custom(&history, 1, "gap", 0.5, NULL), MLP_OK);
    for (int epoch = 2; epoch <= 3; epoch++) {
        assert_true(rate_at(h, &history, epoch, 0.5) == 0.125);
        assert_int_equal(stops_at(h, &history, epoch), 0);
    }
    /* The hook's writes to its copies changed nothing here. */
    assert_int_equal(history.rows[0].epoch, 0);
    assert_int_equal(history.count, 4);
    metrics_history_free(&history);
    hooks_free(h);
}

/* ---- shipped hooks: the promised schedules ------------------------------- */

/* A shipped script lua/NAME loaded with args (the run's own: freed with it)
 * beside a history of `epochs` epochs (make_history with `accuracy`). */
typedef struct hook_run {
    yt_node *args;
    hooks *h;
    metrics_history history;
} hook_run;

static hook_run shipped_run(const char *name, yt_node *args, size_t epochs,
                            const double *accuracy)
{
    hook_run r = {.args = args, .h = load_ok(shipped_script(name), args, NULL)};
    make_history(&r.history, epochs, accuracy);
    return r;
}

static void hook_run_free(hook_run *r)
{
    metrics_history_free(&r->history);
    hooks_free(r->h);
    tn_free(r->args);
}

/* The learning-rate hook must fail at epoch 1 with a message holding needle. */
static void expect_rate_refused(hook_run *r, const char *needle)
{
    double rate = 0;
    mlp_error err = {0};
    assert_int_equal(hooks_learning_rate(r->h, 1, &r->history, 1.0, &rate, &err), MLP_ERR_RUN);
    assert_contains(err.message, needle);
}

static void test_step_decay(void **state)
{
    (void)state;
    hook_run r = shipped_run("step-decay.lua", tn_map("factor", "0.1", "step", "3", NULL), 10,
                             NULL);
    const double expected[] = {0, 1, 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01};
    for (int epoch = 1; epoch < 10; epoch++)
        assert_close(rate_at(r.h, &r.history, epoch, 1.0), expected[epoch], 1e-15);
    hook_run_free(&r);

    r = shipped_run("step-decay.lua", tn_one("step", "2.5"), 2, NULL);
    expect_rate_refused(&r, "hook_args.step must be a whole number");
    hook_run_free(&r);
}

static void test_exponential_decay(void **state)
{
    (void)state;
    hook_run r = shipped_run("exponential-decay.lua", tn_one("decay", "0.5"), 5, NULL);
    assert_close(rate_at(r.h, &r.history, 1, 2.0), 2.0, 0);
    assert_close(rate_at(r.h, &r.history, 2, 2.0), 1.0, 0);
    assert_close(rate_at(r.h, &r.history, 4, 2.0), 0.25, 0);
    hook_run_free(&r);
}

static void test_cosine_annealing(void **state)
{
    (void)state;
    hook_run r = shipped_run("cosine-annealing.lua", tn_map("epochs", "4", "min_rate", "0.1", NULL),
                             7, NULL);
    const double pi = 3.14159265358979323846;
    double expected[7];
    for (int epoch = 1; epoch <= 6; epoch++) {
        double t = (epoch - 1 < 3 ? epoch - 1 : 3) / 4.0;
        expected[epoch] = 0.1 + (1.1 - 0.1) * (1 + cos(pi * t)) / 2;
    }
    for (int epoch = 1; epoch <= 6; epoch++)
        assert_close(rate_at(r.h, &r.history, epoch, 1.1), expected[epoch], 1e-12);
    assert_close(expected[3], 0.6, 1e-12);
    hook_run_free(&r);

    /* epochs is required. */
    r = shipped_run("cosine-annealing.lua", NULL, 1, NULL);
    expect_rate_refused(&r, "hook_args.epochs must be a positive whole number");
    hook_run_free(&r);
}

static void test_early_stopping(void **state)
{
    (void)state;
    /* epoch:            0    1    2    3    4     5    6 */
    const double acc[] = {0.1, 0.5, 0.6, 0.6, 0.55, 0.6, 0.7};
    hook_run r = shipped_run("early-stopping.lua", tn_one("patience", "3"), 7, acc);
    assert_false(hooks_has_learning_rate(r.h));
    for (int epoch = 1; epoch <= 4; epoch++)
        assert_int_equal(stops_at(r.h, &r.history, epoch), 0);
    assert_int_equal(stops_at(r.h, &r.history, 5), 1);   /* 3 epochs past the best (epoch 2) */
    hook_run_free(&r);

    /* Watching a cost: lower is better. */
    r = shipped_run("early-stopping.lua",
                    tn_map("patience", "2", "metric", "train_cost", "minimize", "true", NULL), 5,
                    NULL);
    const double costs[] = {3.0, 2.0, 1.0, 1.5, 1.2};
    for (int i = 0; i < 5; i++)
        r.history.rows[i].train_cost = costs[i];
    assert_int_equal(stops_at(r.h, &r.history, 3), 0);
    assert_int_equal(stops_at(r.h, &r.history, 4), 1);
    hook_run_free(&r);

    /* No validation set: a clear error, not a silent stop. */
    const double none[] = {NAN, NAN};
    r = shipped_run("early-stopping.lua", NULL, 2, none);
    int stop = 0;
    mlp_error err = {0};
    assert_int_equal(hooks_epoch_end(r.h, 1, &r.history, &stop, &err), MLP_ERR_RUN);
    assert_contains(err.message, "validation_accuracy is nan at epoch 1");
    hook_run_free(&r);
}

static void test_halve_on_plateau(void **state)
{
    (void)state;
    /* epoch:            0    1    2    3    4    5    6    7    8    9 */
    const double acc[] = {0.1, 0.5, 0.6, 0.6, 0.6, 0.7, 0.7, 0.7, 0.7, 0.7};
    /* halvings after epoch: 1:0 2:0 3:0 4:1 5:1 6:1 7:2 8:2 9:3 */
    const double expected[] = {0, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.125};
    hook_run r = shipped_run("halve-on-plateau.lua",
                             tn_map("patience", "2", "min_fraction", "0.125", NULL), 10, acc);
    for (int epoch = 1; epoch <= 10; epoch++)
        assert_close(rate_at(r.h, &r.history, epoch, 1.0), expected[epoch], 0);
    for (int epoch = 1; epoch <= 8; epoch++)
        assert_int_equal(stops_at(r.h, &r.history, epoch), 0);
    assert_int_equal(stops_at(r.h, &r.history, 9), 1);
    hook_run_free(&r);

    /* Defaults: patience 10, factor 0.5, stop at base/128 (after 7 cuts). */
    double flat[80];
    flat[0] = 0.1;
    for (int i = 1; i < 80; i++)
        flat[i] = 0.9;
    r = shipped_run("halve-on-plateau.lua", NULL, 80, flat);
    assert_close(rate_at(r.h, &r.history, 11, 0.5), 0.5, 0);
    assert_close(rate_at(r.h, &r.history, 12, 0.5), 0.25, 0);
    assert_close(rate_at(r.h, &r.history, 71, 0.5), 0.5 / 64, 0);
    assert_int_equal(stops_at(r.h, &r.history, 70), 0);
    assert_int_equal(stops_at(r.h, &r.history, 71), 1);
    hook_run_free(&r);

    /* Another factor: cut to a tenth, stop at a hundredth (after 2 cuts). */
    r = shipped_run("halve-on-plateau.lua",
                    tn_map("patience", "10", "factor", "0.1", "min_fraction", "0.01", NULL), 80,
                    flat);
    assert_close(rate_at(r.h, &r.history, 12, 2.0), 0.2, 1e-15);
    assert_close(rate_at(r.h, &r.history, 22, 2.0), 0.02, 1e-15);
    assert_int_equal(stops_at(r.h, &r.history, 20), 0);
    assert_int_equal(stops_at(r.h, &r.history, 21), 1);
    hook_run_free(&r);
}

static void test_generalization_gap(void **state)
{
    (void)state;
    hook_run r = shipped_run("generalization-gap.lua", NULL, 3, NULL);
    metrics_history *history = &r.history;
    history->rows[1].validation_accuracy = NAN;
    history->rows[2].train_accuracy = 0.9;
    history->rows[2].validation_accuracy = 0.8;
    assert_int_equal(stops_at(r.h, history, 1), 0);
    assert_int_equal(history->custom_count, 0);   /* NaN: no value */
    assert_int_equal(stops_at(r.h, history, 2), 0);
    int column = metrics_history_custom_index(history, "generalization_gap");
    assert_true(column >= 0);
    assert_close(history->custom_values[column][2], 0.9 - 0.8, 1e-15);
    assert_true(isnan(history->custom_values[column][1]));
    hook_run_free(&r);
}

/* ---- return values ------------------------------------------------------------- */

static int run_returns(const char *kind, int end_hook, metrics_history *history, double *rate,
                       int *stop, mlp_error *err)
{
    yt_node *args = tn_one("kind", kind);
    hooks *h = load_ok(data_script("returns.lua"), args, NULL);
    tn_free(args);
    int status = end_hook ? hooks_epoch_end(h, 2, history, stop, err)
                          : hooks_learning_rate(h, 3, history, 0.5, rate, err);
    hooks_free(h);
    return status;
}

static void test_learning_rate_returns(void **state)
{
    (void)state;
    static const struct {
        const char *kind, *needle;
    } bad[] = {
        {"string", "returned the string \"fast\" for epoch 3"},
        {"nothing", "returned nothing for epoch 3"},
        {"explicit_nil", "returned nil for epoch 3"},
        {"table", "returned a table for epoch 3"},
        {"nan", "returned nan for epoch 3"},
        {"negative", "returned -0.5 for epoch 3"},
        {"zero", "returned 0 for epoch 3"},
        {"inf", "returned inf for epoch 3"},
        {"numeric_string", "returned the string \"0.1\""},
    };
    metrics_history history;
    make_history(&history, 3, NULL);
    const char *path = data_script("returns.lua");
    char expected_path[4096];
    snprintf(expected_path, sizeof expected_path, "%s", path);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double rate = -1;
        mlp_error err = {0};
        assert_int_equal(run_returns(bad[i].kind, 0, &history, &rate, NULL, &err), MLP_ERR_RUN);
        assert_starts_with_position(err.message, expected_path);
        assert_contains(err.message, bad[i].needle);
        assert_contains(err.message, "must return a finite number > 0");
        assert_true(rate == -1);
    }
    double rate = 0;
    assert_int_equal(run_returns("integer", 0, &history, &rate, NULL, NULL), MLP_OK);
    assert_true(rate == 2.0);
    metrics_history_free(&history);
}

static void test_epoch_end_returns(void **state)
{
    (void)state;
    metrics_history history;
    make_history(&history, 3, NULL);
    int stop = -1;
    assert_int_equal(run_returns("nothing", 1, &history, NULL, &stop, NULL), MLP_OK);
    assert_int_equal(stop, 0);
    assert_int_equal(run_returns("stop", 1, &history, NULL, &stop, NULL), MLP_OK);
    assert_int_equal(stop, 1);

    /* Custom metrics: stored at the epoch, new columns in name order. */
    assert_int_equal(run_returns("metrics", 1, &history, NULL, &stop, NULL), MLP_OK);
    assert_int_equal(stop, 0);
    assert_int_equal(history.custom_count, 3);
    assert_string_equal(history.custom_names[0], "alpha");
    assert_string_equal(history.custom_names[1], "mid");
    assert_string_equal(history.custom_names[2], "zeta");
    assert_true(history.custom_values[1][2] == 2.5);
    assert_true(isnan(history.custom_values[1][1]));

    assert_int_equal(run_returns("stop_and_table", 1, &history, NULL, &stop, NULL), MLP_OK);
    assert_int_equal(stop, 1);
    assert_true(history.custom_values[0][2] == 1);
    assert_int_equal(run_returns("table_and_stop", 1, &history, NULL, &stop, NULL), MLP_OK);
    assert_int_equal(stop, 1);
    assert_true(history.custom_values[0][2] == 2);

    static const struct {
        const char *kind, *needle;
    } bad[] = {
        {"bad_string", "returned the string \"stp\" (result 1) for epoch 2"},
        {"number", "returned 1 (result 1)"},
        {"float", "returned 120 (result 1)"},   /* not "1.2e+02" */
        {"boolean", "returned true (result 1)"},
        {"two_tables", "returned a table (result 2)"},
        {"two_stops", "returned the string \"stop\" (result 2)"},
        {"bad_name", "\"2fast\" = 1 for epoch 2, but its name is not an identifier"},
        {"dotted_name", "\"a.b\" = 1 for epoch 2, but its name is not an identifier"},
        {"long_name", "its name is not an identifier"},
        {"builtin_name", "\"test_accuracy\" = 1 for epoch 2, but its name is a built-in"},
        {"number_key", "1 = 2 for epoch 2, but its name is not a string"},
        {"nan_value", "\"gap\" = nan for epoch 2, but its value is not a finite number"},
        {"inf_value", "\"gap\" = -inf"},
        {"string_value", "\"gap\" = the string \"0.5\""},
        {"undeclared", "\"omega\" = 2 for epoch 2, but the script does not declare it: list "
                       "every name on_epoch_end may return in custom_metrics"},
        {"output_name", "\"train_output\" = 0.5 for epoch 2, but the script does not declare"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mlp_error err = {0};
        stop = -1;
        assert_int_equal(run_returns(bad[i].kind, 1, &history, NULL, &stop, &err), MLP_ERR_RUN);
        assert_starts_with_position(err.message, data_script("returns.lua"));
        assert_contains(err.message, bad[i].needle);
        assert_int_equal(stop, 0);
    }
    /* A rejected table stores nothing. */
    assert_int_equal(history.custom_count, 3);
    assert_int_equal(metrics_history_custom_index(&history, "gap"), -1);
    metrics_history_free(&history);
}

/* ---- the custom metrics a script declares ----------------------------------- */

/* hooks_new of `text` (written to dir/declares.lua) with hook_args `args`. */
static int load_declaring(const char *dir, const char *text, const yt_node *args, hooks **h,
                          mlp_error *err)
{
    char *path = write_file(dir, "declares.lua", text, strlen(text));
    int status = hooks_new(path, args, NULL, h, err);
    assert_int_equal(unlink(path), 0);
    free(path);
    return status;
}

/* A declaration hooks_new must refuse: the script's text, whether the message
 * gives the declaring function's line (script:LINE:), and what it says. */
typedef struct declaration_refusal {
    const char *text;
    int positioned;
    const char *needle;
} declaration_refusal;

/* Each case stops hooks_new, naming the script (dir/declares.lua). */
static void expect_declarations_refused(const char *dir, const declaration_refusal *cases,
                                        size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/declares.lua", dir);
    for (size_t i = 0; i < n; i++) {
        hooks *h = (hooks *)1;
        mlp_error err = {0};
        if (load_declaring(dir, cases[i].text, NULL, &h, &err) == MLP_OK)
            fail_msg("hooks_new accepted:\n%s", cases[i].text);
        assert_null(h);
        if (cases[i].positioned)
            assert_starts_with_position(err.message, path);
        else
            assert_true(strncmp(err.message, path, strlen(path)) == 0);
        assert_contains(err.message, cases[i].needle);
    }
}

static void test_declared_custom_metrics(void **state)
{
    (void)state;
    /* The shipped hooks that return custom metrics declare them; first-below's
     * name is hook_args.name, so its declaration is a function of args. */
    hooks *h = load_ok(shipped_script("generalization-gap.lua"), NULL, NULL);
    assert_int_equal(hooks_custom_metric_count(h), 1);
    assert_string_equal(hooks_custom_metric(h, 0), "generalization_gap");
    assert_null(hooks_custom_metric(h, 1));
    hooks_free(h);
    h = load_ok(shipped_script("first-below.lua"), NULL, NULL);
    assert_int_equal(hooks_custom_metric_count(h), 1);
    assert_string_equal(hooks_custom_metric(h, 0), "first_epoch_below");
    hooks_free(h);
    yt_node *args = tn_one("name", "slow_start");
    h = load_ok(shipped_script("first-below.lua"), args, NULL);
    tn_free(args);
    assert_int_equal(hooks_custom_metric_count(h), 1);
    assert_string_equal(hooks_custom_metric(h, 0), "slow_start");
    hooks_free(h);
    /* A schedule declares none. */
    h = load_ok(shipped_script("halve-on-plateau.lua"), NULL, NULL);
    assert_int_equal(hooks_custom_metric_count(h), 0);
    hooks_free(h);
    /* first-below stores its metric under the declared name. */
    hook_run r = shipped_run("first-below.lua", tn_map("metric", "train_accuracy", "threshold",
                                                       "0.15", "name", "slow_start", NULL), 4,
                             NULL);
    assert_int_equal(stops_at(r.h, &r.history, 1), 0);
    int column = metrics_history_custom_index(&r.history, "slow_start");
    assert_true(column >= 0);
    assert_true(r.history.custom_values[column][1] == 0);   /* epoch 0: 0 < 0.15 */
    hook_run_free(&r);

    char dir[] = "/tmp/test_hooks_XXXXXX";
    assert_non_null(mkdtemp(dir));
    /* The declared order is kept; an empty list declares none. */
    mlp_error err = {0};
    assert_int_equal(load_declaring(dir, "custom_metrics = {\"b\", \"a\"}\n", NULL, &h, &err),
                     MLP_OK);
    assert_int_equal(hooks_custom_metric_count(h), 2);
    assert_string_equal(hooks_custom_metric(h, 0), "b");
    assert_string_equal(hooks_custom_metric(h, 1), "a");
    hooks_free(h);
    assert_int_equal(load_declaring(dir, "custom_metrics = {}\n", NULL, &h, &err), MLP_OK);
    assert_int_equal(hooks_custom_metric_count(h), 0);
    hooks_free(h);

    /* Each mistake in a declaration stops hooks_new, naming the script (and the
     * function's line when a function declares). */
    static const declaration_refusal bad[] = {
        {"custom_metrics = 3\n", 0, "'custom_metrics' is a number; it must be a list of the names"},
        {"custom_metrics = \"gap\"\n", 0, "'custom_metrics' is a string"},
        {"custom_metrics = {gap = true}\n", 0, "custom_metrics must be a list of the names "
                                               "on_epoch_end may return"},
        {"custom_metrics = {\"gap\", 5}\n", 0, "custom_metrics[2], 5, is not a string"},
        {"custom_metrics = {\"2x\"}\n", 0, "custom_metrics[1], the string \"2x\", is not an "
                                            "identifier"},
        {"custom_metrics = {\"test_accuracy\"}\n", 0, "is a built-in metric's name"},
        {"custom_metrics = {\"best_test_accuracy\"}\n", 0, "is a built-in metric's name"},
        {"custom_metrics = {\"layer1_mean_abs_delta\"}\n", 0, "is a built-in metric's name"},
        {"custom_metrics = {\"gap\", \"ratio\", \"gap\"}\n", 0,
         "custom_metrics[3], the string \"gap\", is listed twice"},
        {"\nfunction custom_metrics(args)\n  return \"gap\"\nend\n", 1,
         ":2: custom_metrics returned the string \"gap\"; it must return one list of names"},
        {"function custom_metrics(args) end\n", 1, ":1: custom_metrics returned nothing"},
        {"function custom_metrics(args) return {\"a\"}, {} end\n", 1,
         "custom_metrics returned a table and more"},
        {"function custom_metrics(args) return {args.missing, \"x\"} end\n", 1,
         ":1: custom_metrics must be a list"},
        {"function custom_metrics(args)\n  error(\"no names\")\nend\n", 1, ":2: no names"},
        {"function custom_metrics(args) while true do end end\n", 1,
         "hook ran for more than"},
    };
    expect_declarations_refused(dir, bad, sizeof bad / sizeof bad[0]);
    /* The function sees hook_args, but not base_learning_rate, set only once
     * the rate is known. */
    args = tn_one("name", "gap");
    assert_int_equal(load_declaring(dir, "function custom_metrics(args)\n"
                                         "  assert(args.base_learning_rate == nil)\n"
                                         "  return {args.name}\n"
                                         "end\n", args, &h, &err), MLP_OK);
    tn_free(args);
    assert_string_equal(hooks_custom_metric(h, 0), "gap");
    hooks_free(h);
    assert_int_equal(rmdir(dir), 0);
}

/* What a script says its hooks read from history (watched_metrics): any
 * strings, as a list or a function of args; the names are checked against a
 * run by watched.h (tests/test_plan.c), a wrong declaration here. */
static void test_watched_metrics_declared(void **state)
{
    (void)state;
    hooks *h = load_ok(shipped_script("early-stopping.lua"), NULL, NULL);
    assert_int_equal(hooks_watched_metric_count(h), 1);
    assert_string_equal(hooks_watched_metric(h, 0), "validation_accuracy");
    assert_null(hooks_watched_metric(h, 1));
    hooks_free(h);
    yt_node *args = tn_one("metric", "validation_cost");
    h = load_ok(shipped_script("early-stopping.lua"), args, NULL);
    tn_free(args);
    assert_string_equal(hooks_watched_metric(h, 0), "validation_cost");
    hooks_free(h);
    h = load_ok(shipped_script("halve-on-plateau.lua"), NULL, NULL);
    assert_int_equal(hooks_watched_metric_count(h), 1);
    assert_string_equal(hooks_watched_metric(h, 0), "validation_accuracy");
    hooks_free(h);
    h = load_ok(shipped_script("step-decay.lua"), NULL, NULL);   /* reads no metric */
    assert_int_equal(hooks_watched_metric_count(h), 0);
    hooks_free(h);

    char dir[] = "/tmp/test_hooks_XXXXXX";
    assert_non_null(mkdtemp(dir));
    mlp_error err = {0};
    /* not an identifier, but a name: refused, if at all, where the study names it */
    assert_int_equal(load_declaring(dir, "watched_metrics = {\"validation accuracy\"}\n", NULL,
                                    &h, &err), MLP_OK);
    assert_string_equal(hooks_watched_metric(h, 0), "validation accuracy");
    hooks_free(h);
    static const declaration_refusal bad[] = {
        {"watched_metrics = 3\n", 0, "'watched_metrics' is a number; it must be a list of the "
                                     "metrics the hooks read from history"},
        {"watched_metrics = {\"a\", 5}\n", 0, "watched_metrics[2], 5, is not a string"},
        {"function watched_metrics(args) end\n", 1, ":1: watched_metrics returned nothing"},
    };
    expect_declarations_refused(dir, bad, sizeof bad / sizeof bad[0]);
    assert_int_equal(rmdir(dir), 0);
}

/* ---- errors in hooks ------------------------------------------------------- */

static void test_error_has_position_and_traceback(void **state)
{
    (void)state;
    const char *path = data_script("error-in-hook.lua");
    char expected[4096];
    snprintf(expected, sizeof expected, "%s", path);
    hooks *h = load_ok(path, NULL, NULL);
    metrics_history history;
    make_history(&history, 4, NULL);
    assert_close(rate_at(h, &history, 2, 0.5), 0.1, 0);
    double rate = 0;
    mlp_error err = {0};
    assert_int_equal(hooks_learning_rate(h, 3, &history, 0.5, &rate, &err), MLP_ERR_RUN);
    char line[4200];
    snprintf(line, sizeof line, "%s:5: epoch 3 is too late", expected);
    assert_contains(err.message, line);
    assert_starts_with_position(err.message, expected);
    assert_contains(err.message, "stack traceback:");
    snprintf(line, sizeof line, "%s:10: in function", expected);
    assert_contains(err.message, line);   /* the caller's line, from the traceback */

    /* After an error the hooks still work. */
    assert_close(rate_at(h, &history, 1, 0.5), 0.1, 0);

    int stop = 0;
    assert_int_equal(hooks_epoch_end(h, 3, &history, &stop, &err), MLP_ERR_RUN);
    snprintf(line, sizeof line, "%s:15: attempt to index a nil value (field 'no_such_field')",
             expected);
    assert_contains(err.message, line);
    metrics_history_free(&history);
    hooks_free(h);
}

/* Lua abbreviates long chunk names; messages must still carry the full path. */
static void test_long_path_in_messages(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_hooks_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[256];
    snprintf(sub, sizeof sub, "%s/a-directory-name-long-enough-to-be-abbreviated-by-lua", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    static const char text[] = "function learning_rate()\n  error('deep')\nend\n";
    char *path = write_file(sub, "schedule-with-a-long-name.lua", text, sizeof text - 1);
    assert_true(strlen(path) > 60);
    hooks *h = load_ok(path, NULL, NULL);
    metrics_history history;
    make_history(&history, 1, NULL);
    double rate = 0;
    mlp_error err = {0};
    assert_int_equal(hooks_learning_rate(h, 1, &history, 0.5, &rate, &err), MLP_ERR_RUN);
    assert_starts_with_position(err.message, path);
    assert_null(strstr(err.message, "..."));
    metrics_history_free(&history);
    hooks_free(h);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(sub), 0);
    assert_int_equal(rmdir(dir), 0);
    free(path);
}

/* ---- the sandbox ---------------------------------------------------------- */

/* Runs escapes.lua's attack `name`; expects a run error containing needle. */
static void expect_attack_fails(const char *name, const char *needle, const hooks_limits *limits)
{
    yt_node *args = tn_one("attack", name);
    const char *path = data_script("escapes.lua");
    char expected_path[4096];
    snprintf(expected_path, sizeof expected_path, "%s", path);
    hooks *h = load_ok(path, args, limits);
    tn_free(args);
    metrics_history history;
    make_history(&history, 2, NULL);
    double rate = -1;
    mlp_error err = {0};
    int status = hooks_learning_rate(h, 2, &history, 0.5, &rate, &err);
    if (status == MLP_OK)
        fail_msg("attack %s was not stopped (returned %g)", name, rate);
    assert_int_equal(status, MLP_ERR_RUN);
    if (strstr(err.message, needle) == NULL)
        fail_msg("attack %s: expected \"%s\" in:\n%s", name, needle, err.message);
    if (strncmp(err.message, expected_path, strlen(expected_path)) != 0)
        fail_msg("attack %s: message does not start with the script path:\n%s", name, err.message);
    metrics_history_free(&history);
    hooks_free(h);
}

/* An attack in escapes.lua (hook_args {attack: name}) that the sandbox must
 * stop at its default limits, with `says` in its message. */
typedef struct attack {
    const char *name, *says;
} attack;

static void expect_attacks_fail(const attack *attacks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        expect_attack_fails(attacks[i].name, attacks[i].says, NULL);
}

/* Ways out of the sandbox: the libraries and globals a hook does not get. */
static const attack no_way_out[] = {
    {"os_execute", "attempt to index a nil value (global 'os')"},
    {"io_open", "attempt to index a nil value (global 'io')"},
    {"require", "attempt to call a nil value (global 'require')"},
    {"dofile", "attempt to call a nil value (global 'dofile')"},
    {"loadfile", "attempt to call a nil value (global 'loadfile')"},
    {"load_binary", "attempt to call a nil value (global 'load')"},
    {"load_mode_b", "attempt to call a nil value (global 'load')"},
    {"debug", "attempt to index a nil value (global 'debug')"},
    {"package", "attempt to index a nil value (global 'package')"},
    {"coroutine", "attempt to index a nil value (global 'coroutine')"},
    {"collectgarbage", "(global 'collectgarbage')"},
    {"print", "(global 'print')"},
    {"math_random", "attempt to call a nil value (field 'random')"},
    {"math_randomseed", "attempt to call a nil value (field 'randomseed')"},
    {"warn", "attempt to call a nil value (global 'warn')"},
    {"string_dump", "attempt to call a nil value (field 'dump')"},
};

/* The pattern functions, which backtrack inside C where no instruction budget
 * stops them (docs/hooks.md). */
static const attack no_pattern_functions[] = {
    {"string_find", "attempt to call a nil value (method 'find')"},
    {"string_match", "attempt to call a nil value (field 'match')"},
    {"string_gmatch", "attempt to call a nil value (field 'gmatch')"},
    {"string_gsub", "attempt to call a nil value (field 'gsub')"},
};

/* State kept between calls, or shared tables changed. */
static const attack no_tampering[] = {
    {"string_metatable", "attempt to index a boolean value"},
    {"setmetatable_G", "cannot change a protected metatable"},
    {"rawset_G", "attempt to call a nil value (global 'rawset')"},
    {"global_state", "hooks must not keep state between calls (global 'counter'); compute from "
                     "history"},
    {"overwrite_function", "(global 'learning_rate')"},
    {"library_state", "the string library is read-only (cannot set string.counter)"},
    {"math_state", "the math library is read-only"},
    {"gc_finalizer", "__gc finalizers are not allowed"},
    {"weak_table", "weak tables (__mode) are not allowed"},
};

static void test_no_way_out(void **state)
{
    (void)state;
    expect_attacks_fail(no_way_out, sizeof no_way_out / sizeof no_way_out[0]);
}

static void test_no_pattern_functions(void **state)
{
    (void)state;
    expect_attacks_fail(no_pattern_functions,
                        sizeof no_pattern_functions / sizeof no_pattern_functions[0]);
}

static void test_no_tampering(void **state)
{
    (void)state;
    expect_attacks_fail(no_tampering, sizeof no_tampering / sizeof no_tampering[0]);
}

static void test_memory_cap(void **state)
{
    (void)state;
    expect_attack_fails("string_rep_bomb", "string.rep: the result would be 2147483648 bytes",
                        NULL);
    expect_attack_fails("string_rep_method_bomb", "string.rep: the result would be", NULL);
    expect_attack_fails("concat_bomb", "hook used more than its memory cap of 67108864 bytes",
                        NULL);
    hooks_limits small = {0, 8u << 20};
    expect_attack_fails("table_bomb", "hook used more than its memory cap of 8388608 bytes",
                        &small);
    /* Deep recursion ends in Lua's own stack overflow error, with a position. */
    expect_attack_fails("recursion", "stack overflow", NULL);

    hooks *h = NULL;
    mlp_error err = {0};
    assert_int_equal(hooks_new(data_script("memory-top-level.lua"), NULL, &small, &h, &err),
                     MLP_ERR_RUN);
    assert_null(h);
    assert_contains(err.message, "memory-top-level.lua: hook used more than its memory cap");

    /* A cap too small for the sandbox itself fails cleanly. */
    hooks_limits tiny = {0, 2048};
    assert_int_equal(hooks_new(data_script("empty.lua"), NULL, &tiny, &h, &err), MLP_ERR_RUN);
    assert_null(h);
    assert_contains(err.message, "empty.lua");
}

static void test_instruction_budget(void **state)
{
    (void)state;
    /* The default budget, 10,000,000 instructions. */
    expect_attack_fails("endless_loop", "hook ran for more than 10000000 instructions "
                                        "(endless loop?)", NULL);
    hooks_limits quick = {200000, 0};
    expect_attack_fails("endless_loop", "hook ran for more than 200000 instructions", &quick);
    /* pcall and xpcall cannot swallow the budget error. */
    expect_attack_fails("pcall_loop", "hook ran for more than 200000 instructions", &quick);
    expect_attack_fails("xpcall_loop", "hook ran for more than 200000 instructions", &quick);
    /* Building big strings costs budget in proportion to their size, so a
     * loop of cheap-looking instructions that each copy a megabyte ends (the
     * message says the budget, not the clock or memory, stopped it). */
    expect_attack_fails("concat_loop", "instructions (endless loop?)", &quick);
    expect_attack_fails("rep_loop", "instructions (endless loop?)", &quick);
    /* Table functions that loop in C are charged per element. */
    expect_attack_fails("table_insert_len", "instructions (endless loop?)", &quick);
    expect_attack_fails("table_remove_len", "instructions (endless loop?)", &quick);
    expect_attack_fails("table_move", "instructions (endless loop?)", &quick);
    expect_attack_fails("table_concat_index", "instructions (endless loop?)", &quick);
    expect_attack_fails("table_unpack", "instructions (endless loop?)", &quick);
    expect_attack_fails("table_sort_len", "instructions (endless loop?)", &quick);

    /* The budget applies to the top level too. */
    hooks *h = NULL;
    mlp_error err = {0};
    const char *path = data_script("loop-top-level.lua");
    char expected[4096];
    snprintf(expected, sizeof expected, "%s", path);
    assert_int_equal(hooks_new(path, NULL, &quick, &h, &err), MLP_ERR_RUN);
    assert_null(h);
    assert_starts_with_position(err.message, expected);
    assert_contains(err.message, ":3: hook ran for more than 200000 instructions");
    assert_contains(err.message, "in main chunk");

    /* The budget is per call: many calls of a cheap hook are fine. */
    h = load_ok(shipped_script("halve-on-plateau.lua"), NULL, &quick);
    metrics_history history;
    make_history(&history, 30, NULL);
    for (int i = 0; i < 50; i++)
        assert_close(rate_at(h, &history, 29, 1.0), 0.25, 0);
    metrics_history_free(&history);
    hooks_free(h);
}

static void test_harmless_edge_cases(void **state)
{
    (void)state;
    /* string.rep("", maxinteger) returns at once instead of looping: it
     * finishes within a budget of 200,000 instructions, which a loop (or a
     * charge) per repetition would exceed many times over. No clock. */
    yt_node *args = tn_one("attack", "string_rep_empty");
    hooks_limits quick = {200000, 0};
    hooks *h = load_ok(data_script("escapes.lua"), args, &quick);
    tn_free(args);
    metrics_history history;
    make_history(&history, 2, NULL);
    assert_close(rate_at(h, &history, 2, 0.5), 0.25, 0);
    metrics_history_free(&history);
    hooks_free(h);

    /* Errors without a position, or with a non-string value, still name the script. */
    expect_attack_fails("error_no_position", "escapes.lua: plain message", NULL);
    expect_attack_fails("error_table", "(error object is a table value)", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_and_source),
        cmocka_unit_test(test_missing_functions_mean_defaults),
        cmocka_unit_test(test_refused_scripts),
        cmocka_unit_test(test_binary_chunk_refused),
        cmocka_unit_test(test_args_must_be_mapping_and_not_reserved),
        cmocka_unit_test(test_args_history_and_libraries),
        cmocka_unit_test(test_step_decay),
        cmocka_unit_test(test_exponential_decay),
        cmocka_unit_test(test_cosine_annealing),
        cmocka_unit_test(test_early_stopping),
        cmocka_unit_test(test_halve_on_plateau),
        cmocka_unit_test(test_generalization_gap),
        cmocka_unit_test(test_learning_rate_returns),
        cmocka_unit_test(test_epoch_end_returns),
        cmocka_unit_test(test_declared_custom_metrics),
        cmocka_unit_test(test_watched_metrics_declared),
        cmocka_unit_test(test_error_has_position_and_traceback),
        cmocka_unit_test(test_long_path_in_messages),
        cmocka_unit_test(test_no_way_out),
        cmocka_unit_test(test_no_pattern_functions),
        cmocka_unit_test(test_no_tampering),
        cmocka_unit_test(test_memory_cap),
        cmocka_unit_test(test_instruction_budget),
        cmocka_unit_test(test_harmless_edge_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
