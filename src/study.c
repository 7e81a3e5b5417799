/* study.c — see study.h. The name checks first (labels, metrics, keys), then
 * one function per block of the study file. */
#include "study.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "diagnostics.h"
#include "figures.h"
#include "measures.h"
#include "report_table.h"
#include "suggest.h"

static const char *const report_keys[] = {"table", "figures", "compare", "check", NULL};
static const char *const table_keys[] = {"metrics", NULL};

/* ---- names -------------------------------------------------------------- */

static int check_keys(const yt_node *map, const char *const *allowed, const char *what,
                      mlp_error *err)
{
    return yt_check_keys(map, allowed, suggest_list_count(allowed), what, NULL, err);
}

/* `label` written at `mark` must be one of the study's labels. */
static int check_label(const char *label, yt_mark mark, const char *what,
                       const study_names *names, mlp_error *err)
{
    for (size_t i = 0; i < names->label_count; i++)
        if (strcmp(names->labels[i], label) == 0)
            return MLP_OK;
    const char *const *labels = (const char *const *)names->labels;
    char near[300], known[1536], hint[1600];
    suggest_did_you_mean(label, labels, names->label_count, near, sizeof near);
    if (names->label_count == 0)
        snprintf(known, sizeof known, "%s", "(none: the study has no labels)");
    else
        suggest_join(labels, names->label_count, 1, known, sizeof known);
    snprintf(hint, sizeof hint, "the labels of %s are: %s", names->name, known);
    return yt_error_at(err, MLP_ERR_CONFIG, mark, hint, "%s names no label '%s' of %s%s", what,
                       label, names->name, near);
}

static int check_label_node(const yt_node *node, const char *what, const study_names *names,
                            mlp_error *err)
{
    const char *label = NULL;
    int rc = yt_to_string(node, what, &label, err);
    return rc == MLP_OK ? check_label(label, node->mark, what, names, err) : rc;
}

/* The last epoch of the runs of `label`, or of any run with label NULL. */
static int last_epoch(const study_names *names, const char *label)
{
    int last = 0;
    for (size_t i = 0; i < names->label_count; i++)
        if ((label == NULL || strcmp(names->labels[i], label) == 0) &&
            names->label_epochs[i] > last)
            last = names->label_epochs[i];
    return last;
}

/* A value `what` (at `node`) claimed for an epoch-valued metric of `label`'s
 * runs (epoch, best_validation_epoch) cannot lie past their last epoch. The
 * quick profile's fewer epochs skip such claims, so only the full one is
 * checked. */
static int check_epoch_claim(const char *metric, double value, const char *label,
                             const yt_node *node, const char *what, const study_names *names,
                             mlp_error *err)
{
    const measure *row = measures_find(metric);
    if (names->quick || row == NULL || strcmp(row->unit, "epoch") != 0)
        return MLP_OK;
    int last = last_epoch(names, label);
    if (value <= last)
        return MLP_OK;
    return yt_error_at(err, MLP_ERR_CONFIG, node->mark,
                       "epochs count from 0 (the untrained network) to train.epochs",
                       "%s is %g, but the runs of '%s' end at epoch %d: the claim can never hold",
                       what, value, label, last);
}

/* Layer K of /diagnostics (1 = the first after the input) must exist in some
 * run that records them. */
static int check_layer(int layer, yt_mark mark, const char *what, const study_names *names,
                       mlp_error *err)
{
    if (layer <= names->diagnostic_layers)
        return MLP_OK;
    return yt_error_at(err, MLP_ERR_CONFIG, mark,
                       "layers count from 1, the first after the input; a network [784, 30, 10] "
                       "has 2",
                       "%s: layer %d, but no run of %s with train.diagnostics has more than %d "
                       "layers", what, layer, names->name, names->diagnostic_layers);
}

/* A confusion figure's seed: must be one the study runs. */
static int check_seed(unsigned long seed, yt_mark mark, size_t figure, const study_names *names,
                      mlp_error *err)
{
    if (names->seeds == NULL)
        return MLP_OK;
    for (size_t i = 0; i < names->seed_count; i++)
        if (names->seeds[i] == seed)
            return MLP_OK;
    return yt_error_at(err, MLP_ERR_CONFIG, mark,
                       "seeds: N runs seeds 1 to N; seeds: [...] the ones listed",
                       "report.figures[%zu].seed: no run of %s has seed %lu", figure,
                       names->name, seed);
}

/* What the bits `needs` stand for must be recorded by the runs of `label`,
 * or with label NULL by all the runs of some label; `subject` names it in
 * the message ("test_accuracy", "a confusion matrix"). */
static int check_recorded(unsigned needs, const char *label, const char *subject, yt_mark mark,
                          const char *what, const study_names *names, mlp_error *err)
{
    size_t first = 0, count = names->label_count;
    for (size_t i = 0; label != NULL && i < count; i++)
        if (strcmp(names->labels[i], label) == 0) {
            first = i;
            count = i + 1;
        }
    unsigned missing = needs;
    for (size_t i = first; i < count; i++) {
        unsigned lacks = needs & ~names->label_records[i];
        if (lacks == 0)
            return MLP_OK;
        if (i == first)
            missing = lacks;
    }
    if (names->label_count == 0)
        return MLP_OK;
    const char *reason = NULL, *hint = NULL;
    measures_unrecorded(missing, names->inline_data, &reason, &hint);
    if (label != NULL)
        return yt_error_at(err, MLP_ERR_CONFIG, mark, hint,
                           "%s: the runs of '%s' do not record %s: %s", what, label, subject,
                           reason);
    return yt_error_at(err, MLP_ERR_CONFIG, mark, hint, "%s: no run of %s records %s: %s", what,
                       names->name, subject, reason);
}

/* The custom metric `metric`, declared by the hook of some run: MLP_OK when a
 * run of `label` (NULL: of any label) has a hook that declares it, else the
 * error that no such run has; *declared = 0 when no hook declares it at all. */
static int check_declared(const char *metric, const char *label, yt_mark mark, const char *what,
                          const study_names *names, int *declared, mlp_error *err)
{
    *declared = 0;
    for (size_t i = 0; i < names->custom_count; i++) {
        const study_custom_metric *custom = &names->custom_metrics[i];
        if (strcmp(custom->name, metric) != 0)
            continue;
        *declared = 1;
        if (label == NULL || strcmp(names->labels[custom->label], label) == 0)
            return MLP_OK;
    }
    if (!*declared)
        return MLP_OK;
    return yt_error_at(err, MLP_ERR_CONFIG, mark,
                       "a custom metric exists only in the runs whose hook returns it: give "
                       "these runs that hook, or name a label whose runs have it",
                       "%s: the runs of '%s' have no hook that declares the custom metric '%s'",
                       what, label, metric);
}

/* `metric` written at `mark` must be a row of measures.h that the runs of
 * `label` (NULL: of some label) record, or a custom metric their hook declares. */
static int check_metric(const char *metric, const char *label, yt_mark mark, const char *what,
                        const study_names *names, mlp_error *err)
{
    int layer = 0;
    const measure *row = measures_find(metric);
    if (row == NULL && diagnostics_metric_name(metric))
        row = measures_diagnostic(metric, &layer);
    if (row != NULL) {
        int rc = check_recorded(row->needs, label, metric, mark, what, names, err);
        return rc == MLP_OK && layer > 0 ? check_layer(layer, mark, what, names, err) : rc;
    }
    int declared = 0;
    int rc = check_declared(metric, label, mark, what, names, &declared, err);
    if (declared || rc != MLP_OK)
        return rc;
    /* Neither: the nearest of the built-in and the declared names, if any is near. */
    const char **custom = malloc((names->custom_count + 1) * sizeof *custom);
    if (custom == NULL)
        return mlp_error_nomem(err, "the custom metrics");
    size_t n_custom = 0;
    custom[0] = NULL;
    for (size_t i = 0; i < names->custom_count; i++)
        if (!suggest_list_has(custom, names->custom_metrics[i].name)) {
            custom[n_custom++] = names->custom_metrics[i].name;
            custom[n_custom] = NULL;
        }
    char near[128], listed[1024], hint[1400];
    measures_did_you_mean(metric, custom, n_custom, near, sizeof near);
    suggest_join(custom, n_custom, 0, listed, sizeof listed);
    free(custom);
    static const char builtin[] = "the metrics are the /metrics fields (test_accuracy, "
                                  "train_cost, ...), the per-run columns (best_test_accuracy, "
                                  "seconds_per_epoch, ...; docs/reports.md)";
    if (n_custom > 0)
        snprintf(hint, sizeof hint, "%s and the custom metrics this study's hooks declare: %s",
                 builtin, listed);
    else if (names->has_hooks)
        snprintf(hint, sizeof hint, "%s and the custom metrics a hook declares in "
                 "custom_metrics (docs/hooks.md): no hook of this study declares one", builtin);
    else
        snprintf(hint, sizeof hint, "%s and custom metrics, which only a Lua hook returns: no "
                 "run of this study has one", builtin);
    return yt_error_at(err, MLP_ERR_CONFIG, mark, hint, "%s names no metric '%s'%s", what, metric,
                       near);
}

static int check_metric_node(const yt_node *node, const char *label, const char *what,
                             const study_names *names, mlp_error *err)
{
    const char *metric = NULL;
    int rc = yt_to_string(node, what, &metric, err);
    return rc == MLP_OK ? check_metric(metric, label, node->mark, what, names, err) : rc;
}

/* ---- the blocks ---------------------------------------------------------- */

/* One published figure per label and metric: two would be checked against
 * each other's tolerance, and the table could show only one. */
static int check_reference_once(const yt_node *reference, size_t i, const char *label,
                                const char *metric, yt_mark mark, mlp_error *err)
{
    for (size_t j = 0; j < i; j++) {
        const yt_node *earlier = reference->items[j];
        const yt_node *earlier_label = yt_map_get(earlier, "label");
        if (earlier_label != NULL && earlier_label->kind == YT_SCALAR &&
            strcmp(earlier_label->scalar, label) == 0 && yt_map_get(earlier, metric) != NULL)
            return yt_error_at(err, MLP_ERR_CONFIG, mark,
                               "keep the one the study compares with; name the other in its "
                               "description",
                               "reference[%zu] gives '%s' a second published %s (reference[%zu] "
                               "gave the first)", i, label, metric, j);
    }
    return MLP_OK;
}

/* reference: [{label, source?, METRIC: value, ...}] (plan has normalized the
 * {metric:, value:} form and checked the values). */
static int check_reference(const yt_node *reference, const study_names *names, mlp_error *err)
{
    for (size_t i = 0; i < reference->count; i++) {
        const yt_node *item = reference->items[i];
        char what[64];
        snprintf(what, sizeof what, "reference[%zu]", i);
        const yt_node *label = yt_map_get(item, "label");
        int rc = check_label_node(label, what, names, err);
        for (size_t k = 0; rc == MLP_OK && k < item->count; k++) {
            const char *metric = item->keys[k];
            if (strcmp(metric, "label") == 0 || strcmp(metric, "source") == 0)
                continue;
            char value_what[160];
            snprintf(value_what, sizeof value_what, "%s.%s", what, metric);
            double value = 0.0;
            rc = check_metric(metric, label->scalar, item->key_marks[k], what, names, err);
            if (rc == MLP_OK)
                rc = yt_to_double(item->items[k], value_what, &value, err);
            if (rc == MLP_OK)
                rc = check_value_in_bounds(metric, value, item->items[k], value_what, err);
            if (rc == MLP_OK)
                rc = check_epoch_claim(metric, value, label->scalar, item->items[k], value_what,
                                       names, err);
            if (rc == MLP_OK)
                rc = check_reference_once(reference, i, label->scalar, metric, item->key_marks[k],
                                          err);
        }
        if (rc != MLP_OK)
            return rc;
    }
    return MLP_OK;
}

static int check_table(const yt_node *table, const study_names *names, mlp_error *err)
{
    int rc = yt_expect_kind(table, YT_MAPPING, "report.table",
                            "e.g. table: {metrics: [test_accuracy, best_validation_accuracy]}", err);
    if (rc == MLP_OK)
        rc = check_keys(table, table_keys, "report.table", err);
    const yt_node *metrics = rc == MLP_OK ? yt_map_get(table, "metrics") : NULL;
    if (metrics == NULL)
        return rc;
    rc = yt_expect_kind(metrics, YT_SEQUENCE, "report.table.metrics",
                        "e.g. metrics: [test_accuracy, best_validation_accuracy]", err);
    if (rc == MLP_OK && metrics->count == 0)
        return yt_error_at(err, MLP_ERR_CONFIG, metrics->mark,
                           "leave report.table out for the default columns (docs/reports.md)",
                           "report.table.metrics is empty: a table has at least one column");
    for (size_t i = 0; rc == MLP_OK && i < metrics->count; i++) {
        rc = check_metric_node(metrics->items[i], NULL, "report.table.metrics", names, err);
        for (size_t j = 0; rc == MLP_OK && j < i; j++)
            if (strcmp(metrics->items[j]->scalar, metrics->items[i]->scalar) == 0)
                rc = yt_error_at(err, MLP_ERR_CONFIG, metrics->items[i]->mark,
                                 "each metric is one column: remove one",
                                 "report.table.metrics names %s twice", metrics->items[i]->scalar);
    }
    return rc;
}

/* A per-epoch figure's x range must hold some epoch of the runs it draws
 * (0 to train.epochs); gnuplot would draw an empty range as a smear of ticks.
 * Only the full profile's xmin is checked: the quick one's are fewer. */
static int check_x_range(const figure_spec *spec, const yt_node *item, size_t i,
                         const study_names *names, mlp_error *err)
{
    int last = last_epoch(names, spec->label);
    if (spec->has_xmax && spec->xmax <= 0)
        return yt_error_at(err, MLP_ERR_CONFIG, yt_map_get(item, "xmax")->mark,
                           "epochs count from 0 (the untrained network) to train.epochs",
                           "report.figures[%zu].xmax is %g: no epoch lies below it", i,
                           spec->xmax);
    if (spec->has_xmin && !names->quick && spec->xmin >= last)
        return yt_error_at(err, MLP_ERR_CONFIG, yt_map_get(item, "xmin")->mark,
                           "epochs count from 0 (the untrained network) to train.epochs",
                           "report.figures[%zu].xmin is %g, but the runs it draws end at epoch %d",
                           i, spec->xmin, last);
    return MLP_OK;
}

/* The figure parser `mlplab figures` uses, without runs; then the metrics. */
static int check_figures(const yt_node *figures, const study_names *names, mlp_error *err)
{
    figure_list list;
    int rc = figures_parse(figures, names->name, names->labels, names->label_count, NULL, &list,
                           err);
    if (rc != MLP_OK)
        return rc;
    for (size_t i = 0; rc == MLP_OK && i < figures->count; i++) {
        const figure_spec *spec = &list.figures[i];
        const yt_node *item = figures->items[i];
        char what[64];
        int confusion = spec->plot == FIGURE_CONFUSION;
        if (!confusion && (rc = check_x_range(spec, item, i, names, err)) != MLP_OK)
            break;
        if (!confusion && spec->plot != FIGURE_DIAGNOSTICS_VS_EPOCH) {
            snprintf(what, sizeof what, "report.figures[%zu].metric", i);
            rc = check_metric_node(yt_map_get(item, "metric"), spec->label, what, names, err);
            continue;
        }
        /* A confusion figure's metric is a matrix's path, a diagnostics figure's a
         * /diagnostics field, which figures_parse checked; the runs must record them. */
        snprintf(what, sizeof what, "report.figures[%zu]", i);
        rc = check_recorded(figures_needs(spec), spec->label,
                            confusion ? "confusion matrices" : "/diagnostics",
                            yt_map_get(item, confusion ? "metric" : "plot")->mark, what, names,
                            err);
        if (rc == MLP_OK && confusion && spec->has_seed)
            rc = check_seed(spec->seed, yt_map_get(item, "seed")->mark, i, names, err);
        snprintf(what, sizeof what, "report.figures[%zu].layer", i);
        if (rc == MLP_OK && !confusion && spec->layer > 0)
            rc = check_layer(spec->layer, yt_map_get(item, "layer")->mark, what, names, err);
    }
    figure_list_free(&list);
    return rc;
}

/* Two checked pairs of labels name the same two, in either order. */
static int same_pair(const yt_node *a, const yt_node *b)
{
    const char *a0 = a->items[0]->scalar, *a1 = a->items[1]->scalar;
    const char *b0 = b->items[0]->scalar, *b1 = b->items[1]->scalar;
    return (strcmp(a0, b0) == 0 && strcmp(a1, b1) == 0) ||
           (strcmp(a0, b1) == 0 && strcmp(a1, b0) == 0);
}

static int check_compare(const yt_node *compare, const study_names *names, mlp_error *err)
{
    const char *hint = "write compare: [[label A, label B], ...]";
    int rc = yt_expect_kind(compare, YT_SEQUENCE, "report.compare", hint, err);
    for (size_t i = 0; rc == MLP_OK && i < compare->count; i++) {
        const yt_node *pair = compare->items[i];
        if (pair->kind != YT_SEQUENCE || pair->count != 2)
            return yt_error_at(err, MLP_ERR_CONFIG, pair->mark, "write [label A, label B]",
                               "report.compare items must be pairs of labels");
        for (size_t k = 0; rc == MLP_OK && k < 2; k++)
            rc = check_label_node(pair->items[k], "report.compare", names, err);
        if (rc == MLP_OK && strcmp(pair->items[0]->scalar, pair->items[1]->scalar) == 0)
            rc = yt_error_at(err, MLP_ERR_CONFIG, pair->items[1]->mark,
                             "a comparison is of two different labels",
                             "report.compare[%zu] compares '%s' with itself", i,
                             pair->items[0]->scalar);
        for (size_t j = 0; rc == MLP_OK && j < i; j++)
            if (same_pair(compare->items[j], pair))
                rc = yt_error_at(err, MLP_ERR_CONFIG, pair->mark, "remove one of them",
                                 "report.compare[%zu] compares '%s' and '%s' again "
                                 "(report.compare[%zu])", i, pair->items[0]->scalar,
                                 pair->items[1]->scalar, j);
        /* What is compared is REPORT_COMPARED_METRIC's final values. */
        for (size_t k = 0; rc == MLP_OK && k < 2; k++)
            rc = check_recorded(measures_find(REPORT_COMPARED_METRIC)->needs,
                                pair->items[k]->scalar,
                                REPORT_COMPARED_METRIC " (report.compare compares its final values)",
                                pair->items[k]->mark, "report.compare", names, err);
    }
    return rc;
}

/* The claim reader `mlplab check` uses; then the labels and metrics it names. */
/* Some reference: item names `label`. */
static int has_reference(const yt_node *reference, const char *label)
{
    for (size_t i = 0; reference != NULL && i < reference->count; i++) {
        const yt_node *item = yt_map_get(reference->items[i], "label");
        if (item != NULL && item->kind == YT_SCALAR && strcmp(item->scalar, label) == 0)
            return 1;
    }
    return 0;
}

static int check_claims(const yt_node *check, const yt_node *reference, const study_names *names,
                        mlp_error *err)
{
    double tolerance;
    int rc = check_read_block(check, &tolerance, err);
    const yt_node *expect = rc == MLP_OK ? yt_map_get(check, "expect") : NULL;
    for (size_t i = 0; rc == MLP_OK && expect != NULL && i < expect->count; i++) {
        check_expectation e;
        rc = check_read_expectation(expect->items[i], &e, err);
        if (rc == MLP_OK)
            rc = check_label(e.label, e.label_node->mark, "report.check.expect", names, err);
        if (rc == MLP_OK)
            rc = check_metric(e.metric, e.label, e.metric_node->mark, "report.check.expect",
                              names, err);
        if (rc == MLP_OK && e.has_min)
            rc = check_epoch_claim(e.metric, e.low, e.label, yt_map_get(expect->items[i], "min"),
                                   "report.check.expect.min", names, err);
    }
    const yt_node *exempt = rc == MLP_OK ? yt_map_get(check, "exempt") : NULL;
    for (size_t i = 0; rc == MLP_OK && exempt != NULL && i < exempt->count; i++) {
        const yt_node *label = yt_map_get(exempt->items[i], "label");
        rc = check_label_node(label, "report.check.exempt", names, err);
        if (rc == MLP_OK && !has_reference(reference, label->scalar))
            rc = yt_error_at(err, MLP_ERR_CONFIG, label->mark,
                             "an exemption skips a label's published values (reference:): "
                             "remove it, or add the reference",
                             "report.check.exempt: '%s' has no reference: to exempt",
                             label->scalar);
    }
    return rc;
}

int study_check_report(const yt_node *reference, const yt_node *report, const study_names *names,
                       mlp_error *err)
{
    int rc = reference != NULL ? check_reference(reference, names, err) : MLP_OK;
    if (rc != MLP_OK || report == NULL)
        return rc;
    if ((rc = check_keys(report, report_keys, "report", err)) != MLP_OK)
        return rc;
    const yt_node *node = yt_map_get(report, "table");
    if (node != NULL && (rc = check_table(node, names, err)) != MLP_OK)
        return rc;
    node = yt_map_get(report, "figures");
    if (node != NULL && (rc = check_figures(node, names, err)) != MLP_OK)
        return rc;
    node = yt_map_get(report, "compare");
    if (node != NULL && (rc = check_compare(node, names, err)) != MLP_OK)
        return rc;
    node = yt_map_get(report, "check");
    if (node != NULL && (rc = check_claims(node, reference, names, err)) != MLP_OK)
        return rc;
    return MLP_OK;
}
