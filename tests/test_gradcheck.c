/* test_gradcheck.c — every cost/activation pair against central differences. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gradcheck.h"

static gradcheck_result check(const char *hidden, const char *output, const char *cost_name)
{
    gradcheck_spec spec;
    gradcheck_defaults(&spec);
    spec.hidden = activation_find(hidden);
    spec.output = activation_find(output);
    spec.cost = cost_find(cost_name);
    assert_non_null(spec.hidden);
    assert_non_null(spec.output);
    assert_non_null(spec.cost);
    gradcheck_result result;
    mlp_error err = {0};
    assert_int_equal(gradcheck_run(&spec, &result, &err), MLP_OK);
    return result;
}

/* Every pair `mlplab run` accepts must pass, for every hidden activation. */
static void test_valid_pairs_pass(void **state)
{
    (void)state;
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
                gradcheck_result r = check(hidden[h], outputs[o].name, costs[c].name);
                if (!r.passed)
                    fail_msg("%s hidden, %s output, %s: worst relative error %g", hidden[h],
                             outputs[o].name, costs[c].name, r.worst);
                checked++;
            }
    /* quadratic with 5 outputs, cross-entropy with sigmoid, log-likelihood with softmax */
    assert_int_equal(checked, 4 * (5 + 1 + 1));
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
static double broken_value(const activation *out, const double *z, const double *a,
                           const double *y, size_t rows, size_t cols)
{
    return cost_find("quadratic")->value(out, z, a, y, rows, cols) * 2.0;
}

static void test_checker_detects_wrong_gradient(void **state)
{
    (void)state;
    cost broken = *cost_find("quadratic");
    broken.value = broken_value;    /* cost doubled, δ unchanged: gradients off by 2 */
    gradcheck_spec spec;
    gradcheck_defaults(&spec);
    spec.cost = &broken;
    spec.output = activation_find("sigmoid");
    gradcheck_result r;
    assert_int_equal(gradcheck_run(&spec, &r, NULL), MLP_OK);
    assert_false(r.passed);
    assert_true(fabs(r.worst - 1.0 / 3.0) < 1e-3);  /* |g − 2g| / (|g| + |2g|) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_pairs_pass),
        cmocka_unit_test(test_question_failures),
        cmocka_unit_test(test_checker_detects_wrong_gradient),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
