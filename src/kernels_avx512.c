/* kernels_avx512.c — the AVX-512 variant of kernels.h (8 doubles a vector,
 * masked tails), compiled with -mavx512f -mavx512vl -mavx2 -mfma (Makefile);
 * run only where kernels.c found AVX-512F and AVX-512VL. */
#include "kernels.h"
#include "exponential.h"

#include <immintrin.h>

typedef __m512d VEC;
typedef __mmask8 VMASK;
enum { VW = 8, MAX_NV = 16, V_REGS = 32, LISTED_NV = 5 };
#define V_ZERO() _mm512_setzero_pd()
#define V_SET1(x) _mm512_set1_pd(x)
#define V_LOAD(p) _mm512_loadu_pd(p)
#define V_LOADM(p, m) _mm512_maskz_loadu_pd((m), (p))
#define V_STOREM(p, v, m) _mm512_mask_storeu_pd((p), (m), (v))
#define V_FMA(a, b, c) _mm512_fmadd_pd((a), (b), (c))
#define V_MUL(a, b) _mm512_mul_pd((a), (b))
#define V_MASK(n) ((__mmask8)((1u << (n)) - 1u))
#define V_FULL ((__mmask8)0xff)

typedef __m512i VINT;
#define V_ADD(a, b) _mm512_add_pd((a), (b))
#define V_SUB(a, b) _mm512_sub_pd((a), (b))
#define V_DIV(a, b) _mm512_div_pd((a), (b))
#define V_NEG(a) _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(a), _mm512_set1_epi64(INT64_MIN)))
#define V_BITS(v) _mm512_castpd_si512(v)
#define V_FROM_BITS(i) _mm512_castsi512_pd(i)
#define VI_ADD(a, b) _mm512_add_epi64((a), (b))
#define VI_SHL(a, n) _mm512_slli_epi64((a), (n))
#define VI_INDEX(i) _mm512_slli_epi64(_mm512_and_si512((i), _mm512_set1_epi64(127)), 1)
#define V_GATHER(t, i) _mm512_i64gather_pd((i), (t), 8)
#define VI_GATHER(t, i) _mm512_i64gather_epi64((i), (t), 8)
#define V_MAIN_LANES(x) main_lanes(x)
#define V_TRUNC(x) _mm512_roundscale_pd((x), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC)

static inline unsigned main_lanes(__m512d x)
{
    __m512d magnitude = _mm512_abs_pd(x);
    return _mm512_cmp_pd_mask(magnitude, _mm512_set1_pd(EXPONENTIAL_MAIN_LOW), _CMP_GE_OQ) &
           _mm512_cmp_pd_mask(magnitude, _mm512_set1_pd(EXPONENTIAL_MAIN_HIGH), _CMP_LT_OQ);
}

#include "kernels_template.h"

int kernels_cpu_has_avx512(void);

/* As kernels_avx2.c: q = p·r, then q + (p − q·255)·r, exact for every byte. */
static void convert_bytes(const unsigned char *bytes, size_t n, double *x)
{
    const __m512d d = _mm512_set1_pd(255.0), r = _mm512_set1_pd(1.0 / 255.0);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i eight = _mm_loadl_epi64((const __m128i *)(const void *)(bytes + i));
        __m512d p = _mm512_cvtepi32_pd(_mm256_cvtepu8_epi32(eight));
        __m512d q = _mm512_mul_pd(p, r);
        __m512d residual = _mm512_fnmadd_pd(q, d, p);
        _mm512_storeu_pd(x + i, _mm512_fmadd_pd(residual, r, q));
    }
    for (; i < n; i++)
        x[i] = (double)bytes[i] / 255.0;
}

/* Compressed in a register and stored whole (a compress straight to memory is
 * slow on some CPUs), so up to 8 entries past the count are written. */
static size_t list_nonzero(const double *x, size_t n, uint32_t *index)
{
    const __m512d zero = _mm512_setzero_pd();
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    size_t count = 0;
    for (size_t i = 0; i < n; i += 8) {
        __mmask8 valid = n - i >= 8 ? (__mmask8)0xff : (__mmask8)((1u << (n - i)) - 1u);
        __m512d v = _mm512_maskz_loadu_pd(valid, x + i);
        __mmask8 nonzero = _mm512_mask_cmp_pd_mask(valid, v, zero, _CMP_NEQ_UQ);
        __m256i positions = _mm256_add_epi32(lanes, _mm256_set1_epi32((int)i));
        _mm256_storeu_si256((__m256i *)(void *)(index + count),
                            _mm256_maskz_compress_epi32(nonzero, positions));
        count += (size_t)__builtin_popcount((unsigned)nonzero);
    }
    return count;
}

static size_t list_nonzero_any(const double *x, size_t rows, size_t n_in, uint32_t *index,
                               size_t *nonzeros)
{
    const __m512d zero = _mm512_setzero_pd();
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    size_t count = 0, total = 0;
    for (size_t i = 0; i < n_in; i += 8) {
        __mmask8 valid = n_in - i >= 8 ? (__mmask8)0xff : (__mmask8)((1u << (n_in - i)) - 1u);
        unsigned any = 0;
        for (size_t r = 0; r < rows; r++) {
            __m512d v = _mm512_maskz_loadu_pd(valid, x + r * n_in + i);
            unsigned nonzero = _mm512_mask_cmp_pd_mask(valid, v, zero, _CMP_NEQ_UQ);
            any |= nonzero;
            total += (size_t)__builtin_popcount(nonzero);
        }
        __m256i positions = _mm256_add_epi32(lanes, _mm256_set1_epi32((int)i));
        _mm256_storeu_si256((__m256i *)(void *)(index + count),
                            _mm256_maskz_compress_epi32((__mmask8)any, positions));
        count += (size_t)__builtin_popcount(any);
    }
    *nonzeros = total;
    return count;
}

/* The bytes 32 at a time with AVX2 (AVX-512F has no byte operations), their
 * positions compressed 16 at a time as list_nonzero's. */
static size_t list_any_bytes(const unsigned char *const *images, size_t rows, size_t n_in,
                             uint32_t *index)
{
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    size_t count = 0, i = 0;
    for (; i + 32 <= n_in; i += 32) {
        __m256i any = _mm256_setzero_si256();
        for (size_t r = 0; r < rows; r++)
            any = _mm256_or_si256(
                any, _mm256_loadu_si256((const __m256i *)(const void *)(images[r] + i)));
        uint32_t nonzero =
            ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(any, _mm256_setzero_si256()));
        for (int half = 0; half < 2; half++, nonzero >>= 16) {
            __m512i positions = _mm512_add_epi32(lanes, _mm512_set1_epi32((int)i + 16 * half));
            __mmask16 bits = (__mmask16)(nonzero & 0xffffu);
            _mm512_storeu_si512((void *)(index + count),
                                _mm512_maskz_compress_epi32(bits, positions));
            count += (size_t)__builtin_popcount(bits);
        }
    }
    return list_any_bytes_from(images, rows, n_in, i, index, count);
}

const kernel_variant kernels_avx512 = {
    .name = "avx512",
    .description = "AVX-512F, AVX-512VL, AVX2 and FMA",
    .cpu_supports = kernels_cpu_has_avx512,
    KERNELS_FROM_TEMPLATE,
};
