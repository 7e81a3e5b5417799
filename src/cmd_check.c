/* cmd_check.c — `mlplab check results/NAME ... [--tolerance T]`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "commands.h"

static const char usage_text[] =
    "usage: mlplab check results/NAME ... [--tolerance T]\n"
    "\n"
    "Checks that each study reproduces what it claims (src/check.h, docs/reproduction.md):\n"
    "every published figure in its reference: list lies within the tolerance of our mean\n"
    "over seeds, every report.check.expect range holds, and a gradient-check study's\n"
    "matrix gives the results it expects. One line per claim (ok, FAIL, skip), then a\n"
    "summary. A study planned with --quick skips its published figures, and its ranges\n"
    "unless report.check.quick is true.\n"
    "  --tolerance T   overrides the studies' report.check.tolerance, in stored units\n"
    "                  (0.01 = one percentage point of accuracy; default 0.01)\n"
    "Exit status: 0 when every claim holds, 5 when one does not, 2 or 3 when a study\n"
    "cannot be read.\n";

int cmd_check(int argc, char **argv)
{
    double tolerance = NAN;
    int dirs = 0;
    /* argv[dir_index[k]] is the k-th study directory */
    int *dir_index = calloc((size_t)argc, sizeof *dir_index);
    if (dir_index == NULL) {
        cli_print_error("out of memory");
        return MLP_ERR_RUN;
    }
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(usage_text, stdout);
            free(dir_index);
            return MLP_OK;
        } else if (strcmp(argv[i], "--tolerance") == 0 && i + 1 < argc) {
            char *end = NULL;
            tolerance = strtod(argv[++i], &end);
            if (end == argv[i] || *end != '\0' || !(tolerance > 0.0)) {
                fprintf(stderr, "mlplab check: --tolerance must be a number > 0, not '%s'\n",
                        argv[i]);
                free(dir_index);
                return MLP_ERR_USAGE;
            }
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "mlplab check: unexpected argument '%s'\n%s", argv[i], usage_text);
            free(dir_index);
            return MLP_ERR_USAGE;
        } else {
            dir_index[dirs++] = i;
        }
    }
    if (dirs == 0) {
        fprintf(stderr, "mlplab check: no study directory given\n%s", usage_text);
        free(dir_index);
        return MLP_ERR_USAGE;
    }
    check_counts total = {0};
    for (int k = 0; k < dirs; k++) {
        mlp_error err = {0};
        check_counts counts;
        char *report = NULL;
        int status = check_study(argv[dir_index[k]], tolerance, &report, &counts, &err);
        if (status != MLP_OK) {
            cli_print_error(err.message);
            free(dir_index);
            return status;
        }
        fputs(report, stdout);
        free(report);
        total.passed += counts.passed;
        total.failed += counts.failed;
        total.skipped += counts.skipped;
    }
    free(dir_index);
    printf("check: %zu ok, %zu failed, %zu skipped\n", total.passed, total.failed,
           total.skipped);
    return total.failed > 0 ? MLP_ERR_GRADCHECK : MLP_OK;
}
