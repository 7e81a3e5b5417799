/* cmd_table.c — `mlplab table results/NAME [--confidence C] [--out-dir DIR]`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "report.h"

static const char usage_text[] =
    "usage: mlplab table results/NAME [--confidence 0.95] [--out-dir DIR]\n"
    "\n"
    "Aggregates the complete runs of a study over seeds, one row per label: final test\n"
    "accuracy (mean ± sd, confidence interval), best validation accuracy and its epoch,\n"
    "test accuracy there, final training cost, seconds per epoch, published values and\n"
    "the comparisons study.yaml asks for. Writes DIR/table.md, DIR/table.csv and\n"
    "DIR/table.tex (DIR defaults to results/NAME) and prints the Markdown table.\n"
    "Incomplete, failed and missing runs are named under the table, never averaged.\n"
    "See docs/reports.md.\n";

/* Reads a confidence level; 0 when the text is not a number in (0, 1). */
static int parse_confidence(const char *text, double *out)
{
    char *end = NULL;
    double value = strtod(text, &end);
    if (end == text || *end != '\0' || !(value > 0.0 && value < 1.0))
        return 0;
    *out = value;
    return 1;
}

int cmd_table(int argc, char **argv)
{
    const char *dir = NULL, *out_dir = NULL;
    double confidence = 0.95;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(usage_text, stdout);
            return MLP_OK;
        } else if (strcmp(argv[i], "--confidence") == 0 && i + 1 < argc) {
            if (!parse_confidence(argv[++i], &confidence)) {
                fprintf(stderr, "mlplab table: --confidence must be a number between 0 and 1, "
                                "not '%s'\n", argv[i]);
                return MLP_ERR_USAGE;
            }
        } else if (strcmp(argv[i], "--out-dir") == 0 && i + 1 < argc) {
            out_dir = argv[++i];
        } else if (argv[i][0] == '-' || dir != NULL) {
            fprintf(stderr, "mlplab table: unexpected argument '%s'\n%s", argv[i], usage_text);
            return MLP_ERR_USAGE;
        } else {
            dir = argv[i];
        }
    }
    if (dir == NULL) {
        fprintf(stderr, "mlplab table: no study directory given\n%s", usage_text);
        return MLP_ERR_USAGE;
    }
    mlp_error err = {0};
    report_study *study = NULL;
    int status = report_study_load(dir, &study, &err);
    char *markdown = NULL;
    if (status == MLP_OK)
        status = report_table_write(study, confidence, out_dir != NULL ? out_dir : study->dir,
                                    &markdown, &err);
    if (status == MLP_OK)
        fputs(markdown, stdout);
    else
        cli_print_error(err.message);
    free(markdown);
    report_study_free(study);
    return status;
}
