/* report.c — see report.h: a study's results directory read into a
 * report_study (its manifest, then every file in runs/), and the per-label
 * values and statistics the table (report_table.c) and the data files
 * (report_series.c) are made of. */
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

#include "manifest.h"
#include "measures.h"
#include "metrics.h"
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
    int found = report_label_find(study, label);
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


/* ---- per label: values and statistics ----------------------------------- */

int report_label_find(const report_study *study, const char *label)
{
    for (size_t i = 0; i < study->label_count; i++)
        if (strcmp(study->labels[i], label) == 0)
            return (int)i;
    return -1;
}

size_t report_label_runs(const report_study *study, size_t label)
{
    size_t runs = 0;
    for (size_t i = 0; i < study->run_count; i++)
        runs += study->runs[i].label == label;
    return runs;
}

void report_metric_bounds(const char *metric, double *low, double *high)
{
    /* The table gives them in shown units; a custom metric has none (but the
     * diagnostics, layerK_FIELD, have their field's). */
    const measure *m = measures_find(metric);
    if (m == NULL)
        m = measures_diagnostic(metric, NULL);
    *low = m != NULL ? m->lower / m->scale : -INFINITY;
    *high = m != NULL ? m->upper / m->scale : INFINITY;
}

/* stats_summarize, then the interval clipped to the metric's bounds. */
int report_summarize(const double *values, size_t count, const char *metric,
                     double confidence, stats_summary *out, mlp_error *err)
{
    int rc = stats_summarize(values, count, confidence, out, err);
    double low, high;
    report_metric_bounds(metric, &low, &high);
    if (rc == MLP_OK)
        stats_clip(out, low, high);
    return rc;
}

const report_reference *report_find_reference(const report_study *study, const char *label,
                                             const char *metric)
{
    for (size_t i = 0; i < study->reference_count; i++)
        if (strcmp(study->references[i].label, label) == 0 &&
            strcmp(study->references[i].metric, metric) == 0)
            return &study->references[i];
    return NULL;
}

/* Values of `metric` for the runs of label `label`, in run order; count = runs. */
double *report_label_values(const report_study *study, size_t label, const char *metric,
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

int report_label_summary(const report_study *study, size_t label, const char *metric,
                         double confidence, stats_summary *out, mlp_error *err)
{
    size_t count;
    double *values = report_label_values(study, label, metric, &count);
    if (values == NULL)
        return mlp_error_nomem(err, "report");
    int rc = report_summarize(values, count, metric, confidence, out, err);
    free(values);
    return rc;
}

int report_check_confidence(double confidence, mlp_error *err)
{
    if (confidence > 0.0 && confidence < 1.0)
        return MLP_OK;
    return mlp_error_set(err, MLP_ERR_USAGE, "the confidence level must lie between 0 and 1, "
                                             "not %g", confidence);
}

void report_put_number(FILE *out, double value)
{
    if (isnan(value))
        fputs("NaN", out);
    else if (isinf(value))
        fputs(value > 0 ? "Inf" : "-Inf", out);
    else
        fprintf(out, "%.9g", value);
}

void report_put_numbers(FILE *out, char separator, const double *values, size_t count)
{
    for (size_t k = 0; k < count; k++) {
        fputc(separator, out);
        report_put_number(out, values[k]);
    }
}
