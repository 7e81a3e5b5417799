/* cmd_gradcheck.c — `mlplab gradcheck`: backprop against central differences. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "gradcheck.h"

static const char usage_text[] =
    "usage: mlplab gradcheck [--activation A] [--output O] [--cost C] [--sizes N,N,...]\n"
    "                        [--seed S] [--examples N] [--epsilon E] [--tolerance T]\n"
    "                        [--all | --question] [--format text|markdown|csv]\n"
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

typedef enum { FORMAT_TEXT, FORMAT_MARKDOWN, FORMAT_CSV } output_format;

typedef struct check_row {
    const activation *hidden, *output;
    const cost *cost;
} check_row;

static void print_header(output_format format, size_t layers)
{
    if (format == FORMAT_CSV) {
        printf("hidden,output,cost,accepted_by_run");
        for (size_t k = 1; k <= layers; k++)
            printf(",layer%zu_max_relative_error", k);
        printf(",result\n");
    } else if (format == FORMAT_MARKDOWN) {
        printf("| hidden | output | cost | run accepts |");
        for (size_t k = 1; k <= layers; k++)
            printf(" layer %zu max rel. error |", k);
        printf(" result |\n|---|---|---|---|");
        for (size_t k = 1; k <= layers; k++)
            printf("---:|");
        printf("---|\n");
    } else {
        printf("%-8s %-8s %-15s %-6s", "hidden", "output", "cost", "run");
        for (size_t k = 1; k <= layers; k++)
            printf("  layer%zu err", k);
        printf("  result\n");
    }
}

static void print_row(output_format format, const check_row *row, const gradcheck_result *r)
{
    int accepted = cost_pair_is_valid(row->cost, row->output) && !row->hidden->output_only;
    const char *result = r->passed ? "PASS" : "FAIL";
    if (format == FORMAT_CSV) {
        printf("%s,%s,%s,%s", row->hidden->name, row->output->name, row->cost->name,
               accepted ? "yes" : "no");
        for (size_t k = 0; k < r->n_layers; k++)
            printf(",%.3e", r->max_relative_error[k]);
        printf(",%s\n", result);
    } else if (format == FORMAT_MARKDOWN) {
        printf("| %s | %s | %s | %s |", row->hidden->name, row->output->name, row->cost->name,
               accepted ? "yes" : "no");
        for (size_t k = 0; k < r->n_layers; k++)
            printf(" %.2e |", r->max_relative_error[k]);
        printf(" %s |\n", result);
    } else {
        printf("%-8s %-8s %-15s %-6s", row->hidden->name, row->output->name, row->cost->name,
               accepted ? "yes" : "no");
        for (size_t k = 0; k < r->n_layers; k++)
            printf("  %10.2e", r->max_relative_error[k]);
        printf("  %s%s\n", result, accepted ? "" : " (refused by run)");
    }
}

static size_t build_rows(const char *mode, const gradcheck_spec *spec, check_row *rows)
{
    size_t n = 0, n_act, n_cost;
    const activation *acts = activation_table(&n_act);
    const cost *costs = cost_table(&n_cost);
    if (strcmp(mode, "all") == 0) {
        for (size_t h = 0; h < n_act; h++) {
            if (acts[h].output_only)
                continue;
            for (size_t o = 0; o < n_act; o++)
                for (size_t c = 0; c < n_cost; c++)
                    rows[n++] = (check_row){&acts[h], &acts[o], &costs[c]};
        }
    } else if (strcmp(mode, "question") == 0) {
        const char *hidden[] = {"sigmoid", "tanh", "relu"};
        for (size_t h = 0; h < 3; h++) {
            const activation *a = activation_find(hidden[h]);
            rows[n++] = (check_row){a, a, cost_find("quadratic")};
            rows[n++] = (check_row){a, a, cost_find("cross-entropy")};
            rows[n++] = (check_row){a, activation_find("softmax"), cost_find("log-likelihood")};
        }
    } else {
        rows[n++] = (check_row){spec->hidden, spec->output, spec->cost};
    }
    return n;
}

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
    const char *mode = "one";
    output_format format = FORMAT_TEXT;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(arg)) {
            fputs(usage_text, stdout);
            return MLP_OK;
        } else if (strcmp(arg, "--all") == 0) {
            mode = "all";
        } else if (strcmp(arg, "--question") == 0) {
            mode = "question";
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
                format = FORMAT_TEXT;
            else if (strcmp(value, "markdown") == 0 || strcmp(value, "md") == 0)
                format = FORMAT_MARKDOWN;
            else if (strcmp(value, "csv") == 0)
                format = FORMAT_CSV;
            else
                return usage_error("format must be text, markdown or csv, not", value);
            i++;
        } else {
            return usage_error("unknown option", arg);
        }
    }
    check_row rows[256];
    size_t n = build_rows(mode, &spec, rows);
    print_header(format, spec.n_sizes - 1);
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        gradcheck_spec one = spec;
        one.hidden = rows[i].hidden;
        one.output = rows[i].output;
        one.cost = rows[i].cost;
        gradcheck_result result;
        mlp_error err = {0};
        if (gradcheck_run(&one, &result, &err) != MLP_OK) {
            cli_print_error(err.message);
            return err.status;
        }
        print_row(format, &rows[i], &result);
        int accepted = cost_pair_is_valid(rows[i].cost, rows[i].output);
        if (!result.passed && (accepted || strcmp(mode, "one") == 0))
            failures++;
    }
    return failures ? MLP_ERR_GRADCHECK : MLP_OK;
}
