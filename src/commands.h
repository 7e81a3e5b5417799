/* commands.h — the subcommands of `mlplab`, one file each (cmd_*.c), and the
 * command line they share (cli.c).
 *
 * main.c parses each subcommand's command line with cli_parse (from cli.c's
 * tables) and hands it the values; gradcheck parses its own. Each returns the
 * process exit status (see mlp_status in error.h), prints results to stdout and
 * errors to stderr. cmd_NAME_usage is what --help prints. */
#ifndef MLP_COMMANDS_H
#define MLP_COMMANDS_H

#include "error.h"

typedef struct cli_values cli_values;

int cmd_run(const cli_values *args);
int cmd_plan(const cli_values *args);
int cmd_table(const cli_values *args);
int cmd_series(const cli_values *args);
int cmd_figures(const cli_values *args);
int cmd_check(const cli_values *args);
int cmd_report_html(const cli_values *args);
int cmd_status(const cli_values *args);
int cmd_info(const cli_values *args);
int cmd_gradcheck(int argc, char **argv);

extern const char cmd_run_usage[], cmd_plan_usage[], cmd_table_usage[], cmd_series_usage[],
    cmd_figures_usage[], cmd_check_usage[], cmd_report_html_usage[], cmd_status_usage[],
    cmd_info_usage[];

/* ---- cli.c: what the commands share ---------------------------------------- */

/* Prints "mlplab: <message>" to stderr; a multi-line message is kept as is. */
void cli_print_error(const char *message);

/* The end of a subcommand that writes one file: when status is MLP_OK, writes
 * text to path (fsutil_write_atomic) and prints prefix and path on stdout;
 * prints the error otherwise. Returns the status. */
int cli_write_output(int status, const char *path, const char *text, const char *prefix,
                     mlp_error *err);

/* 1 if argv[i] is -h or --help. */
int cli_is_help(const char *arg);

/* What a subcommand's command line says: the words that are not options, and
 * the value of every option any subcommand takes. The one table of which
 * subcommand takes which option, and of its operands, is in cli.c. */
struct cli_values {
    char **operands;            /* in order; operands[0] is the one of a one-operand command */
    int n_operands;
    char **overrides;           /* key=value words after the first operand (run, plan) */
    int n_overrides;
    double confidence;          /* --confidence C, in (0, 1); default 0.95 */
    double tolerance;           /* --tolerance T, > 0; default NAN (the study's own) */
    const char *out;            /* --out PATH */
    const char *out_dir;        /* --out-dir DIR */
    const char *results;        /* --results DIR */
    const char *metric;         /* --metric M */
    const char *label;          /* --label L */
    const char *checksums;      /* --checksums NAME */
    int fresh, quiet, tsv;      /* --fresh, --quiet, --tsv */
    int quick, list, runs;      /* --quick, --list, --runs */
    int seeds, final;           /* --seeds, --final */
};

/* Parses argv[1..argc) of subcommand `command` (as named in main.c; argv[0] is
 * its name). Returns 1 when the command goes on with *values (and *status =
 * MLP_OK); 0 when it must return *status at once: MLP_OK after --help (usage on
 * stdout), MLP_ERR_USAGE after a message and the usage on stderr, MLP_ERR_RUN
 * when out of memory. After a 1, free *values with cli_values_free. */
int cli_parse(const char *command, const char *usage, int argc, char **argv, cli_values *values,
              int *status);
void cli_values_free(cli_values *values);

#endif
