/* data.c — see data.h. IDX files (plain or gzip), checksums, splits, inline data.
 *
 * Every file is read completely through zlib (which also reads plain files) and
 * hashed while it is read, so the SHA-256 recorded in a run file is that of the
 * bytes actually trained on, whether they came from a .gz or not. Anything that
 * is not exactly right — header, length, gzip stream, checksum, labels — is an
 * error naming the file: a partial data set must never look like a whole one. */
#include "data.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sha2.h>
#include <zlib.h>

#include "datasets.h"
#include "kernels.h"

enum {
    READ_CHUNK = 1 << 20,           /* bytes per gzread call (it takes an unsigned) */
    INITIAL_CAPACITY = 1 << 24,     /* a corrupt header must not make us allocate GBs up front */
    IDX_TYPE_UBYTE = 0x08,
};

/* ---- small helpers ---------------------------------------------------------- */

static uint32_t read_be32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* zlib's description of the stream's error state, or NULL when there is none.
 * Z_ERRNO means the OS failed the read, so errno says more than zlib does. */
static const char *gz_problem(gzFile f)
{
    int code = Z_OK;
    const char *msg = gzerror(f, &code);
    if (code == Z_OK)
        return NULL;
    if (code == Z_ERRNO)
        return strerror(errno);
    /* zlib prefixes the name it was opened with, "<fd:N>" for gzdopen; the
     * caller names the file itself. */
    const char *colon = strstr(msg, ": ");
    return strncmp(msg, "<fd:", 4) == 0 && colon != NULL ? colon + 2 : msg;
}

/* Reads up to len bytes into buf; *got receives how many arrived. A short read
 * at the end of the data is not an error here (the caller knows how much it
 * expected); a zlib or OS error is, with its description in *why. */
static int gz_read_full(gzFile f, unsigned char *buf, size_t len, size_t *got, const char **why)
{
    *got = 0;
    while (*got < len) {
        size_t want = len - *got;
        if (want > READ_CHUNK)
            want = READ_CHUNK;
        int n = gzread(f, buf + *got, (unsigned)want);
        if (n <= 0)     /* end of data, or an error gz_problem reports below */
            break;
        *got += (size_t)n;
    }
    /* A truncated gzip stream returns the bytes it could decode and sets
     * Z_BUF_ERROR, so the error state is checked even after a "successful" read. */
    *why = gz_problem(f);
    return *why == NULL ? 0 : -1;
}

static const char *idx_kind(int ndims)
{
    return ndims == 3 ? "image" : ndims == 1 ? "label" : "IDX";
}

/* ---- IDX reading -------------------------------------------------------------- */

/* The IDX reader proper; sha_hex (may be NULL) receives the SHA-256 of all the
 * uncompressed bytes, header included, i.e. of the original IDX file. */
static int idx_read_hashed(const char *path, int expected_ndims, size_t dims[3],
                           unsigned char **payload, char sha_hex[65], mlp_error *err)
{
    *payload = NULL;
    dims[0] = dims[1] = dims[2] = 0;
    if (expected_ndims < 1 || expected_ndims > 3)
        return mlp_error_set(err, MLP_ERR_RUN, "idx_read: %d dimensions requested (1 to 3 supported)",
                             expected_ndims);

    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return mlp_error_set(err, MLP_ERR_DATA, "%s: cannot open: %s", path, strerror(errno));
    gzFile f = gzdopen(fd, "rb");
    if (f == NULL) {
        close(fd);
        return mlp_error_nomem(err, "a gzip reader");
    }
    gzbuffer(f, 1 << 17);

    int status = MLP_OK;
    unsigned char *buf = NULL;
    const char *why = NULL;
    const char *kind = idx_kind(expected_ndims);
    SHA2_CTX sha;
    SHA256Init(&sha);

    /* gzdirect looks ahead: true means the bytes are not gzip at all. */
    if (ends_with(path, ".gz") && gzdirect(f)) {
        status = mlp_error_set(err, MLP_ERR_DATA,
                               "%s: not gzip-compressed, although its name ends in .gz", path);
        goto done;
    }

    unsigned char header[4 + 4 * 3];
    size_t got = 0;
    if (gz_read_full(f, header, 4, &got, &why) != 0) {
        status = mlp_error_set(err, MLP_ERR_DATA, "%s: corrupt or truncated gzip data (%s)", path, why);
        goto done;
    }
    if (got < 4) {
        status = mlp_error_set(err, MLP_ERR_DATA,
                               "%s: not an IDX file: %zu bytes, too short for the 4-byte header", path, got);
        goto done;
    }
    uint32_t magic = read_be32(header);
    int type = header[2], ndims = header[3];
    if (header[0] != 0 || header[1] != 0) {
        status = mlp_error_set(err, MLP_ERR_DATA,
                               "%s: not an IDX file (magic number 0x%08x; an IDX %s file starts with 0x%08x)",
                               path, (unsigned)magic, kind, 0x800u | (unsigned)expected_ndims);
        goto done;
    }
    if (type != IDX_TYPE_UBYTE) {
        status = mlp_error_set(err, MLP_ERR_DATA,
                               "%s: IDX data type 0x%02x is not supported; only unsigned bytes (0x08) are "
                               "(magic number 0x%08x)", path, (unsigned)type, (unsigned)magic);
        goto done;
    }
    if (ndims != expected_ndims) {
        status = mlp_error_set(err, MLP_ERR_DATA,
                               "%s: has %d dimension%s (magic number 0x%08x), but an IDX %s file has %d "
                               "(magic number 0x%08x)", path, ndims, ndims == 1 ? "" : "s",
                               (unsigned)magic, kind, expected_ndims, 0x800u | (unsigned)expected_ndims);
        goto done;
    }
    SHA256Update(&sha, header, 4);

    size_t dims_bytes = 4 * (size_t)ndims;
    if (gz_read_full(f, header + 4, dims_bytes, &got, &why) != 0) {
        status = mlp_error_set(err, MLP_ERR_DATA, "%s: corrupt or truncated gzip data (%s)", path, why);
        goto done;
    }
    if (got < dims_bytes) {
        status = mlp_error_set(err, MLP_ERR_DATA,
                               "%s: truncated: the header ends after %zu of its %zu dimension bytes",
                               path, got, dims_bytes);
        goto done;
    }
    SHA256Update(&sha, header + 4, dims_bytes);

    size_t expected = 1;
    for (int d = 0; d < ndims; d++) {
        dims[d] = read_be32(header + 4 + 4 * d);
        if (dims[d] != 0 && expected > SIZE_MAX / dims[d]) {
            status = mlp_error_set(err, MLP_ERR_DATA, "%s: dimensions too large to be a real file", path);
            goto done;
        }
        expected *= dims[d];
    }

    /* Grow the buffer as data arrives, so a header that claims more than the
     * file holds costs a truncation error, not a giant allocation. */
    size_t capacity = expected < INITIAL_CAPACITY ? expected : INITIAL_CAPACITY;
    size_t have = 0;
    buf = malloc(capacity > 0 ? capacity : 1);
    if (buf == NULL) {
        status = mlp_error_nomem(err, "IDX data");
        goto done;
    }
    for (;;) {
        if (gz_read_full(f, buf + have, capacity - have, &got, &why) != 0) {
            status = mlp_error_set(err, MLP_ERR_DATA, "%s: corrupt or truncated gzip data (%s)", path, why);
            goto done;
        }
        SHA256Update(&sha, buf + have, got);
        have += got;
        if (have < capacity || capacity == expected)
            break;
        size_t grown = capacity > expected / 2 ? expected : 2 * capacity;
        unsigned char *bigger = realloc(buf, grown);
        if (bigger == NULL) {
            status = mlp_error_nomem(err, "IDX data");
            goto done;
        }
        buf = bigger;
        capacity = grown;
    }
    if (have < expected) {
        status = mlp_error_set(err, MLP_ERR_DATA, "%s: truncated: expected %zu bytes of %s data, found %zu",
                               path, expected, kind, have);
        goto done;
    }

    /* Count what follows: extra bytes mean the header and the data disagree. */
    size_t trailing = 0;
    unsigned char scratch[4096];
    do {
        if (gz_read_full(f, scratch, sizeof scratch, &got, &why) != 0) {
            status = mlp_error_set(err, MLP_ERR_DATA, "%s: corrupt or truncated gzip data (%s)", path, why);
            goto done;
        }
        trailing += got;
    } while (got == sizeof scratch);
    if (trailing > 0) {
        status = mlp_error_set(err, MLP_ERR_DATA,
                               "%s: %zu unexpected byte%s after the %zu bytes of %s data the header "
                               "announces", path, trailing, trailing == 1 ? "" : "s", expected, kind);
        goto done;
    }

done:;
    /* gzclose reports a stream that ended early (Z_BUF_ERROR) even when no
     * read did; it also closes fd. */
    int closed = gzclose(f);
    if (status == MLP_OK && closed != Z_OK)
        status = mlp_error_set(err, MLP_ERR_DATA, "%s: corrupt or truncated gzip data (%s)", path,
                               closed == Z_BUF_ERROR ? "unexpected end of file"
                               : closed == Z_ERRNO ? strerror(errno) : "zlib error");
    if (status != MLP_OK) {
        free(buf);
        dims[0] = dims[1] = dims[2] = 0;
        return status;
    }
    if (sha_hex != NULL)
        SHA256End(&sha, sha_hex);
    *payload = buf;
    return MLP_OK;
}

int idx_read(const char *path, int expected_ndims, size_t dims[3],
             unsigned char **payload, mlp_error *err)
{
    return idx_read_hashed(path, expected_ndims, dims, payload, NULL, err);
}

int data_sha256_file(const char *path, char hex[65], mlp_error *err)
{
    /* libmd's, as config.c's run id and hooks.c's script digest */
    if (SHA256File(path, hex) == NULL)
        return mlp_error_set(err, MLP_ERR_DATA, "%s: cannot open or read: %s", path,
                             strerror(errno));
    return MLP_OK;
}

/* ---- where the files are ------------------------------------------------------ */

/* Fills dir and returns where the choice came from, for error messages. */
static const char *choose_dir(const mlp_config *config, const dataset_entry *entry,
                              char *dir, size_t size)
{
    if (size == 0)
        return "";
    if (config->dataset_dir[0] != '\0') {
        snprintf(dir, size, "%s", config->dataset_dir);
        return "dataset.dir";
    }
    if (entry == NULL) {
        dir[0] = '\0';
        return "";
    }
    const char *from_env = entry->dir_variable ? getenv(entry->dir_variable) : NULL;
    if (from_env != NULL && from_env[0] != '\0') {
        snprintf(dir, size, "%s", from_env);
        return entry->dir_variable;
    }
    for (int i = 0; i < 3 && entry->default_dirs[i] != NULL; i++)
        if (is_directory(entry->default_dirs[i])) {
            snprintf(dir, size, "%s", entry->default_dirs[i]);
            return "the default";
        }
    /* None exists: name the first, so the error says where it was expected. */
    snprintf(dir, size, "%s", entry->default_dirs[0] ? entry->default_dirs[0] : "");
    return "the default";
}

void data_default_dir(const mlp_config *config, char *dir, size_t size)
{
    choose_dir(config, datasets_find(config->dataset_name), dir, size);
}

/* One IDX file of a named data set: found (NAME, then NAME.gz), read, checked
 * against its published checksum. path and sha receive the provenance. */
static int read_named_file(const char *dir, const dataset_entry *entry, const dataset_file *file,
                           int ndims, size_t dims[3], unsigned char **payload,
                           char path[1024], char sha[65], mlp_error *err)
{
    int n = snprintf(path, 1024, "%s/%s", dir, file->name);
    if (n < 0 || n >= 1024 - 3)
        return mlp_error_set(err, MLP_ERR_DATA, "data set %s: directory name too long: %s", entry->name, dir);
    if (!is_regular_file(path)) {
        strcat(path, ".gz");
        if (!is_regular_file(path))
            return mlp_error_set(err, MLP_ERR_DATA,
                                 "data set %s: %s (or %s.gz) not found in directory %s; %s",
                                 entry->name, file->name, file->name, dir, entry->fetch_hint);
    }
    int status = idx_read_hashed(path, ndims, dims, payload, sha, err);
    if (status != MLP_OK)
        return status;
    if (file->sha256 != NULL && strcmp(file->sha256, sha) != 0) {
        free(*payload);
        *payload = NULL;
        return mlp_error_set(err, MLP_ERR_DATA,
                             "%s: SHA-256 mismatch: expected %s, found %s (of the uncompressed bytes); "
                             "the file is damaged or not the original %s file; %s",
                             path, file->sha256, sha, entry->name, entry->fetch_hint);
    }
    return MLP_OK;
}

/* An image file and its label file: same count, the entry's image size, every
 * label a class index. */
static int read_named_pair(dataset *set, const char *dir, const dataset_entry *entry,
                           const dataset_file *images, const dataset_file *labels,
                           size_t *count, mlp_error *err)
{
    size_t k = set->file_count;
    size_t idims[3], ldims[3];
    int status = read_named_file(dir, entry, images, 3, idims, &set->buffers[k],
                                 set->file_paths[k], set->file_sha256[k], err);
    if (status != MLP_OK)
        return status;
    set->file_count++;
    const char *ipath = set->file_paths[k];
    if (idims[1] * idims[2] != entry->input_size)
        return mlp_error_set(err, MLP_ERR_DATA,
                             "%s: images are %zux%zu (%zu values), but data set %s has %zu inputs",
                             ipath, idims[1], idims[2], idims[1] * idims[2], entry->name,
                             entry->input_size);

    status = read_named_file(dir, entry, labels, 1, ldims, &set->buffers[k + 1],
                             set->file_paths[k + 1], set->file_sha256[k + 1], err);
    if (status != MLP_OK)
        return status;
    set->file_count++;
    const char *lpath = set->file_paths[k + 1];
    if (ldims[0] != idims[0])
        return mlp_error_set(err, MLP_ERR_DATA, "%s has %zu labels, but %s has %zu images",
                             lpath, ldims[0], ipath, idims[0]);
    const unsigned char *label = set->buffers[k + 1];
    for (size_t i = 0; i < ldims[0]; i++)
        if (label[i] >= entry->classes)
            return mlp_error_set(err, MLP_ERR_DATA,
                                 "%s: label %u of example %zu is not a class of data set %s "
                                 "(classes 0 to %zu)", lpath, (unsigned)label[i], i, entry->name,
                                 entry->classes - 1);
    *count = idims[0];
    return MLP_OK;
}

/* The first `wanted` examples of a part holding `available`; negative = all. */
static int part_size(long wanted, size_t available, const char *key, const char *set_name,
                     const char *what, size_t *out, mlp_error *err)
{
    if (wanted < 0) {
        *out = available;
        return MLP_OK;
    }
    if ((unsigned long)wanted > available)
        return mlp_error_set(err, MLP_ERR_DATA,
                             "dataset.%s is %ld, but data set %s has only %zu %s examples",
                             key, wanted, set_name, available, what);
    *out = (size_t)wanted;
    return MLP_OK;
}

static void idx_part(data_part *part, const unsigned char *pixels, const unsigned char *labels,
                     size_t first, size_t count, size_t input_size, size_t classes)
{
    part->count = count;
    part->input_size = input_size;
    part->output_size = classes;
    part->pixels = count > 0 ? pixels + first * input_size : NULL;
    part->labels = count > 0 ? labels + first : NULL;
    part->inputs = part->targets = NULL;
}

static int load_named(const mlp_config *config, const dataset_entry *entry, dataset *set,
                      mlp_error *err)
{
    char dir[1024];
    const char *source = choose_dir(config, entry, dir, sizeof dir);
    if (!is_directory(dir) && strcmp(source, "the default") == 0) {
        char searched[1024] = "";
        for (int i = 0; i < 3 && entry->default_dirs[i] != NULL; i++)
            snprintf(searched + strlen(searched), sizeof searched - strlen(searched), "%s%s",
                     i > 0 ? ", " : "", entry->default_dirs[i]);
        return mlp_error_set(err, MLP_ERR_DATA,
                             "data set %s: no data directory found (looked in %s; %s is not set); %s",
                             entry->name, searched, entry->dir_variable, entry->fetch_hint);
    }
    if (!is_directory(dir))
        return mlp_error_set(err, MLP_ERR_DATA,
                             "data set %s: directory %s (from %s) does not exist; %s",
                             entry->name, dir, source, entry->fetch_hint);

    size_t train_count = 0, test_count = 0;
    int status = read_named_pair(set, dir, entry, &entry->train_images, &entry->train_labels,
                                 &train_count, err);
    if (status == MLP_OK)
        status = read_named_pair(set, dir, entry, &entry->test_images, &entry->test_labels,
                                 &test_count, err);
    if (status != MLP_OK)
        return status;

    /* Nielsen's split: validation is the last validation_default training
     * images (50,000..59,999 for MNIST), train the ones before. A smaller file
     * (a test fixture, a subset) has no validation images at all. */
    size_t split = entry->train_available - entry->validation_default;
    size_t train_pool = train_count < split ? train_count : split;
    size_t validation_pool = train_count - train_pool;

    size_t n_train = 0, n_validation = 0, n_test = 0;
    status = part_size(config->train_size, train_pool, "train_size", entry->name, "training", &n_train, err);
    if (status == MLP_OK)
        status = part_size(config->validation_size, validation_pool, "validation_size", entry->name,
                           "validation", &n_validation, err);
    if (status == MLP_OK)
        status = part_size(config->test_size, test_count, "test_size", entry->name, "test", &n_test, err);
    if (status != MLP_OK)
        return status;

    const unsigned char *train_pixels = set->buffers[0], *train_labels = set->buffers[1];
    const unsigned char *test_pixels = set->buffers[2], *test_labels = set->buffers[3];
    idx_part(&set->train, train_pixels, train_labels, 0, n_train, entry->input_size, entry->classes);
    idx_part(&set->validation, train_pixels, train_labels, train_pool, n_validation,
             entry->input_size, entry->classes);
    idx_part(&set->test, test_pixels, test_labels, 0, n_test, entry->input_size, entry->classes);
    set->input_size = entry->input_size;
    set->output_size = entry->classes;
    set->has_classes = 1;
    return MLP_OK;
}

/* ---- inline data ---------------------------------------------------------------- */

static int rows_are_one_hot(const double *targets, size_t count, size_t width)
{
    for (size_t r = 0; r < count; r++) {
        size_t ones = 0;
        for (size_t j = 0; j < width; j++) {
            double t = targets[r * width + j];
            if (t == 1.0)
                ones++;
            else if (t != 0.0)
                return 0;
        }
        if (ones != 1)
            return 0;
    }
    return 1;
}

static int load_inline(const mlp_config *config, dataset *set, mlp_error *err)
{
    size_t count = config->inline_count;
    size_t in = (size_t)config->sizes[0], out = (size_t)config->sizes[config->n_layers - 1];
    if (count == 0 || config->inline_inputs == NULL || config->inline_targets == NULL)
        return mlp_error_set(err, MLP_ERR_DATA,
                             "data set inline: no examples (dataset.inline needs inputs and targets, "
                             "one row per example)");

    /* Copies, so the data set outlives the config it came from. */
    set->inline_buffers[0] = malloc(count * in * sizeof(double));
    set->inline_buffers[1] = malloc(count * out * sizeof(double));
    if (set->inline_buffers[0] == NULL || set->inline_buffers[1] == NULL)
        return mlp_error_nomem(err, "inline data");
    memcpy(set->inline_buffers[0], config->inline_inputs, count * in * sizeof(double));
    memcpy(set->inline_buffers[1], config->inline_targets, count * out * sizeof(double));

    set->input_size = in;
    set->output_size = out;
    set->has_classes = out > 1 && rows_are_one_hot(set->inline_buffers[1], count, out);
    set->train = (data_part){.count = count, .input_size = in, .output_size = out,
                             .inputs = set->inline_buffers[0], .targets = set->inline_buffers[1]};
    set->validation = (data_part){.count = 0, .input_size = in, .output_size = out};
    set->test = set->validation;
    return MLP_OK;
}

/* ---- loading -------------------------------------------------------------------- */

/* The rules load_named and load_inline follow, without the files. */
void data_shape_of(const mlp_config *config, data_shape *out)
{
    const dataset_entry *entry = datasets_find(config->dataset_name);
    *out = (data_shape){.is_inline = entry == NULL};
    if (entry == NULL) {
        size_t width = config->n_layers > 0 ? (size_t)config->sizes[config->n_layers - 1] : 0;
        out->has_classes = config->inline_targets != NULL && width > 1 &&
                           rows_are_one_hot(config->inline_targets, config->inline_count, width);
        return;
    }
    out->has_classes = 1;
    out->has_validation = config->validation_size != 0 && entry->validation_default > 0;
    out->has_test = config->test_size != 0 && entry->test_default > 0;
}

/* The network must fit the data; config validation checks this too, but a
 * config built by hand (or by the planner) gets the same clear message here. */
static int check_network(const mlp_config *config, const dataset *set, mlp_error *err)
{
    int last = config->n_layers - 1;
    if (config->sizes[0] <= 0 || (size_t)config->sizes[0] != set->input_size)
        return mlp_error_set(err, MLP_ERR_DATA,
                             "network.sizes[0] is %d, but data set %s has %zu inputs per example",
                             config->sizes[0], set->name, set->input_size);
    if (config->sizes[last] <= 0 || (size_t)config->sizes[last] != set->output_size)
        return mlp_error_set(err, MLP_ERR_DATA,
                             "network.sizes[%d] (the output layer) is %d, but data set %s has %zu %s",
                             last, config->sizes[last], set->name, set->output_size,
                             set->has_classes ? "classes" : "targets per example");
    return MLP_OK;
}

/* entry NULL: inline data. */
static int load(const mlp_config *config, const dataset_entry *entry, dataset **out,
                mlp_error *err)
{
    *out = NULL;
    if (config->n_layers < 2 || config->n_layers > CONFIG_MAX_LAYERS)
        return mlp_error_set(err, MLP_ERR_DATA,
                             "network.sizes has %d entries; it needs at least an input and an output size",
                             config->n_layers);
    int is_inline = entry == NULL;

    dataset *set = calloc(1, sizeof *set);
    if (set == NULL)
        return mlp_error_nomem(err, "a data set");
    snprintf(set->name, sizeof set->name, "%s", config->dataset_name);

    int status = is_inline ? load_inline(config, set, err) : load_named(config, entry, set, err);
    if (status == MLP_OK)
        status = check_network(config, set, err);
    if (status != MLP_OK) {
        data_free(set);
        return status;
    }
    *out = set;
    return MLP_OK;
}

int data_load(const mlp_config *config, dataset **out, mlp_error *err)
{
    *out = NULL;
    const dataset_entry *entry = datasets_find(config->dataset_name);
    if (strcmp(config->dataset_name, "inline") != 0 && entry == NULL)
        return mlp_error_set(err, MLP_ERR_DATA, "unknown data set '%s' (known: %s)",
                             config->dataset_name, datasets_names());
    return load(config, entry, out, err);
}

int data_load_entry(const mlp_config *config, const dataset_entry *entry, dataset **out,
                    mlp_error *err)
{
    assert(entry != NULL);
    return load(config, entry, out, err);
}

void data_free(dataset *set)
{
    if (set == NULL)
        return;
    for (int i = 0; i < DATA_MAX_FILES; i++)
        free(set->buffers[i]);
    free(set->inline_buffers[0]);
    free(set->inline_buffers[1]);
    free(set);
}

/* ---- batches -------------------------------------------------------------------- */

void data_batch(const data_part *part, const size_t *indices, size_t count, double *x, double *y)
{
    size_t in = part->input_size;
    const kernel_variant *kernel = kernels_active();   /* every variant: the same doubles */
    for (size_t r = 0; r < count; r++) {
        if (part->pixels != NULL)
            kernel->convert_bytes(part->pixels + indices[r] * in, in, x + r * in);
        else
            memcpy(x + r * in, part->inputs + indices[r] * in, in * sizeof(double));
    }
    data_targets(part, indices, count, y);
}

void data_images(const data_part *part, const size_t *indices, size_t count,
                 const unsigned char **images)
{
    assert(part->pixels != NULL);
    for (size_t r = 0; r < count; r++)
        images[r] = part->pixels + indices[r] * part->input_size;
}

void data_targets(const data_part *part, const size_t *indices, size_t count, double *y)
{
    size_t out = part->output_size;
    for (size_t r = 0; r < count; r++) {
        size_t i = indices[r];
        if (part->labels != NULL) {
            memset(y + r * out, 0, out * sizeof(double));
            y[r * out + part->labels[i]] = 1.0;
        } else {
            memcpy(y + r * out, part->targets + i * out, out * sizeof(double));
        }
    }
}

void data_prefetch(const data_part *part, const size_t *indices, size_t count)
{
    if (part->pixels == NULL)
        return;
    for (size_t r = 0; r < count; r++) {
        const unsigned char *p = part->pixels + indices[r] * part->input_size;
        for (size_t at = 0; at < part->input_size; at += 64)
            __builtin_prefetch(p + at);
    }
}

int data_class(const data_part *part, size_t i)
{
    if (part->labels != NULL)
        return part->labels[i];
    const double *t = part->targets + i * part->output_size;
    size_t best = 0;
    for (size_t j = 1; j < part->output_size; j++)
        if (t[j] > t[best])
            best = j;
    return (int)best;
}
