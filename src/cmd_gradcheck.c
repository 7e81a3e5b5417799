/* cmd_gradcheck.c — `mlplab gradcheck`: backprop against central differences.
 * The matrices and their rendering live in gradcheck_matrix.c, shared with
 * the tables of gradient-check studies (`mlplab table`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "gradcheck.h"
#include "gradcheck_matrix.h"

static const char usage_text[] =
    "usage: mlplab gradcheck [--activation A] [--output O] [--cost C] [--sizes N,N,...]\n"
    "                        [--seed S] [--examples N] [--epsilon E] [--tolerance T]\n"
    "                        [--all | --question] [--format text|markdown|csv|latex]\n"
    "\n"
    "Compares backprop gradients with central differences on a small random network\n"
    "and prints the largest relative error per layer with PASS or FAIL.\n"
    "  (no mode)    one combination (default sigmoid / sigmoid / cross-entropy, 20,10,5)\n"
    "  --all        every hidden activation x output activation x cost\n"
    "  --question   the matrix of the ReLU + cross-entropy question: hidden activation\n"
    "               sigmoid, tanh, relu x {same output + quadratic, same output +\n"
    "               cross-entropy, softmax + log-likelihood}, one hidden layer\n"
    "Combinations `mlplab run` refuses are checked too and marked 'refused by run'.\n"
    "Exit status 0 when every combination run accepts passes (and, for one\n"
    "combination, when it passes); 5 otherwise.\n";

static int parse_sizes(const char *text, gradcheck_spec *spec)
{
    spec->n_sizes = 0;
    const char *p = text;
    while (*p) {
        char *end;
        long value = strtol(p, &end, 10);
        if (end == p || value < 1 || spec->n_sizes == NET_MAX_LAYERS + 1)
            return -1;
        spec->sizes[spec->n_sizes++] = (size_t)value;
        p = *end == ',' ? end + 1 : end;
        if (*end != ',' && *end != '\0')
            return -1;
    }
    return spec->n_sizes >= 2 ? 0 : -1;
}

static int usage_error(const char *what, const char *value)
{
    fprintf(stderr, "mlplab gradcheck: %s '%s'\n%s", what, value, usage_text);
    return MLP_ERR_USAGE;
}

int cmd_gradcheck(int argc, char **argv)
{
    gradcheck_spec spec;
    gradcheck_defaults(&spec);
    gradcheck_mode mode = GRADCHECK_ONE;
    gradcheck_format format = GRADCHECK_TEXT;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(arg)) {
            fputs(usage_text, stdout);
            return MLP_OK;
        } else if (strcmp(arg, "--all") == 0) {
            mode = GRADCHECK_ALL;
        } else if (strcmp(arg, "--question") == 0) {
            mode = GRADCHECK_QUESTION;
        } else if (value == NULL) {
            return usage_error("unknown option or missing value:", arg);
        } else if (strcmp(arg, "--activation") == 0 || strcmp(arg, "--hidden") == 0) {
            if ((spec.hidden = activation_find(value)) == NULL || spec.hidden->output_only)
                return usage_error("not a hidden activation (sigmoid, tanh, relu, linear):", value);
            i++;
        } else if (strcmp(arg, "--output") == 0) {
            if ((spec.output = activation_find(value)) == NULL)
                return usage_error("unknown activation:", value);
            i++;
        } else if (strcmp(arg, "--cost") == 0) {
            if ((spec.cost = cost_find(value)) == NULL)
                return usage_error("unknown cost (quadratic, cross-entropy, log-likelihood):", value);
            i++;
        } else if (strcmp(arg, "--sizes") == 0) {
            if (parse_sizes(value, &spec) != 0)
                return usage_error("sizes must be 2 or more positive integers, e.g. 20,10,5:", value);
            i++;
        } else if (strcmp(arg, "--seed") == 0) {
            spec.seed = strtoul(value, NULL, 10);
            i++;
        } else if (strcmp(arg, "--examples") == 0) {
            long n = strtol(value, NULL, 10);
            if (n < 1)
                return usage_error("examples must be a positive integer:", value);
            spec.examples = (size_t)n;
            i++;
        } else if (strcmp(arg, "--epsilon") == 0) {
            spec.epsilon = strtod(value, NULL);
            if (!(spec.epsilon > 0))
                return usage_error("epsilon must be positive:", value);
            i++;
        } else if (strcmp(arg, "--tolerance") == 0) {
            spec.tolerance = strtod(value, NULL);
            if (!(spec.tolerance > 0))
                return usage_error("tolerance must be positive:", value);
            i++;
        } else if (strcmp(arg, "--format") == 0) {
            if (strcmp(value, "text") == 0)
                format = GRADCHECK_TEXT;
            else if (strcmp(value, "markdown") == 0 || strcmp(value, "md") == 0)
                format = GRADCHECK_MARKDOWN;
            else if (strcmp(value, "csv") == 0)
                format = GRADCHECK_CSV;
            else if (strcmp(value, "latex") == 0 || strcmp(value, "tex") == 0)
                format = GRADCHECK_LATEX;
            else
                return usage_error("format must be text, markdown, csv or latex, not", value);
            i++;
        } else {
            return usage_error("unknown option", arg);
        }
    }
    mlp_error err = {0};
    gradcheck_matrix *matrix = gradcheck_matrix_new(mode, &spec, &err);
    char *text = NULL;
    int status = matrix != NULL ? gradcheck_matrix_run(matrix, &err) : err.status;
    if (status == MLP_OK)
        status = gradcheck_matrix_render(matrix, format, 0, &text, &err);
    if (status != MLP_OK) {
        cli_print_error(err.message);
        gradcheck_matrix_free(matrix);
        return status;
    }
    fputs(text, stdout);
    free(text);
    /* a matrix shows refused pairs failing on purpose; only accepted ones count */
    int failures = 0;
    for (size_t i = 0; i < matrix->n_rows; i++) {
        const gradcheck_row *row = &matrix->rows[i];
        if (!row->result.passed && (row->accepted || mode == GRADCHECK_ONE))
            failures++;
    }
    gradcheck_matrix_free(matrix);
    return failures ? MLP_ERR_GRADCHECK : MLP_OK;
}
