/* main.c — `mlplab SUBCOMMAND ...`: dispatch only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "provenance.h"
#include "error.h"

/* run: the command, given its parsed command line; run_argv instead for one
 * that parses its own. */
typedef struct subcommand {
    const char *name;
    int (*run)(const cli_values *args);
    const char *usage;
    int (*run_argv)(int argc, char **argv);
    const char *summary;
} subcommand;

static const subcommand subcommands[] = {
    {"run", cmd_run, cmd_run_usage, NULL,
     "train one network from a YAML config and write its HDF5 run file"},
    {"plan", cmd_plan, cmd_plan_usage, NULL,
     "expand a study (cases x sweep x seeds) into run configs and a runs.mk"},
    {"gradcheck", NULL, NULL, cmd_gradcheck, "compare backprop with central differences"},
    {"table", cmd_table, cmd_table_usage, NULL,
     "aggregate a study's runs over seeds: table.md, table.csv, table.tex"},
    {"series", cmd_series, cmd_series_usage, NULL,
     "write the gnuplot data file of one metric of a study"},
    {"figures", cmd_figures, cmd_figures_usage, NULL,
     "write a study's figure data files; print a gnuplot command for each"},
    {"check", cmd_check, cmd_check_usage, NULL,
     "check that studies reproduce their published figures and expectations"},
    {"report-html", cmd_report_html, cmd_report_html_usage, NULL,
     "render results/REPORT.md to one self-contained HTML page"},
    {"status", cmd_status, cmd_status_usage, NULL,
     "how far each study has got: complete, partial, failed, not started"},
    {"info", cmd_info, cmd_info_usage, NULL,
     "list activations, costs, initializers, data sets and the BLAS in use"},
};

static int run_subcommand(const subcommand *sub, int argc, char **argv)
{
    if (sub->run_argv != NULL)
        return sub->run_argv(argc, argv);
    cli_values values;
    int status;
    if (!cli_parse(sub->name, sub->usage, argc, argv, &values, &status))
        return status;
    status = sub->run(&values);
    cli_values_free(&values);
    return status;
}

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
            return run_subcommand(&subcommands[i], argc - 1, argv + 1);
    fprintf(stderr, "mlplab: unknown subcommand '%s'\n", argv[1]);
    usage(stderr);
    return MLP_ERR_USAGE;
}
