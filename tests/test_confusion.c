/* test_confusion.c — confusion matrices: counting by hand, and the matrices a
 * real run records checked against an independent computation from the run
 * file's saved weights (a plain-loop forward pass, not the BLAS one).
 *
 * The run trains on the first images of MNIST (data/mnist, which `make test`
 * fetches first) for a few epochs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_support.h"
#include "test_runs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "config.h"
#include "confusion.h"
#include "data.h"
#include "run.h"
#include "store.h"

/* ---- counting --------------------------------------------------------------- */

static void test_count_by_hand(void **state)
{
    (void)state;
    /* 7 examples of classes 0..2 (none of class 3), their predictions */
    const unsigned char labels[7] = {0, 0, 1, 1, 1, 2, 2};
    const int predicted[7] = {0, 1, 1, 1, 3, 2, 0};
    data_part part = {.count = 7, .input_size = 1, .output_size = 4, .labels = labels};
    int32_t counts[16];
    memset(counts, 0x55, sizeof counts);        /* counting starts from zero */
    confusion_count(&part, predicted, 4, counts);
    const int32_t expected[16] = {
        1, 1, 0, 0,     /* true 0: once right, once taken for 1 */
        0, 2, 0, 1,     /* true 1 */
        1, 0, 1, 0,     /* true 2 */
        0, 0, 0, 0,     /* true 3: no examples */
    };
    assert_memory_equal(counts, expected, sizeof expected);
    assert_true(confusion_class_accuracy(counts, 4, 0) == 0.5);
    assert_true(confusion_class_accuracy(counts, 4, 1) == 2.0 / 3.0);
    assert_true(confusion_class_accuracy(counts, 4, 2) == 0.5);
    assert_true(isnan(confusion_class_accuracy(counts, 4, 3)));
}

/* ---- a real run against its saved weights ------------------------------------ */

typedef study_fixture scratch;

static double *read_matrix(hid_t file, const char *name, size_t count)
{
    double *values = malloc(count * sizeof *values);
    assert_non_null(values);
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
    assert_true(dset >= 0);
    hid_t space = H5Dget_space(dset);
    assert_int_equal(H5Sget_simple_extent_npoints(space), (hssize_t)count);
    assert_true(H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) >= 0);
    H5Sclose(space);
    H5Dclose(dset);
    return values;
}

/* The predicted class of every example of part, by a forward pass in plain
 * loops through the weights saved in the run file (sigmoid layers). */
static void predict_from_file(const char *path, const int *sizes, int n_sizes,
                              const data_part *part, int *predicted)
{
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    double *w[4], *b[4];
    for (int k = 0; k + 1 < n_sizes; k++) {
        char name[64];
        snprintf(name, sizeof name, "weights/final/layer%d/weights", k + 1);
        w[k] = read_matrix(file, name, (size_t)sizes[k + 1] * (size_t)sizes[k]);
        snprintf(name, sizeof name, "weights/final/layer%d/biases", k + 1);
        b[k] = read_matrix(file, name, (size_t)sizes[k + 1]);
    }
    H5Fclose(file);
    double a[2][1024];
    for (size_t i = 0; i < part->count; i++) {
        for (int j = 0; j < sizes[0]; j++)
            a[0][j] = part->pixels[i * (size_t)sizes[0] + (size_t)j] / 255.0;
        int from = 0;
        for (int k = 0; k + 1 < n_sizes; k++, from ^= 1)
            for (int j = 0; j < sizes[k + 1]; j++) {
                double z = b[k][j];
                for (int m = 0; m < sizes[k]; m++)
                    z += w[k][(size_t)j * (size_t)sizes[k] + (size_t)m] * a[from][m];
                a[from ^ 1][j] = 1.0 / (1.0 + exp(-z));
            }
        int best = 0;
        for (int j = 1; j < sizes[n_sizes - 1]; j++)
            if (a[from][j] > a[from][best])
                best = j;
        predicted[i] = best;
    }
    for (int k = 0; k + 1 < n_sizes; k++) {
        free(w[k]);
        free(b[k]);
    }
}

static long trace(const int32_t *counts, size_t classes)
{
    long sum = 0;
    for (size_t c = 0; c < classes; c++)
        sum += counts[c * classes + c];
    return sum;
}

static void test_run_records_confusion(void **state)
{
    scratch *s = *state;
    /* A small, quick network that is still far from right after 4 epochs, so
     * the matrices have off-diagonal counts to get wrong. */
    mlp_config *config = NULL;
    char out_path[512];
    run_file run;
    study_fixture_run(s, "run",
                      "dataset: {name: mnist, train_size: 500, validation_size: 200, test_size: 300}\n"
                      "network: {sizes: [784, 20, 10], activation: sigmoid, output: sigmoid}\n"
                      "cost: cross-entropy\ninit: large\n"
                      "train: {epochs: 4, batch_size: 10, learning_rate: 0.5}\nseed: 3\n",
                      &config, out_path, &run);
    mlp_error err = {0};
    assert_int_equal(run.classes, 10);
    assert_int_equal(run.confusion_epoch[STORE_FINAL], 4);
    for (int w = 0; w < 2; w++)
        for (int p = 0; p < 2; p++)
            assert_non_null(run.confusion[w][p]);

    /* The final matrices are those of the saved final weights. */
    dataset *data = NULL;
    if (data_load(config, &data, &err) != MLP_OK)
        fail_msg("%s", err.message);
    const data_part *parts[2] = {&data->validation, &data->test};
    for (int p = 0; p < 2; p++) {
        int *predicted = malloc(parts[p]->count * sizeof *predicted);
        assert_non_null(predicted);
        predict_from_file(out_path, config->sizes, config->n_layers, parts[p], predicted);
        int32_t expected[100] = {0};
        for (size_t i = 0; i < parts[p]->count; i++)
            expected[parts[p]->labels[i] * 10 + predicted[i]]++;
        assert_memory_equal(run.confusion[STORE_FINAL][p], expected, sizeof expected);
        free(predicted);
    }
    /* ... and they agree with the accuracies of the final metrics row. */
    const epoch_metrics *last = &run.history.rows[run.history.count - 1];
    assert_true(trace(run.confusion[STORE_FINAL][STORE_TEST], 10) ==
                lround(last->test_accuracy * 300));
    int diagonal_only = trace(run.confusion[STORE_FINAL][STORE_TEST], 10) == 300;
    assert_false(diagonal_only);

    /* The best-validation matrices are of the first epoch of the highest
     * validation accuracy, and their diagonals give that epoch's accuracies. */
    size_t best = 0;
    for (size_t e = 1; e < run.history.count; e++)
        if (run.history.rows[e].validation_accuracy > run.history.rows[best].validation_accuracy)
            best = e;
    assert_int_equal(run.confusion_epoch[STORE_BEST_VALIDATION], (int)best);
    assert_true(trace(run.confusion[STORE_BEST_VALIDATION][STORE_VALIDATION], 10) ==
                lround(run.history.rows[best].validation_accuracy * 200));
    assert_true(trace(run.confusion[STORE_BEST_VALIDATION][STORE_TEST], 10) ==
                lround(run.history.rows[best].test_accuracy * 300));
    /* rows = true class: row c sums to the examples of class c */
    for (int c = 0; c < 10; c++) {
        long row = 0, members = 0;
        for (int j = 0; j < 10; j++)
            row += run.confusion[STORE_BEST_VALIDATION][STORE_VALIDATION][c * 10 + j];
        for (size_t i = 0; i < data->validation.count; i++)
            members += data->validation.labels[i] == c;
        assert_int_equal(row, members);
    }
    data_free(data);
    store_run_file_free(&run);
    config_free(config);
}

/* Inline data has no validation or test part: no /confusion at all. */
static void test_inline_run_has_none(void **state)
{
    scratch *s = *state;
    run_file run;
    study_fixture_run(s, "xor",
                      TEST_XOR_CLASSES_DATASET
                      "network: {sizes: [2, 3, 2]}\ntrain: {epochs: 2, batch_size: 2}\n",
                      NULL, NULL, &run);
    assert_null(run.confusion[STORE_FINAL][STORE_TEST]);
    assert_int_equal(run.confusion_epoch[STORE_FINAL], -1);
    store_run_file_free(&run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_by_hand),
        TEST_IN_STUDY(test_run_records_confusion, study_fixture_setup),
        TEST_IN_STUDY(test_inline_run_has_none, study_fixture_setup),
    };
    return cmocka_run_group_tests_name("confusion", tests, NULL, NULL);
}
