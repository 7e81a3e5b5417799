/* cmd_table.c — `mlplab table results/NAME [--confidence C] [--out-dir DIR]`.
 *
 * A training study's table aggregates its run files (report.h). A gradient-check
 * study (study.yaml with `gradcheck:`, docs/studies.md) has no run files: its
 * table is the matrix of checks, run here, each against its expected result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "fsutil.h"
#include "gradcheck_matrix.h"
#include "report_table.h"
#include "yamltree.h"

const char cmd_table_usage[] =
    "usage: mlplab table results/NAME [--confidence 0.95] [--out-dir DIR]\n"
    "\n"
    "Aggregates the complete runs of a study over seeds, one row per label: final test\n"
    "accuracy (mean ± sd, confidence interval), best validation accuracy and its epoch,\n"
    "test accuracy there, final training cost, seconds per epoch, published values and\n"
    "the comparisons study.yaml asks for. Writes DIR/table.md, DIR/table.csv and\n"
    "DIR/table.tex (DIR defaults to results/NAME) and prints the Markdown table.\n"
    "Incomplete, failed and missing runs are named under the table, never averaged.\n"
    "For a gradient-check study (gradcheck: in study.yaml) it runs the checks and\n"
    "writes the matrix with each result and the expected one; exit status 5 when a\n"
    "result is not as expected (the tables are written either way).\n"
    "See docs/reports.md and docs/studies.md.\n";

/* The three files of a gradient-check study, from the matrix already run. */
static int write_gradcheck_tables(const gradcheck_matrix *matrix, const char *name,
                                  const char *description, const char *out_dir, char **markdown,
                                  mlp_error *err)
{
    static const struct {
        const char *file;
        gradcheck_format format;
    } files[] = {{"table.md", GRADCHECK_MARKDOWN},
                 {"table.csv", GRADCHECK_CSV},
                 {"table.tex", GRADCHECK_LATEX}};
    int status = fsutil_make_dirs(out_dir, err);
    for (size_t i = 0; status == MLP_OK && i < sizeof files / sizeof files[0]; i++) {
        char *text = NULL;
        status = gradcheck_matrix_report(matrix, name, description, files[i].format, &text, err);
        char path[4096];
        if (status == MLP_OK &&
            snprintf(path, sizeof path, "%s/%s", out_dir, files[i].file) >= (int)sizeof path)
            status = mlp_error_set(err, MLP_ERR_USAGE, "%s: path too long", out_dir);
        if (status == MLP_OK)
            status = fsutil_write_atomic(path, text, err);
        if (status == MLP_OK && files[i].format == GRADCHECK_MARKDOWN)
            *markdown = text;
        else
            free(text);
    }
    return status;
}

/* `mlplab table` of a gradient-check study (study.yaml has gradcheck:). */
static int gradcheck_table(const report_study *study, const char *out_dir)
{
    mlp_error err = {0};
    gradcheck_matrix *matrix = NULL;
    int status = gradcheck_matrix_from_yaml(study->manifest->gradcheck, &matrix, &err);
    if (status == MLP_OK)
        status = gradcheck_matrix_run(matrix, &err);
    char *markdown = NULL;
    if (status == MLP_OK)
        status = write_gradcheck_tables(matrix, study->name, study->description,
                                        out_dir != NULL ? out_dir : study->dir, &markdown, &err);
    if (status == MLP_OK) {
        fputs(markdown, stdout);
        size_t unexpected = gradcheck_matrix_unexpected(matrix);
        if (unexpected > 0) {
            fprintf(stderr, "mlplab: %s: %zu of %zu gradient checks are not as the study "
                            "expects (see table.md)\n", study->dir, unexpected, matrix->n_rows);
            status = MLP_ERR_GRADCHECK;
        }
    } else {
        cli_print_error(err.message);
    }
    free(markdown);
    gradcheck_matrix_free(matrix);
    return status;
}

int cmd_table(const cli_values *args)
{
    int status = MLP_OK;
    const char *dir = args->operands[0], *out_dir = args->out_dir;
    double confidence = args->confidence;
    mlp_error err = {0};
    report_study *study = NULL;
    status = report_study_load(dir, &study, &err);
    if (status == MLP_OK && study->manifest != NULL && study->manifest->gradcheck != NULL) {
        status = gradcheck_table(study, out_dir);
        report_study_free(study);
        return status;
    }
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
