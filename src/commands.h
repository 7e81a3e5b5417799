/* commands.h — the subcommands of `mlplab`, one file each (cmd_*.c).
 *
 * Each takes the arguments after its name (argv[0] is the subcommand) and
 * returns the process exit status (see mlp_status in error.h). Commands print
 * results to stdout and errors to stderr; --help prints usage and returns 0. */
#ifndef MLP_COMMANDS_H
#define MLP_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_gradcheck(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_table(int argc, char **argv);
int cmd_series(int argc, char **argv);
int cmd_figures(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_report_html(int argc, char **argv);
int cmd_status(int argc, char **argv);

/* Prints "mlplab: <message>" to stderr; a multi-line message is kept as is. */
void cli_print_error(const char *message);

/* 1 if argv[i] is -h or --help. */
int cli_is_help(const char *arg);

/* The argument of --confidence: a number in (0, 1) into *out and 1, else 0
 * after printing "mlplab COMMAND: --confidence must be ..." to stderr. */
int cli_confidence(const char *command, const char *text, double *out);

#endif
