/* kernels.h — the project's own numeric kernels, in three variants that give
 * the same doubles: portable C (fma() from libm), AVX2+FMA and AVX-512.
 *
 * Why own kernels: a BLAS picks different code per CPU and sums in different
 * orders, so its results change from machine to machine; and no BLAS skips the
 * zero pixels of an image (81 % of MNIST), which is where the speed is
 * (docs/performance.md). Every kernel here computes each output as one chain
 * of fused multiply-adds in a fixed order, which all three variants follow
 * exactly (docs/numerics.md, "Same bits on every CPU"):
 *
 *   forward   z[r][j] = b[j] + Σ_i x[r][i] W[i][j]   (acc = b[j]; for i = 0, 1, …:
 *                                                     acc = fma(x[r][i], W[i][j], acc))
 *   update    g = Σ_r x[r][i] δ[r][j]                  (acc = +0; for r = 0, 1, …:
 *                                                     acc = fma(x[r][i], δ[r][j], acc))
 *             W[i][j] = fma(α, g, β · W[i][j])
 *
 * W is input-major ([inputs x outputs], row stride n_out). A sparse kernel
 * skips the terms whose x is exactly 0; fma(0, w, acc) = acc for finite w, so
 * the sparse and dense kernels give the same doubles (they can differ only
 * once a weight is infinite or NaN, when training has already diverged).
 *
 * The variant in use is chosen once per process from the CPU (the widest it
 * has) or from MLPLAB_KERNELS=portable|avx2|avx512; tests call the table's
 * entries directly. */
#ifndef MLP_KERNELS_H
#define MLP_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Nonzero inputs of a batch, row by row: row r's are the inputs index[start[r]
 * .. start[r+1]), in increasing order (the values stay in the dense batch). */
typedef struct sparse_rows {
    size_t rows;
    const uint32_t *start;      /* rows + 1 entries */
    const uint32_t *index;
} sparse_rows;

/* The same nonzeros, input by input: input i is nonzero in rows
 * row[start[i] .. start[i+1]), in increasing order. */
typedef struct sparse_columns {
    size_t inputs;
    const uint32_t *start;      /* inputs + 1 entries */
    const uint32_t *row;
} sparse_columns;

/* Groups of rows whose nonzero inputs were listed beforehand (an evaluation
 * lists its groups once per run: train.c): group k is rows [k size, (k + 1)
 * size), the last one fewer, and its inputs are index[start[k] ..
 * start[k + 1]), in increasing order (any inputs that include the nonzero
 * ones give the same doubles). */
typedef struct listed_groups {
    size_t size;                /* rows a group: 1 to listed_group(n_out) */
    const size_t *start;        /* an entry per group and one more */
    const uint32_t *index;
} listed_groups;

enum { KERNELS_LIST_SLACK = 16 };

/* 64-bit words of update_listed's row bits an input, for `rows` rows. */
#define KERNELS_ROW_WORDS(rows) (((rows) + 63) / 64)

/* kernels_byte_value[p] = p / 255.0, correctly rounded: what convert_bytes
 * gives for the byte p. */
extern const double kernels_byte_value[256];

typedef struct kernel_variant {
    const char *name;                   /* "portable", "avx2", "avx512" */
    const char *description;            /* for `mlplab info` */
    int (*cpu_supports)(void);          /* 1 if this CPU (and OS) can run it */
    size_t listed_rows;                 /* rows forward_listed serves from each weight
                                           vector it loads (for choosing a path) */
    /* The most rows forward_listed multiplies together for n_out outputs (each
     * group's union of nonzero inputs is multiplied for all of its rows, so an
     * evaluation that groups similar images does fewer multiply-adds). */
    size_t (*listed_group)(size_t n_out);
    /* x[i] = bytes[i] / 255.0, exactly: the correctly rounded quotient. */
    void (*convert_bytes)(const unsigned char *bytes, size_t n, double *x);
    /* Writes the positions i < n with x[i] != 0 (NaN counts as nonzero), in
     * increasing order, to index; returns how many. May write up to
     * KERNELS_LIST_SLACK entries past the last one it returns. */
    size_t (*list_nonzero)(const double *x, size_t n, uint32_t *index);
    /* Writes the inputs i < n_in that are nonzero in at least one row of x
     * [rows x n_in] (NaN counts as nonzero), in increasing order, to index;
     * returns how many, and in *nonzeros the number of nonzero entries of x.
     * The same slack past the last entry as list_nonzero. */
    size_t (*list_nonzero_any)(const double *x, size_t rows, size_t n_in, uint32_t *index,
                               size_t *nonzeros);
    /* z = 1 bᵀ + x W for x [rows x n_in] (row stride n_in), W [n_in x n_out];
     * bias NULL means zeros. */
    void (*forward_dense)(const double *x, size_t rows, size_t n_in, const double *w,
                          size_t n_out, const double *bias, double *z);
    /* The same, from x's nonzeros (s lists them; values read from x). */
    void (*forward_sparse)(const sparse_rows *s, const double *x, size_t n_in, const double *w,
                           size_t n_out, const double *bias, double *z);
    /* The same, dense over groups of rows: each group of up to listed_rows
     * rows lists the inputs nonzero in any of its rows (into scratch, n_in +
     * KERNELS_LIST_SLACK entries) and multiplies only those, sharing each
     * weight vector it loads among its rows. */
    void (*forward_listed)(const double *x, size_t rows, size_t n_in, const double *w,
                           size_t n_out, const double *bias, double *z, uint32_t *scratch);
    /* forward_listed of x[r][i] = kernels_byte_value[images[r][i]], read from
     * the images' bytes (IDX pixels, n_in a row, each row anywhere in memory)
     * without converting them first: the same doubles as converting with
     * convert_bytes and forward_listed. With groups (not NULL), in those
     * groups, from their lists (scratch unused). */
    void (*forward_listed_bytes)(const unsigned char *const *images, size_t rows, size_t n_in,
                                 const double *w, size_t n_out, const double *bias, double *z,
                                 uint32_t *scratch, const listed_groups *groups);
    /* list_nonzero_any of the images (as forward_listed_bytes; without the
     * count of nonzeros). */
    size_t (*list_any_bytes)(const unsigned char *const *images, size_t rows, size_t n_in,
                             uint32_t *index);
    /* W ← β W + α xᵀ δ, x [rows x n_in], δ [rows x n_out] (as above). */
    void (*update_dense)(const double *x, size_t rows, size_t n_in, const double *delta,
                         size_t n_out, double alpha, double beta, double *w);
    /* The same, from x's nonzeros by input (values read from the dense x, row
     * stride n_in); inputs zero in every row are only scaled by β. */
    void (*update_sparse)(const sparse_columns *cols, const double *x, size_t n_in,
                          const double *delta, size_t n_out, double alpha, double beta,
                          double *w);
    /* The update of the listed inputs' weights only, each summed over all the
     * rows (rows 0: they are only scaled by β, as an input zero in every row).
     * With row_bits (scratch of KERNELS_ROW_WORDS(rows) · n_in words) and at
     * least 32 rows, each group of inputs skips the rows in which all of it
     * is zero (the same doubles, fewer multiply-adds: in a batch of 100 MNIST
     * images, half the rows; below 32 rows listing them costs more than it
     * saves); NULL: every row. */
    void (*update_listed)(const uint32_t *inputs, size_t count, const double *x, size_t rows,
                          size_t n_in, const double *delta, size_t n_out, double alpha,
                          double beta, double *w, uint64_t *row_bits);
    /* update_listed of x[r][i] = kernels_byte_value[images[r][i]], read from
     * the images as forward_listed_bytes. */
    void (*update_listed_bytes)(const uint32_t *inputs, size_t count,
                                const unsigned char *const *images, size_t rows, size_t n_in,
                                const double *delta, size_t n_out, double alpha, double beta,
                                double *w, uint64_t *row_bits);
    /* y[i] = e^x[i] (exponential.h: the same doubles in every variant). */
    void (*exp_values)(const double *x, size_t n, double *y);
    /* y[i] = 1 / (1 + e^−x[i]), the logistic sigmoid, the same way. */
    void (*sigmoid_values)(const double *x, size_t n, double *y);
    /* y[i] = ln(1 + x[i]) for 0 <= x[i] <= 1 (logarithm.h: the same doubles in
     * every variant). y may be x. */
    void (*log1p_values)(const double *x, size_t n, double *y);
} kernel_variant;

/* Every variant compiled in, narrowest first; *count receives the number. */
const kernel_variant *const *kernels_table(size_t *count);

/* The entry named `name`, or NULL. */
const kernel_variant *kernels_find(const char *name);

/* The variant named `wanted`, or the widest this CPU supports if wanted is
 * NULL or "". NULL with an error naming the choices (and the nearest name) if
 * there is no such variant, or one saying so if this CPU lacks it. */
const kernel_variant *kernels_resolve(const char *wanted, mlp_error *err);

/* The variant for this process: MLPLAB_KERNELS if set (an error naming the
 * choices if it is unknown, or if this CPU lacks it), else the widest this CPU
 * supports. Resolved once; later calls return the same answer. */
const kernel_variant *kernels_choose(mlp_error *err);

/* kernels_choose's answer where no error can be reported: if MLPLAB_KERNELS
 * is unusable, the widest supported variant (the run that uses it has already
 * failed through kernels_choose). */
const kernel_variant *kernels_active(void);

/* Makes `variant` the process's choice from now on (tests and the benchmark
 * run every variant in one process; NULL: choose again from the environment). */
void kernels_set_active(const kernel_variant *variant);

/* "avx512 (AVX-512F, AVX2 and FMA); portable, avx2 and avx512 give identical
 * results": for `mlplab info` and the run file's kernels attribute. */
void kernels_describe(const kernel_variant *variant, char *text, size_t size);

/* "portable, avx2, avx512": for hints. */
const char *kernels_names(void);

/* The variants each generated file defines (kernels_*.c). */
extern const kernel_variant kernels_portable, kernels_avx2, kernels_avx512;

#endif
