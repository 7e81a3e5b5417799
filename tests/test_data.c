/* test_data.c — IDX reading, checks, checksums, splits, inline data, batches.
 *
 * Synthetic IDX files (plain and gzip) are written to a mkdtemp() directory per
 * test. Named-set logic without checksums is exercised through a copy of the
 * fashion-mnist entry without them (data_load_entry); checksum logic through
 * the real catalogue entries with fake files. The real MNIST test runs only when MLP_TEST_MNIST_DIR names a
 * directory with the four files (e.g. data/mnist after `make data`). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_support.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "data.h"
#include "datasets.h"

enum { MAGIC_IMAGES = 0x00000803, MAGIC_LABELS = 0x00000801, PIXELS = 784 };

typedef struct fixture {
    char dir[256];
    mlp_config *config;
    const dataset_entry *entry;     /* NULL: the catalogue's entry (data_load) */
} fixture;

/* fashion-mnist's entry with no checksums, for fixtures of its shape. */
static dataset_entry unchecked;

/* ---- helpers ------------------------------------------------------------------ */

static void path_in(const fixture *fx, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", fx->dir, name);
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* The bytes of an IDX file: magic, ndims dimensions, then payload (len bytes,
 * which need not match the dimensions: that is what some tests are about). */
static unsigned char *idx_bytes(uint32_t magic, const uint32_t *dims, int ndims,
                                const unsigned char *payload, size_t len, size_t *total)
{
    *total = 4 + 4 * (size_t)ndims + len;
    unsigned char *b = malloc(*total);
    assert_non_null(b);
    put_be32(b, magic);
    for (int d = 0; d < ndims; d++)
        put_be32(b + 4 + 4 * d, dims[d]);
    if (len > 0)
        memcpy(b + 4 + 4 * ndims, payload, len);
    return b;
}

static void write_bytes(const char *path, const unsigned char *bytes, size_t n, int gzip)
{
    if (gzip) {
        gzFile g = gzopen(path, "wb1");
        assert_non_null(g);
        size_t done = 0;
        while (done < n) {
            unsigned chunk = n - done > (1u << 20) ? (1u << 20) : (unsigned)(n - done);
            assert_int_equal(gzwrite(g, bytes + done, chunk), (int)chunk);
            done += chunk;
        }
        assert_int_equal(gzclose(g), Z_OK);
        return;
    }
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void write_idx(const char *path, uint32_t magic, const uint32_t *dims, int ndims,
                      const unsigned char *payload, size_t len, int gzip)
{
    size_t total;
    unsigned char *b = idx_bytes(magic, dims, ndims, payload, len, &total);
    write_bytes(path, b, total, gzip);
    free(b);
}

/* count 28x28 images whose pixel j of image i is (i * 7 + j) % 256, and labels
 * i % 10 (or bad_label at index bad_at when bad_at < count). */
static void write_mnist_like(const fixture *fx, const char *images, const char *labels,
                             size_t count, size_t label_count, int gzip, size_t bad_at, int bad_label)
{
    unsigned char *pixels = malloc(count * PIXELS + 1);
    unsigned char *classes = malloc(label_count + 1);
    assert_non_null(pixels);
    assert_non_null(classes);
    for (size_t i = 0; i < count; i++)
        for (size_t j = 0; j < PIXELS; j++)
            pixels[i * PIXELS + j] = (unsigned char)((i * 7 + j) % 256);
    for (size_t i = 0; i < label_count; i++)
        classes[i] = (unsigned char)(i == bad_at ? bad_label : (int)(i % 10));
    char path[512];
    uint32_t idims[3] = {(uint32_t)count, 28, 28}, ldims[1] = {(uint32_t)label_count};
    snprintf(path, sizeof path, "%s/%s%s", fx->dir, images, gzip ? ".gz" : "");
    write_idx(path, MAGIC_IMAGES, idims, 3, pixels, count * PIXELS, gzip);
    snprintf(path, sizeof path, "%s/%s%s", fx->dir, labels, gzip ? ".gz" : "");
    write_idx(path, MAGIC_LABELS, ldims, 1, classes, label_count, gzip);
    free(pixels);
    free(classes);
}

/* The four MNIST-named files: train_count training and test_count test examples. */
static void write_set(const fixture *fx, size_t train_count, size_t test_count, int gzip)
{
    write_mnist_like(fx, "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                     train_count, train_count, gzip, SIZE_MAX, 0);
    write_mnist_like(fx, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
                     test_count, test_count, gzip, SIZE_MAX, 0);
}

/* Removes the plain (not .gz) files write_set wrote. */
static void remove_plain_set(const fixture *fx)
{
    const char *names[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    for (int i = 0; i < 4; i++) {
        char path[512];
        path_in(fx, names[i], path, sizeof path);
        unlink(path);
    }
}

static void use_named(fixture *fx, const char *name, const char *dir)
{
    mlp_config *c = fx->config;
    fx->entry = NULL;
    snprintf(c->dataset_name, sizeof c->dataset_name, "%s", name);
    snprintf(c->dataset_dir, sizeof c->dataset_dir, "%s", dir);
    c->n_layers = 3;
    c->sizes[0] = PIXELS;
    c->sizes[1] = 30;
    c->sizes[2] = 10;
    c->train_size = c->validation_size = c->test_size = -1;
}

/* A data set of fashion-mnist's shape whose files are not checked against
 * checksums: the fixtures are not the real files. */
static void use_unchecked(fixture *fx, const char *dir)
{
    use_named(fx, "fashion-mnist", dir);
    unchecked = *datasets_find("fashion-mnist");
    unchecked.train_images.sha256 = unchecked.train_labels.sha256 = NULL;
    unchecked.test_images.sha256 = unchecked.test_labels.sha256 = NULL;
    fx->entry = &unchecked;
}

static int load_set(const fixture *fx, dataset **set, mlp_error *err)
{
    return fx->entry ? data_load_entry(fx->config, fx->entry, set, err)
                     : data_load(fx->config, set, err);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof fx->dir, "%s/test_data.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    fx->config = calloc(1, sizeof *fx->config);
    if (fx->config == NULL || mkdtemp(fx->dir) == NULL) {
        free(fx->config);
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    free(fx->config->inline_inputs);
    free(fx->config->inline_targets);
    free(fx->config);
    return test_remove_scratch(fx, fx->dir);
}

/* Loads and expects failure with `status`; returns the message (static storage). */
static const char *load_fails(fixture *fx, int status)
{
    static mlp_error err;
    dataset *set = (dataset *)1;
    mlp_error_clear(&err);
    int rc = load_set(fx, &set, &err);
    if (rc == MLP_OK)
        data_free(set);
    assert_int_equal(rc, status);
    assert_int_equal(err.status, status);
    assert_null(set);
    return err.message;
}

/* Unsets the environment variable name; returns its value to give back to
 * env_restore (NULL if it was not set). */
static char *env_unset(const char *name)
{
    const char *value = getenv(name);
    char *saved = value != NULL ? strdup(value) : NULL;
    unsetenv(name);
    return saved;
}

static void env_restore(const char *name, char *saved)
{
    if (saved != NULL) {
        setenv(name, saved, 1);
        free(saved);
    } else {
        unsetenv(name);
    }
}

/* ---- idx_read ------------------------------------------------------------------- */

static void test_idx_read_good_plain_and_gzip(void **state)
{
    fixture *fx = *state;
    unsigned char payload[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 254, 255};
    uint32_t dims3[3] = {2, 2, 3};
    for (int gzip = 0; gzip <= 1; gzip++) {
        char path[512];
        path_in(fx, gzip ? "images.gz" : "images", path, sizeof path);
        write_idx(path, MAGIC_IMAGES, dims3, 3, payload, sizeof payload, gzip);
        size_t dims[3];
        unsigned char *data = NULL;
        mlp_error err = {0};
        assert_int_equal(idx_read(path, 3, dims, &data, &err), MLP_OK);
        assert_int_equal(dims[0], 2);
        assert_int_equal(dims[1], 2);
        assert_int_equal(dims[2], 3);
        assert_memory_equal(data, payload, sizeof payload);
        free(data);
    }
    /* a label file, and an empty one (zero examples is a valid IDX file) */
    char path[512];
    path_in(fx, "labels", path, sizeof path);
    uint32_t dims1[1] = {3};
    write_idx(path, MAGIC_LABELS, dims1, 1, payload, 3, 0);
    size_t dims[3];
    unsigned char *data = NULL;
    assert_int_equal(idx_read(path, 1, dims, &data, NULL), MLP_OK);
    assert_int_equal(dims[0], 3);
    assert_memory_equal(data, payload, 3);
    free(data);
    dims1[0] = 0;
    write_idx(path, MAGIC_LABELS, dims1, 1, NULL, 0, 0);
    assert_int_equal(idx_read(path, 1, dims, &data, NULL), MLP_OK);
    assert_int_equal(dims[0], 0);
    free(data);
}

/* idx_read of path must fail with MLP_ERR_DATA, hand back no data and name
 * the file; *err holds the message for the caller's own checks. */
static void expect_idx_refused(const char *path, size_t ndims, mlp_error *err)
{
    size_t got[3];
    unsigned char *data = (unsigned char *)1;
    *err = (mlp_error){0};
    assert_int_equal(idx_read(path, ndims, got, &data, err), MLP_ERR_DATA);
    assert_null(data);
    assert_contains(err->message, path);
}

/* An IDX file that idx_read must refuse: `name` in the fixture's directory,
 * written with magic, dims[0..n_dims) and `payload` zero bytes (gzip'ed when
 * gzip), read expecting `want_dims` dimensions; the message says `says`
 * (and `also`, unless NULL). */
typedef struct idx_refusal {
    const char *name;
    uint32_t magic;
    uint32_t dims[3];
    int n_dims;
    size_t payload;
    int gzip;
    size_t want_dims;
    const char *says, *also;
} idx_refusal;

static void expect_idx_refusals(fixture *fx, const idx_refusal *cases, size_t n)
{
    static const unsigned char zeros[16];
    for (size_t i = 0; i < n; i++) {
        const idx_refusal *c = &cases[i];
        char path[512];
        path_in(fx, c->name, path, sizeof path);
        assert_true(c->payload <= sizeof zeros);
        write_idx(path, c->magic, c->dims, c->n_dims, zeros, c->payload, c->gzip);
        mlp_error err;
        expect_idx_refused(path, c->want_dims, &err);
        assert_contains(err.message, c->says);
        if (c->also != NULL)
            assert_contains(err.message, c->also);
    }
}

static void test_idx_read_bad_magic(void **state)
{
    fixture *fx = *state;
    static const idx_refusal cases[] = {
        {"bad", 0x12340801, {4}, 1, 4, 0, 1, "not an IDX file", "0x12340801"},
        /* right shape of magic, wrong data type (0x0D = float) */
        {"bad", 0x00000D01, {4}, 1, 4, 0, 1, "data type 0x0d is not supported", NULL},
    };
    expect_idx_refusals(fx, cases, sizeof cases / sizeof cases[0]);

    /* shorter than a header */
    char path[512];
    path_in(fx, "bad", path, sizeof path);
    const unsigned char payload[2] = {1, 2};
    mlp_error err;
    write_bytes(path, payload, 2, 0);
    expect_idx_refused(path, 1, &err);
    assert_contains(err.message, "too short");

    /* missing file */
    path_in(fx, "absent", path, sizeof path);
    expect_idx_refused(path, 1, &err);
    assert_contains(err.message, "cannot open");
}

static void test_idx_read_wrong_ndims(void **state)
{
    static const idx_refusal cases[] = {
        {"labels", MAGIC_LABELS, {4}, 1, 4, 0, 3, "has 1 dimension", "an IDX image file has 3"},
    };
    expect_idx_refusals(*state, cases, 1);
}

static void test_idx_read_truncated_payload(void **state)
{
    fixture *fx = *state;
    char path[512];
    path_in(fx, "images", path, sizeof path);
    unsigned char payload[10] = {0};
    uint32_t dims[3] = {1, 3, 4};    /* announces 12 bytes */
    write_idx(path, MAGIC_IMAGES, dims, 3, payload, sizeof payload, 0);
    mlp_error err = {0};
    expect_idx_refused(path, 3, &err);
    char expected[700];
    snprintf(expected, sizeof expected, "%s: truncated: expected 12 bytes of image data, found 10", path);
    assert_string_equal(err.message, expected);

    /* the same through gzip (a complete stream of too few bytes) */
    static const idx_refusal gzip[] = {
        {"images.gz", MAGIC_IMAGES, {1, 3, 4}, 3, 10, 1, 3,
         "truncated: expected 12 bytes of image data, found 10", NULL},
    };
    expect_idx_refusals(fx, gzip, 1);

    /* a header cut inside its dimensions */
    path_in(fx, "short-header", path, sizeof path);
    size_t total;
    unsigned char *b = idx_bytes(MAGIC_IMAGES, dims, 3, NULL, 0, &total);
    write_bytes(path, b, 9, 0);
    free(b);
    expect_idx_refused(path, 3, &err);
    assert_contains(err.message, "header ends after 5 of its 12 dimension bytes");
}

static void test_idx_read_trailing_bytes(void **state)
{
    static const idx_refusal cases[] = {
        {"labels", MAGIC_LABELS, {3}, 1, 5, 0, 1,
         "2 unexpected bytes after the 3 bytes of label data", NULL},
    };
    expect_idx_refusals(*state, cases, 1);
}

static void test_idx_read_truncated_or_corrupt_gzip(void **state)
{
    fixture *fx = *state;
    char plain[512], gz[512];
    path_in(fx, "images", plain, sizeof plain);
    path_in(fx, "images.gz", gz, sizeof gz);
    enum { N = 3000 };
    unsigned char *payload = malloc(N);
    assert_non_null(payload);
    for (size_t i = 0; i < N; i++)
        payload[i] = (unsigned char)((i * 2654435761u) >> 13);   /* poorly compressible */
    uint32_t dims[3] = {3, 25, 40};
    write_idx(gz, MAGIC_IMAGES, dims, 3, payload, N, 1);
    free(payload);

    struct stat st;
    assert_int_equal(stat(gz, &st), 0);
    size_t full = (size_t)st.st_size;
    FILE *f = fopen(gz, "rb");
    assert_non_null(f);
    unsigned char *bytes = malloc(full);
    assert_non_null(bytes);
    assert_int_equal(fread(bytes, 1, full, f), full);
    fclose(f);

    mlp_error err = {0};

    /* cut in the middle of the deflate data */
    write_bytes(gz, bytes, full / 2, 0);
    expect_idx_refused(gz, 3, &err);
    assert_contains(err.message, "corrupt or truncated gzip data");
    assert_null(strstr(err.message, "<fd:"));   /* zlib's name for the descriptor is not shown */

    /* all the data but the 8-byte trailer (CRC and length): still an error */
    write_bytes(gz, bytes, full - 8, 0);
    expect_idx_refused(gz, 3, &err);
    assert_contains(err.message, "corrupt or truncated gzip data");

    /* one byte of the trailer missing */
    write_bytes(gz, bytes, full - 1, 0);
    expect_idx_refused(gz, 3, &err);
    assert_contains(err.message, "gzip");

    /* a flipped byte inside the compressed data (CRC or inflate catches it) */
    bytes[full / 2] ^= 0x5a;
    write_bytes(gz, bytes, full, 0);
    expect_idx_refused(gz, 3, &err);
    assert_contains(err.message, "gzip");
    free(bytes);

    /* a name ending in .gz that is not gzip */
    unsigned char raw[8 + 3] = {0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3};
    write_bytes(gz, raw, sizeof raw, 0);
    expect_idx_refused(gz, 1, &err);
    assert_contains(err.message, "not gzip-compressed");
}

static void test_sha256_file(void **state)
{
    fixture *fx = *state;
    char path[512], hex[65];
    path_in(fx, "abc", path, sizeof path);
    write_bytes(path, (const unsigned char *)"abc", 3, 0);
    assert_int_equal(data_sha256_file(path, hex, NULL), MLP_OK);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    path_in(fx, "absent", path, sizeof path);
    mlp_error err = {0};
    assert_int_equal(data_sha256_file(path, hex, &err), MLP_ERR_DATA);
    assert_contains(err.message, "cannot open");
}

/* ---- named data sets -------------------------------------------------------------- */

static void test_named_set_good_small(void **state)
{
    fixture *fx = *state;
    for (int gzip = 0; gzip <= 1; gzip++) {
        write_set(fx, 6, 4, gzip);
        use_unchecked(fx, fx->dir);
        fx->config->train_size = 5;
        fx->config->test_size = 4;
        dataset *set = NULL;
        mlp_error err = {0};
        assert_int_equal(load_set(fx, &set, &err), MLP_OK);
        assert_string_equal(set->name, "fashion-mnist");
        assert_int_equal(set->input_size, PIXELS);
        assert_int_equal(set->output_size, 10);
        assert_int_equal(set->has_classes, 1);
        assert_int_equal(set->train.count, 5);
        assert_int_equal(set->validation.count, 0);    /* fewer than 50,000: no validation images */
        assert_int_equal(set->test.count, 4);
        assert_int_equal(set->train.pixels[PIXELS * 2 + 1], (2 * 7 + 1) % 256);
        assert_int_equal(set->train.labels[3], 3);
        assert_int_equal(data_class(&set->test, 2), 2);
        assert_int_equal(set->file_count, 4);
        assert_contains(set->file_paths[0], "train-images-idx3-ubyte");
        assert_contains(set->file_paths[3], "t10k-labels-idx1-ubyte");
        /* provenance is the SHA-256 of the uncompressed bytes (64 lowercase hex) */
        assert_int_equal(strlen(set->file_sha256[1]), 64);
        assert_int_equal(strspn(set->file_sha256[1], "0123456789abcdef"), 64);
        if (gzip)
            assert_true(strstr(set->file_paths[0], ".gz") != NULL);
        data_free(set);
        remove_plain_set(fx);    /* so that the gzip round reads only .gz ones */
    }
}

/* 50,004 training images: train is the first 50,000, validation the rest.
 * Written as .gz (mostly-regular bytes compress well) to keep the test light. */
static void test_named_set_nielsen_split(void **state)
{
    fixture *fx = *state;
    write_set(fx, 50004, 2, 1);
    use_unchecked(fx, fx->dir);
    dataset *set = NULL;
    mlp_error err = {0};
    assert_int_equal(load_set(fx, &set, &err), MLP_OK);
    assert_int_equal(set->train.count, 50000);
    assert_int_equal(set->validation.count, 4);
    assert_int_equal(set->test.count, 2);
    /* validation starts at training image 50,000 */
    assert_int_equal(set->validation.labels[0], 50000 % 10);
    assert_int_equal(set->validation.pixels[0], (50000 * 7) % 256);
    assert_int_equal(set->validation.labels[3], 50003 % 10);
    assert_int_equal(set->train.labels[49999], 49999 % 10);
    data_free(set);

    /* first N of each part */
    fx->config->train_size = 10;
    fx->config->validation_size = 2;
    fx->config->test_size = 0;
    assert_int_equal(load_set(fx, &set, &err), MLP_OK);
    assert_int_equal(set->train.count, 10);
    assert_int_equal(set->validation.count, 2);
    assert_int_equal(set->validation.labels[1], 50001 % 10);
    assert_int_equal(set->test.count, 0);
    data_free(set);

    /* more than a part holds is an error, not a silent cap */
    fx->config->train_size = 50001;
    assert_contains(load_fails(fx, MLP_ERR_DATA), "dataset.train_size is 50001, but data set "
                                                  "fashion-mnist has only 50000 training examples");
    fx->config->train_size = 10;
    fx->config->validation_size = 5;
    assert_contains(load_fails(fx, MLP_ERR_DATA), "only 4 validation examples");
}

/* Labels that do not fit the images: each case rewrites one pair of a good set. */
static void test_named_set_bad_labels(void **state)
{
    fixture *fx = *state;
    static const struct {
        const char *images, *labels;
        size_t count, label_count, bad_at;
        int bad_label;
        const char *needles[2];
    } cases[] = {
        {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 3, 3, 1, 10,
         {"t10k-labels-idx1-ubyte: label 10 of example 1 is not a class", "classes 0 to 9"}},
        {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", 6, 5, SIZE_MAX, 0,
         {"train-labels-idx1-ubyte has 5 labels, but", "train-images-idx3-ubyte has 6 images"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_set(fx, 6, 3, 0);
        write_mnist_like(fx, cases[i].images, cases[i].labels, cases[i].count,
                         cases[i].label_count, 0, cases[i].bad_at, cases[i].bad_label);
        use_unchecked(fx, fx->dir);
        const char *msg = load_fails(fx, MLP_ERR_DATA);
        assert_contains(msg, cases[i].needles[0]);
        assert_contains(msg, cases[i].needles[1]);
    }
}

static void test_named_set_wrong_image_size(void **state)
{
    fixture *fx = *state;
    write_set(fx, 6, 3, 0);
    char path[512];
    path_in(fx, "t10k-images-idx3-ubyte", path, sizeof path);
    unsigned char pixels[2 * 10 * 10] = {0};
    uint32_t dims[3] = {2, 10, 10};
    write_idx(path, MAGIC_IMAGES, dims, 3, pixels, sizeof pixels, 0);
    use_unchecked(fx, fx->dir);
    assert_contains(load_fails(fx, MLP_ERR_DATA), "images are 10x10 (100 values), but data set "
                                                  "fashion-mnist has 784 inputs");
}

static void test_named_set_missing_dir_and_files(void **state)
{
    fixture *fx = *state;
    const dataset_entry *mnist = datasets_find("mnist");
    assert_non_null(mnist);
    char missing[512];
    path_in(fx, "no-such-dir", missing, sizeof missing);
    use_named(fx, "mnist", missing);
    const char *msg = load_fails(fx, MLP_ERR_DATA);
    assert_contains(msg, missing);
    assert_contains(msg, "does not exist");
    assert_contains(msg, mnist->fetch_hint);

    /* the directory exists but is empty: the message names the file and the hint */
    use_named(fx, "mnist", fx->dir);
    msg = load_fails(fx, MLP_ERR_DATA);
    assert_contains(msg, "train-images-idx3-ubyte (or train-images-idx3-ubyte.gz) not found in directory");
    assert_contains(msg, fx->dir);
    assert_contains(msg, mnist->fetch_hint);

    /* one file of four missing */
    write_set(fx, 3, 3, 0);
    char path[512];
    path_in(fx, "t10k-labels-idx1-ubyte", path, sizeof path);
    unlink(path);
    use_unchecked(fx, fx->dir);
    msg = load_fails(fx, MLP_ERR_DATA);
    assert_contains(msg, "t10k-labels-idx1-ubyte (or t10k-labels-idx1-ubyte.gz) not found");
    assert_contains(msg, datasets_find("fashion-mnist")->fetch_hint);
}

/* Both catalogue entries check every file: fake files of the right shape are
 * refused, naming the file, both digests and how to get the real data. */
static void test_named_set_checksum_mismatch(void **state)
{
    fixture *fx = *state;
    for (int set = 0; set < 4; set++) {
        const dataset_entry *entry = datasets_find(set < 2 ? "mnist" : "fashion-mnist");
        assert_non_null(entry);
        int gzip = set % 2;
        /* compute the digest of the uncompressed fake file from a plain copy */
        write_set(fx, 3, 3, 0);
        char plain[512], actual[65];
        path_in(fx, "train-images-idx3-ubyte", plain, sizeof plain);
        assert_int_equal(data_sha256_file(plain, actual, NULL), MLP_OK);
        if (gzip) {
            write_set(fx, 3, 3, 1);
            remove_plain_set(fx);
        }
        use_named(fx, entry->name, fx->dir);
        const char *msg = load_fails(fx, MLP_ERR_DATA);
        char path[512];
        path_in(fx, gzip ? "train-images-idx3-ubyte.gz" : "train-images-idx3-ubyte", path, sizeof path);
        assert_contains(msg, path);
        assert_contains(msg, "SHA-256 mismatch");
        assert_contains(msg, entry->train_images.sha256);
        assert_contains(msg, actual);       /* of the uncompressed bytes, also for .gz */
        assert_contains(msg, entry->fetch_hint);
    }
}

static void test_default_dir(void **state)
{
    fixture *fx = *state;
    char dir[1024];
    char *saved = env_unset("MNIST_DIR");

    use_named(fx, "mnist", "/somewhere/explicit");
    setenv("MNIST_DIR", "/from/env", 1);
    data_default_dir(fx->config, dir, sizeof dir);
    assert_string_equal(dir, "/somewhere/explicit");     /* config wins */

    fx->config->dataset_dir[0] = '\0';
    data_default_dir(fx->config, dir, sizeof dir);
    assert_string_equal(dir, "/from/env");

    unsetenv("MNIST_DIR");
    data_default_dir(fx->config, dir, sizeof dir);
    assert_string_equal(dir, "data/mnist");              /* relative to the current directory */

    /* the variable is used by data_load too: it names the directory in errors */
    char missing[512];
    path_in(fx, "env-dir", missing, sizeof missing);
    setenv("MNIST_DIR", missing, 1);
    const char *msg = load_fails(fx, MLP_ERR_DATA);
    assert_contains(msg, missing);
    assert_contains(msg, "MNIST_DIR");

    env_restore("MNIST_DIR", saved);
}

/* Without dataset.dir or the variable, the default directories are tried in
 * order (relative ones from the current directory). */
static void test_default_dir_search_order(void **state)
{
    fixture *fx = *state;
    char here[1024], dir[1024];
    assert_non_null(getcwd(here, sizeof here));
    char *saved = env_unset("FASHION_MNIST_DIR");
    assert_int_equal(chdir(fx->dir), 0);

    use_named(fx, "fashion-mnist", "");
    struct stat st;
    /* Debian's package installs to /usr/share/datasets/fashion-mnist (dpkg -L
     * dataset-fashion-mnist): that is the second place looked in. */
    int debian_dir = stat("/usr/share/datasets/fashion-mnist", &st) == 0;
    if (debian_dir) {
        data_default_dir(fx->config, dir, sizeof dir);
        assert_string_equal(dir, "/usr/share/datasets/fashion-mnist");
    } else {
        const char *msg = load_fails(fx, MLP_ERR_DATA);
        assert_contains(msg, "no data directory found (looked in data/fashion-mnist, "
                             "/usr/share/datasets/fashion-mnist; FASHION_MNIST_DIR is not set)");
        assert_contains(msg, "apt-get install dataset-fashion-mnist");
    }
    assert_int_equal(mkdir("data", 0700), 0);
    assert_int_equal(mkdir("data/fashion-mnist", 0700), 0);
    data_default_dir(fx->config, dir, sizeof dir);
    assert_string_equal(dir, "data/fashion-mnist");

    assert_int_equal(chdir(here), 0);
    env_restore("FASHION_MNIST_DIR", saved);
}

static void test_network_must_fit_data(void **state)
{
    fixture *fx = *state;
    write_set(fx, 3, 3, 0);
    use_unchecked(fx, fx->dir);
    fx->config->sizes[0] = 100;
    assert_contains(load_fails(fx, MLP_ERR_DATA),
                    "network.sizes[0] is 100, but data set fashion-mnist has 784 inputs per example");
    fx->config->sizes[0] = PIXELS;
    fx->config->sizes[2] = 2;
    assert_contains(load_fails(fx, MLP_ERR_DATA),
                    "network.sizes[2] (the output layer) is 2, but data set fashion-mnist has 10 classes");
    fx->config->n_layers = 1;
    assert_contains(load_fails(fx, MLP_ERR_DATA), "network.sizes has 1 entries");

    use_named(fx, "cifar", fx->dir);
    assert_contains(load_fails(fx, MLP_ERR_DATA), "unknown data set 'cifar'");
}

/* ---- inline data and batches ----------------------------------------------------- */

static void set_inline(fixture *fx, size_t count, int in, int out,
                       const double *inputs, const double *targets)
{
    mlp_config *c = fx->config;
    snprintf(c->dataset_name, sizeof c->dataset_name, "inline");
    c->n_layers = 2;
    c->sizes[0] = in;
    c->sizes[1] = out;
    c->train_size = c->validation_size = c->test_size = -1;
    free(c->inline_inputs);
    free(c->inline_targets);
    c->inline_count = count;
    c->inline_inputs = malloc(count * (size_t)in * sizeof(double));
    c->inline_targets = malloc(count * (size_t)out * sizeof(double));
    assert_non_null(c->inline_inputs);
    assert_non_null(c->inline_targets);
    memcpy(c->inline_inputs, inputs, count * (size_t)in * sizeof(double));
    memcpy(c->inline_targets, targets, count * (size_t)out * sizeof(double));
}

static void test_inline_split_and_batches(void **state)
{
    fixture *fx = *state;
    const double inputs[4 * 2] = {0.1, 0.2, 1.5, -2.0, 3.0, 4.0, -0.5, 0.25};
    const double targets[4 * 2] = {1, 0, 0, 1, 0, 1, 1, 0};
    set_inline(fx, 4, 2, 2, inputs, targets);
    dataset *set = NULL;
    mlp_error err = {0};
    assert_int_equal(load_set(fx, &set, &err), MLP_OK);
    assert_string_equal(set->name, "inline");
    assert_int_equal(set->has_classes, 1);
    assert_int_equal(set->train.count, 4);
    assert_int_equal(set->validation.count, 0);
    assert_int_equal(set->test.count, 0);
    assert_int_equal(set->file_count, 0);

    /* the data set owns copies: changing the config afterwards does not reach it */
    fx->config->inline_inputs[4] = 99.0;

    size_t indices[2] = {2, 0};
    double x[4], y[4];
    data_batch(&set->train, indices, 2, x, y);
    assert_true(x[0] == 3.0 && x[1] == 4.0 && x[2] == 0.1 && x[3] == 0.2);
    assert_true(y[0] == 0.0 && y[1] == 1.0 && y[2] == 1.0 && y[3] == 0.0);
    assert_int_equal(data_class(&set->train, 0), 0);
    assert_int_equal(data_class(&set->train, 1), 1);
    data_free(set);

    /* not one-hot: no classes (accuracy would mean nothing) */
    const double soft[4 * 2] = {0.9, 0.1, 0, 1, 0, 1, 1, 0};
    set_inline(fx, 4, 2, 2, inputs, soft);
    assert_int_equal(load_set(fx, &set, &err), MLP_OK);
    assert_int_equal(set->has_classes, 0);
    data_free(set);

    /* a single output (Nielsen's neuron): no classes even if targets are 0/1 */
    const double one_in[1] = {1.0}, one_out[1] = {1.0};
    set_inline(fx, 1, 1, 1, one_in, one_out);
    assert_int_equal(load_set(fx, &set, &err), MLP_OK);
    assert_int_equal(set->has_classes, 0);
    assert_int_equal(set->train.count, 1);
    assert_int_equal(set->output_size, 1);
    data_free(set);

    /* no rows */
    fx->config->inline_count = 0;
    assert_contains(load_fails(fx, MLP_ERR_DATA), "no examples");
}

static void test_batch_scaling_and_one_hot(void **state)
{
    (void)state;
    /* 33 and 244 are values where p * (1.0 / 255.0) differs from p / 255.0 */
    unsigned char pixels[2 * 4] = {0, 51, 128, 255, 255, 33, 0, 244};
    unsigned char labels[2] = {7, 0};
    data_part part = {.count = 2, .input_size = 4, .output_size = 10,
                      .pixels = pixels, .labels = labels};
    size_t indices[3] = {1, 0, 1};
    double x[3 * 4], y[3 * 10];
    for (size_t i = 0; i < 3 * 10; i++)
        y[i] = 42.0;    /* stale values must be overwritten */
    data_batch(&part, indices, 3, x, y);
    const size_t order[3] = {1, 0, 1};
    for (size_t r = 0; r < 3; r++) {
        for (size_t j = 0; j < 4; j++)
            assert_true(x[r * 4 + j] == (double)pixels[order[r] * 4 + j] / 255.0);
        for (size_t k = 0; k < 10; k++)
            assert_true(y[r * 10 + k] == (k == labels[order[r]] ? 1.0 : 0.0));
    }
    assert_true(x[4] == 0.0 && x[7] == 1.0);
    assert_true(x[5] == 51.0 / 255.0);
    assert_int_equal(data_class(&part, 0), 7);
    assert_int_equal(data_class(&part, 1), 0);
}

/* ---- real MNIST (only when MLP_TEST_MNIST_DIR is set) ----------------------------- */

/* data_load of the first 100 training, 50 validation and 20 test examples
 * of the named data set in dir ("" for its default search). */
static int load_real(fixture *fx, const char *name, const char *dir, dataset **set,
                     mlp_error *err)
{
    use_named(fx, name, dir);
    fx->config->train_size = 100;
    fx->config->validation_size = 50;
    fx->config->test_size = 20;
    return data_load(fx->config, set, err);
}

static void test_real_mnist(void **state)
{
    fixture *fx = *state;
    const char *dir = getenv("MLP_TEST_MNIST_DIR");
    assert_non_null(dir);
    dataset *set = NULL;
    mlp_error err = {0};
    int rc = load_real(fx, "mnist", dir, &set, &err);
    if (rc != MLP_OK)
        fail_msg("MLP_TEST_MNIST_DIR=%s: %s", dir, err.message);
    assert_int_equal(set->train.count, 100);
    assert_int_equal(set->validation.count, 50);
    assert_int_equal(set->test.count, 20);
    assert_int_equal(set->input_size, 784);
    assert_int_equal(set->output_size, 10);
    assert_int_equal(set->train.labels[0], 5);        /* the famous first "5" */
    assert_int_equal(set->validation.labels[0], 3);   /* training image 50,000 */
    assert_int_equal(set->test.labels[0], 7);
    const dataset_entry *mnist = datasets_find("mnist");
    assert_int_equal(set->file_count, 4);
    assert_string_equal(set->file_sha256[0], mnist->train_images.sha256);
    assert_string_equal(set->file_sha256[3], mnist->test_labels.sha256);
    data_free(set);
}

/* ---- real Fashion-MNIST, from where Debian's package puts it ---------------------- */

static const char debian_fashion_dir[] = "/usr/share/datasets/fashion-mnist";

/* Found by the default search alone (no dataset.dir, no FASHION_MNIST_DIR, no
 * data/fashion-mnist in the current directory), read as Debian ships it
 * (.gz) and checked against the catalogue's SHA-256 of every file. */
static void test_real_fashion_mnist(void **state)
{
    fixture *fx = *state;
    char here[1024];
    assert_non_null(getcwd(here, sizeof here));
    char *saved = env_unset("FASHION_MNIST_DIR");
    assert_int_equal(chdir(fx->dir), 0);

    dataset *set = NULL;
    mlp_error err = {0};
    int rc = load_real(fx, "fashion-mnist", "", &set, &err);
    assert_int_equal(chdir(here), 0);
    env_restore("FASHION_MNIST_DIR", saved);
    if (rc != MLP_OK)
        fail_msg("%s", err.message);
    const dataset_entry *entry = datasets_find("fashion-mnist");
    const dataset_file *files[4] = {&entry->train_images, &entry->train_labels,
                                    &entry->test_images, &entry->test_labels};
    assert_int_equal(set->file_count, 4);
    for (int i = 0; i < 4; i++) {
        char expected[1024];
        snprintf(expected, sizeof expected, "%s/%s.gz", debian_fashion_dir, files[i]->name);
        assert_string_equal(set->file_paths[i], expected);
        assert_non_null(files[i]->sha256);
        assert_string_equal(set->file_sha256[i], files[i]->sha256);
    }
    assert_int_equal(set->train.count, 100);
    assert_int_equal(set->validation.count, 50);
    assert_int_equal(set->test.count, 20);
    assert_int_equal(set->train.labels[0], 9);        /* an ankle boot */
    assert_int_equal(set->validation.labels[0], 9);   /* training image 50,000 */
    assert_int_equal(set->validation.labels[1], 2);
    assert_int_equal(set->test.labels[0], 9);
    assert_int_equal(set->test.labels[1], 2);
    data_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_IN_FIXTURE(test_idx_read_good_plain_and_gzip),
        TEST_IN_FIXTURE(test_idx_read_bad_magic),
        TEST_IN_FIXTURE(test_idx_read_wrong_ndims),
        TEST_IN_FIXTURE(test_idx_read_truncated_payload),
        TEST_IN_FIXTURE(test_idx_read_trailing_bytes),
        TEST_IN_FIXTURE(test_idx_read_truncated_or_corrupt_gzip),
        TEST_IN_FIXTURE(test_sha256_file),
        TEST_IN_FIXTURE(test_named_set_good_small),
        TEST_IN_FIXTURE(test_named_set_nielsen_split),
        TEST_IN_FIXTURE(test_named_set_bad_labels),
        TEST_IN_FIXTURE(test_named_set_wrong_image_size),
        TEST_IN_FIXTURE(test_named_set_missing_dir_and_files),
        TEST_IN_FIXTURE(test_named_set_checksum_mismatch),
        TEST_IN_FIXTURE(test_default_dir),
        TEST_IN_FIXTURE(test_default_dir_search_order),
        TEST_IN_FIXTURE(test_network_must_fit_data),
        TEST_IN_FIXTURE(test_inline_split_and_batches),
        TEST_IN_FIXTURE(test_batch_scaling_and_one_hot),
    };
    int failed = cmocka_run_group_tests_name("data", tests, NULL, NULL);

    struct stat st;
    if (stat(debian_fashion_dir, &st) == 0) {
        const struct CMUnitTest fashion_tests[] = {
            TEST_IN_FIXTURE(test_real_fashion_mnist),
        };
        failed += cmocka_run_group_tests_name("data (real Fashion-MNIST)", fashion_tests, NULL, NULL);
    } else {
        printf("test_data: real Fashion-MNIST test not run (%s is missing: "
               "make data-fashion-mnist installs it)\n", debian_fashion_dir);
    }

    if (getenv("MLP_TEST_MNIST_DIR") == NULL) {
        printf("test_data: real-MNIST test not run (set MLP_TEST_MNIST_DIR=data/mnist to run it)\n");
        return failed;
    }
    const struct CMUnitTest mnist_tests[] = {
        TEST_IN_FIXTURE(test_real_mnist),
    };
    return failed + cmocka_run_group_tests_name("data (real MNIST)", mnist_tests, NULL, NULL);
}
