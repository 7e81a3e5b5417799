/* figures.c — see figures.h. The `report.figures` list of study.yaml: parsing
 * with located errors, defaults, data files and the gnuplot assignments. */
#include "figures.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diagnostics.h"
#include "fsutil.h"
#include "latex.h"
#include "measures.h"
#include "numtext.h"
#include "report_series.h"
#include "suggest.h"

static const char *const plot_names[] = {"metric-vs-epoch", "final-errorbars", "cost-vs-epoch",
                                         "confusion", "diagnostics-vs-epoch"};
enum { PLOT_COUNT = sizeof plot_names / sizeof plot_names[0] };

static const char *const figure_keys[] = {
    "plot", "metric", "name", "label", "title", "ylabel", "xlabel", "keypos",
    "scale", "logy", "ymin", "ymax", "xmin", "xmax", "points", "seeds", "summary", "size",
    "seed", "layer",
};

static const char *const summary_names[] = {"mean-ci", "median-range"};
enum { SUMMARY_COUNT = sizeof summary_names / sizeof summary_names[0] };
static const char *const size_names[] = {"column", "page"};
enum { SIZE_COUNT = sizeof size_names / sizeof size_names[0] };
enum { KEY_COUNT = sizeof figure_keys / sizeof figure_keys[0] };

enum { NAME_MAX_LENGTH = 200 };

const char *figures_plot_name(figure_plot plot)
{
    return (size_t)plot < PLOT_COUNT ? plot_names[plot] : "?";
}

void figures_y_bounds(const figure_spec *spec, double *low, double *high)
{
    report_metric_bounds(spec->metric, low, high);
    *low *= spec->scale;
    *high *= spec->scale;
    if (*low > *high) {   /* a negative scale turns the axis over */
        double swap = *low;
        *low = *high;
        *high = swap;
    }
    if (isnan(*low))      /* 0 * inf */
        *low = -INFINITY;
    if (isnan(*high))
        *high = INFINITY;
}

/* ---- small helpers ------------------------------------------------------ */

/* malloc'ed printf; NULL on out-of-memory. */
static char *format_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *format_text(const char *fmt, ...)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    if (out == NULL)
        return NULL;
    va_list args;
    va_start(args, fmt);
    vfprintf(out, fmt, args);
    va_end(args);
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

static int is_file_name(const char *name)
{
    if (name[0] == '\0' || name[0] == '.' || strlen(name) > NAME_MAX_LENGTH)
        return 0;
    for (const char *p = name; *p; p++)
        if (!is_name_char(*p))
            return 0;
    return 1;
}

/* keypos is spliced into `eval "set key ..."`: words and numbers only. */
static int is_safe_keypos(const char *text)
{
    for (const char *p = text; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == ' ' || c == ',' || c == '.' || c == '-' || c == '+'))
            return 0;
    }
    return 1;
}

/* ---- parsing ------------------------------------------------------------ */

static void spec_free(figure_spec *spec)
{
    free(spec->metric);
    free(spec->name);
    free(spec->label);
    free(spec->title);
    free(spec->ylabel);
    free(spec->xlabel);
    free(spec->keypos);
}

void figure_list_free(figure_list *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->count; i++)
        spec_free(&list->figures[i]);
    free(list->figures);
    list->figures = NULL;
    list->count = 0;
}

/* What the parser needs about the study. */
typedef struct parse_context {
    const char *study_name;
    char *const *labels;
    size_t label_count;
    const report_study *study;
} parse_context;

/* A string value into *out (replacing it). */
static int take_string(const yt_node *node, const char *what, char **out, mlp_error *err)
{
    const char *text = NULL;
    int rc = yt_to_string(node, what, &text, err);
    if (rc != MLP_OK)
        return rc;
    free(*out);
    *out = strdup(text);
    return *out == NULL ? mlp_error_nomem(err, "figures") : MLP_OK;
}

static int take_number(const yt_node *node, const char *what, double *out, mlp_error *err)
{
    int rc = yt_to_double(node, what, out, err);
    if (rc == MLP_OK && !isfinite(*out))
        rc = yt_error_at(err, MLP_ERR_CONFIG, node->mark, "write a finite number",
                         "%s must be a finite number", what);
    return rc;
}

/* One of a fixed list of words: its index into *index. "what" is the key's
 * place ("report.figures[0].summary"), whose last part names it in the error. */
static int take_choice(const yt_node *node, const char *what, const char *const *names,
                       size_t count, const char *hint, size_t *index, mlp_error *err)
{
    const char *text = NULL;
    int rc = yt_to_string(node, what, &text, err);
    if (rc != MLP_OK)
        return rc;
    for (*index = 0; *index < count; (*index)++)
        if (strcmp(text, names[*index]) == 0)
            return MLP_OK;
    const char *key = strrchr(what, '.');
    return yt_error_at(err, MLP_ERR_CONFIG, node->mark, hint, "unknown %s '%s'",
                       key != NULL ? key + 1 : what, text);
}

/* 0/1 or true/false. */
static int take_flag(const yt_node *node, const char *what, int *out, mlp_error *err)
{
    if (node->kind == YT_SCALAR && !node->quoted &&
        (strcmp(node->scalar, "0") == 0 || strcmp(node->scalar, "1") == 0)) {
        *out = node->scalar[0] == '1';
        return MLP_OK;
    }
    if (yt_to_bool(node, what, out, NULL) == MLP_OK)
        return MLP_OK;
    return yt_error_at(err, MLP_ERR_CONFIG, node->mark, "write 0, 1, true or false",
                       "%s must be 0, 1, true or false", what);
}

/* The matrices a confusion figure can draw: the run file's /confusion paths
 * (docs/run-file.md), and the keys it takes. */
static const char *const confusion_metrics[] = {
    "confusion/final/test", "confusion/final/validation", "confusion/best_validation/test",
    "confusion/best_validation/validation",
};
/* What a run needs to have each (measures.h): classes and the part; the
 * best-validation epoch, a validation part. */
static const unsigned confusion_needs[] = {
    MEASURE_CLASSES | MEASURE_TEST, MEASURE_CLASSES | MEASURE_VALIDATION,
    MEASURE_CLASSES | MEASURE_VALIDATION | MEASURE_TEST, MEASURE_CLASSES | MEASURE_VALIDATION,
};
enum { CONFUSION_METRICS = sizeof confusion_metrics / sizeof confusion_metrics[0] };
_Static_assert(sizeof confusion_needs / sizeof confusion_needs[0] == CONFUSION_METRICS,
               "one need per confusion matrix");

unsigned figures_needs(const figure_spec *spec)
{
    if (spec->plot == FIGURE_CONFUSION) {
        for (size_t i = 0; i < CONFUSION_METRICS; i++)
            if (strcmp(spec->metric, confusion_metrics[i]) == 0)
                return confusion_needs[i];
        return 0;
    }
    int layer = 0;
    const measure *row = measures_find(spec->metric);
    if (row == NULL)
        row = measures_diagnostic(spec->metric, &layer);
    return row != NULL ? row->needs : 0;
}

static const char *const confusion_keys[] = {"plot", "metric", "label", "seed", "name", "title"};

static int check_plot_allows(const figure_spec *spec, const yt_node *item, mlp_error *err)
{
    if (spec->plot == FIGURE_CONFUSION) {
        for (size_t k = 0; k < item->count; k++) {
            int allowed = 0;
            for (size_t i = 0; i < sizeof confusion_keys / sizeof confusion_keys[0]; i++)
                allowed |= strcmp(item->keys[k], confusion_keys[i]) == 0;
            if (!allowed)
                return yt_error_at(err, MLP_ERR_CONFIG, item->key_marks[k],
                                   "a confusion figure takes plot, metric, label, seed, name "
                                   "and title",
                                   "%s does not apply to plot: confusion", item->keys[k]);
        }
        return MLP_OK;
    }
    for (size_t k = 0; k < item->count; k++) {
        if (strcmp(item->keys[k], "seed") == 0)
            return yt_error_at(err, MLP_ERR_CONFIG, item->key_marks[k],
                               "seed picks the run of a plot: confusion figure",
                               "seed does not apply to plot: %s", figures_plot_name(spec->plot));
        if (strcmp(item->keys[k], "layer") == 0 && spec->plot != FIGURE_DIAGNOSTICS_VS_EPOCH)
            return yt_error_at(err, MLP_ERR_CONFIG, item->key_marks[k],
                               "layer picks the layer of a plot: diagnostics-vs-epoch figure",
                               "layer does not apply to plot: %s", figures_plot_name(spec->plot));
    }
    /* final-errorbars has labels on its x axis and its key below the bars. */
    static const char *const not_final[] = {"xlabel", "keypos", "xmin", "xmax", "points"};
    for (size_t k = 0; k < item->count; k++) {
        const char *key = item->keys[k];
        int refused = 0;
        if (spec->plot == FIGURE_FINAL_ERRORBARS)
            for (size_t i = 0; i < sizeof not_final / sizeof not_final[0]; i++)
                refused |= strcmp(key, not_final[i]) == 0;
        if (spec->plot == FIGURE_COST_VS_EPOCH)
            refused |= strcmp(key, "seeds") == 0;
        if (refused)
            return yt_error_at(err, MLP_ERR_CONFIG, item->key_marks[k],
                               strcmp(key, "seeds") == 0
                                   ? "seeds draws every run: use plot: metric-vs-epoch or "
                                     "final-errorbars"
                                   : "final-errorbars has one bar per label on its x axis and its "
                                     "legend below the plot",
                               "%s does not apply to plot: %s", key,
                               figures_plot_name(spec->plot));
    }
    return MLP_OK;
}

/* A y range past what the metric can take (an accuracy above 100 %) would
 * draw an axis no reader should see. */
static int check_bounds(const figure_spec *spec, const yt_node *item, mlp_error *err)
{
    double low, high;
    figures_y_bounds(spec, &low, &high);
    if (spec->has_ymin && spec->ymin < low)
        return yt_error_at(err, MLP_ERR_CONFIG, yt_map_get(item, "ymin")->mark,
                           "leave ymin out, or give one within the metric's bounds",
                           "ymin (%g) lies below the lowest value %s can take (%g, plotted)",
                           spec->ymin, spec->metric, low);
    if (spec->has_ymax && spec->ymax > high)
        return yt_error_at(err, MLP_ERR_CONFIG, yt_map_get(item, "ymax")->mark,
                           "leave ymax out, or give one within the metric's bounds",
                           "ymax (%g) lies above the highest value %s can take (%g, plotted)",
                           spec->ymax, spec->metric, high);
    return MLP_OK;
}

/* The title and y label a figure gets when the study gives none, from the
 * metric's row in measures.h: its label ("test accuracy"), with its unit when
 * plotted in it ("test accuracy (%)"); a custom metric is named as it is.
 * A final-errorbars figure of a per-epoch metric shows its final value. */
static int default_texts(figure_spec *spec, const char *study_name)
{
    const measure *row = measures_find(spec->metric);
    const char *label = row != NULL ? row->label : spec->metric;
    const char *unit = row != NULL ? row->unit : measures_is_percent(spec->metric) ? "%" : "";
    /* The unit holds only at the metric's own scale (scale: 1 on an accuracy
     * plots fractions). */
    if (spec->scale != measures_scale(spec->metric))
        unit = "";
    int final = spec->plot == FIGURE_FINAL_ERRORBARS && (row == NULL || row->per_epoch);
    int layer = 0;
    if (row == NULL && spec->plot == FIGURE_DIAGNOSTICS_VS_EPOCH &&
        (row = measures_diagnostic(spec->metric, &layer)) != NULL) {
        /* "saturated fraction, layer 2" (a curve per label), "... per layer" */
        char *what = layer > 0 ? format_text("%s, layer %d", row->label, layer)
                               : format_text("%s per layer", row->label);
        if (what == NULL)
            return MLP_ERR_RUN;
        if (spec->title == NULL)
            spec->title = spec->label != NULL
                              ? format_text("%s: %s, %s", study_name, what, spec->label)
                              : format_text("%s: %s", study_name, what);
        free(what);
        if (spec->ylabel == NULL)
            spec->ylabel = strdup(row->label);
        return spec->title != NULL && spec->ylabel != NULL ? MLP_OK : MLP_ERR_RUN;
    }
    if (spec->title == NULL)
        spec->title = spec->label != NULL
                          ? format_text("%s: %s%s, %s", study_name, final ? "final " : "", label,
                                        spec->label)
                          : format_text("%s: %s%s", study_name, final ? "final " : "", label);
    if (spec->ylabel == NULL)
        spec->ylabel = unit[0] != '\0' && strcmp(unit, "epoch") != 0
                           ? format_text("%s (%s)", label, unit)
                           : strdup(label);
    return spec->title != NULL && spec->ylabel != NULL ? MLP_OK : MLP_ERR_RUN;
}

/* The string keys an item has (name, label, title, ylabel, xlabel, keypos),
 * into spec; the name must be a file name. */
static int take_strings(const yt_node *item, const char *where, figure_spec *spec, mlp_error *err)
{
    static const char *const string_keys[] = {"name", "label", "title", "ylabel", "xlabel",
                                              "keypos"};
    char **string_fields[] = {&spec->name,   &spec->label,  &spec->title,
                              &spec->ylabel, &spec->xlabel, &spec->keypos};
    char what[96];
    for (size_t i = 0; i < sizeof string_keys / sizeof string_keys[0]; i++) {
        const yt_node *node = yt_map_get(item, string_keys[i]);
        snprintf(what, sizeof what, "%s.%s", where, string_keys[i]);
        int rc = node != NULL ? take_string(node, what, string_fields[i], err) : MLP_OK;
        if (rc != MLP_OK)
            return rc;
    }
    const yt_node *node = yt_map_get(item, "name");
    if (node != NULL && !is_file_name(spec->name))
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark,
                           "use letters, digits, '.', '_' and '-', not starting with '.'",
                           "'%s' is not a figure name", spec->name);
    return MLP_OK;
}

static int check_label(const yt_node *node, const parse_context *ctx, const char *label,
                       mlp_error *err);

/* The rest of a plot: confusion item: which matrix (metric), of which run
 * (label, seed), and the file name and title. */
static int parse_confusion(const yt_node *item, const char *where, const parse_context *ctx,
                           figure_spec *spec, mlp_error *err)
{
    char what[96], known[160] = "";
    for (size_t i = 0; i < CONFUSION_METRICS; i++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                 confusion_metrics[i]);
    char hint[256];
    snprintf(hint, sizeof hint, "metric is the matrix's path in the run file: %s", known);
    const yt_node *node = yt_map_get(item, "metric");
    if (node == NULL)
        return yt_error_at(err, MLP_ERR_CONFIG, item->mark, hint, "%s has no metric", where);
    snprintf(what, sizeof what, "%s.metric", where);
    int rc = take_string(node, what, &spec->metric, err);
    if (rc != MLP_OK)
        return rc;
    int found = 0;
    for (size_t i = 0; i < CONFUSION_METRICS && !found; i++)
        found = strcmp(spec->metric, confusion_metrics[i]) == 0;
    if (!found)
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark, hint,
                           "'%s' is not a confusion matrix of the run file", spec->metric);
    if ((node = yt_map_get(item, "label")) == NULL)
        return yt_error_at(err, MLP_ERR_CONFIG, item->mark,
                           "a confusion matrix is one run's: add label: (and seed:)",
                           "%s has no label", where);
    snprintf(what, sizeof what, "%s.label", where);
    if ((rc = take_string(node, what, &spec->label, err)) != MLP_OK ||
        (rc = check_label(node, ctx, spec->label, err)) != MLP_OK)
        return rc;
    if ((node = yt_map_get(item, "seed")) != NULL) {
        long seed = 0;
        snprintf(what, sizeof what, "%s.seed", where);
        if ((rc = yt_to_long(node, what, &seed, err)) != MLP_OK)
            return rc;
        if (seed < 0)
            return yt_error_at(err, MLP_ERR_CONFIG, node->mark, "a seed of the study's runs",
                               "seed must not be negative");
        spec->seed = (unsigned long)seed;
        spec->has_seed = 1;
    }
    if ((rc = take_strings(item, where, spec, err)) != MLP_OK)
        return rc;
    const char *when = strstr(spec->metric, "best_validation") ? "best-validation" : "final";
    const char *part = strstr(spec->metric, "/validation") ? "validation" : "test";
    if (spec->name == NULL) {
        char *slug = figures_slug(spec->label);
        if (slug == NULL)
            return mlp_error_nomem(err, "figures");
        spec->name = spec->has_seed ? format_text("confusion-%s-%s-%s-seed%lu", when, part, slug,
                                                  spec->seed)
                                    : format_text("confusion-%s-%s-%s", when, part, slug);
        free(slug);
    }
    char seed_text[40] = "";
    if (spec->has_seed)
        snprintf(seed_text, sizeof seed_text, ", seed %lu", spec->seed);
    if (spec->title == NULL)
        spec->title = format_text("%s: %s confusion matrix (%s), %s%s", ctx->study_name, part,
                                  when, spec->label, seed_text);
    spec->ylabel = strdup("true class");
    spec->scale = 1.0;
    spec->logy = -1;
    if (spec->name == NULL || spec->title == NULL || spec->ylabel == NULL)
        return mlp_error_nomem(err, "figures");
    return MLP_OK;
}

/* The layers a label's runs record a /diagnostics field for: K = 1, 2, ...
 * while some run of the label has layerK_FIELD. */
static int label_layers(const report_study *study, const char *label, const char *field)
{
    int layers = 0;
    for (int k = 1; k <= DIAGNOSTICS_MAX_LAYERS; k++) {
        char name[96];
        snprintf(name, sizeof name, "layer%d_%s", k, field);
        int found = 0;
        for (size_t i = 0; i < study->run_count && !found; i++)
            found = strcmp(study->labels[study->runs[i].label], label) == 0 &&
                    metrics_history_custom_index(&study->runs[i].data.history, name) >= 0;
        if (!found)
            break;
        layers = k;
    }
    return layers;
}

/* The metric of a plot: diagnostics-vs-epoch item, a /diagnostics field, and
 * its layer: with layer: K one curve per label (the metric becomes
 * layerK_FIELD, drawn as metric-vs-epoch draws it); without, one curve per
 * layer of the one label the item must name. */
static int parse_diagnostics(const yt_node *item, const char *where, const parse_context *ctx,
                             figure_spec *spec, mlp_error *err)
{
    char what[96], fields[160] = "", hint[256];
    for (size_t i = 0; i < DIAGNOSTICS_FIELDS; i++)
        snprintf(fields + strlen(fields), sizeof fields - strlen(fields), "%s%s", i ? ", " : "",
                 diagnostics_field_names[i]);
    snprintf(hint, sizeof hint, "metric is a /diagnostics field: %s", fields);
    const yt_node *node = yt_map_get(item, "metric");
    if (node == NULL)
        return yt_error_at(err, MLP_ERR_CONFIG, item->mark, hint, "%s has no metric", where);
    snprintf(what, sizeof what, "%s.metric", where);
    char *field = NULL;
    int rc = take_string(node, what, &field, err), layer = 0;
    if (rc != MLP_OK)
        return rc;
    if (measures_diagnostic(field, &layer) == NULL || layer != 0) {
        if (layer != 0)
            snprintf(hint, sizeof hint, "write metric: %s, layer: %d", strchr(field, '_') + 1,
                     layer);
        rc = yt_error_at(err, MLP_ERR_CONFIG, node->mark, hint,
                         "'%s' is not a /diagnostics field", field);
        free(field);
        return rc;
    }
    const yt_node *layer_node = yt_map_get(item, "layer");
    if (layer_node != NULL) {
        long k = 0;
        snprintf(what, sizeof what, "%s.layer", where);
        if ((rc = yt_to_long(layer_node, what, &k, err)) == MLP_OK &&
            (k < 1 || k > DIAGNOSTICS_MAX_LAYERS))
            rc = yt_error_at(err, MLP_ERR_CONFIG, layer_node->mark,
                             "1 is the first layer after the input, as in /diagnostics",
                             "layer must lie between 1 and %d", DIAGNOSTICS_MAX_LAYERS);
        spec->layer = (int)k;
    } else if (yt_map_get(item, "label") == NULL) {
        rc = yt_error_at(err, MLP_ERR_CONFIG, item->mark,
                         "add layer: K for one curve per label, or label: for one curve per "
                         "layer of that label",
                         "%s has neither layer nor label", where);
    } else {
        for (size_t k = 0; k < item->count && rc == MLP_OK; k++)
            if (strcmp(item->keys[k], "seeds") == 0)
                rc = yt_error_at(err, MLP_ERR_CONFIG, item->key_marks[k],
                                 "seeds draws every run of a curve per label: add layer: K",
                                 "seeds does not apply to one curve per layer");
    }
    if (rc != MLP_OK) {
        free(field);
        return rc;
    }
    if (spec->layer > 0) {
        spec->metric = format_text("layer%d_%s", spec->layer, field);
        free(field);
        if (spec->metric == NULL)
            return mlp_error_nomem(err, "figures");
    } else {
        spec->metric = field;
    }
    const report_study *study = ctx->study;
    char first[96];
    snprintf(first, sizeof first, "layer1_%s", spec->metric);
    if (study != NULL && study->run_count > 0 &&
        !report_metric_known(study, spec->layer > 0 ? spec->metric : first))
        return yt_error_at(err, MLP_ERR_CONFIG, yt_map_get(item, "metric")->mark,
                           "the runs record /diagnostics with train.diagnostics: true",
                           "no run of %s has the metric '%s'", ctx->study_name,
                           spec->layer > 0 ? spec->metric : first);
    return MLP_OK;
}

/* label must be one of the study's. */
static int check_label(const yt_node *node, const parse_context *ctx, const char *label,
                       mlp_error *err)
{
    for (size_t l = 0; l < ctx->label_count; l++)
        if (strcmp(ctx->labels[l], label) == 0)
            return MLP_OK;
    char known[1536], hint[1600], near[300];
    const char *const *labels = (const char *const *)ctx->labels;
    if (ctx->label_count == 0)
        snprintf(known, sizeof known, "%s", "(none: the study has no labels yet)");
    else
        suggest_join(labels, ctx->label_count, 1, known, sizeof known);
    snprintf(hint, sizeof hint, "the labels of %s are: %s", ctx->study_name, known);
    suggest_did_you_mean(label, labels, ctx->label_count, near, sizeof near);
    return yt_error_at(err, MLP_ERR_CONFIG, node->mark, hint, "no label '%s' in %s%s", label,
                       ctx->study_name, near);
}

/* The metric of any plot but confusion and diagnostics-vs-epoch. */
static int parse_metric(const yt_node *item, const char *where, const parse_context *ctx,
                        figure_spec *spec, mlp_error *err)
{
    char what[96];
    const yt_node *metric_node = yt_map_get(item, "metric");
    int rc;
    if (metric_node == NULL)
        return yt_error_at(err, MLP_ERR_CONFIG, item->mark,
                           "add metric: test_accuracy (a /metrics field, a custom metric, or "
                           "for final-errorbars a table column)",
                           "%s has no metric", where);
    snprintf(what, sizeof what, "%s.metric", where);
    if ((rc = take_string(metric_node, what, &spec->metric, err)) != MLP_OK)
        return rc;
    int per_epoch = spec->plot != FIGURE_FINAL_ERRORBARS;
    if (spec->metric[0] == '\0')
        return yt_error_at(err, MLP_ERR_CONFIG, metric_node->mark, NULL, "%s is empty", what);
    const measure *row = measures_find(spec->metric);
    if (per_epoch && row != NULL && !row->per_epoch)
        return yt_error_at(err, MLP_ERR_CONFIG, metric_node->mark,
                           "draw it with plot: final-errorbars",
                           "'%s' is one number per run, not per epoch", spec->metric);
    const report_study *study = ctx->study;
    if (study != NULL && study->run_count > 0 && !report_metric_known(study, spec->metric))
        return yt_error_at(err, MLP_ERR_CONFIG, metric_node->mark,
                           "use a /metrics field (test_accuracy, train_cost, ...), a custom "
                           "metric the runs record, or for final-errorbars a table column",
                           "no run of %s has the metric '%s'", ctx->study_name, spec->metric);
    return MLP_OK;
}

/* Fills spec from one mapping of the list; `where` is "report.figures[i]". */
static int parse_item(const yt_node *item, const char *where, const parse_context *ctx,
                      figure_spec *spec, mlp_error *err)
{
    char what[96], allowed[256];
    suggest_join(figure_keys, KEY_COUNT, 0, allowed, sizeof allowed);
    if (item->kind != YT_MAPPING)
        return yt_error_at(err, MLP_ERR_CONFIG, item->mark,
                           "write {plot: metric-vs-epoch, metric: test_accuracy, ...}",
                           "%s must be a mapping (one figure)", where);
    char keys_hint[400];
    snprintf(keys_hint, sizeof keys_hint, "the keys of a figure are: %s (see docs/figures.md)",
             allowed);
    int rc = yt_check_keys(item, figure_keys, KEY_COUNT, where, keys_hint, err);
    if (rc != MLP_OK)
        return rc;

    spec->logy = -1;
    char plots[128];
    suggest_join(plot_names, PLOT_COUNT, 0, plots, sizeof plots);
    char plot_hint[200];
    snprintf(plot_hint, sizeof plot_hint, "plot is one of: %s (the scripts in plots/)", plots);
    const yt_node *node = yt_map_get(item, "plot");
    if (node == NULL)
        return yt_error_at(err, MLP_ERR_CONFIG, item->mark, plot_hint, "%s has no plot", where);
    const char *plot = NULL;
    snprintf(what, sizeof what, "%s.plot", where);
    rc = yt_to_string(node, what, &plot, err);
    if (rc != MLP_OK)
        return rc;
    size_t p = 0;
    while (p < PLOT_COUNT && strcmp(plot, plot_names[p]) != 0)
        p++;
    if (p == PLOT_COUNT)
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark, plot_hint,
                           "unknown plot '%s'", plot);
    spec->plot = (figure_plot)p;
    if ((rc = check_plot_allows(spec, item, err)) != MLP_OK)
        return rc;
    if (spec->plot == FIGURE_CONFUSION)
        return parse_confusion(item, where, ctx, spec, err);

    const yt_node *metric_node = yt_map_get(item, "metric");
    if (spec->plot == FIGURE_DIAGNOSTICS_VS_EPOCH) {
        if ((rc = parse_diagnostics(item, where, ctx, spec, err)) != MLP_OK)
            return rc;
    } else if ((rc = parse_metric(item, where, ctx, spec, err)) != MLP_OK) {
        return rc;
    }
    if ((rc = take_strings(item, where, spec, err)) != MLP_OK)
        return rc;
    if ((node = yt_map_get(item, "label")) != NULL &&
        (rc = check_label(node, ctx, spec->label, err)) != MLP_OK)
        return rc;
    if ((node = yt_map_get(item, "keypos")) != NULL && !is_safe_keypos(spec->keypos))
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark,
                           "write what `set key` takes, e.g. 'top left' or 'below vertical' "
                           "(letters, digits, spaces, ',', '.', '-', '+')",
                           "keypos '%s' holds a character gnuplot's set key does not need",
                           spec->keypos);

    /* Numbers. */
    spec->scale = measures_scale(spec->metric);
    if ((node = yt_map_get(item, "scale")) != NULL) {
        snprintf(what, sizeof what, "%s.scale", where);
        if ((rc = take_number(node, what, &spec->scale, err)) != MLP_OK)
            return rc;
        if (spec->scale == 0.0)
            return yt_error_at(err, MLP_ERR_CONFIG, node->mark, "100 plots fractions as percent",
                               "scale must not be 0");
    }
    static const char *const range_keys[] = {"ymin", "ymax", "xmin", "xmax"};
    double *range_values[] = {&spec->ymin, &spec->ymax, &spec->xmin, &spec->xmax};
    int *range_given[] = {&spec->has_ymin, &spec->has_ymax, &spec->has_xmin, &spec->has_xmax};
    for (size_t i = 0; i < 4; i++) {
        if ((node = yt_map_get(item, range_keys[i])) == NULL)
            continue;
        snprintf(what, sizeof what, "%s.%s", where, range_keys[i]);
        if ((rc = take_number(node, what, range_values[i], err)) != MLP_OK)
            return rc;
        *range_given[i] = 1;
    }
    if (spec->has_ymin && spec->has_ymax && !(spec->ymin < spec->ymax))
        return yt_error_at(err, MLP_ERR_CONFIG, yt_map_get(item, "ymax")->mark,
                           "ymin and ymax are in plotted units (after scale)",
                           "ymax (%g) must be greater than ymin (%g)", spec->ymax, spec->ymin);
    if (spec->has_xmin && spec->has_xmax && !(spec->xmin < spec->xmax))
        return yt_error_at(err, MLP_ERR_CONFIG, yt_map_get(item, "xmax")->mark,
                           "xmin and xmax are epochs",
                           "xmax (%g) must be greater than xmin (%g)", spec->xmax, spec->xmin);
    if ((node = yt_map_get(item, "logy")) != NULL) {
        snprintf(what, sizeof what, "%s.logy", where);
        if ((rc = take_flag(node, what, &spec->logy, err)) != MLP_OK)
            return rc;
        if (spec->logy == 1 && spec->has_ymin && spec->ymin <= 0.0)
            return yt_error_at(err, MLP_ERR_CONFIG, yt_map_get(item, "ymin")->mark,
                               "leave ymin out, or give a positive one",
                               "a logarithmic y axis needs ymin > 0");
    }
    if ((node = yt_map_get(item, "points")) != NULL) {
        snprintf(what, sizeof what, "%s.points", where);
        if ((rc = yt_to_long(node, what, &spec->points, err)) != MLP_OK)
            return rc;
        if (spec->points < 0 || spec->points > 1000000)
            return yt_error_at(err, MLP_ERR_CONFIG, node->mark,
                               "about how many marks per line; 0 = plain lines",
                               "points must lie between 0 and 1000000");
        spec->has_points = 1;
    }
    /* A final value's figure shows every seed unless told not to. */
    spec->seeds = spec->plot == FIGURE_FINAL_ERRORBARS;
    if ((node = yt_map_get(item, "seeds")) != NULL) {
        snprintf(what, sizeof what, "%s.seeds", where);
        if ((rc = take_flag(node, what, &spec->seeds, err)) != MLP_OK)
            return rc;
    }
    size_t choice = 0;
    if ((node = yt_map_get(item, "summary")) != NULL) {
        snprintf(what, sizeof what, "%s.summary", where);
        if ((rc = take_choice(node, what, summary_names, SUMMARY_COUNT,
                              "mean-ci: mean and confidence interval (for a roughly normal "
                              "spread); median-range: median and the seeds' range (when it is "
                              "not, e.g. two modes)",
                              &choice, err)) != MLP_OK)
            return rc;
        spec->summary = (figure_summary)choice;
    }
    if ((node = yt_map_get(item, "size")) != NULL) {
        snprintf(what, sizeof what, "%s.size", where);
        if ((rc = take_choice(node, what, size_names, SIZE_COUNT,
                              "column: one column of a two-column paper (3.4 in wide); page: "
                              "the width of the page (7 in)",
                              &choice, err)) != MLP_OK)
            return rc;
        spec->size = (figure_size)choice;
    }
    if ((rc = check_bounds(spec, item, err)) != MLP_OK)
        return rc;

    /* Defaults. */
    if (spec->name == NULL && spec->plot == FIGURE_DIAGNOSTICS_VS_EPOCH && spec->layer == 0) {
        char *slug = figures_slug(spec->label);     /* mean_abs_delta-quadratic-100-hidden */
        spec->name = slug != NULL ? format_text("%s-%s", spec->metric, slug) : NULL;
        free(slug);
        if (spec->name == NULL)
            return mlp_error_nomem(err, "figures");
    }
    if (spec->name == NULL) {
        spec->name = spec->plot == FIGURE_FINAL_ERRORBARS ? format_text("final_%s", spec->metric)
                                                          : strdup(spec->metric);
        if (spec->name != NULL && !is_file_name(spec->name))
            return yt_error_at(err, MLP_ERR_CONFIG, metric_node->mark,
                               "add name: with letters, digits, '.', '_' and '-'",
                               "the metric '%s' cannot name the figure's file", spec->metric);
    }
    if ((rc = default_texts(spec, ctx->study_name)) != MLP_OK)
        return mlp_error_nomem(err, "figures");
    if (spec->name == NULL || spec->title == NULL || spec->ylabel == NULL)
        return mlp_error_nomem(err, "figures");
    return MLP_OK;
}

/* The figures drawn when a study names none (scripts/figures.sh's of old). */
static int default_figures(const char *study_name, figure_list *out, mlp_error *err)
{
    static const struct {
        figure_plot plot;
        const char *metric, *name;
    } defaults[] = {
        {FIGURE_METRIC_VS_EPOCH, "test_accuracy", "test_accuracy"},
        {FIGURE_METRIC_VS_EPOCH, "train_cost", "train_cost"},
        {FIGURE_FINAL_ERRORBARS, "test_accuracy", "final_test_accuracy"},
    };
    size_t count = sizeof defaults / sizeof defaults[0];
    out->figures = calloc(count, sizeof *out->figures);
    if (out->figures == NULL)
        return mlp_error_nomem(err, "figures");
    out->count = count;
    for (size_t i = 0; i < count; i++) {
        figure_spec *spec = &out->figures[i];
        spec->plot = defaults[i].plot;
        spec->seeds = spec->plot == FIGURE_FINAL_ERRORBARS;
        spec->logy = -1;
        spec->scale = measures_scale(defaults[i].metric);
        spec->metric = strdup(defaults[i].metric);
        spec->name = strdup(defaults[i].name);
        if (spec->metric == NULL || spec->name == NULL ||
            default_texts(spec, study_name) != MLP_OK)
            return mlp_error_nomem(err, "figures");
    }
    return MLP_OK;
}

/* Names and data files must differ between figures: they are files. */
static int check_collisions(const figure_list *list, const yt_node *figures, mlp_error *err)
{
    for (size_t i = 0; i < list->count; i++) {
        const figure_spec *a = &list->figures[i];
        const yt_node *item = figures->items[i];
        const yt_node *name_node = yt_map_get(item, "name");
        yt_mark mark = name_node != NULL ? name_node->mark : item->mark;
        for (size_t j = 0; j < i; j++) {
            const figure_spec *b = &list->figures[j];
            if (strcmp(a->name, b->name) == 0)
                return yt_error_at(err, MLP_ERR_CONFIG, mark,
                                   "give each figure its own name: (the file stem under "
                                   "figures/ and series/)",
                                   "two figures are named '%s' (report.figures[%zu] and [%zu])",
                                   a->name, j, i);
            /* NAME-seeds.dat of one against NAME.dat of the other. */
            size_t la = strlen(a->name), lb = strlen(b->name);
            int clash = (b->seeds && la == lb + 6 && strncmp(a->name, b->name, lb) == 0 &&
                         strcmp(a->name + lb, "-seeds") == 0) ||
                        (a->seeds && lb == la + 6 && strncmp(b->name, a->name, la) == 0 &&
                         strcmp(b->name + la, "-seeds") == 0);
            if (clash)
                return yt_error_at(err, MLP_ERR_CONFIG, mark,
                                   "rename one of them: a figure with seeds: true also writes "
                                   "series/NAME-seeds.dat",
                                   "figures '%s' and '%s' would write the same data file",
                                   b->name, a->name);
        }
    }
    return MLP_OK;
}

int figures_parse(const yt_node *figures, const char *study_name, char *const *labels,
                  size_t label_count, const report_study *study, figure_list *out,
                  mlp_error *err)
{
    out->count = 0;
    out->figures = NULL;
    if (figures == NULL)
        return default_figures(study_name, out, err);
    if (figures->kind != YT_SEQUENCE)
        return yt_error_at(err, MLP_ERR_CONFIG, figures->mark,
                           "write figures: [{plot: metric-vs-epoch, metric: test_accuracy}, ...]",
                           "report.figures must be a list of figures");
    out->figures = calloc(figures->count + 1, sizeof *out->figures);
    if (out->figures == NULL)
        return mlp_error_nomem(err, "figures");
    const parse_context ctx = {study_name, labels, label_count, study};
    int rc = MLP_OK;
    for (size_t i = 0; rc == MLP_OK && i < figures->count; i++) {
        char where[64];
        snprintf(where, sizeof where, "report.figures[%zu]", i);
        out->count = i + 1;   /* so that a half-filled spec is freed too */
        rc = parse_item(figures->items[i], where, &ctx, &out->figures[i], err);
    }
    if (rc == MLP_OK)
        rc = check_collisions(out, figures, err);
    if (rc != MLP_OK)
        figure_list_free(out);
    return rc;
}

/* Some complete run has a value of `metric` at some epoch. */
static int has_values(const report_study *study, const char *metric)
{
    for (size_t i = 0; i < study->run_count; i++)
        for (size_t e = 0; e < study->runs[i].data.history.count; e++)
            if (!isnan(measures_epoch_value(&study->runs[i].data, metric, e)))
                return 1;
    return 0;
}

/* The default figures the study's runs can draw: a study that names no
 * figures asked for none of them, so one whose runs do not record the metric
 * (inline data has no test part; train.monitor_train: false no training cost)
 * is left out, not drawn empty (gnuplot refuses that). */
static void keep_drawable_defaults(const report_study *study, figure_list *list)
{
    size_t kept = 0;
    for (size_t i = 0; i < list->count; i++) {
        if (study->run_count == 0 || has_values(study, list->figures[i].metric))
            list->figures[kept++] = list->figures[i];
        else
            spec_free(&list->figures[i]);
    }
    list->count = kept;
}

int figures_load(const report_study *study, figure_list *out, mlp_error *err)
{
    out->count = 0;
    out->figures = NULL;
    const study_manifest *m = study->manifest;
    if (m != NULL && m->gradcheck != NULL)
        return MLP_OK;          /* no runs to draw: its table is the matrix */
    const yt_node *figures = m != NULL && m->report != NULL ? yt_map_get(m->report, "figures")
                                                            : NULL;
    int rc = figures_parse(figures, study->name, study->labels, study->label_count, study, out,
                           err);
    if (rc == MLP_OK && figures == NULL)
        keep_drawable_defaults(study, out);
    /* A y range zooms in on the full profile's numbers; the quick profile's
     * (two epochs on a slice of the data) may all lie outside it, and gnuplot
     * refuses a plot with no point in range. */
    if (rc == MLP_OK && m != NULL && m->quick)
        for (size_t i = 0; i < out->count; i++)
            out->figures[i].has_ymin = out->figures[i].has_ymax = 0;
    return rc;
}

/* ---- output ------------------------------------------------------------- */

/* The run a figure draws alone (plot: confusion): its label's run of its
 * seed, else the label's first (runs are sorted by seed); NULL if none. */
static const report_run *figure_run(const report_study *study, const figure_spec *spec)
{
    for (size_t i = 0; i < study->run_count; i++) {
        const report_run *run = &study->runs[i];
        if (strcmp(study->labels[run->label], spec->label) == 0 &&
            (!spec->has_seed || run->data.seed == spec->seed))
            return run;
    }
    return NULL;
}

int figures_has_runs(const report_study *study, const figure_spec *spec)
{
    if (spec->plot == FIGURE_CONFUSION)
        return figure_run(study, spec) != NULL;
    for (size_t i = 0; i < study->run_count; i++) {
        const report_run *run = &study->runs[i];
        if (spec->label == NULL || strcmp(study->labels[run->label], spec->label) == 0)
            return 1;
    }
    return 0;
}

char *figures_gnuplot_quote(const char *text)
{
    size_t length = 2;
    for (const char *p = text; *p; p++)
        length += *p == '\'' ? 2 : 1;
    char *quoted = malloc(length + 1), *q = quoted;
    if (quoted == NULL)
        return NULL;
    *q++ = '\'';
    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\'')
            *q++ = '\'';
        *q++ = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    *q++ = '\'';
    *q = '\0';
    return quoted;
}

char *figures_slug(const char *label)
{
    char *slug = malloc(strlen(label) + sizeof "label");
    if (slug == NULL)
        return NULL;
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)label; *p; p++) {
        char c = (char)*p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_')
            slug[n++] = c;
        else if (n > 0 && slug[n - 1] != '-')
            slug[n++] = '-';
    }
    while (n > 0 && slug[n - 1] == '-')
        n--;
    /* A leading '.' would hide the file. */
    size_t start = 0;
    while (start < n && slug[start] == '.')
        start++;
    memmove(slug, slug + start, n - start);
    n -= start;
    if (n == 0) {
        strcpy(slug, "label");
        return slug;
    }
    slug[n] = '\0';
    return slug;
}

static int data_path(const report_study *study, const figure_spec *spec, int seeds, char *path,
                     size_t size, mlp_error *err)
{
    if (snprintf(path, size, "%s/series/%s%s.dat", study->dir, spec->name, seeds ? "-seeds" : "") >=
        (int)size)
        return mlp_error_set(err, MLP_ERR_USAGE, "path too long: %s", study->dir);
    return MLP_OK;
}

/* The matrix as gnuplot's `matrix` format: one line per true class, each
 * cell the % of that class's examples predicted as the column's class. */
static int confusion_text(const report_study *study, const figure_spec *spec, char **text,
                          mlp_error *err)
{
    const report_run *run = figure_run(study, spec);
    int when = strstr(spec->metric, "best_validation") ? STORE_BEST_VALIDATION : STORE_FINAL;
    int part = strstr(spec->metric, "/validation") ? STORE_VALIDATION : STORE_TEST;
    const int32_t *counts = run != NULL ? run->data.confusion[when][part] : NULL;
    if (counts == NULL)
        return mlp_error_set(err, MLP_ERR_DATA,
                             "%s/runs/%s has no /%s (a run file written before mlplab recorded "
                             "confusion matrices? run it again with FORCE=1)",
                             study->dir, run != NULL ? run->file_name : "?", spec->metric);
    size_t n = run->data.classes, size = 0;
    FILE *out = open_memstream(text, &size);
    if (out == NULL)
        return mlp_error_nomem(err, "figures");
    char *label = report_gnuplot_label(spec->label);
    fprintf(out, "# /%s of %s, seed %lu, epoch %d\n# rows: true class 0..%zu; columns: "
                 "predicted class; cells: %% of the true class's examples\n",
            spec->metric, label != NULL ? label : "?", run->data.seed,
            run->data.confusion_epoch[when], n - 1);
    free(label);
    for (size_t t = 0; t < n; t++) {
        long total = 0;
        for (size_t p = 0; p < n; p++)
            total += counts[t * n + p];
        for (size_t p = 0; p < n; p++) {
            if (p > 0)
                fputc(' ', out);
            if (total == 0)
                fputs("NaN", out);
            else
                fprintf(out, "%.6g", 100.0 * counts[t * n + p] / (double)total);
        }
        fputc('\n', out);
    }
    if (fclose(out) != 0) {
        free(*text);
        *text = NULL;
        return mlp_error_nomem(err, "figures");
    }
    return MLP_OK;
}

/* The series file of a diagnostics-vs-epoch figure without layer: one block
 * per layer K, "layer K", of the series of layerK_FIELD for the label (the
 * label filter's one block, renamed), so that metric-vs-epoch's format and
 * script draw one curve per layer. */
static int layers_series_text(const report_study *study, const figure_spec *spec,
                              double confidence, char **text, mlp_error *err)
{
    size_t size = 0;
    FILE *out = open_memstream(text, &size);
    if (out == NULL)
        return mlp_error_nomem(err, "figures");
    fprintf(out, "# mlplab series: diagnostics %s per layer of one label, confidence %g: ",
            spec->metric, confidence);
    for (const char *p = spec->label; *p; p++)
        fputc((unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p, out);
    fputc('\n', out);
    int rc = MLP_OK, layers = label_layers(study, spec->label, spec->metric), blocks = 0;
    for (int k = 1; rc == MLP_OK && k <= layers; k++) {
        char metric[96], *series = NULL;
        snprintf(metric, sizeof metric, "layer%d_%s", k, spec->metric);
        rc = report_series_render(study, metric, confidence, REPORT_SERIES, spec->label, &series,
                                  err);
        /* After the file's comment, the block's "# label: L" and "L": the rows. */
        const char *rows = series;
        for (int line = 0; rc == MLP_OK && rows != NULL && line < 3; line++)
            rows = (rows = strchr(rows, '\n')) != NULL ? rows + 1 : NULL;
        if (rc == MLP_OK && rows != NULL && *rows >= '0' && *rows <= '9')
            fprintf(out, "%s# layer %d\n\"layer %d\"\n%s", blocks++ > 0 ? "\n\n" : "", k, k,
                    rows);
        free(series);
    }
    if (fclose(out) != 0 && rc == MLP_OK)
        rc = mlp_error_nomem(err, "figures");
    if (rc != MLP_OK) {
        free(*text);
        *text = NULL;
    }
    return rc;
}

/* The text of the figure's data file: its own (seeds 0) or its seeds file. */
static int data_text(const report_study *study, const figure_spec *spec, double confidence,
                     int seeds, char **text, mlp_error *err)
{
    if (spec->plot == FIGURE_CONFUSION)
        return confusion_text(study, spec, text, err);
    if (spec->plot == FIGURE_DIAGNOSTICS_VS_EPOCH && spec->layer == 0)
        return layers_series_text(study, spec, confidence, text, err);   /* no seeds file */
    int final = spec->plot == FIGURE_FINAL_ERRORBARS;
    report_series_kind kind = seeds ? (final ? REPORT_FINAL_SEEDS : REPORT_SEEDS)
                              : final ? REPORT_FINAL
                                      : REPORT_SERIES;
    return report_series_render(study, spec->metric, confidence, kind, spec->label, text, err);
}

int figures_write_data(const report_study *study, const figure_spec *spec, double confidence,
                       mlp_error *err)
{
    char dir[4096], path[4096];
    if (snprintf(dir, sizeof dir, "%s/series", study->dir) >= (int)sizeof dir)
        return mlp_error_set(err, MLP_ERR_USAGE, "path too long: %s", study->dir);
    int rc = fsutil_make_dirs(dir, err);
    /* a confusion matrix has no seeds file */
    int last = spec->plot == FIGURE_CONFUSION ? 0 : spec->seeds;
    for (int seeds = 0; rc == MLP_OK && seeds <= last; seeds++) {
        char *text = NULL;
        rc = data_path(study, spec, seeds, path, sizeof path, err);
        if (rc == MLP_OK)
            rc = data_text(study, spec, confidence, seeds, &text, err);
        if (rc == MLP_OK)
            rc = fsutil_write_atomic(path, text, err);
        free(text);
    }
    if (rc != MLP_OK)
        mlp_error_prefix(err, "figure '%s'", spec->name);
    return rc;
}

/* A number gnuplot reads back exactly. */
static void put_number(FILE *out, double value)
{
    char text[32];
    numtext_shortest(value, text, sizeof text);
    fputs(text, out);
}

/* `; name='text'` (text quoted for gnuplot). */
static int put_string(FILE *out, const char *name, const char *text)
{
    char *quoted = figures_gnuplot_quote(text);
    if (quoted == NULL)
        return MLP_ERR_RUN;
    fprintf(out, "; %s=%s", name, quoted);
    free(quoted);
    return MLP_OK;
}

static void put_assignment(FILE *out, const char *name, double value)
{
    fprintf(out, "; %s=", name);
    put_number(out, value);
}

/* `; name='text'` with the text escaped for LaTeX first. */
static int put_latex_string(FILE *out, const char *name, const char *text)
{
    char *escaped = latex_escape(text);
    int rc = escaped != NULL ? put_string(out, name, escaped) : MLP_ERR_RUN;
    free(escaped);
    return rc;
}

/* The texts of the figure once more, for the cairolatex terminal, where LaTeX
 * typesets them: latex_ylabel, latex_xlabel, and latex_labels, the labels in
 * the order of the blocks (rows) of the data file, which leaves out labels
 * without a complete run. (A paper figure has no title: its caption is one.) */
static int put_latex_texts(FILE *out, const report_study *study, const figure_spec *spec)
{
    int rc = put_latex_string(out, "latex_ylabel", spec->ylabel);
    if (rc == MLP_OK && spec->xlabel != NULL)
        rc = put_latex_string(out, "latex_xlabel", spec->xlabel);
    if (rc == MLP_OK && spec->plot == FIGURE_DIAGNOSTICS_VS_EPOCH && spec->layer == 0) {
        /* the blocks are layers (layers_series_text) */
        int layers = label_layers(study, spec->label, spec->metric);
        for (int k = 1; k <= layers; k++)
            fprintf(out, "%s'layer %d'", k == 1 ? "; array latex_labels = [" : ", ", k);
        if (layers > 0)
            fputc(']', out);
        return rc;
    }
    int first = 1;
    for (size_t l = 0; rc == MLP_OK && l < study->label_count; l++) {
        if (spec->label != NULL && strcmp(study->labels[l], spec->label) != 0)
            continue;
        int runs = 0;
        for (size_t i = 0; i < study->run_count && !runs; i++)
            runs = study->runs[i].label == l;
        if (!runs)
            continue;
        char *escaped = latex_escape(study->labels[l]);
        char *quoted = escaped != NULL ? figures_gnuplot_quote(escaped) : NULL;
        if (quoted != NULL)
            fprintf(out, "%s%s", first ? "; array latex_labels = [" : ", ", quoted);
        else
            rc = MLP_ERR_RUN;
        first = 0;
        free(quoted);
        free(escaped);
    }
    if (!first)   /* gnuplot has no empty array literal; the scripts define one then */
        fputc(']', out);
    return rc;
}

/* The output stem goes unquoted into `out='STEM.png'`: it must not hold what
 * would end the string or the line. */
static int check_dir(const char *dir, mlp_error *err)
{
    for (const unsigned char *p = (const unsigned char *)dir; *p; p++)
        if (*p == '\'' || *p < 0x20 || *p == 0x7f)
            return mlp_error_set(err, MLP_ERR_USAGE,
                                 "the study directory '%s' holds a quote or a control "
                                 "character, which the figure commands cannot carry: "
                                 "rename it", dir);
    return MLP_OK;
}

int figures_line(const report_study *study, const figure_spec *spec, double confidence,
                 char **line, mlp_error *err)
{
    *line = NULL;
    int rc = check_dir(study->dir, err);
    if (rc != MLP_OK)
        return rc;
    char data[4096], seeds[4096];
    if ((rc = data_path(study, spec, 0, data, sizeof data, err)) != MLP_OK ||
        (rc = data_path(study, spec, 1, seeds, sizeof seeds, err)) != MLP_OK)
        return rc;
    size_t size = 0;
    FILE *out = open_memstream(line, &size);
    if (out == NULL)
        return mlp_error_nomem(err, "figures");
    fprintf(out, "%s\t%s/figures/%s\t", figures_plot_name(spec->plot), study->dir, spec->name);
    char *quoted = figures_gnuplot_quote(data);
    rc = quoted != NULL ? MLP_OK : MLP_ERR_RUN;
    if (quoted != NULL)
        fprintf(out, "data=%s", quoted);
    free(quoted);
    if (rc == MLP_OK && spec->seeds)
        rc = put_string(out, "seeds_data", seeds);
    if (rc == MLP_OK)
        rc = put_string(out, "metric", spec->metric);
    if (rc == MLP_OK)
        rc = put_string(out, "title", spec->title);
    if (rc == MLP_OK)
        rc = put_string(out, "ylabel", spec->ylabel);
    /* A confusion matrix has no axes of epochs or values to set. */
    int plot_of_values = spec->plot != FIGURE_CONFUSION;
    if (rc == MLP_OK && plot_of_values && spec->xlabel != NULL)
        rc = put_string(out, "xlabel", spec->xlabel);
    if (rc == MLP_OK && plot_of_values && spec->keypos != NULL)
        rc = put_string(out, "keypos", spec->keypos);
    if (rc == MLP_OK && plot_of_values) {
        put_assignment(out, "scale", spec->scale);
        if (spec->logy >= 0)
            fprintf(out, "; logy=%d", spec->logy);
        if (spec->has_ymin)
            put_assignment(out, "ymin", spec->ymin);
        if (spec->has_ymax)
            put_assignment(out, "ymax", spec->ymax);
        if (spec->has_xmin)
            put_assignment(out, "xmin", spec->xmin);
        if (spec->has_xmax)
            put_assignment(out, "xmax", spec->xmax);
        if (spec->has_points)
            fprintf(out, "; points=%ld", spec->points);
        if (spec->plot != FIGURE_COST_VS_EPOCH)
            put_assignment(out, "confidence", confidence);
        double low, high;
        figures_y_bounds(spec, &low, &high);
        if (isfinite(low))
            put_assignment(out, "ybound_low", low);
        if (isfinite(high))
            put_assignment(out, "ybound_high", high);
        if (spec->summary == FIGURE_MEDIAN_RANGE)
            fputs("; summary='median-range'", out);
        fprintf(out, "; paper='%s'", size_names[spec->size]);
        rc = put_latex_texts(out, study, spec);
    }
    if (fclose(out) != 0 && rc == MLP_OK)
        rc = MLP_ERR_RUN;
    if (rc != MLP_OK) {
        free(*line);
        *line = NULL;
        return mlp_error_nomem(err, "figures");
    }
    return MLP_OK;
}
