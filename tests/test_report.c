/* test_report.c — the comparison table and the gnuplot data files, from tiny
 * run files written with the store API into a mkdtemp() study directory.
 *
 * The study "demo" has label "A, 30 hidden" with seeds 1..3 (final test accuracy
 * 0.95, 0.96, 0.97), label `B "q" & 50%` with one seed, a .partial run of A
 * whose accuracy (0.10) would drag the mean down if it were averaged in, and a
 * run study.yaml lists that has no file. Expected values by hand:
 *   A: mean 0.96, sd 0.01, se 0.01/sqrt(3), t(0.975; 2) = 4.302652729911275,
 *      CI 0.96 -/+ 0.0248414 = [0.9351586, 0.9848414] -> "[93.52, 98.48]";
 *      published 0.9549 is inside: difference +0.51 points, "yes".
 *   best validation per run 0.94, 0.95, 0.96 at epoch 1 (mean 95.00 ± 1.00),
 *   test accuracy there 0.93; final training cost 0.5, 0.6, 0.7; seconds per
 *   epoch (2 + 4)/2 = 3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_support.h"
#include "test_runs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "measures.h"
#include "metrics.h"
#include "report_series.h"
#include "report_table.h"
#include "store.h"

static const double t_975_df2 = 4.302652729911275;

typedef study_fixture fixture;

/* Writes one run: epochs 0..2 with the given final test accuracy, best
 * validation `best_val` at epoch 1. finish = 0 leaves a .partial file. */
static void write_run(const fixture *f, const char *id, const char *label, unsigned long seed,
                      double final_test, double best_val, double final_cost, int finish)
{
    const epoch_metrics rows[3] = {
        {0, 0.5, 1.0, 0.1, 1.0, 0.11, 1.0, 0.10, 0.0},
        {1, 0.5, 0.8, 0.9, 0.8, best_val, 0.8, 0.93, 2.0},
        {2, 0.5, final_cost, 0.95, 0.7, 0.93, 0.7, final_test, 4.0},
    };
    study_fixture_write_run(f, id, label, seed, rows, 3, 0.25 * (double)seed, finish);
}

static const char study_yaml[] =
    "name: demo\n"
    "description: A tiny study for the tests.\n"
    "labels: [\"A, 30 hidden\", 'B \"q\" & 50%']\n"
    "seeds: [1, 2, 3]\n"
    "runs:\n"
    "  - {id: a1, label: \"A, 30 hidden\", seed: 1}\n"
    "  - {id: a2, label: \"A, 30 hidden\", seed: 2}\n"
    "  - {id: a3, label: \"A, 30 hidden\", seed: 3}\n"
    "  - {id: a4, label: \"A, 30 hidden\", seed: 4}\n"
    "  - {id: b1, label: 'B \"q\" & 50%', seed: 1}\n"
    "  - {id: b2, label: 'B \"q\" & 50%', seed: 2}\n"
    "reference:\n"
    "  - {label: \"A, 30 hidden\", test_accuracy: 0.9549, source: \"Nielsen, ch. 3\"}\n"
    "  - {label: 'B \"q\" & 50%', test_accuracy: 0.99}\n"
    "report:\n"
    "  compare: [[\"A, 30 hidden\", 'B \"q\" & 50%']]\n";

static void write_runs(const fixture *f)
{
    /* Written in an order unlike the sorted one, to check the sorting. */
    write_run(f, "a3", "A, 30 hidden", 3, 0.97, 0.96, 0.7, 1);
    write_run(f, "a1", "A, 30 hidden", 1, 0.95, 0.94, 0.5, 1);
    write_run(f, "a2", "A, 30 hidden", 2, 0.96, 0.95, 0.6, 1);
    write_run(f, "a4", "A, 30 hidden", 4, 0.10, 0.10, 9.0, 0);    /* stays .partial */
    write_run(f, "b1", "B \"q\" & 50%", 1, 0.90, 0.91, 0.4, 1);
}

static int setup(void **state)
{
    return study_fixture_start(state, "report", "demo", write_runs, study_yaml);
}

/* The study's table in format, at confidence (the caller frees it); fails the
 * test if it cannot be rendered. */
static char *rendered(const report_study *study, double confidence, report_format format)
{
    char *text = NULL;
    mlp_error err = {0};
    if (report_table_render(study, confidence, format, &text, &err) != MLP_OK)
        fail_msg("report_table_render: %s", err.message);
    return text;
}

/* As rendered, of the fixture's study read afresh. */
static char *rendered_afresh(const fixture *f, double confidence, report_format format)
{
    report_study *study = study_fixture_load(f);
    char *text = rendered(study, confidence, format);
    report_study_free(study);
    return text;
}

static void test_study_loads_complete_runs_only(void **state)
{
    report_study *study = study_fixture_load(*state);
    assert_string_equal(study->name, "demo");
    assert_int_equal(study->label_count, 2);
    assert_string_equal(study->labels[0], "A, 30 hidden");
    assert_string_equal(study->labels[1], "B \"q\" & 50%");
    assert_int_equal(study->run_count, 4);               /* a1 a2 a3 b1; not a4 */
    assert_int_equal(study->runs[0].data.seed, 1);       /* sorted by seed */
    assert_int_equal(study->runs[2].data.seed, 3);
    assert_string_equal(study->runs[3].data.label, "B \"q\" & 50%");
    assert_int_equal(study->reference_count, 2);
    assert_string_equal(study->references[0].metric, "test_accuracy");
    assert_true(fabs(study->references[0].value - 0.9549) < 1e-15);
    assert_int_equal(study->compare_count, 1);
    /* One note for the .partial, one for b2 that has no file at all. */
    assert_int_equal(study->note_count, 2);
    assert_contains(study->notes[0], "a4.h5.partial");
    assert_contains(study->notes[0], "incomplete");
    assert_contains(study->notes[1], "b2.h5");
    assert_contains(study->notes[1], "missing");
    report_study_free(study);
}

/* A complete file of a run the study no longer has (its case was edited) is
 * not averaged in with the current runs, and a note says so. */
static void test_runs_of_an_earlier_study_are_left_out(void **state)
{
    const fixture *f = *state;
    write_run(f, "old1", "A, 30 hidden", 1, 0.10, 0.10, 9.0, 1);
    report_study *study = study_fixture_load(f);
    assert_int_equal(study->run_count, 4);               /* still a1 a2 a3 b1 */
    for (size_t i = 0; i < study->run_count; i++)
        assert_string_not_equal(study->runs[i].file_name, "old1.h5");
    assert_int_equal(study->note_count, 3);
    assert_contains(study->notes[1], "1 file in runs/ belongs to no run of the current study");
    report_study_free(study);
    char path[512];
    snprintf(path, sizeof path, "%s/runs/old1.h5", f->study);
    assert_int_equal(remove(path), 0);
}

static void test_run_values(void **state)
{
    report_study *study = study_fixture_load(*state);
    const run_file *run = &study->runs[1].data;        /* a2 */
    assert_true(fabs(measures_run_value(run, "test_accuracy") - 0.96) < 1e-15);
    assert_true(fabs(measures_run_value(run, "best_validation_accuracy") - 0.95) < 1e-15);
    assert_true(measures_run_value(run, "best_validation_epoch") == 1.0);
    assert_true(fabs(measures_run_value(run, "test_accuracy_at_best_validation") - 0.93) < 1e-15);
    assert_true(fabs(measures_run_value(run, "train_cost") - 0.6) < 1e-15);
    assert_true(measures_run_value(run, "seconds_per_epoch") == 3.0);
    assert_true(measures_run_value(run, "sparsity") == 0.5);
    assert_true(isnan(measures_run_value(run, "no_such_metric")));
    assert_true(report_metric_known(study, "sparsity"));
    assert_false(report_metric_known(study, "no_such_metric"));
    report_study_free(study);
}

static void test_markdown_table_numbers(void **state)
{
    char *md = rendered_afresh(*state, 0.95, REPORT_MARKDOWN);
    /* Mean ± sd, CI, published, difference, in CI; then the other columns. */
    assert_contains(md, "| A, 30 hidden | 3 | 96.00 ± 1.00 | [93.52, 98.48] | 95.49 | +0.51 | yes "
                        "| 95.00 ± 1.00 | 1.0 ± 0.0 | 93.00 ± 0.00 | 0.6 ± 0.1 | 3 ± 0 |");
    /* One seed: no sd, no CI, so "in CI" is not defined either. */
    assert_contains(md, "| B \"q\" & 50% | 1 | 90.00 | — | 99.00 | -9.00 | — |");
    assert_contains(md, "| label | seeds | test accuracy (%) | 95% CI | published | difference "
                        "| in CI | best validation accuracy (%) |");
    assert_contains(md, "Not included: runs/a4.h5.partial (A, 30 hidden, seed 4) is incomplete");
    assert_contains(md, "Not included: runs/b2.h5 (B \"q\" & 50%, seed 2) is missing");
    assert_contains(md, "Published test accuracy for A, 30 hidden: 95.49 % (Nielsen, ch. 3).");
    assert_contains(md, "- A, 30 hidden − B \"q\" & 50%: +6.00 points (96.00 vs 90.00, n = 3 vs 1); "
                        "p not defined");
    free(md);
}

static void test_csv_numbers_match_hand_computation(void **state)
{
    char *csv = rendered_afresh(*state, 0.95, REPORT_CSV);
    assert_contains(csv, "label,seeds,test_accuracy_mean,test_accuracy_sd,test_accuracy_ci_low,"
                         "test_accuracy_ci_high,test_accuracy_n,test_accuracy_published,");
    const char *row = strstr(csv, "\n\"A, 30 hidden\",3,");
    assert_non_null(row);
    double mean, sd, low, high;
    assert_int_equal(sscanf(row + strlen("\n\"A, 30 hidden\",3,"), "%lf,%lf,%lf,%lf", &mean, &sd,
                            &low, &high), 4);
    double half = t_975_df2 * 0.01 / sqrt(3.0);
    assert_true(fabs(mean - 0.96) < 1e-8);
    assert_true(fabs(sd - 0.01) < 1e-8);
    assert_true(fabs(low - (0.96 - half)) < 1e-8);
    assert_true(fabs(high - (0.96 + half)) < 1e-8);
    assert_contains(csv, "\n\"B \"\"q\"\" & 50%\",1,0.9,NaN,NaN,NaN,1,0.99,");
    free(csv);
}

static void test_files_are_written_and_deterministic(void **state)
{
    const fixture *f = *state;
    report_study *study = study_fixture_load(f);
    mlp_error err = {0};
    char *md = NULL;
    assert_int_equal(report_table_write(study, 0.95, f->study, &md, &err), MLP_OK);
    char *first_md = study_fixture_read(f, "table.md");
    assert_string_equal(first_md, md);
    char *first_tex = study_fixture_read(f, "table.tex");
    assert_contains(first_tex, "\\toprule");
    assert_contains(first_tex, "B \"q\" \\& 50\\% & 1 & 90.00 & --- &");
    assert_contains(first_tex, "96.00 \\ensuremath{\\pm} 1.00");
    free(md);
    report_study_free(study);

    study = study_fixture_load(f);
    assert_int_equal(report_table_write(study, 0.95, f->study, NULL, &err), MLP_OK);
    char *second_md = study_fixture_read(f, "table.md");
    char *second_tex = study_fixture_read(f, "table.tex");
    assert_string_equal(first_md, second_md);
    assert_string_equal(first_tex, second_tex);
    free(first_md);
    free(second_md);
    free(first_tex);
    free(second_tex);
    report_study_free(study);
}

static void test_table_metrics_select_columns(void **state)
{
    const fixture *f = *state;
    study_fixture_write_manifest(f, "name: demo\nlabels: [\"A, 30 hidden\"]\n"
                     "report: {table: {metrics: [sparsity, train_cost]}}\n");
    char *md = rendered_afresh(f, 0.9, REPORT_MARKDOWN);
    assert_contains(md, "| label | seeds | sparsity (final) | final training cost |\n");
    assert_contains(md, "| A, 30 hidden | 3 | 0.5 ± 0.25 | 0.6 ± 0.1 |");
    /* B is not in study.yaml's labels: it follows them, from its run file. */
    assert_contains(md, "| B \"q\" & 50% | 1 | 0.25 | 0.4 |");
    assert_contains(md, "90% CI");
    free(md);

    study_fixture_write_manifest(f, "name: demo\nreport: {table: {metrics: [nonsense]}}\n");
    report_study *study = study_fixture_load(f);
    mlp_error err = {0};
    md = NULL;
    assert_int_equal(report_table_render(study, 0.95, REPORT_MARKDOWN, &md, &err), MLP_ERR_CONFIG);
    assert_null(md);
    assert_contains(err.message, "nonsense");
    report_study_free(study);
}

/* Fails unless got and want have the same lines, and within a line the same
 * space-separated words, where words that both read as numbers may differ by
 * up to tolerance. */
static void assert_same_lines_numerically(const char *got, const char *want, double tolerance)
{
    const char *g = got, *w = want;
    while (*g != '\0' || *w != '\0') {
        size_t gn = strcspn(g, " \n"), wn = strcspn(w, " \n");
        char *gend, *wend;
        double gv = strtod(g, &gend), wv = strtod(w, &wend);
        int numbers = gn > 0 && wn > 0 && gend == g + gn && wend == w + wn;
        if (numbers ? !(fabs(gv - wv) <= tolerance || (isnan(gv) && isnan(wv)))
                    : (gn != wn || memcmp(g, w, gn) != 0 || g[gn] != w[wn]))
            fail_msg("differs at\n  %.40s\nexpected\n  %.40s\nin\n%s", g, w, got);
        if (numbers && g[gn] != w[wn])
            fail_msg("differs after %.*s in\n%s", (int)gn, g, got);
        g += gn + (g[gn] != '\0');
        w += wn + (w[wn] != '\0');
    }
}

static void test_series_file_format(void **state)
{
    report_study *study = study_fixture_load(*state);
    char *text = NULL;
    mlp_error err = {0};
    assert_int_equal(report_series_render(study, "test_accuracy", 0.95, REPORT_SERIES, NULL, &text,
                                          &err), MLP_OK);
    double half = t_975_df2 * 0.01 / sqrt(3.0);
    char expected[2048];
    snprintf(expected, sizeof expected,
             "# mlplab series: demo, metric test_accuracy, confidence 0.95\n"
             "# label: A, 30 hidden\n"
             "\"A, 30 hidden\"\n"
             "0 0.1 0.1 0.1 3 0.1 0.1 0.1\n"
             "1 0.93 0.93 0.93 3 0.93 0.93 0.93\n"
             "2 %.9g %.9g %.9g 3 0.96 0.95 0.97\n"
             "\n\n"
             "# label: B \"q\" & 50%%\n"
             "\"B 'q' & 50%%\"\n"
             "0 0.1 NaN NaN 1 0.1 0.1 0.1\n"
             "1 0.93 NaN NaN 1 0.93 0.93 0.93\n"
             "2 0.9 NaN NaN 1 0.9 0.9 0.9\n",
             0.96, 0.96 - half, 0.96 + half);
    /* Line by line: the same text, except that numbers may differ in their
     * last digits (the mean and bounds are printed from values computed two
     * ways), to 1e-8. */
    assert_same_lines_numerically(text, expected, 1e-8);
    free(text);

    assert_int_equal(report_series_render(study, "test_accuracy", 0.95, REPORT_SEEDS, NULL, &text,
                                          &err), MLP_OK);
    assert_contains(text, "# mlplab series: demo, metric test_accuracy, one block per run\n"
                          "# label: A, 30 hidden; seed: 1\n0 0.1 0 1\n1 0.93 0 1\n2 0.95 0 1\n"
                          "\n\n# label: A, 30 hidden; seed: 2\n");
    assert_contains(text, "\n\n# label: B \"q\" & 50%; seed: 1\n0 0.1 1 1\n1 0.93 1 1\n2 0.9 1 1\n");
    assert_null(strstr(text, "seed: 4"));               /* the .partial run */
    free(text);

    assert_int_equal(report_series_render(study, "test_accuracy", 0.95, REPORT_FINAL, NULL, &text,
                                          &err), MLP_OK);
    assert_contains(text, "# columns: label mean ci_low ci_high n reference median min max\n"
                          "\"A, 30 hidden\" 0.96 ");
    assert_contains(text, " 3 0.9549 0.96 0.95 0.97\n\"B 'q' & 50%\" 0.9 NaN NaN 1 0.99 0.9 0.9 "
                          "0.9\n");
    free(text);

    /* A metric per run, not per epoch, only in the final file; unknown ones fail. */
    assert_int_equal(report_series_render(study, "best_validation_accuracy", 0.95, REPORT_SERIES,
                                          NULL, &text, &err), MLP_ERR_USAGE);
    assert_int_equal(report_series_render(study, "nope", 0.95, REPORT_FINAL, NULL, &text, &err),
                     MLP_ERR_USAGE);
    assert_null(text);
    report_study_free(study);
}

/* Two seeds far apart: t(0.975; 1) = 12.7 makes the interval of the mean
 * accuracy [-3.7, 5.2]; an accuracy lies in [0, 1], so it is clipped there in
 * the table (with a note), the CSV and the data files. */
static void test_interval_of_an_accuracy_is_clipped(void **state)
{
    const fixture *f = *state;
    study_fixture_write_manifest(f, "name: demo\nlabels: [\"A, 30 hidden\"]\n"
                          "runs: [{id: a1, label: \"A, 30 hidden\", seed: 1},"
                          " {id: w2, label: \"A, 30 hidden\", seed: 2}]\n"
                          "report: {table: {metrics: [test_accuracy, train_cost]}}\n");
    write_run(f, "w2", "A, 30 hidden", 2, 0.40, 0.50, 0.9, 1);
    report_study *study = study_fixture_load(f);
    assert_int_equal(study->run_count, 2);
    char *text = rendered(study, 0.95, REPORT_MARKDOWN);
    assert_contains(text, "| A, 30 hidden | 2 | 67.50 ± 38.89 | [0.00, 100.00] | 0.7 ± 0.2828 |");
    assert_contains(text, "Clipped to the bounds of the metric");
    assert_contains(text, "the 95% CI of test accuracy (%) for A, 30 hidden.");
    free(text);
    text = rendered(study, 0.95, REPORT_CSV);
    assert_contains(text, "\"A, 30 hidden\",2,0.675,0.38890873,0,1,2,");
    free(text);
    mlp_error err = {0};
    assert_int_equal(report_series_render(study, "test_accuracy", 0.95, REPORT_FINAL, NULL, &text,
                                          &err), MLP_OK);
    assert_contains(text, "\"A, 30 hidden\" 0.675 0 1 2 NaN 0.675 0.4 0.95\n");
    free(text);
    assert_int_equal(report_series_render(study, "test_accuracy", 0.95, REPORT_SERIES, NULL, &text,
                                          &err), MLP_OK);
    assert_contains(text, "\n2 0.675 0 1 2 0.675 0.4 0.95\n");
    free(text);
    /* A custom metric has no bounds: its interval is left as it is. */
    assert_int_equal(report_series_render(study, "sparsity", 0.95, REPORT_FINAL, NULL, &text,
                                          &err), MLP_OK);
    assert_non_null(strstr(text, "\"A, 30 hidden\" 0.375 -"));
    free(text);
    report_study_free(study);
}

/* report_gnuplot_label: a label safe inside gnuplot's double quotes (test
 * case test_gnuplot_label). */
static const char *const gnuplot_label_cases[][2] = {
    {"a \"b\" c\\d\te\nf", "a 'b' c/d e f"},
};

static void test_not_a_study(void **state)
{
    const fixture *f = *state;
    char path[256];
    snprintf(path, sizeof path, "%s/nothing-here", f->dir);
    report_study *study = NULL;
    mlp_error err = {0};
    assert_int_equal(report_study_load(path, &study, &err), MLP_ERR_USAGE);
    assert_null(study);
    assert_contains(err.message, "not a study directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_IN_STUDY(test_study_loads_complete_runs_only, setup),
        TEST_IN_STUDY(test_runs_of_an_earlier_study_are_left_out, setup),
        TEST_IN_STUDY(test_run_values, setup),
        TEST_IN_STUDY(test_markdown_table_numbers, setup),
        TEST_IN_STUDY(test_csv_numbers_match_hand_computation, setup),
        TEST_IN_STUDY(test_files_are_written_and_deterministic, setup),
        TEST_IN_STUDY(test_table_metrics_select_columns, setup),
        TEST_IN_STUDY(test_series_file_format, setup),
        TEST_IN_STUDY(test_interval_of_an_accuracy_is_clipped, setup),
        TEST_TEXT_CASES(test_gnuplot_label, report_gnuplot_label, gnuplot_label_cases),
        TEST_IN_STUDY(test_not_a_study, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
