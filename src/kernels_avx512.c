/* kernels_avx512.c — the AVX-512 variant of kernels.h (8 doubles a vector,
 * masked tails), compiled with -mavx512f -mavx2 -mfma (Makefile); run only
 * where kernels.c found AVX-512F. */
#include "kernels.h"

#include <immintrin.h>

typedef __m512d VEC;
typedef __mmask8 VMASK;
enum { VW = 8, MAX_NV = 16 };
#define V_ZERO() _mm512_setzero_pd()
#define V_SET1(x) _mm512_set1_pd(x)
#define V_LOAD(p) _mm512_loadu_pd(p)
#define V_LOADM(p, m) _mm512_maskz_loadu_pd((m), (p))
#define V_STOREM(p, v, m) _mm512_mask_storeu_pd((p), (m), (v))
#define V_FMA(a, b, c) _mm512_fmadd_pd((a), (b), (c))
#define V_MUL(a, b) _mm512_mul_pd((a), (b))
#define V_MASK(n) ((__mmask8)((1u << (n)) - 1u))
#define V_FULL ((__mmask8)0xff)

#include "kernels_template.h"

int kernels_cpu_has_avx512(void);

static void convert_bytes(const unsigned char *bytes, size_t n, double *x)
{
    const __m512d scale = _mm512_set1_pd(255.0);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i eight = _mm_loadl_epi64((const __m128i *)(const void *)(bytes + i));
        __m256i wide = _mm256_cvtepu8_epi32(eight);
        _mm512_storeu_pd(x + i, _mm512_div_pd(_mm512_cvtepi32_pd(wide), scale));
    }
    for (; i < n; i++)
        x[i] = (double)bytes[i] / 255.0;
}

const kernel_variant kernels_avx512 = {
    .name = "avx512",
    .description = "AVX-512F, AVX2 and FMA",
    .cpu_supports = kernels_cpu_has_avx512,
    .convert_bytes = convert_bytes,
    .forward_dense = forward_dense,
    .forward_sparse = forward_sparse,
    .update_dense = update_dense,
    .update_sparse = update_sparse,
};
