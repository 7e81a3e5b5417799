/* data.h — data sets: IDX files (MNIST, Fashion-MNIST), inline data, splits.
 *
 * Images stay as bytes (70,000 x 784 bytes for MNIST, not doubles) and are
 * scaled to [0,1] per mini-batch by data_batch, which keeps a run small.
 * Every IDX file is checked (magic, dimensions, exact length) and its SHA-256
 * computed; for known data sets it is compared with the published checksum.
 * A truncated file, a bad header or a wrong checksum is an error naming the
 * file and what was wrong, never a silent partial load. Files may be plain or
 * gzip-compressed (name ending in .gz).
 *
 * MNIST split as Nielsen's mnist_loader: train = first 50,000 training images,
 * validation = the last 10,000, test = the 10,000 t10k images; train_size etc.
 * in the config take the first N of each part.
 *
 * Ownership: data_load allocates *out; free it with data_free. Parts point into
 * buffers the dataset owns. */
#ifndef MLP_DATA_H
#define MLP_DATA_H

#include <stddef.h>

#include "config.h"
#include "error.h"

typedef struct data_part {
    size_t count;                   /* examples in this part (0: the part is absent) */
    size_t input_size, output_size;
    /* IDX data: pixels count x input_size bytes, labels count class indices */
    const unsigned char *pixels;
    const unsigned char *labels;
    /* inline data: count x input_size and count x output_size doubles */
    const double *inputs;
    const double *targets;
} data_part;

enum { DATA_MAX_FILES = 4 };

typedef struct dataset {
    char name[64];
    size_t input_size, output_size;
    int has_classes;                /* 1: accuracy is meaningful (labels or one-hot targets) */
    data_part train, validation, test;
    /* provenance: the files read and their SHA-256 (lowercase hex) */
    size_t file_count;
    char file_paths[DATA_MAX_FILES][1024];
    char file_sha256[DATA_MAX_FILES][65];
    /* owned buffers */
    unsigned char *buffers[DATA_MAX_FILES];
    double *inline_buffers[2];
} dataset;

/* (Named data sets are described in datasets.h.) */

/* Directory searched for a named data set: config->dataset_dir if set, else
 * $MNIST_DIR (mnist) / $FASHION_MNIST_DIR, else data/mnist (relative to the
 * current directory) or /usr/share/... for Debian's dataset-fashion-mnist. */
void data_default_dir(const mlp_config *config, char *dir, size_t size);

/* What data_load gives for `config`, known without reading a file: which
 * parts have examples and whether the targets are classes (so accuracy and
 * confusion matrices exist). The planner checks a study's report against it
 * (measures_recorded). For a named set, the catalogue's full files: a smaller
 * copy (a test fixture) may have no validation images. */
typedef struct data_shape {
    int is_inline;                  /* dataset.inline: every example is a training one */
    int has_validation, has_test;   /* the part will have examples */
    int has_classes;                /* as dataset.has_classes */
} data_shape;
void data_shape_of(const mlp_config *config, data_shape *out);

/* Loads the config's data set and checks it against the network's sizes. */
int data_load(const mlp_config *config, dataset **out, mlp_error *err);

/* As data_load, but reads the named set `entry` describes instead of the
 * catalogue's entry for config->dataset_name: a set of one's own shape and
 * checksums (the tests use a copy of fashion-mnist without checksums). */
struct dataset_entry;
int data_load_entry(const mlp_config *config, const struct dataset_entry *entry, dataset **out,
                    mlp_error *err);
void data_free(dataset *set);

/* Fills x (count x input_size, pixels/255.0: exactly the IEEE quotient, computed
 * with vector division by the kernels, kernels.h) and y (count x output_size: one-hot
 * labels, or the inline targets) for examples indices[0..count). */
void data_batch(const data_part *part, const size_t *indices, size_t count, double *x, double *y);

/* Where each example's pixels are: images[r] = the input_size bytes of
 * example indices[r] (for net_forward_bytes and net_train_batch_bytes). IDX
 * data only. */
void data_images(const data_part *part, const size_t *indices, size_t count,
                 const unsigned char **images);

/* y alone, as data_batch fills it (for inputs read by data_images). */
void data_targets(const data_part *part, const size_t *indices, size_t count, double *y);

/* Asks the CPU to start loading those examples' pixels into cache (the next
 * batch, while this one trains: shuffled images are far apart in memory). */
void data_prefetch(const data_part *part, const size_t *indices, size_t count);

/* Class index of example i (label, or argmax of inline targets). */
int data_class(const data_part *part, size_t i);

/* SHA-256 of a whole file (through libmd), lowercase hex. */
int data_sha256_file(const char *path, char hex[65], mlp_error *err);

/* Reads an IDX file (plain or .gz) entirely: checks magic (unsigned byte data),
 * dimension count, and that the payload length equals the product of the
 * dimensions. *dims receives up to 3 dimensions; *payload is malloc'ed. */
int idx_read(const char *path, int expected_ndims, size_t dims[3],
             unsigned char **payload, mlp_error *err);

#endif
