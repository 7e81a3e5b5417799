/* test_store.c — the HDF5 run file: round trip, atomic finish, kill and resume.
 *
 * Values are compared bit for bit (memcmp), so NaN, -0.0 and subnormals must
 * survive the file unchanged. Raw HDF5 calls check what users see with h5py
 * or h5dump (attributes, weights) beyond what store_read returns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hdf5.h>

#include "metrics.h"
#include "store.h"
#include "test_support.h"

typedef struct fixture {
    char dir[64];
    char path[128];      /* DIR/run.h5 */
    char partial[160];   /* DIR/run.h5.partial */
    char failed[160];    /* DIR/run.h5.failed */
    metrics_history h;   /* the epochs the test writes (teardown frees them) */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL || test_make_scratch_dir(f->dir) != 0) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/run.h5", f->dir);
    snprintf(f->partial, sizeof f->partial, "%s.partial", f->path);
    snprintf(f->failed, sizeof f->failed, "%s.failed", f->path);
    metrics_history_init(&f->h);
    *state = f;
    return 0;
}

static void assert_no_open_hdf5(void)
{
    assert_int_equal(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL), 0);
}

/* After every test: its history freed, its directory gone, and no HDF5
 * object left open by the store. */
static int teardown(void **state)
{
    fixture *f = *state;
    metrics_history_free(&f->h);
    test_remove_scratch(f, f->dir);
    assert_no_open_hdf5();
    return 0;
}

/* ---- fixtures ----------------------------------------------------------- */

static const char *const dataset_files[] = {"data/mnist/train-images-idx3-ubyte",
                                            "data/mnist/train-labels-idx1-ubyte"};
static const char *const dataset_sha[] = {
    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"};

static store_meta make_meta(int with_hook)
{
    store_meta meta = {
        .run_id = "3f2a9c0d5e7b1a48",
        .experiment = "cost-functions",
        .label = "cross-entropy, 30 hidden — σ",   /* UTF-8 must survive */
        .seed = ULONG_MAX,                          /* the whole uint64 range */
        .config_yaml = "network: {sizes: [2, 3, 1]}\ncost: cross-entropy\n",
        .version = "0.1.0",
        .git_commit = "ab0097b1c2d3",
        .blas = "BLIS 0.9.0, 1 thread",
        .libraries = "libyaml 0.2.5, HDF5 1.10.8, Lua 5.4.4, GSL 2.7",
        .host = "node17",
        .start_time = "2024-05-01T12:00:00Z",
        .dataset_file_count = 2,
        .dataset_files = dataset_files,
        .dataset_sha256 = dataset_sha,
        .hook_path = with_hook ? "lua/halve-on-plateau.lua" : "",
        .hook_sha256 = with_hook ? "00ff" : "",
        .hook_source = with_hook ? "function learning_rate(e) return 0.5 end\n" : "",
    };
    return meta;
}

/* Row `epoch` with awkward values: NaN (not measured), -0.0, a subnormal. */
static epoch_metrics make_row(int epoch, double salt)
{
    epoch_metrics row = {
        .epoch = epoch,
        .learning_rate = 0.5 / (epoch + 1) + salt,
        .train_cost = 1.0 / 3.0 + epoch + salt,
        .train_accuracy = NAN,
        .validation_cost = epoch == 0 ? -0.0 : 0.1 * epoch,
        .validation_accuracy = epoch == 1 ? DBL_TRUE_MIN : 0.9 + epoch * 1e-3,
        .test_cost = DBL_MAX,
        .test_accuracy = 0.9549 + salt,
        .seconds = 1e-9 * (epoch + 1),
    };
    return row;
}

static void append_row(metrics_history *h, int epoch, double salt)
{
    epoch_metrics row = make_row(epoch, salt);
    mlp_error err = {0};
    assert_int_equal(metrics_history_append(h, &row, &err), MLP_OK);
}

static void assert_same_double(double a, double b)
{
    assert_memory_equal(&a, &b, sizeof a);
}

static void assert_same_row(const epoch_metrics *a, const epoch_metrics *b)
{
    assert_int_equal(a->epoch, b->epoch);
    assert_same_double(a->learning_rate, b->learning_rate);
    assert_same_double(a->train_cost, b->train_cost);
    assert_same_double(a->train_accuracy, b->train_accuracy);
    assert_same_double(a->validation_cost, b->validation_cost);
    assert_same_double(a->validation_accuracy, b->validation_accuracy);
    assert_same_double(a->test_cost, b->test_cost);
    assert_same_double(a->test_accuracy, b->test_accuracy);
    assert_same_double(a->seconds, b->seconds);
}

/* A [2, 3, 1] network: layer 1 is 3x2, layer 2 is 1x3. */
typedef struct network {
    double w1[6], b1[3], w2[3], b2[1];
    store_layer layers[2];
} network;

static void make_network(network *n, double salt)
{
    for (int i = 0; i < 6; i++)
        n->w1[i] = (i - 2.5) * 0.1 + salt;
    for (int i = 0; i < 3; i++) {
        n->b1[i] = -0.2 * i + salt;
        n->w2[i] = 0.7 * i - salt;
    }
    n->b2[0] = NAN;   /* a blown-up parameter must be stored as is */
    n->layers[0] = (store_layer){3, 2, n->w1, n->b1};
    n->layers[1] = (store_layer){1, 3, n->w2, n->b2};
}

static int file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* ---- raw HDF5 readers (what h5py and h5dump see) ------------------------ */

/* Reads a scalar variable-length string attribute; caller frees. */
static char *raw_string_attr(hid_t loc, const char *name)
{
    if (H5Aexists(loc, name) <= 0)
        return NULL;
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t type = H5Aget_type(attr);
    assert_int_equal(H5Tis_variable_str(type), 1);
    assert_int_equal(H5Tget_cset(type), H5T_CSET_UTF8);
    char *text = NULL;
    assert_true(H5Aread(attr, type, &text) >= 0);
    char *copy = strdup(text);
    H5free_memory(text);
    H5Tclose(type);
    H5Aclose(attr);
    return copy;
}

static void assert_string_attr(hid_t loc, const char *name, const char *expected)
{
    char *text = raw_string_attr(loc, name);
    assert_non_null(text);
    assert_string_equal(text, expected);
    free(text);
}

static void assert_string_array_attr(hid_t loc, const char *name, const char *const *expected,
                                     size_t n)
{
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    assert_true(attr >= 0);
    hid_t type = H5Aget_type(attr);
    hid_t space = H5Aget_space(attr);
    assert_int_equal(H5Sget_simple_extent_ndims(space), 1);
    assert_int_equal(H5Sget_simple_extent_npoints(space), (hssize_t)n);
    char *texts[8] = {0};
    assert_true(H5Aread(attr, type, texts) >= 0);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(texts[i], expected[i]);
        H5free_memory(texts[i]);
    }
    H5Sclose(space);
    H5Tclose(type);
    H5Aclose(attr);
}

/* Reads dataset `name` (doubles) and checks its shape and bits. */
static void assert_matrix(hid_t loc, const char *name, int rank, hsize_t rows, hsize_t cols,
                          const double *expected)
{
    hid_t dset = H5Dopen2(loc, name, H5P_DEFAULT);
    assert_true(dset >= 0);
    hid_t space = H5Dget_space(dset);
    hsize_t dims[2] = {0, 0};
    assert_int_equal(H5Sget_simple_extent_dims(space, dims, NULL), rank);
    assert_int_equal(dims[0], rows);
    if (rank == 2)
        assert_int_equal(dims[1], cols);
    double values[16];
    assert_true(rows * cols <= 16);
    assert_true(H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) >= 0);
    assert_memory_equal(values, expected, rows * cols * sizeof *values);
    H5Sclose(space);
    H5Dclose(dset);
}

static void assert_network_in(hid_t file, const char *group, const network *n)
{
    char name[128];
    snprintf(name, sizeof name, "%s/layer1", group);
    hid_t layer = H5Gopen2(file, name, H5P_DEFAULT);
    assert_true(layer >= 0);
    assert_matrix(layer, "weights", 2, 3, 2, n->w1);
    assert_matrix(layer, "biases", 1, 3, 1, n->b1);
    H5Gclose(layer);
    snprintf(name, sizeof name, "%s/layer2", group);
    layer = H5Gopen2(file, name, H5P_DEFAULT);
    assert_true(layer >= 0);
    assert_matrix(layer, "weights", 2, 1, 3, n->w2);
    assert_matrix(layer, "biases", 1, 1, 1, n->b2);
    H5Gclose(layer);
}

static int raw_link_exists(hid_t loc, const char *name)
{
    return H5Lexists(loc, name, H5P_DEFAULT) > 0;
}

/* ---- writing a run ------------------------------------------------------ */

static store *create_run(const fixture *f, int with_hook)
{
    store_meta meta = make_meta(with_hook);
    store *s = NULL;
    mlp_error err = {0};
    int rc = store_create(f->path, &meta, &s, &err);
    if (rc != MLP_OK)
        print_error("store_create: %s\n", err.message);
    assert_int_equal(rc, MLP_OK);
    assert_non_null(s);
    return s;
}

static void append_epoch(store *s, metrics_history *h, size_t epoch)
{
    mlp_error err = {0};
    int rc = store_append_epoch(s, h, epoch, &err);
    if (rc != MLP_OK)
        print_error("store_append_epoch: %s\n", err.message);
    assert_int_equal(rc, MLP_OK);
}

static void checkpoint(store *s, int epoch, const network *n, const unsigned char *rng, size_t size)
{
    mlp_error err = {0};
    int rc = store_write_checkpoint(s, epoch, n->layers, 2, rng, size, &err);
    if (rc != MLP_OK)
        print_error("store_write_checkpoint: %s\n", err.message);
    assert_int_equal(rc, MLP_OK);
}

static void write_weights(store *s, const char *group, const network *n)
{
    mlp_error err = {0};
    assert_int_equal(store_write_weights(s, group, n->layers, 2, &err), MLP_OK);
}

/* Which of the run's files exist (1) and which do not (0): PATH (complete),
 * PATH.partial (running or killed) and PATH.failed. */
static void assert_files(const fixture *f, int complete, int partial, int failed)
{
    assert_int_equal(file_exists(f->path), complete);
    assert_int_equal(file_exists(f->partial), partial);
    assert_int_equal(file_exists(f->failed), failed);
}

static const unsigned char rng_blob[24] = {0, 1, 2, 3, 255, 254, 0, 0, 9, 8, 7, 6,
                                           5, 4, 3, 2, 1, 0, 42, 42, 42, 0, 17, 200};

/* Writes epochs 0 .. epochs-1; custom metric "sharpness" appears at epoch 2. */
static void write_epochs(store *s, metrics_history *h, int epochs)
{
    for (int e = 0; e < epochs; e++) {
        append_row(h, e, 0.0);
        if (e >= 2) {
            mlp_error err = {0};
            assert_int_equal(metrics_history_set_custom(h, (size_t)e, "sharpness", e * 0.25, &err), MLP_OK);
        }
        append_epoch(s, h, (size_t)e);
    }
}

/* Writes f's run (no hook) with `epochs` epochs into f->h and finishes it as
 * `status`; store_finish's result. */
static int write_finished_run(fixture *f, int epochs, const char *status, mlp_error *err)
{
    store *s = create_run(f, 0);
    write_epochs(s, &f->h, epochs);
    int rc = store_finish(s, status, NULL, "2024-05-01T14:00:00Z", err);
    store_close(s);
    return rc;
}

/* ---- tests -------------------------------------------------------------- */

static void test_round_trip_is_exact(void **state)
{
    fixture *f = *state;
    network n;
    make_network(&n, 0.0);
    store *s = create_run(f, 1);
    assert_true(file_exists(f->partial));
    write_epochs(s, &f->h, 5);
    write_weights(s, "epoch_0002", &n);
    write_weights(s, "final", &n);
    checkpoint(s, 4, &n, rng_blob, sizeof rng_blob);
    assert_false(file_exists(f->path));   /* PATH only appears when complete */

    mlp_error err = {0};
    assert_int_equal(store_finish(s, "complete", NULL, "2024-05-01T12:34:56Z", &err), MLP_OK);
    store_close(s);
    assert_files(f, 1, 0, 0);

    run_file run;
    assert_int_equal(store_read(f->path, &run, &err), MLP_OK);
    store_meta meta = make_meta(1);
    assert_string_equal(run.run_id, meta.run_id);
    assert_string_equal(run.experiment, meta.experiment);
    assert_string_equal(run.label, meta.label);
    assert_string_equal(run.status, "complete");
    assert_true(run.seed == ULONG_MAX);
    assert_string_equal(run.config_yaml, meta.config_yaml);
    assert_int_equal(run.history.count, 5);
    for (size_t i = 0; i < 5; i++)
        assert_same_row(&run.history.rows[i], &f->h.rows[i]);
    assert_int_equal(run.history.custom_count, 1);
    assert_string_equal(run.history.custom_names[0], "sharpness");
    assert_true(isnan(run.history.custom_values[0][0]));
    assert_true(isnan(run.history.custom_values[0][1]));
    for (size_t i = 2; i < 5; i++)
        assert_same_double(run.history.custom_values[0][i], i * 0.25);
    store_run_file_free(&run);
    assert_null(run.config_yaml);

    /* What h5py / h5dump users see. */
    hid_t file = H5Fopen(f->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_string_attr(file, "mlplab_version", meta.version);
    assert_string_attr(file, "git_commit", meta.git_commit);
    assert_string_attr(file, "blas", meta.blas);
    assert_string_attr(file, "libraries", meta.libraries);
    assert_string_attr(file, "host", meta.host);
    assert_string_attr(file, "start", meta.start_time);
    assert_string_attr(file, "finish", "2024-05-01T12:34:56Z");
    assert_string_attr(file, "hook_path", meta.hook_path);
    assert_string_attr(file, "hook_sha256", meta.hook_sha256);
    assert_string_attr(file, "hook_source", meta.hook_source);
    assert_string_array_attr(file, "dataset_files", dataset_files, 2);
    assert_string_array_attr(file, "dataset_sha256", dataset_sha, 2);
    assert_false(H5Aexists(file, "reason") > 0);
    uint64_t seed = 0;
    hid_t attr = H5Aopen(file, "seed", H5P_DEFAULT);
    hid_t type = H5Aget_type(attr);
    assert_true(H5Tequal(type, H5T_STD_U64LE) > 0);
    assert_true(H5Aread(attr, H5T_NATIVE_UINT64, &seed) >= 0);
    assert_true(seed == UINT64_MAX);
    H5Tclose(type);
    H5Aclose(attr);
    assert_false(raw_link_exists(file, "checkpoint"));   /* only while running */
    assert_network_in(file, "/weights/final", &n);
    assert_network_in(file, "/weights/epoch_0002", &n);

    /* /metrics fields, in order and named as metrics_field_names. */
    hid_t metrics = H5Dopen2(file, "metrics", H5P_DEFAULT);
    hid_t row_type = H5Dget_type(metrics);
    assert_int_equal(H5Tget_nmembers(row_type), METRICS_FIELD_COUNT);
    for (unsigned i = 0; i < METRICS_FIELD_COUNT; i++) {
        char *name = H5Tget_member_name(row_type, i);
        assert_string_equal(name, metrics_field_names[i]);
        H5free_memory(name);
    }
    H5Tclose(row_type);
    H5Dclose(metrics);
    H5Fclose(file);

}

static void test_failed_run_never_looks_complete(void **state)
{
    fixture *f = *state;
    network n;
    make_network(&n, 0.0);
    mlp_error err = {0};

    store *s = create_run(f, 0);
    write_epochs(s, &f->h, 2);
    checkpoint(s, 1, &n, rng_blob, sizeof rng_blob);
    assert_int_equal(store_finish(s, "failed", "train_cost is NaN at epoch 1", "2024-05-01T13:00:00Z", &err),
                     MLP_OK);
    /* After finish only store_close is allowed. */
    assert_int_not_equal(store_append_epoch(s, &f->h, 1, &err), MLP_OK);
    store_close(s);
    assert_files(f, 0, 0, 1);

    run_file run;
    assert_int_equal(store_read(f->failed, &run, &err), MLP_OK);
    assert_string_equal(run.status, "failed");
    assert_int_equal(run.history.count, 2);
    store_run_file_free(&run);
    hid_t file = H5Fopen(f->failed, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_string_attr(file, "reason", "train_cost is NaN at epoch 1");
    assert_false(H5Aexists(file, "hook_path") > 0);     /* no hook: no hook attributes */
    assert_false(H5Aexists(file, "hook_source") > 0);
    H5Fclose(file);

    /* Running it again and completing replaces the failed attempt. */
    metrics_history_free(&f->h);
    assert_int_equal(write_finished_run(f, 1, "complete", &err), MLP_OK);
    assert_files(f, 1, 0, 0);
}

static void test_bad_status_is_refused(void **state)
{
    fixture *f = *state;
    mlp_error err = {0};
    assert_int_equal(write_finished_run(f, 1, "done", &err), MLP_ERR_RUN);
    assert_non_null(strstr(err.message, "done"));
    assert_files(f, 0, 1, 0);
}

static void test_append_checks_order_and_names(void **state)
{
    fixture *f = *state;
    mlp_error err = {0};
    store *s = create_run(f, 0);
    append_row(&f->h, 0, 0.0);
    append_row(&f->h, 1, 0.0);
    assert_int_equal(store_append_epoch(s, &f->h, 1, &err), MLP_ERR_RUN);   /* epoch 0 first */
    append_epoch(s, &f->h, 0);
    assert_int_equal(store_append_epoch(s, &f->h, 5, &err), MLP_ERR_RUN);   /* not in history */
    assert_int_equal(metrics_history_set_custom(&f->h, 1, "a/b", 1.0, &err), MLP_OK);
    assert_int_equal(store_append_epoch(s, &f->h, 1, &err), MLP_ERR_RUN);
    assert_non_null(strstr(err.message, "a/b"));
    network n;
    make_network(&n, 0.0);
    /* A checkpoint needs its epoch's metrics row in the file. */
    assert_int_equal(store_write_checkpoint(s, 3, n.layers, 2, rng_blob, sizeof rng_blob, &err),
                     MLP_ERR_RUN);
    store_close(s);
}

/* Writes epochs 0..2, checkpoint at 2, then a half-done epoch 3 (its row, a
 * new custom metric and a weight snapshot) that resume must drop. */
static void write_interrupted_run(fixture *f, const network *n)
{
    store *s = create_run(f, 1);
    write_epochs(s, &f->h, 3);
    checkpoint(s, 2, n, rng_blob, sizeof rng_blob);
    append_row(&f->h, 3, 0.0);
    mlp_error err = {0};
    assert_int_equal(metrics_history_set_custom(&f->h, 3, "late", 7.0, &err), MLP_OK);
    append_epoch(s, &f->h, 3);
    write_weights(s, "epoch_0003", n);
    store_close(s);   /* as if killed: no store_finish */
}

/* What store_resume hands back: the weights of the [2, 3, 1] network (with
 * room for a third layer, which a resume must refuse), the RNG state, the
 * history, the epoch and the note; `store` is the writer, or NULL. */
typedef struct resumed {
    double w1[6], b1[3], w2[3], b2[1], w3[1], b3[1];
    double *weights[3], *biases[3];
    unsigned char rng[64];
    metrics_history history;
    int epoch;
    char note[512];
    store *store;
} resumed;

/* Empty, ready for resume_as; free r->history with metrics_history_free. */
static void resumed_init(resumed *r)
{
    *r = (resumed){.weights = {r->w1, r->w2, r->w3}, .biases = {r->b1, r->b2, r->b3}, .epoch = -1};
    metrics_history_init(&r->history);
}

/* store_resume of f's run into r, as run `run_id` with n_layers layers and
 * rng_size bytes of RNG state. */
static int resume_as(const fixture *f, const char *run_id, size_t n_layers, size_t rng_size,
                     resumed *r, mlp_error *err)
{
    return store_resume(f->path, run_id, &r->store, &r->history, &r->epoch, r->weights, r->biases,
                        n_layers, r->rng, rng_size, r->note, sizeof r->note, err);
}

/* store_resume of f's own run (2 layers, rng_blob's size) into r. */
static int resume(const fixture *f, resumed *r, mlp_error *err)
{
    return resume_as(f, "3f2a9c0d5e7b1a48", 2, sizeof rng_blob, r, err);
}

/* Resumes f's run as write_interrupted_run left it: from the checkpoint of
 * epoch 2 of network n, with the history `written` had up to there. The
 * writer is left open in *out. */
static void assert_resumes(const fixture *f, const network *n, const metrics_history *written,
                           store **out)
{
    resumed r;
    resumed_init(&r);
    mlp_error err = {0};
    int rc = resume(f, &r, &err);
    if (rc != MLP_OK)
        print_error("store_resume: %s\n", err.message);
    assert_int_equal(rc, MLP_OK);
    assert_non_null(*out = r.store);
    assert_int_equal(r.epoch, 2);
    const metrics_history *h = &r.history;
    assert_int_equal(h->count, 3);
    for (size_t i = 0; i < 3; i++)
        assert_same_row(&h->rows[i], &written->rows[i]);
    assert_int_equal(h->custom_count, 1);   /* "late" appeared after the checkpoint */
    assert_string_equal(h->custom_names[0], "sharpness");
    assert_true(isnan(h->custom_values[0][0]) && isnan(h->custom_values[0][1]));
    assert_same_double(h->custom_values[0][2], 0.5);
    assert_memory_equal(r.w1, n->w1, sizeof r.w1);
    assert_memory_equal(r.b1, n->b1, sizeof r.b1);
    assert_memory_equal(r.w2, n->w2, sizeof r.w2);
    assert_memory_equal(r.b2, n->b2, sizeof r.b2);
    assert_memory_equal(r.rng, rng_blob, sizeof rng_blob);
    metrics_history_free(&r.history);
}

static void test_killed_run_is_readable_and_resumes(void **state)
{
    fixture *f = *state;
    network n;
    make_network(&n, 0.125);
    write_interrupted_run(f, &n);
    assert_files(f, 0, 1, 0);

    run_file run;
    mlp_error err = {0};
    assert_int_equal(store_read(f->partial, &run, &err), MLP_OK);
    assert_string_equal(run.status, "running");
    assert_int_equal(run.history.count, 4);
    store_run_file_free(&run);

    store *s = NULL;
    assert_resumes(f, &n, &f->h, &s);
    /* The file was cut back to the checkpoint too. */
    assert_int_equal(store_read(f->partial, &run, &err), MLP_OK);
    assert_int_equal(run.history.count, 3);
    assert_int_equal(run.history.custom_count, 1);
    store_run_file_free(&run);

    /* Continue: epoch 3 again, with different numbers this time. */
    metrics_history h2;
    metrics_history_init(&h2);
    for (int e = 0; e < 3; e++)
        append_row(&h2, e, 0.0);
    assert_int_equal(metrics_history_set_custom(&h2, 2, "sharpness", 0.5, &err), MLP_OK);
    append_row(&h2, 3, 1.0);
    append_epoch(s, &h2, 3);
    assert_int_equal(store_finish(s, "complete", NULL, "2024-05-01T15:00:00Z", &err), MLP_OK);
    store_close(s);

    assert_int_equal(store_read(f->path, &run, &err), MLP_OK);
    assert_int_equal(run.history.count, 4);
    assert_same_row(&run.history.rows[3], &h2.rows[3]);
    assert_true(isnan(run.history.custom_values[0][3]));
    store_run_file_free(&run);
    hid_t file = H5Fopen(f->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_false(raw_link_exists(file, "/weights/epoch_0003"));   /* from the dropped epoch */
    assert_false(raw_link_exists(file, "/custom_metrics/late"));
    assert_false(raw_link_exists(file, "checkpoint"));
    H5Fclose(file);

    metrics_history_free(&h2);
}

/* A real kill: the writer gets SIGKILL right after a checkpoint, with the
 * HDF5 file still open. The flushed file must open and resume. */
static void test_sigkilled_run_resumes(void **state)
{
    fixture *f = *state;
    network n;
    make_network(&n, -0.5);
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        store_meta meta = make_meta(0);
        store *s = NULL;
        metrics_history h;
        metrics_history_init(&h);
        if (store_create(f->path, &meta, &s, NULL) != MLP_OK)
            _exit(2);
        for (int e = 0; e < 3; e++) {
            epoch_metrics row = make_row(e, 0.0);
            if (metrics_history_append(&h, &row, NULL) != MLP_OK
                || (e >= 2 && metrics_history_set_custom(&h, (size_t)e, "sharpness", e * 0.25, NULL) != MLP_OK)
                || store_append_epoch(s, &h, (size_t)e, NULL) != MLP_OK)
                _exit(3);
        }
        if (store_write_checkpoint(s, 2, n.layers, 2, rng_blob, sizeof rng_blob, NULL) != MLP_OK)
            _exit(4);
        raise(SIGKILL);
        _exit(5);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    assert_false(file_exists(f->path));

    run_file run;
    mlp_error err = {0};
    int rc = store_read(f->partial, &run, &err);
    if (rc != MLP_OK)
        print_error("store_read: %s\n", err.message);
    assert_int_equal(rc, MLP_OK);
    assert_string_equal(run.status, "running");
    assert_int_equal(run.history.count, 3);
    store_run_file_free(&run);

    for (int e = 0; e < 3; e++)
        append_row(&f->h, e, 0.0);
    store *s = NULL;
    assert_resumes(f, &n, &f->h, &s);
    store_close(s);
}

/* resume_as with a fresh resumed; *out (left as it is until store_resume
 * sets it) receives the writer; with none, the history must be empty. */
static int resume_with(const fixture *f, const char *run_id, size_t n_layers, size_t rng_size,
                       store **out, mlp_error *err)
{
    resumed r;
    resumed_init(&r);
    r.store = *out;
    int rc = resume_as(f, run_id, n_layers, rng_size, &r, err);
    if ((*out = r.store) == NULL)
        assert_int_equal(r.history.count, 0);
    metrics_history_free(&r.history);
    return rc;
}

static void test_resume_when_there_is_nothing(void **state)
{
    fixture *f = *state;
    store *s = (store *)1;
    mlp_error err = {0};
    assert_int_equal(resume_with(f, "3f2a9c0d5e7b1a48", 2, sizeof rng_blob, &s, &err), MLP_OK);
    assert_null(s);   /* no partial file */

    store *w = create_run(f, 0);
    write_epochs(w, &f->h, 2);
    store_close(w);
    assert_int_equal(resume_with(f, "3f2a9c0d5e7b1a48", 2, sizeof rng_blob, &s, &err), MLP_OK);
    assert_null(s);   /* killed before its first checkpoint */

    network n;
    make_network(&n, 0.0);
    metrics_history_free(&f->h);
    write_interrupted_run(f, &n);
    assert_int_equal(resume_with(f, "someone-else", 2, sizeof rng_blob, &s, &err), MLP_OK);
    assert_null(s);   /* another run's file: left alone */
    assert_true(file_exists(f->partial));

    FILE *garbage = fopen(f->partial, "w");
    fputs("not hdf5\n", garbage);
    fclose(garbage);
    assert_int_equal(resume_with(f, "3f2a9c0d5e7b1a48", 2, sizeof rng_blob, &s, &err), MLP_OK);
    assert_null(s);   /* unreadable: store_create starts afresh */
}

static void test_resume_checks_the_checkpoint(void **state)
{
    fixture *f = *state;
    network n;
    make_network(&n, 0.0);
    write_interrupted_run(f, &n);
    store *s = NULL;
    mlp_error err = {0};
    assert_int_equal(resume_with(f, "3f2a9c0d5e7b1a48", 3, sizeof rng_blob, &s, &err), MLP_ERR_RUN);
    assert_null(s);
    assert_non_null(strstr(err.message, "3 layers"));
    assert_int_equal(resume_with(f, "3f2a9c0d5e7b1a48", 2, 8, &s, &err), MLP_ERR_RUN);
    assert_null(s);
    assert_non_null(strstr(err.message, "RNG state"));
    assert_non_null(strstr(err.message, f->partial));
    /* A refused resume leaves the file as it was. */
    run_file run;
    assert_int_equal(store_read(f->partial, &run, &err), MLP_OK);
    assert_int_equal(run.history.count, 4);
    assert_int_equal(run.history.custom_count, 2);
    store_run_file_free(&run);
}

/* Runs store_read with stderr redirected to a file; returns what was printed. */
static size_t read_quietly(const fixture *f, const char *path, int *rc, mlp_error *err)
{
    char capture[192];
    snprintf(capture, sizeof capture, "%s/stderr.txt", f->dir);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int fd = open(capture, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, STDERR_FILENO);
    close(fd);
    run_file run;
    *rc = store_read(path, &run, err);
    if (*rc == MLP_OK)
        store_run_file_free(&run);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    FILE *in = fopen(capture, "r");
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    fclose(in);
    unlink(capture);
    return (size_t)size;
}

static void test_read_errors_name_the_file(void **state)
{
    fixture *f = *state;
    H5E_auto2_t before_func = NULL;
    void *before_data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &before_func, &before_data);
    int rc = 0;
    mlp_error err = {0};

    assert_int_equal(read_quietly(f, f->path, &rc, &err), 0);
    assert_int_equal(rc, MLP_ERR_DATA);
    assert_non_null(strstr(err.message, f->path));

    FILE *garbage = fopen(f->path, "w");
    fputs("epoch,cost\n0,1.5\n", garbage);
    fclose(garbage);
    assert_int_equal(read_quietly(f, f->path, &rc, &err), 0);
    assert_int_equal(rc, MLP_ERR_DATA);
    assert_non_null(strstr(err.message, f->path));
    assert_non_null(strstr(err.message, "not an HDF5 file"));

    /* An HDF5 file that is not a run file. */
    hid_t file = H5Fcreate(f->path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(file);
    assert_int_equal(read_quietly(f, f->path, &rc, &err), 0);
    assert_int_equal(rc, MLP_ERR_DATA);
    assert_non_null(strstr(err.message, "not an mlplab run file"));

    /* A run file cut short (disk full, copy interrupted): HDF5 itself fails
     * here, and its error stack must not be printed. */
    assert_int_equal(write_finished_run(f, 3, "complete", &err), MLP_OK);
    assert_int_equal(truncate(f->path, 1024), 0);
    assert_int_equal(read_quietly(f, f->path, &rc, &err), 0);
    assert_int_equal(rc, MLP_ERR_DATA);
    assert_non_null(strstr(err.message, f->path));
    assert_non_null(strstr(err.message, "(HDF5: "));

    /* The caller's HDF5 error printing is back as it was. */
    H5E_auto2_t after_func = NULL;
    void *after_data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &after_func, &after_data);
    assert_true(after_func == before_func && after_data == before_data);
}

/* A second writer for the same run must not truncate the first one's file. */
static void test_second_writer_is_refused(void **state)
{
    fixture *f = *state;
    store *first = create_run(f, 0);
    write_epochs(first, &f->h, 1);
    store_meta meta = make_meta(0);
    store *second = NULL;
    mlp_error err = {0};
    assert_int_equal(store_create(f->path, &meta, &second, &err), MLP_ERR_RUN);
    assert_null(second);
    assert_non_null(strstr(err.message, "locked"));
    /* The first writer's file is intact and still growing. */
    append_row(&f->h, 1, 0.0);
    append_epoch(first, &f->h, 1);
    store_close(first);
    run_file run;
    assert_int_equal(store_read(f->partial, &run, &err), MLP_OK);
    assert_int_equal(run.history.count, 2);
    store_run_file_free(&run);
    /* A second resumer, while one process resumes the file (holding its
     * lock), is refused too, and the file is left as it was. */
    network n;
    make_network(&n, 0.0);
    metrics_history_free(&f->h);
    write_interrupted_run(f, &n);
    int holder = open(f->partial, O_RDONLY);
    assert_true(holder >= 0);
    assert_int_equal(flock(holder, LOCK_EX | LOCK_NB), 0);
    resumed r;
    resumed_init(&r);
    assert_int_equal(resume(f, &r, &err), MLP_ERR_RUN);
    assert_null(r.store);
    assert_non_null(strstr(err.message, "locked"));
    close(holder);
    metrics_history_free(&r.history);
}

/* Field `name` of /attempts row `row` as text (fixed-length strings, or an int). */
static void read_attempt_field(const char *path, hsize_t row, const char *name, char *out, size_t size)
{
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t dset = H5Dopen2(file, "attempts", H5P_DEFAULT);
    hid_t file_type = H5Dget_type(dset);
    int index = H5Tget_member_index(file_type, name);
    assert_true(index >= 0);
    hid_t member = H5Tget_member_type(file_type, (unsigned)index);
    int is_string = H5Tget_class(member) == H5T_STRING;
    hid_t mem = H5Tcreate(H5T_COMPOUND, size);
    hid_t field = is_string ? H5Tcopy(H5T_C_S1) : H5Tcopy(H5T_NATIVE_INT);
    if (is_string) {
        H5Tset_size(field, size);
        H5Tset_strpad(field, H5T_STR_NULLTERM);
    }
    H5Tinsert(mem, name, 0, field);
    hid_t space = H5Dget_space(dset);
    hsize_t count = 1;
    H5Sselect_hyperslab(space, H5S_SELECT_SET, &row, NULL, &count, NULL);
    hid_t mspace = H5Screate_simple(1, &count, NULL);
    char buffer[256] = {0};
    assert_true(size <= sizeof buffer);
    assert_true(H5Dread(dset, mem, mspace, space, H5P_DEFAULT, buffer) >= 0);
    if (is_string)
        memcpy(out, buffer, size - 1), out[size - 1] = '\0';
    else
        snprintf(out, size, "%d", *(int *)buffer);
    H5Sclose(mspace);
    H5Sclose(space);
    H5Tclose(field);
    H5Tclose(mem);
    H5Tclose(member);
    H5Tclose(file_type);
    H5Dclose(dset);
    H5Fclose(file);
}

static void begin_attempt(store *s, const char *host, const char *job, int first_epoch)
{
    store_attempt attempt = {
        .host = host, .start_time = "2024-05-01T12:00:00Z", .slurm_job_id = job,
        .slurm_array_job_id = job[0] ? "41" : "", .slurm_array_task_id = job[0] ? "3" : "",
        .slurm_restart_count = "", .blas = "BLIS 0.9.0, 1 thread", .kernels = "avx2",
        .git_commit = "ab0097b1c2d3",
    };
    mlp_error err = {0};
    int rc = store_begin_attempt(s, &attempt, first_epoch, &err);
    if (rc != MLP_OK)
        print_error("store_begin_attempt: %s\n", err.message);
    assert_int_equal(rc, MLP_OK);
}

/* Every start and resume is a row of /attempts; status can read a file that
 * is still being written, and names a failure by its first line. */
static void test_attempts_are_recorded(void **state)
{
    fixture *f = *state;
    network n;
    make_network(&n, 0.125);
    store *s = create_run(f, 0);
    begin_attempt(s, "node17", "", 0);
    write_epochs(s, &f->h, 3);
    checkpoint(s, 2, &n, rng_blob, sizeof rng_blob);
    run_file_state peek;
    mlp_error err = {0};
    assert_int_equal(store_end_attempt(s, "interrupted", "2024-05-01T12:01:00Z", &err), MLP_OK);
    store_close(s);
    assert_int_equal(store_peek(f->partial, &peek, &err), MLP_OK);
    assert_false(peek.writer_active);
    assert_string_equal(peek.status, "running");
    assert_int_equal(peek.epoch, 2);
    assert_int_equal(peek.attempts, 1);
    /* A writer holds the lock HDF5 takes (flock): the file still reads, as being written. */
    int fd = open(f->partial, O_RDONLY);
    assert_true(fd >= 0 && flock(fd, LOCK_EX) == 0);
    assert_int_equal(store_peek(f->partial, &peek, &err), MLP_OK);
    assert_true(peek.writer_active);
    assert_int_equal(peek.epoch, 2);
    close(fd);

    resumed r;
    resumed_init(&r);
    assert_int_equal(resume(f, &r, &err), MLP_OK);
    assert_non_null(s = r.store);
    begin_attempt(s, "node42", "57", r.epoch + 1);
    assert_int_equal(store_finish(s, "failed", "diverged: cost is inf\nat epoch 3",
                                  "2024-05-01T12:02:00Z", &err), MLP_OK);
    store_close(s);

    assert_int_equal(store_peek(f->failed, &peek, &err), MLP_OK);
    assert_string_equal(peek.status, "failed");
    assert_string_equal(peek.reason, "diverged: cost is inf");
    assert_int_equal(peek.attempts, 2);
    char text[64];
    const struct { hsize_t row; const char *field, *value; } expected[] = {
        {0, "attempt", "1"},          {0, "host", "node17"},       {0, "first_epoch", "0"},
        {0, "outcome", "interrupted"}, {0, "finish", "2024-05-01T12:01:00Z"},
        {0, "slurm_job_id", ""},      {1, "attempt", "2"},         {1, "host", "node42"},
        {1, "first_epoch", "3"},      {1, "outcome", "failed"},    {1, "slurm_job_id", "57"},
        {1, "slurm_array_job_id", "41"}, {1, "slurm_array_task_id", "3"},
        {1, "git_commit", "ab0097b1c2d3"}, {1, "finish", "2024-05-01T12:02:00Z"},
        {1, "kernels", "avx2"},
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        read_attempt_field(f->failed, expected[i].row, expected[i].field, text, sizeof text);
        assert_string_equal(text, expected[i].value);
    }
    metrics_history_free(&r.history);
}

/* Overwrites /checkpoint/SLOT/layer1/weights[0] in place, as a kill in the
 * middle of writing the next checkpoint can leave it. */
static void tear_slot(const char *partial, const char *slot)
{
    hid_t file = H5Fopen(partial, H5F_ACC_RDWR, H5P_DEFAULT);
    char name[64];
    snprintf(name, sizeof name, "/checkpoint/%s/layer1/weights", slot);
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
    double values[6] = {9, 9, 9, 9, 9, 9};
    assert_true(H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) >= 0);
    H5Dclose(dset);
    H5Fclose(file);
}

/* Epochs 0..3 with two checkpoints, epoch 2 of `older` in slot0 and epoch 3
 * of `newer` in slot1 (written last), then, unless `snapshot` is NULL, that
 * weight snapshot of `newer` from the epoch in progress; closed as if killed. */
static void write_two_checkpoints(fixture *f, network *older, network *newer,
                                  const char *snapshot)
{
    make_network(older, 0.125);
    make_network(newer, 0.5);
    store *s = create_run(f, 0);
    write_epochs(s, &f->h, 4);
    checkpoint(s, 2, older, rng_blob, sizeof rng_blob);   /* slot0 */
    checkpoint(s, 3, newer, rng_blob, sizeof rng_blob);   /* slot1 */
    if (snapshot != NULL)
        write_weights(s, snapshot, newer);
    store_close(s);
}

/* Two slots: a torn newest checkpoint falls back to the one before it, with
 * its own weights; with both torn the run starts afresh, never from garbage. */
static void test_torn_checkpoint_falls_back(void **state)
{
    fixture *f = *state;
    network older, newer;
    write_two_checkpoints(f, &older, &newer, NULL);
    tear_slot(f->partial, "slot1");

    resumed r;
    resumed_init(&r);
    mlp_error err = {0};
    assert_int_equal(resume(f, &r, &err), MLP_OK);
    assert_non_null(r.store);
    assert_int_equal(r.epoch, 2);
    assert_int_equal(r.history.count, 3);
    assert_memory_equal(r.w1, older.w1, sizeof r.w1);
    assert_memory_equal(r.w2, older.w2, sizeof r.w2);
    store_close(r.store);
    metrics_history_free(&r.history);

    tear_slot(f->partial, "slot0");
    /* The caller's arrays are what a fresh start begins from: untouched. */
    for (size_t i = 0; i < 6; i++)
        r.w1[i] = 123.0 + (double)i;
    double untouched[6];
    memcpy(untouched, r.w1, sizeof untouched);
    assert_int_equal(resume(f, &r, &err), MLP_OK);
    assert_null(r.store);                    /* nothing valid: start afresh */
    assert_int_equal(r.history.count, 0);
    assert_memory_equal(r.w1, untouched, sizeof untouched);
    assert_non_null(strstr(r.note, f->partial));
    assert_non_null(strstr(r.note, "starting the run afresh"));
}


/* What a kill -9 in the middle of an HDF5 write can leave (seen in the
 * torture test, tests/e2e-kill.sh): a link whose object's header was never
 * written, the file ending where the header should begin. Made here by
 * cutting the file at the header of `object` and setting the end-of-file
 * address of the (version 0) superblock, 8 bytes little-endian at byte 40,
 * to match, as HDF5 had written it. */
static void cut_file_at(const char *partial, const char *object)
{
    hid_t file = H5Fopen(partial, H5F_ACC_RDONLY, H5P_DEFAULT);
    H5L_info_t link;
    assert_true(H5Lget_info(file, object, &link, H5P_DEFAULT) >= 0);
    assert_int_equal(link.type, H5L_TYPE_HARD);
    H5Fclose(file);
    uint64_t end = link.u.address;
    assert_int_equal(truncate(partial, (off_t)end), 0);
    unsigned char address[8];
    for (int i = 0; i < 8; i++)
        address[i] = (unsigned char)(end >> (8 * i));
    int fd = open(partial, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, address, sizeof address, 40), (ssize_t)sizeof address);
    close(fd);
}

/* Resumes f's run in a child that then leaves through exit(), so that
 * HDF5's exit handler (and LeakSanitizer's) run: HDF5 1.10, once it failed
 * to load an object header, cannot close down and prints "HDF5: infinite
 * loop closing library" (only while error printing is on), and leaks. Child
 * exit status: 0 resumed at expect_epoch with expect_w1 as layer 1's
 * weights, 10 + what went wrong otherwise. Its stderr goes to f->path.err. */
static void resume_in_child(const fixture *f, int expect_epoch, const double *expect_w1,
                            char *stderr_text, size_t size)
{
    char log[200];
    snprintf(log, sizeof log, "%s.err", f->path);
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        if (freopen(log, "w", stderr) == NULL)
            _exit(10);
        resumed r;
        resumed_init(&r);
        mlp_error err = {0};
        int rc = resume(f, &r, &err);
        int status = rc != MLP_OK ? 11
                     : r.store == NULL ? 12
                     : r.epoch != expect_epoch || r.history.count != (size_t)expect_epoch + 1 ? 13
                     : memcmp(r.w1, expect_w1, sizeof r.w1) != 0 ? 14
                     : 0;
        if (status != 0)
            fprintf(stderr, "store_resume: rc %d, epoch %d, note \"%s\", error \"%s\"\n", rc,
                    r.epoch, r.store == NULL ? r.note : "", err.message);
        store_close(r.store);
        metrics_history_free(&r.history);
        H5Eset_auto2(H5E_DEFAULT, (H5E_auto2_t)H5Eprint2, stderr);
        exit(status);
    }
    int wstatus = 0;
    assert_int_equal(waitpid(child, &wstatus, 0), child);
    FILE *in = fopen(log, "r");
    assert_non_null(in);
    size_t n = fread(stderr_text, 1, size - 1, in);
    stderr_text[n] = '\0';
    fclose(in);
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
        print_error("resume in a child: status %d, stderr:\n%s\n", wstatus, stderr_text);
    assert_true(WIFEXITED(wstatus));
    assert_int_equal(WEXITSTATUS(wstatus), 0);
}

/* The torture test's 1 failure in 50: the newest checkpoint slot's header
 * is past the end of the file. Resume takes the other slot, and HDF5 in the
 * resuming process stays clean (nothing on stderr at exit, no leak). */
static void test_slot_cut_at_its_header_falls_back_cleanly(void **state)
{
    fixture *f = *state;
    network older, newer;
    write_two_checkpoints(f, &older, &newer, NULL);
    cut_file_at(f->partial, "/checkpoint/slot1/layer1");
    char text[4096];
    resume_in_child(f, 2, older.w1, text, sizeof text);
    assert_null(strstr(text, "infinite loop"));
    assert_string_equal(text, "");
}

/* A weight snapshot of the epoch in progress, torn by the kill, is not a
 * reason to start afresh: it is trained again anyway. */
static void test_torn_later_snapshot_still_resumes(void **state)
{
    fixture *f = *state;
    network older, newer;
    write_two_checkpoints(f, &older, &newer, "epoch_0004");   /* epoch 4 in progress */
    cut_file_at(f->partial, "/weights/epoch_0004/layer2");
    char text[4096];
    resume_in_child(f, 3, newer.w1, text, sizeof text);
    assert_string_equal(text, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_IN_FIXTURE(test_round_trip_is_exact),
        TEST_IN_FIXTURE(test_failed_run_never_looks_complete),
        TEST_IN_FIXTURE(test_bad_status_is_refused),
        TEST_IN_FIXTURE(test_append_checks_order_and_names),
        TEST_IN_FIXTURE(test_killed_run_is_readable_and_resumes),
        TEST_IN_FIXTURE(test_sigkilled_run_resumes),
        TEST_IN_FIXTURE(test_resume_when_there_is_nothing),
        TEST_IN_FIXTURE(test_resume_checks_the_checkpoint),
        TEST_IN_FIXTURE(test_read_errors_name_the_file),
        TEST_IN_FIXTURE(test_second_writer_is_refused),
        TEST_IN_FIXTURE(test_attempts_are_recorded),
        TEST_IN_FIXTURE(test_torn_checkpoint_falls_back),
        TEST_IN_FIXTURE(test_slot_cut_at_its_header_falls_back_cleanly),
        TEST_IN_FIXTURE(test_torn_later_snapshot_still_resumes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
