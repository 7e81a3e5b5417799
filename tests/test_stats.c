/* test_stats.c — summaries, confidence intervals and Welch's t test against
 * values derived by hand.
 *
 * Reference values for the t distribution were computed independently of GSL,
 * with `bc -l` at 40 digits from closed forms:
 *   - quantile for df = 4 (Student's t, closed form for nu = 4):
 *       a = 4p(1-p), q = cos(acos(sqrt(a))/3)/sqrt(a), t = 2 sqrt(q-1)
 *     p = 0.975 -> 2.7764451051977943578 (R/scipy print 2.7764451051977987,
 *     10 ulps away: both agree with GSL to 1e-12 relative)
 *     p = 0.95  -> 2.1318467863266503183
 *   - two-sided p for even df = 10: p = 1 - sin(th)(1 + c/2 + 3c^2/8 + 15c^3/48
 *     + 105c^4/384), th = atan(t/sqrt(10)), c = cos^2(th); t = 2 ->
 *     0.0733880347707403656 (published 0.07338803477074495: same to 1e-13)
 *   - two-sided p for df = 2: p = 1 - t/sqrt(2 + t^2)
 *   - two-sided p for non-integer df: P(|T| < t) = int_0^th cos^(df-1) /
 *     int_0^(pi/2) cos^(df-1), th = atan(t/sqrt(df)), Simpson's rule with 1000
 *     and 2000 intervals (agreeing to 1.3e-14). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_cdf.h>

#include "stats.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Relative tolerance (absolute near zero): cmocka's float assert uses float. */
static void assert_close(double actual, double expected, double tolerance, const char *what)
{
    double scale = fabs(expected) > 1.0 ? fabs(expected) : 1.0;
    if (!(fabs(actual - expected) <= tolerance * scale))
        fail_msg("%s: got %.17g, expected %.17g (tolerance %g)", what, actual, expected,
                 tolerance);
}

static const double one_to_five[] = {1, 2, 3, 4, 5};

/* Our independent references and GSL's t distribution agree; this is what makes
 * the GSL-computed results below trustworthy. */
static void test_t_distribution_matches_closed_forms(void **state)
{
    (void)state;
    assert_close(gsl_cdf_tdist_Pinv(0.975, 4), 2.7764451051977943578, 1e-13, "t(0.975, 4)");
    assert_close(gsl_cdf_tdist_Pinv(0.975, 4), 2.7764451051977987, 1e-12, "t(0.975, 4) R");
    assert_close(2 * gsl_cdf_tdist_Q(2.0, 10), 0.0733880347707403656, 1e-13, "p(t=2, df=10)");
    assert_close(2 * gsl_cdf_tdist_Q(2.0, 10), 0.07338803477074495, 1e-12, "p published");
}

/* {1,2,3,4,5}: mean 15/5 = 3; squared deviations 4+1+0+1+4 = 10, variance 10/4
 * = 2.5, sd = sqrt(2.5) = 1.5811388300841897; se = sd/sqrt(5) = sqrt(0.5) =
 * 0.70710678118654752; t(0.975, 4) = 2.7764451051977944; half width t*se =
 * 1.9632431614775577; CI = [1.0367568385224423, 4.9632431614775577]. */
static void test_summary_of_one_to_five(void **state)
{
    (void)state;
    stats_summary s;
    mlp_error err = {0};
    assert_int_equal(stats_summarize(one_to_five, 5, 0.95, &s, &err), 0);
    assert_int_equal(s.n, 5);
    assert_int_equal(s.skipped, 0);
    assert_close(s.confidence, 0.95, 0, "confidence");
    assert_close(s.mean, 3.0, 1e-15, "mean");
    assert_close(s.sd, 1.5811388300841898, 1e-15, "sd");
    assert_close(s.se, 0.70710678118654752, 1e-15, "se");
    assert_close(s.t_quantile, 2.7764451051977944, 1e-13, "t quantile");
    assert_close(s.ci_low, 3 - 2.7764451051977987 * 1.5811388300841898 / sqrt(5), 1e-12,
                 "ci_low (brief's formula)");
    assert_close(s.ci_low, 1.0367568385224423, 1e-13, "ci_low");
    assert_close(s.ci_high, 4.9632431614775577, 1e-13, "ci_high");
}

/* The sample itself for a spread that is not normal: two modes, 0.8 and 0.96,
 * given out of order, with a NaN (a run without the metric) skipped. */
static void test_median_and_range(void **state)
{
    (void)state;
    const double bimodal[] = {0.96, 0.80, NAN, 0.82, 0.97, 0.81};
    stats_summary s;
    assert_int_equal(stats_summarize(bimodal, 6, 0.95, &s, NULL), 0);
    assert_int_equal(s.n, 5);
    assert_close(s.median, 0.82, 0, "median of an odd count");
    assert_close(s.min, 0.80, 0, "min");
    assert_close(s.max, 0.97, 0, "max");
    assert_int_equal(stats_summarize(bimodal, 2, 0.95, &s, NULL), 0);
    assert_close(s.median, 0.88, 1e-15, "median of an even count");
    assert_int_equal(stats_summarize(NULL, 0, 0.95, &s, NULL), 0);
    assert_true(isnan(s.median) && isnan(s.min) && isnan(s.max));
}

/* Clipping to a quantity's bounds: only the side past them moves, and an
 * interval wholly outside (not that quantity after all) is left alone. */
static void test_clip_to_bounds(void **state)
{
    (void)state;
    const double two[] = {0.4, 0.95};   /* t(0.975; 1) = 12.7: [-2.82, 4.17] */
    stats_summary s;
    assert_int_equal(stats_summarize(two, 2, 0.95, &s, NULL), 0);
    assert_true(s.ci_low < 0 && s.ci_high > 1 && !s.clipped);
    stats_clip(&s, 0.0, 1.0);
    assert_close(s.ci_low, 0.0, 0, "clipped low");
    assert_close(s.ci_high, 1.0, 0, "clipped high");
    assert_true(s.clipped);
    assert_int_equal(stats_summarize(one_to_five, 5, 0.95, &s, NULL), 0);
    stats_clip(&s, 0.0, 4.5);
    assert_close(s.ci_low, 1.0367568385224423, 1e-13, "inside: kept");
    assert_close(s.ci_high, 4.5, 0, "upper side only");
    assert_int_equal(stats_summarize(one_to_five, 5, 0.95, &s, NULL), 0);
    stats_clip(&s, 10.0, 20.0);
    assert_close(s.ci_low, 1.0367568385224423, 1e-13, "outside: left alone");
    assert_false(s.clipped);
    stats_clip(&s, -INFINITY, INFINITY);
    assert_false(s.clipped);
}

/* A lower level narrows the interval: t(0.95, 4) = 2.1318467863266503, half
 * width 2.1318467863266503 * sqrt(0.5) = 1.5074506... */
static void test_summary_at_ninety_percent(void **state)
{
    (void)state;
    stats_summary s;
    assert_int_equal(stats_summarize(one_to_five, 5, 0.90, &s, NULL), 0);
    assert_close(s.t_quantile, 2.1318467863266503, 1e-13, "t(0.95, 4)");
    assert_close(s.ci_high - s.mean, 2.1318467863266503 * sqrt(0.5), 1e-13, "half width");
}

/* NaN means "this run has no such metric": skipped and counted, never zero. */
static void test_summary_skips_nan(void **state)
{
    (void)state;
    const double with_gaps[] = {NAN, 1, 2, NAN, 3, 4, 5, NAN};
    stats_summary s;
    assert_int_equal(stats_summarize(with_gaps, ARRAY_LEN(with_gaps), 0.95, &s, NULL), 0);
    assert_int_equal(s.n, 5);
    assert_int_equal(s.skipped, 3);
    assert_close(s.mean, 3.0, 1e-15, "mean");
    assert_close(s.sd, 1.5811388300841898, 1e-15, "sd");
    assert_close(s.ci_high, 4.9632431614775577, 1e-13, "ci_high");
}

/* One value: a mean, but no spread and no interval. */
static void test_summary_of_one_value(void **state)
{
    (void)state;
    const double one[] = {0.9549};
    stats_summary s;
    assert_int_equal(stats_summarize(one, 1, 0.95, &s, NULL), 0);
    assert_int_equal(s.n, 1);
    assert_close(s.mean, 0.9549, 0, "mean");
    assert_true(isnan(s.sd));
    assert_true(isnan(s.se));
    assert_true(isnan(s.t_quantile));
    assert_true(isnan(s.ci_low));
    assert_true(isnan(s.ci_high));
    assert_int_equal(stats_contains(&s, 0.9549), 0);
}

/* All NaN, or nothing at all: n = 0 and NaN everywhere, not an error. */
static void test_summary_of_nothing(void **state)
{
    (void)state;
    const double none[] = {NAN, NAN};
    stats_summary s;
    assert_int_equal(stats_summarize(none, 2, 0.95, &s, NULL), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(s.skipped, 2);
    assert_true(isnan(s.mean));
    assert_true(isnan(s.ci_low));
    assert_int_equal(stats_summarize(NULL, 0, 0.95, &s, NULL), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(s.skipped, 0);
    assert_true(isnan(s.mean));
}

/* Identical values: sd 0, the interval collapses to the point. */
static void test_summary_of_constant_sample(void **state)
{
    (void)state;
    const double same[] = {2, 2, 2};
    stats_summary s;
    assert_int_equal(stats_summarize(same, 3, 0.95, &s, NULL), 0);
    assert_close(s.sd, 0, 0, "sd");
    assert_close(s.ci_low, 2, 0, "ci_low");
    assert_close(s.ci_high, 2, 0, "ci_high");
    assert_int_equal(stats_contains(&s, 2.0), 1);
    assert_int_equal(stats_contains(&s, 2.0001), 0);
}

/* A diverged run (inf) stays visible in the mean instead of disappearing. */
static void test_summary_keeps_infinity(void **state)
{
    (void)state;
    const double diverged[] = {1, INFINITY, 2};
    stats_summary s;
    assert_int_equal(stats_summarize(diverged, 3, 0.95, &s, NULL), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.skipped, 0);
    assert_true(s.mean > 0);
    assert_true(isinf(s.mean));
    assert_true(isnan(s.sd));
    assert_true(isnan(s.ci_high));
    const double both_ways[] = {-INFINITY, 1, INFINITY};
    assert_int_equal(stats_summarize(both_ways, 3, 0.95, &s, NULL), 0);
    assert_true(isnan(s.mean));
}

static void test_summary_rejects_bad_arguments(void **state)
{
    (void)state;
    const double levels[] = {0.0, 1.0, -0.5, 1.5, NAN};
    stats_summary s;
    for (size_t i = 0; i < ARRAY_LEN(levels); i++) {
        mlp_error err = {0};
        assert_int_equal(stats_summarize(one_to_five, 5, levels[i], &s, &err), MLP_ERR_USAGE);
        assert_int_equal(err.status, MLP_ERR_USAGE);
        assert_non_null(strstr(err.message, "confidence level must be between 0 and 1"));
    }
    mlp_error err = {0};
    assert_int_equal(stats_summarize(NULL, 3, 0.95, &s, &err), MLP_ERR_USAGE);
    assert_int_equal(stats_summarize(one_to_five, 5, 0.95, NULL, &err), MLP_ERR_USAGE);
    assert_true(strlen(err.message) > 0);
}

static void test_contains_bounds(void **state)
{
    (void)state;
    stats_summary s;
    assert_int_equal(stats_summarize(one_to_five, 5, 0.95, &s, NULL), 0);
    assert_int_equal(stats_contains(&s, 3.0), 1);
    assert_int_equal(stats_contains(&s, s.ci_low), 1);
    assert_int_equal(stats_contains(&s, s.ci_high), 1);
    assert_int_equal(stats_contains(&s, nextafter(s.ci_low, -INFINITY)), 0);
    assert_int_equal(stats_contains(&s, nextafter(s.ci_high, INFINITY)), 0);
    assert_int_equal(stats_contains(&s, 6.0), 0);
    assert_int_equal(stats_contains(&s, NAN), 0);
    assert_int_equal(stats_contains(NULL, 3.0), 0);
}

/* a = {1,2,3,4,5}: mean 3, variance 2.5; b = {2,4,6,8,10}: mean 6, variance
 * 4 * 2.5 = 10. Squared standard errors: 2.5/5 = 0.5 and 10/5 = 2, sum 2.5.
 * t = (3 - 6)/sqrt(2.5) = -sqrt(3.6) = -1.8973665961010276.
 * df = 2.5^2 / (0.5^2/4 + 2^2/4) = 6.25/1.0625 = 100/17 = 5.882352941176471.
 * p = 2 P(T_{100/17} > 1.8973665961010276) = 0.10753119493062638 (Simpson, see top). */
static void test_welch_by_hand(void **state)
{
    (void)state;
    const double b[] = {2, 4, 6, 8, 10};
    welch_result r;
    mlp_error err = {0};
    assert_int_equal(stats_welch(one_to_five, 5, b, 5, &r, &err), 0);
    assert_int_equal(r.n_a, 5);
    assert_int_equal(r.n_b, 5);
    assert_close(r.mean_a, 3, 1e-15, "mean a");
    assert_close(r.mean_b, 6, 1e-15, "mean b");
    assert_close(r.difference, -3, 1e-15, "difference");
    assert_close(r.t, -1.8973665961010276, 1e-14, "t");
    assert_close(r.df, 100.0 / 17.0, 1e-14, "df");
    assert_close(r.p, 0.10753119493062638, 1e-12, "p");
    assert_null(r.undefined_reason);

    /* Swapping the samples flips the sign of t and nothing else. */
    welch_result swapped;
    assert_int_equal(stats_welch(b, 5, one_to_five, 5, &swapped, NULL), 0);
    assert_close(swapped.t, -r.t, 0, "swapped t");
    assert_close(swapped.df, r.df, 0, "swapped df");
    assert_close(swapped.p, r.p, 0, "swapped p");
}

/* Built so that the test lands on the published point t = 2, df = 10:
 * b = {-5,-2,-1,1,2,5}: mean 0, squared deviations 25+4+1+1+4+25 = 60,
 * variance 12; a = b + 4: mean 4, variance 12. Squared standard errors 12/6 = 2
 * each, t = 4/sqrt(4) = 2, df = 4^2/(2^2/5 + 2^2/5) = 16/1.6 = 10,
 * p = 0.0733880347707403656. */
static void test_welch_published_point(void **state)
{
    (void)state;
    const double a[] = {-1, 2, 3, 5, 6, 9};
    const double b[] = {-5, -2, -1, 1, 2, 5};
    welch_result r;
    assert_int_equal(stats_welch(a, 6, b, 6, &r, NULL), 0);
    assert_close(r.t, 2.0, 1e-15, "t");
    assert_close(r.df, 10.0, 1e-14, "df");
    assert_close(r.p, 0.0733880347707403656, 1e-13, "p");
    assert_close(r.p, 0.07338803477074495, 1e-12, "p published");
}

/* One constant sample is fine: a = {0,0,0} (variance 0), b = {1,2,3} (mean 2,
 * variance 1). se^2 = 0 + 1/3; t = -2/sqrt(1/3) = -2 sqrt(3) = -3.4641016151377546;
 * df = (1/3)^2 / ((1/3)^2/2) = 2; for df = 2, p = 1 - t/sqrt(2+t^2)
 * = 1 - sqrt(12/14) = 0.074179900227448538. */
static void test_welch_one_constant_sample(void **state)
{
    (void)state;
    const double a[] = {0, 0, 0};
    const double b[] = {1, 2, 3};
    welch_result r;
    assert_int_equal(stats_welch(a, 3, b, 3, &r, NULL), 0);
    assert_close(r.t, -3.4641016151377546, 1e-14, "t");
    assert_close(r.df, 2.0, 1e-14, "df");
    assert_close(r.p, 0.074179900227448538, 1e-13, "p");
    assert_null(r.undefined_reason);
}

static void test_welch_both_constant_is_undefined(void **state)
{
    (void)state;
    const double a[] = {1, 1, 1};
    const double b[] = {2, 2};
    welch_result r;
    assert_int_equal(stats_welch(a, 3, b, 2, &r, NULL), 0);
    assert_close(r.difference, -1, 0, "difference");
    assert_true(isnan(r.t));
    assert_true(isnan(r.df));
    assert_true(isnan(r.p));
    assert_non_null(r.undefined_reason);
    assert_non_null(strstr(r.undefined_reason, "zero variance"));
}

static void test_welch_too_few_values_is_undefined(void **state)
{
    (void)state;
    const double a[] = {1, NAN};
    welch_result r;
    assert_int_equal(stats_welch(a, 2, one_to_five, 5, &r, NULL), 0);
    assert_int_equal(r.n_a, 1);
    assert_int_equal(r.skipped_a, 1);
    assert_close(r.difference, -2, 0, "difference");
    assert_true(isnan(r.p));
    assert_non_null(strstr(r.undefined_reason, "fewer than 2 values"));

    assert_int_equal(stats_welch(NULL, 0, one_to_five, 5, &r, NULL), 0);
    assert_true(isnan(r.difference));
    assert_true(isnan(r.p));
}

/* NaN runs drop out of both samples; the by-hand result is unchanged. */
static void test_welch_skips_nan(void **state)
{
    (void)state;
    const double a[] = {1, 2, NAN, 3, 4, 5};
    const double b[] = {NAN, 2, 4, 6, 8, 10, NAN};
    welch_result r;
    assert_int_equal(stats_welch(a, ARRAY_LEN(a), b, ARRAY_LEN(b), &r, NULL), 0);
    assert_int_equal(r.skipped_a, 1);
    assert_int_equal(r.skipped_b, 2);
    assert_int_equal(r.n_a, 5);
    assert_int_equal(r.n_b, 5);
    assert_close(r.t, -1.8973665961010276, 1e-14, "t");
    assert_close(r.p, 0.10753119493062638, 1e-12, "p");
}

static void test_welch_infinite_is_undefined(void **state)
{
    (void)state;
    const double a[] = {1, INFINITY, 3};
    welch_result r;
    assert_int_equal(stats_welch(a, 3, one_to_five, 5, &r, NULL), 0);
    assert_true(isnan(r.p));
    assert_non_null(strstr(r.undefined_reason, "infinite"));
}

static void test_welch_rejects_null(void **state)
{
    (void)state;
    welch_result r;
    mlp_error err = {0};
    assert_int_equal(stats_welch(NULL, 3, one_to_five, 5, &r, &err), MLP_ERR_USAGE);
    assert_int_equal(err.status, MLP_ERR_USAGE);
    assert_int_equal(stats_welch(one_to_five, 5, one_to_five, 5, NULL, NULL), MLP_ERR_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_t_distribution_matches_closed_forms),
        cmocka_unit_test(test_summary_of_one_to_five),
        cmocka_unit_test(test_median_and_range),
        cmocka_unit_test(test_clip_to_bounds),
        cmocka_unit_test(test_summary_at_ninety_percent),
        cmocka_unit_test(test_summary_skips_nan),
        cmocka_unit_test(test_summary_of_one_value),
        cmocka_unit_test(test_summary_of_nothing),
        cmocka_unit_test(test_summary_of_constant_sample),
        cmocka_unit_test(test_summary_keeps_infinity),
        cmocka_unit_test(test_summary_rejects_bad_arguments),
        cmocka_unit_test(test_contains_bounds),
        cmocka_unit_test(test_welch_by_hand),
        cmocka_unit_test(test_welch_published_point),
        cmocka_unit_test(test_welch_one_constant_sample),
        cmocka_unit_test(test_welch_both_constant_is_undefined),
        cmocka_unit_test(test_welch_too_few_values_is_undefined),
        cmocka_unit_test(test_welch_skips_nan),
        cmocka_unit_test(test_welch_infinite_is_undefined),
        cmocka_unit_test(test_welch_rejects_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
