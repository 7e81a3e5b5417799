/* test_study.c — every kind of mistake in a study's reference: and report:
 * blocks (and its quick: block, and a gradient-check study's) is refused by
 * plan_load, before anything trains, with the study
 * file's line and column, the line itself, a caret, and a did-you-mean or a
 * hint; and what is right passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plan.h"

/* Two labels on MNIST, which records every metric (plan reads no data, so
 * none is needed). Line 8 is the first line of what a test appends. */
#define STUDY                                                                              \
    "# MNIST by name: every part, classes\n"                                               \
    "dataset: {name: mnist, train_size: 100, validation_size: 100, test_size: 100}\n"      \
    "network: {sizes: [784, 3, 10], activation: sigmoid, output: sigmoid}\n"               \
    "train: {epochs: 2, batch_size: 2, learning_rate: 3, monitor_output: true}\n"          \
    "cases:\n"                                                                             \
    "  - {label: cross-entropy, cost: cross-entropy}\n"                                    \
    "  - {label: quadratic, cost: quadratic}\n"

/* Inline XOR data (no test part) on a [2, 3, 1] network, TRAIN its train: mapping. */
#define XOR_WITH(TRAIN)                                                                    \
    TEST_XOR_DATASET                                                                       \
    "network: {sizes: [2, 3, 1]}\n"                                                         \
    "train: " TRAIN "\n"

/* plan_load of demo.yaml (in the scratch directory) holding text. */
static int plan_text(test_scratch *s, const char *text, const plan_options *options,
                     plan_study **study, mlp_error *err)
{
    char path[128];
    snprintf(path, sizeof path, "%s/demo.yaml", s->dir);
    test_write_text(path, text);
    return plan_load(path, options, study, err);
}

/* plan_load of STUDY followed by tail. */
static int plan_with(test_scratch *s, const char *tail, plan_study **study, mlp_error *err)
{
    char *text = test_joined(STUDY, tail);
    int rc = plan_text(s, text, NULL, study, err);
    free(text);
    return rc;
}

/* plan_load of STUDY + tail must fail with MLP_ERR_CONFIG; the message must
 * hold "demo.yaml:POSITION: ", the offending line, a caret under the column,
 * and `expected`. */
static void refused(test_scratch *s, const char *tail, const char *position, const char *line,
                    const char *expected)
{
    plan_study *study = NULL;
    mlp_error err = {0};
    int rc = plan_with(s, tail, &study, &err);
    if (rc == MLP_OK)
        fail_msg("plan_load accepted:\n%s", tail);
    assert_int_equal(rc, MLP_ERR_CONFIG);
    assert_null(study);
    char where[64];
    snprintf(where, sizeof where, "demo.yaml:%s: ", position);
    assert_contains(err.message, where);
    assert_contains(err.message, line);
    /* The caret sits under the column the position names. */
    unsigned column = (unsigned)atoi(strchr(position, ':') + 1);
    const char *caret = strstr(err.message, "\n  ");
    assert_non_null(caret);
    caret = strchr(caret + 1, '\n');
    assert_non_null(caret);
    const char *mark = strchr(caret + 1, '^');
    assert_non_null(mark);
    assert_int_equal((unsigned)(mark - caret - 1), column - 1 + 2);
    assert_contains(err.message, expected);
}

static void accepted(test_scratch *s, const char *tail)
{
    plan_study *study = NULL;
    mlp_error err = {0};
    if (plan_with(s, tail, &study, &err) != MLP_OK)
        fail_msg("plan_load refused:\n%s\n%s", tail, err.message);
    plan_free(study);
}

/* plan_load of a whole study file `text` (as demo.yaml) must succeed; `what`
 * says what it shows in the failure message. */
static void accepted_file(test_scratch *s, const char *text, const char *what)
{
    plan_study *study = NULL;
    mlp_error err = {0};
    if (plan_text(s, text, NULL, &study, &err) != MLP_OK)
        fail_msg("plan_load refused %s:\n%s", what, err.message);
    plan_free(study);
}

static void test_a_right_report_passes(void **state)
{
    accepted(*state,
             "reference: [{label: quadratic, best_test_accuracy: 0.9, source: x},\n"
             "            {label: cross-entropy, metric: test_accuracy, value: 0.95}]\n"
             "report:\n"
             "  table: {metrics: [test_accuracy, best_test_accuracy, train_output]}\n"
             "  figures: [{plot: final-errorbars, metric: best_test_accuracy, label: quadratic}]\n"
             "  compare: [[cross-entropy, quadratic]]\n"
             "  check:\n"
             "    tolerance: 0.02\n"
             "    expect: [{label: quadratic, metric: test_accuracy, of: max, min: 0.5}]\n"
             "    exempt: [{label: cross-entropy, reason: two epochs}]\n");
}

static void test_table_mistakes(void **state)
{
    refused(*state, "report:\n  table: {metrics: [test_acuracy]}\n", "9:21",
            "  table: {metrics: [test_acuracy]}",
            "report.table.metrics names no metric 'test_acuracy'; did you mean 'test_accuracy'?");
    refused(*state, "report:\n  table: {metrics: [sparsity]}\n", "9:21", "[sparsity]",
            "no run of this study has one");
    refused(*state, "report:\n  table: {metric: [test_accuracy]}\n", "9:11", "{metric:",
            "unknown key 'metric' in report.table; did you mean 'metrics'?");
    refused(*state, "report:\n  table: {metrics: test_accuracy}\n", "9:20", "metrics:",
            "report.table.metrics must be a list");
    refused(*state, "report:\n  tabel: {metrics: [test_accuracy]}\n", "9:3", "tabel",
            "unknown key 'tabel' in report; did you mean 'table'?");
}

/* The layerK_* metrics exist only in runs with train.diagnostics; a
 * confusion figure's metric is a matrix's path in the run file. */
static void test_diagnostics_and_confusion_names(void **state)
{
    test_scratch *s = *state;
    refused(s, "report:\n  table: {metrics: [layer2_mean_abs_delta]}\n", "9:21",
            "[layer2_mean_abs_delta]",
            "no run of demo records layer2_mean_abs_delta: train.diagnostics is false");
    accepted(s, "report:\n  figures: [{plot: confusion, metric: confusion/final/test, "
                "label: quadratic, seed: 1}]\n");
    refused(s, "report:\n  figures: [{plot: confusion, metric: confusion/final/tset, "
               "label: quadratic}]\n", "9:39", "confusion/final/tset",
            "is not a confusion matrix of the run file");
    refused(s, "report:\n  figures: [{plot: diagnostics-vs-epoch, metric: mean_abs_delta, "
               "layer: 2}]\n", "9:20", "diagnostics-vs-epoch",
            "report.figures[0]: no run of demo records /diagnostics: train.diagnostics is false");
    accepted_file(s,
                  XOR_WITH("{epochs: 2, batch_size: 2, diagnostics: true}")
                  "report:\n"
                  "  table: {metrics: [layer2_mean_abs_delta, layer1_saturated_fraction]}\n"
                  "  figures: [{plot: diagnostics-vs-epoch, metric: mean_abs_delta, layer: 2},\n"
                  "            {plot: diagnostics-vs-epoch, metric: saturated_fraction, label: demo}]\n"
                  "  check: {expect: [{label: demo, metric: layer2_mean_abs_delta, min: 0}]}\n",
                  "the diagnostics' metrics");
}

static void test_figure_mistakes(void **state)
{
    refused(*state, "report:\n  figures: [{plot: metric-vs-epoch, metric: test_acuracy}]\n",
            "9:45", "metric: test_acuracy",
            "report.figures[0].metric names no metric 'test_acuracy'; did you mean "
            "'test_accuracy'?");
    refused(*state, "report:\n  figures: [{plot: metric-vs-epoch, metric: best_test_accuracy}]\n",
            "9:45", "best_test_accuracy", "'best_test_accuracy' is one number per run");
    refused(*state, "report:\n  figures: [{plot: metric-vs-epoch, metric: test_accuracy, titel: x}]\n",
            "9:60", "titel", "unknown key 'titel' in report.figures[0]; did you mean 'title'?");
    refused(*state, "report:\n  figures: [{plot: metric-vs-epok, metric: test_accuracy}]\n",
            "9:20", "metric-vs-epok", "unknown plot 'metric-vs-epok'");
    refused(*state, "report:\n  figures: [{plot: cost-vs-epoch, metric: train_cost, label: quadratik}]\n",
            "9:62", "label: quadratik",
            "no label 'quadratik' in demo; did you mean 'quadratic'?");
}

static void test_compare_mistakes(void **state)
{
    refused(*state, "report:\n  compare: [[cross-entropy, quadratc]]\n", "9:29", "quadratc]]",
            "report.compare names no label 'quadratc' of demo; did you mean 'quadratic'?");
    refused(*state, "report:\n  compare: [[cross-entropy]]\n", "9:13", "[[cross-entropy]]",
            "report.compare items must be pairs of labels");
    refused(*state, "report:\n  compare: [cross-entropy, quadratic]\n", "9:13", "[cross-entropy",
            "report.compare items must be pairs of labels");
}

static void test_check_mistakes(void **state)
{
    refused(*state,
            "report:\n  check:\n    expect: [{label: quadratic, metric: test_acuracy, min: 0.5}]\n",
            "10:41", "metric: test_acuracy",
            "report.check.expect names no metric 'test_acuracy'; did you mean 'test_accuracy'?");
    refused(*state,
            "report:\n  check:\n    expect: [{label: quadratik, metric: test_accuracy, min: 0.5}]\n",
            "10:22", "label: quadratik",
            "report.check.expect names no label 'quadratik' of demo; did you mean 'quadratic'?");
    refused(*state,
            "report:\n  check:\n    expect: [{label: quadratic, metric: test_accuracy, minimum: 0.5}]\n",
            "10:56", "minimum",
            "unknown key 'minimum' in report.check.expect");
    refused(*state, "report:\n  check:\n    tolerence: 0.01\n", "10:5", "tolerence",
            "unknown key 'tolerence' in report.check; did you mean 'tolerance'?");
    refused(*state, "report:\n  check:\n    exempt: [{label: quadratik, reason: slow}]\n", "10:22",
            "quadratik", "report.check.exempt names no label 'quadratik' of demo; did you mean "
                         "'quadratic'?");
    refused(*state, "report:\n  check:\n    quick: perhaps\n", "10:12", "perhaps",
            "report.check.quick");
}

static void test_reference_mistakes(void **state)
{
    refused(*state, "reference: [{label: quadratik, test_accuracy: 0.95}]\n", "8:21",
            "label: quadratik",
            "reference[0] names no label 'quadratik' of demo; did you mean 'quadratic'?");
    refused(*state, "reference: [{label: quadratic, test_acuracy: 0.95}]\n", "8:32",
            "test_acuracy: 0.95",
            "reference[0] names no metric 'test_acuracy'; did you mean 'test_accuracy'?");
    refused(*state, "reference: [{label: quadratic, metric: best_test_acuracy, value: 0.95}]\n",
            "8:32", "metric: best_test_acuracy",
            "reference[0] names no metric 'best_test_acuracy'; did you mean 'best_test_accuracy'?");
}

/* Claims that could never hold: refused, not left to fail after training. */
static void test_claims_that_cannot_hold(void **state)
{
    refused(*state,
            "report:\n  check:\n    expect: [{label: quadratic, metric: train_cost, min: 5, max: 1}]\n",
            "10:66", "max: 1", "report.check.expect.max (1) is below its min (5)");
    refused(*state,
            "report:\n  check:\n    expect: [{label: quadratic, metric: test_accuracy, min: 95}]\n",
            "10:61", "min: 95",
            "report.check.expect.min is 95, but test_accuracy lies between 0 and 1");
    refused(*state, "reference: [{label: quadratic, test_accuracy: 95.49, source: x}]\n", "8:47",
            "95.49", "reference[0].test_accuracy is 95.49, but test_accuracy lies between 0 and 1");
    refused(*state,
            "reference: [{label: quadratic, train_cost: 0.1},\n"
            "            {label: quadratic, train_cost: 0.2}]\n",
            "9:32", "train_cost: 0.2",
            "reference[1] gives 'quadratic' a second published train_cost (reference[0]");
    refused(*state, "report:\n  compare: [[quadratic, quadratic]]\n", "9:25", "quadratic]]",
            "report.compare[0] compares 'quadratic' with itself");
    refused(*state,
            "report:\n  figures: [{plot: confusion, metric: confusion/final/test, label: quadratic, "
            "seed: 2}]\n",
            "9:85", "seed: 2", "report.figures[0].seed: no run of demo has seed 2");
}

/* plan_load of a whole study file `text` (as demo.yaml) must fail with
 * MLP_ERR_CONFIG and a message holding each of the NULL-ended `expected`. */
static void refused_file(test_scratch *s, const char *text, const plan_options *options, ...)
{
    plan_study *study = NULL;
    mlp_error err = {0};
    assert_int_equal(plan_text(s, text, options, &study, &err), MLP_ERR_CONFIG);
    assert_null(study);
    va_list ap;
    va_start(ap, options);
    for (const char *expected; (expected = va_arg(ap, const char *)) != NULL;)
        assert_contains(err.message, expected);
    va_end(ap);
}

/* Layer K of /diagnostics must exist: a [2, 3, 1] network has 2. */
static void test_diagnostics_layers_exist(void **state)
{
    refused_file(*state,
                 XOR_WITH("{epochs: 2, batch_size: 2, diagnostics: true}")
                 "report: {figures: [{plot: diagnostics-vs-epoch, metric: mean_abs_delta, layer: 3}]}\n",
                 NULL, "demo.yaml:5:80: report.figures[0].layer: layer 3",
                 "with train.diagnostics has more than 2 layers", NULL);
    refused_file(*state,
                 XOR_WITH("{epochs: 2, batch_size: 2, diagnostics: true}")
                 "report: {table: {metrics: [layer3_mean_abs_delta]}}\n",
                 NULL, "demo.yaml:5:28: report.table.metrics: layer 3",
                 "with train.diagnostics has more than 2 layers", NULL);
}

#define MNIST_WITH(DATASET, TRAIN)                                                         \
    "dataset: {name: mnist, " DATASET "}\n"                                                  \
    "network: {sizes: [784, 3, 10]}\n"                                                       \
    "train: " TRAIN "\n"

/* A metric the study's runs cannot record (measures.h's needs) is refused,
 * with why and what to set; one its runs record passes. */
static void test_metrics_the_runs_cannot_record(void **state)
{
    const char *xor = XOR_WITH("{epochs: 2, batch_size: 2}");
    char text[1024];
    snprintf(text, sizeof text, "%sreport: {table: {metrics: [train_cost, test_accuracy]}}\n", xor);
    refused_file(*state, text, NULL,
                 "demo.yaml:5:40: report.table.metrics: no run of demo records test_accuracy: "
                 "inline data has no test part", "hint: report what the training set gives",
                 NULL);
    snprintf(text, sizeof text, "%sreport: {figures: [{plot: final-errorbars, metric: "
             "train_accuracy}]}\n", xor);
    refused_file(*state, text, NULL, "demo.yaml:5:52: report.figures[0].metric: no run of demo "
                 "records train_accuracy: inline data has no classes", NULL);
    snprintf(text, sizeof text, "%sreport: {figures: [{plot: confusion, metric: "
             "confusion/final/test, label: demo}]}\n", xor);
    refused_file(*state, text, NULL, "demo.yaml:5:46: report.figures[0]: the runs of 'demo' do "
                 "not record confusion matrices: inline data has no test part", NULL);
    snprintf(text, sizeof text, "%sreport: {table: {metrics: [train_output]}}\n", xor);
    refused_file(*state, text, NULL, "no run of demo records train_output: train.monitor_output "
                 "is false", "hint: set train.monitor_output: true", NULL);
    refused_file(*state,
                 MNIST_WITH("validation_size: 0", "{epochs: 2}")
                 "report: {table: {metrics: [best_validation_accuracy]}}\n", NULL,
                 "demo.yaml:4:28: report.table.metrics: no run of demo records "
                 "best_validation_accuracy: dataset.validation_size is 0", NULL);
    refused_file(*state,
                 MNIST_WITH("test_size: 0", "{epochs: 2}")
                 "reference: [{label: demo, test_accuracy: 0.9}]\n", NULL,
                 "demo.yaml:4:27: reference[0]: the runs of 'demo' do not record test_accuracy: "
                 "dataset.test_size is 0", NULL);
    /* A claim is about its label's runs; a table column needs some label's. */
    const char *two_cases = MNIST_WITH("train_size: 100", "{epochs: 2}")
        "cases:\n"
        "  - {label: monitored}\n"
        "  - {label: unmonitored, train.monitor_train: false}\n";
    snprintf(text, sizeof text, "%sreport:\n  check: {expect: [{label: unmonitored, metric: "
             "train_cost, max: 1}]}\n", two_cases);
    refused_file(*state, text, NULL, "demo.yaml:8:49: report.check.expect: the runs of "
                 "'unmonitored' do not record train_cost: train.monitor_train is false",
                 "hint: set train.monitor_train: true", NULL);
    snprintf(text, sizeof text, "%sreport:\n  table: {metrics: [train_cost]}\n"
             "  check: {expect: [{label: monitored, metric: train_cost, max: 1}]}\n", two_cases);
    accepted_file(*state, text, "what one label records");
}

/* Custom metrics: a name is one a run's hook declares (custom_metrics), for
 * the runs it is asked of; plan loads the hooks to learn the names. */
static void write_custom_hooks(test_scratch *s)
{
    test_scratch_write(s, "gap.lua", "custom_metrics = {\"generalization_gap\"}\n"
                                     "function on_epoch_end(epoch, history, args) end\n");
    test_scratch_write(s, "named.lua", "function custom_metrics(args) return {args.name} end\n");
    test_scratch_write(s, "schedule.lua", "function learning_rate(e, h, args) return 0.1 end\n");
}

static void test_custom_metric_mistakes(void **state)
{
    test_scratch *s = *state;
    write_custom_hooks(s);
    accepted(s, "hooks: gap.lua\n"
                "reference: [{label: quadratic, generalization_gap: 0.01}]\n"
                "report:\n"
                "  table: {metrics: [test_accuracy, generalization_gap]}\n"
                "  figures: [{plot: metric-vs-epoch, metric: generalization_gap}]\n"
                "  check: {expect: [{label: quadratic, metric: generalization_gap, max: 0.5}]}\n");
    /* The misspelt name in each place a report names a metric, with the
     * declared name suggested. */
    refused(s, "hooks: gap.lua\nreport:\n  table: {metrics: [generalisation_gap]}\n", "10:21",
            "  table: {metrics: [generalisation_gap]}",
            "report.table.metrics names no metric 'generalisation_gap'; did you mean "
            "'generalization_gap'?");
    refused(s, "hooks: gap.lua\nreport:\n  figures: [{plot: metric-vs-epoch, metric: "
               "generalisation_gap}]\n", "10:45", "metric: generalisation_gap",
            "report.figures[0].metric names no metric 'generalisation_gap'; did you mean "
            "'generalization_gap'?");
    refused(s, "hooks: gap.lua\nreport:\n  check: {expect: [{label: quadratic, metric: "
               "generalisation_gap, max: 0.5}]}\n", "10:47", "metric: generalisation_gap",
            "report.check.expect names no metric 'generalisation_gap'; did you mean "
            "'generalization_gap'?");
    refused(s, "hooks: gap.lua\nreference: [{label: quadratic, generalisation_gap: 0.01}]\n",
            "9:32", "generalisation_gap: 0.01",
            "reference[0] names no metric 'generalisation_gap'; did you mean "
            "'generalization_gap'?");
    /* The hint lists what the hooks declare; a hook declaring none says so. */
    refused_file(s, STUDY "hooks: gap.lua\nreport: {table: {metrics: [sparsity]}}\n", NULL,
                 "demo.yaml:9:28: report.table.metrics names no metric 'sparsity'\n",
                 "and the custom metrics this study's hooks declare: generalization_gap", NULL);
    refused_file(s, STUDY "hooks: schedule.lua\nreport: {table: {metrics: [generalization_gap]}}\n",
                 NULL, "demo.yaml:9:28: report.table.metrics names no metric 'generalization_gap'",
                 "a hook declares in custom_metrics (docs/hooks.md): no hook of this study "
                 "declares one", NULL);
    /* A name declared by a function of hook_args is the one the args give. */
    accepted(s, "hooks: named.lua\nhook_args: {name: slow_start}\n"
                "report: {table: {metrics: [slow_start]}}\n");
    refused(s, "hooks: named.lua\nhook_args: {name: slow_start}\n"
               "report: {table: {metrics: [slow_strat]}}\n", "10:28", "[slow_strat]",
            "report.table.metrics names no metric 'slow_strat'; did you mean 'slow_start'?");
    /* A claim is about its label's runs: their hook must declare the name;
     * a table column needs some label's. */
    const char *two_cases = MNIST_WITH("train_size: 100", "{epochs: 2}")
        "cases:\n"
        "  - {label: hooked, hooks: gap.lua}\n"
        "  - {label: plain}\n";
    char text[1024];
    snprintf(text, sizeof text, "%sreport:\n  check: {expect: [{label: plain, metric: "
             "generalization_gap, max: 1}]}\n", two_cases);
    refused_file(s, text, NULL, "demo.yaml:8:43: report.check.expect: the runs of 'plain' have "
                 "no hook that declares the custom metric 'generalization_gap'", NULL);
    snprintf(text, sizeof text, "%sreport:\n  table: {metrics: [generalization_gap]}\n"
             "  check: {expect: [{label: hooked, metric: generalization_gap, max: 1}]}\n",
             two_cases);
    accepted_file(s, text, "what one label's hook declares");
    /* A hook that declares a built-in name stops the plan at the hooks: line. */
    test_scratch_write(s, "builtin.lua", "custom_metrics = {\"test_accuracy\"}\n");
    refused(s, "hooks: builtin.lua\n", "8:8", "hooks: builtin.lua",
            "custom_metrics[1], the string \"test_accuracy\", is a built-in metric's name");
}

/* Reports that would repeat themselves, or draw or claim past the runs' epochs. */
static void test_repeats_and_epochs(void **state)
{
    refused(*state, "report:\n  table: {metrics: [test_accuracy, test_accuracy]}\n", "9:36",
            "test_accuracy]}", "report.table.metrics names test_accuracy twice");
    refused(*state, "report:\n  table: {metrics: []}\n", "9:20", "[]}",
            "report.table.metrics is empty");
    refused(*state, "report:\n  compare: [[cross-entropy, quadratic], [quadratic, cross-entropy]]\n",
            "9:41", "[quadratic, cross-entropy]",
            "report.compare[1] compares 'quadratic' and 'cross-entropy' again (report.compare[0])");
    refused(*state, "report:\n  figures: [{plot: metric-vs-epoch, metric: test_accuracy, xmax: 0}]\n",
            "9:66", "xmax: 0", "report.figures[0].xmax is 0: no epoch lies below it");
    refused(*state, "report:\n  figures: [{plot: metric-vs-epoch, metric: test_accuracy, xmin: 2}]\n",
            "9:66", "xmin: 2", "report.figures[0].xmin is 2, but the runs it draws end at epoch 2");
    refused(*state,
            "report:\n  check:\n    expect: [{label: quadratic, metric: best_validation_epoch, "
            "min: 3}]\n",
            "10:69", "min: 3",
            "report.check.expect.min is 3, but the runs of 'quadratic' end at epoch 2: the claim "
            "can never hold");
    refused(*state, "reference: [{label: quadratic, best_validation_epoch: 5}]\n", "8:55", "5}]",
            "reference[0].best_validation_epoch is 5, but the runs of 'quadratic' end at epoch 2");
    refused(*state, "report:\n  check:\n    exempt: [{label: quadratic, reason: slow}]\n", "10:22",
            "label: quadratic", "report.check.exempt: 'quadratic' has no reference: to exempt");
    /* The quick profile's fewer epochs do not refuse the full one's range. */
    accepted(*state, "quick: {train.epochs: 1}\n"
                     "report:\n  figures: [{plot: metric-vs-epoch, metric: test_accuracy, xmin: 1}]\n");
    /* report.compare compares final test accuracies: inline data has none. */
    refused_file(*state,
                 XOR_WITH("{epochs: 2, batch_size: 2}")
                 "cases:\n  - {label: a}\n  - {label: b, train.learning_rate: 1}\n"
                 "report: {compare: [[a, b]]}\n", NULL,
                 "demo.yaml:8:21: report.compare: the runs of 'a' do not record test_accuracy "
                 "(report.compare compares its final values): inline data has no test part", NULL);
}

/* The quick: block is checked by a plain plan, the full study by --quick. */
static void test_both_profiles_checked(void **state)
{
    refused(*state, "quick: {train.epocs: 1}\n", "8:9", "train.epocs",
            "unknown key 'train.epocs'; did you mean 'epochs'?");
    refused(*state, "quick: {seeds: many}\n", "8:16", "many", "seeds must be an integer");
    const plan_options quick = {.quick = 1};
    refused_file(*state, XOR_WITH("{epochs: 0}") "quick: {train.epochs: 1}\n", &quick,
                 "demo.yaml:4:17: train.epochs must be at least 1",
                 "note: in the full profile (mlplab plan without --quick)", NULL);
}

/* A gradient-check study's table is the matrix: no reference or report. */
static void test_gradcheck_has_no_report(void **state)
{
    refused_file(*state, "gradcheck: {matrix: question}\nreport: {table: {metrics: [train_cost]}}\n",
                 NULL, "demo.yaml:2:1: a gradcheck study trains nothing", "(found 'report')", NULL);
    refused_file(*state, "gradcheck: {matrix: question}\nreference: [{label: demo, train_cost: 0.1}]\n",
                 NULL, "demo.yaml:2:1: a gradcheck study trains nothing", "(found 'reference')",
                 NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_IN_SCRATCH(test_a_right_report_passes),
        TEST_IN_SCRATCH(test_custom_metric_mistakes),
        TEST_IN_SCRATCH(test_table_mistakes),
        TEST_IN_SCRATCH(test_figure_mistakes),
        TEST_IN_SCRATCH(test_diagnostics_and_confusion_names),
        TEST_IN_SCRATCH(test_compare_mistakes),
        TEST_IN_SCRATCH(test_check_mistakes),
        TEST_IN_SCRATCH(test_reference_mistakes),
        TEST_IN_SCRATCH(test_claims_that_cannot_hold),
        TEST_IN_SCRATCH(test_diagnostics_layers_exist),
        TEST_IN_SCRATCH(test_metrics_the_runs_cannot_record),
        TEST_IN_SCRATCH(test_repeats_and_epochs),
        TEST_IN_SCRATCH(test_both_profiles_checked),
        TEST_IN_SCRATCH(test_gradcheck_has_no_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
