/* kernels_portable.c — the portable variant of kernels.h: plain C, one double
 * per "vector", every multiply-add through C99 fma(), which is correctly
 * rounded on any machine (in hardware where the CPU has FMA, in software
 * otherwise), so it gives the same doubles as the AVX2 and AVX-512 variants. */
#include "kernels.h"

#include <math.h>

typedef double VEC;
typedef int VMASK;
enum { VW = 1, MAX_NV = 8, V_REGS = 16, LISTED_NV = 8 };
#define V_ZERO() 0.0
#define V_SET1(x) (x)
#define V_LOAD(p) (*(p))
#define V_LOADM(p, m) ((void)(m), *(p))
#define V_STOREM(p, v, m) ((void)(m), *(p) = (v))
#define V_FMA(a, b, c) fma((a), (b), (c))
#define V_MUL(a, b) ((a) * (b))
#define V_MASK(n) ((int)(n))
#define V_FULL 1

#include "kernels_template.h"

static int always(void)
{
    return 1;
}

static void convert_bytes(const unsigned char *bytes, size_t n, double *x)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (double)bytes[i] / 255.0;
}

/* Branch-free: every position is written, the count advances past nonzeros. */
static size_t list_nonzero(const double *x, size_t n, uint32_t *index)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        index[count] = (uint32_t)i;
        count += x[i] != 0.0;
    }
    return count;
}

static size_t list_nonzero_any(const double *x, size_t rows, size_t n_in, uint32_t *index,
                               size_t *nonzeros)
{
    *nonzeros = 0;
    return list_nonzero_any_from(x, rows, n_in, 0, index, 0, nonzeros);
}

static size_t list_any_bytes(const unsigned char *const *images, size_t rows, size_t n_in,
                             uint32_t *index)
{
    return list_any_bytes_from(images, rows, n_in, 0, index, 0);
}

const kernel_variant kernels_portable = {
    .name = "portable",
    .description = "C99 with fma() from libm; any CPU",
    .cpu_supports = always,
    KERNELS_FROM_TEMPLATE,
};
