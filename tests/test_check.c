/* test_check.c — check_study (`mlplab check`, `make check-reproduction`): the
 * tolerance around a published figure, exemptions, the ranges of
 * report.check.expect with of: mean/min/max, labels without complete runs,
 * the quick profile, and the errors in report.check, on tiny run files
 * written with the store API into a mkdtemp() study directory.
 *
 * The study "claims": label A has seeds 1..3 with final test accuracy 0.5,
 * 0.625, 0.75 (mean 0.625, min 0.5, max 0.75; all exact in binary, so the
 * boundaries below are exact too) and a .partial run at 0.0 that must not
 * count; B has one run at 0.25; C has only a .partial run. */
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

#include "check.h"

typedef study_fixture fixture;

/* One run of two epochs ending at test accuracy `final`; finish = 0 leaves a .partial. */
static void write_run(const fixture *f, const char *id, const char *label, unsigned long seed,
                      double final, int finish)
{
    const epoch_metrics rows[2] = {
        {0, 0.5, 1.0, 0.1, 1.0, 0.1, 1.0, 0.1, 0.0},
        {1, 0.5, 0.5, 0.9, 0.5, 0.9, 0.5, final, 1.0},
    };
    study_fixture_write_run(f, id, label, seed, rows, 2, NAN, finish);
}

static const char study_head[] =
    "name: claims\n"
    "labels: [A, B, C]\n"
    "seeds: [1, 2, 3]\n"
    "runs:\n"
    "  - {id: a1, label: A, seed: 1}\n"
    "  - {id: a2, label: A, seed: 2}\n"
    "  - {id: a3, label: A, seed: 3}\n"
    "  - {id: a4, label: A, seed: 4}\n"
    "  - {id: b1, label: B, seed: 1}\n"
    "  - {id: c1, label: C, seed: 1}\n";

/* The runs of "claims" (the head of its study.yaml is written by each test). */
static void write_runs(const fixture *f)
{
    write_run(f, "a1", "A", 1, 0.5, 1);
    write_run(f, "a2", "A", 2, 0.625, 1);
    write_run(f, "a3", "A", 3, 0.75, 1);
    write_run(f, "a4", "A", 4, 0.0, 0);
    write_run(f, "b1", "B", 1, 0.25, 1);
    write_run(f, "c1", "C", 1, 0.9, 0);
}

static int setup(void **state)
{
    return study_fixture_start(state, "check", "claims", write_runs, NULL);
}

/* Writes study.yaml (the head above, then `rest`) and checks the study. */
static int check_with(const fixture *f, const char *rest, double tolerance, char **report,
                      check_counts *counts, mlp_error *err)
{
    char *text = test_joined(study_head, rest);
    study_fixture_write_manifest(f, text);
    free(text);
    return check_study(f->study, tolerance, report, counts, err);
}

/* check_with that must succeed with these counts of checks passed, failed and
 * skipped: the report (the caller frees it). */
static char *checked(const fixture *f, const char *rest, double tolerance, size_t passed,
                     size_t failed, size_t skipped)
{
    char *report = NULL;
    check_counts c;
    mlp_error err = {0};
    if (check_with(f, rest, tolerance, &report, &c, &err) != MLP_OK)
        fail_msg("check_study: %s", err.message);
    if (c.passed != passed || c.failed != failed || c.skipped != skipped)
        fail_msg("counts %zu ok, %zu failed, %zu skipped; expected %zu, %zu, %zu", c.passed,
                 c.failed, c.skipped, passed, failed, skipped);
    return report;
}

static const char claims[] =
    "reference:\n"
    "  - {label: A, test_accuracy: 0.75, source: paper}\n"
    "  - {label: B, test_accuracy: 0.9}\n"
    "  - {label: C, test_accuracy: 0.5}\n"
    "report:\n"
    "  check:\n"
    "    tolerance: 0.125\n"
    "    exempt: [{label: B, reason: \"B is not comparable\"}]\n"
    "    expect:\n"
    "      - {label: A, metric: test_accuracy, of: min, min: 0.5}\n"
    "      - {label: A, metric: test_accuracy, of: max, max: 0.75}\n"
    "      - {label: A, metric: test_accuracy, min: 0.625, max: 0.625}\n"
    "      - {label: A, metric: test_accuracy, of: max, max: 0.7}\n"
    "      - {label: B, metric: test_accuracy, min: 0.3}\n";

/* The study's tolerance, inclusive at its edge (|0.625 − 0.75| = 0.125); an
 * exempt reference skipped with its reason; a label with only a .partial run
 * fails; of: min / max / mean, each at its bound exactly; the .partial run
 * (0.0) counted nowhere (it would make the min 0 and the mean 0.47). */
static void test_claims(void **state)
{
    char *report = checked(*state, claims, NAN, 4, 3, 1);
    assert_contains(report, "ok   claims: A: test_accuracy 62.5 (mean of 3) vs published 75 (paper): "
                            "difference -12.50 pp, tolerance 12.50 pp\n");
    assert_contains(report, "skip claims: B: published test_accuracy 90 not checked: "
                            "B is not comparable\n");
    assert_contains(report, "FAIL claims: C: no complete run has test_accuracy, so the published "
                            "50 cannot be checked\n");
    assert_contains(report, "ok   claims: A: test_accuracy 50 (min of 3), expected >= 50\n");
    assert_contains(report, "ok   claims: A: test_accuracy 75 (max of 3), expected <= 75\n");
    assert_contains(report, "ok   claims: A: test_accuracy 62.5 (mean of 3), expected in [62.5, 62.5]\n");
    assert_contains(report, "FAIL claims: A: test_accuracy 75 (max of 3), expected <= 70\n");
    assert_contains(report, "FAIL claims: B: test_accuracy 25 (mean of 1), expected >= 30\n");
    free(report);
}

/* A tolerance given to check_study (--tolerance) overrides the study's: at
 * 0.0625 the published 0.75 is too far; NaN or 0 keeps the study's. */
static void test_tolerance_override(void **state)
{
    fixture *f = *state;
    char *report = checked(f, claims, 0.0625, 3, 4, 1);
    assert_contains(report, "FAIL claims: A: test_accuracy 62.5 (mean of 3) vs published 75 "
                            "(paper): difference -12.50 pp, tolerance 6.25 pp\n");
    free(report);
    free(checked(f, claims, 0.0, 4, 3, 1));
}

/* Without report.check.tolerance the default (one percentage point) applies:
 * 0.63 is within it of the mean 0.625, 0.64 is not. */
static void test_default_tolerance(void **state)
{
    assert_true(CHECK_DEFAULT_TOLERANCE == 0.01);
    char *report = checked(*state,
                           "reference:\n  - {label: A, test_accuracy: 0.63}\n"
                           "  - {label: A, best_validation_accuracy: 0.9}\n"
                           "  - {label: A, test_accuracy: 0.64}\n",
                           NAN, 2, 1, 0);
    assert_contains(report, "ok   claims: A: test_accuracy 62.5 (mean of 3) vs published 63 "
                            "(no source given): difference -0.50 pp, tolerance 1.00 pp\n");
    assert_contains(report, "ok   claims: A: best_validation_accuracy 90 (mean of 3)");
    assert_contains(report, "FAIL claims: A: test_accuracy 62.5 (mean of 3) vs published 64");
    free(report);
}

/* A study planned with the quick profile skips every published figure, and
 * its expectations unless report.check.quick is true. */
static void test_quick_profile(void **state)
{
    fixture *f = *state;
    char text[2048];
    snprintf(text, sizeof text, "quick: true\n%s", claims);
    char *report = checked(f, text, NAN, 0, 0, 3 + 5);
    assert_contains(report, "skip claims: A: published test_accuracy 75 is for the full profile; "
                            "this is a quick one\n");
    assert_contains(report, "skip claims: expectation 5 is for the full profile");
    free(report);
    snprintf(text, sizeof text, "quick: true\n%s    quick: true\n", claims);
    free(checked(f, text, NAN, 3, 2, 3));
}

/* Mistakes in report.check: an error at study.yaml's line and column, no report. */
static void test_errors(void **state)
{
    fixture *f = *state;
    const struct {
        const char *rest, *message;
    } cases[] = {
        {"report:\n  check:\n    tolerance: 0\n",
         "study.yaml:13:16: report.check.tolerance must be a number > 0"},
        {"report:\n  check:\n    tolerence: 0.01\n",
         "study.yaml:13:5: unknown key 'tolerence' in report.check; did you mean 'tolerance'?"},
        {"report:\n  check:\n    expect: [{label: A, metric: test_accuracy, of: median, max: 1}]\n",
         "study.yaml:13:52: report.check.expect.of must be mean, min or max, not 'median'"},
        {"report:\n  check:\n    expect: [{label: D, metric: test_accuracy, max: 1}]\n",
         "study.yaml:13:22: no label 'D' in this study"},
        {"report:\n  check:\n    expect: [{label: A, metric: test_accuracy}]\n",
         "an expectation needs a label, a metric and min or max"},
        {"report:\n  check:\n    exempt: [{label: B}]\n", "an exemption needs a label and a reason"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *report = (char *)"untouched";
        check_counts counts;
        mlp_error err = {0};
        assert_int_equal(check_with(f, cases[i].rest, NAN, &report, &counts, &err), MLP_ERR_CONFIG);
        assert_null(report);
        assert_contains(err.message, cases[i].message);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_IN_STUDY(test_claims, setup),
        TEST_IN_STUDY(test_tolerance_override, setup),
        TEST_IN_STUDY(test_default_tolerance, setup),
        TEST_IN_STUDY(test_quick_profile, setup),
        TEST_IN_STUDY(test_errors, setup),
    };
    return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
