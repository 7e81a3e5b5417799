/* cli.c — see commands.h: the error line, --help, the end of a command that
 * writes one file, and one parser of the subcommands' command lines, from one
 * table of their options and one of their operands. */
#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "error.h"
#include "fsutil.h"

void cli_print_error(const char *message)
{
    fprintf(stderr, "mlplab: %s\n", message);
}

int cli_write_output(int status, const char *path, const char *text, const char *prefix,
                     mlp_error *err)
{
    if (status == MLP_OK)
        status = fsutil_write_atomic(path, text, err);
    if (status == MLP_OK)
        printf("%s%s\n", prefix, path);
    else
        cli_print_error(err->message);
    return status;
}

int cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

typedef enum option_kind {
    FLAG,               /* --list: the int field = 1 */
    TEXT,               /* --out PATH: the const char * field = PATH */
    CONFIDENCE,         /* --confidence C: a number in (0, 1) into the double field */
    POSITIVE,           /* --tolerance T: a number > 0 into the double field */
} option_kind;

typedef struct option {
    const char *name;
    option_kind kind;
    size_t field;               /* offsetof(cli_values, ...) */
    const char *commands;       /* the subcommands that take it, space-separated */
} option;

/* gradcheck parses its own (its values are names from the tables). */
static const option options[] = {
    {"--confidence", CONFIDENCE, offsetof(cli_values, confidence), "table figures series"},
    {"--tolerance", POSITIVE, offsetof(cli_values, tolerance), "check"},
    {"--out", TEXT, offsetof(cli_values, out), "run series report-html"},
    {"--out-dir", TEXT, offsetof(cli_values, out_dir), "table"},
    {"--results", TEXT, offsetof(cli_values, results), "plan"},
    {"--metric", TEXT, offsetof(cli_values, metric), "series"},
    {"--label", TEXT, offsetof(cli_values, label), "series"},
    {"--checksums", TEXT, offsetof(cli_values, checksums), "info"},
    {"--fresh", FLAG, offsetof(cli_values, fresh), "run"},
    {"--quiet", FLAG, offsetof(cli_values, quiet), "run"},
    {"--tsv", FLAG, offsetof(cli_values, tsv), "run"},
    {"--quick", FLAG, offsetof(cli_values, quick), "plan"},
    {"--list", FLAG, offsetof(cli_values, list), "figures"},
    {"--runs", FLAG, offsetof(cli_values, runs), "status"},
    {"--seeds", FLAG, offsetof(cli_values, seeds), "series"},
    {"--final", FLAG, offsetof(cli_values, final), "series"},
};

typedef enum arity {
    NO_OPERAND,         /* mlplab info */
    ONE_OPERAND,        /* mlplab table results/NAME */
    OPERANDS,           /* mlplab check results/A results/B ...: one or more */
    ANY_OPERANDS,       /* mlplab status [results/NAME ...] */
} arity;

typedef struct operands {
    const char *command;
    arity arity;
    const char *what;           /* for "no study directory given" */
    int overrides;              /* key=value words after the operand are overrides */
} operands;

static const operands operand_table[] = {
    {"run", ONE_OPERAND, "config file", 1},
    {"plan", ONE_OPERAND, "study file", 1},
    {"table", ONE_OPERAND, "study directory", 0},
    {"series", ONE_OPERAND, "study directory", 0},
    {"figures", ONE_OPERAND, "study directory", 0},
    {"report-html", ONE_OPERAND, "report", 0},
    {"check", OPERANDS, "study directory", 0},
    {"status", ANY_OPERANDS, "study directory", 0},
    {"info", NO_OPERAND, NULL, 0},
};

/* 1 if word is one of the space-separated words of list. */
static int in_list(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

static const option *find_option(const char *command, const char *name)
{
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
        if (strcmp(options[i].name, name) == 0 && in_list(options[i].commands, command))
            return &options[i];
    return NULL;
}

/* Stores text as option o's value; 0 (after a message) if it is not one. */
static int set_value(const char *command, const option *o, const char *text, cli_values *values)
{
    char *field = (char *)values + o->field;
    if (o->kind == TEXT) {
        memcpy(field, &text, sizeof text);
        return 1;
    }
    char *end = NULL;
    double value = strtod(text, &end);
    int confidence = o->kind == CONFIDENCE;
    if (end == text || *end != '\0' || !(value > 0.0) || (confidence && !(value < 1.0))) {
        fprintf(stderr, "mlplab %s: %s must be a number %s, not '%s'\n", command, o->name,
                confidence ? "between 0 and 1" : "> 0", text);
        return 0;
    }
    memcpy(field, &value, sizeof value);
    return 1;
}

/* One word that is not an option: an operand, an override, or a mistake. */
static int take_word(const char *command, const char *usage, const operands *spec, char *word,
                     cli_values *values)
{
    if (spec->overrides && values->n_operands > 0 && strchr(word, '=') != NULL) {
        values->overrides[values->n_overrides++] = word;
        return 1;
    }
    if (spec->arity == OPERANDS || spec->arity == ANY_OPERANDS ||
        (spec->arity == ONE_OPERAND && values->n_operands == 0)) {
        values->operands[values->n_operands++] = word;
        return 1;
    }
    if (spec->overrides)
        fprintf(stderr, "mlplab %s: '%s' is neither an option nor key=value\n%s", command, word,
                usage);
    else
        fprintf(stderr, "mlplab %s: unexpected argument '%s'\n%s", command, word, usage);
    return 0;
}

static const operands *find_operands(const char *command)
{
    for (size_t i = 0; i < sizeof operand_table / sizeof operand_table[0]; i++)
        if (strcmp(operand_table[i].command, command) == 0)
            return &operand_table[i];
    return NULL;
}

void cli_values_free(cli_values *values)
{
    free(values->operands);
    free(values->overrides);
    values->operands = values->overrides = NULL;
    values->n_operands = values->n_overrides = 0;
}

int cli_parse(const char *command, const char *usage, int argc, char **argv, cli_values *values,
              int *status)
{
    const operands *spec = find_operands(command);
    assert(spec != NULL);
    memset(values, 0, sizeof *values);
    values->confidence = 0.95;
    values->tolerance = NAN;
    values->operands = calloc((size_t)argc + 1, sizeof *values->operands);
    values->overrides = calloc((size_t)argc + 1, sizeof *values->overrides);
    if (values->operands == NULL || values->overrides == NULL) {
        cli_values_free(values);
        cli_print_error("out of memory");
        *status = MLP_ERR_RUN;
        return 0;
    }
    int go_on = 1, help = 0;
    for (int i = 1; i < argc && go_on; i++) {
        const option *o = find_option(command, argv[i]);
        if (cli_is_help(argv[i])) {
            fputs(usage, stdout);
            help = 1;
            go_on = 0;
        } else if (o != NULL && o->kind == FLAG) {
            const int one = 1;
            memcpy((char *)values + o->field, &one, sizeof one);
        } else if (o != NULL && i + 1 < argc) {
            go_on = set_value(command, o, argv[++i], values);
        } else if (o != NULL) {
            fprintf(stderr, "mlplab %s: %s needs a value\n%s", command, argv[i], usage);
            go_on = 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "mlplab %s: unknown option '%s'\n%s", command, argv[i], usage);
            go_on = 0;
        } else {
            go_on = take_word(command, usage, spec, argv[i], values);
        }
    }
    int needed = spec->arity == ONE_OPERAND || spec->arity == OPERANDS;
    if (go_on && needed && values->n_operands == 0) {
        fprintf(stderr, "mlplab %s: no %s given\n%s", command, spec->what, usage);
        go_on = 0;
    }
    if (!go_on)
        cli_values_free(values);
    *status = go_on || help ? MLP_OK : MLP_ERR_USAGE;
    return go_on;
}
