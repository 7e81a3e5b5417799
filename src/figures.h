/* figures.h — a study's figures, as its study file's `report.figures` lists
 * them: which plot script draws what, and the gnuplot command line for each.
 *
 * `mlplab plan` copies the study file's `report:` block into study.yaml;
 * figures_load reads `report.figures` from there (with file:line:col in every
 * error) and fills in the defaults; figures_write_data writes the data files a
 * figure needs (through report_series_render); figures_line gives the line
 * `mlplab figures` prints: "SCRIPT\tOUTSTEM\tASSIGNMENTS", where ASSIGNMENTS
 * is a gnuplot program of variable assignments only.
 *
 * Study files are shared between researchers, so nothing from them reaches
 * gnuplot except inside a single-quoted gnuplot string (where gnuplot 5
 * expands neither backquotes nor @macros; `'` is doubled, control characters
 * become spaces) or as a number printed here. keypos, which the scripts pass
 * to `eval "set key ..."`, is limited to letters, digits, spaces, `,`, `.`,
 * `-` and `+`. docs/figures.md is the user's description.
 *
 * Ownership: figures_load/figures_parse fill a figure_list the caller frees
 * with figure_list_free; functions returning `char *` malloc it. */
#ifndef MLP_FIGURES_H
#define MLP_FIGURES_H

#include <stddef.h>

#include "error.h"
#include "report.h"
#include "yamltree.h"

typedef enum figure_plot {
    FIGURE_METRIC_VS_EPOCH,   /* plots/metric-vs-epoch.gp: series file (+ seeds file) */
    FIGURE_FINAL_ERRORBARS,   /* plots/final-errorbars.gp: final file */
    FIGURE_COST_VS_EPOCH,     /* plots/cost-vs-epoch.gp: series file, the mean column */
    FIGURE_CONFUSION,         /* plots/confusion.gp: one run's confusion matrix, as % of
                                 each true class (metric: its path, confusion/final/test) */
    FIGURE_DIAGNOSTICS_VS_EPOCH,  /* plots/diagnostics-vs-epoch.gp: a /diagnostics field
                                     against epoch, one curve per label (layer: K; metric
                                     becomes layerK_FIELD) or per layer of one label */
} figure_plot;

/* What a line or a bar stands for: the mean with its confidence interval, or
 * for a distribution that is not normal (two modes, say) the median with the
 * range of the seeds. */
typedef enum figure_summary { FIGURE_MEAN_CI, FIGURE_MEDIAN_RANGE } figure_summary;

/* The size of the figure in a paper (its PDF and LaTeX output): one column of
 * a two-column page, or the width of the page. PNG and SVG are for screens. */
typedef enum figure_size { FIGURE_COLUMN, FIGURE_PAGE } figure_size;

typedef struct figure_spec {
    figure_plot plot;
    char *metric;
    char *name;               /* output stem under figures/; unique in the list */
    char *label;              /* only this label's runs; NULL = every label */
    char *title, *ylabel;     /* always set (defaults filled in) */
    char *xlabel, *keypos;    /* NULL = the script's default */
    double scale;
    int logy;                 /* -1 = not given (the script's default, linear) */
    int has_ymin, has_ymax, has_xmin, has_xmax, has_points;
    double ymin, ymax, xmin, xmax;
    long points;
    int seeds;                /* also the seeds file: every run's line (metric-vs-epoch)
                                 or every run's value as a point (final-errorbars) */
    figure_summary summary;
    figure_size size;
    int has_seed;             /* confusion: the run of this seed (else the label's first) */
    unsigned long seed;
    int layer;                /* diagnostics-vs-epoch: K of layer: K (metric layerK_FIELD,
                                 one curve per label), or 0: metric is the FIELD and the
                                 curves are label's layers */
} figure_spec;

typedef struct figure_list {
    size_t count;
    figure_spec *figures;
} figure_list;

/* The figures of a study: `report.figures` of study->dir/study.yaml, or the
 * defaults (test_accuracy and train_cost against epoch, final test_accuracy
 * with error bars) when it has none; none for a gradient-check study, which
 * has no runs. Errors: MLP_ERR_CONFIG, located. */
int figures_load(const report_study *study, figure_list *out, mlp_error *err);

/* Parses a `report.figures` node (NULL: the defaults) for a study named
 * study_name with these labels. When `study` is not NULL and has runs, each
 * metric must be one it has (report_metric_known). `mlplab plan` calls it with
 * study NULL, before any run exists, to check the study file (study.h). */
int figures_parse(const yt_node *figures, const char *study_name, char *const *labels,
                  size_t label_count, const report_study *study, figure_list *out,
                  mlp_error *err);

void figure_list_free(figure_list *list);

/* The y range the figure's metric can take, in plotted units (its bounds,
 * report_metric_bounds, times scale); -inf/inf where it has none. */
void figures_y_bounds(const figure_spec *spec, double *low, double *high);

/* The MEASURE_* bits (measures.h) a run needs to have what the figure draws:
 * its metric's, a confusion matrix's classes and part; 0 for a custom metric. */
unsigned figures_needs(const figure_spec *spec);

/* "metric-vs-epoch", "final-errorbars", "cost-vs-epoch", "confusion",
 * "diagnostics-vs-epoch". */
const char *figures_plot_name(figure_plot plot);

/* 1 when the figure has something to draw: a complete run of its label (or of
 * any label). A figure with none is left out by `mlplab figures`. */
int figures_has_runs(const report_study *study, const figure_spec *spec);

/* Writes the figure's data files, DIR/series/NAME.dat (and NAME-seeds.dat
 * with seeds), atomically, creating DIR/series. */
int figures_write_data(const report_study *study, const figure_spec *spec, double confidence,
                       mlp_error *err);

/* "SCRIPT\tDIR/figures/NAME\tdata='...'; title='...'; ..." without a newline.
 * The assignments also carry paper= (the figure's size) and the texts again
 * for LaTeX (latex_ylabel, latex_xlabel and the array latex_labels, in the
 * order of the data file's blocks or rows), which the scripts use for .tex.
 * Fails (MLP_ERR_USAGE) when DIR holds a `'`, a tab or a control character,
 * which the output stem cannot carry safely. */
int figures_line(const report_study *study, const figure_spec *spec, double confidence,
                 char **line, mlp_error *err);

/* text as a gnuplot single-quoted string: `'` doubled, control characters
 * (and DEL) replaced by spaces, quotes around. NULL on out-of-memory. */
char *figures_gnuplot_quote(const char *text);

/* A label as a file-name part: ASCII letters and digits lower-cased, `.` and
 * `_` kept, every other run of bytes one `-`, none at either end ("label"
 * when nothing is left). NULL on out-of-memory. */
char *figures_slug(const char *label);

#endif
