/* test_grouping.c — the evaluation order (grouping.h): a permutation of the
 * part, the same every time, sorted by class, and groups whose unions of
 * nonzero pixels are smaller than those of the examples as they come.
 * (That the order changes no result is test_kernels.c's: the variants group
 * by 6, 3 and 1 rows and must record the same bits.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "grouping.h"
#include "kernels.h"
#include "test_support.h"
#include "train.h"

enum { COUNT = 97, PIXELS = 131, CLASSES = 3, GROUP = 6 };

/* Two shapes per class, alternating, so that the examples as they come mix
 * them in every group: shape s lights pixels in its own band of the image
 * (s = 0..5), with one pixel of noise a few images. */
typedef struct images {
    unsigned char pixels[COUNT * PIXELS];
    unsigned char labels[COUNT];
    data_part part;
} images;

static void make_images(images *im)
{
    memset(im, 0, sizeof *im);
    for (size_t i = 0; i < COUNT; i++) {
        size_t shape = (i * 5) % 6;
        im->labels[i] = (unsigned char)(shape / 2);
        unsigned char *p = im->pixels + i * PIXELS;
        for (size_t k = 0; k < 16; k++)
            p[shape * 20 + k + i % 3] = (unsigned char)(1 + (i * 7 + k) % 255);
        if (i % 4 == 0)
            p[(i * 13) % PIXELS] = 9;
    }
    im->part = (data_part){.count = COUNT, .input_size = PIXELS, .output_size = CLASSES,
                           .pixels = im->pixels, .labels = im->labels};
}

static size_t union_of_groups(const images *im, const size_t *order)
{
    size_t total = 0;
    for (size_t g0 = 0; g0 < COUNT; g0 += GROUP) {
        unsigned char any[PIXELS] = {0};
        for (size_t r = g0; r < g0 + GROUP && r < COUNT; r++)
            for (size_t k = 0; k < PIXELS; k++)
                any[k] |= im->pixels[order[r] * PIXELS + k] != 0;
        for (size_t k = 0; k < PIXELS; k++)
            total += any[k];
    }
    return total;
}

static void test_order_is_a_smaller_permutation(void **state)
{
    (void)state;
    images *im = malloc(sizeof *im);
    assert_non_null(im);
    make_images(im);
    size_t order[COUNT], again[COUNT], natural[COUNT];
    mlp_error err = {0};
    assert_int_equal(grouping_order(&im->part, GROUP, order, &err), MLP_OK);
    assert_int_equal(grouping_order(&im->part, GROUP, again, &err), MLP_OK);
    assert_memory_equal(order, again, sizeof order);
    unsigned char seen[COUNT] = {0};
    for (size_t i = 0; i < COUNT; i++) {
        assert_true(order[i] < COUNT);
        assert_false(seen[order[i]]);
        seen[order[i]] = 1;
        natural[i] = i;
    }
    /* sorted by class: no class comes back once left */
    for (size_t i = 1; i < COUNT; i++)
        assert_true(im->labels[order[i - 1]] <= im->labels[order[i]]);
    /* the greedy gathering beats the sort alone (groups of one: sorted only),
     * which beats the examples as they come */
    size_t sorted[COUNT];
    assert_int_equal(grouping_order(&im->part, 1, sorted, &err), MLP_OK);
    size_t grouped = union_of_groups(im, order), sorted_only = union_of_groups(im, sorted);
    assert_true(grouped < sorted_only);
    assert_true(sorted_only < union_of_groups(im, natural));
    free(im);
}

/* Groups of one: just the stable sort by (class, nonzero pixels). */
static void test_groups_of_one_are_the_sorted_order(void **state)
{
    (void)state;
    images *im = malloc(sizeof *im);
    assert_non_null(im);
    make_images(im);
    size_t order[COUNT];
    mlp_error err = {0};
    assert_int_equal(grouping_order(&im->part, 1, order, &err), MLP_OK);
    for (size_t i = 1; i < COUNT; i++) {
        size_t a = order[i - 1], b = order[i], count_a = 0, count_b = 0;
        for (size_t k = 0; k < PIXELS; k++) {
            count_a += im->pixels[a * PIXELS + k] != 0;
            count_b += im->pixels[b * PIXELS + k] != 0;
        }
        assert_true(im->labels[a] < im->labels[b] ||
                    (im->labels[a] == im->labels[b] &&
                     (count_a < count_b || (count_a == count_b && a < b))));
    }
    free(im);
}

/* Many images (more than the greedy's window of 600 and its shortlist), of
 * 28 x 28 pixels: strokes at random places, a class per stroke's row. */
enum { MANY = 2500, SIDE = 28, MANY_CLASSES = 4 };

static void make_many(unsigned char *pixels, unsigned char *labels, data_part *part)
{
    uint64_t state = 12345;
    memset(pixels, 0, (size_t)MANY * SIDE * SIDE);
    for (size_t i = 0; i < MANY; i++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        size_t row = (state >> 33) % (SIDE - 6), column = (state >> 45) % (SIDE - 12);
        size_t length = 4 + (state >> 20) % 9;
        labels[i] = (unsigned char)(row * MANY_CLASSES / (SIDE - 6));
        for (size_t k = 0; k < length; k++)
            for (size_t d = 0; d < 3; d++)
                pixels[i * SIDE * SIDE + (row + d + k / 4) * SIDE + column + k] =
                    (unsigned char)(1 + (state >> (k % 40)) % 255);
    }
    *part = (data_part){.count = MANY, .input_size = SIDE * SIDE, .output_size = MANY_CLASSES,
                        .pixels = pixels, .labels = labels};
}

/* Every kernel variant this CPU runs gives the same order: the AVX-512 one
 * counts bits in vectors where the CPU can (grouping.c), the others one word
 * at a time. And the order is a permutation whose groups beat the sort. */
static void test_same_order_in_every_variant(void **state)
{
    (void)state;
    unsigned char *pixels = malloc((size_t)MANY * SIDE * SIDE), labels[MANY];
    size_t *first = malloc(MANY * sizeof *first), *order = malloc(MANY * sizeof *order);
    assert_non_null(pixels);
    assert_non_null(first);
    assert_non_null(order);
    data_part part;
    make_many(pixels, labels, &part);
    mlp_error err = {0};
    size_t count, compared = 0;
    const kernel_variant *const *variants = kernels_table(&count);
    kernels_set_active(&kernels_portable);
    assert_int_equal(grouping_order(&part, GROUP, first, &err), MLP_OK);
    for (size_t v = 0; v < count; v++) {
        if (!variants[v]->cpu_supports())
            continue;
        kernels_set_active(variants[v]);
        assert_int_equal(grouping_order(&part, GROUP, order, &err), MLP_OK);
        assert_memory_equal(order, first, MANY * sizeof *order);
        compared++;
    }
    kernels_set_active(NULL);
    assert_true(compared >= 1);
    unsigned char *seen = calloc(MANY, 1);
    assert_non_null(seen);
    for (size_t i = 0; i < MANY; i++) {
        assert_true(first[i] < MANY);
        assert_false(seen[first[i]]);
        seen[first[i]] = 1;
    }
    assert_int_equal(grouping_order(&part, 1, order, &err), MLP_OK);
    size_t grouped = 0, sorted_only = 0;
    for (size_t g0 = 0; g0 < MANY; g0 += GROUP) {
        unsigned char any_grouped[SIDE * SIDE] = {0}, any_sorted[SIDE * SIDE] = {0};
        for (size_t r = g0; r < g0 + GROUP && r < MANY; r++)
            for (size_t k = 0; k < SIDE * SIDE; k++) {
                any_grouped[k] |= pixels[first[r] * SIDE * SIDE + k] != 0;
                any_sorted[k] |= pixels[order[r] * SIDE * SIDE + k] != 0;
            }
        for (size_t k = 0; k < SIDE * SIDE; k++) {
            grouped += any_grouped[k];
            sorted_only += any_sorted[k];
        }
    }
    assert_true(grouped < sorted_only);
    free(seen);
    free(order);
    free(first);
    free(pixels);
}

/* The grouped evaluation (its order and the unions listed once per run:
 * train.c) against the natural order, each group listing its own inputs:
 * the same cost and accuracy bits, for the training part (monitor_train)
 * and the validation part. A copy of a part is not the part an order was
 * made for, and a part whose count changed no longer matches its order:
 * both are measured in the natural order (the fallback). */
static void test_grouped_evaluation_changes_no_result(void **state)
{
    (void)state;
    unsigned char *pixels = malloc((size_t)MANY * SIDE * SIDE), labels[MANY];
    assert_non_null(pixels);
    data_part all;
    make_many(pixels, labels, &all);
    dataset data;
    memset(&data, 0, sizeof data);
    data.input_size = SIDE * SIDE;
    data.output_size = MANY_CLASSES;
    data.has_classes = 1;
    data.train = all;
    data.train.count = 2000;
    data.validation = all;
    data.validation.count = MANY - 2000;
    data.validation.pixels += 2000 * SIDE * SIDE;
    data.validation.labels += 2000;
    mlp_config config;
    test_config_network(&config, "inline", 3, (const int[]){SIDE * SIDE, 30, MANY_CLASSES},
                        "sigmoid", "sigmoid", "cross-entropy", "scaled");
    config.epochs = 1;
    config.batch_size = 10;
    config.learning_rate = 0.5;
    config.monitor_train = 1;
    config.seed = 3;
    trainer *t = NULL;
    mlp_error err = {0};
    assert_int_equal(trainer_new(&config, &data, &t, &err), MLP_OK);
    assert_int_equal(trainer_epoch(t, 0.5, NULL, &err), MLP_OK);
    const data_part *parts[2] = {&data.train, &data.validation};
    for (int k = 0; k < 2; k++) {
        data_part copy = *parts[k];
        double grouped_cost, grouped_accuracy, natural_cost, natural_accuracy;
        trainer_measure(t, parts[k], &grouped_cost, &grouped_accuracy);
        trainer_measure(t, &copy, &natural_cost, &natural_accuracy);
        assert_memory_equal(&grouped_cost, &natural_cost, sizeof natural_cost);
        assert_memory_equal(&grouped_accuracy, &natural_accuracy, sizeof natural_accuracy);
        assert_true(grouped_accuracy > 0.3);    /* it learned something: not a trivial count */
    }
    /* the training part, 7 examples shorter than its order: the natural order */
    data_part shorter = data.train;
    shorter.count -= 7;
    data.train.count -= 7;
    double changed_cost, changed_accuracy, copy_cost, copy_accuracy;
    trainer_measure(t, &data.train, &changed_cost, &changed_accuracy);
    trainer_measure(t, &shorter, &copy_cost, &copy_accuracy);
    assert_memory_equal(&changed_cost, &copy_cost, sizeof copy_cost);
    assert_memory_equal(&changed_accuracy, &copy_accuracy, sizeof copy_accuracy);
    trainer_free(t);
    free(pixels);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_is_a_smaller_permutation),
        cmocka_unit_test(test_groups_of_one_are_the_sorted_order),
        cmocka_unit_test(test_same_order_in_every_variant),
        cmocka_unit_test(test_grouped_evaluation_changes_no_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
