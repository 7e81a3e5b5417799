/* exponential.h — the project's own exp(x), the same double on every CPU.
 *
 * Why not libm's: the sigmoid and softmax activations take an exp of every
 * neuron of every example, so it must be exact across machines (glibc picks
 * one code path on CPUs with FMA and another without, whose results differ in
 * rare last bits) and fast (a call per value, where the kernels want a vector
 * of 4 or 8 at once: kernels.h's exp_values and sigmoid_values).
 *
 * The algorithm is glibc's (since 2.28, from ARM's optimized-routines, MIT
 * licence), with the evaluation order of glibc 2.36's FMA code path written
 * out, so it returns the same doubles that path does (tests/test_kernels.c
 * compares it with the libm of a CPU with FMA over millions of arguments), and
 * adopting it changed no recorded result. Error below 0.52 ulp.
 *
 *   x = k ln2/128 + r, |r| <= ln2/256, k an integer
 *   exp(x) = 2^(k/128) exp(r) = s (1 + t) (1 + p(r)) ≈ s + s (t + r + r² c2 + … + r⁵ c5)
 *
 * with s = 2^(k/128) (rounded) and its correction t from a 128-entry table. */
#ifndef MLP_EXPONENTIAL_H
#define MLP_EXPONENTIAL_H

#include <stdint.h>

/* The constants of the main path, in the order the vector kernels use them. */
typedef struct exponential_constants {
    double inv_ln2_n;           /* 128 / ln 2 */
    double shift;               /* 0x1.8p52: adding it rounds to an integer */
    double neg_ln2_hi_n;        /* −ln2/128, high part (trailing zero bits: exact k·hi) */
    double neg_ln2_lo_n;        /* −ln2/128 − high part */
    double c2, c3, c4, c5;      /* the polynomial of exp(r) − 1 − r */
} exponential_constants;

extern const exponential_constants EXPONENTIAL;

/* For k = 0 … 127: [2k] the bits of t_k, [2k+1] the bits of s_k = 2^(k/128)
 * rounded, minus k << 45 (so that adding the integer k's bits << 45 gives
 * 2^(k/128) times 2^⌊k/128⌋ in one integer add). */
extern const uint64_t EXPONENTIAL_TABLE[256];

/* The main path serves 2^-54 <= |x| < 512; outside it (and for NaN) only
 * exponential() is valid, which the vector kernels call for those lanes. */
#define EXPONENTIAL_MAIN_LOW 0x1p-54
#define EXPONENTIAL_MAIN_HIGH 512.0

/* e^x for every double x: +inf beyond 709.78, +0 below −745.13, NaN for NaN
 * (no errno, no exceptions relied on). */
double exponential(double x);

#endif
