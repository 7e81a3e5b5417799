/* logarithm.h — the project's own ln(1 + x) for 0 <= x <= 1, the same double
 * on every CPU and in every kernel variant.
 *
 * Why not libm's log1p: the cross-entropy cost of a sigmoid output takes
 * ln(1 + e^−|z|) of every output of every example an evaluation pass
 * measures (cost.c), so it must be fast (a vector at a time: kernels.h's
 * log1p_values; a call per value was 15 % of an evaluation pass) and exact
 * across machines (glibc picks its code by CPU and version).
 *
 * The algorithm is fdlibm's log1p (Sun Microsystems, 1993; the basis of
 * glibc's, musl's and the BSDs'), with its polynomial and its splitting of
 * ln 2, on the one range this project needs and without branches:
 *
 *   u = 1 + x (rounded), c = x − (u − 1)          the rounding error, exact
 *   k = 1 if u ≥ ~√2 else 0, f = u 2^−k − 1        exact, −0.29 < f < 0.42
 *   ln(1 + x) = k ln2 + ln(1 + f) + c/u
 *   ln(1 + f) = f − (f²/2 − s (f²/2 + R(s²))),    s = f / (2 + f)
 *
 * in IEEE additions, multiplications and divisions only (no fused
 * multiply-add), in the same order in the scalar function and the vector
 * kernels. Error below 1 ulp (tests/test_kernels.c compares it with libm's
 * log1p over a million arguments). */
#ifndef MLP_LOGARITHM_H
#define MLP_LOGARITHM_H

/* The constants, for the vector kernels. */
typedef struct logarithm_constants {
    double inv_sqrt2;           /* 1/√2: trunc(u / √2) is k */
    double ln2_hi, ln2_lo;      /* ln 2 = hi + lo, hi with trailing zero bits */
    double lg1, lg2, lg3, lg4, lg5, lg6, lg7;   /* R(z) = z (lg1 + z (lg2 + …)) */
} logarithm_constants;

extern const logarithm_constants LOGARITHM;

/* ln(1 + x) for 0 <= x <= 1 (NaN for NaN); other arguments are outside its
 * contract. */
double log1p_unit(double x);

#endif
