/* check.h — does a study reproduce what it claims to? (`mlplab check`,
 * `make check-reproduction`).
 *
 * Three kinds of claim, all read from results/NAME/study.yaml:
 *  - every `reference:` (a published figure): our mean over the complete runs
 *    of that label must lie within the tolerance of it. The tolerance is
 *    report.check.tolerance (in the metric's stored units: 0.01 = one
 *    percentage point of accuracy), else CHECK_DEFAULT_TOLERANCE.
 *    A reference whose label report.check.exempt lists (with a reason) is
 *    reported as skipped, with the reason;
 *  - every report.check.expect entry {label, metric, of, min, max}: the mean
 *    (or, with of: min / max, the smallest / largest value) over the label's
 *    runs lies in [min, max] (either bound may be left out) — for claims that
 *    are not a single published number, such as "the quadratic cost's plateau
 *    lasts over 150 epochs";
 *  - a gradient-check study (study.yaml gradcheck:): every combination gives
 *    the result its expect: list names (gradcheck_matrix.h).
 * A label with no complete run fails its claims: nothing is taken on trust.
 * A study planned with the quick profile (study.yaml quick: true) skips the
 * references (a 2-epoch run cannot match a 30-epoch figure) and its
 * expectations too, unless report.check.quick is true (the claims hold on the
 * quick profile as well, e.g. when that profile is the study itself);
 * gradient checks are always made.
 *
 * Ownership: check_study mallocs *report (one line per claim); caller frees. */
#ifndef MLP_CHECK_H
#define MLP_CHECK_H

#include <stddef.h>

#include "error.h"
#include "yamltree.h"

/* One percentage point; docs/reproduction.md gives the reasoning. */
#define CHECK_DEFAULT_TOLERANCE 0.01

typedef struct check_counts {
    size_t passed, failed, skipped;
} check_counts;

/* tolerance: a value > 0 overrides the study's; NaN or <= 0 keeps it.
 * Returns MLP_OK when the study could be checked (whatever the outcome: see
 * counts->failed), or an error (no such study, invalid report.check). */
int check_study(const char *dir, double tolerance, char **report, check_counts *counts,
                mlp_error *err);

/* The shape of a report.check block, checked without any run: its keys, the
 * tolerance, quick, every expectation (check_read_expectation) and exemption.
 * `mlplab plan` calls it on the study file, check_study on study.yaml; labels
 * and metrics are the caller's to check (study.h). *tolerance is set when
 * the block gives one. Errors: MLP_ERR_CONFIG, located, with a hint. */
int check_read_block(const yt_node *check, double *tolerance, mlp_error *err);

/* One report.check.expect item, read. Strings point into the tree. */
typedef struct check_expectation {
    const yt_node *label_node, *metric_node;
    const char *label, *metric, *of;    /* of: "mean", "min" or "max" */
    double low, high;                   /* -inf / +inf when not given */
    int has_min, has_max;
} check_expectation;
/* Also refuses a min above the max, and bounds outside the metric's range
 * (check_value_in_bounds): claims that could never hold. */
int check_read_expectation(const yt_node *item, check_expectation *out, mlp_error *err);

/* A value claimed for `metric` (a published figure, an expectation's bound, in
 * stored units: 0.9549 for 95.49 %), written at `node` and named `what` in
 * the message, must lie within the metric's bounds (measures.h); a custom
 * metric's may be anything. Errors: MLP_ERR_CONFIG, located, with a hint. */
int check_value_in_bounds(const char *metric, double value, const yt_node *node, const char *what,
                          mlp_error *err);

#endif
