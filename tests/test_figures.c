/* test_figures.c — study.yaml's report.figures: parsing, defaults, located
 * errors, the gnuplot assignments (quoting), the data files, and the label
 * filter of report_series_render they use.
 *
 * Specs are parsed from text with the origin "study.yaml", so errors read
 * "study.yaml:LINE:COL: ...". The study on disk ("demo", in a mkdtemp()
 * directory) has labels "A, 30 hidden" (seeds 1, 2; final test accuracy 0.95
 * and 0.97) and "B's" (seed 1, 0.90), and the custom metric "sparsity". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_support.h"
#include "test_runs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures.h"
#include "latex.h"
#include "measures.h"
#include "metrics.h"
#include "report_series.h"
#include "store.h"
#include "yamltree.h"

static char *const labels[] = {"A, 30 hidden", "B's"};

typedef study_fixture fixture;

/* One complete run: epochs 0..2, final test accuracy `final_test`. */
static void write_run(const fixture *f, const char *id, const char *label, unsigned long seed,
                      double final_test)
{
    const epoch_metrics rows[3] = {
        {0, 0.5, 1.0, 0.1, 1.0, 0.11, 1.0, 0.10, 0.0},
        {1, 0.5, 0.8, 0.9, 0.8, 0.9, 0.8, 0.93, 2.0},
        {2, 0.5, 0.6, 0.95, 0.7, 0.93, 0.7, final_test, 4.0},
    };
    /* two classes: 3 of 4 class-0 and all 4 class-1 test examples right;
     * the seed in the corner tells runs apart */
    const int32_t test[4] = {3, 1, 0, 4}, validation[4] = {(int32_t)seed, 0, 0, 1};
    const store_confusion matrices = {2, validation, test};
    study_fixture_write_run_confusion(f, id, label, seed, rows, 3, 0.25, 1, &matrices);
}

static const char study_yaml[] =
    "name: demo\n"
    "labels: [\"A, 30 hidden\", \"B's\"]\n"
    "runs:\n"
    "  - {id: a1, label: \"A, 30 hidden\", seed: 1}\n"
    "  - {id: a2, label: \"A, 30 hidden\", seed: 2}\n"
    "  - {id: b1, label: \"B's\", seed: 1}\n"
    "report:\n"
    "  figures:\n"
    "    - {plot: metric-vs-epoch, metric: test_accuracy, seeds: true, xmax: 1}\n"
    "    - {plot: final-errorbars, metric: best_validation_accuracy}\n"
    "    - plot: cost-vs-epoch\n"
    "      metric: sparsity\n"
    "      label: \"B's\"\n"
    "      name: sparsity-b\n";

static void write_runs(const fixture *f)
{
    write_run(f, "a2", "A, 30 hidden", 2, 0.97);
    write_run(f, "a1", "A, 30 hidden", 1, 0.95);
    write_run(f, "b1", "B's", 1, 0.90);
}

static int setup(void **state)
{
    return study_fixture_start(state, "figures", "demo", write_runs, study_yaml);
}

/* Parses a whole study.yaml text's report.figures against `labels`; with
 * study non-NULL its runs' metrics are checked too. Returns the status. */
static int parse(const char *text, const report_study *study, figure_list *list, mlp_error *err)
{
    yt_node *root = yt_parse_string(text, "study.yaml", err);
    if (root == NULL)
        fail_msg("test YAML does not parse: %s", err->message);
    int rc = figures_parse(yt_get(root, "report.figures"), "demo", labels, 2, study, list, err);
    yt_free(root);
    return rc;
}

/* The figures of a study.yaml text (parse), which must be accepted; free
 * them with figure_list_free. */
static figure_list parsed(const char *text, const report_study *study)
{
    figure_list list = {0};
    mlp_error err = {0};
    if (parse(text, study, &list, &err) != MLP_OK)
        fail_msg("refused:\n%s\n%s", text, err.message);
    return list;
}

/* Writes the data files of list's first n figures, which must have runs. */
static void write_data(const report_study *study, const figure_list *list, size_t n)
{
    mlp_error err = {0};
    for (size_t i = 0; i < n; i++) {
        assert_true(figures_has_runs(study, &list->figures[i]));
        if (figures_write_data(study, &list->figures[i], 0.95, &err) != MLP_OK)
            fail_msg("figures_write_data: %s", err.message);
    }
}

/* The figures of the study's own study.yaml (figures_load), which must be
 * accepted. */
static figure_list loaded(const report_study *study)
{
    figure_list list = {0};
    mlp_error err = {0};
    if (figures_load(study, &list, &err) != MLP_OK)
        fail_msg("figures_load: %s", err.message);
    return list;
}

/* The error a spec gives: status 3, located at the first occurrence of
 * `marker` in the text ("study.yaml:LINE:COL:"), with `message` in it. */
static void expect_error(const char *text, const report_study *study, const char *marker,
                         const char *message)
{
    const char *at = strstr(text, marker);
    if (at == NULL)
        fail_msg("marker '%s' is not in the test text", marker);
    unsigned line = 1;
    const char *line_start = text;
    for (const char *p = text; p < at; p++)
        if (*p == '\n') {
            line++;
            line_start = p + 1;
        }
    char where[64];
    snprintf(where, sizeof where, "study.yaml:%u:%u: ", line, (unsigned)(at - line_start) + 1);

    figure_list list = {0};
    mlp_error err = {0};
    int rc = parse(text, study, &list, &err);
    if (rc != MLP_ERR_CONFIG)
        fail_msg("expected an error at %s(%s), got status %d: %s", where, message, rc,
                 err.message);
    assert_int_equal(list.count, 0);
    assert_null(list.figures);
    if (strncmp(err.message, where, strlen(where)) != 0)
        fail_msg("expected the error at %s, got:\n%s", where, err.message);
    assert_contains(err.message, message);
}

/* A spec that must be refused (expect_error): the study.yaml text, the marker
 * where the error is located, and what the message says. */
typedef struct figure_refusal {
    const char *text, *marker, *message;
} figure_refusal;

/* expect_error for each of cases[0..n), against study (may be NULL). */
static void expect_errors(const figure_refusal *cases, size_t n, const report_study *study)
{
    for (size_t i = 0; i < n; i++)
        expect_error(cases[i].text, study, cases[i].marker, cases[i].message);
}

/* ---- parsing -------------------------------------------------------------- */

/* A study.yaml text whose report.figures is the one figure `item` (flow YAML). */
#define ITEM(item) "report:\n  figures:\n    - " item "\n"

static void test_defaults_without_report_figures(void **state)
{
    (void)state;
    figure_list list = parsed("name: demo\nreport: {table: {metrics: [test_accuracy]}}\n", NULL);
    assert_int_equal(list.count, 3);
    const figure_spec *a = &list.figures[0], *c = &list.figures[1], *f = &list.figures[2];
    assert_int_equal(a->plot, FIGURE_METRIC_VS_EPOCH);
    assert_string_equal(a->name, "test_accuracy");
    assert_string_equal(a->title, "demo: test accuracy");
    assert_string_equal(a->ylabel, "test accuracy (%)");
    assert_true(a->scale == 100.0);
    assert_string_equal(c->name, "train_cost");
    assert_string_equal(c->metric, "train_cost");
    assert_true(c->scale == 1.0);
    assert_int_equal(f->plot, FIGURE_FINAL_ERRORBARS);
    assert_string_equal(f->name, "final_test_accuracy");
    assert_string_equal(f->metric, "test_accuracy");
    assert_null(f->label);
    assert_int_equal(f->logy, -1);
    figure_list_free(&list);
}

static void test_valid_spec_and_its_defaults(void **state)
{
    (void)state;
    static const char text[] =
        "report:\n"
        "  figures:\n"
        "    - plot: metric-vs-epoch\n"
        "      metric: validation_accuracy\n"
        "      seeds: true\n"
        "      xmax: 5\n"
        "      points: 0\n"
        "    - plot: cost-vs-epoch\n"
        "      metric: train_cost\n"
        "      label: \"B's\"\n"
        "      name: cost-b\n"
        "      logy: 1\n"
        "      ymin: 0.001\n"
        "      keypos: top left\n"
        "      xlabel: gradient steps\n"
        "    - {plot: final-errorbars, metric: best_validation_accuracy, title: Best,\n"
        "       ylabel: best (%), scale: 1, logy: false, ymax: 1}\n"
        "    - {plot: final-errorbars, metric: test_accuracy}\n";
    figure_list list = parsed(text, NULL);
    assert_int_equal(list.count, 4);

    const figure_spec *s = &list.figures[0];
    assert_int_equal(s->plot, FIGURE_METRIC_VS_EPOCH);
    assert_string_equal(s->name, "validation_accuracy");
    assert_string_equal(s->title, "demo: validation accuracy");
    assert_string_equal(s->ylabel, "validation accuracy (%)");
    assert_true(s->scale == 100.0);
    assert_int_equal(s->seeds, 1);
    assert_true(s->has_xmax && s->xmax == 5.0 && !s->has_xmin);
    assert_true(s->has_points && s->points == 0);
    assert_null(s->xlabel);
    assert_null(s->keypos);

    s = &list.figures[1];
    assert_int_equal(s->plot, FIGURE_COST_VS_EPOCH);
    assert_string_equal(s->name, "cost-b");
    assert_string_equal(s->label, "B's");
    assert_string_equal(s->title, "demo: training cost, B's");
    assert_string_equal(s->ylabel, "training cost");
    assert_true(s->scale == 1.0);
    assert_int_equal(s->logy, 1);
    assert_true(s->has_ymin && s->ymin == 0.001);
    assert_string_equal(s->keypos, "top left");
    assert_string_equal(s->xlabel, "gradient steps");

    s = &list.figures[2];
    assert_string_equal(s->name, "final_best_validation_accuracy");
    assert_string_equal(s->title, "Best");
    assert_string_equal(s->ylabel, "best (%)");
    assert_true(s->scale == 1.0);
    assert_int_equal(s->logy, 0);
    assert_string_equal(list.figures[3].name, "final_test_accuracy");
    assert_string_equal(list.figures[3].title, "demo: final test accuracy");
    assert_string_equal(list.figures[3].ylabel, "test accuracy (%)");
    assert_int_equal(list.figures[3].seeds, 1);     /* a final value shows its seeds */
    figure_list_free(&list);

    /* Every metric of measures.h gets a reader's label and unit, never its
     * field name: no '_' in a default title or y label; a custom metric is
     * named as it is. */
    for (size_t i = 0; i < measures_count; i++) {
        const measure *row = &measures_table[i];
        for (int final = 0; final <= 1; final++) {
            if (!final && !row->per_epoch)
                continue;
            char one[256];
            snprintf(one, sizeof one, "name: demo\nreport: {figures: [{plot: %s, metric: %s}]}\n",
                     final ? "final-errorbars" : "metric-vs-epoch", row->name);
            list = parsed(one, NULL);
            if (strchr(list.figures[0].title, '_') != NULL ||
                strchr(list.figures[0].ylabel, '_') != NULL)
                fail_msg("%s: title '%s', y label '%s'", row->name, list.figures[0].title,
                         list.figures[0].ylabel);
            assert_non_null(strstr(list.figures[0].ylabel, row->label));
            figure_list_free(&list);
        }
    }
    list = parsed("name: demo\nreport: {figures: [{plot: metric-vs-epoch, metric: "
                  "sparsity}]}\n", NULL);
    assert_string_equal(list.figures[0].ylabel, "sparsity");
    figure_list_free(&list);

    /* An empty list: no figures at all. */
    list = parsed("report: {figures: []}\n", NULL);
    assert_int_equal(list.count, 0);
    figure_list_free(&list);
}

/* Specs refused without runs to check them against (test case
 * test_errors_are_located). */
static const figure_refusal located_errors[] = {
    {ITEM("{plot: metric-vs-epoch, metric: test_accuracy, titel: x}"), "titel",
     "unknown key 'titel' in report.figures[0]; did you mean 'title'?"},
    {ITEM("{plot: metric-vs-epoch, metric: test_accuracy, colour: red}"), "colour",
     "hint: the keys of a figure are: plot, metric, name, label"},
    {ITEM("{metric: test_accuracy}"), "{metric", "report.figures[0] has no plot"},
    {ITEM("{plot: histogram, metric: test_accuracy}"), "histogram", "unknown plot 'histogram'"},
    {ITEM("{plot: histogram, metric: test_accuracy}"), "histogram",
     "hint: plot is one of: metric-vs-epoch, final-errorbars, cost-vs-epoch"},
    {ITEM("{plot: cost-vs-epoch}"), "{plot", "report.figures[0] has no metric"},
    {ITEM("{plot: cost-vs-epoch, metric: train_cost, name: ../evil}"), "../evil",
     "'../evil' is not a figure name"},
    {ITEM("{plot: cost-vs-epoch, metric: train_cost, name: .hidden}"), ".hidden",
     "'.hidden' is not a figure name"},
    {ITEM("{plot: cost-vs-epoch, metric: train_cost, label: C}"), "C}", "no label 'C' in demo"},
    {ITEM("{plot: cost-vs-epoch, metric: train_cost, label: C}"), "C}",
     "hint: the labels of demo are: 'A, 30 hidden', 'B's'"},
    {ITEM("{plot: cost-vs-epoch, metric: train_cost, keypos: \"top; system('x')\"}"), "\"top",
     "keypos 'top; system('x')' holds a character"},
    {ITEM("{plot: cost-vs-epoch, metric: train_cost, keypos: \"top `x`\"}"), "\"top",
     "holds a character"},
    {ITEM("{plot: final-errorbars, metric: test_accuracy, summary: mode}"), "mode",
     "unknown summary 'mode'"},
    {ITEM("{plot: final-errorbars, metric: test_accuracy, size: a4}"), "a4", "unknown size 'a4'"},
    /* Axes stay within the metric's bounds: no accuracy above 100 %. */
    {ITEM("{plot: metric-vs-epoch, metric: test_accuracy, ymax: 120}"), "120",
     "ymax (120) lies above the highest value test_accuracy can take (100"},
    {ITEM("{plot: final-errorbars, metric: test_accuracy, ymin: -5}"), "-5",
     "ymin (-5) lies below the lowest value"},
    {ITEM("{plot: cost-vs-epoch, metric: test_accuracy, seeds: true}"), "seeds",
     "seeds does not apply to plot: cost-vs-epoch"},
    {ITEM("{plot: final-errorbars, metric: test_accuracy, xmax: 5}"), "xmax",
     "xmax does not apply to plot: final-errorbars"},
    {ITEM("{plot: confusion, metric: test_accuracy, label: B's}"), "test_accuracy",
     "'test_accuracy' is not a confusion matrix of the run file"},
    {ITEM("{plot: confusion, metric: test_accuracy, label: B's}"), "test_accuracy",
     "hint: metric is the matrix's path in the run file: "
     "confusion/final/test, confusion/final/validation"},
    {ITEM("{plot: confusion, metric: confusion/final/test}"), "{plot",
     "report.figures[0] has no label"},
    {ITEM("{plot: confusion, metric: confusion/final/test, label: C}"), "C}",
     "no label 'C' in demo"},
    {ITEM("{plot: confusion, metric: confusion/final/test, label: B's, xmax: 3}"), "xmax",
     "xmax does not apply to plot: confusion"},
    {ITEM("{plot: confusion, metric: confusion/final/test, label: B's, seed: -1}"), "-1",
     "seed must not be negative"},
    {ITEM("{plot: metric-vs-epoch, metric: test_accuracy, seed: 2}"), "seed",
     "seed does not apply to plot: metric-vs-epoch"},
    {ITEM("{plot: metric-vs-epoch, metric: best_validation_accuracy}"), "best_validation_accuracy",
     "'best_validation_accuracy' is one number per run"},
    /* best_test_accuracy is a per-run measure too (measures.h), so it is refused here, located. */
    {ITEM("{plot: metric-vs-epoch, metric: best_test_accuracy}"), "best_test_accuracy",
     "'best_test_accuracy' is one number per run"},
    {ITEM("{plot: metric-vs-epoch, metric: test_accuracy, ymin: 95, ymax: 90}"), "90}",
     "ymax (90) must be greater than ymin (95)"},
    {ITEM("{plot: metric-vs-epoch, metric: test_accuracy, xmin: 3, xmax: 3}"), "3}",
     "xmax (3) must be greater than xmin (3)"},
    {ITEM("{plot: metric-vs-epoch, metric: test_accuracy, logy: maybe}"), "maybe",
     "report.figures[0].logy must be 0, 1, true or false"},
    {ITEM("{plot: metric-vs-epoch, metric: test_accuracy, logy: 1, ymin: 0}"), "0}",
     "a logarithmic y axis needs ymin > 0"},
    {ITEM("{plot: metric-vs-epoch, metric: test_accuracy, scale: percent}"), "percent",
     "report.figures[0].scale"},
    {ITEM("{plot: metric-vs-epoch, metric: test_accuracy, scale: 0}"), "0}", "scale must not be 0"},
    {ITEM("{plot: metric-vs-epoch, metric: test_accuracy, ymax: .inf}"), ".inf",
     "report.figures[0].ymax"},
    {ITEM("{plot: metric-vs-epoch, metric: test_accuracy, points: -1}"), "-1",
     "points must lie between 0 and 1000000"},
    {ITEM("{plot: metric-vs-epoch, metric: test_accuracy, title: [a]}"), "[a]",
     "report.figures[0].title must be a string"},
    {ITEM("metric-vs-epoch"), "metric-vs-epoch", "report.figures[0] must be a mapping"},
    {ITEM("{plot: cost-vs-epoch, metric: \"a b\"}"), "\"a b\"",
     "the metric 'a b' cannot name the figure's file"},
    {"report: {figures: {plot: cost-vs-epoch}}\n", "{plot",
     "report.figures must be a list of figures"},
    /* The second of two same-named figures is the one pointed at. */
    {"report:\n  figures:\n"
     "    - {plot: metric-vs-epoch, metric: test_accuracy}\n"
     "    - {plot: cost-vs-epoch, metric: train_cost, name: \"test_accuracy\"}\n",
     "\"test_accuracy\"", "two figures are named 'test_accuracy'"},
    {"report:\n  figures:\n"
     "    - {plot: final-errorbars, metric: test_accuracy}\n"
     "    - {plot: cost-vs-epoch, metric: test_accuracy}\n"
     "    - {plot: final-errorbars, metric: test_accuracy, title: again}\n",
     "{plot: final-errorbars, metric: test_accuracy, title",
     "two figures are named 'final_test_accuracy'"},
    {"report:\n  figures:\n"
     "    - {plot: metric-vs-epoch, metric: test_accuracy, seeds: true, name: x}\n"
     "    - {plot: cost-vs-epoch, metric: train_cost, name: x-seeds}\n", "x-seeds",
     "figures 'x' and 'x-seeds' would write the same data file"},
};

static void test_errors_are_located(void **state)
{
    (void)state;
    expect_errors(located_errors, sizeof located_errors / sizeof located_errors[0], NULL);
}

/* With run files, a metric must be one the runs have. */
static void test_metric_must_exist_when_there_are_runs(void **state)
{
    report_study *study = study_fixture_load(*state);
    expect_error(ITEM("{plot: cost-vs-epoch, metric: sparsty}"), study,
                 "sparsty", "no run of demo has the metric 'sparsty'");
    figure_list list =
        parsed(ITEM("{plot: cost-vs-epoch, metric: sparsity}"), study);
    figure_list_free(&list);
    /* Without runs there is nothing to check a custom metric against. */
    list = parsed(ITEM("{plot: cost-vs-epoch, metric: sparsty}"), NULL);
    figure_list_free(&list);
    report_study_free(study);
}

/* figures_load reads study.yaml itself, so errors name its real path. */
static void test_load_reports_the_file_position(void **state)
{
    const fixture *f = *state;
    report_study *study = study_fixture_load(f);
    mlp_error err = {0};
    figure_list list = loaded(study);
    assert_int_equal(list.count, 3);
    assert_string_equal(list.figures[2].name, "sparsity-b");
    figure_list_free(&list);
    report_study_free(study);

    char where[300];
    study_fixture_write_manifest(f, "name: demo\nreport:\n  figures:\n    - {plot: cost-vs-epoch, metric: x, "
                     "lable: A}\n");
    study = study_fixture_load(f);
    assert_int_equal(figures_load(study, &list, &err), MLP_ERR_CONFIG);
    snprintf(where, sizeof where, "%s/study.yaml:4:40: unknown key 'lable'", f->study);
    assert_contains(err.message, where);
    assert_contains(err.message, "did you mean 'label'?");
    /* The offending line and a caret follow. */
    assert_contains(err.message, "- {plot: cost-vs-epoch, metric: x, lable: A}\n");
    report_study_free(study);
}

/* ---- output --------------------------------------------------------------- */

/* figures_gnuplot_quote: one single-quoted gnuplot string, control
 * characters as spaces (test case test_gnuplot_quote). */
static const char *const gnuplot_quote_cases[][2] = {
    {"it's `rm -rf ~` @x \"y\"\\n\n\t\x7f;", "'it''s `rm -rf ~` @x \"y\"\\n   ;'"},
    {"", "''"},
    {"''", "''''''"},
};

/* Count of c in text. */
static size_t count_char(const char *text, char c)
{
    size_t n = 0;
    for (; *text; text++)
        n += *text == c;
    return n;
}

static void test_line_quotes_everything_from_the_study(void **state)
{
    const fixture *f = *state;
    report_study *study = study_fixture_load(f);
    mlp_error err = {0};
    figure_list list = parsed("report:\n  figures:\n"
                              "    - plot: metric-vs-epoch\n"
                              "      metric: test_accuracy\n"
                              "      title: \"it's `touch pwned`; system('x') @m\\n\\tend\"\n"
                              "      ylabel: \"a'b\"\n"
                              "      xlabel: x\n"
                              "      keypos: top left\n"
                              "      seeds: true\n"
                              "      ymin: 0.1\n"
                              "      xmax: 5\n"
                              "      points: 3\n"
                              "      logy: true\n", study);
    char *line = NULL;
    assert_int_equal(figures_line(study, &list.figures[0], 0.95, &line, &err), MLP_OK);
    char expected[2048];
    snprintf(expected, sizeof expected,
             "metric-vs-epoch\t%s/figures/test_accuracy\t"
             "data='%s/series/test_accuracy.dat'; seeds_data='%s/series/test_accuracy-seeds.dat'; "
             "metric='test_accuracy'; title='it''s `touch pwned`; system(''x'') @m  end'; "
             "ylabel='a''b'; xlabel='x'; keypos='top left'; scale=100; logy=1; ymin=0.1; xmax=5; "
             "points=3; confidence=0.95; ybound_low=0; ybound_high=100; paper='column'; "
             "latex_ylabel='a''b'; latex_xlabel='x'; array latex_labels = ['A, 30 hidden', 'B''s']",
             f->study, f->study, f->study);
    assert_string_equal(line, expected);
    /* Exactly three fields, one line. */
    assert_int_equal(count_char(line, '\t'), 2);
    assert_null(strchr(line, '\n'));
    free(line);
    figure_list_free(&list);

    /* A directory the stem cannot carry. */
    char *saved = study->dir;
    study->dir = "results/it's";
    list = parsed("report: {figures: [{plot: cost-vs-epoch, metric: train_cost}]}\n", NULL);
    assert_int_equal(figures_line(study, &list.figures[0], 0.95, &line, &err), MLP_ERR_USAGE);
    assert_null(line);
    assert_contains(err.message, "holds a quote");
    study->dir = saved;
    figure_list_free(&list);
    report_study_free(study);
}

static void test_write_data_and_has_runs(void **state)
{
    const fixture *f = *state;
    report_study *study = study_fixture_load(f);
    figure_list list = loaded(study);
    write_data(study, &list, list.count);
    char *text = study_fixture_read(f, "series/test_accuracy.dat");
    assert_contains(text, "\"A, 30 hidden\"\n0 0.1 0.1 0.1 2 0.1 0.1 0.1\n");
    assert_contains(text, "\"B's\"\n0 0.1 NaN NaN 1 0.1 0.1 0.1\n");
    free(text);
    text = study_fixture_read(f, "series/test_accuracy-seeds.dat");
    assert_contains(text, "# label: B's; seed: 1\n0 0.1 1 1\n");
    free(text);
    text = study_fixture_read(f, "series/final_best_validation_accuracy.dat");
    assert_contains(text, "\"A, 30 hidden\" 0.93 0.93 0.93 2 NaN 0.93 0.93 0.93\n"
                          "\"B's\" 0.93 NaN NaN 1 NaN 0.93 0.93 0.93\n");
    free(text);
    /* A final value's figure draws every seed: one row per run. */
    text = study_fixture_read(f, "series/final_best_validation_accuracy-seeds.dat");
    assert_contains(text, "# columns: label_index value seed ordinal\n0 0.93 1 0\n0 0.93 2 1\n"
                          "1 0.93 1 0\n");
    free(text);
    /* The label filter: only B's block. */
    text = study_fixture_read(f, "series/sparsity-b.dat");
    assert_contains(text, "# label: B's\n\"B's\"\n0 0.25 NaN NaN 1 0.25 0.25 0.25\n");
    assert_null(strstr(text, "A, 30 hidden"));
    free(text);

    /* A label without complete runs has nothing to draw. */
    figure_spec none = list.figures[2];
    none.label = "C";
    assert_false(figures_has_runs(study, &none));
    figure_list_free(&list);
    report_study_free(study);
}

/* plot: confusion draws one run's matrix, in % of each true class. */
static void test_confusion_figure(void **state)
{
    const fixture *f = *state;
    report_study *study = study_fixture_load(f);
    mlp_error err = {0};
    const char *text = "report:\n  figures:\n"
                       "    - {plot: confusion, metric: confusion/final/test, label: \"A, 30 hidden\"}\n"
                       "    - {plot: confusion, metric: confusion/final/validation, "
                       "label: \"A, 30 hidden\", seed: 2}\n"
                       "    - {plot: confusion, metric: confusion/final/test, label: B's, seed: 7}\n";
    figure_list list = parsed(text, study);
    assert_int_equal(list.count, 3);
    assert_string_equal(list.figures[0].name, "confusion-final-test-a-30-hidden");
    assert_string_equal(list.figures[1].name, "confusion-final-validation-a-30-hidden-seed2");
    assert_contains(list.figures[1].title, "validation confusion matrix (final), A, 30 hidden, seed 2");
    assert_false(figures_has_runs(study, &list.figures[2]));      /* there is no seed 7 */
    write_data(study, &list, 2);
    char *data = study_fixture_read(f, "series/confusion-final-test-a-30-hidden.dat");
    assert_contains(data, "# /confusion/final/test of A, 30 hidden, seed 1, epoch 2\n");
    assert_contains(data, "\n75 25\n0 100\n");                     /* rows = true class */
    free(data);
    data = study_fixture_read(f, "series/confusion-final-validation-a-30-hidden-seed2.dat");
    assert_contains(data, "seed 2,");
    assert_contains(data, "\n100 0\n0 100\n");
    free(data);
    char *line = NULL;
    assert_int_equal(figures_line(study, &list.figures[0], 0.95, &line, &err), MLP_OK);
    assert_contains(line, "confusion\t");
    assert_contains(line, "; metric='confusion/final/test'");
    free(line);
    figure_list_free(&list);
    report_study_free(study);
}

/* A run with /diagnostics of two layers: layer K's saturated fraction is
 * K / 10 + epoch / 100 (K = 1, 2). */
static void write_diagnostics_run(const fixture *f, const char *id, const char *label,
                                  unsigned long seed)
{
    const epoch_metrics rows[3] = {
        {0, 0.5, 1.0, 0.1, 1.0, 0.11, 1.0, 0.10, 0.0},
        {1, 0.5, 0.8, 0.9, 0.8, 0.9, 0.8, 0.93, 2.0},
        {2, 0.5, 0.6, 0.95, 0.7, 0.93, 0.7, 0.95, 4.0},
    };
    layer_diagnostics layers[2 * 2];
    for (int e = 1; e <= 2; e++)
        for (int k = 1; k <= 2; k++)
            layers[(e - 1) * 2 + k - 1] = (layer_diagnostics){k / 10.0 + e / 100.0, 0.5, 0.5, 0.5};
    study_fixture_write_run_parts(f, id, label, seed, rows, 3, 0.25, 1, NULL, layers, 2);
}

/* Diagnostics figures refused against the runs of test_diagnostics_figure. */
static const figure_refusal diagnostics_mistakes[] = {
    {ITEM("{plot: diagnostics-vs-epoch, metric: saturated_fraction}"), "{plot",
     "has neither layer nor label"},
    {ITEM("{plot: diagnostics-vs-epoch, metric: saturation, layer: 1}"), "saturation",
     "'saturation' is not a /diagnostics field"},
    {ITEM("{plot: diagnostics-vs-epoch, metric: layer2_mean_abs_delta, label: B's}"), "layer2",
     "hint: write metric: mean_abs_delta, layer: 2"},
    {ITEM("{plot: diagnostics-vs-epoch, metric: mean_abs_delta, layer: 0}"), "0}",
     "layer must lie between 1 and 16"},
    {ITEM("{plot: diagnostics-vs-epoch, metric: mean_abs_delta, layer: 3}"), "mean_abs_delta",
     "no run of demo has the metric 'layer3_mean_abs_delta'"},
    {ITEM("{plot: diagnostics-vs-epoch, metric: mean_abs_delta, label: B's, seeds: true}"),
     "seeds", "seeds does not apply to one curve per layer"},
    {ITEM("{plot: metric-vs-epoch, metric: test_accuracy, layer: 2}"), "layer",
     "layer does not apply to plot: metric-vs-epoch"},
};

/* plot: diagnostics-vs-epoch: with layer: K, that layer of every label (as
 * metric-vs-epoch draws layerK_FIELD); without, one curve per layer of the
 * label. Labels, units and bounds from the diagnostics rows of measures.h. */
static void test_diagnostics_figure(void **state)
{
    const fixture *f = *state;
    write_diagnostics_run(f, "a1", "A, 30 hidden", 1);
    write_diagnostics_run(f, "a2", "A, 30 hidden", 2);
    report_study *study = study_fixture_load(f);
    mlp_error err = {0};
    const char *text = "report:\n  figures:\n"
                       "    - {plot: diagnostics-vs-epoch, metric: saturated_fraction, layer: 2,"
                       " seeds: true}\n"
                       "    - {plot: diagnostics-vs-epoch, metric: saturated_fraction,"
                       " label: \"A, 30 hidden\"}\n";
    figure_list list = parsed(text, study);
    assert_int_equal(list.count, 2);
    const figure_spec *by_label = &list.figures[0], *by_layer = &list.figures[1];
    assert_string_equal(by_label->metric, "layer2_saturated_fraction");
    assert_string_equal(by_label->name, "layer2_saturated_fraction");
    assert_string_equal(by_label->title, "demo: saturated fraction, layer 2");
    assert_string_equal(by_label->ylabel, "saturated fraction");
    assert_string_equal(by_layer->metric, "saturated_fraction");
    assert_string_equal(by_layer->name, "saturated_fraction-a-30-hidden");
    assert_string_equal(by_layer->title, "demo: saturated fraction per layer, A, 30 hidden");
    double low, high;
    figures_y_bounds(by_layer, &low, &high);
    assert_true(low == 0.0 && high == 1.0);     /* a fraction */
    write_data(study, &list, 2);
    char *data = study_fixture_read(f, "series/saturated_fraction-a-30-hidden.dat");
    /* two seeds of the same values: the mean and a zero-width interval */
    assert_contains(data, "# layer 1\n\"layer 1\"\n0 NaN NaN NaN 0");
    assert_contains(data, "\n1 0.11 0.11 0.11 2 0.11 0.11 0.11\n2 0.12 0.12 0.12 2 ");
    assert_contains(data, "\n\n\n# layer 2\n\"layer 2\"\n0 NaN NaN NaN 0");
    assert_contains(data, "\n2 0.22 0.22 0.22 2 ");
    assert_null(strstr(data, "layer 3"));
    free(data);
    data = study_fixture_read(f, "series/layer2_saturated_fraction.dat");
    assert_contains(data, "\"A, 30 hidden\"\n0 NaN NaN NaN 0");
    assert_contains(data, "\n1 0.21 0.21 0.21 2 ");
    free(data);
    char *line = NULL;
    assert_int_equal(figures_line(study, by_layer, 0.95, &line, &err), MLP_OK);
    assert_contains(line, "diagnostics-vs-epoch\t");
    assert_contains(line, "; ybound_low=0; ybound_high=1");
    assert_contains(line, "array latex_labels = ['layer 1', 'layer 2']");
    free(line);
    figure_list_free(&list);

    /* Mistakes, located. */
    expect_errors(diagnostics_mistakes,
                  sizeof diagnostics_mistakes / sizeof diagnostics_mistakes[0], study);
    report_study_free(study);
}

static void test_series_label_filter(void **state)
{
    report_study *study = study_fixture_load(*state);
    char *text = NULL;
    mlp_error err = {0};
    assert_int_equal(report_series_render(study, "test_accuracy", 0.95, REPORT_SERIES, "B's",
                                          &text, &err), MLP_OK);
    assert_string_equal(text, "# mlplab series: demo, metric test_accuracy, confidence 0.95\n"
                              "# label: B's\n\"B's\"\n0 0.1 NaN NaN 1 0.1 0.1 0.1\n"
                              "1 0.93 NaN NaN 1 0.93 0.93 0.93\n2 0.9 NaN NaN 1 0.9 0.9 0.9\n");
    free(text);
    /* Seeds of the second label: label_index 0, as its block is the only one. */
    assert_int_equal(report_series_render(study, "test_accuracy", 0.95, REPORT_SEEDS, "B's",
                                          &text, &err), MLP_OK);
    assert_string_equal(text, "# mlplab series: demo, metric test_accuracy, one block per run\n"
                              "# label: B's; seed: 1\n0 0.1 0 1\n1 0.93 0 1\n2 0.9 0 1\n");
    free(text);
    assert_int_equal(report_series_render(study, "test_accuracy", 0.95, REPORT_SEEDS,
                                          "A, 30 hidden", &text, &err), MLP_OK);
    assert_contains(text, "seed: 2\n0 0.1 0 2\n");
    assert_null(strstr(text, "B's"));
    free(text);
    assert_int_equal(report_series_render(study, "test_accuracy", 0.95, REPORT_FINAL, "B's", &text,
                                          &err), MLP_OK);
    assert_contains(text, "# columns: label mean ci_low ci_high n reference median min max\n"
                          "\"B's\" 0.9 NaN NaN 1 NaN 0.9 0.9 0.9\n");
    assert_null(strstr(text, "A, 30 hidden"));
    free(text);
    /* NULL: every label, as before. */
    assert_int_equal(report_series_render(study, "test_accuracy", 0.95, REPORT_FINAL, NULL, &text,
                                          &err), MLP_OK);
    assert_contains(text, "\"A, 30 hidden\" 0.96 ");
    assert_contains(text, "\"B's\" 0.9 ");
    free(text);
    assert_int_equal(report_series_render(study, "test_accuracy", 0.95, REPORT_SERIES, "C", &text,
                                          &err), MLP_ERR_USAGE);
    assert_null(text);
    assert_contains(err.message, "no label 'C'");
    assert_contains(err.message, "its labels are: 'A, 30 hidden', 'B's'");
    report_study_free(study);
}

/* Texts for LaTeX (table.tex, the .tex figures): the ten specials escaped,
 * the characters the studies use as macros plain pdflatex has (test case
 * test_latex_escape). */
static const char *const latex_escape_cases[][2] = {
    {"test accuracy (%)", "test accuracy (\\%)"},
    {"η_CE & 3 × η, #1 $x$ {a} ~b^c \\d",
     "\\ensuremath{\\eta}\\_CE \\& 3 \\ensuremath{\\times} \\ensuremath{\\eta}, \\#1 "
     "\\$x\\$ \\{a\\} \\textasciitilde{}b\\textasciicircum{}c \\textbackslash{}d"},
    {"96.00 ± 1.00 — −2", "96.00 \\ensuremath{\\pm} 1.00 --- \\ensuremath{-}2"},
    {"two\nlines\tand é", "two lines and é"},
};

/* figures_slug: a file-name part of a label (test case test_slug). */
static const char *const slug_cases[][2] = {
    {"quadratic, start (2, 2)", "quadratic-start-2-2"},
    {"Cross-Entropy η=0.5", "cross-entropy-0.5"},
    {"..hidden", "hidden"},
    {"'; rm -rf /", "rm-rf"},
    {"", "label"},
    {"***", "label"},
};

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_without_report_figures),
        cmocka_unit_test(test_valid_spec_and_its_defaults),
        cmocka_unit_test(test_errors_are_located),
        TEST_IN_STUDY(test_metric_must_exist_when_there_are_runs, setup),
        TEST_IN_STUDY(test_load_reports_the_file_position, setup),
        TEST_TEXT_CASES(test_gnuplot_quote, figures_gnuplot_quote, gnuplot_quote_cases),
        TEST_IN_STUDY(test_line_quotes_everything_from_the_study, setup),
        TEST_IN_STUDY(test_write_data_and_has_runs, setup),
        TEST_IN_STUDY(test_series_label_filter, setup),
        TEST_TEXT_CASES(test_latex_escape, latex_escape, latex_escape_cases),
        TEST_IN_STUDY(test_confusion_figure, setup),
        TEST_IN_STUDY(test_diagnostics_figure, setup),
        TEST_TEXT_CASES(test_slug, figures_slug, slug_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
