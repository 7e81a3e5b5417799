/* test_diagnostics.c — train.diagnostics on cases whose answers are known:
 *
 *  - Nielsen's single sigmoid neuron (input 1, target 0, quadratic cost,
 *    η = 0.15), against the same gradient descent written out here: δ =
 *    a²(1 − a), w and b each move by η δ. From (2, 2) its slope σ'(z) runs from
 *    0.018 up to 0.06 over the ~150 epochs of its plateau: never below the
 *    default threshold 0.01, so the saturated fraction is 0 at every epoch;
 *    with train.saturation_threshold: 0.05 it is 1 until the slope reaches
 *    0.05 at epoch 136. From (2.5, 2.5) (σ' = 0.0066) it is saturated at the
 *    default until epoch 174, by the same recurrence.
 *  - A ReLU layer whose biases are all negative and weights 0 is dead.
 *  - The gradient norm, through the Gram matrices and through the gradient,
 *    against the gradient written out; on MNIST-shaped batches against the
 *    gradient in long double, within the stated accuracy also when the rows
 *    cancel; the same bits under every kernel variant and as the documented
 *    order written out in plain C; the first layer's input Gram matrix from the
 *    bytes of IDX data, in training and alone; a later layer's Gram matrices at
 *    many shapes.
 *  - A run stopped and resumed has the /diagnostics rows of one that was not.
 *  - train.diagnostics: maybe is refused with file:line:column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_support.h"
#include "test_runs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "activation.h"
#include "config.h"
#include "data.h"
#include "diagnostics.h"
#include "kernels.h"
#include "run.h"
#include "train.h"
#include "store.h"

typedef study_fixture scratch;

static const double *column(const run_file *run, const char *name)
{
    int j = metrics_history_custom_index(&run->history, name);
    if (j < 0)
        fail_msg("the run file has no diagnostics column %s", name);
    return run->history.custom_values[j];
}

static const char neuron[] =
    "dataset:\n  inline: {inputs: [[1.0]], targets: [[0.0]]}\n"
    "network: {sizes: [1, 1], output: sigmoid}\ncost: quadratic\n"
    "init: {fixed: {weights: [[[%g]]], biases: [[%g]]}}\n"
    "train: {epochs: 300, batch_size: 1, learning_rate: 0.15, diagnostics: true,\n"
    "        saturation_threshold: %g}\n";

/* The neuron from (w0, w0) with train.saturation_threshold `threshold`,
 * against the recurrence; returns the first epoch whose slope was not below
 * the threshold (0: none in 300). */
static int check_neuron(const scratch *s, double w0, double threshold)
{
    char text[1024], id[32];
    snprintf(text, sizeof text, neuron, w0, w0, threshold);
    snprintf(id, sizeof id, "n%g-%g", w0, threshold);
    run_file run;
    study_fixture_run(s, id, text, NULL, NULL, &run);
    assert_int_equal(run.history.count, 301);
    const double *saturated = column(&run, "layer1_saturated_fraction");
    const double *abs_delta = column(&run, "layer1_mean_abs_delta");
    const double *gradient = column(&run, "layer1_weight_gradient_norm");
    const double *mean_a = column(&run, "layer1_mean_activation");
    assert_true(isnan(saturated[0]));            /* epoch 0 trains nothing */
    double w = w0, b = w0;
    int first_unsaturated = 0;
    for (int e = 1; e <= 300; e++) {
        double a = 1.0 / (1.0 + exp(-(w + b)));      /* measured on the batch as it trains */
        double delta = a * a * (1.0 - a);            /* (a − y) σ'(z), y = 0 */
        double slope = a * (1.0 - a);
        double expected = slope < threshold ? 1.0 : 0.0;
        if (expected == 0.0 && first_unsaturated == 0)
            first_unsaturated = e;
        if (saturated[e] != expected)
            fail_msg("epoch %d: saturated_fraction %g, expected %g (slope %g)", e, saturated[e],
                     expected, slope);
        assert_true(fabs(abs_delta[e] - delta) <= 1e-12 * delta);
        assert_true(fabs(gradient[e] - delta) <= 1e-12 * delta);   /* input 1: |∂C/∂w| = δ */
        assert_true(fabs(mean_a[e] - a) <= 1e-12);
        w -= 0.15 * delta;
        b -= 0.15 * delta;
    }
    store_run_file_free(&run);
    return first_unsaturated;
}

static void test_single_neuron(void **state)
{
    const scratch *s = *state;
    /* The "saturated for its first ~150 epochs": at the default 0.01,
     * σ'(4) = 0.018 is never below it; the plateau is slow learning, not
     * saturation. At 0.05, a fifth of σ's peak, it is saturated until its
     * slope reaches 0.05 at epoch 136, by the recurrence. */
    assert_int_equal(check_neuron(s, 2.0, DIAGNOSTICS_SLOPE_THRESHOLD), 1);
    assert_int_equal(check_neuron(s, 2.0, 0.05), 136);
    assert_int_equal(check_neuron(s, 2.5, DIAGNOSTICS_SLOPE_THRESHOLD), 174);  /* σ'(5) = 0.0066 */
}

/* Weights 0 and biases −1: every hidden ReLU is 0 for every example. */
static void test_dead_relu_layer(void **state)
{
    const scratch *s = *state;
    const char *layout =
        TEST_XOR_CLASSES_DATASET
        "network: {sizes: [2, 3, 2], activation: relu, output: sigmoid}\n"
        "init: {fixed: {weights: [[[0, 0], [0, 0], [0, 0]], [[1, 1, 1], [1, 1, 1]]],\n"
        "               biases: [[%s], [0, 0]]}}\n"
        "train: {epochs: 3, batch_size: 2, learning_rate: 0.5, diagnostics: true}\n";
    char text[1024];
    snprintf(text, sizeof text, layout, "-1, -1, -1");
    run_file run;
    study_fixture_run(s, "dead", text, NULL, NULL, &run);
    const double *dead = column(&run, "layer1_saturated_fraction");
    for (int e = 1; e <= 3; e++)
        assert_true(dead[e] == 1.0);
    assert_true(column(&run, "layer1_mean_activation")[3] == 0.0);
    assert_true(column(&run, "layer1_mean_abs_delta")[3] == 0.0);   /* no gradient flows back */
    store_run_file_free(&run);

    /* one neuron alive (bias +1): a third of the layer is not dead */
    snprintf(text, sizeof text, layout, "-1, 1, -1");
    study_fixture_run(s, "alive", text, NULL, NULL, &run);
    assert_true(fabs(column(&run, "layer1_saturated_fraction")[1] - 2.0 / 3.0) < 1e-15);
    store_run_file_free(&run);
}

/* ‖(1/m) Σ_r δ_r x_rᵀ‖ equals the norm of the gradient written out, averaged
 * over the batches added: through the Gram matrices (a small batch) and through
 * the gradient (a large batch). */
static void test_gradient_norm(void **state)
{
    (void)state;
    enum { ROWS = 5, IN = 7, OUT = 3 };
    const size_t sizes[2] = {IN, OUT}, hidden_sizes[3] = {1, IN, OUT};
    const activation *acts[2] = {activation_find("tanh"), activation_find("tanh")};
    const double threshold = DIAGNOSTICS_SLOPE_THRESHOLD;
    diagnostics *d = diagnostics_new(1, sizes, acts, ROWS, threshold, NULL);
    diagnostics *hidden = diagnostics_new(2, hidden_sizes, acts, ROWS, threshold, NULL);
    assert_non_null(d);
    assert_non_null(hidden);
    diagnostics_start_epoch(d);
    diagnostics_start_epoch(hidden);
    double expected = 0.0;
    /* 5 rows take the gradient (15 · (7 + 3) Gram products against 5 · 7 · 3),
     * 2 rows the Gram matrices (3 · 10 against 2 · 7 · 3). */
    for (int batch = 0; batch < 2; batch++) {
        int rows = batch == 0 ? ROWS : 2;       /* a short last batch */
        double x[ROWS * IN], delta[ROWS * OUT], a[ROWS * OUT];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < IN; i++)
                x[r * IN + i] = (r + i) % 3 == 0 ? 0.0 : sin(1.0 + r * IN + i + 10 * batch);
        for (int i = 0; i < ROWS * OUT; i++) {
            delta[i] = cos(2.0 + 3 * i + batch);
            a[i] = i % 2 ? 0.999 : 0.5;         /* half the values saturated */
        }
        double squares = 0.0;
        for (int j = 0; j < OUT; j++)
            for (int k = 0; k < IN; k++) {
                double g = 0.0;
                for (int r = 0; r < rows; r++)
                    g += delta[r * OUT + j] * x[r * IN + k];
                squares += (g / rows) * (g / rows);
            }
        expected += sqrt(squares) / 2;
        diagnostics_add_layer(d, 0, a, delta, x, NULL, (size_t)rows);
        if (batch == 1) {       /* a second layer of this shape */
            diagnostics_add_layer(hidden, 1, a, delta, x, NULL, (size_t)rows);
            layer_diagnostics second = diagnostics_layer(hidden, 1);
            double one = sqrt(squares);
            assert_true(fabs(second.weight_gradient_norm - one) <= 1e-13 * one);
        }
    }
    layer_diagnostics got = diagnostics_layer(d, 0);
    assert_true(fabs(got.weight_gradient_norm - expected) <= 1e-13 * expected);
    /* tanh: 1 − a² < 0.01 for a = 0.999, not for 0.5: (7 + 3) of 21 values (15 + 6) */
    assert_true(fabs(got.saturated_fraction - 10.0 / 21.0) < 1e-15);
    diagnostics_start_epoch(d);
    assert_true(isnan(diagnostics_layer(d, 0).mean_abs_delta));
    diagnostics_free(d);
    diagnostics_free(hidden);
}

/* The first layer of a batch of 10 MNIST-like rows (784 inputs, most of them 0,
 * in strokes) with 30 neurons: the shape `make bench` times. */
enum { GRAM_ROWS = 10, GRAM_IN = 784, GRAM_OUT = 30 };

static void mnist_like_batch(int seed, unsigned char *p, double *x, double *delta)
{
    for (int r = 0; r < GRAM_ROWS; r++)
        for (int i = 0; i < GRAM_IN; i++) {
            int row = i / 28, col = i % 28;
            int on = row > 3 + (r + seed) % 5 && row < 24 && col > 6 + r % 4 && col < 20 &&
                     (row * 7 + col * (3 + r) + seed) % 5 != 0;
            p[r * GRAM_IN + i] = (unsigned char)(on ? (i * 37 + r * 11 + seed) % 255 + 1 : 0);
            x[r * GRAM_IN + i] = p[r * GRAM_IN + i] / 255.0;   /* as data_batch scales */
        }
    for (int i = 0; i < GRAM_ROWS * GRAM_OUT; i++)
        delta[i] = 0.1 * sin(0.37 * i + seed) * cos(1.3 * i);
}

/* The squared norm of Σ_r δ_r x_rᵀ (over `rows`), and B = Σ_r ‖δ_r‖ ‖x_r‖, in long
 * double: the gradient itself, no Gram matrices. */
static long double direct_squares(const double *x, const double *delta, int rows, int in, int out,
                                  long double *b)
{
    long double squares = 0.0L;
    for (int j = 0; j < out; j++)
        for (int i = 0; i < in; i++) {
            long double g = 0.0L;
            for (int r = 0; r < rows; r++)
                g += (long double)delta[r * out + j] * x[r * in + i];
            squares += g * g;
        }
    *b = 0.0L;
    for (int r = 0; r < rows; r++) {
        long double xx = 0.0L, dd = 0.0L;
        for (int i = 0; i < in; i++)
            xx += (long double)x[r * in + i] * x[r * in + i];
        for (int j = 0; j < out; j++)
            dd += (long double)delta[r * out + j] * delta[r * out + j];
        *b += sqrtl(xx) * sqrtl(dd);
    }
    return squares;
}

/* The examples 0, 1, … of a batch, for diagnostics_pixels. */
static const size_t in_order[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
                                  18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,
                                  34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49,
                                  50, 51, 52, 53, 54, 55, 56, 57, 58, 59};

/* The squared norm of one batch's gradient as the diagnostics computed it: from
 * the bytes p when not NULL, else from the doubles x. */
static double diagnosed_squares(const unsigned char *p, const double *x, const double *delta,
                                int rows)
{
    const size_t sizes[2] = {GRAM_IN, GRAM_OUT};
    const activation *acts[1] = {activation_find("sigmoid")};
    diagnostics *d = diagnostics_new(1, sizes, acts, GRAM_ROWS, 0.01, NULL);
    assert_non_null(d);
    diagnostics_start_epoch(d);
    diagnostics_pixels pixels = {p, in_order};
    diagnostics_add_layer(d, 0, delta, delta, x, p != NULL ? &pixels : NULL, (size_t)rows);
    double norm = diagnostics_layer(d, 0).weight_gradient_norm * rows;
    diagnostics_free(d);
    return norm * norm;
}

/* Against the gradient in long double: within the accuracy src/diagnostics.c
 * states, (inputs/8 + neurons/8 + rows² + 11) u B² on the squared norm (u =
 * 2⁻⁵³, B = Σ_r ‖δ_r‖ ‖x_r‖), plus 4 u of it for the round trip through the
 * norm; and 10⁻¹⁴ relative when the rows do not cancel. The strong cases:
 * rows alike in x whose δ nearly cancel, down to a gradient 10⁻⁹ of B. Both
 * ways the first layer's input Gram matrix is computed: from the doubles, and
 * from the bytes they were scaled from (the Gram matrix of the exact p / 255,
 * within 3u relative of the doubles', which the bound covers). */
static void test_gradient_norm_accuracy(void **state)
{
    (void)state;
    static unsigned char p[GRAM_ROWS * GRAM_IN];
    static double x[GRAM_ROWS * GRAM_IN], delta[GRAM_ROWS * GRAM_OUT];
    const double u = 0x1p-53;
    const double c = GRAM_IN / 8.0 + GRAM_OUT / 8.0 + GRAM_ROWS * GRAM_ROWS + 11 + 4;
    for (int bytes = 0; bytes < 2; bytes++) {
        for (int seed = 0; seed < 3; seed++) {
            mnist_like_batch(seed, p, x, delta);
            long double b;
            long double exact = direct_squares(x, delta, GRAM_ROWS, GRAM_IN, GRAM_OUT, &b);
            double got = diagnosed_squares(bytes ? p : NULL, x, delta, GRAM_ROWS);
            if (fabsl(got - exact) > 1e-14L * exact)
                fail_msg("seed %d%s: squared norm %.17g, exact %.17Lg", seed,
                         bytes ? ", from bytes" : "", got, exact);
        }
        /* x_1 = x_0 and δ_1 = −(1 − ε) δ_0: the gradient is ε δ_0 x_0ᵀ (and the
         * other rows' terms, scaled to cancel as well). */
        const double epsilons[] = {1e-3, 1e-6, 1e-9};
        for (size_t e = 0; e < sizeof epsilons / sizeof epsilons[0]; e++) {
            mnist_like_batch(7, p, x, delta);
            for (int r = 1; r < GRAM_ROWS; r += 2) {
                memcpy(p + r * GRAM_IN, p + (r - 1) * GRAM_IN, GRAM_IN);
                memcpy(x + r * GRAM_IN, x + (r - 1) * GRAM_IN, GRAM_IN * sizeof *x);
                for (int j = 0; j < GRAM_OUT; j++)
                    delta[r * GRAM_OUT + j] =
                        -(1.0 - epsilons[e]) * delta[(r - 1) * GRAM_OUT + j];
            }
            long double b;
            long double exact = direct_squares(x, delta, GRAM_ROWS, GRAM_IN, GRAM_OUT, &b);
            double got = diagnosed_squares(bytes ? p : NULL, x, delta, GRAM_ROWS);
            assert_true(exact < 1e-5L * b * b);    /* it is a strong cancellation */
            long double bound = c * u * b * b;
            if (fabsl(got - exact) > bound)
                fail_msg("ε %g%s: squared norm %.17g, exact %.17Lg, off by %.3Lg > %.3Lg",
                         epsilons[e], bytes ? ", from bytes" : "", got, exact,
                         fabsl(got - exact), bound);
        }
    }
}

/* The Gram matrices' order written out (src/diagnostics.c): lane l of x_r·x_s is
 * fma(x_r[i], x_s[i], lane) for the i ≡ l mod 8, increasing, from +0, the lanes added as
 * ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)); from bytes, x_r·x_s = (Σ_i p_r[i] p_s[i]) /
 * 255², the sum exact in integers; then Σ_r (D_rr X_rr + Σ_{s>r} (2 D_rs) X_rs).
 * Compiled here without target_clones or intrinsics: the version the library runs
 * gives the same doubles as this plain one. */
static double lane_dot(const double *v, const double *w, int n)
{
    double lane[8] = {0};
    for (int i = 0; i < n; i++)
        lane[i % 8] = fma(v[i], w[i], lane[i % 8]);
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

static double byte_dot(const unsigned char *p, const unsigned char *q, int n)
{
    long sum = 0;
    for (int i = 0; i < n; i++)
        sum += (long)p[i] * q[i];
    return (double)sum / 65025.0;
}

/* The squared norm in that order, of rows of `in` inputs (the bytes p, or the
 * doubles x when p is NULL) and `out` deltas. */
static double reference_squares(const unsigned char *p, const double *x, const double *delta,
                                int rows, int in, int out)
{
    double sum = 0.0;
    for (int r = 0; r < rows; r++)
        for (int s = r; s < rows; s++) {
            double dd = lane_dot(delta + r * out, delta + s * out, out);
            double xx = p != NULL ? byte_dot(p + r * in, p + s * in, in)
                                  : lane_dot(x + r * in, x + s * in, in);
            sum += s == r ? dd * xx : 2.0 * dd * xx;
        }
    return sum;
}

/* The same bits under every kernel variant this CPU runs (each runs its own
 * version of the byte Gram matrix), and as the order written out above; the
 * three ways of computing the norm: the Gram matrices at 10 rows from the doubles
 * and from the bytes, the gradient at 60 (60 · 61 / 2 · (784 + 30) products
 * against 60 · 784 · 30). */
static void test_gradient_norm_same_bits(void **state)
{
    (void)state;
    enum { BIG = 60, WAYS = 3 };
    static unsigned char p[BIG * GRAM_IN];
    static double x[BIG * GRAM_IN], delta[BIG * GRAM_OUT];
    for (int part = 0; part < BIG / GRAM_ROWS; part++)
        mnist_like_batch(11 + part, p + part * GRAM_ROWS * GRAM_IN, x + part * GRAM_ROWS * GRAM_IN,
                         delta + part * GRAM_ROWS * GRAM_OUT);
    const size_t sizes[2] = {GRAM_IN, GRAM_OUT};
    const activation *acts[1] = {activation_find("sigmoid")};
    const char *const ways[WAYS] = {"from doubles", "from bytes", "the gradient"};
    size_t count;
    const kernel_variant *const *table = kernels_table(&count);
    layer_diagnostics first[WAYS];
    int runs = 0;
    for (size_t v = 0; v < count; v++) {
        if (!table[v]->cpu_supports())
            continue;
        kernels_set_active(table[v]);
        for (int way = 0; way < WAYS; way++) {
            int rows = way == 2 ? BIG : GRAM_ROWS;
            diagnostics *d = diagnostics_new(1, sizes, acts, (size_t)rows, 0.01, NULL);
            assert_non_null(d);
            diagnostics_start_epoch(d);
            diagnostics_pixels pixels = {p, in_order};
            diagnostics_add_layer(d, 0, delta, delta, x, way != 0 ? &pixels : NULL,
                                  (size_t)rows);
            layer_diagnostics got = diagnostics_layer(d, 0);
            diagnostics_free(d);
            if (runs == 0)
                first[way] = got;
            else if (memcmp(&got, &first[way], sizeof got) != 0)
                fail_msg("%s: %s: norm %.17g, the first variant gave %.17g", table[v]->name,
                         ways[way], got.weight_gradient_norm, first[way].weight_gradient_norm);
        }
        runs++;
    }
    kernels_set_active(NULL);
    assert_true(runs >= 1);
    for (int way = 0; way < 2; way++) {
        double squares =
            reference_squares(way ? p : NULL, x, delta, GRAM_ROWS, GRAM_IN, GRAM_OUT);
        double norm = sqrt(squares) / GRAM_ROWS;
        if (memcmp(&norm, &first[way].weight_gradient_norm, sizeof norm) != 0)
            fail_msg("%s: norm %.17g, the order written out gives %.17g", ways[way],
                     first[way].weight_gradient_norm, norm);
    }
    /* the two Gram routes differ in the last bits only */
    assert_true(fabs(first[1].weight_gradient_norm - first[0].weight_gradient_norm) <=
                1e-15 * first[0].weight_gradient_norm);
}

/* The byte Gram matrix at other shapes, under every kernel variant, against the
 * order written out: inputs below one block of 64 bytes, exactly one, one and a
 * bit (the last block partial, from a padded copy), several; 1 to 10 rows (every
 * shape one the Gram matrices serve, 30 neurons); bytes
 * of every value, 0 and 255 among them (the VNNI version reads the second factor
 * as q − 128), and rows that are 0 in some blocks and not in others. */
static void test_byte_gram_shapes(void **state)
{
    (void)state;
    enum { OUT = 30, MOST_IN = 300, MOST_ROWS = 10 };
    const int inputs[] = {8, 64, 70, 200, MOST_IN}, row_counts[] = {1, 2, 3, 7, MOST_ROWS};
    static unsigned char p[MOST_ROWS * MOST_IN];
    static double x[MOST_ROWS * MOST_IN], delta[MOST_ROWS * OUT];
    for (int i = 0; i < MOST_ROWS * MOST_IN; i++) {
        int row = i / MOST_IN, at = i % MOST_IN;
        /* blocks 1 (64 … 127) and 3 zero in every row; row 2 all 255 */
        int zero = (at / 64 == 1 || at / 64 == 3 || (at * 7 + row) % 3 == 0) && row != 2;
        p[i] = (unsigned char)(row == 2 ? 255 : zero ? 0 : (i * 97 + 13) % 256);
    }
    for (int i = 0; i < MOST_ROWS * OUT; i++)
        delta[i] = sin(0.9 * i + 0.3);
    size_t count;
    const kernel_variant *const *table = kernels_table(&count);
    for (size_t v = 0; v < count; v++) {
        if (!table[v]->cpu_supports())
            continue;
        kernels_set_active(table[v]);
        for (size_t a = 0; a < sizeof inputs / sizeof inputs[0]; a++)
            for (size_t b = 0; b < sizeof row_counts / sizeof row_counts[0]; b++) {
                int in = inputs[a], rows = row_counts[b];
                assert_true(rows * (rows + 1) / 2 * (in + OUT) <= rows * in * OUT);
                /* the batch: rows of `in` bytes, taken from p's rows 0, 1, … */
                static unsigned char batch[MOST_ROWS * MOST_IN];
                for (int r = 0; r < rows; r++)
                    for (int i = 0; i < in; i++) {
                        batch[r * in + i] = p[r * MOST_IN + i];
                        x[r * in + i] = batch[r * in + i] / 255.0;
                    }
                const size_t sizes[2] = {(size_t)in, OUT};
                const activation *acts[1] = {activation_find("sigmoid")};
                diagnostics *d = diagnostics_new(1, sizes, acts, (size_t)rows, 0.01, NULL);
                assert_non_null(d);
                diagnostics_start_epoch(d);
                diagnostics_pixels pixels = {batch, in_order};
                diagnostics_add_layer(d, 0, delta, delta, x, &pixels, (size_t)rows);
                double got = diagnostics_layer(d, 0).weight_gradient_norm;
                diagnostics_free(d);
                double want = sqrt(reference_squares(batch, NULL, delta, rows, in, OUT)) / rows;
                if (memcmp(&got, &want, sizeof got) != 0)
                    fail_msg("%s: %d rows of %d bytes: norm %.17g, the order written out "
                             "gives %.17g", table[v]->name, rows, in, got, want);
            }
    }
    kernels_set_active(NULL);
}

/* A later layer's Gram matrices (its input, the previous layer's activations, and
 * its δ: each a version of its own under the avx512 variant, which reads the last
 * partial block of 8 through a mask instead of a padded copy) at many shapes,
 * under every kernel variant, against the order written out: rows of 1 to 8
 * doubles, whole blocks and a bit, 1 to 10 rows (odd and even: tiles against
 * one to four rows); values of both signs, zeros among them. */
static void test_dense_gram_shapes(void **state)
{
    (void)state;
    enum { MOST = 100, MOST_ROWS = 10 };
    const int widths[] = {1, 3, 8, 10, 17, 30, 64, MOST}, row_counts[] = {1, 2, 3, 5, 8, MOST_ROWS};
    static double x[MOST_ROWS * MOST], delta[MOST_ROWS * MOST], a[MOST_ROWS * MOST];
    const activation *acts[2] = {activation_find("sigmoid"), activation_find("sigmoid")};
    size_t count;
    const kernel_variant *const *table = kernels_table(&count);
    int checked = 0;
    for (size_t v = 0; v < count; v++) {
        if (!table[v]->cpu_supports())
            continue;
        kernels_set_active(table[v]);
        for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++)
            for (size_t o = 0; o < sizeof widths / sizeof widths[0]; o++)
                for (size_t b = 0; b < sizeof row_counts / sizeof row_counts[0]; b++) {
                    int in = widths[i], out = widths[o], rows = row_counts[b];
                    if (rows * (rows + 1) / 2 * (in + out) > rows * in * out)
                        continue;   /* the gradient's way (test_gradient_norm) */
                    for (int k = 0; k < rows * in; k++)
                        x[k] = k % 5 == 2 ? 0.0 : sin(0.7 * k + in);
                    for (int k = 0; k < rows * out; k++) {
                        delta[k] = cos(1.1 * k + out) * (k % 3 == 0 ? -1e-3 : 1.0);
                        a[k] = 0.5;
                    }
                    const size_t sizes[3] = {(size_t)in, (size_t)in, (size_t)out};
                    diagnostics *d = diagnostics_new(2, sizes, acts, (size_t)rows, 0.01, NULL);
                    assert_non_null(d);
                    diagnostics_start_epoch(d);
                    diagnostics_add_layer(d, 1, a, delta, x, NULL, (size_t)rows);
                    double got = diagnostics_layer(d, 1).weight_gradient_norm;
                    diagnostics_free(d);
                    double want = sqrt(reference_squares(NULL, x, delta, rows, in, out)) / rows;
                    if (memcmp(&got, &want, sizeof got) != 0)
                        fail_msg("%s: %d rows, %d inputs, %d neurons: norm %.17g, the order "
                                 "written out gives %.17g", table[v]->name, rows, in, out, got,
                                 want);
                    checked++;
                }
    }
    kernels_set_active(NULL);
    assert_true(checked >= 100);
}

/* Training on MNIST images (IDX bytes) hands the diagnostics the batch's bytes:
 * the same diagnostics as training on the same images as doubles (an inline data
 * set), bit for bit but the first layer's gradient norm, whose input Gram matrix
 * then comes from the bytes (within 10⁻¹⁵ relative); the same weights; and the
 * same bits under every kernel variant. The right rows reach the diagnostics: a
 * wrong image in a Gram matrix would change the norm in its leading digits. */
enum { TRAIN_IMAGES = 200, TRAIN_EPOCHS = 2, TRAIN_HIDDEN = 20 };

static void train_diagnosed(const dataset *data, const kernel_variant *variant,
                            layer_diagnostics out[TRAIN_EPOCHS][2], double *weight_sum)
{
    mlp_config config;
    test_config_network(&config, "mnist", 3, (const int[]){GRAM_IN, TRAIN_HIDDEN, 10}, "sigmoid",
                        "sigmoid", "cross-entropy", "large");
    config.epochs = TRAIN_EPOCHS;
    config.batch_size = 10;
    config.learning_rate = 0.5;
    config.seed = 5;
    config.diagnostics = 1;
    config.saturation_threshold = DIAGNOSTICS_SLOPE_THRESHOLD;
    kernels_set_active(variant);
    trainer *t = NULL;
    mlp_error err = {0};
    assert_int_equal(trainer_new(&config, data, &t, &err), MLP_OK);
    for (int e = 0; e < TRAIN_EPOCHS; e++) {
        assert_int_equal(trainer_epoch(t, config.learning_rate, NULL, &err), MLP_OK);
        for (size_t k = 0; k < 2; k++)
            out[e][k] = diagnostics_layer(trainer_diagnostics(t), k);
    }
    double *const *weights = trainer_weights(t);
    *weight_sum = 0.0;
    for (size_t i = 0; i < (size_t)GRAM_IN * TRAIN_HIDDEN; i++)
        *weight_sum += weights[0][i] * (double)(i % 7 + 1);
    trainer_free(t);
    kernels_set_active(NULL);
}

static void test_diagnostics_from_bytes_in_training(void **state)
{
    (void)state;
    mlp_config config;
    memset(&config, 0, sizeof config);
    strcpy(config.dataset_name, "mnist");
    config.train_size = TRAIN_IMAGES;
    config.validation_size = 10;
    config.test_size = 10;
    config.n_layers = 3;
    config.sizes[0] = GRAM_IN;
    config.sizes[1] = TRAIN_HIDDEN;
    config.sizes[2] = 10;
    dataset *mnist = NULL;
    mlp_error err = {0};
    if (data_load(&config, &mnist, &err) != MLP_OK)
        fail_msg("%s", err.message);
    /* the same images as doubles, as data_batch scales them */
    static double inputs[TRAIN_IMAGES * GRAM_IN], targets[TRAIN_IMAGES * 10];
    const data_part *train = &mnist->train;
    assert_int_equal(train->count, TRAIN_IMAGES);
    for (size_t i = 0; i < TRAIN_IMAGES * GRAM_IN; i++)
        inputs[i] = train->pixels[i] / 255.0;
    memset(targets, 0, sizeof targets);
    for (size_t i = 0; i < TRAIN_IMAGES; i++)
        targets[i * 10 + train->labels[i]] = 1.0;
    dataset doubles = *mnist;
    data_part as_doubles = {.count = TRAIN_IMAGES, .input_size = GRAM_IN, .output_size = 10,
                            .inputs = inputs, .targets = targets};
    doubles.train = as_doubles;
    doubles.validation = doubles.test = as_doubles;
    doubles.validation.count = doubles.test.count = 10;

    size_t count;
    const kernel_variant *const *table = kernels_table(&count);
    static layer_diagnostics want[TRAIN_EPOCHS][2], got[TRAIN_EPOCHS][2];
    double want_weights = 0.0, got_weights = 0.0;
    train_diagnosed(&doubles, kernels_active(), want, &want_weights);
    int runs = 0;
    for (size_t v = 0; v < count; v++) {
        if (!table[v]->cpu_supports())
            continue;
        train_diagnosed(mnist, table[v], got, &got_weights);
        assert_memory_equal(&got_weights, &want_weights, sizeof got_weights);
        for (int e = 0; e < TRAIN_EPOCHS; e++)
            for (int k = 0; k < 2; k++) {
                layer_diagnostics g = got[e][k], w = want[e][k];
                if (k == 0) {
                    double relative = fabs(g.weight_gradient_norm - w.weight_gradient_norm) /
                                      w.weight_gradient_norm;
                    if (!(relative <= 1e-15))
                        fail_msg("%s: epoch %d: layer 1's gradient norm %.17g from bytes, "
                                 "%.17g from doubles", table[v]->name, e + 1,
                                 g.weight_gradient_norm, w.weight_gradient_norm);
                    g.weight_gradient_norm = w.weight_gradient_norm;
                }
                if (memcmp(&g, &w, sizeof g) != 0)
                    fail_msg("%s: epoch %d, layer %d: diagnostics differ from the doubles'",
                             table[v]->name, e + 1, k + 1);
            }
        if (runs++ == 0)
            memcpy(want, got, sizeof want);     /* then every variant: these bits */
        else
            for (int e = 0; e < TRAIN_EPOCHS; e++)
                assert_memory_equal(&got[e][0], &want[e][0], sizeof got[e][0]);
    }
    assert_true(runs >= 1);
    data_free(mnist);
}

/* Stops the run (as SIGTERM would) once epoch `after` is done. */
typedef struct stop_after {
    int after;
    volatile sig_atomic_t flag;
    int resumed_from;           /* as the last epoch reported it */
} stop_after;

static void stop_when_done(void *context, const run_progress *progress)
{
    stop_after *s = context;
    s->resumed_from = progress->resumed_from;
    if (progress->epoch >= s->after)
        s->flag = 1;
}

/* The /diagnostics dataset of a run file, all its bytes: one row per epoch
 * and layer. */
static void *diagnostics_bytes(const char *path, size_t *size)
{
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    hid_t set = H5Dopen2(file, "/diagnostics", H5P_DEFAULT);
    assert_true(set >= 0);
    hid_t type = H5Dget_type(set);
    hid_t space = H5Dget_space(set);
    hssize_t rows = H5Sget_simple_extent_npoints(space);
    H5Sclose(space);
    *size = (size_t)rows * H5Tget_size(type);
    void *bytes = calloc(1, *size + 1);
    assert_non_null(bytes);
    assert_true(H5Dread(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes) >= 0);
    H5Tclose(type);
    H5Dclose(set);
    H5Fclose(file);
    return bytes;
}

/* A run stopped after epoch 3 and resumed has the same /diagnostics rows, byte
 * for byte, as one that ran straight through: the resumed attempt measures
 * epochs 4 … 8 afresh from the checkpoint, and no row of the stopped epoch
 * survives. */
static void test_diagnostics_after_a_resume(void **state)
{
    const scratch *s = *state;
    const char *text =
        "dataset:\n  inline: {inputs: [[0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0], [0, 0.5]],\n"
        "           targets: [[1, 0], [0, 1], [0, 1], [1, 0], [0, 1], [0, 1]]}\n"
        "network: {sizes: [2, 4, 3, 2], activation: tanh}\ncost: quadratic\n"
        "train: {epochs: 8, batch_size: 4, learning_rate: 0.5, diagnostics: true,\n"
        "        saturation_threshold: 0.2}\n";
    run_file straight;
    char straight_path[512];
    study_fixture_run(s, "straight", text, NULL, straight_path, &straight);
    store_run_file_free(&straight);

    char config_path[512], path[512];
    snprintf(config_path, sizeof config_path, "%s/stopped.yaml", s->dir);
    snprintf(path, sizeof path, "%s/stopped.h5", s->dir);
    test_write_text(config_path, text);
    mlp_config *config = NULL;
    mlp_error err = {0};
    assert_int_equal(config_load(config_path, NULL, 0, &config, &err), MLP_OK);
    stop_after stop = {.after = 3};
    run_options options = {.out_path = path, .resume = 1, .stop = &stop.flag,
                           .on_epoch = stop_when_done, .context = &stop};
    run_summary summary;
    assert_int_equal(run_execute(config, &options, &summary, &err), MLP_ERR_INTERRUPTED);
    stop.after = 1000;
    stop.flag = 0;
    assert_int_equal(run_execute(config, &options, &summary, &err), MLP_OK);
    assert_int_equal(stop.resumed_from, 3);             /* it did resume, from epoch 3 */
    run_file_state peek;
    assert_int_equal(store_peek(path, &peek, &err), MLP_OK);
    assert_int_equal(peek.attempts, 2);
    config_free(config);

    size_t size_a = 0, size_b = 0;
    void *a = diagnostics_bytes(straight_path, &size_a), *b = diagnostics_bytes(path, &size_b);
    assert_int_equal(size_a, size_b);
    assert_int_equal(size_a % (8 * 3), 0);            /* 8 epochs x 3 layers of rows */
    assert_memory_equal(a, b, size_a);
    free(a);
    free(b);
}
static void test_metric_names(void **state)
{
    (void)state;
    assert_true(diagnostics_metric_name("layer2_saturated_fraction"));
    assert_true(diagnostics_metric_name("layer12_mean_activation"));
    assert_false(diagnostics_metric_name("layer0_mean_abs_delta"));
    assert_false(diagnostics_metric_name("layer02_mean_abs_delta"));
    assert_false(diagnostics_metric_name("layer_mean_abs_delta"));
    assert_false(diagnostics_metric_name("layer2_saturation"));
    assert_false(diagnostics_metric_name("layer+2_mean_abs_delta"));
}

static void test_bad_value_is_located(void **state)
{
    const scratch *s = *state;
    char path[512];
    snprintf(path, sizeof path, "%s/bad.yaml", s->dir);
    test_write_text(path, "network: {sizes: [784, 30, 10]}\n"
                          "train: {epochs: 2, diagnostics: maybe}\n");
    mlp_config *config = NULL;
    mlp_error err = {0};
    assert_int_equal(config_load(path, NULL, 0, &config, &err), MLP_ERR_CONFIG);
    assert_null(config);
    char where[600];
    snprintf(where, sizeof where, "%s:2:33: ", path);
    if (strncmp(err.message, where, strlen(where)) != 0)
        fail_msg("expected the error at %s, got:\n%s", where, err.message);
    assert_contains(err.message, "train.diagnostics");

    /* the threshold is a slope above 0 */
    test_write_text(path, "network: {sizes: [784, 30, 10]}\n"
                          "train: {diagnostics: true, saturation_threshold: 0}\n");
    assert_int_equal(config_load(path, NULL, 0, &config, &err), MLP_ERR_CONFIG);
    assert_null(config);
    snprintf(where, sizeof where, "%s:2:50: ", path);
    if (strncmp(err.message, where, strlen(where)) != 0)
        fail_msg("expected the error at %s, got:\n%s", where, err.message);
    assert_contains(err.message, "train.saturation_threshold");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_IN_STUDY(test_single_neuron, study_fixture_setup),
        TEST_IN_STUDY(test_dead_relu_layer, study_fixture_setup),
        cmocka_unit_test(test_gradient_norm),
        cmocka_unit_test(test_gradient_norm_accuracy),
        cmocka_unit_test(test_gradient_norm_same_bits),
        cmocka_unit_test(test_byte_gram_shapes),
        cmocka_unit_test(test_dense_gram_shapes),
        cmocka_unit_test(test_diagnostics_from_bytes_in_training),
        TEST_IN_STUDY(test_diagnostics_after_a_resume, study_fixture_setup),
        cmocka_unit_test(test_metric_names),
        TEST_IN_STUDY(test_bad_value_is_located, study_fixture_setup),
    };
    return cmocka_run_group_tests_name("diagnostics", tests, NULL, NULL);
}
