/* datasets.h — the catalogue of named data sets mlplab knows how to find.
 *
 * One table entry per data set: its shape (so configs can be checked before
 * any file is read), its IDX files and their published SHA-256, where to look
 * for them, and how its training file is split into train and validation. */
#ifndef MLP_DATASETS_H
#define MLP_DATASETS_H

#include <stddef.h>

typedef struct dataset_file {
    const char *name;           /* file name without .gz, e.g. "train-images-idx3-ubyte" */
    const char *sha256;         /* of the uncompressed bytes; NULL = not checked */
} dataset_file;

typedef struct dataset_entry {
    const char *name;                   /* as written in configs: "mnist" */
    size_t input_size, classes;
    size_t train_available;             /* examples in the training files */
    size_t train_default, validation_default, test_default;
    dataset_file train_images, train_labels, test_images, test_labels;
    const char *dir_variable;           /* environment variable naming a directory */
    const char *default_dirs[3];        /* searched in order when the variable is unset */
    const char *fetch_hint;             /* what to run when the files are missing */
} dataset_entry;

/* The entry for name, or NULL. */
const dataset_entry *datasets_find(const char *name);

/* Every entry, in table order; *count receives the number. */
const dataset_entry *datasets_table(size_t *count);

/* The names configs may give, comma-separated, for messages: the entries'
 * and "inline" (data written in the config itself, no entry). */
const char *datasets_names(void);

#endif
