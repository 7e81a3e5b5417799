/* stats.h — statistics for comparison tables: mean and confidence interval over
 * seeds, and Welch's two-sample t test between two cases.
 *
 * Values are one number per run (a metric at some epoch). NaN means "this run has
 * no such metric" (no validation set, say): it is skipped and counted, never
 * treated as 0. Infinities are kept, so a run that diverged shows in the mean
 * (as ±inf, with NaN spread and interval) instead of vanishing from it. Results that cannot be computed (too few values,
 * no variance) are NaN and the reason is said in the result, so a table can print
 * "—" with a footnote. Distribution functions come from GSL. */
#ifndef MLP_STATS_H
#define MLP_STATS_H

#include <stddef.h>

#include "error.h"

/* Mean, spread and the two-sided Student t confidence interval of the mean. */
typedef struct stats_summary {
    size_t n;            /* values used (the non-NaN ones) */
    size_t skipped;      /* NaN values skipped */
    double confidence;   /* the level asked for, e.g. 0.95 */
    double mean;         /* NaN when n == 0 */
    double sd;           /* sample standard deviation (divisor n-1); NaN when n < 2 */
    double se;           /* standard error sd/sqrt(n); NaN when n < 2 */
    double t_quantile;   /* t_{(1+confidence)/2, n-1}; NaN when n < 2 */
    double ci_low, ci_high;  /* mean -/+ t_quantile*se; NaN when n < 2 (see stats_clip) */
    int clipped;         /* 1 when stats_clip moved a bound of the interval */
    /* The sample itself, for a distribution that is not normal (two modes,
     * say), where the mean and its interval mislead: NaN when n == 0. */
    double median, min, max;
} stats_summary;

/* Summarises values[0..count-1] at the given confidence level (0 < confidence < 1).
 * values may be NULL when count is 0. Fails (MLP_ERR_USAGE) only on a confidence
 * outside (0, 1) or a NULL out/values; a sample with no usable value is not an
 * error: out->n is 0 and every statistic is NaN.
 * (Named stats_summarize, not stats_summary, because the type has that name.) */
int stats_summarize(const double *values, size_t count, double confidence,
                    stats_summary *out, mlp_error *err);

/* Welch's unequal-variance t test of mean(a) - mean(b). */
typedef struct welch_result {
    size_t n_a, n_b;           /* values used from each sample (NaN skipped) */
    size_t skipped_a, skipped_b;
    double mean_a, mean_b;
    double difference;         /* mean_a - mean_b; NaN when a sample is empty */
    double t;                  /* difference / sqrt(var_a/n_a + var_b/n_b) */
    double df;                 /* Welch–Satterthwaite degrees of freedom (not an integer) */
    double p;                  /* two-sided p value, 2*P(T_df > |t|) */
    /* NULL when p is defined; otherwise why not, as a phrase for a footnote:
     * a sample has fewer than 2 values, or both samples have zero variance (t is
     * then 0/0 or ±inf with no degrees of freedom: t, df and p are all NaN). */
    const char *undefined_reason;
} welch_result;

/* Compares a[0..count_a-1] with b[0..count_b-1]. An undefined p is not an error
 * (see undefined_reason); fails (MLP_ERR_USAGE) only on NULL pointers. */
int stats_welch(const double *a, size_t count_a, const double *b, size_t count_b,
                welch_result *out, mlp_error *err);

/* 1 when value lies within [ci_low, ci_high], else 0 (also 0 when the interval
 * is undefined, n < 2). Used to mark whether a published figure is within the
 * interval of our runs. */
int stats_contains(const stats_summary *summary, double value);

/* Intersects the interval with [low, high], the bounds of the quantity (0 and 1
 * for an accuracy), and sets clipped when a bound moved. The mean of a bounded
 * quantity lies within its bounds, so the clipped interval covers it exactly
 * as often as the t interval does (docs/reports.md): nothing is lost, and an
 * accuracy is never said to be "up to 119 %". An interval wholly outside the
 * bounds (a mean outside them: not a bounded quantity after all) is left as it
 * is. NaN bounds are ignored. */
void stats_clip(stats_summary *summary, double low, double high);

#endif
