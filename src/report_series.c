/* report_series.c — see report_series.h. */
#include "report_series.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measures.h"
#include "metrics.h"
#include "stats.h"

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

/* " median min max": the sample itself, for figures of a distribution that is
 * not normal (docs/figures.md). */
static void put_spread(FILE *out, const stats_summary *s)
{
    const double numbers[] = {s->median, s->min, s->max};
    report_put_numbers(out, ' ', numbers, 3);
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
            rc = report_summarize(values, count, metric, confidence, &s, err);
            if (rc != MLP_OK)
                break;
            const double numbers[] = {s.mean, s.ci_low, s.ci_high};
            fprintf(out, "%zu", e);
            report_put_numbers(out, ' ', numbers, 3);
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
            report_put_number(out, measures_epoch_value(&run->data, metric, e));
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
        if (report_label_runs(study, l) == 0)
            continue;   /* as in the series file: no runs, no row */
        stats_summary s;
        rc = report_label_summary(study, l, metric, confidence, &s, err);
        if (rc == MLP_OK)
            rc = put_quoted_label(out, study->labels[l], err);
        if (rc != MLP_OK)
            break;
        const double numbers[] = {s.mean, s.ci_low, s.ci_high};
        report_put_numbers(out, ' ', numbers, 3);
        fprintf(out, " %zu ", s.n);
        const report_reference *r = report_find_reference(study, study->labels[l], metric);
        report_put_number(out, r != NULL ? r->value : NAN);
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
        report_put_number(out, measures_run_value(&run->data, metric));
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
        int found = report_label_find(study, only_label);
        if (found < 0)
            return unknown_label_error(study, only_label, err);
        only = (size_t)found;
    }
    int rc = report_check_confidence(confidence, err);
    if (rc != MLP_OK)
        return rc;
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
    rc = put_comment_text(out, study->name, err);
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
