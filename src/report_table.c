/* report_table.c — see report_table.h. */
#include "report_table.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "measures.h"
#include "stats.h"
#include "table.h"

static int metric_has_reference(const report_study *study, const char *metric)
{
    for (size_t i = 0; i < study->reference_count; i++)
        if (strcmp(study->references[i].metric, metric) == 0 &&
            report_label_find(study, study->references[i].label) >= 0)
            return 1;
    return 0;
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
    size_t cols = 2;
    for (size_t m = 0; m < c->metric_count; m++)
        cols += 1 + (size_t)c->with_ci[m] + 3 * (size_t)c->with_reference[m];
    int rc = table_init(g, study->label_count + 1, cols, err);
    if (rc != MLP_OK)
        return rc;
    table_set_align(g, 0, TABLE_LEFT);
    for (size_t col = 1; col < cols; col++)
        table_set_align(g, col, TABLE_RIGHT);
    char text[512], a[64], b[64];
    char ci_name[64];
    snprintf(ci_name, sizeof ci_name, "%g%% CI", 100.0 * confidence);
    size_t col = 0;
    rc = table_set(g, 0, col++, "label", err);
    if (rc == MLP_OK)
        rc = table_set(g, 0, col++, "seeds", err);
    for (size_t m = 0; rc == MLP_OK && m < c->metric_count; m++) {
        measures_column_heading(c->metrics[m], text, sizeof text);
        rc = table_set(g, 0, col++, text, err);
        if (rc == MLP_OK && c->with_ci[m])
            rc = table_set(g, 0, col++, ci_name, err);
        if (rc == MLP_OK && c->with_reference[m]) {
            rc = table_set(g, 0, col++, "published", err);
            if (rc == MLP_OK)
                rc = table_set(g, 0, col++, "difference", err);
            if (rc == MLP_OK)
                rc = table_set(g, 0, col++, "in CI", err);
        }
    }
    for (size_t l = 0; rc == MLP_OK && l < study->label_count; l++) {
        size_t row = l + 1;
        col = 0;
        rc = table_set(g, row, col++, study->labels[l], err);
        if (rc == MLP_OK)
            rc = table_setf(g, row, col++, err, "%zu", report_label_runs(study, l));
        for (size_t m = 0; rc == MLP_OK && m < c->metric_count; m++) {
            const char *metric = c->metrics[m];
            stats_summary s;
            rc = report_label_summary(study, l, metric, confidence, &s, err);
            if (rc != MLP_OK)
                break;
            measures_format(metric, s.mean, 0, a, sizeof a);
            measures_format(metric, s.sd, 0, b, sizeof b);
            if (isnan(s.sd) || isnan(s.mean))
                snprintf(text, sizeof text, "%s", a);
            else
                snprintf(text, sizeof text, "%s ± %s", a, b);
            rc = table_set(g, row, col++, text, err);
            if (rc == MLP_OK && c->with_ci[m]) {
                measures_format(metric, s.ci_low, 0, a, sizeof a);
                measures_format(metric, s.ci_high, 0, b, sizeof b);
                if (isnan(s.ci_low))
                    snprintf(text, sizeof text, "—");
                else
                    snprintf(text, sizeof text, "[%s, %s]", a, b);
                rc = table_set(g, row, col++, text, err);
            }
            if (rc != MLP_OK || !c->with_reference[m])
                continue;
            const report_reference *r = report_find_reference(study, study->labels[l], metric);
            double published = r != NULL ? r->value : NAN;
            measures_format(metric, published, 0, text, sizeof text);
            rc = table_set(g, row, col++, text, err);
            measures_format(metric, s.mean - published, 1, text, sizeof text);
            if (rc == MLP_OK)
                rc = table_set(g, row, col++, text, err);
            const char *inside = r == NULL || isnan(s.ci_low) ? "—"
                                 : stats_contains(&s, published) ? "yes" : "no";
            if (rc == MLP_OK)
                rc = table_set(g, row, col++, inside, err);
        }
    }
    return rc;
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
            int rc = report_label_summary(study, l, c->metrics[m], confidence, &s, err);
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
 * comparisons. Each line starts with a bullet: "- " in Markdown, "% " (a comment)
 * in LaTeX. */
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
        if (report_label_runs(study, l) == 0)
            fprintf(out, "%s%s has no complete run.\n", bullet, study->labels[l]);
    }
    if (study->compare_count > 0)
        fprintf(out, "\n%sComparisons of final test accuracy (difference of means in percentage "
                     "points, Welch's t test, two-sided):\n",
                format == REPORT_LATEX ? "% " : "");
    for (size_t i = 0; i < study->compare_count; i++) {
        const report_pair *pair = &study->compare[i];
        int ia = report_label_find(study, pair->a);
        int ib = report_label_find(study, pair->b);
        if (ia < 0 || ib < 0) {
            fprintf(out, "%s%s vs %s: no such label (%s)\n", bullet, pair->a, pair->b,
                    ia < 0 ? pair->a : pair->b);
            continue;
        }
        size_t na, nb;
        double *a = report_label_values(study, (size_t)ia, REPORT_COMPARED_METRIC, &na);
        double *b = report_label_values(study, (size_t)ib, REPORT_COMPARED_METRIC, &nb);
        welch_result w;
        rc = a != NULL && b != NULL ? stats_welch(a, na, b, nb, &w, err)
                                        : mlp_error_nomem(err, "report");
        free(a);
        free(b);
        if (rc != MLP_OK)
            return rc;
        char difference[64], mean_a[64], mean_b[64];
        measures_format(REPORT_COMPARED_METRIC, w.difference, 1, difference, sizeof difference);
        measures_format(REPORT_COMPARED_METRIC, w.mean_a, 0, mean_a, sizeof mean_a);
        measures_format(REPORT_COMPARED_METRIC, w.mean_b, 0, mean_b, sizeof mean_b);
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
    table_write_markdown(out, g);
    fputc('\n', out);
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
        put_csv_text(out, study->labels[l]);
        fprintf(out, ",%zu", report_label_runs(study, l));
        for (size_t m = 0; m < c->metric_count; m++) {
            stats_summary s;
            int rc = report_label_summary(study, l, c->metrics[m], confidence, &s, err);
            if (rc != MLP_OK)
                return rc;
            const double numbers[] = {s.mean, s.sd, s.ci_low, s.ci_high};
            report_put_numbers(out, ',', numbers, 4);
            fprintf(out, ",%zu", s.n);
            if (!c->with_reference[m])
                continue;
            const report_reference *r =
                report_find_reference(study, study->labels[l], c->metrics[m]);
            double published = r != NULL ? r->value : NAN;
            fputc(',', out);
            report_put_number(out, published);
            fputc(',', out);
            report_put_number(out, s.mean - published);
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
    int rc = report_check_confidence(confidence, err);
    if (rc != MLP_OK)
        return rc;
    table_columns c;
    table_grid g = {0};
    size_t size = 0;
    FILE *out = NULL;
    rc = choose_columns(study, &c, err);
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
                table_write_latex(out, &g);
            rc = write_notes(out, study, &c, confidence, format, err);
        }
        fclose(out);
    }
    table_free(&g);
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
