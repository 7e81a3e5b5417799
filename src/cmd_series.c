/* cmd_series.c — `mlplab series results/NAME --metric M [--seeds | --final]
 * [--label L] [--out FILE]`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "fsutil.h"
#include "figures.h"
#include "report_series.h"

const char cmd_series_usage[] =
    "usage: mlplab series results/NAME --metric M [--seeds | --final] [--label L]\n"
    "                     [--confidence 0.95] [--out FILE]\n"
    "\n"
    "Writes a gnuplot data file of metric M for plots/ (formats in docs/figures.md):\n"
    "  (default)  mean and confidence interval per label and epoch, for metric-vs-epoch.gp;\n"
    "             FILE defaults to results/NAME/series/M.dat\n"
    "  --seeds    every run's value per epoch (metric-vs-epoch.gp seeds_data);\n"
    "             FILE defaults to results/NAME/series/M-seeds.dat\n"
    "  --final    one row per label at the final epoch, with the published value,\n"
    "             for final-errorbars.gp; FILE defaults to results/NAME/series/final-M.dat\n"
    "  --label L  only the runs of label L (one block or row); the default FILE then\n"
    "             has .SLUG before .dat or -seeds.dat, SLUG the label as a file name\n"
    "             (\"quadratic, w = 2\" -> quadratic-w-2)\n"
    "M is a /metrics field (test_accuracy, train_cost, ...) or a custom metric; with\n"
    "--final also a table column such as best_validation_accuracy. See docs/reports.md.\n";

int cmd_series(const cli_values *args)
{
    int status = MLP_OK;
    const char *dir = args->operands[0], *metric = args->metric, *out_path = args->out;
    const char *label = args->label;
    double confidence = args->confidence;
    int seeds = args->seeds, final = args->final;
    if (seeds && final) {
        fprintf(stderr, "mlplab series: --seeds and --final write different files: give one\n");
        return MLP_ERR_USAGE;
    }
    report_series_kind kind = seeds ? REPORT_SEEDS : final ? REPORT_FINAL : REPORT_SERIES;
    if (metric == NULL) {
        fprintf(stderr, "mlplab series: no --metric given\n%s", cmd_series_usage);
        return MLP_ERR_USAGE;
    }
    if (metric[0] == '\0' || strchr(metric, '/') != NULL) {
        fprintf(stderr, "mlplab series: '%s' is not a metric name\n", metric);
        return MLP_ERR_USAGE;
    }

    mlp_error err = {0};
    report_study *study = NULL;
    char *text = NULL, *slug = NULL, default_path[4096], series_dir[4096];
    status = report_study_load(dir, &study, &err);
    if (status == MLP_OK)
        status = report_series_render(study, metric, confidence, kind, label, &text, &err);
    /* A label's file must not replace the file of every label: its default
     * name carries the label as a slug. */
    if (status == MLP_OK && out_path == NULL && label != NULL &&
        (slug = figures_slug(label)) == NULL)
        status = mlp_error_nomem(&err, "series");
    if (status == MLP_OK && out_path == NULL) {
        char part[1024];
        int part_length = snprintf(part, sizeof part, "%s%s%s", metric, slug != NULL ? "." : "",
                                   slug != NULL ? slug : "");
        snprintf(series_dir, sizeof series_dir, "%s/series", study->dir);
        int length = snprintf(default_path, sizeof default_path,
                              kind == REPORT_SEEDS   ? "%s/%s-seeds.dat"
                              : kind == REPORT_FINAL ? "%s/final-%s.dat"
                                                     : "%s/%s.dat",
                              series_dir, part);
        if (part_length >= (int)sizeof part || length >= (int)sizeof default_path)
            status = mlp_error_set(&err, MLP_ERR_USAGE, "metric or label too long: %s", metric);
        else
            status = fsutil_make_dirs(series_dir, &err);
        out_path = default_path;
    }
    status = cli_write_output(status, out_path, text, "", &err);
    free(text);
    free(slug);
    report_study_free(study);
    return status;
}
