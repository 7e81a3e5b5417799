/* test_plan.c — the study planner: expansion (cases x sweep x seeds), labels,
 * run ids that ignore how a config is written, errors located in the study
 * file, the quick profile, the files plan writes, and gradient-check studies
 * (the gradcheck: key: no runs, errors located in the study file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_canonical.h"
#include "fsutil.h"
#include "plan.h"
#include "test_support.h"

typedef test_scratch scratch;

/* XOR on a 2-3-1 network: inline data, so nothing needs MNIST. */
#define XOR_BASE                                                                   \
    TEST_XOR_DATASET                                                               \
    "network: {sizes: [2, 3, 1], activation: sigmoid, output: sigmoid}\n"         \
    "train: {epochs: 5, batch_size: 2, learning_rate: 3}\n"

static plan_study *load_ok(const char *path, const plan_options *options)
{
    plan_study *study = NULL;
    mlp_error err = {0};
    int rc = plan_load(path, options, &study, &err);
    if (rc != 0)
        fail_msg("plan_load failed: %s", err.message);
    assert_non_null(study);
    return study;
}

/* The study file `name` in the scratch directory, holding text, planned with
 * options (may be NULL), which must succeed; free it with plan_free. */
static plan_study *planned(scratch *s, const char *name, const char *text,
                           const plan_options *options)
{
    return load_ok(test_scratch_write(s, name, text), options);
}

static void load_fails(const char *path, const plan_options *options, mlp_error *err)
{
    plan_study *study = NULL;
    int rc = plan_load(path, options, &study, err);
    assert_int_equal(rc, MLP_ERR_CONFIG);
    assert_null(study);
}

/* A study plan_load must refuse: the file `name` in the scratch directory,
 * XOR_BASE then `rest`; its message holds `says` (FILE:LINE:COL: ...). */
typedef struct plan_refusal {
    const char *name, *rest, *says;
} plan_refusal;

static void expect_plan_refusals(scratch *s, const plan_refusal *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char text[1024];
        snprintf(text, sizeof text, XOR_BASE "%s", cases[i].rest);
        mlp_error err = {0};
        load_fails(test_scratch_write(s, cases[i].name, text), NULL, &err);
        if (strstr(err.message, cases[i].says) == NULL)
            fail_msg("%s: expected \"%s\" in:\n%s", cases[i].name, cases[i].says, err.message);
    }
}

/* ---- run ids ------------------------------------------------------------- */

static void test_ids_ignore_how_the_config_is_written(void **state)
{
    scratch *s = *state;
    char a_path[256], b_path[256], c_path[256];
    snprintf(a_path, sizeof a_path, "%s", test_scratch_write(s, "a.yaml", XOR_BASE "seeds: [1, 2]\n"));
    /* same config: keys reordered, 3 written as 3.0, the base in another file
     * reached through extends */
    test_scratch_write(s, "configs/xor.yaml",
               "train: {learning_rate: 3.0, batch_size: 2, epochs: 5}\n"
               "network: {output: sigmoid, sizes: [2, 3, 1], activation: sigmoid}\n"
               "dataset:\n"
               "  inline: {targets: [[0], [1], [1], [0]], inputs: [[0, 0], [0, 1], [1, 0], "
               "[1, 1]]}\n");
    snprintf(b_path, sizeof b_path, "%s",
             test_scratch_write(s, "b.yaml", "seeds: 2\nextends: configs/xor.yaml\n"));
    /* a real change: another learning rate */
    snprintf(c_path, sizeof c_path, "%s",
             test_scratch_write(s, "c.yaml", "extends: configs/xor.yaml\ntrain: {learning_rate: 3.1}\n"
                                     "seeds: [1, 2]\n"));
    plan_study *a = load_ok(a_path, NULL), *b = load_ok(b_path, NULL), *c = load_ok(c_path, NULL);
    assert_int_equal(a->n_runs, 2);
    assert_int_equal(b->n_runs, 2);
    assert_int_equal(c->n_runs, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(a->runs[i].id, b->runs[i].id);
        assert_string_not_equal(a->runs[i].id, c->runs[i].id);
        assert_int_equal(strlen(a->runs[i].id), 64);
    }
    /* the seed is part of the run */
    assert_string_not_equal(a->runs[0].id, a->runs[1].id);
    plan_free(a);
    plan_free(b);
    plan_free(c);
}

static void test_written_config_reproduces_the_run_id(void **state)
{
    scratch *s = *state;
    plan_study *study = planned(s, "study.yaml",
                                XOR_BASE "description: \"round trip\"\nseeds: [7]\n"
                                "cases:\n  - {label: \"fast (η=5)\", train.learning_rate: 5}\n", NULL);
    assert_int_equal(study->n_runs, 1);
    mlp_error err = {0};
    yt_node *tree = yt_parse_string(study->runs[0].config_yaml, "configs/ID.yaml", &err);
    assert_non_null(tree);
    mlp_config *config = NULL;
    assert_int_equal(config_from_tree(tree, &config, &err), 0);
    char id[65];
    assert_int_equal(config_run_id(config, id, &err), 0);
    assert_string_equal(id, study->runs[0].id);
    assert_string_equal(config->experiment, "study");
    assert_string_equal(config->label, "fast (η=5)");
    assert_string_equal(config->description, "round trip");
    assert_int_equal(config->seed, 7);
    assert_true(config->learning_rate == 5.0);
    config_free(config);
    plan_free(study);
}

/* ---- expansion ----------------------------------------------------------- */

static void test_cases_times_sweep_times_seeds(void **state)
{
    scratch *s = *state;
    plan_study *study = planned(s, "grid.yaml",
                                XOR_BASE
                                "seeds: [3, 4]\n"
                                "cases:\n"
                                "  - {label: \"a\", cost: cross-entropy}\n"
                                "  - {label: \"b\", cost: quadratic}\n"
                                "sweep:\n"
                                "  network.sizes: [[2, 3, 1], [2, 4, 1]]\n"
                                "  train.learning_rate: [0.5, 1.0, 2.0]\n", NULL);
    assert_int_equal(study->n_cases, 2);
    assert_int_equal(study->n_points, 6);
    assert_int_equal(study->n_seeds, 2);
    assert_int_equal(study->n_runs, 24);
    assert_int_equal(study->n_labels, 12);
    /* case-major, the first swept key slowest, then seeds */
    assert_string_equal(study->labels[0], "a, network.sizes=[2,3,1], train.learning_rate=0.5");
    assert_string_equal(study->labels[1], "a, network.sizes=[2,3,1], train.learning_rate=1.0");
    assert_string_equal(study->labels[3], "a, network.sizes=[2,4,1], train.learning_rate=0.5");
    assert_string_equal(study->labels[6], "b, network.sizes=[2,3,1], train.learning_rate=0.5");
    assert_string_equal(study->runs[0].label, study->labels[0]);
    assert_int_equal(study->runs[0].seed, 3);
    assert_int_equal(study->runs[1].seed, 4);
    assert_int_equal(study->runs[2].label_index, 1);
    assert_string_equal(study->runs[23].label, study->labels[11]);
    assert_string_equal(study->runs[12].differs,
                        "cost=quadratic, network.sizes=[2,3,1], train.learning_rate=0.5");
    /* every run is distinct */
    for (size_t i = 0; i < study->n_runs; i++)
        for (size_t j = i + 1; j < study->n_runs; j++)
            assert_string_not_equal(study->runs[i].id, study->runs[j].id);
    assert_string_equal(study->name, "grid");
    plan_free(study);
}

/* Plan loads each run's hook (trains nothing) and keeps the custom metrics it
 * declares with the run: per case, from the hook_args that case gives. */
static void test_runs_keep_their_hooks_declarations(void **state)
{
    scratch *s = *state;
    test_scratch_write(s, "named.lua", "function custom_metrics(args)\n"
                                       "  return {args.name, args.name .. \"_too\"}\n"
                                       "end\n");
    plan_study *study = planned(s, "hooked.yaml",
                                XOR_BASE
                                "seeds: 2\n"
                                "hooks: named.lua\n"
                                "hook_args: {name: gap}\n"
                                "cases:\n"
                                "  - {label: a}\n"
                                "  - {label: b, hook_args.name: ratio}\n"
                                "  - {label: c, hooks: ~, hook_args: ~}\n", NULL);
    assert_int_equal(study->n_runs, 6);
    for (size_t i = 0; i < 4; i++) {
        char *const *names = study->runs[i].custom_metrics;
        assert_non_null(names);
        assert_string_equal(names[0], i < 2 ? "gap" : "ratio");
        assert_string_equal(names[1], i < 2 ? "gap_too" : "ratio_too");
        assert_null(names[2]);
    }
    assert_null(study->runs[4].custom_metrics);     /* no hook */
    assert_false(study->runs[4].has_hooks);
    plan_free(study);
}

static void test_sweep_without_cases_and_render(void **state)
{
    scratch *s = *state;
    plan_study *study = planned(s, "lr.yaml", XOR_BASE "sweep: {train.learning_rate: [1, 2]}\n", NULL);
    assert_int_equal(study->n_runs, 2);
    assert_string_equal(study->labels[0], "train.learning_rate=1");
    assert_string_equal(study->labels[1], "train.learning_rate=2");
    assert_int_equal(study->runs[0].seed, 1);     /* no seeds: the config's seed */
    plan_free(study);

    /* no cases, no sweep: one run labelled with the study name */
    study = planned(s, "single.yaml", XOR_BASE, NULL);
    assert_int_equal(study->n_runs, 1);
    assert_string_equal(study->runs[0].label, "single");
    assert_string_equal(study->runs[0].differs, "(base)");
    plan_free(study);

    mlp_error err = {0};
    yt_node *value = yt_parse_string("{a: [1, 2.50], b: x y}", "test", &err);
    assert_non_null(value);
    char text[64];
    assert_int_equal(plan_render_value(value, text, sizeof text), 0);
    assert_string_equal(text, "{a:[1,2.50],b:x y}");
    assert_int_equal(plan_render_value(value, text, 8), -1);
    yt_free(value);
}

static void test_seeds_as_count_or_list(void **state)
{
    scratch *s = *state;
    plan_study *study = planned(s, "count.yaml", XOR_BASE "seeds: 3\n", NULL);
    assert_int_equal(study->n_runs, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(study->runs[i].seed, i + 1);
    plan_free(study);

    study = planned(s, "list.yaml", XOR_BASE "seeds: [5, 0, 9]\n", NULL);
    assert_int_equal(study->n_runs, 3);
    assert_int_equal(study->runs[0].seed, 5);
    assert_int_equal(study->runs[1].seed, 0);
    assert_int_equal(study->runs[2].seed, 9);
    plan_free(study);

    static const plan_refusal refused[] = {
        {"zero.yaml", "seeds: 0\n", "zero.yaml:5:8: seeds: a count must be"},
        {"twice.yaml", "seeds: [1, 2, 1]\n", "twice.yaml:5:15: seed 1 is listed twice"},
    };
    expect_plan_refusals(s, refused, sizeof refused / sizeof refused[0]);
}

static void test_command_line_overrides(void **state)
{
    scratch *s = *state;
    const char *path = test_scratch_write(s, "cli.yaml", XOR_BASE "seeds: [1]\n"
                                  "cases: [{label: \"slow\", train.epochs: 50}]\n");
    char *overrides[] = {"seeds=2", "train.epochs=7"};
    plan_options options = {.overrides = overrides, .n_overrides = 2};
    plan_study *study = load_ok(path, &options);
    assert_int_equal(study->n_runs, 2);           /* seeds=2: seeds 1 and 2 */
    /* run-level overrides come last: they beat the case */
    assert_non_null(strstr(study->runs[0].config_yaml, "epochs: 7\n"));
    plan_free(study);

    char *bad[] = {"train.epoch=7"};
    options = (plan_options){.overrides = bad, .n_overrides = 1};
    mlp_error err = {0};
    load_fails(path, &options, &err);
    assert_non_null(strstr(err.message, "command line: argument 1"));
    assert_non_null(strstr(err.message, "did you mean 'epochs'"));
}

static void test_quick_profiles(void **state)
{
    scratch *s = *state;
    /* default quick profile: 2 epochs, first seed only, MNIST shrunk */
    const char *path = test_scratch_write(s, "mnist.yaml",
                                  "dataset: {name: mnist}\nnetwork: {sizes: [784, 30, 10]}\n"
                                  "train: {epochs: 30}\nseeds: [4, 5, 6]\n");
    plan_options quick = {.quick = 1};
    plan_study *study = load_ok(path, &quick);
    assert_int_equal(study->n_runs, 1);
    assert_int_equal(study->runs[0].seed, 4);
    const char *yaml = study->runs[0].config_yaml;
    assert_non_null(strstr(yaml, "epochs: 2\n"));
    assert_non_null(strstr(yaml, "train_size: 2000\n"));
    assert_non_null(strstr(yaml, "validation_size: 500\n"));
    assert_non_null(strstr(yaml, "test_size: 500\n"));
    assert_true(study->quick);
    plan_free(study);

    /* without --quick nothing shrinks */
    study = load_ok(path, NULL);
    assert_int_equal(study->n_runs, 3);
    assert_non_null(strstr(study->runs[0].config_yaml, "epochs: 30\n"));
    plan_free(study);

    /* the study's own quick: block replaces the default profile */
    study = planned(s, "own.yaml", XOR_BASE "seeds: 4\n"
                      "quick: {train.epochs: 1, seeds: 2}\n", &quick);
    assert_int_equal(study->n_runs, 2);
    assert_non_null(strstr(study->runs[0].config_yaml, "epochs: 1\n"));
    plan_free(study);
}

/* ---- errors -------------------------------------------------------------- */

static void test_unknown_key_in_a_case_points_at_the_case(void **state)
{
    scratch *s = *state;
    const char *path = test_scratch_write(s, "typo.yaml",
                                  XOR_BASE
                                  "cases:\n"
                                  "  - {label: \"ok\", cost: quadratic}\n"
                                  "  - {label: \"typo\", train.learnin_rate: 0.5}\n");
    mlp_error err = {0};
    load_fails(path, NULL, &err);
    char expected[320];
    snprintf(expected, sizeof expected, "%s:7:21: unknown key 'train.learnin_rate'", path);
    if (strstr(err.message, expected) != err.message)
        fail_msg("expected '%s' at the start of: %s", expected, err.message);
    assert_non_null(strstr(err.message, "did you mean 'learning_rate'"));
    assert_non_null(strstr(err.message, "'typo'"));

    static const plan_refusal refused[] = {
        /* a study key cannot be set by a case */
        {"studykey.yaml", "cases:\n  - {label: \"x\", seeds: 3}\n",
         "studykey.yaml:6:18: a case (x) cannot set 'seeds'"},
        /* a case without a label */
        {"nolabel.yaml", "cases:\n  - {cost: quadratic}\n",
         "nolabel.yaml:6:5: cases[0] has no label"},
    };
    expect_plan_refusals(s, refused, sizeof refused / sizeof refused[0]);
}

static void test_duplicate_runs_and_labels(void **state)
{
    static const plan_refusal refused[] = {
        {"dup.yaml",
         "cases:\n"
         "  - {label: \"three\", train.learning_rate: 3}\n"
         "  - {label: \"three again\", train: {learning_rate: 3.0}}\n",
         "dup.yaml:7:13: 'three' and 'three again' are the same run"},
        {"samelabel.yaml",
         "cases:\n"
         "  - {label: \"x\", train.learning_rate: 1}\n"
         "  - {label: \"x\", train.learning_rate: 2}\n",
         "samelabel.yaml:7:13: the label 'x' is used twice"},
        {"dupsweep.yaml", "sweep: {train.epochs: [2, 3, 2]}\n", "dupsweep.yaml:5:30: the label"},
    };
    expect_plan_refusals(*state, refused, sizeof refused / sizeof refused[0]);
}

static void test_empty_cases_and_bad_shapes(void **state)
{
    scratch *s = *state;
    static const plan_refusal refused[] = {
        {"empty.yaml", "cases: []\n", "empty.yaml:5:8: cases is empty"},
        {"sweep.yaml", "sweep: {train.epochs: 3}\n",
         "sweep.yaml:5:23: sweep.train.epochs must be a non-empty list"},
        {"dollar.yaml", "cases: [{label: \"costs $5\"}]\n",
         "dollar.yaml:5:17: the label 'costs $5'"},
        {"ref.yaml", "reference: [{label: x, metric: test_accuracy}]\n",
         "ref.yaml:5:13: reference[0] needs both"},
        {"named.yaml", "name: other\n", "named.yaml:5:7: name: 'other' differs"},
    };
    expect_plan_refusals(s, refused, sizeof refused / sizeof refused[0]);

    test_scratch_write(s, "loop1.yaml", "extends: loop2.yaml\n");
    const char *path = test_scratch_write(s, "loop2.yaml", "extends: loop1.yaml\n");
    mlp_error err = {0};
    load_fails(path, NULL, &err);
    assert_non_null(strstr(err.message, "extends cycle"));
}

/* ---- output files -------------------------------------------------------- */

static void test_write_if_changed(void **state)
{
    scratch *s = *state;
    char path[256];
    snprintf(path, sizeof path, "%s/file.txt", s->dir);
    mlp_error err = {0};
    int changed = -1;
    assert_int_equal(fsutil_write_if_changed(path, "one\n", &changed, &err), 0);
    assert_int_equal(changed, 1);
    struct stat before, after;
    assert_int_equal(stat(path, &before), 0);
    assert_int_equal(fsutil_write_if_changed(path, "one\n", &changed, &err), 0);
    assert_int_equal(changed, 0);
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(before.st_ino, after.st_ino);       /* not replaced */
    assert_int_equal(fsutil_write_if_changed(path, "one", &changed, &err), 0);
    assert_int_equal(changed, 1);                         /* a prefix is a change */
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char text[16] = "";
    assert_non_null(fgets(text, sizeof text, f));
    fclose(f);
    assert_string_equal(text, "one");
}

/* runs.mk names the data sets the runs read, each once, so that make can get
 * them first (mk/data.mk): here mnist and fashion-mnist, in study order. */
static void test_runs_mk_lists_datasets(void **state)
{
    scratch *s = *state;
    plan_study *study = planned(s, "sets.yaml",
                                "dataset: {name: mnist, train_size: 10}\n"
                                "network: {sizes: [784, 30, 10]}\n"
                                "cases:\n"
                                "  - {label: digits}\n"
                                "  - {label: clothes, dataset.name: fashion-mnist}\n"
                                "  - {label: digits again, train.learning_rate: 1}\n", NULL);
    assert_string_equal(study->runs[1].dataset, "fashion-mnist");
    mlp_error err = {0};
    char *mk = plan_runs_mk(study, "res/sets", &err);
    assert_non_null(mk);
    assert_contains(mk, "\nsets_DATASETS := mnist fashion-mnist\n");
    free(mk);
    plan_free(study);
}

static void test_plan_write_files(void **state)
{
    scratch *s = *state;
    plan_study *study = planned(s, "demo.yaml",
                                XOR_BASE
                                "description: \"a demo\"\n"
                                "seeds: 2\n"
                                "cases:\n"
                                "  - {label: \"fast, (big step)\", train.learning_rate: 5}\n"
                                "  - {label: \"slow\", train.learning_rate: 0.5}\n"
                                "reference:\n"
                                "  - {label: slow, metric: train_cost, value: 0.05, "
                                "source: book}\n"
                                "report: {table: {metrics: [train_cost]}}\n", NULL);
    char results[256], file[512];
    snprintf(results, sizeof results, "%s/results/", s->dir);
    mlp_error err = {0};
    size_t written = 0;
    assert_int_equal(plan_write(study, results, &written, &err), 0);
    assert_int_equal(written, 4);
    assert_int_equal(plan_write(study, results, &written, &err), 0);
    assert_int_equal(written, 0);                          /* nothing changed */

    snprintf(file, sizeof file, "%s/results/demo/configs/%s.yaml", s->dir, study->runs[0].id);
    assert_int_equal(access(file, R_OK), 0);

    char *mk = plan_runs_mk(study, "res/demo", &err);
    assert_non_null(mk);
    char rule[512];
    snprintf(rule, sizeof rule, "res/demo/runs/%s.h5: $(if $(FORCE),mlplab-force) "
             "| res/demo/configs/%s.yaml\n\t@$(RUN_ONE) $(if $(FORCE),--fresh) "
             "res/demo/configs/%s.yaml $@ 'demo' 'fast, (big step)' 1 1 4\n",
             study->runs[0].id, study->runs[0].id, study->runs[0].id);
    assert_non_null(strstr(mk, rule));
    assert_non_null(strstr(mk, "demo_RUNS := \\\n  res/demo/runs/"));
    assert_non_null(strstr(mk, "\n.PRECIOUS: $(demo_RUNS)\n"));   /* a signal never deletes a complete run */
    assert_contains(mk, "\ndemo_DATASETS :=\n");     /* inline data: nothing to fetch */
    assert_non_null(strstr(mk, "'slow' 2 4 4\n"));
    free(mk);

    char *yaml = plan_study_yaml(study, &err);
    assert_non_null(yaml);
    yt_node *tree = yt_parse_string(yaml, "study.yaml", &err);
    free(yaml);
    assert_non_null(tree);
    const char *text;
    assert_int_equal(yt_to_string(yt_get(tree, "name"), "name", &text, &err), 0);
    assert_string_equal(text, "demo");
    assert_int_equal(yt_to_string(yt_get(tree, "description"), "d", &text, &err), 0);
    assert_string_equal(text, "a demo");
    const yt_node *labels = yt_get(tree, "labels");
    assert_non_null(labels);
    assert_int_equal(labels->count, 2);
    assert_string_equal(labels->items[0]->scalar, "fast, (big step)");
    const yt_node *runs = yt_get(tree, "runs");
    assert_int_equal(runs->count, 4);
    assert_string_equal(yt_map_get(runs->items[3], "id")->scalar, study->runs[3].id);
    assert_string_equal(yt_map_get(runs->items[3], "seed")->scalar, "2");
    /* metric/value references become the direct form the report reads */
    const yt_node *reference = yt_get(tree, "reference");
    assert_int_equal(reference->count, 1);
    assert_non_null(yt_map_get(reference->items[0], "train_cost"));
    assert_null(yt_map_get(reference->items[0], "metric"));
    assert_non_null(yt_get(tree, "report.table.metrics"));
    yt_free(tree);

    /* unsafe results directories are refused */
    assert_int_equal(plan_write(study, "my results", NULL, &err), MLP_ERR_USAGE);
    assert_int_equal(plan_write(study, "a$b", NULL, &err), MLP_ERR_USAGE);
    plan_free(study);
}

/* ---- the metrics hooks watch --------------------------------------------- */

/* Copies the shipped hook lua/NAME into the scratch directory, where studies
 * name it as NAME: the tests below check the shipped declarations. */
static void copy_shipped_hook(scratch *s, const char *name)
{
    const char *slash = strrchr(__FILE__, '/');
    char path[512];
    snprintf(path, sizeof path, "%.*s/../lua/%s", slash != NULL ? (int)(slash - __FILE__) : 1,
             slash != NULL ? __FILE__ : ".", name);
    char *text = test_read_text(path);
    test_scratch_write(s, name, text);
    free(text);
}

/* What a hook reads from history (its watched_metrics) is checked against
 * what each run records when the study is planned, so a typo in
 * hook_args.metric stops the plan, not the run after its first epoch: at the
 * hook_args value (or the hooks: line for the hook's default), with a
 * did-you-mean among the names the run records. */
static void test_watched_metrics_refused_before_training(void **state)
{
    scratch *s = *state;
    copy_shipped_hook(s, "early-stopping.lua");
    copy_shipped_hook(s, "first-below.lua");
    static const plan_refusal refused[] = {
        {"watch-typo.yaml",
         "hooks: early-stopping.lua\nhook_args: {metric: train_cots, minimize: true}\n",
         "watch-typo.yaml:6:21: early-stopping.lua watches 'train_cots', not a metric this run "
         "records; did you mean 'train_cost'?\n"
         "  hook_args: {metric: train_cots, minimize: true}\n"
         "                      ^\n"
         "hint: a hook reads from the history what the run records each epoch; this run "
         "records: epoch, learning_rate, train_cost, seconds (docs/hooks.md)"},
        {"watch-default.yaml", "hooks: early-stopping.lua\n",
         "watch-default.yaml:5:8: early-stopping.lua watches 'validation_accuracy' by default "
         "(no hook_args value names it), which this run does not record: inline data has no "
         "validation part"},
        {"watch-per-run.yaml",
         "hooks: early-stopping.lua\nhook_args: {metric: best_validation_accuracy}\n",
         "watch-per-run.yaml:6:21: early-stopping.lua watches 'best_validation_accuracy', a "
         "per-run column (docs/reports.md), which the history does not hold"},
        /* first-below's train_output: recorded by one case, not by the other */
        {"watch-output.yaml",
         "hooks: first-below.lua\n"
         "cases:\n  - {label: \"on\", train.monitor_output: true}\n  - {label: \"off\"}\n",
         "watches 'train_output' by default (no hook_args value names it), which this run does "
         "not record: train.monitor_output is false\n"
         "  hooks: first-below.lua\n"
         "         ^\n"
         "hint: set train.monitor_output: true (in the study or the case)\n"
         "note: while planning the run 'off'"},
    };
    expect_plan_refusals(s, refused, sizeof refused / sizeof refused[0]);
}

/* train_* metrics are recorded only with train.monitor_train; the hint names
 * the setting and the same quantity on the validation set. Plan reads no
 * data, so an MNIST-shaped study needs no MNIST here. */
static void test_watched_train_metric_needs_monitor_train(void **state)
{
    scratch *s = *state;
    copy_shipped_hook(s, "early-stopping.lua");
#define MNIST_WATCHING_TRAIN_COST(MONITOR)                                               \
    "dataset: {name: mnist, train_size: 100, validation_size: 50, test_size: 50}\n"      \
    "network: {sizes: [784, 10, 10]}\n"                                                   \
    "train: {epochs: 2, monitor_train: " MONITOR "}\n"                                   \
    "hooks: early-stopping.lua\n"                                                         \
    "hook_args: {metric: train_cost, minimize: true}\n"
    const char *path = test_scratch_write(s, "quiet.yaml", MNIST_WATCHING_TRAIN_COST("false"));
    mlp_error err = {0};
    load_fails(path, NULL, &err);
    char expected[512];
    snprintf(expected, sizeof expected, "%s:5:21: early-stopping.lua watches 'train_cost', which "
             "this run does not record: train.monitor_train is false", path);
    if (strstr(err.message, expected) != err.message)
        fail_msg("expected '%s' at the start of: %s", expected, err.message);
    assert_contains(err.message, "\nhint: set train.monitor_train: true (in the study or the "
                                 "case), or watch validation_cost\n");
    plan_free(planned(s, "monitored.yaml", MNIST_WATCHING_TRAIN_COST("true"), NULL));
#undef MNIST_WATCHING_TRAIN_COST
}

/* A name the run's own hook declares (custom_metrics) is one it can read; a
 * hook that does not say what it watches is not checked at all. */
static void test_watched_metrics_accepted(void **state)
{
    scratch *s = *state;
    copy_shipped_hook(s, "early-stopping.lua");
    test_scratch_write(s, "own.lua", "custom_metrics = {\"gap\"}\n"
                                     "function watched_metrics(args) return {args.metric} end\n"
                                     "function on_epoch_end(epoch, history, args) end\n");
    test_scratch_write(s, "unchecked.lua", "function on_epoch_end(epoch, history, args)\n"
                                           "  return history[#history].no_such_metric\n"
                                           "end\n");
    plan_free(planned(s, "own.yaml", XOR_BASE "hooks: own.lua\nhook_args: {metric: gap}\n",
                      NULL));
    plan_free(planned(s, "unchecked.yaml", XOR_BASE "hooks: unchecked.lua\n", NULL));
    plan_free(planned(s, "cost.yaml", XOR_BASE "hooks: early-stopping.lua\n"
                                               "hook_args: {metric: train_cost, minimize: true}\n",
                      NULL));
}

/* ---- gradient-check studies ---------------------------------------------- */

#define GRADCHECK_STUDY                                                            \
    "description: \"the question, small\"\n"                                       \
    "gradcheck:\n"                                                                 \
    "  matrix: question\n"                                                         \
    "  sizes: [4, 3, 2]\n"                                                         \
    "  expect:\n"                                                                  \
    "    - {hidden: relu, output: relu, cost: cross-entropy, result: FAIL}\n"

static void test_gradcheck_study_plans_no_runs(void **state)
{
    scratch *s = *state;
    const char *path = test_scratch_write(s, "gc.yaml", GRADCHECK_STUDY);
    /* a run override for every study (make experiments PLAN_ARGS=...) is not an
     * error here; a gradcheck. override reaches the matrix */
    char *overrides[] = {"train.epochs=5", "gradcheck.seed=9"};
    plan_options options = {.quick = 1, .overrides = overrides, .n_overrides = 2};
    plan_study *study = load_ok(path, &options);
    assert_int_equal(study->n_runs, 0);
    assert_int_equal(study->n_labels, 0);
    assert_non_null(study->gradcheck);
    assert_int_equal(study->n_combinations, 9);
    assert_string_equal(study->description, "the question, small");
    /* normalized: every default filled in */
    assert_string_equal(yt_get(study->gradcheck, "examples")->scalar, "8");
    assert_string_equal(yt_get(study->gradcheck, "seed")->scalar, "9");
    assert_non_null(yt_get(study->gradcheck, "epsilon"));
    assert_non_null(yt_get(study->gradcheck, "tolerance"));

    char results[256], file[512];
    snprintf(results, sizeof results, "%s/results", s->dir);
    mlp_error err = {0};
    size_t written = 99;
    assert_int_equal(plan_write(study, results, &written, &err), 0);
    assert_int_equal(written, 0);
    snprintf(file, sizeof file, "%s/gc/runs", results);
    struct stat st;
    assert_int_equal(stat(file, &st), 0);            /* empty, for `make tables` */
    assert_true(S_ISDIR(st.st_mode));

    char *mk = plan_runs_mk(study, "res/gc", &err);
    assert_non_null(mk);
    assert_contains(mk, "\ngc_RUNS :=\n\ngc_DATASETS :=\n\n.PRECIOUS: $(gc_RUNS)\ngc-runs: $(gc_RUNS)\n");
    assert_contains(mk, ".DEFAULT_GOAL := gc-runs\n");
    assert_null(strstr(mk, "$(RUN_ONE) "));
    free(mk);

    char *yaml = plan_study_yaml(study, &err);
    assert_non_null(yaml);
    assert_contains(yaml, "runs: []\n");
    assert_contains(yaml, "labels: []\n");
    assert_contains(yaml, "gradcheck:\n");
    assert_contains(yaml, "  matrix: question\n");
    assert_contains(yaml, "  sizes: [4, 3, 2]\n");
    assert_contains(yaml, "    result: FAIL\n");
    free(yaml);
    plan_free(study);

    /* extends works as for any study, and the base needs no run config */
    test_scratch_write(s, "base/gc-base.yaml", "gradcheck: {matrix: all, examples: 2}\n");
    study = planned(s, "gc2.yaml", "extends: base/gc-base.yaml\ngradcheck: {seed: 3}\n", NULL);
    assert_int_equal(study->n_runs, 0);
    assert_true(study->n_combinations > 9);
    assert_string_equal(yt_get(study->gradcheck, "examples")->scalar, "2");
    assert_string_equal(yt_get(study->gradcheck, "matrix")->scalar, "all");
    plan_free(study);
}

static void gradcheck_error(scratch *s, const char *name, const char *text, const char *at,
                            const char *message)
{
    const char *path = test_scratch_write(s, name, text);
    mlp_error err = {0};
    load_fails(path, NULL, &err);
    char expected[512];
    snprintf(expected, sizeof expected, "%s:%s: %s", path, at, message);
    if (strstr(err.message, expected) != err.message)
        fail_msg("expected '%s' at the start of: %s", expected, err.message);
    assert_contains(err.message, "\nhint: ");
}

static void test_gradcheck_study_errors(void **state)
{
    scratch *s = *state;
    gradcheck_error(s, "seeds.yaml", GRADCHECK_STUDY "seeds: 3\n", "7:1",
                    "a gradcheck study trains nothing: leave out cases/sweep/seeds/quick/"
                    "reference/report (found 'seeds')");
    gradcheck_error(s, "cases.yaml", "cases: [{label: a}]\n" GRADCHECK_STUDY, "1:1",
                    "a gradcheck study trains nothing: leave out cases/sweep/seeds/quick/"
                    "reference/report (found 'cases')");
    gradcheck_error(s, "sweep.yaml", GRADCHECK_STUDY "sweep: {train.epochs: [1, 2]}\n", "7:1",
                    "a gradcheck study trains nothing: leave out cases/sweep/seeds/quick/"
                    "reference/report (found 'sweep')");
    gradcheck_error(s, "network.yaml", "network: {sizes: [4, 3, 2]}\n" GRADCHECK_STUDY, "1:1",
                    "'network' is run config, which a gradcheck study does not use");
    gradcheck_error(s, "key.yaml", "gradcheck:\n  matrix: question\n  tolerence: 1e-4\n", "3:3",
                    "gradcheck: unknown key 'tolerence'; did you mean 'tolerance'?");
    gradcheck_error(s, "mode.yaml", "gradcheck: {matrix: al}\n", "1:21",
                    "gradcheck.matrix must be question or all, not 'al'; did you mean 'all'?");
    gradcheck_error(s, "nomode.yaml", "gradcheck: {sizes: [4, 3]}\n", "1:12",
                    "gradcheck has no matrix: (question, all)");
    gradcheck_error(s, "sizes.yaml", "gradcheck: {matrix: all, sizes: [4, -3]}\n", "1:37",
                    "gradcheck.sizes[1] must be 1 to 100000, not -3");
    /* Each in range, together hours: refused before anything runs. */
    gradcheck_error(s, "work.yaml", "gradcheck: {matrix: all, sizes: [20, 100000, 5]}\n", "1:33",
                    "gradcheck: 2600005 weights and biases and 8 examples would take hours");
    gradcheck_error(s, "examples.yaml",
                    "gradcheck: {matrix: all, sizes: [20, 100, 5], examples: 100000}\n", "1:33",
                    "gradcheck: 2605 weights and biases and 100000 examples would take hours");
    gradcheck_error(s, "act.yaml",
                    "gradcheck:\n  matrix: question\n  expect:\n"
                    "    - {hidden: relu, output: sigmoidd, cost: quadratic, result: FAIL}\n",
                    "4:30",
                    "gradcheck.expect[0].output: unknown activation 'sigmoidd'; did you mean "
                    "'sigmoid'?");
    gradcheck_error(s, "combo.yaml",
                    "gradcheck:\n  matrix: question\n  expect:\n"
                    "    - {hidden: tanh, output: sigmoid, cost: cross-entropy, result: FAIL}\n",
                    "4:7",
                    "gradcheck.expect[0]: matrix: question does not check hidden tanh, output "
                    "sigmoid, cost cross-entropy");
    gradcheck_error(s, "result.yaml",
                    "gradcheck:\n  matrix: question\n  expect:\n"
                    "    - {hidden: relu, output: relu, cost: cross-entropy, result: FAILS}\n",
                    "4:65", "gradcheck.expect[0].result must be PASS or FAIL, not 'FAILS'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_IN_SCRATCH(test_ids_ignore_how_the_config_is_written),
        TEST_IN_SCRATCH(test_written_config_reproduces_the_run_id),
        TEST_IN_SCRATCH(test_cases_times_sweep_times_seeds),
        TEST_IN_SCRATCH(test_runs_keep_their_hooks_declarations),
        TEST_IN_SCRATCH(test_sweep_without_cases_and_render),
        TEST_IN_SCRATCH(test_seeds_as_count_or_list),
        TEST_IN_SCRATCH(test_command_line_overrides),
        TEST_IN_SCRATCH(test_quick_profiles),
        TEST_IN_SCRATCH(test_unknown_key_in_a_case_points_at_the_case),
        TEST_IN_SCRATCH(test_duplicate_runs_and_labels),
        TEST_IN_SCRATCH(test_empty_cases_and_bad_shapes),
        TEST_IN_SCRATCH(test_write_if_changed),
        TEST_IN_SCRATCH(test_plan_write_files),
        TEST_IN_SCRATCH(test_runs_mk_lists_datasets),
        TEST_IN_SCRATCH(test_watched_metrics_refused_before_training),
        TEST_IN_SCRATCH(test_watched_train_metric_needs_monitor_train),
        TEST_IN_SCRATCH(test_watched_metrics_accepted),
        TEST_IN_SCRATCH(test_gradcheck_study_plans_no_runs),
        TEST_IN_SCRATCH(test_gradcheck_study_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
