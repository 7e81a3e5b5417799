/* test_gradcheck.c — every cost/activation pair against central differences,
 * and the matrices of gradcheck_matrix.c: their combinations, the study's
 * gradcheck: mapping (read, errors, normalized form) and the rendered tables. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gradcheck.h"
#include "gradcheck_matrix.h"
#include "test_support.h"

/* The check of one combination on a network of the given sizes (n_sizes 0:
 * the default 20-10-5, one hidden layer). */
static gradcheck_result check_sizes(const char *hidden, const char *output, const char *cost_name,
                                    const size_t *sizes, size_t n_sizes)
{
    gradcheck_spec spec;
    gradcheck_defaults(&spec);
    if (n_sizes > 0) {
        memcpy(spec.sizes, sizes, n_sizes * sizeof *sizes);
        spec.n_sizes = n_sizes;
    }
    spec.hidden = activation_find(hidden);
    spec.output = activation_find(output);
    spec.cost = cost_find(cost_name);
    assert_non_null(spec.hidden);
    assert_non_null(spec.output);
    assert_non_null(spec.cost);
    gradcheck_result result;
    mlp_error err = {0};
    assert_int_equal(gradcheck_run(&spec, &result, &err), MLP_OK);
    assert_int_equal(result.n_layers, n_sizes > 0 ? n_sizes - 1 : 2);
    return result;
}

static gradcheck_result check(const char *hidden, const char *output, const char *cost_name)
{
    return check_sizes(hidden, output, cost_name, NULL, 0);
}

/* Every pair `mlplab run` accepts must pass, for every hidden activation. */
static void check_valid_pairs(const size_t *sizes, size_t n_sizes)
{
    const char *hidden[] = {"sigmoid", "tanh", "relu", "linear"};
    size_t n_act, n_cost;
    const activation *outputs = activation_table(&n_act);
    const cost *costs = cost_table(&n_cost);
    int checked = 0;
    for (size_t h = 0; h < 4; h++)
        for (size_t o = 0; o < n_act; o++)
            for (size_t c = 0; c < n_cost; c++) {
                if (!cost_pair_is_valid(&costs[c], &outputs[o]))
                    continue;
                gradcheck_result r = check_sizes(hidden[h], outputs[o].name, costs[c].name,
                                                 sizes, n_sizes);
                if (!r.passed)
                    fail_msg("%s hidden, %s output, %s: worst relative error %g", hidden[h],
                             outputs[o].name, costs[c].name, r.worst);
                checked++;
            }
    /* quadratic with 5 outputs, cross-entropy with sigmoid, log-likelihood with softmax */
    assert_int_equal(checked, 4 * (5 + 1 + 1));
}

static void test_valid_pairs_pass(void **state)
{
    (void)state;
    check_valid_pairs(NULL, 0);
}

/* Two hidden layers: the error propagated through a hidden layer into another
 * (W_kᵀ δ ⊙ f'(z) with the right layer's z and W), which one hidden layer
 * never exercises. */
static void test_valid_pairs_pass_two_hidden_layers(void **state)
{
    (void)state;
    const size_t sizes[] = {7, 6, 5, 4};
    check_valid_pairs(sizes, 4);
}

/* The seed question: binary cross-entropy's δ = a − y is wrong for ReLU and tanh outputs. */
static void test_question_failures(void **state)
{
    (void)state;
    gradcheck_result relu = check("relu", "relu", "cross-entropy");
    assert_false(relu.passed);
    assert_true(relu.worst > 1e-2);
    gradcheck_result tanh_ce = check("tanh", "tanh", "cross-entropy");
    assert_false(tanh_ce.passed);
    gradcheck_result relu_softmax = check("relu", "softmax", "log-likelihood");
    assert_true(relu_softmax.passed);
    gradcheck_result sigmoid_ll = check("sigmoid", "sigmoid", "log-likelihood");
    assert_false(sigmoid_ll.passed);
}

/* A wrong derivative must be caught: the checker itself can fail. */
static void broken_rows(const activation *out, const double *z, const double *a,
                        const double *y, size_t rows, size_t cols, double *per_row)
{
    cost_find("quadratic")->row_values(out, z, a, y, rows, cols, per_row);
    for (size_t r = 0; r < rows; r++)
        per_row[r] *= 2.0;
}

static void test_checker_detects_wrong_gradient(void **state)
{
    (void)state;
    cost broken = *cost_find("quadratic");
    broken.row_values = broken_rows;    /* cost doubled, δ unchanged: gradients off by 2 */
    gradcheck_spec spec;
    gradcheck_defaults(&spec);
    spec.cost = &broken;
    spec.output = activation_find("sigmoid");
    gradcheck_result r;
    assert_int_equal(gradcheck_run(&spec, &r, NULL), MLP_OK);
    assert_false(r.passed);
    assert_true(fabs(r.worst - 1.0 / 3.0) < 1e-3);  /* |g − 2g| / (|g| + |2g|) */
}

/* ---- matrices -------------------------------------------------------------- */

static gradcheck_matrix *matrix_from_text(const char *yaml, mlp_error *err)
{
    yt_node *root = yt_parse_string(yaml, "study.yaml", err);
    assert_non_null(root);
    gradcheck_matrix *m = NULL;
    int rc = gradcheck_matrix_from_yaml(yt_map_get(root, "gradcheck"), &m, err);
    yt_free(root);
    if (rc != 0)
        assert_null(m);
    return m;
}

static void test_matrix_combinations(void **state)
{
    (void)state;
    gradcheck_spec spec;
    gradcheck_defaults(&spec);
    mlp_error err = {0};
    gradcheck_matrix *q = gradcheck_matrix_new(GRADCHECK_QUESTION, &spec, &err);
    assert_non_null(q);
    assert_int_equal(q->n_rows, 9);
    /* hidden-major; same output + quadratic, same output + CE, softmax + LL */
    assert_string_equal(q->rows[0].hidden->name, "sigmoid");
    assert_string_equal(q->rows[2].output->name, "softmax");
    assert_string_equal(q->rows[2].cost->name, "log-likelihood");
    assert_string_equal(q->rows[7].hidden->name, "relu");
    assert_string_equal(q->rows[7].output->name, "relu");
    assert_string_equal(q->rows[7].cost->name, "cross-entropy");
    assert_false(q->rows[7].accepted);
    assert_true(q->rows[6].accepted);
    for (size_t i = 0; i < q->n_rows; i++)
        assert_true(q->rows[i].expect_pass);
    assert_ptr_equal(gradcheck_matrix_find(q, activation_find("tanh"), activation_find("tanh"),
                                           cost_find("quadratic")), &q->rows[3]);
    assert_null(gradcheck_matrix_find(q, activation_find("relu"), activation_find("sigmoid"),
                                      cost_find("quadratic")));
    gradcheck_matrix_free(q);

    size_t n_act, n_cost, n_hidden = 0;
    const activation *acts = activation_table(&n_act);
    cost_table(&n_cost);
    for (size_t i = 0; i < n_act; i++)
        n_hidden += !acts[i].output_only;
    gradcheck_matrix *all = gradcheck_matrix_new(GRADCHECK_ALL, &spec, &err);
    assert_non_null(all);
    assert_int_equal(all->n_rows, n_hidden * n_act * n_cost);
    gradcheck_matrix_free(all);

    gradcheck_matrix *one = gradcheck_matrix_new(GRADCHECK_ONE, &spec, &err);
    assert_int_equal(one->n_rows, 1);
    assert_ptr_equal(one->rows[0].cost, spec.cost);
    gradcheck_matrix_free(one);

    gradcheck_mode mode;
    assert_int_equal(gradcheck_mode_parse("all", &mode), 0);
    assert_int_equal(mode, GRADCHECK_ALL);
    assert_int_equal(gradcheck_mode_parse("everything", &mode), -1);
}

/* The study's mapping: defaults, expectations, and the normalized form that
 * reads back to the same matrix. */
static void test_matrix_from_yaml_and_back(void **state)
{
    (void)state;
    mlp_error err = {0};
    gradcheck_matrix *m = matrix_from_text(
        "gradcheck:\n"
        "  matrix: question\n"
        "  sizes: [4, 3, 2]\n"
        "  seed: 7\n"
        "  expect:\n"
        "    - {hidden: relu, output: relu, cost: cross-entropy, result: FAIL}\n"
        "    - {hidden: sigmoid, output: sigmoid, cost: quadratic, result: pass}\n"
        "    - {hidden: tanh, output: tanh, cost: cross-entropy, result: fail}\n",
        &err);
    if (m == NULL)
        fail_msg("%s", err.message);
    assert_int_equal(m->mode, GRADCHECK_QUESTION);
    assert_int_equal(m->spec.n_sizes, 3);
    assert_int_equal(m->spec.sizes[1], 3);
    assert_int_equal(m->spec.seed, 7);
    assert_int_equal(m->spec.examples, 8);            /* the default */
    assert_true(m->spec.tolerance == 1e-4);
    assert_false(m->rows[7].expect_pass);
    assert_false(m->rows[4].expect_pass);
    assert_true(m->rows[0].expect_pass);

    yt_node *normalized = gradcheck_matrix_to_yaml(m, &err);
    assert_non_null(normalized);
    char *text = yt_emit_canonical(normalized, &err);
    assert_non_null(text);
    assert_contains(text, "epsilon: 1.0e-05\n");
    assert_contains(text, "examples: 8\n");
    assert_contains(text, "matrix: question\n");
    assert_contains(text, "sizes: [4, 3, 2]\n");
    /* only the FAIL expectations, in table order (tanh before relu) */
    const yt_node *expect = yt_map_get(normalized, "expect");
    assert_int_equal(expect->count, 2);
    assert_string_equal(yt_map_get(expect->items[0], "hidden")->scalar, "tanh");
    assert_string_equal(yt_map_get(expect->items[1], "result")->scalar, "FAIL");

    /* read back from the emitted text (as study.yaml holds it): the same matrix */
    yt_node *parsed = yt_parse_string(text, "study.yaml", &err);
    assert_non_null(parsed);
    gradcheck_matrix *again = NULL;
    assert_int_equal(gradcheck_matrix_from_yaml(parsed, &again, &err), 0);
    assert_int_equal(again->n_rows, m->n_rows);
    for (size_t i = 0; i < m->n_rows; i++)
        assert_int_equal(again->rows[i].expect_pass, m->rows[i].expect_pass);
    assert_int_equal(again->spec.seed, 7);
    assert_true(again->spec.epsilon == m->spec.epsilon);
    gradcheck_matrix_free(again);
    yt_free(parsed);
    yt_free(normalized);
    free(text);
    gradcheck_matrix_free(m);
}

static void expect_error(const char *yaml, const char *message)
{
    mlp_error err = {0};
    gradcheck_matrix *m = matrix_from_text(yaml, &err);
    assert_null(m);
    assert_int_equal(err.status, MLP_ERR_CONFIG);
    assert_contains(err.message, message);
}

static void test_matrix_errors(void **state)
{
    (void)state;
    expect_error("gradcheck: {matrix: question, tolerence: 1e-4}\n",
                 "study.yaml:1:31: gradcheck: unknown key 'tolerence'; did you mean 'tolerance'?");
    expect_error("gradcheck: {matrix: questions}\n",
                 "study.yaml:1:21: gradcheck.matrix must be question or all, not 'questions'; "
                 "did you mean 'question'?");
    expect_error("gradcheck: {matrix: one}\n", "must be question or all, not 'one'");
    expect_error("gradcheck: {sizes: [4, 3]}\n", "gradcheck has no matrix:");
    expect_error("gradcheck: question\n", "study.yaml:1:12: gradcheck must be a mapping");
    expect_error("gradcheck: {matrix: all, sizes: [4]}\n",
                 "study.yaml:1:33: gradcheck.sizes must be a list of 2 to");
    expect_error("gradcheck: {matrix: all, sizes: [4, 0, 2]}\n",
                 "study.yaml:1:37: gradcheck.sizes[1] must be 1 to 100000, not 0");
    expect_error("gradcheck: {matrix: all, examples: 0}\n", "gradcheck.examples must be 1 to");
    expect_error("gradcheck: {matrix: all, epsilon: -1e-5}\n",
                 "study.yaml:1:35: gradcheck.epsilon must be a positive number");
    expect_error("gradcheck: {matrix: all, tolerance: x}\n", "gradcheck.tolerance must be");
    expect_error("gradcheck: {matrix: all, expect: {hidden: relu}}\n",
                 "gradcheck.expect must be a list of mappings");
    expect_error("gradcheck:\n  matrix: all\n  expect:\n"
                 "    - {hidden: rleu, output: relu, cost: cross-entropy, result: FAIL}\n",
                 "study.yaml:4:16: gradcheck.expect[0].hidden: unknown activation 'rleu'; did "
                 "you mean 'relu'?");
    expect_error("gradcheck:\n  matrix: all\n  expect:\n"
                 "    - {hidden: softmax, output: relu, cost: cross-entropy, result: FAIL}\n",
                 "study.yaml:4:16: gradcheck.expect[0].hidden: softmax is an output activation "
                 "only");
    expect_error("gradcheck:\n  matrix: all\n  expect:\n"
                 "    - {hidden: relu, output: relu, cost: crossentropy, result: FAIL}\n",
                 "study.yaml:4:42: gradcheck.expect[0].cost: unknown cost 'crossentropy'; did "
                 "you mean 'cross-entropy'?");
    expect_error("gradcheck:\n  matrix: all\n  expect:\n"
                 "    - {hidden: relu, output: relu, result: FAIL}\n",
                 "study.yaml:4:7: gradcheck.expect[0] has no cost");
    expect_error("gradcheck:\n  matrix: all\n  expect:\n"
                 "    - {hidden: relu, output: relu, cost: quadratic}\n",
                 "study.yaml:4:7: gradcheck.expect[0] has no result");
    expect_error("gradcheck:\n  matrix: all\n  expect:\n"
                 "    - {hidden: relu, output: relu, cost: quadratic, result: maybe}\n",
                 "study.yaml:4:61: gradcheck.expect[0].result must be PASS or FAIL, not 'maybe'");
    expect_error("gradcheck:\n  matrix: all\n  expect:\n"
                 "    - {hidden: relu, output: relu, cost: quadratic, reslut: FAIL}\n",
                 "study.yaml:4:53: gradcheck.expect[0]: unknown key 'reslut'; did you mean "
                 "'result'?");
    /* a combination the matrix does not check */
    expect_error("gradcheck:\n  matrix: question\n  expect:\n"
                 "    - {hidden: relu, output: sigmoid, cost: quadratic, result: FAIL}\n",
                 "study.yaml:4:7: gradcheck.expect[0]: matrix: question does not check hidden "
                 "relu, output sigmoid, cost quadratic");
    expect_error("gradcheck:\n  matrix: question\n  expect:\n"
                 "    - {hidden: relu, output: relu, cost: quadratic, result: FAIL}\n"
                 "    - {hidden: relu, output: relu, cost: quadratic, result: PASS}\n",
                 "study.yaml:5:7: gradcheck.expect[1]: hidden relu, output relu, cost quadratic "
                 "is already gradcheck.expect[0]");
}

/* Running and rendering: results against expectations, and every format. */
static void test_matrix_run_and_render(void **state)
{
    (void)state;
    mlp_error err = {0};
    gradcheck_matrix *m = matrix_from_text(
        "gradcheck:\n"
        "  matrix: question\n"
        "  sizes: [6, 4, 3]\n"
        "  expect:\n"
        "    - {hidden: relu, output: relu, cost: cross-entropy, result: FAIL}\n"
        "    - {hidden: tanh, output: tanh, cost: cross-entropy, result: FAIL}\n",
        &err);
    assert_non_null(m);
    assert_int_equal(gradcheck_matrix_run(m, &err), MLP_OK);
    assert_int_equal(gradcheck_matrix_unexpected(m), 0);
    assert_false(m->rows[7].result.passed);
    assert_true(m->rows[8].result.passed);

    char *text = NULL;
    assert_int_equal(gradcheck_matrix_report(m, "demo", "what it shows", GRADCHECK_MARKDOWN,
                                             &text, &err), MLP_OK);
    assert_true(strncmp(text, "# demo\n\nwhat it shows\n\n", 23) == 0);
    assert_contains(text, "| hidden | output | cost | run accepts | layer 1 max rel. error | "
                          "layer 2 max rel. error | result | expected |\n");
    assert_contains(text, "|---|---|---|---|---:|---:|---|---|\n");
    assert_contains(text, "| relu | relu | cross-entropy | no | ");
    assert_contains(text, " | FAIL | FAIL |\n");
    assert_contains(text, "6-4-3 network");
    assert_contains(text, "\nEvery result is as expected: 9 combinations, 2 expected to fail");
    /* the same inputs, the same bytes */
    gradcheck_matrix_run(m, &err);
    char *again = NULL;
    gradcheck_matrix_report(m, "demo", "what it shows", GRADCHECK_MARKDOWN, &again, &err);
    assert_string_equal(text, again);
    free(again);
    free(text);

    assert_int_equal(gradcheck_matrix_report(m, "demo", "", GRADCHECK_CSV, &text, &err), MLP_OK);
    assert_true(strncmp(text, "hidden,output,cost,accepted_by_run,layer1_max_relative_error,"
                              "layer2_max_relative_error,result,expected\n", 95) == 0);
    assert_contains(text, "\nrelu,relu,cross-entropy,no,");
    free(text);

    assert_int_equal(gradcheck_matrix_report(m, "demo", "50% off", GRADCHECK_LATEX, &text, &err),
                     MLP_OK);
    assert_contains(text, "% demo: 50% off\n");
    assert_contains(text, "\\begin{tabular}{llllrrll}\n\\toprule\n");
    assert_contains(text, "\\midrule\n");
    assert_contains(text, " & FAIL & FAIL \\\\\n");
    assert_contains(text, "\\bottomrule\n\\end{tabular}\n");
    free(text);
    assert_int_equal(gradcheck_matrix_report(m, "demo", "", GRADCHECK_TEXT, &text, &err),
                     MLP_ERR_USAGE);

    /* the command's own table: no expected column */
    assert_int_equal(gradcheck_matrix_render(m, GRADCHECK_TEXT, 0, &text, &err), MLP_OK);
    assert_true(strncmp(text, "hidden   output   cost            run     layer1 err  layer2 err"
                              "  result\n", 73) == 0);
    assert_contains(text, "\nrelu     relu     cross-entropy   no    ");
    assert_contains(text, "  FAIL (refused by run)\n");
    free(text);

    /* a wrong expectation is reported, naming the combination */
    m->rows[6].expect_pass = 0;     /* relu, relu, quadratic: it passes */
    assert_int_equal(gradcheck_matrix_unexpected(m), 1);
    gradcheck_matrix_report(m, "demo", "", GRADCHECK_MARKDOWN, &text, &err);
    assert_contains(text, "**Not as expected:** 1 of 9 combinations: hidden relu, output relu, "
                          "cost quadratic gave PASS, expected FAIL.\n");
    free(text);
    gradcheck_matrix_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_pairs_pass),
        cmocka_unit_test(test_valid_pairs_pass_two_hidden_layers),
        cmocka_unit_test(test_question_failures),
        cmocka_unit_test(test_checker_detects_wrong_gradient),
        cmocka_unit_test(test_matrix_combinations),
        cmocka_unit_test(test_matrix_from_yaml_and_back),
        cmocka_unit_test(test_matrix_errors),
        cmocka_unit_test(test_matrix_run_and_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
