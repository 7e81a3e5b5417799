/* stats.c — see stats.h. GSL computes the moments and the t distribution; this
 * file only decides which values count and when a result is undefined. All
 * arguments passed to GSL are checked first, so its error handler (which aborts
 * by default) is never reached and no global handler needs to be installed. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

/* The non-NaN values of a sample, gathered contiguously for GSL. */
typedef struct present_values {
    double *values;     /* NULL when count == 0 */
    size_t count;
    size_t skipped;
} present_values;

static int gather_present(const double *values, size_t count, present_values *out,
                          mlp_error *err)
{
    out->values = NULL;
    out->count = 0;
    out->skipped = 0;
    if (count == 0)
        return 0;
    out->values = malloc(count * sizeof *out->values);
    if (out->values == NULL)
        return mlp_error_nomem(err, "a statistics sample");
    for (size_t i = 0; i < count; i++) {
        if (isnan(values[i]))
            out->skipped++;
        else
            out->values[out->count++] = values[i];
    }
    return 0;
}

/* Mean and sample variance (divisor n-1) of a gathered sample; NaN when
 * undefined (mean: n == 0, variance: n < 2). GSL's running mean turns +inf
 * followed by a finite value into NaN, so infinities are settled here: the mean
 * is that infinity (NaN when both signs occur) and the variance is NaN. */
static void moments(const present_values *sample, double *mean, double *variance)
{
    *mean = NAN;
    *variance = NAN;
    if (sample->count == 0)
        return;
    int positive = 0, negative = 0;
    for (size_t i = 0; i < sample->count; i++) {
        if (sample->values[i] == INFINITY)
            positive = 1;
        else if (sample->values[i] == -INFINITY)
            negative = 1;
    }
    if (positive || negative) {
        *mean = positive && negative ? NAN : (positive ? INFINITY : -INFINITY);
        return;
    }
    *mean = gsl_stats_mean(sample->values, 1, sample->count);
    if (sample->count >= 2)
        *variance = gsl_stats_variance_m(sample->values, 1, sample->count, *mean);
}

int stats_summarize(const double *values, size_t count, double confidence,
                    stats_summary *out, mlp_error *err)
{
    if (out == NULL || (values == NULL && count > 0))
        return mlp_error_set(err, MLP_ERR_USAGE, "stats_summarize: no values or no result given");
    /* Written as a negation so that a NaN confidence is rejected too. */
    if (!(confidence > 0.0 && confidence < 1.0))
        return mlp_error_set(err, MLP_ERR_USAGE,
                             "confidence level must be between 0 and 1 (exclusive), got %g",
                             confidence);

    present_values sample;
    int status = gather_present(values, count, &sample, err);
    if (status != 0)
        return status;

    double variance;
    *out = (stats_summary){
        .n = sample.count, .skipped = sample.skipped, .confidence = confidence,
        .sd = NAN, .se = NAN, .t_quantile = NAN, .ci_low = NAN, .ci_high = NAN,
        .median = NAN, .min = NAN, .max = NAN,
    };
    moments(&sample, &out->mean, &variance);
    if (sample.count >= 2) {
        double df = (double)(sample.count - 1);
        out->sd = sqrt(variance);
        out->se = out->sd / sqrt((double)sample.count);
        /* Two-sided: (1 - confidence)/2 in each tail. */
        out->t_quantile = gsl_cdf_tdist_Pinv(0.5 + confidence / 2.0, df);
        out->ci_low = out->mean - out->t_quantile * out->se;
        out->ci_high = out->mean + out->t_quantile * out->se;
    }
    if (sample.count > 0) {
        /* Sorted in place: sample.values is our own copy. */
        gsl_sort(sample.values, 1, sample.count);
        out->median = gsl_stats_median_from_sorted_data(sample.values, 1, sample.count);
        out->min = sample.values[0];
        out->max = sample.values[sample.count - 1];
    }
    free(sample.values);
    return 0;
}

/* Fills t, df and p from the moments, or says why they are undefined. */
static void welch_test(welch_result *r, double var_a, double var_b)
{
    r->t = NAN;
    r->df = NAN;
    r->p = NAN;
    if (r->n_a < 2 || r->n_b < 2) {
        r->undefined_reason = "a sample has fewer than 2 values";
        return;
    }
    if (!isfinite(r->mean_a) || !isfinite(r->mean_b) || !isfinite(var_a) || !isfinite(var_b)) {
        r->undefined_reason = "a sample contains an infinite value (a diverged run)";
        return;
    }
    if (var_a == 0.0 && var_b == 0.0) {
        r->undefined_reason = "both samples are constant (zero variance)";
        return;
    }
    double share_a = var_a / (double)r->n_a;   /* squared standard error of each mean */
    double share_b = var_b / (double)r->n_b;
    double se2 = share_a + share_b;
    r->t = r->difference / sqrt(se2);
    r->df = se2 * se2 / (share_a * share_a / (double)(r->n_a - 1) +
                         share_b * share_b / (double)(r->n_b - 1));
    r->p = 2.0 * gsl_cdf_tdist_Q(fabs(r->t), r->df);
    if (r->p > 1.0)    /* t == 0 gives exactly 1; guard against rounding above it */
        r->p = 1.0;
    r->undefined_reason = NULL;
}

int stats_welch(const double *a, size_t count_a, const double *b, size_t count_b,
                welch_result *out, mlp_error *err)
{
    if (out == NULL || (a == NULL && count_a > 0) || (b == NULL && count_b > 0))
        return mlp_error_set(err, MLP_ERR_USAGE, "stats_welch: no samples or no result given");

    present_values sample_a, sample_b;
    int status = gather_present(a, count_a, &sample_a, err);
    if (status != 0)
        return status;
    status = gather_present(b, count_b, &sample_b, err);
    if (status != 0) {
        free(sample_a.values);
        return status;
    }

    double var_a, var_b;
    *out = (welch_result){
        .n_a = sample_a.count, .n_b = sample_b.count,
        .skipped_a = sample_a.skipped, .skipped_b = sample_b.skipped,
    };
    moments(&sample_a, &out->mean_a, &var_a);
    moments(&sample_b, &out->mean_b, &var_b);
    out->difference = out->mean_a - out->mean_b;
    welch_test(out, var_a, var_b);

    free(sample_a.values);
    free(sample_b.values);
    return 0;
}

int stats_contains(const stats_summary *summary, double value)
{
    if (summary == NULL || isnan(summary->ci_low) || isnan(summary->ci_high) || isnan(value))
        return 0;
    return value >= summary->ci_low && value <= summary->ci_high;
}

void stats_clip(stats_summary *summary, double low, double high)
{
    if (summary == NULL || isnan(summary->ci_low) || isnan(summary->ci_high))
        return;
    /* Outside the bounds altogether: the bounds are wrong for this sample. */
    if (summary->ci_high < low || summary->ci_low > high)
        return;
    if (summary->ci_low < low) {
        summary->ci_low = low;
        summary->clipped = 1;
    }
    if (summary->ci_high > high) {
        summary->ci_high = high;
        summary->clipped = 1;
    }
}
