/* cmd_check.c — `mlplab check results/NAME ... [--tolerance T]`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "commands.h"

const char cmd_check_usage[] =
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

int cmd_check(const cli_values *args)
{
    int status = MLP_OK;
    double tolerance = args->tolerance;
    check_counts total = {0};
    for (int k = 0; k < args->n_operands; k++) {
        mlp_error err = {0};
        check_counts counts;
        char *report = NULL;
        status = check_study(args->operands[k], tolerance, &report, &counts, &err);
        if (status != MLP_OK) {
            cli_print_error(err.message);
            return status;
        }
        fputs(report, stdout);
        free(report);
        total.passed += counts.passed;
        total.failed += counts.failed;
        total.skipped += counts.skipped;
    }
    printf("check: %zu ok, %zu failed, %zu skipped\n", total.passed, total.failed,
           total.skipped);
    return total.failed > 0 ? MLP_ERR_GRADCHECK : MLP_OK;
}
