/* test_numerics.c — the forward values of every activation, the value of every
 * cost (saturated outputs included), the initializers' distributions and the
 * accuracy count, each against a computation written here independently of the
 * code under test (long double where the reference needs the headroom). The
 * gradients are checked elsewhere (test_gradcheck.c), but a gradient check
 * compares backprop with the same forward code: it cannot see an activation or
 * cost that computes the wrong function with a consistent derivative. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

#include <gsl/gsl_rng.h>

#include "activation.h"
#include "cost.h"
#include "init.h"
#include "train.h"

/* |got − want| within a few units in the last place of want (subnormal and
 * zero results: within the smallest normal number). */
static void assert_ulps(double got, long double want, const char *what, double at)
{
    long double tolerance = 4.0L * DBL_EPSILON * fabsl(want);
    if (tolerance < DBL_MIN)
        tolerance = DBL_MIN;
    if (!(fabsl((long double)got - want) <= tolerance))
        fail_msg("%s at %g: got %.17g, want %.17Lg", what, at, got, want);
}

/* Weighted inputs from the ordinary to far into saturation. */
static const double zs[] = {-800.0, -40.0, -3.5, -1.0, -1e-9, 0.0, 1e-9, 0.25, 1.0, 3.5, 40.0, 800.0};
enum { NZ = sizeof zs / sizeof zs[0] };

static void apply(const char *name, const double *z, double *a, size_t rows, size_t cols)
{
    const activation *f = activation_find(name);
    assert_non_null(f);
    f->apply(z, a, rows, cols);
}

static void test_elementwise_activations(void **state)
{
    (void)state;
    double a[NZ];
    apply("sigmoid", zs, a, 1, NZ);
    for (size_t i = 0; i < NZ; i++) {
        assert_ulps(a[i], 1.0L / (1.0L + expl(-(long double)zs[i])), "sigmoid", zs[i]);
        assert_true(a[i] >= 0.0 && a[i] <= 1.0);
    }
    apply("tanh", zs, a, 1, NZ);
    for (size_t i = 0; i < NZ; i++) {
        /* tanh z = (1 − e^{−2z}) / (1 + e^{−2z}) for z ≥ 0, odd; e^{−2z} ≤ 1, no overflow */
        long double z = fabsl((long double)zs[i]), e = expl(-2.0L * z);
        long double t = (1.0L - e) / (1.0L + e);
        long double want = zs[i] < 0 ? -t : t;
        /* near 0 the formula cancels: there tanh z = z to within z³/3 */
        if (z < 1e-6L)
            want = zs[i];
        assert_ulps(a[i], want, "tanh", zs[i]);
    }
    apply("relu", zs, a, 1, NZ);
    for (size_t i = 0; i < NZ; i++)
        assert_true(a[i] == (zs[i] > 0.0 ? zs[i] : 0.0));
    apply("linear", zs, a, 1, NZ);
    assert_memory_equal(a, zs, sizeof zs);
}

/* Softmax row by row, its rows summing to 1, finite for |z| in the hundreds
 * (where e^z alone overflows). */
static void test_softmax(void **state)
{
    (void)state;
    const double z[3][4] = {{1.0, 2.0, 3.0, 4.0},
                            {1000.0, 1001.0, 999.0, -1000.0},
                            {-800.0, -801.0, -800.0, -1e6}};
    double a[3][4];
    apply("softmax", &z[0][0], &a[0][0], 3, 4);
    for (size_t r = 0; r < 3; r++) {
        long double max = z[r][0], sum = 0.0L;
        for (size_t c = 1; c < 4; c++)
            max = z[r][c] > max ? z[r][c] : max;
        for (size_t c = 0; c < 4; c++)
            sum += expl((long double)z[r][c] - max);
        double row_sum = 0.0;
        for (size_t c = 0; c < 4; c++) {
            assert_ulps(a[r][c], expl((long double)z[r][c] - max) / sum, "softmax", z[r][c]);
            row_sum += a[r][c];
        }
        assert_true(fabs(row_sum - 1.0) <= 4 * DBL_EPSILON);
    }
}

static double cost_of(const char *cost_name, const char *output, const double *z, const double *y,
                      size_t rows, size_t cols)
{
    const cost *c = cost_find(cost_name);
    const activation *out = activation_find(output);
    assert_non_null(c);
    assert_non_null(out);
    double a[16];
    assert_true(rows * cols <= 16);
    out->apply(z, a, rows, cols);
    return cost_total(c, out, z, a, y, rows, cols);
}

/* Each cost summed over a batch, from its definition: the quadratic
 * ½ Σ (a − y)², cross-entropy −Σ [y ln a + (1 − y) ln(1 − a)] of a sigmoid,
 * whose logs are −ln(1 + e^{∓z}) (long double: e^z fits up to z ≈ 11356),
 * and the log-likelihood −Σ y ln a of a softmax. At z = ±40 and ±800 the
 * sigmoid's a rounds to 0 or 1 in double, and ln(1 − a) to −inf: docs/numerics.md
 * promises a finite, exact cost there. */
static void test_cost_values(void **state)
{
    (void)state;
    /* quadratic on a linear output: a = z */
    const double zq[4] = {0.5, -1.0, 2.0, 0.0}, yq[4] = {1.0, 0.0, 1.0, 0.0};
    assert_ulps(cost_of("quadratic", "linear", zq, yq, 2, 2),
                0.5L * (0.25L + 1.0L + 1.0L + 0.0L), "quadratic", 0);

    const double zc[8] = {-800.0, -40.0, -1.0, 0.0, 0.5, 40.0, 800.0, 3.0};
    const double yc[8] = {0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.3};
    long double want = 0.0L;
    for (size_t i = 0; i < 8; i++) {
        long double z = zc[i];
        long double log_a = -log1pl(expl(-z)), log_1_minus_a = -log1pl(expl(z));
        want -= yc[i] * log_a + (1.0L - yc[i]) * log_1_minus_a;
    }
    double got = cost_of("cross-entropy", "sigmoid", zc, yc, 2, 4);
    assert_true(isfinite(got));
    assert_ulps(got, want, "cross-entropy", 0);
    /* one saturated, wrong output alone: y = 0 at z = 800 costs 800 */
    const double z800 = 800.0, y0 = 0.0;
    assert_ulps(cost_of("cross-entropy", "sigmoid", &z800, &y0, 1, 1), 800.0L, "cross-entropy", 800);

    const double zl[6] = {1000.0, 0.0, -1000.0, 0.1, 0.2, 0.3};
    const double yl[6] = {0.0, 1.0, 0.0, 0.0, 0.0, 1.0};
    long double lse0 = 1000.0L + logl(1.0L + expl(-1000.0L) + expl(-2000.0L));
    long double lse1 = logl(expl(0.1L) + expl(0.2L) + expl(0.3L));
    got = cost_of("log-likelihood", "softmax", zl, yl, 2, 3);
    assert_true(isfinite(got));
    assert_ulps(got, (lse0 - 0.0L) + (lse1 - 0.3L), "log-likelihood", 0);
}

/* ---- the initializers' distributions ------------------------------------
 * Each draws N(0, σ²) with σ² as init.h says. For N independent draws the
 * sample mean has standard deviation σ/√N and the sample variance
 * σ²·√(2/(N − 1)), so with N = 40,000 (weights) and 20,000 (biases) a bound
 * of 5 standard deviations is σ·0.025 for the mean and 3.5 % (5 %) of σ² for
 * the variance: a correct initializer lies outside it with probability below
 * 10⁻⁶ (and the seed is fixed, so the test is deterministic), while the
 * mistakes that matter — n_in for n_out, 1/n for 2/n, σ for σ² — change the
 * variance by a factor of 2 or more. rows ≠ cols, so that n_in and n_out differ. */

static void sample_stats(const double *x, size_t n, double *mean, double *variance)
{
    long double sum = 0.0L, squares = 0.0L;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    long double m = sum / (long double)n;
    for (size_t i = 0; i < n; i++)
        squares += (x[i] - m) * (x[i] - m);
    *mean = (double)m;
    *variance = (double)(squares / (long double)(n - 1));
}

static void assert_normal(const double *x, size_t n, double sigma2, const char *what)
{
    double mean, variance;
    sample_stats(x, n, &mean, &variance);
    double mean_bound = 5.0 * sqrt(sigma2 / (double)n);
    double variance_bound = 5.0 * sigma2 * sqrt(2.0 / (double)(n - 1));
    if (!(fabs(mean) <= mean_bound))
        fail_msg("%s: mean %g, expected 0 ± %g", what, mean, mean_bound);
    if (!(fabs(variance - sigma2) <= variance_bound))
        fail_msg("%s: variance %g, expected %g ± %g", what, variance, sigma2, variance_bound);
}

static void assert_zero(const double *x, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (x[i] != 0.0)
            fail_msg("%s[%zu] = %g, expected 0", what, i, x[i]);
}

static void test_initializer_distributions(void **state)
{
    (void)state;
    enum { ROWS = 100, COLS = 400, BIAS_ROWS = 20000 };
    double *weights = malloc(ROWS * COLS * sizeof *weights);
    double *biases = malloc(BIAS_ROWS * sizeof *biases);
    double *scratch = malloc(BIAS_ROWS * sizeof *scratch);
    assert_non_null(weights);
    assert_non_null(biases);
    assert_non_null(scratch);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    assert_non_null(rng);
    const struct {
        const char *name;
        double weight_variance, bias_variance;  /* bias_variance 0: biases are 0 */
    } expected[] = {
        {"large", 1.0, 1.0},
        {"scaled", 1.0 / COLS, 1.0},
        {"xavier", 2.0 / (ROWS + COLS), 0.0},
        {"he", 2.0 / COLS, 0.0},
    };
    for (size_t k = 0; k < sizeof expected / sizeof expected[0]; k++) {
        const initializer *init = init_find(expected[k].name);
        assert_non_null(init);
        assert_non_null(init->fill);
        gsl_rng_set(rng, 1 + k);
        init->fill(rng, weights, scratch, ROWS, COLS);
        assert_normal(weights, ROWS * COLS, expected[k].weight_variance, expected[k].name);
        /* the biases of a layer of BIAS_ROWS neurons with one input each */
        init->fill(rng, scratch, biases, BIAS_ROWS, 1);
        if (expected[k].bias_variance > 0.0)
            assert_normal(biases, BIAS_ROWS, expected[k].bias_variance, expected[k].name);
        else
            assert_zero(biases, BIAS_ROWS, expected[k].name);
    }
    assert_null(init_find("fixed")->fill);   /* draws nothing: values come from the config */
    gsl_rng_free(rng);
    free(scratch);
    free(biases);
    free(weights);
}

/* ---- accuracy and the reported cost over a part ---------------------------
 * A linear 3-3 network with identity weights and zero biases outputs its
 * input, so its prediction is the argmax of the input row, counted here.
 * 2,537 examples: many evaluation chunks (train.c evaluates a few hundred
 * rows at a time at most) and a short last one, so the count and the cost
 * must add up across chunks. */
static void test_accuracy_and_cost_over_a_part(void **state)
{
    (void)state;
    enum { N = 2537, K = 3 };
    double *x = malloc(N * K * sizeof *x), *y = malloc(N * K * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    size_t correct = 0;
    long double total = 0.0L;
    for (size_t i = 0; i < N; i++) {
        size_t truth = (i * 7) % K, guess = 0;
        for (size_t j = 0; j < K; j++) {
            x[i * K + j] = sin(0.37 * (double)(i * K + j));
            y[i * K + j] = j == truth;
            if (x[i * K + j] > x[i * K + guess])
                guess = j;
            total += 0.5L * ((long double)x[i * K + j] - y[i * K + j]) *
                    ((long double)x[i * K + j] - y[i * K + j]);
        }
        correct += guess == truth;
    }
    double identity[K * K] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, zero[K] = {0, 0, 0};
    mlp_config config;
    test_config_network(&config, "inline", 2, (const int[]){K, K}, "sigmoid", "linear",
                        "quadratic", "fixed");
    config.fixed_weights[0] = identity;
    config.fixed_biases[0] = zero;
    config.batch_size = 10;
    config.l2 = 0.0;
    dataset data;
    memset(&data, 0, sizeof data);
    data.input_size = K;
    data.output_size = K;
    data.has_classes = 1;
    data_part part = {.count = N, .input_size = K, .output_size = K, .inputs = x, .targets = y};
    data.train = part;
    trainer *t = NULL;
    mlp_error err = {0};
    assert_int_equal(trainer_new(&config, &data, &t, &err), MLP_OK);
    double measured_cost, accuracy;
    trainer_measure(t, &part, &measured_cost, &accuracy);
    assert_true(correct > N / 4 && correct < N);       /* the count is not trivial */
    assert_true(accuracy == (double)correct / N);
    assert_ulps(measured_cost, total / N, "cost over a part", 0);
    data_part empty = {0};
    trainer_measure(t, &empty, &measured_cost, &accuracy);
    assert_true(isnan(measured_cost) && isnan(accuracy));
    trainer_free(t);
    free(y);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_elementwise_activations),
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_cost_values),
        cmocka_unit_test(test_initializer_distributions),
        cmocka_unit_test(test_accuracy_and_cost_over_a_part),
    };
    return cmocka_run_group_tests_name("numerics", tests, NULL, NULL);
}
