/* check.c — see check.h. */
#include "check.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck_matrix.h"
#include "measures.h"
#include "report.h"
#include "suggest.h"
#include "yamltree.h"

static const char *const check_keys[] = {"tolerance", "expect", "exempt", "quick", NULL};
static const char *const expect_keys[] = {"label", "metric", "of", "min", "max", NULL};
static const char *const exempt_keys[] = {"label", "reason", NULL};

static int check_known_keys(const yt_node *map, const char *const *allowed, const char *what,
                            const char *hint, mlp_error *err)
{
    return yt_check_keys(map, allowed, suggest_list_count(allowed), what, hint, err);
}

/* A statistic (mean, min or max) of a label's per-run values of metric over
 * its complete runs; *n runs that have a value. */
static double label_statistic(const report_study *study, size_t label, const char *metric,
                              const char *of, size_t *n)
{
    double sum = 0.0, low = INFINITY, high = -INFINITY;
    *n = 0;
    for (size_t i = 0; i < study->run_count; i++) {
        if (study->runs[i].label != label)
            continue;
        double value = measures_run_value(&study->runs[i].data, metric);
        if (isnan(value))
            continue;
        sum += value;
        low = value < low ? value : low;
        high = value > high ? value : high;
        (*n)++;
    }
    if (*n == 0)
        return NAN;
    return strcmp(of, "min") == 0 ? low : strcmp(of, "max") == 0 ? high : sum / (double)*n;
}

static int find_label(const report_study *study, const char *label, size_t *out)
{
    for (size_t l = 0; l < study->label_count; l++)
        if (strcmp(study->labels[l], label) == 0) {
            *out = l;
            return 1;
        }
    return 0;
}

/* In the units the tables show: percent for accuracies. */
static double shown(const char *metric, double value)
{
    return measures_scale(metric) * value;
}

static const char *unit(const char *metric)
{
    return measures_is_percent(metric) ? " pp" : "";
}

static void check_reference(FILE *out, const report_study *study, const report_reference *r,
                            double tolerance, check_counts *counts)
{
    size_t label = 0, n = 0;
    double mean = find_label(study, r->label, &label)
                      ? label_statistic(study, label, r->metric, "mean", &n)
                      : NAN;
    const char *u = unit(r->metric);
    if (n == 0) {
        fprintf(out, "FAIL %s: %s: no complete run has %s, so the published %g cannot be "
                     "checked\n", study->name, r->label, r->metric, shown(r->metric, r->value));
        counts->failed++;
        return;
    }
    double difference = mean - r->value;
    int ok = fabs(difference) <= tolerance;
    fprintf(out, "%s %s: %s: %s %.4g (mean of %zu) vs published %.4g (%s): difference %+.2f%s, "
                 "tolerance %.2f%s\n",
            ok ? "ok  " : "FAIL", study->name, r->label, r->metric, shown(r->metric, mean), n,
            shown(r->metric, r->value), r->source[0] ? r->source : "no source given",
            shown(r->metric, difference), u, shown(r->metric, tolerance), u);
    if (ok)
        counts->passed++;
    else
        counts->failed++;
}

int check_value_in_bounds(const char *metric, double value, const yt_node *node, const char *what,
                          mlp_error *err)
{
    int layer = 0;
    const measure *row = measures_find(metric);
    if (row == NULL)
        row = measures_diagnostic(metric, &layer);
    if (row == NULL)
        return MLP_OK;          /* a custom metric: its range is the hook's */
    double low = row->lower / row->scale, high = row->upper / row->scale;
    if (value >= low && value <= high)
        return MLP_OK;
    char hint[160] = "";
    if (row->scale == 100.0)
        snprintf(hint, sizeof hint, "study files give %s as a fraction: %g %% is %g", metric,
                 value, value / 100.0);
    return yt_error_at(err, MLP_ERR_CONFIG, node->mark, hint[0] != '\0' ? hint : NULL,
                       "%s is %g, but %s lies between %g and %g", what, value, metric, low, high);
}

int check_read_expectation(const yt_node *item, check_expectation *out, mlp_error *err)
{
    const char *hint = "write {label: L, metric: M, min: X, max: Y} (min or max may be left out)";
    memset(out, 0, sizeof *out);
    out->of = "mean";
    out->low = -INFINITY;
    out->high = INFINITY;
    if (item->kind != YT_MAPPING)
        return yt_error_at(err, MLP_ERR_CONFIG, item->mark, hint,
                           "report.check.expect items must be mappings");
    int rc = check_known_keys(item, expect_keys, "report.check.expect", hint, err);
    out->label_node = yt_map_get(item, "label");
    out->metric_node = yt_map_get(item, "metric");
    const yt_node *min_node = yt_map_get(item, "min"), *max_node = yt_map_get(item, "max");
    const yt_node *of_node = yt_map_get(item, "of");
    out->has_min = min_node != NULL;
    out->has_max = max_node != NULL;
    if (rc == MLP_OK &&
        (out->label_node == NULL || out->metric_node == NULL || (!min_node && !max_node)))
        return yt_error_at(err, MLP_ERR_CONFIG, item->mark, hint,
                           "an expectation needs a label, a metric and min or max");
    if (rc == MLP_OK)
        rc = yt_to_string(out->label_node, "report.check.expect.label", &out->label, err);
    if (rc == MLP_OK)
        rc = yt_to_string(out->metric_node, "report.check.expect.metric", &out->metric, err);
    if (rc == MLP_OK && of_node != NULL) {
        rc = yt_to_string(of_node, "report.check.expect.of", &out->of, err);
        if (rc == MLP_OK && strcmp(out->of, "mean") != 0 && strcmp(out->of, "min") != 0 &&
            strcmp(out->of, "max") != 0)
            return yt_error_at(err, MLP_ERR_CONFIG, of_node->mark,
                               "mean (the default), min or max over the label's runs",
                               "report.check.expect.of must be mean, min or max, not '%s'",
                               out->of);
    }
    if (rc == MLP_OK && min_node != NULL)
        rc = yt_to_double(min_node, "report.check.expect.min", &out->low, err);
    if (rc == MLP_OK && max_node != NULL)
        rc = yt_to_double(max_node, "report.check.expect.max", &out->high, err);
    if (rc == MLP_OK && min_node != NULL)
        rc = check_value_in_bounds(out->metric, out->low, min_node, "report.check.expect.min",
                                   err);
    if (rc == MLP_OK && max_node != NULL)
        rc = check_value_in_bounds(out->metric, out->high, max_node, "report.check.expect.max",
                                   err);
    if (rc == MLP_OK && out->low > out->high)
        rc = yt_error_at(err, MLP_ERR_CONFIG, max_node->mark,
                         "min is the lowest value the claim accepts, max the highest",
                         "report.check.expect.max (%g) is below its min (%g): the claim can "
                         "never hold", out->high, out->low);
    return rc;
}

static int check_one_expectation(FILE *out, const report_study *study, const yt_node *item,
                                 check_counts *counts, mlp_error *err)
{
    check_expectation e;
    int rc = check_read_expectation(item, &e, err);
    if (rc != MLP_OK)
        return rc;
    const char *metric = e.metric;
    size_t label = 0, n = 0;
    if (!find_label(study, e.label, &label))
        return yt_error_at(err, MLP_ERR_CONFIG, e.label_node->mark,
                           "use one of the labels of the study's cases",
                           "no label '%s' in this study", e.label);
    double mean = label_statistic(study, label, metric, e.of, &n);
    int ok = n > 0 && mean >= e.low && mean <= e.high;
    char range[96];
    if (e.has_min && e.has_max)
        snprintf(range, sizeof range, "in [%g, %g]", shown(metric, e.low), shown(metric, e.high));
    else
        snprintf(range, sizeof range, e.has_min ? ">= %g" : "<= %g",
                 shown(metric, e.has_min ? e.low : e.high));
    if (n == 0)
        fprintf(out, "FAIL %s: %s: no complete run has %s (expected %s)\n", study->name,
                e.label, metric, range);
    else
        fprintf(out, "%s %s: %s: %s %.6g (%s of %zu), expected %s\n", ok ? "ok  " : "FAIL",
                study->name, e.label, metric, shown(metric, mean), e.of, n, range);
    if (ok)
        counts->passed++;
    else
        counts->failed++;
    return MLP_OK;
}

/* The reason report.check.exempt gives for not checking label's references,
 * or NULL. The list was validated by read_claims. */
static const char *exempt_reason(const yt_node *check, const char *label)
{
    const yt_node *exempt = check != NULL ? yt_map_get(check, "exempt") : NULL;
    for (size_t i = 0; exempt != NULL && i < exempt->count; i++) {
        const yt_node *l = yt_map_get(exempt->items[i], "label");
        const yt_node *reason = yt_map_get(exempt->items[i], "reason");
        if (l != NULL && l->kind == YT_SCALAR && strcmp(l->scalar, label) == 0)
            return reason->scalar;
    }
    return NULL;
}

static int check_exempt_list(const yt_node *exempt, mlp_error *err)
{
    const char *hint = "write exempt: [{label: L, reason: \"why its published figure is not "
                       "checked\"}]";
    int rc = yt_expect_kind(exempt, YT_SEQUENCE, "report.check.exempt", hint, err);
    if (rc != MLP_OK)
        return rc;
    for (size_t i = 0; i < exempt->count; i++) {
        const yt_node *item = exempt->items[i];
        if (item->kind != YT_MAPPING)
            return yt_error_at(err, MLP_ERR_CONFIG, item->mark, hint,
                               "report.check.exempt items must be mappings");
        rc = check_known_keys(item, exempt_keys, "report.check.exempt", hint, err);
        const yt_node *label = yt_map_get(item, "label"), *reason = yt_map_get(item, "reason");
        if (rc == MLP_OK && (label == NULL || reason == NULL || label->kind != YT_SCALAR ||
                             reason->kind != YT_SCALAR || reason->scalar[0] == '\0'))
            return yt_error_at(err, MLP_ERR_CONFIG, item->mark, hint,
                               "an exemption needs a label and a reason");
        if (rc != MLP_OK)
            return rc;
    }
    return MLP_OK;
}

/* A gradient-check study (study.yaml gradcheck:): each combination's result
 * must be the one the study expects. */
static int check_gradients(FILE *out, const char *name, const yt_node *gradcheck,
                           check_counts *counts, mlp_error *err)
{
    gradcheck_matrix *matrix = NULL;
    int rc = gradcheck_matrix_from_yaml(gradcheck, &matrix, err);
    if (rc == MLP_OK)
        rc = gradcheck_matrix_run(matrix, err);
    for (size_t i = 0; rc == MLP_OK && i < matrix->n_rows; i++) {
        const gradcheck_row *row = &matrix->rows[i];
        int ok = row->result.passed == row->expect_pass;
        fprintf(out, "%s %s: %s hidden, %s output, %s: %s, expected %s (largest relative error "
                     "%.2e)\n",
                ok ? "ok  " : "FAIL", name, row->hidden->name, row->output->name,
                row->cost->name, row->result.passed ? "PASS" : "FAIL",
                row->expect_pass ? "PASS" : "FAIL", row->result.worst);
        if (ok)
            counts->passed++;
        else
            counts->failed++;
    }
    gradcheck_matrix_free(matrix);
    return rc;
}

int check_read_block(const yt_node *check, double *tolerance, mlp_error *err)
{
    const char *hint = "e.g. report: {check: {tolerance: 0.01, expect: [...]}}";
    int rc = yt_expect_kind(check, YT_MAPPING, "report.check", hint, err);
    if (rc != MLP_OK)
        return rc;
    rc = check_known_keys(check, check_keys, "report.check", hint, err);
    const yt_node *tolerance_node = yt_map_get(check, "tolerance");
    if (rc == MLP_OK && tolerance_node != NULL) {
        rc = yt_to_double(tolerance_node, "report.check.tolerance", tolerance, err);
        if (rc == MLP_OK && !(*tolerance > 0.0))
            rc = yt_error_at(err, MLP_ERR_CONFIG, tolerance_node->mark,
                             "in the metric's stored units: 0.01 is one percentage point",
                             "report.check.tolerance must be a number > 0");
    }
    const yt_node *quick = yt_map_get(check, "quick");
    int ignored;
    if (rc == MLP_OK && quick != NULL)
        rc = yt_to_bool(quick, "report.check.quick", &ignored, err);
    const yt_node *expect = yt_map_get(check, "expect");
    if (rc == MLP_OK && expect != NULL)
        rc = yt_expect_kind(expect, YT_SEQUENCE, "report.check.expect", hint, err);
    check_expectation e;
    for (size_t i = 0; rc == MLP_OK && expect != NULL && i < expect->count; i++)
        rc = check_read_expectation(expect->items[i], &e, err);
    const yt_node *exempt = yt_map_get(check, "exempt");
    if (rc == MLP_OK && exempt != NULL)
        rc = check_exempt_list(exempt, err);
    return rc;
}

/* Reads report.check from the study's manifest. */
static int read_claims(const report_study *study, const yt_node **check, double *tolerance,
                       mlp_error *err)
{
    *check = NULL;
    if (study->manifest == NULL)
        return mlp_error_set(err, MLP_ERR_CONFIG, "%s/study.yaml: cannot open: %s",
                             study->dir, strerror(ENOENT));
    const yt_node *report = study->manifest->report;
    *check = report != NULL ? yt_map_get(report, "check") : NULL;
    return *check != NULL ? check_read_block(*check, tolerance, err) : MLP_OK;
}

int check_study(const char *dir, double tolerance, char **report, check_counts *counts,
                mlp_error *err)
{
    *report = NULL;
    memset(counts, 0, sizeof *counts);
    report_study *study = NULL;
    const yt_node *check = NULL;
    double study_tolerance = CHECK_DEFAULT_TOLERANCE;
    int rc = report_study_load(dir, &study, err);
    if (rc == MLP_OK)
        rc = read_claims(study, &check, &study_tolerance, err);
    int quick = rc == MLP_OK && study->manifest->quick;
    if (!(tolerance > 0.0))
        tolerance = study_tolerance;
    size_t size = 0;
    FILE *out = rc == MLP_OK ? open_memstream(report, &size) : NULL;
    if (rc == MLP_OK && out == NULL)
        rc = mlp_error_nomem(err, "check");
    const yt_node *gradcheck = rc == MLP_OK ? study->manifest->gradcheck : NULL;
    if (gradcheck != NULL)
        rc = check_gradients(out, study->name, gradcheck, counts, err);
    for (size_t i = 0; rc == MLP_OK && i < study->reference_count; i++) {
        const char *reason = exempt_reason(check, study->references[i].label);
        if (reason != NULL) {
            fprintf(out, "skip %s: %s: published %s %g not checked: %s\n", study->name,
                    study->references[i].label, study->references[i].metric,
                    shown(study->references[i].metric, study->references[i].value), reason);
            counts->skipped++;
            continue;
        }
        if (quick) {
            fprintf(out, "skip %s: %s: published %s %g is for the full profile; this is a quick "
                         "one\n", study->name, study->references[i].label,
                    study->references[i].metric,
                    shown(study->references[i].metric, study->references[i].value));
            counts->skipped++;
            continue;
        }
        check_reference(out, study, &study->references[i], tolerance, counts);
    }
    const yt_node *expect = check != NULL ? yt_map_get(check, "expect") : NULL;
    const yt_node *also_quick = check != NULL ? yt_map_get(check, "quick") : NULL;
    int holds_on_quick = 0;
    if (rc == MLP_OK && also_quick != NULL)
        rc = yt_to_bool(also_quick, "report.check.quick", &holds_on_quick, err);
    for (size_t i = 0; rc == MLP_OK && expect != NULL && i < expect->count; i++) {
        if (quick && !holds_on_quick) {
            fprintf(out, "skip %s: expectation %zu is for the full profile (report.check.quick "
                         "is not true) and this is a quick one\n", study->name, i + 1);
            counts->skipped++;
            continue;
        }
        rc = check_one_expectation(out, study, expect->items[i], counts, err);
    }
    if (out != NULL)
        fclose(out);
    if (rc != MLP_OK) {
        free(*report);
        *report = NULL;
    }
    report_study_free(study);
    return rc;
}
