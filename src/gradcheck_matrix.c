/* gradcheck_matrix.c — see gradcheck_matrix.h. */
#include "gradcheck_matrix.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "suggest.h"
#include "table.h"

enum {
    MAX_LAYER_SIZE = 100000,    /* larger is a typo, and would take hours to check */
    MAX_EXAMPLES = 100000
};

static const yt_mark no_mark = {NULL, 0, 0};

/* The keys of a study's gradcheck: mapping, in the order of docs/studies.md. */
static const char *const matrix_keys[] = {"matrix",  "sizes",     "examples", "seed",
                                          "epsilon", "tolerance", "expect",   NULL};
static const char *const expect_keys[] = {"hidden", "output", "cost", "result", NULL};
static const char *const study_modes[] = {"question", "all", NULL};

/* The hidden activations of the seed question's matrix. */
static const char *const question_hidden[] = {"sigmoid", "tanh", "relu"};

static const char matrix_hint[] =
    "matrix: question checks hidden sigmoid, tanh and relu, each with the same output "
    "activation and quadratic or cross-entropy cost, and with a softmax output and "
    "log-likelihood; matrix: all checks every hidden activation x output activation x cost";

/* ---------------------------------------------------------------------------
 * Modes and combinations
 * ------------------------------------------------------------------------- */

const char *gradcheck_mode_name(gradcheck_mode mode)
{
    switch (mode) {
    case GRADCHECK_QUESTION:
        return "question";
    case GRADCHECK_ALL:
        return "all";
    case GRADCHECK_ONE:
    default:
        return "one";
    }
}

int gradcheck_mode_parse(const char *name, gradcheck_mode *out)
{
    const gradcheck_mode modes[] = {GRADCHECK_ONE, GRADCHECK_QUESTION, GRADCHECK_ALL};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(name, gradcheck_mode_name(modes[i])) == 0) {
            *out = modes[i];
            return 0;
        }
    return -1;
}

static void add_row(gradcheck_matrix *m, const activation *hidden, const activation *output,
                    const cost *c)
{
    gradcheck_row *row = &m->rows[m->n_rows++];
    memset(row, 0, sizeof *row);
    row->hidden = hidden;
    row->output = output;
    row->cost = c;
    row->accepted = cost_pair_is_valid(c, output) && !hidden->output_only;
    row->expect_pass = 1;
}

gradcheck_matrix *gradcheck_matrix_new(gradcheck_mode mode, const gradcheck_spec *spec,
                                       mlp_error *err)
{
    size_t n_act, n_cost;
    const activation *acts = activation_table(&n_act);
    const cost *costs = cost_table(&n_cost);
    gradcheck_matrix *m = calloc(1, sizeof *m);
    /* at most every activation x activation x cost */
    gradcheck_row *rows = calloc(n_act * n_act * n_cost + 1, sizeof *rows);
    if (m == NULL || rows == NULL) {
        free(m);
        free(rows);
        mlp_error_nomem(err, "the gradient-check matrix");
        return NULL;
    }
    m->mode = mode;
    m->spec = *spec;
    m->rows = rows;
    if (mode == GRADCHECK_ALL) {
        for (size_t h = 0; h < n_act; h++) {
            if (acts[h].output_only)
                continue;
            for (size_t o = 0; o < n_act; o++)
                for (size_t c = 0; c < n_cost; c++)
                    add_row(m, &acts[h], &acts[o], &costs[c]);
        }
    } else if (mode == GRADCHECK_QUESTION) {
        const activation *softmax = activation_find("softmax");
        const cost *quadratic = cost_find("quadratic"), *ce = cost_find("cross-entropy");
        const cost *ll = cost_find("log-likelihood");
        for (size_t h = 0; h < sizeof question_hidden / sizeof question_hidden[0]; h++) {
            const activation *a = activation_find(question_hidden[h]);
            add_row(m, a, a, quadratic);
            add_row(m, a, a, ce);
            add_row(m, a, softmax, ll);
        }
    } else {
        add_row(m, spec->hidden, spec->output, spec->cost);
    }
    return m;
}

void gradcheck_matrix_free(gradcheck_matrix *matrix)
{
    if (matrix == NULL)
        return;
    free(matrix->rows);
    free(matrix);
}

gradcheck_row *gradcheck_matrix_find(gradcheck_matrix *matrix, const activation *hidden,
                                     const activation *output, const cost *c)
{
    for (size_t i = 0; i < matrix->n_rows; i++) {
        gradcheck_row *row = &matrix->rows[i];
        if (row->hidden == hidden && row->output == output && row->cost == c)
            return row;
    }
    return NULL;
}

int gradcheck_matrix_run(gradcheck_matrix *matrix, mlp_error *err)
{
    for (size_t i = 0; i < matrix->n_rows; i++) {
        gradcheck_row *row = &matrix->rows[i];
        gradcheck_spec one = matrix->spec;
        one.hidden = row->hidden;
        one.output = row->output;
        one.cost = row->cost;
        int rc = gradcheck_run(&one, &row->result, err);
        if (rc != MLP_OK)
            return rc;
        row->checked = 1;
    }
    return MLP_OK;
}

size_t gradcheck_matrix_unexpected(const gradcheck_matrix *matrix)
{
    size_t n = 0;
    for (size_t i = 0; i < matrix->n_rows; i++) {
        const gradcheck_row *row = &matrix->rows[i];
        n += row->checked && row->result.passed != row->expect_pass;
    }
    return n;
}

/* ---------------------------------------------------------------------------
 * Reading the study's gradcheck: mapping
 * ------------------------------------------------------------------------- */

/* Unknown keys of a mapping: the first one is an error with did-you-mean. */
static int check_keys(const yt_node *map, const char *where, const char *const *keys,
                      mlp_error *err)
{
    for (size_t k = 0; k < map->count; k++) {
        int known = 0;
        for (size_t i = 0; keys[i] != NULL && !known; i++)
            known = strcmp(map->keys[k], keys[i]) == 0;
        if (known)
            continue;
        char near[128], list[256], hint[320];
        suggest_did_you_mean(map->keys[k], keys, suggest_list_count(keys), near, sizeof near);
        suggest_join(keys, suggest_list_count(keys), 0, list, sizeof list);
        snprintf(hint, sizeof hint, "the keys of %s are: %s (see docs/studies.md)", where, list);
        return yt_error_at(err, MLP_ERR_CONFIG, map->key_marks[k], hint,
                           "%s: unknown key '%s'%s", where, map->keys[k], near);
    }
    return 0;
}

static int read_count(const yt_node *node, const char *what, long low, long high,
                      const char *hint, long *out, mlp_error *err)
{
    if (yt_to_long(node, what, out, err) != 0)
        return err->status;
    if (*out < low || *out > high)
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark, hint,
                           "%s must be %ld to %ld, not %ld", what, low, high, *out);
    return 0;
}

static int read_positive(const yt_node *node, const char *what, double *out, mlp_error *err)
{
    if (yt_to_double(node, what, out, err) != 0)
        return err->status;
    if (!(*out > 0.0) || isinf(*out))
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark,
                           "e.g. epsilon: 1e-5, tolerance: 1e-4 (docs/numerics.md)",
                           "%s must be a positive number, not %s", what, node->scalar);
    return 0;
}

static int read_sizes(const yt_node *node, gradcheck_spec *spec, mlp_error *err)
{
    static const char hint[] = "the layer sizes, input first, e.g. sizes: [20, 100, 5]";
    if (node->kind != YT_SEQUENCE || node->count < 2 || node->count > NET_MAX_LAYERS + 1)
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark, hint,
                           "gradcheck.sizes must be a list of 2 to %d layer sizes",
                           NET_MAX_LAYERS + 1);
    for (size_t i = 0; i < node->count; i++) {
        char what[48];
        long size;
        snprintf(what, sizeof what, "gradcheck.sizes[%zu]", i);
        if (read_count(node->items[i], what, 1, MAX_LAYER_SIZE, hint, &size, err) != 0)
            return err->status;
        spec->sizes[i] = (size_t)size;
    }
    spec->n_sizes = node->count;
    return 0;
}

/* Central differences perturb each weight and bias in turn and evaluate the
 * batch twice: the time grows as parameters² × examples. Sizes and examples
 * that are each in range can still multiply to hours (the sizes: [20, 100, 5]
 * of relu-cross-entropy.yaml with 8 examples take a fraction of a second),
 * so `mlplab plan` refuses more than MAX_WORK_GIGA, under a minute per matrix. */
enum { MAX_WORK_GIGA = 5 };    /* parameters² × examples, in units of 10^9 */

static int check_work(const yt_node *node, const gradcheck_spec *spec, mlp_error *err)
{
    double parameters = 0.0;
    for (size_t i = 0; i + 1 < spec->n_sizes; i++)
        parameters += (double)spec->sizes[i + 1] * ((double)spec->sizes[i] + 1.0);
    double work = parameters * parameters * (double)spec->examples;
    if (work <= MAX_WORK_GIGA * 1e9)
        return 0;
    const yt_node *at = yt_map_get(node, "sizes");
    return yt_error_at(err, MLP_ERR_CONFIG, at != NULL ? at->mark : node->mark,
                       "a gradient check perturbs every weight and bias in turn: its time grows "
                       "as their number squared times examples; check a smaller network (the "
                       "derivatives do not depend on its size)",
                       "gradcheck: %.0f weights and biases and %zu examples would take hours "
                       "(parameters² × examples is %.3g, at most %.3g)",
                       parameters, spec->examples, work, MAX_WORK_GIGA * 1e9);
}

/* An activation or cost name of an expect entry. */
static int read_name(const yt_node *entry, const char *key, const char *where,
                     const activation **act, const cost **cst, mlp_error *err)
{
    const yt_node *node = yt_map_get(entry, key);
    char what[80];
    snprintf(what, sizeof what, "%s.%s", where, key);
    if (node == NULL)
        return yt_error_at(err, MLP_ERR_CONFIG, entry->mark,
                           "each entry names a combination and its result, e.g. {hidden: relu, "
                           "output: relu, cost: cross-entropy, result: FAIL}",
                           "%s has no %s", where, key);
    const char *name;
    if (yt_to_string(node, what, &name, err) != 0)
        return err->status;
    const char *names[32];
    size_t n = 0;
    if (cst != NULL) {
        size_t count;
        const cost *table = cost_table(&count);
        for (size_t i = 0; i < count && n < 31; i++)
            names[n++] = table[i].name;
        *cst = cost_find(name);
    } else {
        size_t count;
        const activation *table = activation_table(&count);
        for (size_t i = 0; i < count && n < 31; i++)
            if (strcmp(key, "hidden") != 0 || !table[i].output_only)
                names[n++] = table[i].name;
        *act = activation_find(name);
    }
    names[n] = NULL;
    char list[256], hint[320];
    suggest_join(names, suggest_list_count(names), 0, list, sizeof list);
    snprintf(hint, sizeof hint, "%s: %s", cst != NULL ? "costs" : "activations", list);
    if (cst != NULL ? *cst == NULL : *act == NULL) {
        char near[128];
        suggest_did_you_mean(name, names, suggest_list_count(names), near, sizeof near);
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark, hint, "%s: unknown %s '%s'%s",
                           what, cst != NULL ? "cost" : "activation", name, near);
    }
    if (act != NULL && strcmp(key, "hidden") == 0 && (*act)->output_only)
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark, hint,
                           "%s: %s is an output activation only", what, name);
    return 0;
}

static int read_expect_entry(gradcheck_matrix *m, const yt_node *entry, size_t index,
                             size_t *listed_at, mlp_error *err)
{
    char where[48];
    snprintf(where, sizeof where, "gradcheck.expect[%zu]", index);
    if (yt_expect_kind(entry, YT_MAPPING, where,
                       "e.g. expect: [{hidden: relu, output: relu, cost: cross-entropy, "
                       "result: FAIL}]", err) != 0)
        return err->status;
    if (check_keys(entry, where, expect_keys, err) != 0)
        return err->status;
    const activation *hidden = NULL, *output = NULL;
    const cost *c = NULL;
    if (read_name(entry, "hidden", where, &hidden, NULL, err) != 0 ||
        read_name(entry, "output", where, &output, NULL, err) != 0 ||
        read_name(entry, "cost", where, NULL, &c, err) != 0)
        return err->status;
    const yt_node *result = yt_map_get(entry, "result");
    if (result == NULL)
        return yt_error_at(err, MLP_ERR_CONFIG, entry->mark,
                           "combinations not listed are expected to PASS; list the ones "
                           "expected to fail with result: FAIL", "%s has no result", where);
    const char *text;
    char what[64];
    snprintf(what, sizeof what, "%s.result", where);
    if (yt_to_string(result, what, &text, err) != 0)
        return err->status;
    int pass = strcasecmp(text, "PASS") == 0;
    if (!pass && strcasecmp(text, "FAIL") != 0)
        return yt_error_at(err, MLP_ERR_CONFIG, result->mark,
                           "PASS: backprop agrees with central differences; FAIL: it does not",
                           "%s must be PASS or FAIL, not '%s'", what, text);
    gradcheck_row *row = gradcheck_matrix_find(m, hidden, output, c);
    if (row == NULL)
        return yt_error_at(err, MLP_ERR_CONFIG, entry->mark, matrix_hint,
                           "%s: matrix: %s does not check hidden %s, output %s, cost %s",
                           where, gradcheck_mode_name(m->mode), hidden->name, output->name,
                           c->name);
    size_t at = (size_t)(row - m->rows);
    if (listed_at[at] != 0)
        return yt_error_at(err, MLP_ERR_CONFIG, entry->mark, "list each combination once",
                           "%s: hidden %s, output %s, cost %s is already gradcheck.expect[%zu]",
                           where, hidden->name, output->name, c->name, listed_at[at] - 1);
    listed_at[at] = index + 1;
    row->expect_pass = pass;
    return 0;
}

static int read_expect(gradcheck_matrix *m, const yt_node *node, mlp_error *err)
{
    if (node == NULL || yt_is_null(node))
        return 0;
    if (node->kind != YT_SEQUENCE)
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark,
                           "e.g. expect: [{hidden: relu, output: relu, cost: cross-entropy, "
                           "result: FAIL}]", "gradcheck.expect must be a list of mappings");
    size_t *listed_at = calloc(m->n_rows + 1, sizeof *listed_at);
    if (listed_at == NULL)
        return mlp_error_nomem(err, "the gradient-check matrix");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < node->count; i++)
        rc = read_expect_entry(m, node->items[i], i, listed_at, err);
    free(listed_at);
    return rc;
}

int gradcheck_matrix_from_yaml(const yt_node *node, gradcheck_matrix **out, mlp_error *err)
{
    *out = NULL;
    mlp_error local = {0};
    if (err == NULL)
        err = &local;
    static const char shape_hint[] =
        "e.g. gradcheck: {matrix: question, sizes: [20, 100, 5], expect: [{hidden: relu, "
        "output: relu, cost: cross-entropy, result: FAIL}]}";
    if (node == NULL || node->kind != YT_MAPPING)
        return yt_error_at(err, MLP_ERR_CONFIG, node != NULL ? node->mark : no_mark, shape_hint,
                           "gradcheck must be a mapping");
    if (check_keys(node, "gradcheck", matrix_keys, err) != 0)
        return err->status;

    char modes[64];
    suggest_join(study_modes, suggest_list_count(study_modes), 0, modes, sizeof modes);
    const yt_node *matrix = yt_map_get(node, "matrix");
    if (matrix == NULL)
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark, matrix_hint,
                           "gradcheck has no matrix: (%s)", modes);
    const char *text;
    if (yt_to_string(matrix, "gradcheck.matrix", &text, err) != 0)
        return err->status;
    gradcheck_mode mode;
    if (gradcheck_mode_parse(text, &mode) != 0 || mode == GRADCHECK_ONE) {
        char near[128];
        suggest_did_you_mean(text, study_modes, suggest_list_count(study_modes), near,
                             sizeof near);
        return yt_error_at(err, MLP_ERR_CONFIG, matrix->mark, matrix_hint,
                           "gradcheck.matrix must be %s, not '%s'%s", "question or all", text,
                           near);
    }

    gradcheck_spec spec;
    gradcheck_defaults(&spec);
    const yt_node *value;
    long number;
    if ((value = yt_map_get(node, "sizes")) != NULL && read_sizes(value, &spec, err) != 0)
        return err->status;
    if ((value = yt_map_get(node, "examples")) != NULL) {
        if (read_count(value, "gradcheck.examples", 1, MAX_EXAMPLES,
                       "the rows of the random batch, e.g. examples: 8", &number, err) != 0)
            return err->status;
        spec.examples = (size_t)number;
    }
    if ((value = yt_map_get(node, "seed")) != NULL) {
        if (read_count(value, "gradcheck.seed", 0, 4294967295L,
                       "the seed of the random weights and batch, e.g. seed: 1", &number,
                       err) != 0)
            return err->status;
        spec.seed = (unsigned long)number;
    }
    if ((value = yt_map_get(node, "epsilon")) != NULL &&
        read_positive(value, "gradcheck.epsilon", &spec.epsilon, err) != 0)
        return err->status;
    if ((value = yt_map_get(node, "tolerance")) != NULL &&
        read_positive(value, "gradcheck.tolerance", &spec.tolerance, err) != 0)
        return err->status;
    if (check_work(node, &spec, err) != 0)
        return err->status;

    gradcheck_matrix *m = gradcheck_matrix_new(mode, &spec, err);
    if (m == NULL)
        return err->status;
    if (read_expect(m, yt_map_get(node, "expect"), err) != 0) {
        gradcheck_matrix_free(m);
        return err->status;
    }
    *out = m;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Writing the normalized mapping
 * ------------------------------------------------------------------------- */

static yt_node *scalar(const char *format, ...) __attribute__((format(printf, 1, 2)));
static yt_node *scalar(const char *format, ...)
{
    char text[64];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof text, format, args);
    va_end(args);
    return yt_new_scalar(text, no_mark);
}

yt_node *gradcheck_matrix_to_yaml(const gradcheck_matrix *matrix, mlp_error *err)
{
    yt_builder b = {0};
    const gradcheck_spec *spec = &matrix->spec;
    yt_node *root = yt_new_mapping(no_mark);
    yt_build_put(&b, root, "matrix", scalar("%s", gradcheck_mode_name(matrix->mode)));
    yt_node *sizes = yt_build_put(&b, root, "sizes", yt_new_sequence(no_mark));
    for (size_t i = 0; i < spec->n_sizes; i++)
        yt_build_append(&b, sizes, scalar("%zu", spec->sizes[i]));
    yt_build_put(&b, root, "examples", scalar("%zu", spec->examples));
    yt_build_put(&b, root, "seed", scalar("%lu", spec->seed));
    yt_build_put(&b, root, "epsilon", scalar("%.17g", spec->epsilon));
    yt_build_put(&b, root, "tolerance", scalar("%.17g", spec->tolerance));
    yt_node *expect = yt_build_put(&b, root, "expect", yt_new_sequence(no_mark));
    for (size_t i = 0; i < matrix->n_rows && !b.failed; i++) {
        const gradcheck_row *row = &matrix->rows[i];
        if (row->expect_pass)
            continue;       /* PASS is the default: listed only when it is not */
        yt_node *entry = yt_new_mapping(no_mark);
        yt_build_put(&b, entry, "hidden", scalar("%s", row->hidden->name));
        yt_build_put(&b, entry, "output", scalar("%s", row->output->name));
        yt_build_put(&b, entry, "cost", scalar("%s", row->cost->name));
        yt_build_put(&b, entry, "result", scalar("FAIL"));
        yt_build_append(&b, expect, entry);
    }
    if (b.failed || root == NULL) {
        yt_free(root);
        mlp_error_nomem(err, "the gradcheck: mapping");
        return NULL;
    }
    return root;
}

/* ---------------------------------------------------------------------------
 * Rendering
 * ------------------------------------------------------------------------- */

static size_t layer_count(const gradcheck_matrix *m)
{
    return m->spec.n_sizes > 0 ? m->spec.n_sizes - 1 : 0;
}

static const char *verdict(int passed)
{
    return passed ? "PASS" : "FAIL";
}

/* The CSV header and the aligned text of `mlplab gradcheck`. */
static void write_header(FILE *out, const gradcheck_matrix *m, gradcheck_format format,
                         int with_expected)
{
    size_t layers = layer_count(m);
    if (format == GRADCHECK_CSV) {
        fputs("hidden,output,cost,accepted_by_run", out);
        for (size_t k = 1; k <= layers; k++)
            fprintf(out, ",layer%zu_max_relative_error", k);
        fputs(with_expected ? ",result,expected\n" : ",result\n", out);
        return;
    }
    fprintf(out, "%-8s %-8s %-15s %-6s", "hidden", "output", "cost", "run");
    for (size_t k = 1; k <= layers; k++)
        fprintf(out, "  layer%zu err", k);
    fputs(with_expected ? "  result  expected\n" : "  result\n", out);
}

static void write_row(FILE *out, const gradcheck_row *row, gradcheck_format format,
                      int with_expected)
{
    const gradcheck_result *r = &row->result;
    const char *accepted = row->accepted ? "yes" : "no";
    const char *result = row->checked ? verdict(r->passed) : "-";
    const char *expected = verdict(row->expect_pass);
    if (format == GRADCHECK_CSV) {
        fprintf(out, "%s,%s,%s,%s", row->hidden->name, row->output->name, row->cost->name,
                accepted);
        for (size_t k = 0; k < r->n_layers; k++)
            fprintf(out, ",%.3e", r->max_relative_error[k]);
        fprintf(out, ",%s", result);
        if (with_expected)
            fprintf(out, ",%s", expected);
        fputc('\n', out);
        return;
    }
    fprintf(out, "%-8s %-8s %-15s %-6s", row->hidden->name, row->output->name,
            row->cost->name, accepted);
    for (size_t k = 0; k < r->n_layers; k++)
        fprintf(out, "  %10.2e", r->max_relative_error[k]);
    if (with_expected)
        fprintf(out, "  %-6s  %s%s\n", result, expected,
                row->accepted ? "" : " (refused by run)");
    else
        fprintf(out, "  %s%s\n", result, row->accepted ? "" : " (refused by run)");
}

/* The Markdown and LaTeX tables, as one grid: the combination, whether run
 * accepts it, each layer's error (right-aligned), the result. */
static int build_table(const gradcheck_matrix *m, int with_expected, table_grid *t, mlp_error *err)
{
    static const char *const headings[] = {"hidden", "output", "cost", "run accepts"};
    size_t layers = layer_count(m), result = 4 + layers;
    int rc = table_init(t, m->n_rows + 1, result + 1 + (size_t)(with_expected != 0), err);
    for (size_t col = 0; rc == MLP_OK && col < 4; col++)
        rc = table_set(t, 0, col, headings[col], err);
    for (size_t k = 1; rc == MLP_OK && k <= layers; k++) {
        char latex[64];
        snprintf(latex, sizeof latex, "layer %zu max rel.\\ error", k);
        table_set_align(t, 3 + k, TABLE_RIGHT);
        rc = table_setf(t, 0, 3 + k, err, "layer %zu max rel. error", k);
        if (rc == MLP_OK)
            rc = table_set_latex(t, 0, 3 + k, latex, err);
    }
    if (rc == MLP_OK)
        rc = table_set(t, 0, result, "result", err);
    if (rc == MLP_OK && with_expected)
        rc = table_set(t, 0, result + 1, "expected", err);
    for (size_t i = 0; rc == MLP_OK && i < m->n_rows; i++) {
        const gradcheck_row *row = &m->rows[i];
        const char *cells[] = {row->hidden->name, row->output->name, row->cost->name,
                               row->accepted ? "yes" : "no"};
        for (size_t col = 0; rc == MLP_OK && col < 4; col++)
            rc = table_set(t, i + 1, col, cells[col], err);
        for (size_t k = 0; rc == MLP_OK && k < row->result.n_layers && k < layers; k++)
            rc = table_setf(t, i + 1, 4 + k, err, "%.2e", row->result.max_relative_error[k]);
        if (rc == MLP_OK)
            rc = table_set(t, i + 1, result, row->checked ? verdict(row->result.passed) : "-",
                           err);
        if (rc == MLP_OK && with_expected)
            rc = table_set(t, i + 1, result + 1, verdict(row->expect_pass), err);
    }
    return rc;
}

static int write_table(FILE *out, const gradcheck_matrix *m, gradcheck_format format,
                       int with_expected, mlp_error *err)
{
    if (format == GRADCHECK_CSV || format == GRADCHECK_TEXT) {
        write_header(out, m, format, with_expected);
        for (size_t i = 0; i < m->n_rows; i++)
            write_row(out, &m->rows[i], format, with_expected);
        return MLP_OK;
    }
    table_grid t = {0};
    int rc = build_table(m, with_expected, &t, err);
    if (rc == MLP_OK && format == GRADCHECK_MARKDOWN)
        table_write_markdown(out, &t);
    else if (rc == MLP_OK)
        table_write_latex(out, &t);
    table_free(&t);
    return rc;
}

/* Closes the open_memstream of *text after a writer returned rc; on any
 * failure *text is freed and NULL. */
static int finish(FILE *out, int rc, char **text, mlp_error *err)
{
    int failed = out == NULL || ferror(out);
    if (out != NULL && fclose(out) != 0)
        failed = 1;
    if (failed && rc == MLP_OK)
        rc = mlp_error_nomem(err, "the gradient-check table");
    if (rc != MLP_OK) {
        free(*text);
        *text = NULL;
    }
    return rc;
}

int gradcheck_matrix_render(const gradcheck_matrix *matrix, gradcheck_format format,
                            int with_expected, char **text, mlp_error *err)
{
    *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(text, &size);
    int rc = out != NULL ? write_table(out, matrix, format, with_expected, err) : MLP_OK;
    return finish(out, rc, text, err);
}

/* What was checked, in one sentence (for the study's table). */
static void write_setup(FILE *out, const gradcheck_matrix *m, const char *prefix)
{
    const gradcheck_spec *s = &m->spec;
    fprintf(out, "%sBackprop against central differences, matrix: %s (%zu combinations), on a ",
            prefix, gradcheck_mode_name(m->mode), m->n_rows);
    for (size_t i = 0; i < s->n_sizes; i++)
        fprintf(out, "%s%zu", i ? "-" : "", s->sizes[i]);
    fprintf(out, " network (scaled initialization, seed %lu) with %zu random examples and "
                 "one-hot targets; step %g; a combination passes when every layer's largest "
                 "relative error |g − ĝ| / (|g| + |ĝ|) is below %g. \"run accepts\" says "
                 "whether `mlplab run` trains that pairing; unlisted combinations are "
                 "expected to pass.\n",
            s->seed, s->examples, s->epsilon, s->tolerance);
}

/* Whether every result is as expected, and which are not. */
static void write_verdict(FILE *out, const gradcheck_matrix *m, const char *prefix)
{
    size_t unexpected = gradcheck_matrix_unexpected(m), expected_fail = 0;
    for (size_t i = 0; i < m->n_rows; i++)
        expected_fail += !m->rows[i].expect_pass;
    if (unexpected == 0) {
        fprintf(out, "%sEvery result is as expected: %zu combinations, %zu expected to fail "
                     "and failing, every other passing.\n",
                prefix, m->n_rows, expected_fail);
        return;
    }
    fprintf(out, "%s%s %zu of %zu combinations:", prefix,
            prefix[0] == '\0' ? "**Not as expected:**" : "NOT AS EXPECTED:", unexpected,
            m->n_rows);
    const char *sep = " ";
    for (size_t i = 0; i < m->n_rows; i++) {
        const gradcheck_row *row = &m->rows[i];
        if (!row->checked || row->result.passed == row->expect_pass)
            continue;
        fprintf(out, "%shidden %s, output %s, cost %s gave %s, expected %s", sep,
                row->hidden->name, row->output->name, row->cost->name,
                verdict(row->result.passed), verdict(row->expect_pass));
        sep = "; ";
    }
    fputs(".\n", out);
}

/* A LaTeX comment line holds no newline: the description becomes one line. */
static void put_comment_text(FILE *out, const char *text)
{
    for (const char *p = text; *p; p++)
        fputc(*p == '\n' || *p == '\r' ? ' ' : *p, out);
}

int gradcheck_matrix_report(const gradcheck_matrix *matrix, const char *name,
                            const char *description, gradcheck_format format, char **text,
                            mlp_error *err)
{
    *text = NULL;
    if (format == GRADCHECK_TEXT)
        return mlp_error_set(err, MLP_ERR_USAGE, "a study's table is Markdown, CSV or LaTeX");
    size_t size = 0;
    FILE *out = open_memstream(text, &size);
    if (out == NULL)
        return finish(out, MLP_OK, text, err);
    int rc = MLP_OK;
    if (format == GRADCHECK_MARKDOWN) {
        fprintf(out, "# %s\n\n", name);
        if (description != NULL && description[0] != '\0')
            fprintf(out, "%s\n\n", description);
        write_setup(out, matrix, "");
        fputc('\n', out);
        rc = write_table(out, matrix, format, 1, err);
        fputc('\n', out);
        write_verdict(out, matrix, "");
    } else if (format == GRADCHECK_LATEX) {
        fprintf(out, "%% %s: ", name);
        put_comment_text(out, description != NULL ? description : "");
        fputc('\n', out);
        rc = write_table(out, matrix, format, 1, err);
        write_setup(out, matrix, "% ");
        write_verdict(out, matrix, "% ");
    } else {
        rc = write_table(out, matrix, format, 1, err);
    }
    return finish(out, rc, text, err);
}
