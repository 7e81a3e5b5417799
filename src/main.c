/* main.c — `mlplab SUBCOMMAND ...`: dispatch only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "commands.h"
#include "provenance.h"
#include "error.h"

typedef struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subcommand;

static const subcommand subcommands[] = {
    {"run", cmd_run, "train one network from a YAML config and write its HDF5 run file"},
    {"plan", cmd_plan, "expand a study (cases x sweep x seeds) into run configs and a runs.mk"},
    {"gradcheck", cmd_gradcheck, "compare backprop with central differences"},
    {"table", cmd_table, "aggregate a study's runs over seeds: table.md, table.csv, table.tex"},
    {"series", cmd_series, "write the gnuplot data file of one metric of a study"},
    {"figures", cmd_figures, "write a study's figure data files; print a gnuplot command for each"},
    {"check", cmd_check, "check that studies reproduce their published figures and expectations"},
    {"report-html", cmd_report_html, "render results/REPORT.md to one self-contained HTML page"},
    {"status", cmd_status, "how far each study has got: complete, partial, failed, not started"},
    {"info", cmd_info, "list activations, costs, initializers, data sets and the BLAS in use"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: mlplab SUBCOMMAND [ARGS...]\n\nsubcommands:\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        fprintf(out, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(out, "\n`mlplab SUBCOMMAND --help` describes each. Exit status: 0 success, 1 run failed,\n"
                 "2 usage, 3 invalid config, 4 data error, 5 a check failed, 6 runs not finished\n"
                 "(status), 130 interrupted.\n");
}

int main(int argc, char **argv)
{
    blas_choose_kernels(argv);
    if (argc < 2) {
        usage(stderr);
        return MLP_ERR_USAGE;
    }
    if (cli_is_help(argv[1])) {
        usage(stdout);
        return MLP_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("mlplab %s (%s)\n", MLP_VERSION, mlp_git_commit);
        return MLP_OK;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return subcommands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "mlplab: unknown subcommand '%s'\n", argv[1]);
    usage(stderr);
    return MLP_ERR_USAGE;
}

void cli_print_error(const char *message)
{
    fprintf(stderr, "mlplab: %s\n", message);
}

int cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int cli_confidence(const char *command, const char *text, double *out)
{
    char *end = NULL;
    double value = strtod(text, &end);
    if (end == text || *end != '\0' || !(value > 0.0 && value < 1.0)) {
        fprintf(stderr, "mlplab %s: --confidence must be a number between 0 and 1, not '%s'\n",
                command, text);
        return 0;
    }
    *out = value;
    return 1;
}
