/* report.c — see report.h. Loading a study: study.yaml and the run files. */
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "latex.h"
#include "manifest.h"
#include "measures.h"
#include "metrics.h"
#include "stats.h"
#include "yamltree.h"

/* ---- small helpers ------------------------------------------------------ */

static int ends_with(const char *text, const char *suffix)
{
    size_t a = strlen(text), b = strlen(suffix);
    return a >= b && strcmp(text + a - b, suffix) == 0;
}

/* Appends a copy of text to a growing string list. */
static int list_add(char ***list, size_t *count, const char *text, mlp_error *err)
{
    char **grown = realloc(*list, (*count + 1) * sizeof *grown);
    if (grown == NULL)
        return mlp_error_nomem(err, "report");
    *list = grown;
    grown[*count] = strdup(text);
    if (grown[*count] == NULL)
        return mlp_error_nomem(err, "report");
    (*count)++;
    return MLP_OK;
}

static int list_find(char *const *list, size_t count, const char *text)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(list[i], text) == 0)
            return (int)i;
    return -1;
}

static int add_note(report_study *study, mlp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int add_note(report_study *study, mlp_error *err, const char *fmt, ...)
{
    char text[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    return list_add(&study->notes, &study->note_count, text, err);
}

static int label_index(report_study *study, const char *label, size_t *out, mlp_error *err)
{
    int found = list_find(study->labels, study->label_count, label);
    if (found < 0) {
        int rc = list_add(&study->labels, &study->label_count, label, err);
        if (rc != MLP_OK)
            return rc;
        found = (int)study->label_count - 1;
    }
    *out = (size_t)found;
    return MLP_OK;
}

/* ---- study.yaml --------------------------------------------------------- */

static int load_references(report_study *study, const yt_node *list, mlp_error *err)
{
    int rc = yt_expect_kind(list, YT_SEQUENCE, "reference", NULL, err);
    for (size_t i = 0; rc == MLP_OK && i < list->count; i++) {
        const yt_node *item = list->items[i];
        rc = yt_expect_kind(item, YT_MAPPING, "reference item", NULL, err);
        const yt_node *label_node = rc == MLP_OK ? yt_map_get(item, "label") : NULL;
        if (rc == MLP_OK && label_node == NULL)
            rc = yt_error_at(err, MLP_ERR_CONFIG, item->mark, NULL, "reference item has no label");
        const char *label = NULL, *source = "";
        if (rc == MLP_OK)
            rc = yt_to_string(label_node, "reference.label", &label, err);
        const yt_node *source_node = rc == MLP_OK ? yt_map_get(item, "source") : NULL;
        if (source_node != NULL)
            rc = yt_to_string(source_node, "reference.source", &source, err);
        for (size_t k = 0; rc == MLP_OK && k < item->count; k++) {
            if (strcmp(item->keys[k], "label") == 0 || strcmp(item->keys[k], "source") == 0)
                continue;
            double value;
            rc = yt_to_double(item->items[k], item->keys[k], &value, err);
            if (rc != MLP_OK)
                break;
            report_reference *grown = realloc(study->references,
                                              (study->reference_count + 1) * sizeof *grown);
            if (grown == NULL)
                return mlp_error_nomem(err, "report");
            study->references = grown;
            report_reference *r = &grown[study->reference_count++];
            r->label = strdup(label);
            r->metric = strdup(item->keys[k]);
            r->source = strdup(source);
            r->value = value;
            if (r->label == NULL || r->metric == NULL || r->source == NULL)
                return mlp_error_nomem(err, "report");
        }
    }
    return rc;
}

static int load_report_block(report_study *study, const yt_node *report, mlp_error *err)
{
    int rc = yt_expect_kind(report, YT_MAPPING, "report", NULL, err);
    const yt_node *metrics = rc == MLP_OK ? yt_get(report, "table.metrics") : NULL;
    if (metrics != NULL)
        rc = yt_expect_kind(metrics, YT_SEQUENCE, "report.table.metrics", NULL, err);
    for (size_t i = 0; metrics != NULL && rc == MLP_OK && i < metrics->count; i++) {
        const char *name = NULL;
        rc = yt_to_string(metrics->items[i], "report.table.metrics", &name, err);
        if (rc == MLP_OK)
            rc = list_add(&study->metrics, &study->metric_count, name, err);
    }
    const yt_node *compare = rc == MLP_OK ? yt_map_get(report, "compare") : NULL;
    if (compare != NULL)
        rc = yt_expect_kind(compare, YT_SEQUENCE, "report.compare", NULL, err);
    for (size_t i = 0; compare != NULL && rc == MLP_OK && i < compare->count; i++) {
        const yt_node *pair = compare->items[i];
        if (pair->kind != YT_SEQUENCE || pair->count != 2)
            return yt_error_at(err, MLP_ERR_CONFIG, pair->mark, "write [label A, label B]",
                               "report.compare items must be pairs of labels");
        const char *a = NULL, *b = NULL;
        rc = yt_to_string(pair->items[0], "report.compare", &a, err);
        if (rc == MLP_OK)
            rc = yt_to_string(pair->items[1], "report.compare", &b, err);
        if (rc != MLP_OK)
            break;
        report_pair *grown = realloc(study->compare, (study->compare_count + 1) * sizeof *grown);
        if (grown == NULL)
            return mlp_error_nomem(err, "report");
        study->compare = grown;
        grown[study->compare_count].a = strdup(a);
        grown[study->compare_count].b = strdup(b);
        study->compare_count++;
        if (grown[study->compare_count - 1].a == NULL || grown[study->compare_count - 1].b == NULL)
            return mlp_error_nomem(err, "report");
    }
    return rc;
}

/* The study's name, description, labels, references and report block, from
 * its manifest (study.yaml). */
static int load_manifest(report_study *study, const char *dir, mlp_error *err)
{
    int rc = manifest_load(dir, &study->manifest, err);
    if (rc != MLP_OK)
        return rc;
    const study_manifest *m = study->manifest;
    if (m->name != NULL) {
        free(study->name);
        if ((study->name = strdup(m->name)) == NULL)
            return mlp_error_nomem(err, "report");
    }
    free(study->description);
    if ((study->description = strdup(m->description)) == NULL)
        return mlp_error_nomem(err, "report");
    size_t ignored;
    for (size_t i = 0; rc == MLP_OK && i < m->label_count; i++)
        rc = label_index(study, m->labels[i], &ignored, err);
    if (rc == MLP_OK && m->reference != NULL)
        rc = load_references(study, m->reference, err);
    if (rc == MLP_OK && m->report != NULL)
        rc = load_report_block(study, m->report, err);
    return rc;
}

/* ---- run files ---------------------------------------------------------- */

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int compare_runs(const void *pa, const void *pb)
{
    const report_run *a = pa, *b = pb;
    if (a->label != b->label)
        return a->label < b->label ? -1 : 1;
    if (a->data.seed != b->data.seed)
        return a->data.seed < b->data.seed ? -1 : 1;
    int c = strcmp(a->data.run_id, b->data.run_id);
    return c != 0 ? c : strcmp(a->file_name, b->file_name);
}

/* Sorted names of the files in dir (an absent directory is empty). */
static int list_dir(const char *dir, char ***names, size_t *count, mlp_error *err)
{
    *names = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT ? MLP_OK
                               : mlp_error_set(err, MLP_ERR_DATA, "cannot read %s: %s", dir,
                                               strerror(errno));
    int rc = MLP_OK;
    for (struct dirent *entry; rc == MLP_OK && (entry = readdir(d)) != NULL;)
        if (entry->d_name[0] != '.')
            rc = list_add(names, count, entry->d_name, err);
    closedir(d);
    if (*count > 1)
        qsort(*names, *count, sizeof **names, compare_names);
    return rc;
}

static void free_list(char **list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(list[i]);
    free(list);
}

static const manifest_run *find_planned(const manifest_run *planned, size_t count, const char *id)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(planned[i].id, id) == 0)
            return &planned[i];
    return NULL;
}

/* "label X, seed N" from study.yaml when it lists the run, else "" . */
static void describe_planned(const manifest_run *p, char *text, size_t size)
{
    if (p == NULL)
        snprintf(text, size, "%s", "");
    else
        snprintf(text, size, " (%s, seed %lu)", p->label, p->seed);
}

/* planned_label: the label study.yaml gives the run now (NULL if unlisted); it
 * wins over the one in the file, so relabelling a case needs no re-run. */
static int add_run(report_study *study, const char *runs_dir, const char *name,
                   const char *planned_label, mlp_error *err)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", runs_dir, name) >= (int)sizeof path)
        return mlp_error_set(err, MLP_ERR_RUN, "path too long: %s/%s", runs_dir, name);
    report_run run = {0};
    mlp_error read_err = {0};
    if (store_read(path, &run.data, &read_err) != MLP_OK)
        return add_note(study, err, "runs/%s could not be read and is left out: %s", name,
                        read_err.message);
    if (strcmp(run.data.status, "complete") != 0) {
        int rc = add_note(study, err, "runs/%s (%s, seed %lu) has status \"%s\" and is left out",
                          name, run.data.label, run.data.seed, run.data.status);
        store_run_file_free(&run.data);
        return rc;
    }
    int rc = label_index(study, planned_label != NULL ? planned_label : run.data.label,
                         &run.label, err);
    run.file_name = rc == MLP_OK ? strdup(name) : NULL;
    if (rc == MLP_OK && run.file_name == NULL)
        rc = mlp_error_nomem(err, "report");
    report_run *grown = rc == MLP_OK ? realloc(study->runs, (study->run_count + 1) * sizeof *grown)
                                     : NULL;
    if (rc == MLP_OK && grown == NULL)
        rc = mlp_error_nomem(err, "report");
    if (rc != MLP_OK) {
        free(run.file_name);
        store_run_file_free(&run.data);
        return rc;
    }
    study->runs = grown;
    study->runs[study->run_count++] = run;
    return MLP_OK;
}

static int load_runs(report_study *study, const manifest_run *planned, size_t planned_count,
                     mlp_error *err)
{
    char runs_dir[4096];
    snprintf(runs_dir, sizeof runs_dir, "%s/runs", study->dir);
    char **names = NULL;
    size_t count = 0;
    int rc = list_dir(runs_dir, &names, &count, err);
    size_t stale = 0;
    for (size_t i = 0; rc == MLP_OK && i < count; i++) {
        const char *name = names[i];
        char id[512], who[700];
        snprintf(id, sizeof id, "%s", name);
        char *dot = strstr(id, ".h5");
        if (dot != NULL)
            *dot = '\0';
        const manifest_run *p = find_planned(planned, planned_count, id);
        /* A study that lists its runs counts only those: files of runs an edit
         * of the study replaced must not be averaged in with the new ones. */
        if (planned_count > 0 && p == NULL) {
            stale++;
            continue;
        }
        describe_planned(p, who, sizeof who);
        if (ends_with(name, ".h5"))
            rc = add_run(study, runs_dir, name, p != NULL ? p->label : NULL, err);
        else if (ends_with(name, ".h5.partial"))
            rc = add_note(study, err, "runs/%s%s is incomplete (running or stopped) and is left out",
                          name, who);
        else if (ends_with(name, ".h5.failed"))
            rc = add_note(study, err, "runs/%s%s failed and is left out", name, who);
    }
    if (rc == MLP_OK && stale > 0)
        rc = add_note(study, err, "%zu file%s in runs/ belong%s to no run of the current study "
                      "(left from an earlier version of it) and %s left out",
                      stale, stale == 1 ? "" : "s", stale == 1 ? "s" : "", stale == 1 ? "is" : "are");
    /* Planned runs with no complete file and no other file either. */
    for (size_t i = 0; rc == MLP_OK && i < planned_count; i++) {
        char name[600], who[700];
        snprintf(name, sizeof name, "%s.h5", planned[i].id);
        if (count > 0 && bsearch(&(const char *){name}, names, count, sizeof *names, compare_names) != NULL)
            continue;
        int other = 0;
        for (size_t k = 0; k < count && !other; k++)
            other = strncmp(names[k], name, strlen(name)) == 0;
        describe_planned(&planned[i], who, sizeof who);
        if (!other)
            rc = add_note(study, err, "runs/%s%s is missing (not run yet)", name, who);
    }
    free_list(names, count);
    if (rc == MLP_OK && study->run_count > 1)
        qsort(study->runs, study->run_count, sizeof *study->runs, compare_runs);
    return rc;
}

int report_study_load(const char *dir, report_study **out, mlp_error *err)
{
    *out = NULL;
    report_study *study = calloc(1, sizeof *study);
    if (study == NULL)
        return mlp_error_nomem(err, "report");
    size_t length = strlen(dir);
    while (length > 1 && dir[length - 1] == '/')
        length--;
    study->dir = strndup(dir, length);
    /* Without a name: in study.yaml, the directory's own name (also for "."). */
    char *absolute = study->dir != NULL ? realpath(study->dir, NULL) : NULL;
    const char *named = absolute != NULL ? absolute : study->dir;
    const char *base = named != NULL ? strrchr(named, '/') : NULL;
    study->name = named != NULL ? strdup(base != NULL && base[1] ? base + 1 : named) : NULL;
    free(absolute);
    study->description = strdup("");
    if (study->dir == NULL || study->name == NULL || study->description == NULL) {
        report_study_free(study);
        return mlp_error_nomem(err, "report");
    }

    int rc = MLP_OK;
    int has_yaml = manifest_exists(study->dir);
    if (has_yaml)
        rc = load_manifest(study, study->dir, err);
    char path[4096];
    snprintf(path, sizeof path, "%s/runs", study->dir);
    struct stat info;
    if (rc == MLP_OK && !has_yaml && stat(path, &info) != 0)
        rc = mlp_error_set(err, MLP_ERR_USAGE,
                           "%s is not a study directory: it has neither study.yaml nor runs/",
                           study->dir);
    if (rc == MLP_OK)
        rc = has_yaml ? load_runs(study, study->manifest->runs, study->manifest->run_count, err)
                      : load_runs(study, NULL, 0, err);
    if (rc != MLP_OK) {
        report_study_free(study);
        return rc;
    }
    *out = study;
    return MLP_OK;
}

void report_study_free(report_study *study)
{
    if (study == NULL)
        return;
    free(study->dir);
    free(study->name);
    free(study->description);
    free_list(study->labels, study->label_count);
    for (size_t i = 0; i < study->run_count; i++) {
        free(study->runs[i].file_name);
        store_run_file_free(&study->runs[i].data);
    }
    free(study->runs);
    free_list(study->notes, study->note_count);
    for (size_t i = 0; i < study->reference_count; i++) {
        free(study->references[i].label);
        free(study->references[i].metric);
        free(study->references[i].source);
    }
    free(study->references);
    free_list(study->metrics, study->metric_count);
    for (size_t i = 0; i < study->compare_count; i++) {
        free(study->compare[i].a);
        free(study->compare[i].b);
    }
    free(study->compare);
    manifest_free(study->manifest);
    free(study);
}

/* ---- values per run ----------------------------------------------------- */

int report_metric_known(const report_study *study, const char *metric)
{
    if (measures_find(metric) != NULL)
        return 1;
    for (size_t i = 0; i < study->run_count; i++)
        if (metrics_history_custom_index(&study->runs[i].data.history, metric) >= 0)
            return 1;
    return 0;
}

/* ---- the table ---------------------------------------------------------- */

void report_metric_bounds(const char *metric, double *low, double *high)
{
    /* The table gives them in shown units; a custom metric has none. */
    const measure *m = measures_find(metric);
    *low = m != NULL ? m->lower / m->scale : -INFINITY;
    *high = m != NULL ? m->upper / m->scale : INFINITY;
}

/* stats_summarize, then the interval clipped to the metric's bounds. */
static int summarize_bounded(const double *values, size_t count, const char *metric,
                             double confidence, stats_summary *out, mlp_error *err)
{
    int rc = stats_summarize(values, count, confidence, out, err);
    double low, high;
    report_metric_bounds(metric, &low, &high);
    if (rc == MLP_OK)
        stats_clip(out, low, high);
    return rc;
}

static const report_reference *find_reference(const report_study *study, const char *label,
                                              const char *metric)
{
    for (size_t i = 0; i < study->reference_count; i++)
        if (strcmp(study->references[i].label, label) == 0 &&
            strcmp(study->references[i].metric, metric) == 0)
            return &study->references[i];
    return NULL;
}

static int metric_has_reference(const report_study *study, const char *metric)
{
    for (size_t i = 0; i < study->reference_count; i++)
        if (strcmp(study->references[i].metric, metric) == 0 &&
            list_find(study->labels, study->label_count, study->references[i].label) >= 0)
            return 1;
    return 0;
}

/* Values of `metric` for the runs of label `label`, in run order; count = runs. */
static double *label_values(const report_study *study, size_t label, const char *metric,
                            size_t *count)
{
    double *values = malloc((study->run_count + 1) * sizeof *values);
    *count = 0;
    if (values == NULL)
        return NULL;
    for (size_t i = 0; i < study->run_count; i++)
        if (study->runs[i].label == label)
            values[(*count)++] = measures_run_value(&study->runs[i].data, metric);
    return values;
}

static int summarize_label(const report_study *study, size_t label, const char *metric,
                           double confidence, stats_summary *out, mlp_error *err)
{
    size_t count;
    double *values = label_values(study, label, metric, &count);
    if (values == NULL)
        return mlp_error_nomem(err, "report");
    int rc = summarize_bounded(values, count, metric, confidence, out, err);
    free(values);
    return rc;
}

/* The table as a grid of cells (row 0 is the header) plus the raw numbers for CSV. */
typedef struct table_grid {
    size_t rows, cols;
    char **cells;                     /* rows * cols, display text (UTF-8) */
} table_grid;

static void grid_free(table_grid *g)
{
    for (size_t i = 0; g->cells != NULL && i < g->rows * g->cols; i++)
        free(g->cells[i]);
    free(g->cells);
}

static int grid_set(table_grid *g, size_t row, size_t col, const char *text, mlp_error *err)
{
    free(g->cells[row * g->cols + col]);
    g->cells[row * g->cols + col] = strdup(text);
    return g->cells[row * g->cols + col] == NULL ? mlp_error_nomem(err, "report") : MLP_OK;
}

typedef struct table_columns {
    size_t metric_count;
    const char **metrics;
    int *with_ci, *with_reference;
} table_columns;

static int choose_columns(const report_study *study, table_columns *c, mlp_error *err)
{
    memset(c, 0, sizeof *c);
    size_t n = study->metric_count;
    if (n == 0)
        while (measures_default_columns[n] != NULL)
            n++;
    c->metrics = calloc(n + 1, sizeof *c->metrics);
    c->with_ci = calloc(n + 1, sizeof *c->with_ci);
    c->with_reference = calloc(n + 1, sizeof *c->with_reference);
    if (c->metrics == NULL || c->with_ci == NULL || c->with_reference == NULL)
        return mlp_error_nomem(err, "report");
    c->metric_count = n;
    for (size_t i = 0; i < n; i++) {
        const char *m = study->metric_count ? study->metrics[i] : measures_default_columns[i];
        if (!report_metric_known(study, m))
            return mlp_error_set(err, MLP_ERR_CONFIG,
                                 "%s/study.yaml: report.table.metrics names '%s', which is "
                                 "neither a table column (%s, best_validation_accuracy, ...), "
                                 "a /metrics field nor a custom metric of any run",
                                 study->dir, m, measures_default_columns[0]);
        c->metrics[i] = m;
        c->with_reference[i] = metric_has_reference(study, m);
        c->with_ci[i] = strcmp(m, "test_accuracy") == 0 || c->with_reference[i];
    }
    return MLP_OK;
}

static void columns_free(table_columns *c)
{
    free(c->metrics);
    free(c->with_ci);
    free(c->with_reference);
}

static int build_grid(const report_study *study, const table_columns *c, double confidence,
                      table_grid *g, mlp_error *err)
{
    g->rows = study->label_count + 1;
    g->cols = 2;
    for (size_t m = 0; m < c->metric_count; m++)
        g->cols += 1 + (size_t)c->with_ci[m] + 3 * (size_t)c->with_reference[m];
    g->cells = calloc(g->rows * g->cols, sizeof *g->cells);
    if (g->cells == NULL)
        return mlp_error_nomem(err, "report");
    char text[512], a[64], b[64];
    char ci_name[64];
    snprintf(ci_name, sizeof ci_name, "%g%% CI", 100.0 * confidence);
    size_t col = 0;
    int rc = grid_set(g, 0, col++, "label", err);
    if (rc == MLP_OK)
        rc = grid_set(g, 0, col++, "seeds", err);
    for (size_t m = 0; rc == MLP_OK && m < c->metric_count; m++) {
        measures_column_heading(c->metrics[m], text, sizeof text);
        rc = grid_set(g, 0, col++, text, err);
        if (rc == MLP_OK && c->with_ci[m])
            rc = grid_set(g, 0, col++, ci_name, err);
        if (rc == MLP_OK && c->with_reference[m]) {
            rc = grid_set(g, 0, col++, "published", err);
            if (rc == MLP_OK)
                rc = grid_set(g, 0, col++, "difference", err);
            if (rc == MLP_OK)
                rc = grid_set(g, 0, col++, "in CI", err);
        }
    }
    for (size_t l = 0; rc == MLP_OK && l < study->label_count; l++) {
        size_t row = l + 1, runs = 0;
        col = 0;
        for (size_t i = 0; i < study->run_count; i++)
            runs += study->runs[i].label == l;
        rc = grid_set(g, row, col++, study->labels[l], err);
        snprintf(text, sizeof text, "%zu", runs);
        if (rc == MLP_OK)
            rc = grid_set(g, row, col++, text, err);
        for (size_t m = 0; rc == MLP_OK && m < c->metric_count; m++) {
            const char *metric = c->metrics[m];
            stats_summary s;
            rc = summarize_label(study, l, metric, confidence, &s, err);
            if (rc != MLP_OK)
                break;
            measures_format(metric, s.mean, 0, a, sizeof a);
            measures_format(metric, s.sd, 0, b, sizeof b);
            if (isnan(s.sd) || isnan(s.mean))
                snprintf(text, sizeof text, "%s", a);
            else
                snprintf(text, sizeof text, "%s ± %s", a, b);
            rc = grid_set(g, row, col++, text, err);
            if (rc == MLP_OK && c->with_ci[m]) {
                measures_format(metric, s.ci_low, 0, a, sizeof a);
                measures_format(metric, s.ci_high, 0, b, sizeof b);
                if (isnan(s.ci_low))
                    snprintf(text, sizeof text, "—");
                else
                    snprintf(text, sizeof text, "[%s, %s]", a, b);
                rc = grid_set(g, row, col++, text, err);
            }
            if (rc != MLP_OK || !c->with_reference[m])
                continue;
            const report_reference *r = find_reference(study, study->labels[l], metric);
            double published = r != NULL ? r->value : NAN;
            measures_format(metric, published, 0, text, sizeof text);
            rc = grid_set(g, row, col++, text, err);
            measures_format(metric, s.mean - published, 1, text, sizeof text);
            if (rc == MLP_OK)
                rc = grid_set(g, row, col++, text, err);
            const char *inside = r == NULL || isnan(s.ci_low) ? "—"
                                 : stats_contains(&s, published) ? "yes" : "no";
            if (rc == MLP_OK)
                rc = grid_set(g, row, col++, inside, err);
        }
    }
    return rc;
}

/* Markdown cell text: a `|` would end the cell. */
static void put_markdown_cell(FILE *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '|')
            fputc('\\', out);
        fputc(*p == '\n' ? ' ' : *p, out);
    }
}

/* A CSV field, always quoted (RFC 4180: a quote is doubled). */
static void put_csv_text(FILE *out, const char *text)
{
    fputc('"', out);
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

static void put_number(FILE *out, double value)
{
    if (isnan(value))
        fputs("NaN", out);
    else if (isinf(value))
        fputs(value > 0 ? "Inf" : "-Inf", out);
    else
        fprintf(out, "%.9g", value);
}

/* " median min max": the sample itself, for figures of a distribution that is
 * not normal (docs/figures.md). */
static void put_spread(FILE *out, const stats_summary *s)
{
    const double numbers[] = {s->median, s->min, s->max};
    for (size_t k = 0; k < 3; k++) {
        fputc(' ', out);
        put_number(out, numbers[k]);
    }
}

/* Which intervals of the table reached past their metric's bounds and were
 * clipped: one sentence, or nothing when none was. */
static int write_clipped_note(FILE *out, const report_study *study, const table_columns *c,
                              double confidence, const char *bullet, mlp_error *err)
{
    int any = 0;
    for (size_t m = 0; m < c->metric_count; m++) {
        if (!c->with_ci[m])
            continue;
        for (size_t l = 0; l < study->label_count; l++) {
            stats_summary s;
            int rc = summarize_label(study, l, c->metrics[m], confidence, &s, err);
            if (rc != MLP_OK)
                return rc;
            if (!s.clipped)
                continue;
            char name[256];
            measures_column_heading(c->metrics[m], name, sizeof name);
            if (any++ == 0)
                fprintf(out, "%sClipped to the bounds of the metric (the mean of a bounded "
                             "quantity lies within them, so the interval covers it as often as "
                             "before): the %g%% CI of %s for %s", bullet, 100.0 * confidence,
                        name, study->labels[l]);
            else
                fprintf(out, "; of %s for %s", name, study->labels[l]);
        }
    }
    if (any)
        fputs(".\n", out);
    return MLP_OK;
}

/* The sentences under the table: statistics, sources, left-out runs,
 * comparisons. `prefix` starts each line ("" for Markdown, "% " for LaTeX). */
static int write_notes(FILE *out, const report_study *study, const table_columns *c,
                       double confidence, report_format format, mlp_error *err)
{
    const char *bullet = format == REPORT_LATEX ? "% " : "- ";
    fprintf(out, "%sMean ± sample standard deviation over the seeds of each label (complete runs "
                 "only); %g%% CI: Student's t confidence interval of the mean (n − 1 degrees of "
                 "freedom); — where not defined (fewer than 2 seeds, or no value). Accuracies "
                 "in percent.\n",
            bullet, 100.0 * confidence);
    int rc = write_clipped_note(out, study, c, confidence, bullet, err);
    if (rc != MLP_OK)
        return rc;
    for (size_t i = 0; i < study->reference_count; i++) {
        const report_reference *r = &study->references[i];
        char value[64];
        measures_format(r->metric, r->value, 0, value, sizeof value);
        /* A reader's name and unit for the metric (measures.h), not its field name. */
        const measure *row = measures_find(r->metric);
        fprintf(out, "%sPublished %s for %s: %s%s%s%s%s.\n", bullet,
                row != NULL ? row->label : r->metric, r->label, value,
                measures_is_percent(r->metric) ? " %" : "", r->source[0] ? " (" : "", r->source,
                r->source[0] ? ")" : "");
    }
    for (size_t i = 0; i < study->note_count; i++)
        fprintf(out, "%sNot included: %s.\n", bullet, study->notes[i]);
    for (size_t l = 0; l < study->label_count; l++) {
        int runs = 0;
        for (size_t i = 0; i < study->run_count; i++)
            runs += study->runs[i].label == l;
        if (runs == 0)
            fprintf(out, "%s%s has no complete run.\n", bullet, study->labels[l]);
    }
    if (study->compare_count > 0)
        fprintf(out, "\n%sComparisons of final test accuracy (difference of means in percentage "
                     "points, Welch's t test, two-sided):\n",
                format == REPORT_LATEX ? "% " : "");
    for (size_t i = 0; i < study->compare_count; i++) {
        const report_pair *pair = &study->compare[i];
        int ia = list_find(study->labels, study->label_count, pair->a);
        int ib = list_find(study->labels, study->label_count, pair->b);
        if (ia < 0 || ib < 0) {
            fprintf(out, "%s%s vs %s: no such label (%s)\n", bullet, pair->a, pair->b,
                    ia < 0 ? pair->a : pair->b);
            continue;
        }
        size_t na, nb;
        double *a = label_values(study, (size_t)ia, "test_accuracy", &na);
        double *b = label_values(study, (size_t)ib, "test_accuracy", &nb);
        welch_result w;
        rc = a != NULL && b != NULL ? stats_welch(a, na, b, nb, &w, err)
                                        : mlp_error_nomem(err, "report");
        free(a);
        free(b);
        if (rc != MLP_OK)
            return rc;
        char difference[64], mean_a[64], mean_b[64];
        measures_format("test_accuracy", w.difference, 1, difference, sizeof difference);
        measures_format("test_accuracy", w.mean_a, 0, mean_a, sizeof mean_a);
        measures_format("test_accuracy", w.mean_b, 0, mean_b, sizeof mean_b);
        fprintf(out, "%s%s − %s: %s points (%s vs %s, n = %zu vs %zu); ", bullet, pair->a,
                pair->b, difference, mean_a, mean_b, w.n_a, w.n_b);
        if (w.undefined_reason != NULL)
            fprintf(out, "p not defined: %s\n", w.undefined_reason);
        else
            fprintf(out, "t = %.3g, df = %.3g, p = %.3g\n", w.t, w.df, w.p);
    }
    return MLP_OK;
}

static void write_markdown(FILE *out, const report_study *study, const table_grid *g)
{
    fprintf(out, "# %s\n\n", study->name);
    if (study->description[0])
        fprintf(out, "%s\n\n", study->description);
    for (size_t r = 0; r < g->rows; r++) {
        for (size_t col = 0; col < g->cols; col++) {
            fputs("| ", out);
            put_markdown_cell(out, g->cells[r * g->cols + col]);
            fputc(' ', out);
        }
        fputs("|\n", out);
        if (r == 0) {
            for (size_t col = 0; col < g->cols; col++)
                fputs(col == 0 ? "|:---" : "|---:", out);
            fputs("|\n", out);
        }
    }
    fputc('\n', out);
}

static void write_latex(FILE *out, const table_grid *g)
{
    fputs("% Generated by mlplab table; needs \\usepackage{booktabs}.\n\\begin{tabular}{l", out);
    for (size_t col = 1; col < g->cols; col++)
        fputc('r', out);
    fputs("}\n\\toprule\n", out);
    for (size_t r = 0; r < g->rows; r++) {
        for (size_t col = 0; col < g->cols; col++) {
            if (col > 0)
                fputs(" & ", out);
            latex_put(out, g->cells[r * g->cols + col]);
        }
        fputs(" \\\\\n", out);
        if (r == 0)
            fputs("\\midrule\n", out);
    }
    fputs("\\bottomrule\n\\end{tabular}\n", out);
}

static int write_csv(FILE *out, const report_study *study, const table_columns *c,
                     double confidence, mlp_error *err)
{
    fputs("label,seeds", out);
    for (size_t m = 0; m < c->metric_count; m++) {
        const char *n = c->metrics[m];
        fprintf(out, ",%s_mean,%s_sd,%s_ci_low,%s_ci_high,%s_n", n, n, n, n, n);
        if (c->with_reference[m])
            fprintf(out, ",%s_published,%s_difference,%s_in_ci", n, n, n);
    }
    fputc('\n', out);
    for (size_t l = 0; l < study->label_count; l++) {
        size_t runs = 0;
        for (size_t i = 0; i < study->run_count; i++)
            runs += study->runs[i].label == l;
        put_csv_text(out, study->labels[l]);
        fprintf(out, ",%zu", runs);
        for (size_t m = 0; m < c->metric_count; m++) {
            stats_summary s;
            int rc = summarize_label(study, l, c->metrics[m], confidence, &s, err);
            if (rc != MLP_OK)
                return rc;
            const double numbers[] = {s.mean, s.sd, s.ci_low, s.ci_high};
            for (size_t k = 0; k < 4; k++) {
                fputc(',', out);
                put_number(out, numbers[k]);
            }
            fprintf(out, ",%zu", s.n);
            if (!c->with_reference[m])
                continue;
            const report_reference *r = find_reference(study, study->labels[l], c->metrics[m]);
            double published = r != NULL ? r->value : NAN;
            fputc(',', out);
            put_number(out, published);
            fputc(',', out);
            put_number(out, s.mean - published);
            fputs(r == NULL || isnan(s.ci_low) ? "," : stats_contains(&s, published) ? ",yes" : ",no",
                  out);
        }
        fputc('\n', out);
    }
    return MLP_OK;
}

int report_table_render(const report_study *study, double confidence, report_format format,
                        char **text, mlp_error *err)
{
    *text = NULL;
    if (!(confidence > 0.0 && confidence < 1.0))
        return mlp_error_set(err, MLP_ERR_USAGE, "the confidence level must lie between 0 and 1, "
                                                 "not %g", confidence);
    table_columns c;
    table_grid g = {0};
    size_t size = 0;
    FILE *out = NULL;
    int rc = choose_columns(study, &c, err);
    if (rc == MLP_OK && format != REPORT_CSV)
        rc = build_grid(study, &c, confidence, &g, err);
    if (rc == MLP_OK && (out = open_memstream(text, &size)) == NULL)
        rc = mlp_error_nomem(err, "report");
    if (rc == MLP_OK) {
        if (format == REPORT_CSV) {
            rc = write_csv(out, study, &c, confidence, err);
        } else {
            if (format == REPORT_MARKDOWN)
                write_markdown(out, study, &g);
            else
                write_latex(out, &g);
            rc = write_notes(out, study, &c, confidence, format, err);
        }
        fclose(out);
    }
    grid_free(&g);
    columns_free(&c);
    if (rc != MLP_OK) {
        free(*text);
        *text = NULL;
    }
    return rc;
}

int report_table_write(const report_study *study, double confidence, const char *out_dir,
                       char **markdown, mlp_error *err)
{
    if (markdown != NULL)
        *markdown = NULL;
    static const struct {
        report_format format;
        const char *name;
    } files[] = {{REPORT_MARKDOWN, "table.md"}, {REPORT_CSV, "table.csv"},
                 {REPORT_LATEX, "table.tex"}};
    int rc = fsutil_make_dirs(out_dir, err);
    for (size_t i = 0; rc == MLP_OK && i < sizeof files / sizeof files[0]; i++) {
        char *text = NULL, path[4096];
        rc = report_table_render(study, confidence, files[i].format, &text, err);
        snprintf(path, sizeof path, "%s/%s", out_dir, files[i].name);
        if (rc == MLP_OK)
            rc = fsutil_write_atomic(path, text, err);
        if (rc == MLP_OK && markdown != NULL && files[i].format == REPORT_MARKDOWN)
            *markdown = text;
        else
            free(text);
    }
    if (rc != MLP_OK && markdown != NULL) {
        free(*markdown);
        *markdown = NULL;
    }
    return rc;
}

/* ---- gnuplot data files (docs/figures.md) ------------------------------- */

char *report_gnuplot_label(const char *label)
{
    char *copy = strdup(label);
    for (char *p = copy; p != NULL && *p; p++) {
        if (*p == '"')
            *p = '\'';
        else if (*p == '\\')
            *p = '/';
        else if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    }
    return copy;
}

/* `"LABEL"` with the label made safe for gnuplot. */
static int put_quoted_label(FILE *out, const char *label, mlp_error *err)
{
    char *safe = report_gnuplot_label(label);
    if (safe == NULL)
        return mlp_error_nomem(err, "report");
    fprintf(out, "\"%s\"", safe);
    free(safe);
    return MLP_OK;
}

/* A comment line must stay one line: control characters become spaces. */
static int put_comment_text(FILE *out, const char *text, mlp_error *err)
{
    /* Unlike a label line, a comment keeps quotes and backslashes as written. */
    (void)err;
    for (const char *p = text; *p; p++)
        fputc((unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p, out);
    return MLP_OK;
}

/* The label filter's "every label". */
#define ALL_LABELS ((size_t)-1)

/* "no label 'X' in DIR; its labels are: 'a', 'b'" (as many as fit). */
static int unknown_label_error(const report_study *study, const char *label, mlp_error *err)
{
    char known[2048] = "";
    size_t used = 0;
    for (size_t l = 0; l < study->label_count && used < sizeof known; l++)
        used += (size_t)snprintf(known + used, sizeof known - used, "%s'%s'", l > 0 ? ", " : "",
                                 study->labels[l]);
    if (study->label_count == 0)
        snprintf(known, sizeof known, "%s", "none (no labels in study.yaml, no run files)");
    return mlp_error_set(err, MLP_ERR_USAGE, "no label '%s' in %s; its labels are: %s", label,
                         study->dir, known);
}

static size_t label_runs(const report_study *study, size_t label)
{
    size_t runs = 0;
    for (size_t i = 0; i < study->run_count; i++)
        runs += study->runs[i].label == label;
    return runs;
}

static int render_series(FILE *out, const report_study *study, const char *metric,
                         double confidence, size_t only, mlp_error *err)
{
    int rc = MLP_OK, blocks = 0;
    double *values = malloc((study->run_count + 1) * sizeof *values);
    if (values == NULL)
        return mlp_error_nomem(err, "report");
    for (size_t l = 0; rc == MLP_OK && l < study->label_count; l++) {
        if (only != ALL_LABELS && l != only)
            continue;
        size_t epochs = 0;
        for (size_t i = 0; i < study->run_count; i++)
            if (study->runs[i].label == l && study->runs[i].data.history.count > epochs)
                epochs = study->runs[i].data.history.count;
        if (epochs == 0) {
            /* An empty block would break the block numbering the scripts rely on. */
            fputs("# no complete run, no block: ", out);
            rc = put_comment_text(out, study->labels[l], err);
            fputc('\n', out);
            continue;
        }
        fputs(blocks++ > 0 ? "\n\n# label: " : "# label: ", out);
        rc = put_comment_text(out, study->labels[l], err);
        fputc('\n', out);
        if (rc == MLP_OK)
            rc = put_quoted_label(out, study->labels[l], err);
        fputc('\n', out);
        for (size_t e = 0; rc == MLP_OK && e < epochs; e++) {
            size_t count = 0;
            for (size_t i = 0; i < study->run_count; i++)
                if (study->runs[i].label == l)
                    values[count++] = measures_epoch_value(&study->runs[i].data, metric, e);
            stats_summary s;
            rc = summarize_bounded(values, count, metric, confidence, &s, err);
            if (rc != MLP_OK)
                break;
            fprintf(out, "%zu ", e);
            put_number(out, s.mean);
            fputc(' ', out);
            put_number(out, s.ci_low);
            fputc(' ', out);
            put_number(out, s.ci_high);
            fprintf(out, " %zu", s.n);
            put_spread(out, &s);
            fputc('\n', out);
        }
    }
    free(values);
    return rc;
}

static int render_seeds(FILE *out, const report_study *study, const char *metric,
                        size_t only, mlp_error *err)
{
    int rc = MLP_OK, blocks = 0, label_block = -1;
    size_t last_label = (size_t)-1;
    for (size_t i = 0; rc == MLP_OK && i < study->run_count; i++) {
        const report_run *run = &study->runs[i];
        if (only != ALL_LABELS && run->label != only)
            continue;   /* the filtered series file has one block: label_index 0 */
        if (run->label != last_label) {
            /* label_index = position among the series file's blocks, which
             * skips labels without runs: runs are sorted by label. */
            label_block++;
            last_label = run->label;
        }
        if (run->data.history.count == 0)
            continue;
        fputs(blocks++ > 0 ? "\n\n# label: " : "# label: ", out);
        rc = put_comment_text(out, study->labels[run->label], err);
        fprintf(out, "; seed: %lu\n", run->data.seed);
        for (size_t e = 0; rc == MLP_OK && e < run->data.history.count; e++) {
            fprintf(out, "%zu ", e);
            put_number(out, measures_epoch_value(&run->data, metric, e));
            fprintf(out, " %d %lu\n", label_block, run->data.seed);
        }
    }
    return rc;
}

static int render_final(FILE *out, const report_study *study, const char *metric,
                        double confidence, size_t only, mlp_error *err)
{
    int rc = MLP_OK;
    fputs("# columns: label mean ci_low ci_high n reference median min max\n", out);
    for (size_t l = 0; rc == MLP_OK && l < study->label_count; l++) {
        if (only != ALL_LABELS && l != only)
            continue;
        if (label_runs(study, l) == 0)
            continue;   /* as in the series file: no runs, no row */
        stats_summary s;
        rc = summarize_label(study, l, metric, confidence, &s, err);
        if (rc == MLP_OK)
            rc = put_quoted_label(out, study->labels[l], err);
        if (rc != MLP_OK)
            break;
        const double numbers[] = {s.mean, s.ci_low, s.ci_high};
        for (size_t k = 0; k < 3; k++) {
            fputc(' ', out);
            put_number(out, numbers[k]);
        }
        fprintf(out, " %zu ", s.n);
        const report_reference *r = find_reference(study, study->labels[l], metric);
        put_number(out, r != NULL ? r->value : NAN);
        put_spread(out, &s);
        fputc('\n', out);
    }
    return rc;
}

/* One row per run: "label_index value seed ordinal", ordinal counting the
 * runs of a label from 0 (the figure spreads the points by it). */
static int render_final_seeds(FILE *out, const report_study *study, const char *metric,
                              size_t only)
{
    int label_row = -1;
    size_t last_label = (size_t)-1, ordinal = 0;
    fputs("# columns: label_index value seed ordinal\n", out);
    for (size_t i = 0; i < study->run_count; i++) {
        const report_run *run = &study->runs[i];
        if (only != ALL_LABELS && run->label != only)
            continue;
        if (run->label != last_label) {
            label_row++;   /* the row of the label in the final file */
            last_label = run->label;
            ordinal = 0;
        }
        fprintf(out, "%d ", label_row);
        put_number(out, measures_run_value(&run->data, metric));
        fprintf(out, " %lu %zu\n", run->data.seed, ordinal++);
    }
    return MLP_OK;
}

int report_series_render(const report_study *study, const char *metric, double confidence,
                         report_series_kind kind, const char *only_label, char **text,
                         mlp_error *err)
{
    *text = NULL;
    size_t only = ALL_LABELS;
    if (only_label != NULL) {
        int found = list_find(study->labels, study->label_count, only_label);
        if (found < 0)
            return unknown_label_error(study, only_label, err);
        only = (size_t)found;
    }
    if (!(confidence > 0.0 && confidence < 1.0))
        return mlp_error_set(err, MLP_ERR_USAGE, "the confidence level must lie between 0 and 1, "
                                                 "not %g", confidence);
    if (!report_metric_known(study, metric))
        return mlp_error_set(err, MLP_ERR_USAGE,
                             "no metric '%s' in %s: use a /metrics field (test_accuracy, "
                             "train_cost, ...) or a custom metric the runs have",
                             metric, study->dir);
    /* Per-epoch files need a per-epoch metric; the derived table columns
     * (best_validation_accuracy, ...) exist only in the final file. */
    const measure *row = measures_find(metric);
    int per_epoch = row != NULL && row->per_epoch;
    for (size_t i = 0; !per_epoch && i < study->run_count; i++)
        per_epoch = metrics_history_custom_index(&study->runs[i].data.history, metric) >= 0;
    if (kind != REPORT_FINAL && kind != REPORT_FINAL_SEEDS && !per_epoch)
        return mlp_error_set(err, MLP_ERR_USAGE,
                             "'%s' is one number per run, not per epoch: use it with --final",
                             metric);
    size_t size = 0;
    FILE *out = open_memstream(text, &size);
    if (out == NULL)
        return mlp_error_nomem(err, "report");
    fputs("# mlplab series: ", out);
    int rc = put_comment_text(out, study->name, err);
    if (kind == REPORT_SERIES)
        fprintf(out, ", metric %s, confidence %g\n", metric, confidence);
    else if (kind == REPORT_SEEDS)
        fprintf(out, ", metric %s, one block per run\n", metric);
    else if (kind == REPORT_FINAL_SEEDS)
        fprintf(out, per_epoch ? ", metric %s at the final epoch, one row per run\n"
                               : ", metric %s (one value per run), one row per run\n",
                metric);
    else
        fprintf(out, per_epoch ? ", metric %s at the final epoch, confidence %g\n"
                               : ", metric %s (one value per run), confidence %g\n",
                metric, confidence);
    if (rc == MLP_OK)
        rc = kind == REPORT_SERIES        ? render_series(out, study, metric, confidence, only, err)
             : kind == REPORT_SEEDS       ? render_seeds(out, study, metric, only, err)
             : kind == REPORT_FINAL_SEEDS ? render_final_seeds(out, study, metric, only)
                                          : render_final(out, study, metric, confidence, only, err);
    fclose(out);
    if (rc != MLP_OK) {
        free(*text);
        *text = NULL;
    }
    return rc;
}
