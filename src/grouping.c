/* grouping.c — see grouping.h. */
#include "grouping.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Groups per greedy window: larger windows find slightly smaller unions
 * (MNIST, groups of six: 262 inputs with 3 groups, 253 with 5, 251 with 17)
 * at a cost quadratic in the window. */
enum { WINDOW_GROUPS = 5 };

/* Bit k of the result: byte k of the 8 at p is nonzero. Each nonzero byte is
 * folded onto its lowest bit, and the multiplication moves bit 8k to bit 56 + k
 * (the eight products never overlap, so nothing carries). Little-endian. */
static uint64_t nonzero_bits8(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    w |= w >> 4;
    w |= w >> 2;
    w |= w >> 1;
    w &= UINT64_C(0x0101010101010101);
    return (w * UINT64_C(0x0102040810204080)) >> 56;
}

/* mask (words of 64 bits): bit i set where image[i] is nonzero; returns how
 * many are. */
static size_t nonzero_mask(const unsigned char *image, size_t n_in, uint64_t *mask, size_t words)
{
    size_t count = 0;
    memset(mask, 0, words * sizeof *mask);
    size_t i = 0;
    for (; i + 8 <= n_in; i += 8)
        mask[i / 64] |= nonzero_bits8(image + i) << (i % 64);
    for (; i < n_in; i++)
        mask[i / 64] |= (uint64_t)(image[i] != 0) << (i % 64);
    for (size_t w = 0; w < words; w++)
        count += (size_t)__builtin_popcountll(mask[w]);
    return count;
}

/* The greedy search's inner loop: with the CPU's popcnt instruction where it
 * has one (nearly every x86-64 CPU since 2008), several times faster. */
__attribute__((target_clones("popcnt", "default")))
static size_t union_count(const uint64_t *a, const uint64_t *b, size_t words)
{
    size_t count = 0;
    for (size_t w = 0; w < words; w++)
        count += (size_t)__builtin_popcountll(a[w] | b[w]);
    return count;
}

/* The examples sorted[0 .. n) regrouped greedily into order (n <= the
 * window); mask(e) is example e's mask. */
static void gather_window(const uint64_t *masks, size_t words, const size_t *sorted, size_t n,
                          size_t group, size_t *order)
{
    unsigned char used[WINDOW_GROUPS * 16] = {0};
    uint64_t group_union[64];
    assert(n <= sizeof used && words <= 64);
    size_t placed = 0;
    for (size_t first = 0; placed < n; first++) {
        if (used[first])
            continue;
        used[first] = 1;
        order[placed++] = sorted[first];
        memcpy(group_union, masks + sorted[first] * words, words * sizeof *group_union);
        for (size_t member = 1; member < group && placed < n; member++) {
            size_t best = n, best_count = SIZE_MAX;
            for (size_t s = first + 1; s < n; s++) {
                if (used[s])
                    continue;
                size_t count = union_count(group_union, masks + sorted[s] * words, words);
                if (count < best_count) {
                    best = s;
                    best_count = count;
                }
            }
            used[best] = 1;
            order[placed++] = sorted[best];
            for (size_t w = 0; w < words; w++)
                group_union[w] |= masks[sorted[best] * words + w];
        }
    }
}

int grouping_order(const data_part *part, size_t group, size_t *order, mlp_error *err)
{
    assert(part->pixels != NULL && group >= 1 && group <= 16);
    size_t n = part->count, in = part->input_size, keys = part->output_size * (in + 1);
    size_t words = (in + 63) / 64, window = WINDOW_GROUPS * group;
    if (words > 64) {           /* images over 4,096 pixels: the natural order */
        for (size_t i = 0; i < n; i++)
            order[i] = i;
        return MLP_OK;
    }
    uint64_t *masks = malloc((n * words + 1) * sizeof *masks);
    size_t *key = malloc((n + 1) * sizeof *key), *sorted = malloc((n + 1) * sizeof *sorted);
    size_t *start = calloc(keys + 1, sizeof *start);
    if (masks == NULL || key == NULL || sorted == NULL || start == NULL) {
        free(masks);
        free(key);
        free(sorted);
        free(start);
        return mlp_error_nomem(err, "the evaluation order");
    }
    /* a stable counting sort by (class, nonzero pixels) */
    for (size_t i = 0; i < n; i++) {
        size_t count = nonzero_mask(part->pixels + i * in, in, masks + i * words, words);
        size_t label = (size_t)data_class(part, i);
        assert(label < part->output_size);
        key[i] = label * (in + 1) + count;
        start[key[i] + 1]++;
    }
    for (size_t k = 0; k < keys; k++)
        start[k + 1] += start[k];
    for (size_t i = 0; i < n; i++)
        sorted[start[key[i]]++] = i;
    for (size_t w0 = 0; w0 < n; w0 += window)
        gather_window(masks, words, sorted + w0, n - w0 < window ? n - w0 : window, group,
                      order + w0);
    free(start);
    free(sorted);
    free(key);
    free(masks);
    return MLP_OK;
}
