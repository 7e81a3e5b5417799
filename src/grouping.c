/* grouping.c — see grouping.h. */
#include "grouping.h"

#include <assert.h>
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

/* A group's other members come from the WINDOW images after its first in the
 * sorted order (within its class): first the SHORTLIST of them closest to the
 * first image by a coarse mask (a bit per 8 pixels), then, one at a time, the
 * one of those that adds the fewest pixels to the group's union. MNIST's
 * 50,000 training images in groups of six, inputs a group: 253 with the
 * greedy over a window of 30 and no shortlist (the order before), 213.5 over
 * a window of 600, 216.7 through the shortlist of 32 for a twelfth of the
 * union counts (214.8 with 64; a window of 300: 220). */
enum { WINDOW = 600, SHORTLIST = 32 };

/* The images' masks. fine: bit i set where pixel i is nonzero, `stride`
 * words an image, a multiple of 8 (one AVX-512 vector per 512 pixels), the
 * words past the pixels zero. coarse: COARSE_WORDS words an image, bit j mod
 * 128 set where one of pixels 8j .. 8j + 7 is (a 28 x 28 image has 98 such
 * blocks of 8; a larger one shares bits). */
enum { COARSE_WORDS = 2 };

typedef struct image_masks {
    size_t words;               /* of fine, those that hold pixels */
    size_t stride;
    uint64_t *fine, *coarse;
} image_masks;

/* Bit k of the result: byte k of the 8 at p is nonzero. Each nonzero byte is
 * folded onto its lowest bit, and the multiplication moves bit 8k to bit 56 + k
 * (the eight products never overlap, so nothing carries). Little-endian. */
static uint64_t nonzero_bits8(uint64_t w)
{
    w |= w >> 4;
    w |= w >> 2;
    w |= w >> 1;
    w &= UINT64_C(0x0101010101010101);
    return (w * UINT64_C(0x0102040810204080)) >> 56;
}

/* The two masks of m's image s from its n_in bytes. */
static inline void set_masks(const image_masks *m, size_t s, const unsigned char *image, size_t n_in)
{
    uint64_t *fine = m->fine + s * m->stride, *coarse = m->coarse + s * COARSE_WORDS;
    memset(fine, 0, m->stride * sizeof *fine);
    memset(coarse, 0, COARSE_WORDS * sizeof *coarse);
    for (size_t i = 0; i < n_in; i += 8) {
        uint64_t w = 0;
        if (n_in - i >= 8)
            memcpy(&w, image + i, 8);
        else
            memcpy(&w, image + i, n_in - i);
        fine[i / 64] |= nonzero_bits8(w) << (i % 64);
        coarse[i / 512 % COARSE_WORDS] |= (uint64_t)(w != 0) << (i / 8 % 64);
    }
}

/* |a ∪ b| in pixels (or coarse bits), over `words`. */
static inline size_t union_count(const uint64_t *a, const uint64_t *b, size_t words)
{
    size_t count = 0;
    for (size_t w = 0; w < words; w++)
        count += (size_t)__builtin_popcountll(a[w] | b[w]);
    return count;
}

/* The same masks and counts with AVX-512 (BW for the bytes, VPOPCNTDQ for the
 * bit counts): the same integers, several times faster. */
#define VECTOR_TARGET __attribute__((target("avx512f,avx512bw,avx512vpopcntdq")))

/* The bytes i .. i + 63 of image (those below n_in; zeros past it). */
VECTOR_TARGET static inline __m512i load_bytes(const unsigned char *image, size_t i, size_t n_in)
{
    __mmask64 inside = n_in - i >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << (n_in - i)) - 1;
    return _mm512_maskz_loadu_epi8(inside, image + i);
}

VECTOR_TARGET static inline void set_masks_vector(const image_masks *m, size_t s,
                                                  const unsigned char *image, size_t n_in)
{
    uint64_t *fine = m->fine + s * m->stride, *coarse = m->coarse + s * COARSE_WORDS;
    memset(fine, 0, m->stride * sizeof *fine);
    memset(coarse, 0, COARSE_WORDS * sizeof *coarse);
    for (size_t i = 0; i < n_in; i += 64) {
        __m512i bytes = load_bytes(image, i, n_in);
        fine[i / 64] = _mm512_test_epi8_mask(bytes, bytes);
        uint64_t blocks = _mm512_test_epi64_mask(bytes, bytes);
        coarse[i / 512 % COARSE_WORDS] |= blocks << (i / 8 % 64);
    }
}

VECTOR_TARGET static inline size_t union_count_vector(const uint64_t *a, const uint64_t *b,
                                                      size_t stride)
{
    __m512i count = _mm512_setzero_si512();
    for (size_t w = 0; w < stride; w += 8) {
        __m512i both = _mm512_or_si512(_mm512_loadu_si512(a + w), _mm512_loadu_si512(b + w));
        count = _mm512_add_epi64(count, _mm512_popcnt_epi64(both));
    }
    return (size_t)_mm512_reduce_add_epi64(count);
}

typedef size_t (*union_count_fn)(const uint64_t *, const uint64_t *, size_t);

/* The at most SHORTLIST images among positions [from, to) not yet used whose
 * coarse union with image `first`'s is smallest, in increasing position, into
 * list; returns how many. A counting selection: coarse counts are at most
 * 64 · COARSE_WORDS. */
static inline __attribute__((always_inline)) size_t
shortlist(const image_masks *m, size_t first, const unsigned char *used,
          size_t from, size_t to, size_t *list)
{
    enum { MOST_COUNT = 64 * COARSE_WORDS, USED = MOST_COUNT + 1 };
    uint16_t count[WINDOW];
    /* four histograms taken in turn, so that runs of equal counts do not
     * wait on each other's increments */
    uint16_t histogram[4][USED + 1];
    memset(histogram, 0, sizeof histogram);
    const uint64_t *mine = m->coarse + first * COARSE_WORDS;
    assert(to - from <= WINDOW);
    for (size_t s = from; s < to; s++) {
        size_t c = used[s] ? USED : union_count(mine, m->coarse + s * COARSE_WORDS, COARSE_WORDS);
        count[s - from] = (uint16_t)c;
        histogram[s % 4][c]++;
    }
    /* the threshold: every count below it is listed, and the first of those
     * equal to it until the list is full */
    size_t threshold = 0, below = 0;
    for (; threshold <= MOST_COUNT; threshold++) {
        size_t here = (size_t)histogram[0][threshold] + histogram[1][threshold] +
                      histogram[2][threshold] + histogram[3][threshold];
        if (below + here >= SHORTLIST)
            break;
        below += here;
    }
    size_t at_threshold = SHORTLIST - below, equal = 0, listed = 0;
    for (size_t s = from; s < to; s++) {
        size_t c = count[s - from];
        list[listed] = s;       /* list has room for one more */
        listed += c < threshold || (c == threshold && equal++ < at_threshold);
    }
    return listed;
}

/* The n sorted images regrouped greedily into groups of `group`: each group
 * starts from the first image left and takes, one at a time, the image of its
 * shortlist that adds the fewest pixels to its union (once those are taken,
 * the next image left). Classes end at the sorted positions class_end[...],
 * increasing, the last n. Writes sorted positions to placed_at.
 *
 * Why within the class: at a class's end the window would otherwise take the
 * next class's thinnest images, which add few pixels to any union but fit
 * their own class best (MNIST: 225 inputs a group instead of 214). */
static inline __attribute__((always_inline)) void
gather(union_count_fn count_union, size_t count_words, const image_masks *m, size_t n,
       const size_t *class_end, size_t group, unsigned char *used, size_t *placed_at)
{
    uint64_t group_union[64];
    size_t list[SHORTLIST + 1], stride = m->stride;
    assert(stride <= 64);
    size_t placed = 0, label = 0;
    for (size_t first = 0; placed < n; first++) {
        if (used[first])
            continue;
        while (class_end[label] <= first)
            label++;
        used[first] = 1;
        placed_at[placed++] = first;
        memcpy(group_union, m->fine + first * stride, stride * sizeof *group_union);
        size_t end = class_end[label] - first - 1 > WINDOW ? first + 1 + WINDOW
                                                           : class_end[label];
        size_t listed = group > 1 ? shortlist(m, first, used, first + 1, end, list) : 0;
        for (size_t member = 1; member < group && placed < n; member++) {
            size_t best = end, best_count = SIZE_MAX;
            for (size_t k = 0; k < listed; k++) {
                size_t s = list[k];
                if (used[s])
                    continue;
                size_t count = count_union(group_union, m->fine + s * stride, count_words);
                if (count < best_count) {
                    best = s;
                    best_count = count;
                }
            }
            while (best < n && used[best])      /* the window all taken: the next left */
                best++;
            used[best] = 1;
            placed_at[placed++] = best;
            for (size_t w = 0; w < stride; w++)
                group_union[w] |= m->fine[best * stride + w];
        }
    }
}

/* gather with the CPU's popcnt instruction where it has one (nearly every
 * x86-64 CPU since 2008), or with AVX-512: the same positions. */
__attribute__((target_clones("popcnt", "default")))
static void gather_scalar(const image_masks *m, size_t n, const size_t *class_end, size_t group,
                          unsigned char *used, size_t *placed_at)
{
    gather(union_count, m->words, m, n, class_end, group, used, placed_at);
}

VECTOR_TARGET static void gather_vector(const image_masks *m, size_t n, const size_t *class_end,
                                        size_t group, unsigned char *used, size_t *placed_at)
{
    gather(union_count_vector, m->stride, m, n, class_end, group, used, placed_at);
}

/* Every image's masks as the images lie, and key[i] = its class · (n_in + 1)
 * + its count of nonzero pixels (the sort key); set is set_masks or
 * set_masks_vector. */
static inline __attribute__((always_inline)) void
read_masks(void (*set)(const image_masks *, size_t, const unsigned char *, size_t),
           const data_part *part, const image_masks *m, size_t *key)
{
    size_t in = part->input_size;
    for (size_t i = 0; i < part->count; i++) {
        set(m, i, part->pixels + i * in, in);
        size_t label = (size_t)data_class(part, i), count = 0;
        assert(label < part->output_size);
        for (size_t w = 0; w < m->words; w++)
            count += (size_t)__builtin_popcountll(m->fine[i * m->stride + w]);
        key[i] = label * (in + 1) + count;
    }
}

__attribute__((target_clones("popcnt", "default")))
static void read_masks_scalar(const data_part *part, const image_masks *m, size_t *key)
{
    read_masks(set_masks, part, m, key);
}

VECTOR_TARGET static void read_masks_vector(const data_part *part, const image_masks *m,
                                            size_t *key)
{
    read_masks(set_masks_vector, part, m, key);
}

/* The vector version where the kernels in use are the AVX-512 ones and the
 * CPU has both extensions (Intel since Ice Lake, AMD since Zen 4). */
static int use_vector(void)
{
    __builtin_cpu_init();
    return kernels_active() == &kernels_avx512 && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vpopcntdq");
}

int grouping_order(const data_part *part, size_t group, size_t *order, mlp_error *err)
{
    assert(part->pixels != NULL && group >= 1 && group <= 16);
    size_t n = part->count, in = part->input_size, keys = part->output_size * (in + 1);
    image_masks natural = {(in + 63) / 64, (in + 511) / 512 * 8, NULL, NULL};
    if (natural.stride > 64) {  /* images over 4,096 pixels: the natural order */
        for (size_t i = 0; i < n; i++)
            order[i] = i;
        return MLP_OK;
    }
    image_masks m = natural;
    natural.fine = malloc((n * m.stride + 1) * sizeof *m.fine);
    natural.coarse = malloc((n * COARSE_WORDS + 1) * sizeof *m.coarse);
    m.fine = malloc((n * m.stride + 1) * sizeof *m.fine);
    m.coarse = malloc((n * COARSE_WORDS + 1) * sizeof *m.coarse);
    size_t *key = malloc((n + 1) * sizeof *key), *sorted = malloc((n + 1) * sizeof *sorted);
    size_t *start = calloc(keys + 1, sizeof *start);
    unsigned char *used = calloc(n + 1, 1);
    int status = MLP_OK;
    if (natural.fine == NULL || natural.coarse == NULL || m.fine == NULL || m.coarse == NULL ||
        key == NULL || sorted == NULL || start == NULL || used == NULL) {
        status = mlp_error_nomem(err, "the evaluation order");
        goto done;
    }
    /* the masks, reading the images as they lie; then a stable counting sort
     * by (class, nonzero pixels) */
    int vector = use_vector();
    if (vector)
        read_masks_vector(part, &natural, key);
    else
        read_masks_scalar(part, &natural, key);
    for (size_t i = 0; i < n; i++)
        start[key[i] + 1]++;
    for (size_t k = 0; k < keys; k++)
        start[k + 1] += start[k];
    for (size_t i = 0; i < n; i++)
        sorted[start[key[i]]++] = i;
    /* the masks in sorted order, so that a window's lie together */
    for (size_t s = 0; s < n; s++) {
        memcpy(m.fine + s * m.stride, natural.fine + sorted[s] * m.stride,
               m.stride * sizeof *m.fine);
        memcpy(m.coarse + s * COARSE_WORDS, natural.coarse + sorted[s] * COARSE_WORDS,
               COARSE_WORDS * sizeof *m.coarse);
    }
    size_t *placed_at = key;    /* the keys are no longer needed */
    size_t *class_end = start;  /* reused too: class c ends where its last bucket does */
    for (size_t label = 0; label < part->output_size; label++)
        class_end[label] = start[label * (in + 1) + in];
    if (vector)
        gather_vector(&m, n, class_end, group, used, placed_at);
    else
        gather_scalar(&m, n, class_end, group, used, placed_at);
    for (size_t i = 0; i < n; i++)
        order[i] = sorted[placed_at[i]];
done:
    free(used);
    free(start);
    free(sorted);
    free(key);
    free(m.coarse);
    free(m.fine);
    free(natural.coarse);
    free(natural.fine);
    return status;
}
