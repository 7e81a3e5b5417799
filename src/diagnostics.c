/* diagnostics.c — see diagnostics.h. */
#include "diagnostics.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define VECTOR_X86 1
#include <immintrin.h>
#endif


/* How a layer's saturation is counted, per activation. */
typedef enum saturation_kind {
    SATURATION_LOGISTIC,    /* a(1 − a) < the threshold, per (example, neuron) */
    SATURATION_TANH,        /* 1 − a² < the threshold, likewise */
    SATURATION_DEAD,        /* neurons 0 for every example of the epoch */
    SATURATION_NEVER,       /* the slope is 1 everywhere */
} saturation_kind;

typedef struct saturation_rule {
    const char *activation;
    saturation_kind kind;
} saturation_rule;

/* softmax: the Jacobian's diagonal, ∂a_j/∂z_j = a_j (1 − a_j). */
static const saturation_rule rules[] = {
    {"sigmoid", SATURATION_LOGISTIC},
    {"softmax", SATURATION_LOGISTIC},
    {"tanh", SATURATION_TANH},
    {"relu", SATURATION_DEAD},
    {"linear", SATURATION_NEVER},
};

static const saturation_rule *rule_for(const activation *act)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].activation, act->name) == 0)
            return &rules[i];
    return NULL;
}

typedef struct layer_sums {
    size_t inputs, neurons;
    const saturation_rule *rule;
    double saturated, abs_delta, activation, gradient_norm;
    size_t values, batches;
    unsigned char *alive;           /* DEAD rule: neuron was > 0 for some example */
} layer_sums;

struct diagnostics {
    size_t n_layers, capacity;
    double threshold;               /* the slope below which a unit is saturated */
    layer_sums layers[DIAGNOSTICS_MAX_LAYERS];
    const kernel_variant *kernels;  /* the process's: every variant gives the same doubles */
    double *gradient;               /* one layer's gradient (inputs x neurons), large batches */
    double *input_gram, *delta_gram;    /* a small batch's x xᵀ and δ δᵀ (rows x rows) */
    uint32_t *blocks;               /* the first layer's nonzero blocks */
    double *lanes;                  /* gram_upper's lanes */
    double *padded;                 /* a layer's rows padded to a multiple of LANES */
    const unsigned char **pixel_rows;   /* a batch's images, then their tails' copies */
    unsigned char *tails;           /* their last partial blocks, zeros after */
    int32_t *row_sums;              /* their sums, for the version that asks */
    const struct pixel_version *pixel;  /* the version pixel_gram_upper runs */
    void (*dense_gram)(struct diagnostics *d, const double *v, size_t rows, size_t n,
                       double *g);      /* gram_upper of every block: dense_gram_for */
};

/* The functions marked WIDE are compiled for several instruction sets (GCC's and
 * Clang's target_clones: AVX-512, AVX with FMA, the baseline; the dynamic loader
 * picks the widest this CPU has). They are plain C whose every sum is written out in
 * a fixed order: lanes that are independent sums, each product, addition and fma()
 * rounded once where the code says (the compiler fuses nothing itself:
 * -ffp-contract=off), so every version computes the same doubles; the wider ones only
 * compute several lanes at once. */
#if defined(__x86_64__) && defined(__ELF__) && (defined(__GNUC__) || defined(__clang__))
#define WIDE __attribute__((target_clones("avx512f", "fma", "default")))
#else
#define WIDE
#endif

/* Every sum of n values below runs in LANES lanes: lane l adds the values i ≡ l mod
 * LANES in increasing i from +0, and the lanes are added as a tree,
 * ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)). A "block" is the LANES positions
 * LANES b … LANES b + LANES − 1; the n mod LANES positions past the last whole block
 * come last, in their lanes. */
enum { LANES = 8 };

static double add_lanes(const double lane[LANES])
{
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

/* sums[u] = add_lanes(l[u]) for u = 0 … 7, the eight trees at once in vectors of
 * eight (GCC's and Clang's vector extensions): each element goes through the same
 * additions in the same order, ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7)), only
 * eight of them side by side instead of one value at a time. */
#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define HAVE_SHUFFLEVECTOR 1    /* GCC 12 and later, Clang */
#endif
#endif
#ifdef HAVE_SHUFFLEVECTOR
typedef double lanes8 __attribute__((vector_size(8 * sizeof(double))));
#define PAIRS(a, b, i, j, k, m, n, o, p, q) __builtin_shufflevector(a, b, i, j, k, m, n, o, p, q)

/* (inlined, so that it is compiled for the instruction set of its caller's clone) */
__attribute__((always_inline)) static inline void add_lanes8(double *const l[8], double sums[8])
{
    lanes8 v[8], p[4], q[2];
    for (size_t u = 0; u < 8; u++)
        memcpy(&v[u], l[u], sizeof v[u]);
    /* p[k] = (0 + 1), (2 + 3), (4 + 5), (6 + 7) of rows 2k and 2k + 1, interleaved */
    for (size_t k = 0; k < 4; k++)
        p[k] = PAIRS(v[2 * k], v[2 * k + 1], 0, 8, 2, 10, 4, 12, 6, 14) +
               PAIRS(v[2 * k], v[2 * k + 1], 1, 9, 3, 11, 5, 13, 7, 15);
    /* q[k] = (0 + 1) + (2 + 3) of rows 4k … 4k + 3, then (4 + 5) + (6 + 7) of them */
    for (size_t k = 0; k < 2; k++)
        q[k] = PAIRS(p[2 * k], p[2 * k + 1], 0, 1, 8, 9, 4, 5, 12, 13) +
               PAIRS(p[2 * k], p[2 * k + 1], 2, 3, 10, 11, 6, 7, 14, 15);
    lanes8 total = PAIRS(q[0], q[1], 0, 1, 2, 3, 8, 9, 10, 11) +
                   PAIRS(q[0], q[1], 4, 5, 6, 7, 12, 13, 14, 15);
    memcpy(sums, &total, sizeof total);
}
#undef PAIRS
#else
static void add_lanes8(double *const l[8], double sums[8])
{
    for (size_t u = 0; u < 8; u++)
        sums[u] = add_lanes(l[u]);
}
#endif

/* Writes the whole blocks where some row of v [rows x n] holds a nonzero (NaN
 * counts as one), in increasing order, to blocks; returns how many. A value is
 * nonzero when its bits other than the sign are: a block is, when the OR of all its
 * values' bits is without the sign bit. */
#define SIGN_BIT (UINT64_C(1) << 63)
WIDE static size_t nonzero_blocks(const double *v, size_t rows, size_t n, uint32_t *blocks)
{
    size_t count = 0;
    for (size_t b = 0; b < n / LANES; b++) {
        uint64_t bits[LANES], lane[LANES] = {0}, any = 0;
        for (size_t r = 0; r < rows; r++) {
            memcpy(bits, v + r * n + b * LANES, sizeof bits);
            for (size_t l = 0; l < LANES; l++)
                lane[l] |= bits[l];
        }
        for (size_t l = 0; l < LANES; l++)
            any |= lane[l];
        blocks[count] = (uint32_t)b;
        count += (any & ~SIGN_BIT) != 0;
    }
    return count;
}

/* The tiles gram_upper works in: two rows r, r + 1 (r even; the last row alone
 * when rows is odd) against four s at once, s = r … r + 3, r + 4 … r + 7, …: eight
 * dot products (the pair (r + 1, r) among them is not wanted), each in LANES lanes,
 * for six rows loaded; against two when only one or two s are left. */
static size_t gram_tiles(size_t rows)
{
    size_t tiles = 0;
    for (size_t r = 0; r < rows; r += 2)
        tiles += (rows - r + 3) / 4;
    return tiles;
}

/* Blocks per chunk: gram_upper goes through the blocks a chunk at a time, every tile
 * over the same chunk, so that the chunk's rows stay in the L1 cache (10 rows x 32
 * blocks of 8 doubles: 20 KiB) while the tiles take turns. */
enum { CHUNK = 32, TILE = 8 * LANES };

/* g[r][s] = v_r · v_s for s >= r (g rows x rows, row-major; the rest untouched), v
 * [rows x n], n a multiple of LANES (padded_rows), each a sum in lanes of fused
 * multiply-adds, lane = fma(v_r[i], v_s[i], lane); lanes holds gram_tiles(rows) ·
 * TILE doubles. blocks NULL: every whole block; else the `listed` whole blocks
 * blocks[0 …), which must include every block where some row is not 0: a block left
 * out adds ±0 to each lane, and a lane (+0 or not 0) is left as it was by ±0, so the
 * result is the same doubles as with every block (unless a value is infinite or
 * NaN). */
WIDE static void gram_upper(const double *v, size_t rows, size_t n, const uint32_t *blocks,
                            size_t listed, double *lanes, double *g)
{
    if (blocks == NULL)
        listed = n / LANES;
    /* (once with no blocks when none is listed: every lane +0) */
    for (size_t c = 0; c < listed || c == 0; c += CHUNK) {
        size_t end = listed - c < CHUNK ? listed : c + CHUNK;
        double *tile = lanes;
        for (size_t r = 0; r < rows; r += 2) {
            const double *va = v + r * n, *vb = v + (r + 1 < rows ? r + 1 : r) * n;
            for (size_t s = r; s < rows; s += 4, tile += TILE) {
                size_t width = rows - s < 4 ? rows - s : 4;
                /* past the last row: the last, again */
                const double *v0 = v + s * n, *v1 = v + (s + (width > 1)) * n;
                const double *v2 = v + (s + (width > 2 ? 2 : width - 1)) * n;
                const double *v3 = v + (s + width - 1) * n;
                /* eight named lanes, which the compiler keeps in vector registers */
                double l0[LANES], l1[LANES], l2[LANES], l3[LANES], l4[LANES], l5[LANES],
                    l6[LANES], l7[LANES];
                double *const l[8] = {l0, l1, l2, l3, l4, l5, l6, l7};
                for (size_t k = 0; k < LANES; k++)  /* the lanes so far */
                    l0[k] = l1[k] = l2[k] = l3[k] = l4[k] = l5[k] = l6[k] = l7[k] = 0.0;
                if (c > 0)
                    for (size_t k = 0; k < LANES; k++) {
                        l0[k] = tile[0 * LANES + k], l1[k] = tile[1 * LANES + k];
                        l2[k] = tile[2 * LANES + k], l3[k] = tile[3 * LANES + k];
                        l4[k] = tile[4 * LANES + k], l5[k] = tile[5 * LANES + k];
                        l6[k] = tile[6 * LANES + k], l7[k] = tile[7 * LANES + k];
                    }
                if (width > 2) {
                    for (size_t t = c; t < end; t++) {
                        size_t at = (blocks != NULL ? blocks[t] : t) * LANES;
                        for (size_t k = 0; k < LANES; k++) {
                            double a = va[at + k], b = vb[at + k];
                            double x0 = v0[at + k], x1 = v1[at + k], x2 = v2[at + k],
                                   x3 = v3[at + k];
                            l0[k] = fma(a, x0, l0[k]);
                            l1[k] = fma(a, x1, l1[k]);
                            l2[k] = fma(a, x2, l2[k]);
                            l3[k] = fma(a, x3, l3[k]);
                            l4[k] = fma(b, x0, l4[k]);
                            l5[k] = fma(b, x1, l5[k]);
                            l6[k] = fma(b, x2, l6[k]);
                            l7[k] = fma(b, x3, l7[k]);
                        }
                    }
                } else {        /* one or two s: half the work, the same lanes */
                    for (size_t t = c; t < end; t++) {
                        size_t at = (blocks != NULL ? blocks[t] : t) * LANES;
                        for (size_t k = 0; k < LANES; k++) {
                            double a = va[at + k], b = vb[at + k];
                            double x0 = v0[at + k], x1 = v1[at + k];
                            l0[k] = fma(a, x0, l0[k]);
                            l1[k] = fma(a, x1, l1[k]);
                            l4[k] = fma(b, x0, l4[k]);
                            l5[k] = fma(b, x1, l5[k]);
                        }
                    }
                }
                if (end < listed) {
                    for (size_t u = 0; u < 8; u++)
                        memcpy(tile + u * LANES, l[u], sizeof l0);
                    continue;
                }
                double sums[8];
                add_lanes8(l, sums);
                for (size_t u = 0; u < width; u++) {   /* the last chunk */
                    g[r * rows + s + u] = sums[u];
                    if (r + 1 < rows && s + u > r)
                        g[(r + 1) * rows + s + u] = sums[4 + u];
                }
            }
        }
    }
}

#ifdef VECTOR_X86
#define AVX512 __attribute__((target("avx512f,avx512vl")))

/* add_lanes8 of the accumulators a0 … a7 (element u of the result: a_u's lanes
 * added as ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7))), written out in AVX-512:
 * the pairs (0 + 1) … (6 + 7) of two accumulators at once by unpacking them, then
 * the sums of pairs of 128-bit lanes. */
AVX512 static inline __m512d add_lanes8_avx512(__m512d a0, __m512d a1, __m512d a2, __m512d a3,
                                               __m512d a4, __m512d a5, __m512d a6, __m512d a7)
{
    /* [A01 B01 A23 B23 A45 B45 A67 B67] of (A, B) = (a0, a1), …; Aij = A_i + A_j */
    __m512d p0 = _mm512_add_pd(_mm512_unpacklo_pd(a0, a1), _mm512_unpackhi_pd(a0, a1));
    __m512d p1 = _mm512_add_pd(_mm512_unpacklo_pd(a2, a3), _mm512_unpackhi_pd(a2, a3));
    __m512d p2 = _mm512_add_pd(_mm512_unpacklo_pd(a4, a5), _mm512_unpackhi_pd(a4, a5));
    __m512d p3 = _mm512_add_pd(_mm512_unpacklo_pd(a6, a7), _mm512_unpackhi_pd(a6, a7));
    /* 128-bit lanes 0, 2 of the first and of the second, plus lanes 1, 3:
     * [A0123 B0123 A4567 B4567 C0123 D0123 C4567 D4567] of p0, p1 */
    __m512d q0 = _mm512_add_pd(_mm512_shuffle_f64x2(p0, p1, 0x88),
                               _mm512_shuffle_f64x2(p0, p1, 0xdd));
    __m512d q1 = _mm512_add_pd(_mm512_shuffle_f64x2(p2, p3, 0x88),
                               _mm512_shuffle_f64x2(p2, p3, 0xdd));
    /* [A0123 … H0123] + [A4567 … H4567] */
    return _mm512_add_pd(_mm512_shuffle_f64x2(q0, q1, 0x88), _mm512_shuffle_f64x2(q0, q1, 0xdd));
}

/* A tile's eight entries x (rows r, r + 1 against s … s + width − 1) into g [rows
 * x rows], those with s >= r only, through masks. */
AVX512 static inline void store_tile_avx512(__m512d x, size_t rows, size_t r, size_t s,
                                            size_t width, double *g)
{
    const __mmask8 first = (__mmask8)((1u << width) - 1);
    _mm512_mask_storeu_pd(g + r * rows + s, first, x);
    if (r + 1 < rows)   /* (r + 1, s + u) for s + u > r */
        _mm256_mask_storeu_pd(g + (r + 1) * rows + s, first & (s > r ? 0xf : 0xe),
                              _mm512_extractf64x4_pd(x, 1));
}

/* One block of LANES doubles at i of the tile's rows (LOAD reads one), into its
 * eight accumulators; HALF: against v0, v1 only. */
#define GRAM_STEP_AVX512(LOAD, i)                                                          \
    do {                                                                                   \
        __m512d a = LOAD(va + (i)), b = LOAD(vb + (i)), x0 = LOAD(v0 + (i)),                \
                x1 = LOAD(v1 + (i)), x2 = LOAD(v2 + (i)), x3 = LOAD(v3 + (i));              \
        acc0 = _mm512_fmadd_pd(a, x0, acc0), acc1 = _mm512_fmadd_pd(a, x1, acc1);           \
        acc2 = _mm512_fmadd_pd(a, x2, acc2), acc3 = _mm512_fmadd_pd(a, x3, acc3);           \
        acc4 = _mm512_fmadd_pd(b, x0, acc4), acc5 = _mm512_fmadd_pd(b, x1, acc5);           \
        acc6 = _mm512_fmadd_pd(b, x2, acc6), acc7 = _mm512_fmadd_pd(b, x3, acc7);           \
    } while (0)
#define GRAM_HALF_AVX512(LOAD, i)                                                          \
    do {                                                                                   \
        __m512d a = LOAD(va + (i)), b = LOAD(vb + (i)), x0 = LOAD(v0 + (i)),                \
                x1 = LOAD(v1 + (i));                                                        \
        acc0 = _mm512_fmadd_pd(a, x0, acc0), acc1 = _mm512_fmadd_pd(a, x1, acc1);           \
        acc4 = _mm512_fmadd_pd(b, x0, acc4), acc5 = _mm512_fmadd_pd(b, x1, acc5);           \
    } while (0)
#define LOAD_WHOLE(p) _mm512_loadu_pd(p)
#define LOAD_REST(p) _mm512_maskz_loadu_pd(rest, p)

/* gram_upper with every block (blocks NULL) written out in AVX-512, one vector a
 * block: the same tiles, each lane the same chain of fma from +0 and the same
 * tree, so the same doubles. v [rows x n] need not be padded: the last, partial
 * block is read with the positions past n as 0, as padded_rows' copy holds them,
 * and g gets the entries s >= r only. */
AVX512 static void gram_upper_avx512(const double *v, size_t rows, size_t n, double *g)
{
    size_t whole = n / LANES * LANES;
    const __mmask8 rest = (__mmask8)((1u << (n % LANES)) - 1);
    for (size_t r = 0; r < rows; r += 2) {
        const double *va = v + r * n, *vb = v + (r + 1 < rows ? r + 1 : r) * n;
        for (size_t s = r; s < rows; s += 4) {
            size_t width = rows - s < 4 ? rows - s : 4;
            /* past the last row: the last, again */
            const double *v0 = v + s * n, *v1 = v + (s + (width > 1)) * n;
            const double *v2 = v + (s + (width > 2 ? 2 : width - 1)) * n;
            const double *v3 = v + (s + width - 1) * n;
            __m512d acc0 = _mm512_setzero_pd(), acc1 = acc0, acc2 = acc0, acc3 = acc0,
                    acc4 = acc0, acc5 = acc0, acc6 = acc0, acc7 = acc0;
            if (width > 2) {
                for (size_t i = 0; i < whole; i += LANES)
                    GRAM_STEP_AVX512(LOAD_WHOLE, i);
                if (rest != 0)
                    GRAM_STEP_AVX512(LOAD_REST, whole);
            } else {
                for (size_t i = 0; i < whole; i += LANES)
                    GRAM_HALF_AVX512(LOAD_WHOLE, i);
                if (rest != 0)
                    GRAM_HALF_AVX512(LOAD_REST, whole);
            }
            store_tile_avx512(
                add_lanes8_avx512(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7), rows, r, s,
                width, g);
        }
    }
}
#undef GRAM_STEP_AVX512
#undef GRAM_HALF_AVX512
#undef LOAD_WHOLE
#undef LOAD_REST
#endif

/* The first layer's input Gram matrix from the bytes of IDX data, x = p / 255
 * (data_batch). Σ_i p_r[i] p_s[i] is an integer (at most inputs · 255²), so it
 * comes out the same summed in any order at any vector width; x_r·x_s is that
 * integer / 255², rounded once. That is the correctly rounded Gram entry of the
 * exact inputs p / 255, within 3u relative of the one of the rounded doubles the
 * network sees (u = 2⁻⁵³; every term is ≥ 0, so nothing cancels), and it costs
 * integer products summed four at a time (vpdpbusd: 64 an instruction) or in
 * pairs (vpmaddwd in AVX2: 16 an instruction) against 8 fused multiply-adds of
 * doubles. The AVX2 and plain versions sum over the blocks of PIXEL_BLOCK bytes
 * that are not 0 in every row, read where the batch's images are, the last block
 * of a row, when inputs is not a multiple of PIXEL_BLOCK, from a copy padded with
 * zeros; the VNNI version over every block, the last through a mask.
 *
 * The tiles are gram_upper's: rows v[0], v[1] against v[2] … v[5], the eight sums
 * v[0]·v[2], v[0]·v[3], v[0]·v[4], v[0]·v[5], v[1]·v[2], … v[1]·v[5] over the
 * listed blocks (of each v[q], at v[q] + PIXEL_BLOCK · block), then over the one
 * block at tail[q] unless tail is NULL. Every partial sum is below 2³¹ in
 * magnitude for up to PIXEL_MAX_INPUTS inputs (255² · 32,768 < 2³¹), so the
 * vectors' 32-bit lanes and their totals hold them exactly; a wider layer takes
 * the doubles. */
enum { PIXEL_BLOCK = 64, PIXEL_MAX_INPUTS = 1 << 15 };
#define PIXEL_SCALE 65025.0     /* 255²: x_r·x_s = (Σ p_r p_s) / 255² */

typedef void pixel_tile_fn(const unsigned char *const v[6], const uint32_t *blocks,
                           size_t listed, const unsigned char *const *tail, int64_t sums[8]);

/* g[r][s] = x_r · x_s for s >= r (the rest of g untouched) of the rows row[0 …
 * rows) of `inputs` bytes each, with d's buffers. */
typedef void pixel_gram_fn(diagnostics *d, const unsigned char *const *row, size_t rows,
                           size_t inputs, double *g);

/* Writes the blocks b < n_blocks (of PIXEL_BLOCK bytes, at row[r] + PIXEL_BLOCK · b)
 * where some of the rows is not 0, in increasing order, to blocks; returns how
 * many. */
WIDE static size_t nonzero_pixel_blocks(const unsigned char *const *row, size_t rows,
                                        size_t n_blocks, uint32_t *blocks)
{
    size_t count = 0;
    for (size_t b = 0; b < n_blocks; b++) {
        uint64_t words[PIXEL_BLOCK / 8], lane[PIXEL_BLOCK / 8] = {0}, any = 0;
        for (size_t r = 0; r < rows; r++) {
            memcpy(words, row[r] + b * PIXEL_BLOCK, sizeof words);
            for (size_t l = 0; l < PIXEL_BLOCK / 8; l++)
                lane[l] |= words[l];
        }
        for (size_t l = 0; l < PIXEL_BLOCK / 8; l++)
            any |= lane[l];
        blocks[count] = (uint32_t)b;
        count += any != 0;
    }
    return count;
}

/* pixel_gram_fn by tiles of `tile` over the whole blocks where some row is not 0,
 * then the last partial block from d->tails (rows of PIXEL_BLOCK bytes whose bytes
 * past the row's stay 0) if some row is not 0 there; the sums divided by 255² one
 * by one. */
static void tiled_pixel_gram(pixel_tile_fn *tile, diagnostics *d,
                             const unsigned char *const *row, size_t rows, size_t inputs,
                             double *g)
{
    size_t whole = inputs / PIXEL_BLOCK, rest = inputs % PIXEL_BLOCK;
    const unsigned char **tail = d->pixel_rows + rows;
    for (size_t r = 0; r < rows; r++) {
        tail[r] = d->tails + r * PIXEL_BLOCK;
        memcpy(d->tails + r * PIXEL_BLOCK, row[r] + whole * PIXEL_BLOCK, rest);
    }
    uint32_t *blocks = d->blocks;
    size_t listed = nonzero_pixel_blocks(row, rows, whole, blocks);
    if (rest == 0 || nonzero_pixel_blocks(tail, rows, 1, blocks + listed) == 0)
        tail = NULL;
    for (size_t r = 0; r < rows; r += 2)
        for (size_t s = r; s < rows; s += 4) {
            size_t w = rows - s < 4 ? rows - s : 4;
            /* past the last row: the last, again */
            size_t q[6] = {r, r + 1 < rows ? r + 1 : r, s, s + (w > 1), s + (w > 2 ? 2 : w - 1),
                           s + w - 1};
            const unsigned char *v[6], *t[6];
            for (size_t i = 0; i < 6; i++) {
                v[i] = row[q[i]];
                t[i] = tail != NULL ? tail[q[i]] : NULL;
            }
            int64_t sums[8];
            tile(v, blocks, listed, tail != NULL ? t : NULL, sums);
            for (size_t u = 0; u < w; u++) {
                g[r * rows + s + u] = (double)sums[u] / PIXEL_SCALE;
                if (r + 1 < rows && s + u > r)
                    g[(r + 1) * rows + s + u] = (double)sums[4 + u] / PIXEL_SCALE;
            }
        }
}

static void pixel_block_plain(const unsigned char *const p[6], size_t at, int64_t s[8])
{
    for (size_t i = at; i < at + PIXEL_BLOCK; i++)
        for (size_t u = 0; u < 8; u++)
            s[u] += (int32_t)p[u / 4][i] * p[2 + u % 4][i];
}

static void pixel_tile_plain(const unsigned char *const v[6], const uint32_t *blocks,
                             size_t listed, const unsigned char *const *tail, int64_t sums[8])
{
    int64_t s[8] = {0};
    for (size_t t = 0; t < listed; t++)
        pixel_block_plain(v, (size_t)blocks[t] * PIXEL_BLOCK, s);
    if (tail != NULL)
        pixel_block_plain(tail, 0, s);
    memcpy(sums, s, sizeof s);
}

static void pixel_gram_plain(diagnostics *d, const unsigned char *const *row, size_t rows,
                             size_t inputs, double *g)
{
    tiled_pixel_gram(pixel_tile_plain, d, row, rows, inputs, g);
}

#ifdef VECTOR_X86
/* The tiles in vectors, written out: GCC at -O2 keeps arrays of vectors in memory.
 * acc0 … acc7 += the products of w0, w1 with x0 … x3, by dot(acc, w, x). */
#define PIXEL_TILE_STEP(dot, w0, w1, x0, x1, x2, x3)                                       \
    do {                                                                                   \
        acc0 = dot(acc0, w0, x0);                                                          \
        acc1 = dot(acc1, w0, x1);                                                          \
        acc2 = dot(acc2, w0, x2);                                                          \
        acc3 = dot(acc3, w0, x3);                                                          \
        acc4 = dot(acc4, w1, x0);                                                          \
        acc5 = dot(acc5, w1, x1);                                                          \
        acc6 = dot(acc6, w1, x2);                                                          \
        acc7 = dot(acc7, w1, x3);                                                          \
    } while (0)

#define MADD256(acc, w, x) _mm256_add_epi32(acc, _mm256_madd_epi16(w, x))
/* 16 bytes at p[q] + at as 16-bit integers */
#define WIDEN256(p, q, at) _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)((p)[q] + (at))))
/* One block of the rows p, 16 bytes at a time. */
#define PIXEL_BLOCK_AVX2(p, block)                                                         \
    for (size_t at = (block), end = at + PIXEL_BLOCK; at < end; at += 16) {                \
        __m256i w0 = WIDEN256(p, 0, at), w1 = WIDEN256(p, 1, at), x0 = WIDEN256(p, 2, at),  \
                x1 = WIDEN256(p, 3, at), x2 = WIDEN256(p, 4, at), x3 = WIDEN256(p, 5, at);  \
        PIXEL_TILE_STEP(MADD256, w0, w1, x0, x1, x2, x3);                                   \
    }

__attribute__((target("avx2"))) static int32_t add_lanes256(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

__attribute__((target("avx2"))) static void
pixel_tile_avx2(const unsigned char *const v[6], const uint32_t *blocks, size_t listed,
                const unsigned char *const *tail, int64_t sums[8])
{
    __m256i acc0 = _mm256_setzero_si256(), acc1 = acc0, acc2 = acc0, acc3 = acc0, acc4 = acc0,
            acc5 = acc0, acc6 = acc0, acc7 = acc0;
    for (size_t t = 0; t < listed; t++)
        PIXEL_BLOCK_AVX2(v, (size_t)blocks[t] * PIXEL_BLOCK)
    if (tail != NULL)
        PIXEL_BLOCK_AVX2(tail, 0)
    const __m256i all[8] = {acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7};
    for (size_t u = 0; u < 8; u++)
        sums[u] = add_lanes256(all[u]);
}

static void pixel_gram_avx2(diagnostics *d, const unsigned char *const *row, size_t rows,
                            size_t inputs, double *g)
{
    tiled_pixel_gram(pixel_tile_avx2, d, row, rows, inputs, g);
}

/* vpdpbusd multiplies unsigned bytes by signed ones: with q' = q − 128 (q XOR
 * 0x80 read as signed), Σ p q = Σ p q' + 128 Σ p, Σ p of the tile's rows v[0],
 * v[1]. A block is read by LOAD: a whole one, or the
 * last, partial one through the mask `rest` (its bytes past the row read as 0),
 * both where the images are, into the accumulators A0 … A7. HALF: against v[2],
 * v[3] only. */
#define PIXEL_WHOLE(p, at) _mm512_loadu_si512((const void *)((p) + (at)))
#define PIXEL_REST(p, at) _mm512_maskz_loadu_epi8(rest, (p) + (at))
#define PIXEL_FLIP(LOAD, p, at) _mm512_xor_si512(LOAD(p, at), flip)
#define PIXEL_BLOCK_VNNI(A, LOAD, v, at)                                                   \
    do {                                                                                   \
        __m512i w0 = LOAD(v[0], at), w1 = LOAD(v[1], at), x0 = PIXEL_FLIP(LOAD, v[2], at),  \
                x1 = PIXEL_FLIP(LOAD, v[3], at), x2 = PIXEL_FLIP(LOAD, v[4], at),           \
                x3 = PIXEL_FLIP(LOAD, v[5], at);                                            \
        A##0 = _mm512_dpbusd_epi32(A##0, w0, x0), A##1 = _mm512_dpbusd_epi32(A##1, w0, x1); \
        A##2 = _mm512_dpbusd_epi32(A##2, w0, x2), A##3 = _mm512_dpbusd_epi32(A##3, w0, x3); \
        A##4 = _mm512_dpbusd_epi32(A##4, w1, x0), A##5 = _mm512_dpbusd_epi32(A##5, w1, x1); \
        A##6 = _mm512_dpbusd_epi32(A##6, w1, x2), A##7 = _mm512_dpbusd_epi32(A##7, w1, x3); \
    } while (0)
#define PIXEL_HALF_VNNI(A, LOAD, v, at)                                                    \
    do {                                                                                   \
        __m512i w0 = LOAD(v[0], at), w1 = LOAD(v[1], at), x0 = PIXEL_FLIP(LOAD, v[2], at),  \
                x1 = PIXEL_FLIP(LOAD, v[3], at);                                            \
        A##0 = _mm512_dpbusd_epi32(A##0, w0, x0), A##1 = _mm512_dpbusd_epi32(A##1, w0, x1); \
        A##4 = _mm512_dpbusd_epi32(A##4, w1, x0), A##5 = _mm512_dpbusd_epi32(A##5, w1, x1); \
    } while (0)

#define VNNI __attribute__((target("avx512f,avx512vl,avx512bw,avx512vnni")))

/* The totals of a0 … a7's sixteen 32-bit lanes, in order (exact integers: any
 * order of the additions gives them): pairs of vectors interleaved and added,
 * then pairs of those, then the 128-bit lanes. */
VNNI static inline __m256i add_lanes8_epi32(__m512i a0, __m512i a1, __m512i a2, __m512i a3,
                                            __m512i a4, __m512i a5, __m512i a6, __m512i a7)
{
    /* each 128-bit lane: [A B A B] of (A, B) = (a0, a1), … */
    __m512i t0 = _mm512_add_epi32(_mm512_unpacklo_epi32(a0, a1), _mm512_unpackhi_epi32(a0, a1));
    __m512i t1 = _mm512_add_epi32(_mm512_unpacklo_epi32(a2, a3), _mm512_unpackhi_epi32(a2, a3));
    __m512i t2 = _mm512_add_epi32(_mm512_unpacklo_epi32(a4, a5), _mm512_unpackhi_epi32(a4, a5));
    __m512i t3 = _mm512_add_epi32(_mm512_unpacklo_epi32(a6, a7), _mm512_unpackhi_epi32(a6, a7));
    /* each 128-bit lane: [A B C D] of a0 … a3, of a4 … a7 */
    __m512i u0 = _mm512_add_epi32(_mm512_unpacklo_epi64(t0, t1), _mm512_unpackhi_epi64(t0, t1));
    __m512i u1 = _mm512_add_epi32(_mm512_unpacklo_epi64(t2, t3), _mm512_unpackhi_epi64(t2, t3));
    /* the four 128-bit lanes of each added: [a0 … a3, a0 … a3, a4 … a7, a4 … a7] */
    __m512i v = _mm512_add_epi32(_mm512_shuffle_i32x4(u0, u1, 0x88),
                                 _mm512_shuffle_i32x4(u0, u1, 0xdd));
    v = _mm512_add_epi32(v, _mm512_shuffle_i32x4(v, v, 0xb1));
    return _mm512_castsi512_si256(_mm512_shuffle_i32x4(v, v, 0x88));
}

/* One tile's blocks, every one (on MNIST, skipping the few that are 0 in every
 * image of a batch saved less than listing them cost): its eight sums (HALF:
 * only those against v[2], v[3]) before the correction, in two sets of
 * accumulators that take turns, two chains of vpdpbusd (5 cycles each) half as
 * long; with SUMS, also Σ p of v[0] and of v[1] into row_sums[0 … 1] (vpsadbw
 * against 0 sums eight bytes into 64 bits, on another port). */
VNNI __attribute__((always_inline)) static inline __m256i
pixel_tile_vnni(const unsigned char *const v[6], size_t whole, __mmask64 rest, int half, int sums,
                int32_t row_sums[2])
{
    const __m512i flip = _mm512_set1_epi32(INT32_C(-0x7f7f7f80)); /* 0x80 in every byte */
    const __m512i zero = _mm512_setzero_si512();
    const size_t end = whole * PIXEL_BLOCK;
    __m512i acc0 = zero, acc1 = zero, acc2 = zero, acc3 = zero, acc4 = zero, acc5 = zero,
            acc6 = zero, acc7 = zero, odd0 = zero, odd1 = zero, odd2 = zero, odd3 = zero,
            odd4 = zero, odd5 = zero, odd6 = zero, odd7 = zero, sum0 = zero, sum1 = zero;
#define PIXEL_STEP(A, LOAD, at)                                                            \
    do {                                                                                   \
        if (half)                                                                          \
            PIXEL_HALF_VNNI(A, LOAD, v, at);                                               \
        else                                                                               \
            PIXEL_BLOCK_VNNI(A, LOAD, v, at);                                              \
        if (sums) {                                                                        \
            sum0 = _mm512_add_epi64(sum0, _mm512_sad_epu8(LOAD(v[0], at), zero));           \
            sum1 = _mm512_add_epi64(sum1, _mm512_sad_epu8(LOAD(v[1], at), zero));           \
        }                                                                                  \
    } while (0)
    size_t b = 0;
    for (; b + 1 < whole; b += 2) {
        PIXEL_STEP(acc, PIXEL_WHOLE, b * PIXEL_BLOCK);
        PIXEL_STEP(odd, PIXEL_WHOLE, (b + 1) * PIXEL_BLOCK);
    }
    if (b < whole)
        PIXEL_STEP(acc, PIXEL_WHOLE, b * PIXEL_BLOCK);
    if (_cvtmask64_u64(rest) != 0)
        PIXEL_STEP(odd, PIXEL_REST, end);
#undef PIXEL_STEP
    if (sums) {
        row_sums[0] = (int32_t)_mm512_reduce_add_epi64(sum0);
        row_sums[1] = (int32_t)_mm512_reduce_add_epi64(sum1);
    }
    return add_lanes8_epi32(_mm512_add_epi32(acc0, odd0), _mm512_add_epi32(acc1, odd1),
                            _mm512_add_epi32(acc2, odd2), _mm512_add_epi32(acc3, odd3),
                            _mm512_add_epi32(acc4, odd4), _mm512_add_epi32(acc5, odd5),
                            _mm512_add_epi32(acc6, odd6), _mm512_add_epi32(acc7, odd7));
}

/* pixel_gram_fn in AVX-512 VNNI: the tiles, against one or two rows by half the
 * products, each pair of rows' first tile summing their bytes too; a tile's eight
 * sums corrected, converted and divided by 255² as one vector, and stored into g
 * through masks. */
VNNI static void pixel_gram_vnni(diagnostics *d, const unsigned char *const *row, size_t rows,
                                 size_t inputs, double *g)
{
    (void)d;
    const size_t whole = inputs / PIXEL_BLOCK;
    const __mmask64 rest = _cvtu64_mask64(
        inputs % PIXEL_BLOCK != 0 ? (UINT64_C(1) << inputs % PIXEL_BLOCK) - 1 : 0);
    const __m512d scale = _mm512_set1_pd(PIXEL_SCALE);
    for (size_t r = 0; r < rows; r += 2) {
        int32_t row_sums[2] = {0, 0};   /* of rows r, r + 1, from the first tile */
        for (size_t s = r; s < rows; s += 4) {
            size_t width = rows - s < 4 ? rows - s : 4;
            /* past the last row: the last, again */
            size_t q[6] = {r, r + 1 < rows ? r + 1 : r, s, s + (width > 1),
                           s + (width > 2 ? 2 : width - 1), s + width - 1};
            const unsigned char *v[6];
            for (size_t i = 0; i < 6; i++)
                v[i] = row[q[i]];
            __m256i sums;
            if (width > 2)
                sums = s == r ? pixel_tile_vnni(v, whole, rest, 0, 1, row_sums)
                              : pixel_tile_vnni(v, whole, rest, 0, 0, row_sums);
            else
                sums = s == r ? pixel_tile_vnni(v, whole, rest, 1, 1, row_sums)
                              : pixel_tile_vnni(v, whole, rest, 1, 0, row_sums);
            /* + 128 Σ p of v[0] in the first four, of v[1] in the last four */
            const __m256i high = _mm256_set1_epi32(128 * row_sums[1]);
            sums = _mm256_add_epi32(sums, _mm256_mask_set1_epi32(high, 0x0f, 128 * row_sums[0]));
            store_tile_avx512(_mm512_div_pd(_mm512_cvtepi32_pd(sums), scale), rows, r, s, width,
                              g);
        }
    }
}
#undef PIXEL_WHOLE
#undef PIXEL_REST
#undef PIXEL_FLIP
#undef PIXEL_BLOCK_VNNI
#undef PIXEL_HALF_VNNI

static int cpu_has_avx512vnni(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw");
}
#endif

static int always(void)
{
    return 1;
}

/* The versions, widest first, by the kernel variant that allows them (the
 * kernels' own choice of a variant checked the CPU for it, VNNI aside: AVX-512
 * without it takes the AVX2 version). Exact integers, so every version gives the
 * same sums; following the variant lets MLPLAB_KERNELS and the tests run each. */
typedef struct pixel_version {
    const char *variant;
    int (*cpu_supports)(void);
    pixel_gram_fn *gram;
} pixel_version;

static const pixel_version pixel_versions[] = {
#ifdef VECTOR_X86
    {"avx512", cpu_has_avx512vnni, pixel_gram_vnni},
    {"avx2", always, pixel_gram_avx2},
#endif
    {"portable", always, pixel_gram_plain},
};

static const pixel_version *pixel_version_for(const kernel_variant *variant)
{
    size_t n = sizeof pixel_versions / sizeof pixel_versions[0], first = n - 1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(pixel_versions[i].variant, variant->name) == 0) {
            first = i;
            break;
        }
    for (size_t i = first; i < n; i++)
        if (pixel_versions[i].cpu_supports())
            return &pixel_versions[i];
    return &pixel_versions[n - 1];
}

/* g[r][s] = x_r · x_s for s >= r, from the bytes (the rest of g untouched). */
static void pixel_gram_upper(diagnostics *d, const diagnostics_pixels *pixels, size_t rows,
                             size_t inputs, double *g)
{
    const unsigned char **row = d->pixel_rows;
    for (size_t r = 0; r < rows; r++)
        row[r] = pixels->pixels + pixels->indices[r] * inputs;
    d->pixel->gram(d, row, rows, inputs, g);
}

/* v [rows x n] as rows of a multiple of LANES: v itself if n is one, else a copy in
 * padded with zeros (which change no lane). */
WIDE static const double *padded_rows(const double *v, size_t rows, size_t n, double *padded)
{
    size_t width = (n + LANES - 1) / LANES * LANES, whole = n / LANES * LANES;
    if (width == n)
        return v;
    /* whole blocks of fixed size, which compile to vector moves, not to calls */
    for (size_t r = 0; r < rows; r++) {
        const double *from = v + r * n;
        double *to = padded + r * width;
        for (size_t b = 0; b < whole; b += LANES)
            memcpy(to + b, from + b, LANES * sizeof *v);
        for (size_t k = 0; k < LANES; k++)
            to[whole + k] = 0.0;
        for (size_t i = whole; i < n; i++)
            to[i] = from[i];
    }
    return padded;
}

/* The layer's values of one batch: Σ |δ| and Σ a (in lanes) into *abs_delta and
 * *activation_sum, and the number of values whose slope is below the threshold (the
 * LOGISTIC and TANH rules; 0 for the others), counted in lanes too, which lets the
 * compiler test several values at once. */
WIDE static size_t sum_values(const double *a, const double *delta, size_t count,
                              saturation_kind kind, double threshold, double *abs_delta,
                              double *activation_sum)
{
    double abs_lane[LANES] = {0}, a_lane[LANES] = {0};
    uint64_t below[LANES] = {0};
    size_t whole = count / LANES * LANES;
    for (size_t i = 0; i < whole; i += LANES)
        for (size_t l = 0; l < LANES; l++) {
            abs_lane[l] += fabs(delta[i + l]);
            a_lane[l] += a[i + l];
        }
    if (kind == SATURATION_LOGISTIC)
        for (size_t i = 0; i < whole; i += LANES)
            for (size_t l = 0; l < LANES; l++)
                below[l] += a[i + l] * (1.0 - a[i + l]) < threshold;
    else if (kind == SATURATION_TANH)
        for (size_t i = 0; i < whole; i += LANES)
            for (size_t l = 0; l < LANES; l++)
                below[l] += 1.0 - a[i + l] * a[i + l] < threshold;
    for (size_t i = whole; i < count; i++) {
        abs_lane[i % LANES] += fabs(delta[i]);
        a_lane[i % LANES] += a[i];
        if (kind == SATURATION_LOGISTIC)
            below[0] += a[i] * (1.0 - a[i]) < threshold;
        else if (kind == SATURATION_TANH)
            below[0] += 1.0 - a[i] * a[i] < threshold;
    }
    *abs_delta = add_lanes(abs_lane);
    *activation_sum = add_lanes(a_lane);
    uint64_t total = 0;
    for (size_t l = 0; l < LANES; l++)
        total += below[l];
    return (size_t)total;
}

/* The versions of gram_upper over every block (blocks NULL) of v [rows x n], n
 * any: in plain C over a copy padded to whole blocks, or in AVX-512 under the
 * avx512 kernel variant (whose choice checked the CPU for it). The same doubles. */
static void dense_gram_plain(diagnostics *d, const double *v, size_t rows, size_t n, double *g)
{
    size_t width = (n + LANES - 1) / LANES * LANES;
    gram_upper(padded_rows(v, rows, n, d->padded), rows, width, NULL, 0, d->lanes, g);
}

#ifdef VECTOR_X86
static void dense_gram_avx512(diagnostics *d, const double *v, size_t rows, size_t n, double *g)
{
    (void)d;
    gram_upper_avx512(v, rows, n, g);
}
#endif

static void (*dense_gram_for(const kernel_variant *variant))(diagnostics *, const double *,
                                                             size_t, size_t, double *)
{
#ifdef VECTOR_X86
    if (strcmp(variant->name, "avx512") == 0)
        return dense_gram_avx512;
#endif
    (void)variant;
    return dense_gram_plain;
}

/* The squared Frobenius norm of one batch's gradient Σ_r δ_r x_rᵀ (δ rows x
 * neurons, x rows x inputs), in one fixed order whatever the CPU and the kernel
 * variant (docs/numerics.md). A small batch goes through the Gram matrices,
 *
 *   ‖Σ_r δ_r x_rᵀ‖² = Σ_{r,s} (δ_r·δ_s)(x_r·x_s),
 *
 * rows²/2 · (inputs + neurons) products against the gradient's rows · inputs ·
 * neurons, and fewer still in the first layer, whose dot products skip the blocks
 * of inputs that are 0 in every example of the batch (3 in 10 for a batch of 10
 * MNIST images) and, for IDX data, are exact sums of bytes (pixel_gram_upper). A
 * large batch goes through the gradient itself, which the kernels compute at their
 * full vector width. */
static int use_gram(size_t rows, size_t inputs, size_t neurons)
{
    return rows * (rows + 1) / 2 * (inputs + neurons) <= rows * inputs * neurons;
}

/* Σ_r (D_rr X_rr + Σ_{s > r} 2 D_rs X_rs), r and s increasing, D = δ δᵀ and X = x xᵀ
 * from gram_upper (the first layer's skipping x's zero blocks), or X from the bytes
 * (pixel_gram_upper) when the first layer's input was scaled from them.
 *
 * Accuracy: each Gram entry is within about (n/8 + 4) u |v_r|·|v_s| of its exact
 * value (u = 2⁻⁵³; |v| the vector of absolute values; from bytes within 3u of
 * x_r·x_s, which is less), and the sum of the rows²
 * products adds rows² u more of Σ_{r,s} |D_rs X_rs|. With B = Σ_r ‖δ_r‖ ‖x_r‖, which
 * bounds both that sum and the norm itself, the squared norm is exact to about
 * (inputs/8 + neurons/8 + rows² + 11) u B². That is 10⁻¹⁴ relative or better
 * unless the rows cancel (the norm far below B: rows alike in x with opposite δ);
 * then the error stays below that many u B², and the norm (from a squared norm
 * clamped at 0) within sqrt of it times B: tests/test_diagnostics.c checks both
 * against a long-double computation of the gradient. */
static double gram_squared_norm(diagnostics *d, size_t k, const double *delta, size_t neurons,
                                const double *input, size_t inputs,
                                const diagnostics_pixels *pixels, size_t rows)
{
    d->dense_gram(d, delta, rows, neurons, d->delta_gram);
    if (k == 0 && pixels != NULL && inputs <= PIXEL_MAX_INPUTS) {
        pixel_gram_upper(d, pixels, rows, inputs, d->input_gram);
    } else if (k > 0) {
        d->dense_gram(d, input, rows, inputs, d->input_gram);
    } else {
        size_t width = (inputs + LANES - 1) / LANES * LANES;
        const double *x = padded_rows(input, rows, inputs, d->padded);
        /* the first layer: only the blocks of inputs that are not 0 in every row */
        size_t listed = nonzero_blocks(x, rows, width, d->blocks);
        gram_upper(x, rows, width, d->blocks, listed, d->lanes, d->input_gram);
    }
    double sum = 0.0;
    for (size_t r = 0; r < rows; r++) {
        sum += d->delta_gram[r * rows + r] * d->input_gram[r * rows + r];
        for (size_t s = r + 1; s < rows; s++)
            sum += 2.0 * d->delta_gram[r * rows + s] * d->input_gram[r * rows + s];
    }
    return sum;
}

/* Σ_i v[i]² in lanes. */
static double sum_squares(const double *v, size_t n)
{
    double lane[LANES] = {0};
    for (size_t i = 0; i < n; i++)
        lane[i % LANES] += v[i] * v[i];
    return add_lanes(lane);
}

/* The gradient g = xᵀ δ from the kernels' update (W ← 0 · W + 1 · xᵀ δ on
 * zeros: g itself), then Σ g². */
static double direct_squared_norm(diagnostics *d, const double *delta, size_t neurons,
                                  const double *input, size_t inputs, size_t rows)
{
    size_t n = inputs * neurons;
    memset(d->gradient, 0, n * sizeof *d->gradient);
    d->kernels->update_dense(input, rows, inputs, delta, neurons, 1.0, 0.0, d->gradient);
    return sum_squares(d->gradient, n);
}

diagnostics *diagnostics_new(size_t n_layers, const size_t *sizes,
                             const activation *const *activations, size_t capacity,
                             double threshold, mlp_error *err)
{
    if (n_layers == 0 || n_layers > sizeof ((diagnostics *)0)->layers /
                                        sizeof ((diagnostics *)0)->layers[0]) {
        mlp_error_set(err, MLP_ERR_RUN, "internal: diagnostics for %zu layers", n_layers);
        return NULL;
    }
    diagnostics *d = calloc(1, sizeof *d);
    if (d == NULL) {
        mlp_error_nomem(err, "the diagnostics");
        return NULL;
    }
    d->n_layers = n_layers;
    d->capacity = capacity;
    d->threshold = threshold;
    d->kernels = kernels_active();
    /* A layer takes the Gram matrices up to gram_rows rows (use_gram grows faster
     * in rows than the gradient's cost: true up to some rows, then false), the
     * gradient above. */
    size_t gram_rows_max = 0, gram_rows_first = 0, gradient_size = 0, padded_size = 0;
    for (size_t k = 0; k < n_layers; k++) {
        size_t gram_rows = 0;
        while (gram_rows < capacity && use_gram(gram_rows + 1, sizes[k], sizes[k + 1]))
            gram_rows++;
        if (k == 0)
            gram_rows_first = gram_rows;
        if (gram_rows > gram_rows_max)
            gram_rows_max = gram_rows;
        for (size_t j = k; j <= k + 1 && gram_rows > 0; j++)
            if (sizes[j] > padded_size)
                padded_size = sizes[j];
        if (gram_rows < capacity && sizes[k] * sizes[k + 1] > gradient_size)
            gradient_size = sizes[k] * sizes[k + 1];
    }
    d->gradient = malloc((gradient_size + 1) * sizeof(double));
    d->input_gram = malloc((gram_rows_max * gram_rows_max + 1) * sizeof(double));
    d->delta_gram = malloc((gram_rows_max * gram_rows_max + 1) * sizeof(double));
    /* a block per LANES inputs, the last one padded (PIXEL_BLOCK's are fewer) */
    d->blocks = malloc(((sizes[0] + LANES - 1) / LANES + 1) * sizeof *d->blocks);
    d->pixel_rows = malloc((2 * gram_rows_first + 1) * sizeof *d->pixel_rows);
    d->tails = calloc(gram_rows_first * PIXEL_BLOCK + 1, 1);   /* zeros past the rows */
    d->row_sums = calloc(gram_rows_first + 1, sizeof *d->row_sums);
    d->pixel = pixel_version_for(d->kernels);
    d->dense_gram = dense_gram_for(d->kernels);
    d->lanes = malloc((gram_tiles(gram_rows_max) * TILE + 1) * sizeof *d->lanes);
    d->padded = malloc((gram_rows_max * (padded_size + LANES) + 1) * sizeof *d->padded);
    int failed = d->gradient == NULL || d->input_gram == NULL || d->delta_gram == NULL ||
                 d->blocks == NULL || d->lanes == NULL || d->padded == NULL ||
                 d->pixel_rows == NULL || d->tails == NULL || d->row_sums == NULL;
    for (size_t k = 0; k < n_layers && !failed; k++) {
        layer_sums *l = &d->layers[k];
        l->inputs = sizes[k];
        l->neurons = sizes[k + 1];
        l->rule = rule_for(activations[k]);
        if (l->rule == NULL) {
            mlp_error_set(err, MLP_ERR_RUN, "internal: no saturation rule for activation %s",
                          activations[k]->name);
            diagnostics_free(d);
            return NULL;
        }
        if (l->rule->kind == SATURATION_DEAD)
            failed = (l->alive = calloc(l->neurons, 1)) == NULL;
    }
    if (failed) {
        mlp_error_nomem(err, "the diagnostics");
        diagnostics_free(d);
        return NULL;
    }
    return d;
}

void diagnostics_free(diagnostics *d)
{
    if (d == NULL)
        return;
    for (size_t k = 0; k < d->n_layers; k++)
        free(d->layers[k].alive);
    free(d->gradient);
    free(d->input_gram);
    free(d->delta_gram);
    free(d->blocks);
    free(d->lanes);
    free(d->padded);
    free(d->pixel_rows);
    free(d->tails);
    free(d->row_sums);
    free(d);
}

void diagnostics_start_epoch(diagnostics *d)
{
    for (size_t k = 0; k < d->n_layers; k++) {
        layer_sums *l = &d->layers[k];
        l->saturated = l->abs_delta = l->activation = l->gradient_norm = 0.0;
        l->values = l->batches = 0;
        if (l->alive != NULL)
            memset(l->alive, 0, l->neurons);
    }
}

int diagnostics_reads_first_input(const diagnostics *d, size_t rows)
{
    const layer_sums *l = &d->layers[0];
    return !(use_gram(rows, l->inputs, l->neurons) && l->inputs <= PIXEL_MAX_INPUTS);
}

void diagnostics_add_layer(diagnostics *d, size_t k, const double *a, const double *delta,
                           const double *input, const diagnostics_pixels *pixels, size_t rows)
{
    layer_sums *l = &d->layers[k];
    /* the norm first: its last sum is one chain of dependent additions, which the
     * CPU overlaps with the passes over a and δ that follow */
    double squares =
        use_gram(rows, l->inputs, l->neurons)
            ? gram_squared_norm(d, k, delta, l->neurons, input, l->inputs, pixels, rows)
            : direct_squared_norm(d, delta, l->neurons, input, l->inputs, rows);
    size_t count = rows * l->neurons;
    double abs_delta = 0.0, activation_sum = 0.0;
    size_t below = sum_values(a, delta, count, l->rule->kind, d->threshold, &abs_delta,
                              &activation_sum);
    if (l->rule->kind == SATURATION_DEAD)
        for (size_t r = 0; r < rows; r++)
            for (size_t j = 0; j < l->neurons; j++)
                l->alive[j] |= a[r * l->neurons + j] > 0.0;
    l->saturated += (double)below;
    l->abs_delta += abs_delta;
    l->activation += activation_sum;
    l->values += count;
    l->gradient_norm += sqrt(squares > 0.0 ? squares : 0.0) / (double)rows;
    l->batches++;
}

layer_diagnostics diagnostics_layer(const diagnostics *d, size_t k)
{
    const layer_sums *l = &d->layers[k];
    layer_diagnostics out = {NAN, NAN, NAN, NAN};
    if (l->batches == 0)
        return out;
    double values = (double)l->values;
    switch (l->rule->kind) {
    case SATURATION_LOGISTIC:
    case SATURATION_TANH:
        out.saturated_fraction = l->saturated / values;
        break;
    case SATURATION_DEAD: {
        size_t dead = 0;
        for (size_t j = 0; j < l->neurons; j++)
            dead += !l->alive[j];
        out.saturated_fraction = (double)dead / (double)l->neurons;
        break;
    }
    case SATURATION_NEVER:
        out.saturated_fraction = 0.0;
        break;
    }
    out.mean_abs_delta = l->abs_delta / values;
    out.mean_activation = l->activation / values;
    out.weight_gradient_norm = l->gradient_norm / (double)l->batches;
    return out;
}

const char *const diagnostics_field_names[DIAGNOSTICS_FIELDS] = {
    "saturated_fraction", "mean_abs_delta", "weight_gradient_norm", "mean_activation",
};

int diagnostics_metric_name(const char *name)
{
    if (strncmp(name, "layer", 5) != 0 || name[5] < '1' || name[5] > '9')
        return 0;
    const char *field = name + 6;
    while (*field >= '0' && *field <= '9')
        field++;
    if (*field++ != '_')
        return 0;
    for (size_t i = 0; i < DIAGNOSTICS_FIELDS; i++)
        if (strcmp(field, diagnostics_field_names[i]) == 0)
            return 1;
    return 0;
}
