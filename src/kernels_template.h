/* kernels_template.h — the forward and update kernels of kernels.h, written
 * once over a small vector vocabulary that each kernels_*.c defines before
 * including this file:
 *
 *   VEC, VMASK       a vector of VW doubles and a lane mask
 *   VW, MAX_NV       lanes per vector; most vectors (accumulators) per block
 *   V_REGS           vector registers (for the row and input groups)
 *   LISTED_NV        most vectors per block in the listed kernels (fewer than
 *                    MAX_NV, so that more rows share each weight load)
 *   V_ZERO() V_SET1(x) V_LOAD(p) V_LOADM(p, m) V_STOREM(p, v, m)
 *   V_FMA(a, b, c)   a·b + c rounded once, per lane
 *   V_MUL(a, b)
 *   V_MASK(n)        the first n lanes (1 <= n <= VW)
 *   V_FULL           every lane
 *
 * and, for the exponential (exp_values, sigmoid_values; the portable variant
 * leaves V_GATHER undefined and calls exponential() value by value):
 *
 *   VINT             a vector of VW 64-bit integers
 *   V_ADD V_SUB V_DIV V_NEG(a)
 *   V_BITS(v) V_FROM_BITS(i)      reinterpret, no conversion
 *   VI_ADD(a, b) VI_SHL(a, n) VI_INDEX(i)   i ↦ 2 (i mod 128)
 *   V_GATHER(t, i) VI_GATHER(t, i)          doubles / integers t[i[lane]]
 *   V_MAIN_LANES(x)  bit l set if EXPONENTIAL_MAIN_LOW <= |x[l]| < …_HIGH
 *   V_TRUNC(x)       x rounded toward zero to an integer, per lane (log1p_values)
 *
 * Lanes are outputs; each output's sum is one fma chain in input (forward) or
 * row (update) order, whatever VW is, so every variant computes the same
 * doubles (kernels.h). Outputs are processed in blocks of at most MAX_NV
 * vectors held in registers (balanced, so that no block is left with too few
 * independent chains to hide the fma latency). */
#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "exponential.h"
#include "logarithm.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* One block of a forward row: z[j0 ..] from the terms t < count (input
 * index[t]). */
ALWAYS_INLINE void forward_block(const uint32_t *index, size_t count, const double *x,
                                 const double *w, size_t n_out, const double *bias, double *z,
                                 size_t j0, int nv, VMASK last)
{
    VEC acc[16];
    for (int v = 0; v < nv; v++) {
        if (bias == NULL)
            acc[v] = V_ZERO();
        else
            acc[v] = v == nv - 1 ? V_LOADM(bias + j0 + v * VW, last) : V_LOAD(bias + j0 + v * VW);
    }
    const double *wj = w + j0;
    for (size_t t = 0; t < count; t++) {
        size_t i = index[t];
        VEC xv = V_SET1(x[i]);
        const double *row = wj + i * n_out;
        for (int v = 0; v < nv; v++)
            acc[v] = V_FMA(xv, v == nv - 1 ? V_LOADM(row + v * VW, last) : V_LOAD(row + v * VW),
                           acc[v]);
    }
    for (int v = 0; v < nv; v++)
        V_STOREM(z + j0 + v * VW, acc[v], v == nv - 1 ? last : V_FULL);
}

/* One block of a forward over a group of g rows (x, or the images whose byte
 * values kernels_byte_value gives, row r at images[r]; z at the group's first
 * row) from the listed inputs (NULL: inputs 0 .. count−1): each weight vector
 * is loaded once and used by every row of the group, whose g · nv
 * accumulators stay in registers. The ahead_lines cache lines ahead[]
 * (the next group's images) are asked for one an input, spread over the
 * multiply-adds. */
ALWAYS_INLINE void forward_group_block(const uint32_t *inputs, size_t count, const double *x,
                                       const unsigned char *const *images, size_t n_in,
                                       const double *w, size_t n_out, const double *bias,
                                       double *z, size_t j0, int g, int nv, VMASK last,
                                       const unsigned char *const *ahead, size_t ahead_lines)
{
    VEC acc[8][16];
    for (int v = 0; v < nv; v++) {
        VEC start = bias == NULL ? V_ZERO()
                    : v == nv - 1 ? V_LOADM(bias + j0 + v * VW, last)
                                  : V_LOAD(bias + j0 + v * VW);
        for (int r = 0; r < g; r++)
            acc[r][v] = start;
    }
    const double *wj = w + j0;
    for (size_t t = 0; t < count; t++) {
        size_t i = inputs != NULL ? inputs[t] : t;
        const double *row = wj + i * n_out;
        if (t < ahead_lines)
            __builtin_prefetch(ahead[t]);
        VEC xv[8];
        for (int r = 0; r < g; r++)
            xv[r] = V_SET1(images != NULL ? kernels_byte_value[images[r][i]]
                                           : x[r * n_in + i]);
        for (int v = 0; v < nv; v++) {
            VEC wv = v == nv - 1 ? V_LOADM(row + v * VW, last) : V_LOAD(row + v * VW);
            for (int r = 0; r < g; r++)
                acc[r][v] = V_FMA(xv[r], wv, acc[r][v]);
        }
    }
    for (int r = 0; r < g; r++)
        for (int v = 0; v < nv; v++)
            V_STOREM(z + r * n_out + j0 + v * VW, acc[r][v], v == nv - 1 ? last : V_FULL);
}

/* One block of the update of input i's weights w[i][j0 ..] from the rows
 * row[t], t < count. */
ALWAYS_INLINE void update_block(const uint32_t *row, size_t count, const double *x, size_t n_in,
                                size_t i, const double *delta, size_t n_out, VEC alpha,
                                VEC beta, double *w, size_t j0, int nv, VMASK last)
{
    VEC acc[16];
    for (int v = 0; v < nv; v++)
        acc[v] = V_ZERO();
    const double *dj = delta + j0;
    for (size_t t = 0; t < count; t++) {
        size_t r = row[t];
        VEC xv = V_SET1(x[r * n_in + i]);
        const double *d = dj + r * n_out;
        for (int v = 0; v < nv; v++)
            acc[v] = V_FMA(xv, v == nv - 1 ? V_LOADM(d + v * VW, last) : V_LOAD(d + v * VW),
                           acc[v]);
    }
    double *wi = w + i * n_out + j0;
    for (int v = 0; v < nv; v++) {
        VMASK m = v == nv - 1 ? last : V_FULL;
        VEC old = v == nv - 1 ? V_LOADM(wi + v * VW, last) : V_LOAD(wi + v * VW);
        V_STOREM(wi + v * VW, V_FMA(alpha, acc[v], V_MUL(beta, old)), m);
    }
}

/* Calls BLOCK(nv) with nv a constant, so that each block's loops unroll and
 * its accumulators live in registers. */
#define DISPATCH_NV(nv, BLOCK)                                                                \
    switch (nv) {                                                                             \
    case 1: BLOCK(1); break;                                                                  \
    case 2: BLOCK(2); break;                                                                  \
    case 3: BLOCK(3); break;                                                                  \
    case 4: BLOCK(4); break;                                                                  \
    case 5: BLOCK(5); break;                                                                  \
    case 6: BLOCK(6); break;                                                                  \
    case 7: BLOCK(7); break;                                                                  \
    case 8: BLOCK(8); break;                                                                  \
    case 9: BLOCK(9); break;                                                                  \
    case 10: BLOCK(10); break;                                                                \
    case 11: BLOCK(11); break;                                                                \
    case 12: BLOCK(12); break;                                                                \
    case 13: BLOCK(13); break;                                                                \
    case 14: BLOCK(14); break;                                                                \
    case 15: BLOCK(15); break;                                                                \
    default: BLOCK(16); break;                                                                \
    }

/* A group of g rows (or inputs) × nv output vectors keeps g · nv accumulators,
 * g broadcast values and one streamed vector in the V_REGS vector registers. */
#define FITS(g, nv) ((g) * ((nv) + 1) + 1 <= V_REGS)

/* The largest group that FITS, 1 to 8. */
static int group_limit(int nv)
{
    int most = (V_REGS - 1) / (nv + 1);
    return most < 1 ? 1 : most > 8 ? 8 : most;
}

/* Calls BLOCK(g, nv) with both constants, for g <= 8 that FITS (the caller
 * keeps to that: group_limit). */
#define DISPATCH_G(g, NV, BLOCK)                                                              \
    switch (g) {                                                                              \
    case 1: BLOCK(1, NV); break;                                                              \
    case 2: if (FITS(2, NV)) BLOCK(2, NV); break;                                       \
    case 3: if (FITS(3, NV)) BLOCK(3, NV); break;                                       \
    case 4: if (FITS(4, NV)) BLOCK(4, NV); break;                                       \
    case 5: if (FITS(5, NV)) BLOCK(5, NV); break;                                       \
    case 6: if (FITS(6, NV)) BLOCK(6, NV); break;                                       \
    case 7: if (FITS(7, NV)) BLOCK(7, NV); break;                                       \
    default: if (FITS(8, NV)) BLOCK(8, NV); break;                                      \
    }
#define DISPATCH_G_NV(g, nv, BLOCK)                                                           \
    switch (nv) {                                                                             \
    case 1: DISPATCH_G(g, 1, BLOCK); break;                                                   \
    case 2: DISPATCH_G(g, 2, BLOCK); break;                                                   \
    case 3: DISPATCH_G(g, 3, BLOCK); break;                                                   \
    case 4: DISPATCH_G(g, 4, BLOCK); break;                                                   \
    case 5: DISPATCH_G(g, 5, BLOCK); break;                                                   \
    case 6: DISPATCH_G(g, 6, BLOCK); break;                                                   \
    case 7: DISPATCH_G(g, 7, BLOCK); break;                                                   \
    case 8: DISPATCH_G(g, 8, BLOCK); break;                                                   \
    case 9: DISPATCH_G(g, 9, BLOCK); break;                                                   \
    case 10: DISPATCH_G(g, 10, BLOCK); break;                                                 \
    case 11: DISPATCH_G(g, 11, BLOCK); break;                                                 \
    case 12: DISPATCH_G(g, 12, BLOCK); break;                                                 \
    case 13: DISPATCH_G(g, 13, BLOCK); break;                                                 \
    case 14: DISPATCH_G(g, 14, BLOCK); break;                                                 \
    case 15: DISPATCH_G(g, 15, BLOCK); break;                                                 \
    default: DISPATCH_G(g, 16, BLOCK); break;                                                 \
    }

/* The blocks of n_out outputs: block b starts at vector first[b] and has
 * count[b] vectors; only the very last vector may be partial. */
typedef struct block_plan {
    int n_blocks;
    int first[64], count[64];
    VMASK last_mask;
} block_plan;

static void plan_blocks_of(size_t n_out, size_t most, block_plan *plan)
{
    size_t vectors = (n_out + VW - 1) / VW;
    size_t blocks = (vectors + most - 1) / most;
    if (blocks > 64)
        blocks = 64;            /* wider layers get longer blocks (see the clamp below) */
    size_t base = vectors / blocks, extra = vectors % blocks, at = 0;
    plan->n_blocks = (int)blocks;
    for (size_t b = 0; b < blocks; b++) {
        size_t n = base + (b < extra ? 1 : 0);
        plan->first[b] = (int)at;
        plan->count[b] = (int)n;
        at += n;
    }
    plan->last_mask = V_MASK((int)(n_out - (vectors - 1) * VW));
}

static void plan_blocks(size_t n_out, block_plan *plan)
{
    plan_blocks_of(n_out, MAX_NV, plan);
}

/* A block longer than MAX_NV (only for layers wider than 64 · MAX_NV · VW)
 * runs as several. */
#define FOR_EACH_BLOCK(plan, n_out, BODY)                                                     \
    for (int b_ = 0; b_ < (plan).n_blocks; b_++) {                                            \
        int v0_ = (plan).first[b_], left_ = (plan).count[b_];                                 \
        while (left_ > 0) {                                                                   \
            int nv_ = left_ > 16 ? 16 : left_;                                                \
            int is_last_ = b_ == (plan).n_blocks - 1 && nv_ == left_;                         \
            size_t j0_ = (size_t)v0_ * VW;                                                    \
            VMASK m_ = is_last_ ? (plan).last_mask : V_FULL;                                  \
            BODY;                                                                             \
            v0_ += nv_;                                                                       \
            left_ -= nv_;                                                                     \
        }                                                                                     \
    }

/* Row by row from each row's own nonzeros: one weight vector loaded per
 * nonzero (the sparse path; the dense and listed ones are forward_groups). */
static void forward_sparse(const sparse_rows *s, const double *x, size_t n_in, const double *w,
                           size_t n_out, const double *bias, double *z)
{
    block_plan plan;
    plan_blocks(n_out, &plan);
    for (size_t r = 0; r < s->rows; r++) {
        const uint32_t *idx = s->index + s->start[r];
        size_t count = s->start[r + 1] - s->start[r];
        const double *xr = x + r * n_in;
        double *zr = z + r * n_out;
#define FORWARD(NV) forward_block(idx, count, xr, w, n_out, bias, zr, j0_, NV, m_)
        FOR_EACH_BLOCK(plan, n_out, DISPATCH_NV(nv_, FORWARD))
#undef FORWARD
    }
}

/* list_nonzero_any from input i0 on, one input at a time (the portable
 * variant, and the tails of the vector ones): appends to index after count
 * entries and adds the nonzeros to *total; returns the new count. */
static inline size_t list_nonzero_any_from(const double *x, size_t rows, size_t n_in, size_t i0,
                                           uint32_t *index, size_t count, size_t *total)
{
    for (size_t i = i0; i < n_in; i++) {
        int any = 0;
        for (size_t r = 0; r < rows; r++) {
            int nonzero = x[r * n_in + i] != 0.0;
            any |= nonzero;
            *total += (size_t)nonzero;
        }
        index[count] = (uint32_t)i;
        count += (size_t)any;
    }
    return count;
}

/* Rows in groups of at most `most` (>= 1), balanced: 10 rows by 7 are 5 + 5. */
static int group_size(size_t rows, int most)
{
    size_t groups = (rows + (size_t)most - 1) / (size_t)most;
    return (int)((rows + groups - 1) / groups);
}

/* Defined by each variant (after this file): see kernels.h. */
static size_t list_nonzero_any(const double *x, size_t rows, size_t n_in, uint32_t *index,
                               size_t *nonzeros);

/* The inputs i < n_in nonzero in some image (images[r], n_in bytes each, r <
 * rows), in increasing order, into index (the same slack as
 * list_nonzero_any); returns how many. Defined by each variant;
 * list_any_bytes_from serves the portable one and the vector ones' tails,
 * from input i0 on, after count entries. */
static size_t list_any_bytes(const unsigned char *const *images, size_t rows, size_t n_in,
                             uint32_t *index);

static inline size_t list_any_bytes_from(const unsigned char *const *images, size_t rows,
                                         size_t n_in, size_t i0, uint32_t *index, size_t count)
{
    for (size_t i = i0; i < n_in; i++) {
        unsigned any = 0;
        for (size_t r = 0; r < rows; r++)
            any |= images[r][i];
        index[count] = (uint32_t)i;
        count += any != 0;
    }
    return count;
}

/* The most rows forward_groups multiplies together for n_out outputs: the
 * group whose accumulators fit in registers for the widest block. */
static size_t listed_group(size_t n_out)
{
    block_plan plan;
    plan_blocks_of(n_out, LISTED_NV, &plan);
    int widest = 1;
    for (int b = 0; b < plan.n_blocks; b++)
        widest = plan.count[b] > widest ? plan.count[b] : widest;
    return (size_t)group_limit(widest > 16 ? 16 : widest);
}

/* Most cache lines of the next group's images asked for ahead (8 images of
 * up to 1,024 bytes; a wider image is asked for in part). */
enum { AHEAD_MOST = 8 * 16 };

/* The start of each of the `lines` cache lines of the images [0, rows), row by
 * row, into line (at most AHEAD_MOST); returns how many. */
static size_t image_lines(const unsigned char *const *images, size_t rows, size_t n_in,
                          const unsigned char **line)
{
    size_t per_row = (n_in + 63) / 64, count = 0;
    for (size_t r = 0; r < rows; r++)
        for (size_t k = 0; k < per_row && count < AHEAD_MOST; k++)
            line[count++] = images[r] + 64 * k;
    return count;
}

/* The rows in groups of at most listed_group(n_out) (balanced); every block
 * of outputs shares each weight vector it loads among the group's rows. With
 * scratch, each group's own nonzero inputs are listed there first, so that a
 * group multiplies only the zeros of its own union (forward_listed,
 * forward_listed_bytes); without, every input (forward_dense). The inputs are
 * x, or the images (one pointer a row) if they are not NULL (one function for
 * both: specialising each tripled the kernels' compile time and measured no
 * faster). With groups (images only), the groups and their lists are those. */
static void forward_groups(const double *x, const unsigned char *const *images, size_t rows,
                           size_t n_in, const double *w, size_t n_out, const double *bias,
                           double *z, uint32_t *scratch, const listed_groups *groups)
{
    block_plan plan;
    plan_blocks_of(n_out, LISTED_NV, &plan);
    int g = group_size(rows, (int)listed_group(n_out));
    if (groups != NULL) {
        assert(images != NULL && groups->size >= 1 && groups->size <= listed_group(n_out));
        g = (int)groups->size;
    }
    const uint32_t *inputs = scratch;
    const unsigned char *ahead[AHEAD_MOST];
    for (size_t r0 = 0; r0 < rows; r0 += (size_t)g) {
        int here = rows - r0 < (size_t)g ? (int)(rows - r0) : g;
        const double *xr = images != NULL ? NULL : x + r0 * n_in;
        const unsigned char *const *ir = images != NULL ? images + r0 : NULL;
        double *zr = z + r0 * n_out;
        size_t nonzeros, count = n_in, ahead_lines = 0;
        if (images != NULL && r0 + (size_t)here < rows) {
            size_t left = rows - r0 - (size_t)here;
            ahead_lines = image_lines(ir + here, left < (size_t)g ? left : (size_t)g, n_in, ahead);
        }
        if (groups != NULL) {
            size_t k = r0 / (size_t)g;
            inputs = groups->index + groups->start[k];
            count = groups->start[k + 1] - groups->start[k];
        } else if (scratch != NULL) {
            count = images != NULL ? list_any_bytes(ir, (size_t)here, n_in, scratch)
                                   : list_nonzero_any(xr, (size_t)here, n_in, scratch, &nonzeros);
        }
#define FORWARD(G, NV) forward_group_block(inputs, count, xr, ir, n_in, w, n_out, bias, zr, j0_, G, NV, m_, ahead, ahead_lines)
        FOR_EACH_BLOCK(plan, n_out, DISPATCH_G_NV(here, nv_, FORWARD))
#undef FORWARD
    }
}

static void forward_listed(const double *x, size_t rows, size_t n_in, const double *w,
                           size_t n_out, const double *bias, double *z, uint32_t *scratch)
{
    forward_groups(x, NULL, rows, n_in, w, n_out, bias, z, scratch, NULL);
}

static void forward_listed_bytes(const unsigned char *const *images, size_t rows, size_t n_in,
                                 const double *w, size_t n_out, const double *bias, double *z,
                                 uint32_t *scratch, const listed_groups *groups)
{
    forward_groups(NULL, images, rows, n_in, w, n_out, bias, z, scratch, groups);
}

static void forward_dense(const double *x, size_t rows, size_t n_in, const double *w,
                          size_t n_out, const double *bias, double *z)
{
    forward_groups(x, NULL, rows, n_in, w, n_out, bias, z, NULL, NULL);
}

/* The n <= 64 bytes p[0 .. n) as a bit each (bit k: p[k] != 0). */
static inline uint64_t nonzero_bytes(const unsigned char *p, size_t n)
{
#ifdef __AVX2__
    if (n == 64) {
        const __m256i zero = _mm256_setzero_si256();
        __m256i low = _mm256_loadu_si256((const __m256i *)(const void *)p);
        __m256i high = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
        uint64_t zeros = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(low, zero)) |
                         (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(high, zero))
                             << 32;
        return ~zeros;
    }
#endif
    uint64_t bits = 0;
    for (size_t k = 0; k < n; k++)
        bits |= (uint64_t)(p[k] != 0) << k;
    return bits;
}

/* The same for n <= 64 doubles (NaN counts as nonzero). */
static inline uint64_t nonzero_doubles(const double *x, size_t n)
{
    uint64_t bits = 0;
    for (size_t k = 0; k < n; k++)
        bits |= (uint64_t)(x[k] != 0.0) << k;
    return bits;
}

/* a[r] bit c ↔ a[c] bit r: the 64 × 64 bit matrix transposed in place
 * (Hacker's Delight 7-3, swapping ever smaller blocks). */
static inline void transpose_bits(uint64_t a[64])
{
    uint64_t m = 0x00000000FFFFFFFFull;
    for (unsigned j = 32; j != 0; j >>= 1, m ^= m << j)
        for (unsigned k = 0; k < 64; k = ((k | j) + 1) & ~j) {
            uint64_t t = ((a[k] >> j) ^ a[k | j]) & m;
            a[k | j] ^= t;
            a[k] ^= t << j;
        }
}

/* The fewest rows for which listing the row bits pays (measured: at batch
 * 10 the listing costs more than the skipped rows save, from 32 on less). */
enum { ROW_BITS_MIN_ROWS = 32 };

/* For each input i < n_in, a bit per row r < rows, set if x[r][i] (or the
 * byte images[r][i]) is nonzero: bits[i · words + r / 64], words =
 * KERNELS_ROW_WORDS(rows). Built 64 rows × 64 inputs at a time: a mask per
 * row, then transposed. */
static void list_row_bits(const double *x, const unsigned char *const *images, size_t rows,
                          size_t n_in, uint64_t *bits)
{
    size_t words = KERNELS_ROW_WORDS(rows);
    uint64_t block[64];
    for (size_t i0 = 0; i0 < n_in; i0 += 64) {
        size_t width = n_in - i0 < 64 ? n_in - i0 : 64;
        for (size_t k = 0; k < words; k++) {
            size_t r0 = 64 * k, height = rows - r0 < 64 ? rows - r0 : 64;
            for (size_t r = 0; r < 64; r++)
                block[r] = r >= height       ? 0
                           : images != NULL ? nonzero_bytes(images[r0 + r] + i0, width)
                                            : nonzero_doubles(x + (r0 + r) * n_in + i0, width);
            transpose_bits(block);
            for (size_t c = 0; c < width; c++)
                bits[(i0 + c) * words + k] = block[c];
        }
    }
}

/* Row r's term for p inputs (inputs[t0 ..], NULL: t0 ..) in one block: each
 * row's δ vector is loaded once and used by every input. */
ALWAYS_INLINE void update_group_row(VEC acc[8][16], const uint32_t *inputs, size_t t0,
                                    const double *x, const unsigned char *const *images,
                                    size_t r, size_t n_in, const double *dj, size_t n_out, int p,
                                    int nv, VMASK last)
{
    const double *d = dj + r * n_out;
    VEC xv[8];
    for (int q = 0; q < p; q++) {
        size_t i = inputs != NULL ? inputs[t0 + (size_t)q] : t0 + (size_t)q;
        xv[q] = V_SET1(images != NULL ? kernels_byte_value[images[r][i]] : x[r * n_in + i]);
    }
    for (int v = 0; v < nv; v++) {
        VEC dv = v == nv - 1 ? V_LOADM(d + v * VW, last) : V_LOAD(d + v * VW);
        for (int q = 0; q < p; q++)
            acc[q][v] = V_FMA(xv[q], dv, acc[q][v]);
    }
}

/* One block of the update of p listed inputs' weights at once (their p · nv
 * sums are independent chains, so that the fma latency is hidden), each
 * summed over the rows in increasing order; x, or the images as in
 * forward_group_block. With bits (list_row_bits), the rows in which all p
 * inputs are zero are skipped: their terms are exact zeros (numerics.md). */
ALWAYS_INLINE void update_group_block(const uint32_t *inputs, size_t t0, const double *x,
                                      const unsigned char *const *images, size_t rows,
                                      size_t n_in, const uint64_t *bits,
                                      const double *delta, size_t n_out, VEC alpha, VEC beta,
                                      double *w, size_t j0, int p, int nv, VMASK last)
{
    VEC acc[8][16];
    for (int q = 0; q < p; q++)
        for (int v = 0; v < nv; v++)
            acc[q][v] = V_ZERO();
    const double *dj = delta + j0;
    if (bits != NULL) {
        size_t words = KERNELS_ROW_WORDS(rows);
        for (size_t k = 0; k < words; k++) {
            uint64_t any = 0;
            for (int q = 0; q < p; q++)
                any |= bits[inputs[t0 + (size_t)q] * words + k];
            for (; any != 0; any &= any - 1) {
                size_t r = 64 * k + (size_t)__builtin_ctzll(any);
                update_group_row(acc, inputs, t0, x, images, r, n_in, dj, n_out, p, nv, last);
            }
        }
    } else {
        for (size_t r = 0; r < rows; r++)
            update_group_row(acc, inputs, t0, x, images, r, n_in, dj, n_out, p, nv, last);
    }
    for (int q = 0; q < p; q++) {
        size_t i = inputs != NULL ? inputs[t0 + (size_t)q] : t0 + (size_t)q;
        double *wi = w + i * n_out + j0;
        for (int v = 0; v < nv; v++) {
            VMASK m = v == nv - 1 ? last : V_FULL;
            VEC old = v == nv - 1 ? V_LOADM(wi + v * VW, last) : V_LOAD(wi + v * VW);
            V_STOREM(wi + v * VW, V_FMA(alpha, acc[q][v], V_MUL(beta, old)), m);
        }
    }
}

/* The update of the listed inputs (NULL: 0 .. count−1) for one block of
 * outputs, the inputs in groups whose accumulators fit in registers. */
ALWAYS_INLINE void update_groups_block(const uint32_t *inputs, size_t count, const double *x,
                                       const unsigned char *const *images, size_t rows,
                                       size_t n_in, const uint64_t *bits,
                                       const double *delta, size_t n_out, VEC alpha, VEC beta,
                                       double *w, size_t j0, int nv, VMASK last)
{
    int most = group_limit(nv);
    for (size_t t = 0; t < count; t += (size_t)most) {
        int here = count - t < (size_t)most ? (int)(count - t) : most;
#define UPDATE(P, NV) update_group_block(inputs, t, x, images, rows, n_in, bits, delta, n_out, alpha, beta, w, j0, P, NV, last)
        DISPATCH_G_NV(here, nv, UPDATE)
#undef UPDATE
    }
}

/* Every block of outputs; x or the images, as forward_groups. With row_bits
 * (listed inputs only) and at least ROW_BITS_MIN_ROWS rows, each group of
 * inputs skips the rows in which it is all zero, the bits listed first
 * (list_row_bits). */
static void update_groups(const uint32_t *inputs, size_t count, const double *x,
                          const unsigned char *const *images, size_t rows, size_t n_in,
                          const double *delta, size_t n_out, double alpha, double beta,
                          double *w, uint64_t *row_bits)
{
    assert(row_bits == NULL || inputs != NULL);
    if (row_bits != NULL && rows >= ROW_BITS_MIN_ROWS)
        list_row_bits(x, images, rows, n_in, row_bits);
    else
        row_bits = NULL;
    block_plan plan;
    plan_blocks_of(n_out, LISTED_NV, &plan);
    VEC va = V_SET1(alpha), vb = V_SET1(beta);
    FOR_EACH_BLOCK(plan, n_out,
                   update_groups_block(inputs, count, x, images, rows, n_in, row_bits, delta,
                                       n_out, va, vb, w, j0_, nv_, m_))
}

static void update_listed(const uint32_t *inputs, size_t count, const double *x, size_t rows,
                          size_t n_in, const double *delta, size_t n_out, double alpha,
                          double beta, double *w, uint64_t *row_bits)
{
    update_groups(inputs, count, x, NULL, rows, n_in, delta, n_out, alpha, beta, w, row_bits);
}

static void update_listed_bytes(const uint32_t *inputs, size_t count,
                                const unsigned char *const *images, size_t rows, size_t n_in,
                                const double *delta, size_t n_out, double alpha, double beta,
                                double *w, uint64_t *row_bits)
{
    update_groups(inputs, count, NULL, images, rows, n_in, delta, n_out, alpha, beta, w,
                  row_bits);
}

/* Every input, in groups of inputs as update_listed. */
static void update_dense(const double *x, size_t rows, size_t n_in, const double *delta,
                         size_t n_out, double alpha, double beta, double *w)
{
    update_groups(NULL, n_in, x, NULL, rows, n_in, delta, n_out, alpha, beta, w, NULL);
}

/* Input by input from each input's own rows (the sparse path). */
static void update_sparse(const sparse_columns *cols, const double *x, size_t n_in,
                          const double *delta, size_t n_out, double alpha, double beta,
                          double *w)
{
    block_plan plan;
    plan_blocks(n_out, &plan);
    VEC va = V_SET1(alpha), vb = V_SET1(beta);
    /* β = 1 and α ≤ 0 (training without L2): fma(α, +0, w) = w exactly, so
     * inputs zero in every row can be left alone. */
    int skip_untouched = beta == 1.0 && signbit(alpha);
    for (size_t i = 0; i < n_in; i++) {
        const uint32_t *list = cols->row + cols->start[i];
        size_t count = cols->start[i + 1] - cols->start[i];
        if (count == 0 && skip_untouched)
            continue;
#define UPDATE(NV) update_block(list, count, x, n_in, i, delta, n_out, va, vb, w, j0_, NV, m_)
        FOR_EACH_BLOCK(plan, n_out, DISPATCH_NV(nv_, UPDATE))
#undef UPDATE
    }
}

#ifdef V_GATHER
/* exponential()'s main path on every lane (exponential.h; the same
 * operations in the same order, so the same doubles); lanes outside the main
 * range get garbage, which the callers replace. */
ALWAYS_INLINE VEC exp_main(VEC x)
{
    const exponential_constants *c = &EXPONENTIAL;
    VEC kd = V_FMA(x, V_SET1(c->inv_ln2_n), V_SET1(c->shift));
    VINT ki = V_BITS(kd);
    kd = V_SUB(kd, V_SET1(c->shift));
    VEC r = V_FMA(kd, V_SET1(c->neg_ln2_hi_n), x);
    r = V_FMA(kd, V_SET1(c->neg_ln2_lo_n), r);
    VINT idx = VI_INDEX(ki);
    VINT top = VI_SHL(ki, 45);
    VEC p23 = V_FMA(r, V_SET1(c->c3), V_SET1(c->c2));
    VEC tail_r = V_ADD(V_GATHER((const double *)(const void *)EXPONENTIAL_TABLE, idx), r);
    VINT sbits = VI_ADD(VI_GATHER((const int64_t *)(const void *)(EXPONENTIAL_TABLE + 1), idx),
                        top);
    VEC r2 = V_MUL(r, r);
    VEC p45 = V_FMA(r, V_SET1(c->c5), V_SET1(c->c4));
    VEC tmp = V_FMA(V_MUL(r2, r2), p45, V_FMA(p23, r2, tail_r));
    VEC scale = V_FROM_BITS(sbits);
    return V_FMA(scale, tmp, scale);
}

/* exp_values and sigmoid_values share this loop: y = f(x) a vector at a time,
 * then the scalar function for the lanes the main path does not serve (the
 * range is symmetric, so it is the same test for e^−x). y may be x. */
#define EXP_LOOP(VECTOR_F, SCALAR_F)                                                          \
    for (size_t i = 0; i < n; i += VW) {                                                      \
        size_t here = n - i < VW ? n - i : VW;                                                \
        VMASK m = here == VW ? V_FULL : V_MASK((int)here);                                    \
        VEC xv = V_LOADM(x + i, m);                                                           \
        unsigned outside = ~V_MAIN_LANES(xv) & ((1u << here) - 1u);                           \
        double kept[VW];                                                                      \
        if (outside != 0)                                                                     \
            V_STOREM(kept, xv, m);                                                            \
        V_STOREM(y + i, VECTOR_F(xv), m);                                                     \
        while (outside != 0) {                                                                \
            int l = __builtin_ctz(outside);                                                   \
            y[i + (size_t)l] = SCALAR_F(kept[l]);                                             \
            outside &= outside - 1;                                                           \
        }                                                                                     \
    }

static void exp_values(const double *x, size_t n, double *y)
{
    EXP_LOOP(exp_main, exponential)
}

ALWAYS_INLINE VEC sigmoid_main(VEC z)
{
    return V_DIV(V_SET1(1.0), V_ADD(V_SET1(1.0), exp_main(V_NEG(z))));
}

static double sigmoid_one(double z)
{
    return 1.0 / (1.0 + exponential(-z));
}

static void sigmoid_values(const double *x, size_t n, double *y)
{
    EXP_LOOP(sigmoid_main, sigmoid_one)
}
#undef EXP_LOOP

/* log1p_unit (logarithm.h) a vector at a time, the same operations in the same
 * order. */
ALWAYS_INLINE VEC log1p_main(VEC x)
{
    const logarithm_constants *c = &LOGARITHM;
    const VEC one = V_SET1(1.0), half = V_SET1(0.5);
    VEC u = V_ADD(one, x);
    VEC error = V_SUB(x, V_SUB(u, one));
    VEC k = V_TRUNC(V_MUL(u, V_SET1(c->inv_sqrt2)));
    VEC f = V_SUB(V_MUL(u, V_SUB(one, V_MUL(half, k))), one);
    VEC s = V_DIV(f, V_ADD(V_SET1(2.0), f));
    VEC z = V_MUL(s, s), w = V_MUL(z, z);
    VEC t1 = V_MUL(w, V_ADD(V_SET1(c->lg2), V_MUL(w, V_ADD(V_SET1(c->lg4),
                                                               V_MUL(w, V_SET1(c->lg6))))));
    VEC t2 = V_MUL(z, V_ADD(V_SET1(c->lg1),
                            V_MUL(w, V_ADD(V_SET1(c->lg3),
                                           V_MUL(w, V_ADD(V_SET1(c->lg5),
                                                          V_MUL(w, V_SET1(c->lg7))))))));
    VEC r = V_ADD(t2, t1), hfsq = V_MUL(V_MUL(half, f), f);
    VEC tail = V_ADD(V_MUL(k, V_SET1(c->ln2_lo)), V_DIV(error, u));
    VEC inner = V_SUB(V_SUB(hfsq, V_ADD(V_MUL(s, V_ADD(hfsq, r)), tail)), f);
    return V_SUB(V_MUL(k, V_SET1(c->ln2_hi)), inner);
}

static void log1p_values(const double *x, size_t n, double *y)
{
    for (size_t i = 0; i < n; i += VW) {
        size_t here = n - i < VW ? n - i : VW;
        VMASK m = here == VW ? V_FULL : V_MASK((int)here);
        V_STOREM(y + i, log1p_main(V_LOADM(x + i, m)), m);
    }
}
#else
static void exp_values(const double *x, size_t n, double *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = exponential(x[i]);
}

static void sigmoid_values(const double *x, size_t n, double *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = 1.0 / (1.0 + exponential(-x[i]));
}

static void log1p_values(const double *x, size_t n, double *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = log1p_unit(x[i]);
}
#endif

/* The table entries of each variant's kernel_variant after its name,
 * description and cpu_supports: this template's kernels, and the three each
 * variant defines under these names (convert_bytes, list_nonzero,
 * list_nonzero_any, list_any_bytes). */
#define KERNELS_FROM_TEMPLATE                                                                 \
    .convert_bytes = convert_bytes, .list_nonzero = list_nonzero,                             \
    .list_nonzero_any = list_nonzero_any,                                                     \
    .listed_rows = (V_REGS - 1) / (LISTED_NV + 1),                                            \
    .forward_dense = forward_dense, .forward_sparse = forward_sparse,                         \
    .update_dense = update_dense, .update_sparse = update_sparse,                             \
    .forward_listed = forward_listed, .forward_listed_bytes = forward_listed_bytes,           \
    .update_listed = update_listed, .update_listed_bytes = update_listed_bytes,               \
    .list_any_bytes = list_any_bytes, .listed_group = listed_group,                           \
    .exp_values = exp_values, .sigmoid_values = sigmoid_values,                               \
    .log1p_values = log1p_values
