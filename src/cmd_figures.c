/* cmd_figures.c — `mlplab figures results/NAME [--list]`: the figures a study's
 * report.figures asks for, as data files and one gnuplot command line each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "figures.h"
#include "report.h"

const char cmd_figures_usage[] =
    "usage: mlplab figures results/NAME [--list] [--confidence 0.95]\n"
    "\n"
    "For each figure of the study (study.yaml report.figures, or the defaults: test_accuracy\n"
    "and train_cost against epoch, final test_accuracy with error bars), writes its data\n"
    "files to results/NAME/series/FIGURE.dat (and FIGURE-seeds.dat), then prints one line:\n"
    "\n"
    "  SCRIPT<TAB>results/NAME/figures/FIGURE<TAB>ASSIGNMENTS\n"
    "\n"
    "SCRIPT is plots/SCRIPT.gp; ASSIGNMENTS are gnuplot variable assignments (data, title,\n"
    "scale, ...) without `out`, so that each figure is drawn with\n"
    "  gnuplot -e \"ASSIGNMENTS; out='results/NAME/figures/FIGURE.png'\" plots/SCRIPT.gp\n"
    "(scripts/figures.sh does, for .png, .svg and .pdf). A figure with no complete run yet\n"
    "is left out, with a note on stderr.\n"
    "  --list        print the lines only; write no data file\n"
    "  --confidence  level of the intervals (default 0.95)\n"
    "See docs/figures.md. Exit status: 0, 2 bad command line, 3 invalid study.yaml,\n"
    "1 a file cannot be written.\n";

int cmd_figures(const cli_values *args)
{
    int status = MLP_OK;
    const char *dir = args->operands[0];
    int list_only = args->list;
    double confidence = args->confidence;

    mlp_error err = {0};
    report_study *study = NULL;
    figure_list figures = {0};
    char *lines = NULL;
    size_t size = 0;
    FILE *out = NULL;
    status = report_study_load(dir, &study, &err);
    if (status == MLP_OK)
        status = figures_load(study, &figures, &err);
    if (status == MLP_OK && (out = open_memstream(&lines, &size)) == NULL)
        status = mlp_error_nomem(&err, "figures");
    /* Lines are printed only once every figure's files are written, so a
     * caller never draws half a study's figures from a failed run. */
    for (size_t i = 0; status == MLP_OK && i < figures.count; i++) {
        const figure_spec *spec = &figures.figures[i];
        if (!figures_has_runs(study, spec)) {
            fprintf(stderr, "mlplab figures: %s: no complete run%s%s%s yet, left out\n",
                    spec->name, spec->label != NULL ? " of '" : "",
                    spec->label != NULL ? spec->label : "", spec->label != NULL ? "'" : "");
            continue;
        }
        char *line = NULL;
        if (!list_only)
            status = figures_write_data(study, spec, confidence, &err);
        if (status == MLP_OK)
            status = figures_line(study, spec, confidence, &line, &err);
        if (status == MLP_OK)
            fprintf(out, "%s\n", line);
        free(line);
    }
    if (out != NULL)
        fclose(out);
    if (status == MLP_OK)
        fputs(lines, stdout);
    else
        cli_print_error(err.message);
    free(lines);
    figure_list_free(&figures);
    report_study_free(study);
    return status;
}
