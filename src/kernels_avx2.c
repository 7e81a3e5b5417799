/* kernels_avx2.c — the AVX2 + FMA variant of kernels.h (4 doubles a vector),
 * compiled with -mavx2 -mfma (Makefile); run only where kernels.c found both. */
#include "kernels.h"

#include <immintrin.h>

typedef __m256d VEC;
typedef __m256i VMASK;
enum { VW = 4, MAX_NV = 12 };

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

#include "kernels_template.h"

int kernels_cpu_has_avx2(void);

static void convert_bytes(const unsigned char *bytes, size_t n, double *x)
{
    const __m256d scale = _mm256_set1_pd(255.0);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        int32_t four;
        __builtin_memcpy(&four, bytes + i, sizeof four);
        __m128i wide = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(four));
        _mm256_storeu_pd(x + i, _mm256_div_pd(_mm256_cvtepi32_pd(wide), scale));
    }
    for (; i < n; i++)
        x[i] = (double)bytes[i] / 255.0;
}

const kernel_variant kernels_avx2 = {
    .name = "avx2",
    .description = "AVX2 and FMA",
    .cpu_supports = kernels_cpu_has_avx2,
    .convert_bytes = convert_bytes,
    .forward_dense = forward_dense,
    .forward_sparse = forward_sparse,
    .update_dense = update_dense,
    .update_sparse = update_sparse,
};
