/* test_kernels.c — the kernel variants of kernels.h: exact conversion, agreement
 * with a naive reference, sparse = dense, and every variant the same bits.
 * Each variant this CPU has is called through its table entry, all in one
 * process; a variant is skipped only where the CPU lacks its instructions. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

#include "diagnostics.h"
#include "exponential.h"
#include "gradcheck.h"
#include "kernels.h"
#include "logarithm.h"
#include "train.h"

/* The variants this CPU runs; fails if even the portable one is missing. */
static size_t runnable(const kernel_variant **out)
{
    size_t count, n = 0;
    const kernel_variant *const *table = kernels_table(&count);
    for (size_t i = 0; i < count; i++) {
        if (table[i]->cpu_supports())
            out[n++] = table[i];
        else
            printf("note: this CPU lacks %s (%s): not tested here\n", table[i]->name,
                   table[i]->description);
    }
    assert_true(n >= 1 && strcmp(out[0]->name, "portable") == 0);
    return n;
}

static void test_conversion_is_the_division(void **state)
{
    (void)state;
    const kernel_variant *v[8];
    size_t nv = runnable(v);
    unsigned char bytes[256 + 13];
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (unsigned char)(i * 7 + 3);
    for (size_t i = 0; i < 256; i++)
        bytes[i] = (unsigned char)i;
    double got[sizeof bytes];
    for (size_t k = 0; k < nv; k++)
        for (size_t n = 0; n <= sizeof bytes; n += n < 20 ? 1 : 37) {
            memset(got, 0xff, sizeof got);
            v[k]->convert_bytes(bytes, n, got);
            for (size_t i = 0; i < n; i++) {
                double want = (double)bytes[i] / 255.0;
                if (memcmp(&got[i], &want, sizeof want) != 0)
                    fail_msg("%s: byte %u gives %.17g, not %.17g", v[k]->name, bytes[i], got[i],
                             want);
            }
            if (n < sizeof bytes)   /* nothing written past the end */
                assert_true(isnan(got[n]));
        }
}

/* Arguments for the exponential: every range the algorithm treats apart
 * (tiny, the main path, 512 <= |x| < 1024 with subnormal and overflowing
 * results, beyond, ±0, ±inf, NaN) and a sweep of the range sigmoid meets. */
static size_t exponential_arguments(double *x, size_t most)
{
    static const double special[] = {0.0, -0.0, 0x1p-60, -0x1p-60, 0x1p-54, -0x1p-54,
                                     0x1.fffffffffffffp-55, 1e-300, 5e-324, 1.0, -1.0,
                                     0.5 * M_LN2 / 128, 511.999, 512.0, -512.0, 700.0,
                                     709.78, 709.79, 710.0, -708.39, -708.4, -720.5, -740.0,
                                     -745.13, -745.14, -746.0, 1023.9, -1023.9, 1024.0,
                                     -1024.0, 1e300, -1e300, INFINITY, -INFINITY, NAN};
    size_t n = 0;
    for (size_t i = 0; i < sizeof special / sizeof *special && n < most; i++)
        x[n++] = special[i];
    uint64_t state = 88172645463325252u;
    while (n < most) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        double unit = (double)(state >> 11) * 0x1p-53;      /* [0, 1) */
        x[n] = n % 3 == 0 ? (unit - 0.5) * 80.0 : n % 3 == 1 ? (unit - 0.5) * 1600.0
                                                         : (unit - 0.5) * 1e-6;
        n++;
    }
    return n;
}

static int same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

/* |got − want| in units of the last place of want (a normal double's). */
static double ulps_from(double got, long double want)
{
    int exponent;
    frexp((double)want, &exponent);
    long double ulp = ldexpl(1.0L, exponent - 53);
    return (double)(fabsl((long double)got - want) / ulp);
}

/* Fails the test when name(x) = got lies more than bound ulp from want; *worst
 * keeps the largest error seen. */
static void check_ulps(const char *name, double x, double got, long double want, double bound,
                       double *worst)
{
    double error = ulps_from(got, want);
    if (error > *worst)
        *worst = error;
    if (error > bound)
        fail_msg("%s(%a) = %a, %.3f ulp from %La", name, x, got, error, want);
}

/* exponential() against long double expl: within 0.52 ulp of the true value
 * (the algorithm's bound) on the main path, and the right limits outside. */
static void test_exponential_is_accurate(void **state)
{
    (void)state;
    static double x[200000];
    size_t n = exponential_arguments(x, sizeof x / sizeof *x);
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double got = exponential(x[i]);
        long double want = expl((long double)x[i]);
        if (isnan(x[i])) {
            assert_true(isnan(got));
            continue;
        }
        if (want > (long double)DBL_MAX) {
            assert_true(got == INFINITY);
            continue;
        }
        if (want < (long double)DBL_MIN) {     /* subnormal: an absolute bound */
            assert_true(fabsl((long double)got - want) <= 0x1p-1074L);
            continue;
        }
        check_ulps("exponential", x[i], got, want, 0.52, &worst);
    }
    printf("exponential: worst %.3f ulp over %zu arguments\n", worst, n);
    /* The table: s_k is 2^(k/128) rounded, and s_k (1 + t_k) closer still. */
    for (int k = 0; k < 128; k++) {
        uint64_t bits = EXPONENTIAL_TABLE[2 * k + 1] + ((uint64_t)k << 45);
        double s, t;
        memcpy(&s, &bits, sizeof s);
        memcpy(&t, &EXPONENTIAL_TABLE[2 * k], sizeof t);
        long double exact = exp2l((long double)k / 128.0L);
        assert_true(fabsl((long double)s - exact) <= 0x1p-53L * exact);
        assert_true(fabsl((long double)s * (1.0L + (long double)t) - exact) <= 0x1p-62L * exact);
    }
}

/* A kernel entry y[i] = f(x[i]) (exp_values, sigmoid_values, log1p_values). */
typedef void (*values_kernel)(const double *x, size_t n, double *y);

static values_kernel exp_entry(const kernel_variant *v)
{
    return v->exp_values;
}

static values_kernel sigmoid_entry(const kernel_variant *v)
{
    return v->sigmoid_values;
}

static values_kernel log1p_entry(const kernel_variant *v)
{
    return v->log1p_values;
}

static double sigmoid_of(double z)
{
    return 1.0 / (1.0 + exponential(-z));
}

/* Every variant's entry gives the scalar function's doubles for x[0 .. n), at
 * every length around the vector widths and from several starting points,
 * writing nothing past the end, in place too. */
static void assert_same_as_scalar(values_kernel (*entry)(const kernel_variant *),
                                  double (*scalar)(double), const char *what, const double *x,
                                  size_t n)
{
    const kernel_variant *v[8];
    size_t nv = runnable(v);
    static double y[20000 + 1], inplace[20000];
    assert_true(n <= 20000);
    for (size_t k = 0; k < nv; k++)
        for (size_t len = 0; len <= n; len += len < 40 ? 1 : len < 200 ? 37 : 9973) {
            size_t start = len % 7;
            size_t count = len - (len > start ? start : len);
            y[count] = 42.0;
            entry(v[k])(x + start, count, y);
            assert_true(y[count] == 42.0);  /* nothing past the end */
            for (size_t i = 0; i < count; i++)
                if (!same_double(y[i], scalar(x[start + i])))
                    fail_msg("%s %s(%a) = %a, the scalar function gives %a", v[k]->name, what,
                             x[start + i], y[i], scalar(x[start + i]));
            memcpy(inplace, x + start, count * sizeof *x);
            entry(v[k])(inplace, count, inplace);
            assert_memory_equal(inplace, y, count * sizeof *y);
        }
}

/* Every variant's exp_values and sigmoid_values give exponential()'s doubles;
 * and, on a CPU with FMA (where glibc takes its FMA code), the same as glibc's
 * exp, which is the claim that adopting it changed no recorded result. */
static void test_exponential_same_in_every_variant(void **state)
{
    (void)state;
    static double x[20000];
    size_t n = exponential_arguments(x, sizeof x / sizeof *x);
    assert_same_as_scalar(exp_entry, exponential, "exp_values", x, n);
    assert_same_as_scalar(sigmoid_entry, sigmoid_of, "sigmoid_values", x, n);
    if (__builtin_cpu_supports("fma") && __builtin_cpu_supports("avx2")) {
        for (size_t i = 0; i < n; i++)
            if (!same_double(exp(x[i]), exponential(x[i])))
                fail_msg("glibc exp(%a) = %a, exponential gives %a", x[i], exp(x[i]),
                         exponential(x[i]));
    } else {
        printf("note: no FMA here, so glibc's exp takes another code path: not compared\n");
    }
}

/* Arguments of ln(1 + x) over its whole range [0, 1]: uniform, and e^−t for t
 * up to 745 (what the cross-entropy cost gives it), with 0, 1, the smallest
 * subnormal, √2 − 1 (where k switches) and its neighbours, and NaN. */
static size_t log1p_arguments(double *x, size_t most)
{
    static const double special[] = {0.0, 1.0, 0x1p-1074, 0x1p-1022, 0x1p-53, 0x1p-52,
                                     0x1.6a09e667f3bccp-2, 0x1.6a09e667f3bcdp-2,
                                     0x1.6a09e667f3bcep-2, 0.5, NAN};
    size_t n = 0;
    for (; n < sizeof special / sizeof *special; n++)
        x[n] = special[n];
    unsigned seed = 11;
    for (; n < most; n++) {
        seed = seed * 1103515245u + 12345u;
        double t = (double)(seed >> 8) / (double)(1u << 24);
        x[n] = n % 2 ? t : exp(-745.0 * t);
    }
    return n;
}

/* log1p_unit within 1 ulp of the true value (long double), as libm's log1p. */
static void test_log1p_is_accurate(void **state)
{
    (void)state;
    static double x[200000];
    size_t n = log1p_arguments(x, sizeof x / sizeof *x);
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double got = log1p_unit(x[i]);
        if (isnan(x[i])) {
            assert_true(isnan(got));
            continue;
        }
        long double want = log1pl((long double)x[i]);
        if (want == 0.0L) {
            assert_true(got == 0.0);
            continue;
        }
        check_ulps("log1p_unit", x[i], got, want, 1.0, &worst);
    }
    printf("log1p_unit: worst %.3f ulp over %zu arguments\n", worst, n);
}

/* Every variant's log1p_values gives log1p_unit's doubles. */
static void test_log1p_same_in_every_variant(void **state)
{
    (void)state;
    static double x[20000];
    size_t n = log1p_arguments(x, sizeof x / sizeof *x);
    assert_same_as_scalar(log1p_entry, log1p_unit, "log1p_values", x, n);
}

/* Every variant lists exactly the nonzero positions (−0 is zero, NaN is not),
 * for lengths around every vector width. */
static void test_list_nonzero(void **state)
{
    (void)state;
    const kernel_variant *v[8];
    size_t nv = runnable(v);
    double x[100];
    for (size_t i = 0; i < 100; i++)
        x[i] = i % 3 == 0 ? 0.0 : (double)i;
    x[4] = -0.0;
    x[9] = NAN;
    x[30] = 0.0;
    for (size_t k = 0; k < nv; k++)
        for (size_t n = 0; n <= 100; n++) {
            uint32_t got[100 + KERNELS_LIST_SLACK];
            size_t count = v[k]->list_nonzero(x, n, got), want = 0;
            for (size_t i = 0; i < n; i++)
                if (x[i] != 0.0) {
                    if (want >= count || got[want] != i)
                        fail_msg("%s, n = %zu: entry %zu should be %zu", v[k]->name, n, want, i);
                    want++;
                }
            assert_int_equal(count, want);
        }
}

/* list_nonzero_any lists the inputs nonzero in some row and counts every
 * nonzero, for widths around every vector width and 1 to 5 rows. */
static void test_list_nonzero_any(void **state)
{
    (void)state;
    const kernel_variant *v[8];
    size_t nv = runnable(v);
    double x[5 * 40];
    for (size_t i = 0; i < 5 * 40; i++)
        x[i] = (i * 7) % 11 < 2 ? (double)i : 0.0;
    x[3] = -0.0;
    x[50] = NAN;
    for (size_t k = 0; k < nv; k++)
        for (size_t rows = 1; rows <= 5; rows++)
            for (size_t n = 0; n <= 40; n++) {
                uint32_t got[40 + KERNELS_LIST_SLACK];
                size_t nonzeros = 0, want_nonzeros = 0, want = 0;
                size_t count = v[k]->list_nonzero_any(x, rows, n, got, &nonzeros);
                for (size_t i = 0; i < n; i++) {
                    int used = 0;
                    for (size_t r = 0; r < rows; r++) {
                        used |= x[r * n + i] != 0.0;
                        want_nonzeros += x[r * n + i] != 0.0;
                    }
                    if (used) {
                        if (want >= count || got[want] != i)
                            fail_msg("%s, %zu rows of %zu: entry %zu should be %zu", v[k]->name,
                                     rows, n, want, i);
                        want++;
                    }
                }
                assert_int_equal(count, want);
                assert_int_equal(nonzeros, want_nonzeros);
            }
}

/* A batch with about `density` of its inputs nonzero (exact zeros elsewhere). */
static void fill_batch(double *x, size_t count, double density, unsigned seed)
{
    srand(seed);
    for (size_t i = 0; i < count; i++) {
        double u = (double)rand() / RAND_MAX;
        x[i] = u < density ? (double)rand() / RAND_MAX - 0.3 : 0.0;
    }
}

static void fill_values(double *x, size_t count, unsigned seed)
{
    srand(seed);
    for (size_t i = 0; i < count; i++)
        x[i] = 2.0 * rand() / RAND_MAX - 1.0;
}

typedef struct sparse_lists {
    uint32_t *row_start, *index, *col_start, *col_row;
    uint32_t *any, *none;       /* inputs nonzero in some row / in none */
    uint32_t *scratch;          /* forward_listed's, with the slack it may write */
    size_t n_any, n_none;
    sparse_rows rows;
    sparse_columns cols;
} sparse_lists;

static void build_lists(sparse_lists *s, const double *x, size_t rows, size_t n_in)
{
    s->row_start = calloc(rows + 1, sizeof *s->row_start);
    s->index = calloc(rows * n_in + 1, sizeof *s->index);
    s->col_start = calloc(n_in + 1, sizeof *s->col_start);
    s->col_row = calloc(rows * n_in + 1, sizeof *s->col_row);
    s->any = calloc(n_in + 1, sizeof *s->any);
    s->none = calloc(n_in + 1, sizeof *s->none);
    s->scratch = calloc(n_in + KERNELS_LIST_SLACK, sizeof *s->scratch);
    s->n_any = s->n_none = 0;
    for (size_t i = 0; i < n_in; i++) {
        int used = 0;
        for (size_t r = 0; r < rows; r++)
            used = used || x[r * n_in + i] != 0.0;
        if (used)
            s->any[s->n_any++] = (uint32_t)i;
        else
            s->none[s->n_none++] = (uint32_t)i;
    }
    size_t n = 0;
    for (size_t r = 0; r < rows; r++) {
        for (size_t i = 0; i < n_in; i++)
            if (x[r * n_in + i] != 0.0)
                s->index[n++] = (uint32_t)i;
        s->row_start[r + 1] = (uint32_t)n;
    }
    n = 0;
    for (size_t i = 0; i < n_in; i++) {
        for (size_t r = 0; r < rows; r++)
            if (x[r * n_in + i] != 0.0)
                s->col_row[n++] = (uint32_t)r;
        s->col_start[i + 1] = (uint32_t)n;
    }
    s->rows = (sparse_rows){.rows = rows, .start = s->row_start, .index = s->index};
    s->cols = (sparse_columns){.inputs = n_in, .start = s->col_start, .row = s->col_row};
}

static void free_lists(sparse_lists *s)
{
    free(s->row_start);
    free(s->index);
    free(s->col_start);
    free(s->col_row);
    free(s->any);
    free(s->none);
    free(s->scratch);
}

/* Relative to the sum of the terms' magnitudes (scale), so that a sum that
 * cancels to nearly 0 is judged by the rounding its terms allow. */
static void assert_close(const char *what, const char *name, const double *got,
                         const double *want, const double *scale, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!(fabs(got[i] - want[i]) <= 1e-12 * scale[i]))
            fail_msg("%s, %s: entry %zu is %.17g, the reference %.17g", what, name, i, got[i],
                     want[i]);
    }
}

static void assert_same_bits(const char *what, const char *name, const double *got,
                             const double *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&got[i], &want[i], sizeof *got) != 0)
            fail_msg("%s, %s: entry %zu is %a, not %a", what, name, i, got[i], want[i]);
}

/* Shapes around every block and tail boundary of every variant. */
static const size_t outputs[] = {1, 3, 4, 5, 8, 10, 13, 30, 31, 32, 33, 48, 64, 100, 129, 200};
static const size_t inputs[] = {1, 7, 61};
static const size_t batch_rows[] = {1, 3, 10, 17};

static void test_forward_against_reference_and_each_other(void **state)
{
    (void)state;
    const kernel_variant *v[8];
    size_t nv = runnable(v);
    for (size_t a = 0; a < sizeof inputs / sizeof *inputs; a++)
        for (size_t b = 0; b < sizeof outputs / sizeof *outputs; b++)
            for (size_t c = 0; c < sizeof batch_rows / sizeof *batch_rows; c++) {
                size_t n_in = inputs[a], n_out = outputs[b], rows = batch_rows[c];
                double *x = malloc(rows * n_in * sizeof *x), *w = malloc(n_in * n_out * sizeof *w);
                double *bias = malloc(n_out * sizeof *bias), *ref = malloc(rows * n_out * sizeof *ref);
                double *first = malloc(rows * n_out * sizeof *first);
                double *z = malloc((rows * n_out + 1) * sizeof *z);
                double *scale = malloc(rows * n_out * sizeof *scale);
                fill_batch(x, rows * n_in, 0.3, (unsigned)(n_in + n_out + rows));
                fill_values(w, n_in * n_out, 11);
                fill_values(bias, n_out, 12);
                for (size_t r = 0; r < rows; r++)
                    for (size_t j = 0; j < n_out; j++) {
                        long double sum = bias[j], size = fabs(bias[j]);
                        for (size_t i = 0; i < n_in; i++) {
                            sum += (long double)x[r * n_in + i] * w[i * n_out + j];
                            size += fabsl((long double)x[r * n_in + i] * w[i * n_out + j]);
                        }
                        ref[r * n_out + j] = (double)sum;
                        scale[r * n_out + j] = (double)size;
                    }
                sparse_lists s;
                build_lists(&s, x, rows, n_in);
                for (size_t k = 0; k < nv; k++) {
                    z[rows * n_out] = 42.0;
                    v[k]->forward_dense(x, rows, n_in, w, n_out, bias, z);
                    assert_true(z[rows * n_out] == 42.0);
                    assert_close("dense forward", v[k]->name, z, ref, scale, rows * n_out);
                    if (k == 0)
                        memcpy(first, z, rows * n_out * sizeof *z);
                    else
                        assert_same_bits("dense forward vs portable", v[k]->name, z, first,
                                         rows * n_out);
                    v[k]->forward_sparse(&s.rows, x, n_in, w, n_out, bias, z);
                    assert_true(z[rows * n_out] == 42.0);
                    assert_same_bits("sparse forward vs portable dense", v[k]->name, z, first,
                                     rows * n_out);
                    memset(z, 0, rows * n_out * sizeof *z);
                    v[k]->forward_listed(x, rows, n_in, w, n_out, bias, z, s.scratch);
                    assert_true(z[rows * n_out] == 42.0);
                    assert_same_bits("listed forward vs portable dense", v[k]->name, z, first,
                                     rows * n_out);
                }
                free_lists(&s);
                free(x);
                free(w);
                free(bias);
                free(ref);
                free(first);
                free(z);
                free(scale);
            }
}

/* forward_listed_bytes with its groups listed beforehand (kernels.h,
 * listed_groups): groups of `size` rows, each listing its own nonzero inputs
 * (list_any_bytes), or, with every_input, all n_in of them. */
static void forward_in_listed_groups(const kernel_variant *v, const unsigned char *const *images,
                                     size_t rows, size_t n_in, const double *w, size_t n_out,
                                     const double *bias, double *z, size_t size, int every_input)
{
    size_t groups = (rows + size - 1) / size;
    size_t *start = malloc((groups + 1) * sizeof *start);
    uint32_t *index = malloc((groups * n_in + KERNELS_LIST_SLACK) * sizeof *index);
    assert_non_null(start);
    assert_non_null(index);
    start[0] = 0;
    for (size_t k = 0; k < groups; k++) {
        size_t here = rows - k * size < size ? rows - k * size : size;
        size_t count = n_in;
        if (every_input)
            for (size_t i = 0; i < n_in; i++)
                index[start[k] + i] = (uint32_t)i;
        else
            count = v->list_any_bytes(images + k * size, here, n_in, index + start[k]);
        start[k + 1] = start[k] + count;
    }
    listed_groups listed = {size, start, index};
    v->forward_listed_bytes(images, rows, n_in, w, n_out, bias, z, NULL, &listed);
    free(start);
    free(index);
}

/* forward_listed_bytes and update_listed_bytes read the bytes as
 * convert_bytes would have converted them, so they give forward_dense's and
 * update_listed's doubles on the converted batch; around
 * the 32- and 64-byte boundaries of the byte lists, and rows that do not
 * fill the last group. Row r's image is wherever images[r] points: here the
 * images in reverse order of memory. */
static void test_forward_from_bytes(void **state)
{
    (void)state;
    for (int p = 0; p < 256; p++) {
        double want = (double)p / 255.0;
        assert_memory_equal(&kernels_byte_value[p], &want, sizeof want);
    }
    const kernel_variant *v[8];
    size_t nv = runnable(v);
    static const size_t byte_inputs[] = {1, 31, 32, 33, 64, 97, 784};
    static const size_t byte_outputs[] = {1, 10, 30, 33, 100};
    static const size_t byte_rows[] = {1, 5, 7, 10, 100};
    for (size_t a = 0; a < sizeof byte_inputs / sizeof *byte_inputs; a++)
        for (size_t b = 0; b < sizeof byte_outputs / sizeof *byte_outputs; b++)
            for (size_t c = 0; c < sizeof byte_rows / sizeof *byte_rows; c++) {
                size_t n_in = byte_inputs[a], n_out = byte_outputs[b], rows = byte_rows[c];
                unsigned char *bytes = malloc(rows * n_in);
                const unsigned char **images = malloc(rows * sizeof *images);
                double *x = malloc(rows * n_in * sizeof *x), *w = malloc(n_in * n_out * sizeof *w);
                double *bias = malloc(n_out * sizeof *bias), *want = malloc(rows * n_out * sizeof *want);
                double *z = malloc((rows * n_out + 1) * sizeof *z);
                uint32_t *scratch = malloc((n_in + KERNELS_LIST_SLACK) * sizeof *scratch);
                uint64_t *row_bits = malloc(n_in * KERNELS_ROW_WORDS(rows) * sizeof *row_bits);
                srand((unsigned)(n_in * 31 + n_out * 7 + rows));
                for (size_t i = 0; i < rows * n_in; i++)
                    bytes[i] = rand() % 10 < 3 ? (unsigned char)(1 + rand() % 255) : 0;
                fill_values(w, n_in * n_out, 13);
                fill_values(bias, n_out, 14);
                for (size_t r = 0; r < rows; r++) {
                    images[r] = bytes + (rows - 1 - r) * n_in;
                    v[0]->convert_bytes(images[r], n_in, x + r * n_in);
                }
                v[0]->forward_dense(x, rows, n_in, w, n_out, bias, want);
                for (size_t k = 0; k < nv; k++) {
                    z[rows * n_out] = 42.0;
                    v[k]->forward_listed_bytes(images, rows, n_in, w, n_out, bias, z, scratch, NULL);
                    assert_true(z[rows * n_out] == 42.0);
                    assert_same_bits("forward from bytes vs portable dense", v[k]->name, z, want,
                                     rows * n_out);
                    /* in groups listed beforehand: of the kernel's size, of one row, and
                     * of three rows listing every input */
                    size_t most = v[k]->listed_group(n_out);
                    for (int form = 0; form < 3; form++) {
                        memset(z, 0, rows * n_out * sizeof *z);
                        forward_in_listed_groups(v[k], images, rows, n_in, w, n_out, bias, z,
                                                 form == 0 ? most : form == 1 ? 1 : 3 < most ? 3 : most, form == 2);
                        assert_true(z[rows * n_out] == 42.0);
                        assert_same_bits("forward in listed groups vs portable dense", v[k]->name,
                                         z, want, rows * n_out);
                    }
                    /* the update from the bytes of the inputs they list: δ is z */
                    size_t listed = v[k]->list_any_bytes(images, rows, n_in, scratch);
                    double *w_doubles = malloc(n_in * n_out * sizeof *w_doubles);
                    double *w_bytes = malloc(n_in * n_out * sizeof *w_bytes);
                    memcpy(w_doubles, w, n_in * n_out * sizeof *w);
                    memcpy(w_bytes, w, n_in * n_out * sizeof *w);
                    v[0]->update_listed(scratch, listed, x, rows, n_in, z, n_out, -0.1, 0.99,
                                        w_doubles, NULL);
                    v[k]->update_listed_bytes(scratch, listed, images, rows, n_in, z, n_out, -0.1,
                                              0.99, w_bytes, row_bits);
                    assert_same_bits("update from bytes vs portable", v[k]->name, w_bytes,
                                     w_doubles, n_in * n_out);
                    free(w_doubles);
                    free(w_bytes);
                }
                free(bytes);
                free(images);
                free(x);
                free(w);
                free(bias);
                free(want);
                free(z);
                free(scratch);
                free(row_bits);
            }
}

/* The update's shapes: the forward's, and batches long enough for the listed
 * update to skip rows (32 and more), over one and several 64-row words and
 * 64-input blocks of its row bits. */
static const size_t update_inputs[] = {1, 7, 61, 130};
static const size_t update_rows[] = {1, 3, 10, 17, 40, 130};

static void test_update_against_reference_and_each_other(void **state)
{
    (void)state;
    const kernel_variant *v[8];
    size_t nv = runnable(v);
    const double betas[] = {1.0, 0.9999, 0.0};
    const double alphas[] = {-0.05, -0.05, 1.0};
    for (size_t a = 0; a < sizeof update_inputs / sizeof *update_inputs; a++)
        for (size_t b = 0; b < sizeof outputs / sizeof *outputs; b++)
            for (size_t c = 0; c < sizeof update_rows / sizeof *update_rows; c++)
                for (size_t p = 0; p < 3; p++) {
                    size_t n_in = update_inputs[a], n_out = outputs[b], rows = update_rows[c];
                    size_t n_w = n_in * n_out;
                    double alpha = alphas[p], beta = betas[p];
                    double *x = malloc(rows * n_in * sizeof *x);
                    double *delta = malloc(rows * n_out * sizeof *delta);
                    double *w0 = malloc(n_w * sizeof *w0), *ref = malloc(n_w * sizeof *ref);
                    double *first = malloc(n_w * sizeof *first), *w = malloc((n_w + 1) * sizeof *w);
                    double *scale = malloc(n_w * sizeof *scale);
                    uint64_t *row_bits = malloc(n_in * KERNELS_ROW_WORDS(rows) * sizeof *row_bits);
                    fill_batch(x, rows * n_in, 0.2, (unsigned)(7 * n_in + n_out + rows));
                    fill_values(delta, rows * n_out, 21);
                    fill_values(w0, n_w, 22);
                    for (size_t i = 0; i < n_in; i++)
                        for (size_t j = 0; j < n_out; j++) {
                            long double g = 0.0L, size = 0.0L;
                            for (size_t r = 0; r < rows; r++) {
                                g += (long double)x[r * n_in + i] * delta[r * n_out + j];
                                size += fabsl((long double)x[r * n_in + i] * delta[r * n_out + j]);
                            }
                            ref[i * n_out + j] =
                                (double)(beta * (long double)w0[i * n_out + j] + alpha * g);
                            scale[i * n_out + j] =
                                (double)(fabsl(beta * (long double)w0[i * n_out + j]) +
                                         fabsl(alpha) * size);
                        }
                    sparse_lists s;
                    build_lists(&s, x, rows, n_in);
                    for (size_t k = 0; k < nv; k++) {
                        memcpy(w, w0, n_w * sizeof *w);
                        w[n_w] = 42.0;
                        v[k]->update_dense(x, rows, n_in, delta, n_out, alpha, beta, w);
                        assert_true(w[n_w] == 42.0);
                        assert_close("dense update", v[k]->name, w, ref, scale, n_w);
                        if (k == 0)
                            memcpy(first, w, n_w * sizeof *w);
                        else
                            assert_same_bits("dense update vs portable", v[k]->name, w, first,
                                             n_w);
                        memcpy(w, w0, n_w * sizeof *w);
                        v[k]->update_sparse(&s.cols, x, n_in, delta, n_out, alpha, beta, w);
                        assert_true(w[n_w] == 42.0);
                        assert_same_bits("sparse update vs portable dense", v[k]->name, w,
                                         first, n_w);
                        /* every row, and skipping each group's all-zero rows */
                        for (int skipping = 0; skipping < 2; skipping++) {
                            memcpy(w, w0, n_w * sizeof *w);
                            v[k]->update_listed(s.any, s.n_any, x, rows, n_in, delta, n_out,
                                                alpha, beta, w, skipping ? row_bits : NULL);
                            v[k]->update_listed(s.none, s.n_none, x, 0, n_in, delta, n_out, alpha,
                                                beta, w, skipping ? row_bits : NULL);
                            assert_true(w[n_w] == 42.0);
                            assert_same_bits(skipping ? "listed update skipping rows vs portable dense"
                                                      : "listed update vs portable dense",
                                             v[k]->name, w, first, n_w);
                        }
                    }
                    free_lists(&s);
                    free(x);
                    free(delta);
                    free(w0);
                    free(ref);
                    free(first);
                    free(w);
                    free(scale);
                    free(row_bits);
                }
}

/* MLPLAB_KERNELS: a name this build lacks is an error naming the choices, a
 * near miss gets a suggestion, and unset means the widest this CPU has. */
static void test_choice_errors(void **state)
{
    (void)state;
    mlp_error err = {0};
    assert_null(kernels_resolve("sse", &err));
    assert_int_equal(err.status, MLP_ERR_CONFIG);
    assert_non_null(strstr(err.message, "MLPLAB_KERNELS=sse is not a kernel variant"));
    assert_non_null(strstr(err.message, "portable, avx2, avx512"));
    mlp_error near = {0};
    assert_null(kernels_resolve("avx-512", &near));
    assert_non_null(strstr(near.message, "did you mean 'avx512'"));
    const kernel_variant *widest = kernels_resolve(NULL, &err);
    assert_non_null(widest);
    assert_true(widest->cpu_supports());
    assert_ptr_equal(kernels_resolve("", &err), widest);
    assert_ptr_equal(kernels_resolve("portable", &err), kernels_find("portable"));
    size_t count;
    const kernel_variant *const *table = kernels_table(&count);
    for (size_t i = 0; i < count; i++) {
        mlp_error e = {0};
        const kernel_variant *v = kernels_resolve(table[i]->name, &e);
        if (table[i]->cpu_supports()) {
            assert_ptr_equal(v, table[i]);
        } else {
            assert_null(v);
            assert_non_null(strstr(e.message, "this CPU lacks"));
        }
    }
}

/* ---- whole trainings: every variant and path, the same bits ---------------- */

enum { EXAMPLES = 60, FEATURES = 20, PIXELS = 70 };

/* An inline data set whose inputs are 60 % exact zeros (one row all zero), so
 * that the automatic path takes the sparse kernels, with one-hot targets. */
typedef struct identity_fixture {
    double inputs[EXAMPLES * FEATURES];
    double targets[EXAMPLES * 8];
    unsigned char pixels[EXAMPLES * PIXELS], labels[EXAMPLES];
    dataset data;
} identity_fixture;

/* Trains on all the examples, validates on the first 20, tests on the last 20. */
static void identity_parts(identity_fixture *f, data_part whole)
{
    f->data.input_size = whole.input_size;
    f->data.output_size = whole.output_size;
    f->data.has_classes = 1;
    f->data.train = whole;
    f->data.validation = whole;
    f->data.validation.count = 20;
    data_part *test = &f->data.test;
    *test = whole;
    test->count = 20;
    if (whole.pixels != NULL) {
        test->pixels += 10 * whole.input_size;
        test->labels += 10;
    } else {
        test->inputs += 10 * whole.input_size;
        test->targets += 10 * whole.output_size;
    }
}

static void identity_data(identity_fixture *f, size_t n_outputs)
{
    memset(f, 0, sizeof *f);
    fill_batch(f->inputs, EXAMPLES * FEATURES, 0.4, 99);
    memset(f->inputs + 3 * FEATURES, 0, FEATURES * sizeof(double));
    for (size_t r = 0; r < EXAMPLES; r++)
        f->targets[r * n_outputs + (r * 7) % n_outputs] = 1.0;
    data_part whole = {.count = EXAMPLES, .input_size = FEATURES, .output_size = n_outputs,
                       .inputs = f->inputs, .targets = f->targets};
    identity_parts(f, whole);
}

/* IDX-like images instead: PIXELS bytes each (two 32-byte blocks and a tail
 * for the byte lists), 60 % zero, one image all zero, and labels; trained and
 * evaluated from the bytes where the path allows (net_trains_from_bytes). */
static void identity_images(identity_fixture *f, size_t n_outputs)
{
    memset(f, 0, sizeof *f);
    srand(98);
    for (size_t i = 0; i < EXAMPLES * PIXELS; i++)
        f->pixels[i] = rand() % 10 < 4 ? (unsigned char)(1 + rand() % 255) : 0;
    memset(f->pixels + 3 * PIXELS, 0, PIXELS);
    for (size_t r = 0; r < EXAMPLES; r++)
        f->labels[r] = (unsigned char)((r * 7) % n_outputs);
    data_part whole = {.count = EXAMPLES, .input_size = PIXELS, .output_size = n_outputs,
                       .pixels = f->pixels, .labels = f->labels};
    identity_parts(f, whole);
}

typedef struct identity_case {
    int sizes[4], n_sizes;
    const char *hidden, *output, *cost;
    double l2;
    int batch;                  /* 7 and 40 do not divide 60 examples; 10, 30 and 60 do;
                                 * from 32 rows the listed update skips rows */
    int images;                 /* 1: identity_images, 0: identity_data */
} identity_case;

static const identity_case identity_cases[] = {
    {{FEATURES, 4}, 2, "sigmoid", "sigmoid", "cross-entropy", 0.0, 7, 0},
    {{FEATURES, 8, 3}, 3, "sigmoid", "sigmoid", "quadratic", 0.0, 10, 0},
    {{FEATURES, 8, 3}, 3, "tanh", "softmax", "log-likelihood", 0.5, 7, 0},
    {{FEATURES, 33, 5}, 3, "relu", "relu", "quadratic", 0.0, 30, 0},
    {{FEATURES, 9, 7, 4}, 4, "sigmoid", "tanh", "quadratic", 0.5, 7, 0},
    {{FEATURES, 9, 7, 4}, 4, "relu", "linear", "quadratic", 0.0, 10, 0},
    {{FEATURES, 17, 6, 5}, 4, "tanh", "sigmoid", "cross-entropy", 0.1, 1, 0},
    {{PIXELS, 30, 10}, 3, "sigmoid", "sigmoid", "cross-entropy", 0.0, 10, 1},
    {{PIXELS, 9, 4}, 3, "relu", "softmax", "log-likelihood", 0.5, 7, 1},
    /* a batch large against its layer: the diagnostics' direct norm, from doubles */
    {{PIXELS, 4, 3}, 3, "sigmoid", "sigmoid", "quadratic", 0.0, 30, 1},
    /* batches long enough for the listed update to skip all-zero rows: one of 40
     * then one of 20 (which takes every row), and the whole set at once */
    {{PIXELS, 30, 10}, 3, "sigmoid", "sigmoid", "cross-entropy", 0.0, 40, 1},
    {{FEATURES, 9, 4}, 3, "relu", "softmax", "log-likelihood", 0.5, 60, 0},
};

/* Everything a run file records but seconds: each epoch's metrics and the
 * final parameters, as bytes. */
typedef struct run_bytes {
    double values[4096];
    size_t count;
} run_bytes;

static void record(run_bytes *out, const double *values, size_t n)
{
    assert_true(out->count + n <= sizeof out->values / sizeof out->values[0]);
    memcpy(out->values + out->count, values, n * sizeof *values);
    out->count += n;
}

static void train_case(const identity_case *c, const kernel_variant *variant,
                       net_input_path path, run_bytes *out)
{
    static identity_fixture f;
    if (c->images)
        identity_images(&f, (size_t)c->sizes[c->n_sizes - 1]);
    else
        identity_data(&f, (size_t)c->sizes[c->n_sizes - 1]);
    mlp_config config;
    test_config_network(&config, "inline", c->n_sizes, c->sizes, c->hidden, c->output, c->cost,
                        "scaled");
    config.epochs = 3;
    config.batch_size = c->batch;
    config.learning_rate = 0.3;
    config.l2 = c->l2;
    config.monitor_train = 1;
    config.seed = 7;
    config.diagnostics = 1;     /* its gradient norms must not depend on the variant either */
    config.saturation_threshold = 0.05;     /* some units of some cases count */
    kernels_set_active(variant);
    trainer *t = NULL;
    mlp_error err = {0};
    assert_int_equal(trainer_new(&config, &f.data, &t, &err), MLP_OK);
    mlp_net *net = trainer_net(t);
    assert_ptr_equal(net->kernels, variant);
    net->input_path = path;
    out->count = 0;
    for (int epoch = 1; epoch <= config.epochs; epoch++) {
        assert_int_equal(trainer_epoch(t, config.learning_rate, NULL, &err), MLP_OK);
        epoch_metrics row;
        memset(&row, 0, sizeof row);
        trainer_evaluate(t, &row);
        double metrics[] = {row.train_cost, row.train_accuracy, row.validation_cost,
                            row.validation_accuracy, row.test_cost, row.test_accuracy,
                            trainer_mean_output(t, &f.data.train)};
        record(out, metrics, sizeof metrics / sizeof *metrics);
        for (size_t k = 0; k < net->n_layers; k++) {
            layer_diagnostics ld = diagnostics_layer(trainer_diagnostics(t), k);
            double values[] = {ld.saturated_fraction, ld.mean_abs_delta,
                               ld.weight_gradient_norm, ld.mean_activation};
            record(out, values, sizeof values / sizeof *values);
        }
    }
    double *const *weights = trainer_weights(t);
    for (size_t k = 0; k < net->n_layers; k++) {
        record(out, weights[k], net->sizes[k] * net->sizes[k + 1]);
        record(out, net->biases[k], net->sizes[k + 1]);
    }
    trainer_free(t);
    kernels_set_active(NULL);
}

static void test_training_identical_across_variants_and_paths(void **state)
{
    (void)state;
    const kernel_variant *v[8];
    size_t nv = runnable(v);
    const net_input_path paths[] = {NET_PATH_DENSE, NET_PATH_SPARSE, NET_PATH_LISTED,
                                    NET_PATH_AUTO};
    const char *path_names[] = {"dense", "sparse", "listed", "auto"};
    static run_bytes reference, other;
    for (size_t c = 0; c < sizeof identity_cases / sizeof *identity_cases; c++) {
        const identity_case *ic = &identity_cases[c];
        train_case(ic, v[0], NET_PATH_DENSE, &reference);
        int finite = 1;
        for (size_t i = 0; i < reference.count; i++)
            finite = finite && isfinite(reference.values[i]);
        assert_true(finite);    /* a diverged case would prove little */
        for (size_t k = 0; k < nv; k++)
            for (size_t p = 0; p < sizeof paths / sizeof *paths; p++) {
                if (k == 0 && p == 0)
                    continue;
                train_case(ic, v[k], paths[p], &other);
                assert_int_equal(other.count, reference.count);
                if (memcmp(other.values, reference.values, reference.count * sizeof(double)) != 0)
                    fail_msg("case %zu (%s/%s/%s, batch %d, l2 %g): %s on the %s path differs "
                             "from portable dense", c, ic->hidden, ic->output, ic->cost,
                             ic->batch, ic->l2, v[k]->name, path_names[p]);
            }
    }
}

/* The gradient check sees the same gradients whichever variant computes them. */
static void test_gradcheck_identical_across_variants(void **state)
{
    (void)state;
    const kernel_variant *v[8];
    size_t nv = runnable(v);
    gradcheck_spec spec;
    gradcheck_defaults(&spec);
    spec.hidden = activation_find("relu");
    spec.output = activation_find("softmax");
    spec.cost = cost_find("log-likelihood");
    gradcheck_result first;
    for (size_t k = 0; k < nv; k++) {
        kernels_set_active(v[k]);
        gradcheck_result result;
        mlp_error err = {0};
        assert_int_equal(gradcheck_run(&spec, &result, &err), MLP_OK);
        assert_true(result.passed);
        if (k == 0)
            first = result;
        else
            assert_memory_equal(result.max_relative_error, first.max_relative_error,
                                sizeof first.max_relative_error);
    }
    kernels_set_active(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conversion_is_the_division),
        cmocka_unit_test(test_exponential_is_accurate),
        cmocka_unit_test(test_exponential_same_in_every_variant),
        cmocka_unit_test(test_log1p_is_accurate),
        cmocka_unit_test(test_log1p_same_in_every_variant),
        cmocka_unit_test(test_forward_against_reference_and_each_other),
        cmocka_unit_test(test_forward_from_bytes),
        cmocka_unit_test(test_update_against_reference_and_each_other),
        cmocka_unit_test(test_list_nonzero),
        cmocka_unit_test(test_list_nonzero_any),
        cmocka_unit_test(test_choice_errors),
        cmocka_unit_test(test_training_identical_across_variants_and_paths),
        cmocka_unit_test(test_gradcheck_identical_across_variants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
