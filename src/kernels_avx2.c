/* kernels_avx2.c — the AVX2 + FMA variant of kernels.h (4 doubles a vector),
 * compiled with -mavx2 -mfma (Makefile); run only where kernels.c found both. */
#include "kernels.h"
#include "exponential.h"

#include <immintrin.h>

typedef __m256d VEC;
typedef __m256i VMASK;
enum { VW = 4, MAX_NV = 12, V_REGS = 16, LISTED_NV = 4 };

/* Lane masks for maskload/maskstore: the first n of 4 lanes. */
static inline __m256i first_lanes(int n)
{
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
}

#define V_ZERO() _mm256_setzero_pd()
#define V_SET1(x) _mm256_set1_pd(x)
#define V_LOAD(p) _mm256_loadu_pd(p)
#define V_LOADM(p, m) _mm256_maskload_pd((p), (m))
#define V_STOREM(p, v, m) _mm256_maskstore_pd((p), (m), (v))
#define V_FMA(a, b, c) _mm256_fmadd_pd((a), (b), (c))
#define V_MUL(a, b) _mm256_mul_pd((a), (b))
#define V_MASK(n) first_lanes(n)
#define V_FULL _mm256_set1_epi64x(-1)

typedef __m256i VINT;
#define V_ADD(a, b) _mm256_add_pd((a), (b))
#define V_SUB(a, b) _mm256_sub_pd((a), (b))
#define V_DIV(a, b) _mm256_div_pd((a), (b))
#define V_NEG(a) _mm256_xor_pd((a), _mm256_set1_pd(-0.0))
#define V_BITS(v) _mm256_castpd_si256(v)
#define V_FROM_BITS(i) _mm256_castsi256_pd(i)
#define VI_ADD(a, b) _mm256_add_epi64((a), (b))
#define VI_SHL(a, n) _mm256_slli_epi64((a), (n))
#define VI_INDEX(i) _mm256_slli_epi64(_mm256_and_si256((i), _mm256_set1_epi64x(127)), 1)
#define V_GATHER(t, i) _mm256_i64gather_pd((t), (i), 8)
#define VI_GATHER(t, i) _mm256_i64gather_epi64((const long long *)(t), (i), 8)
#define V_MAIN_LANES(x) main_lanes(x)
#define V_TRUNC(x) _mm256_round_pd((x), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC)

static inline unsigned main_lanes(__m256d x)
{
    __m256d magnitude = _mm256_andnot_pd(_mm256_set1_pd(-0.0), x);
    __m256d inside =
        _mm256_and_pd(_mm256_cmp_pd(magnitude, _mm256_set1_pd(EXPONENTIAL_MAIN_LOW), _CMP_GE_OQ),
                      _mm256_cmp_pd(magnitude, _mm256_set1_pd(EXPONENTIAL_MAIN_HIGH), _CMP_LT_OQ));
    return (unsigned)_mm256_movemask_pd(inside);
}

#include "kernels_template.h"

int kernels_cpu_has_avx2(void);

/* p / 255 as q = p·r (r = 1/255 rounded), then one exact-residual correction
 * q + (p − q·255)·r: the correctly rounded quotient for every byte (checked
 * for all 256 in tests/test_kernels.c), at a fraction of a division's cost. */
static void convert_bytes(const unsigned char *bytes, size_t n, double *x)
{
    const __m256d d = _mm256_set1_pd(255.0), r = _mm256_set1_pd(1.0 / 255.0);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        int32_t four;
        __builtin_memcpy(&four, bytes + i, sizeof four);
        __m256d p = _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(four)));
        __m256d q = _mm256_mul_pd(p, r);
        __m256d residual = _mm256_fnmadd_pd(q, d, p);
        _mm256_storeu_pd(x + i, _mm256_fmadd_pd(residual, r, q));
    }
    for (; i < n; i++)
        x[i] = (double)bytes[i] / 255.0;
}

/* For each 4-bit mask, the positions of its set bits. */
static const int32_t set_lanes[16][4] = {
    {0, 0, 0, 0}, {0, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 0}, {2, 0, 0, 0}, {0, 2, 0, 0},
    {1, 2, 0, 0}, {0, 1, 2, 0}, {3, 0, 0, 0}, {0, 3, 0, 0}, {1, 3, 0, 0}, {0, 1, 3, 0},
    {2, 3, 0, 0}, {0, 2, 3, 0}, {1, 2, 3, 0}, {0, 1, 2, 3},
};

static size_t list_nonzero(const double *x, size_t n, uint32_t *index)
{
    const __m256d zero = _mm256_setzero_pd();
    size_t count = 0, i = 0;
    for (; i + 4 <= n; i += 4) {
        int mask = _mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(x + i), zero, _CMP_NEQ_UQ));
        __m128i lanes = _mm_loadu_si128((const __m128i *)(const void *)set_lanes[mask]);
        _mm_storeu_si128((__m128i *)(void *)(index + count),
                         _mm_add_epi32(lanes, _mm_set1_epi32((int)i)));
        count += (size_t)__builtin_popcount((unsigned)mask);
    }
    for (; i < n; i++) {
        index[count] = (uint32_t)i;
        count += x[i] != 0.0;
    }
    return count;
}

static size_t list_nonzero_any(const double *x, size_t rows, size_t n_in, uint32_t *index,
                               size_t *nonzeros)
{
    const __m256d zero = _mm256_setzero_pd();
    size_t count = 0, total = 0, i = 0;
    for (; i + 4 <= n_in; i += 4) {
        int any = 0;
        for (size_t r = 0; r < rows; r++) {
            int mask = _mm256_movemask_pd(
                _mm256_cmp_pd(_mm256_loadu_pd(x + r * n_in + i), zero, _CMP_NEQ_UQ));
            any |= mask;
            total += (size_t)__builtin_popcount((unsigned)mask);
        }
        __m128i lanes = _mm_loadu_si128((const __m128i *)(const void *)set_lanes[any]);
        _mm_storeu_si128((__m128i *)(void *)(index + count),
                         _mm_add_epi32(lanes, _mm_set1_epi32((int)i)));
        count += (size_t)__builtin_popcount((unsigned)any);
    }
    *nonzeros = total;
    return list_nonzero_any_from(x, rows, n_in, i, index, count, nonzeros);
}

/* 32 inputs at a time: the positions of the set bits of their nonzero mask. */
static size_t list_any_bytes(const unsigned char *const *images, size_t rows, size_t n_in,
                             uint32_t *index)
{
    size_t count = 0, i = 0;
    for (; i + 32 <= n_in; i += 32) {
        __m256i any = _mm256_setzero_si256();
        for (size_t r = 0; r < rows; r++)
            any = _mm256_or_si256(any, _mm256_loadu_si256((const __m256i *)(const void *)(images[r] + i)));
        uint32_t nonzero = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(any, _mm256_setzero_si256()));
        while (nonzero != 0) {
            index[count++] = (uint32_t)(i + (size_t)__builtin_ctz(nonzero));
            nonzero &= nonzero - 1;
        }
    }
    return list_any_bytes_from(images, rows, n_in, i, index, count);
}

const kernel_variant kernels_avx2 = {
    .name = "avx2",
    .description = "AVX2 and FMA",
    .cpu_supports = kernels_cpu_has_avx2,
    KERNELS_FROM_TEMPLATE,
};
