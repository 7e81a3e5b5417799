/* store.c — the HDF5 run file: write, flush per epoch, checkpoint, read back.
 *
 * See store.h for the contract and docs/run-file.md for the layout users see.
 * Choices made here and why:
 * - Strings are variable-length UTF-8 (H5T_C_S1, H5T_VARIABLE): their text
 *   lives in the global heap, so a long resolved config or hook source never
 *   hits the 64 KiB object-header limit of fixed-length attributes in the
 *   default file format, and h5py returns them as Python str.
 * - Default library-version bounds and no SWMR: the superblock stays at
 *   version 0, which carries no "file is open" flag, so a file whose writer
 *   was killed opens again (h5dump, h5py, store_resume) without h5clear.
 * - Every public function silences HDF5's automatic error printing for its
 *   duration and restores the caller's handler: the library never prints;
 *   the innermost HDF5 message is appended to our own error instead.
 * - HDF5 ids are always released on every path (release()). */
#include "store.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <hdf5.h>
#include <sha2.h>

/* Bump when the layout changes incompatibly; written as the format_version attribute. */
enum { STORE_FORMAT_VERSION = 1 };
/* Rows per chunk of the extendable per-epoch datasets: a run has tens to
 * hundreds of epochs, so one or a few chunks hold it all. */
enum { EPOCH_CHUNK_ROWS = 64 };
/* More layers than any network has (net.h NET_MAX_LAYERS); sizes arrays on the stack. */
enum { CHECKPOINT_MAX_LAYERS = 64 };

struct store {
    hid_t file;             /* H5I_INVALID_HID once finished */
    char *path;             /* PATH: where a complete run ends up */
    char *partial_path;     /* PATH.partial: where it is written */
    hsize_t rows;           /* rows in /metrics (= epochs appended) */
    int finished;           /* store_finish was called: only store_close may follow */
};

/* ---- HDF5 plumbing ------------------------------------------------------ */

typedef struct hdf5_printing {
    H5E_auto2_t func;
    void *data;
} hdf5_printing;

static hdf5_printing hdf5_silence(void)
{
    hdf5_printing saved = {NULL, NULL};
    H5Eget_auto2(H5E_DEFAULT, &saved.func, &saved.data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return saved;
}

static void hdf5_restore(hdf5_printing saved)
{
    H5Eset_auto2(H5E_DEFAULT, saved.func, saved.data);
}

/* The body of a public entry point: returns what its _impl call returns,
 * with HDF5's own error printing off around it (the library never prints;
 * HDF5's errors reach the user through mlp_error). */
#define RETURN_QUIETLY(impl_call)                                                           \
    do {                                                                                    \
        hdf5_printing saved_printing = hdf5_silence();                                      \
        int impl_rc = (impl_call);                                                          \
        hdf5_restore(saved_printing);                                                       \
        return impl_rc;                                                                     \
    } while (0)

/* Closes any HDF5 id we created (dataset, group, type, space, attribute,
 * property list); invalid ids are ignored so cleanup paths stay simple. */
static void release(hid_t id)
{
    if (id >= 0)
        H5Idec_ref(id);
}

static herr_t innermost_error(unsigned n, const H5E_error2_t *e, void *data)
{
    (void)n;
    char *detail = data;
    if (detail[0] == '\0' && e->desc != NULL && e->desc[0] != '\0')
        snprintf(detail, 256, "%s", e->desc);
    return 0;
}

/* HDF5 locks files with flock(2). Where the filesystem cannot (NFS without
 * lockd, Lustre without -o flock: ENOLCK, ENOSYS, EOPNOTSUPP/ENOTSUP 95 or
 * 524), every create fails with "unable to lock file, errno = N"; a lock that
 * another process holds is errno 11 (EAGAIN) and needs no hint. */
static const char *lock_hint(const char *detail)
{
    const char *at = strstr(detail, "unable to lock file");
    const char *number = at != NULL ? strstr(at, "errno = ") : NULL;
    if (at == NULL || (number != NULL && atoi(number + strlen("errno = ")) == EAGAIN))
        return "";
    return "\nhint: this filesystem does not support HDF5's file locking (NFS, Lustre, ...); "
           "set HDF5_USE_FILE_LOCKING=FALSE in the environment (make submit and srun pass it on)";
}

/* Sets an MLP_ERR_RUN message and appends the most specific message of the
 * current HDF5 error stack, if any, e.g. "(HDF5: unable to lock file)". */
static int h5_fail(mlp_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int h5_fail(mlp_error *err, const char *fmt, ...)
{
    char message[MLP_ERROR_MESSAGE_MAX - 300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    char detail[256] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost_error, detail);
    if (detail[0] == '\0')
        return mlp_error_set(err, MLP_ERR_RUN, "%s", message);
    return mlp_error_set(err, MLP_ERR_RUN, "%s (HDF5: %s)%s", message, detail, lock_hint(detail));
}

/* What a reader of a run file returns for the status rc of a step: a failure
 * is about the file (MLP_ERR_DATA), whichever step reported it. */
static int as_data_error(int rc, mlp_error *err)
{
    if (rc == MLP_OK)
        return MLP_OK;
    if (err != NULL)
        err->status = MLP_ERR_DATA;
    return MLP_ERR_DATA;
}

static char *with_suffix(const char *path, const char *suffix)
{
    size_t n = strlen(path), m = strlen(suffix);
    char *out = malloc(n + m + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, path, n);
    memcpy(out + n, suffix, m + 1);
    return out;
}

static int link_exists(hid_t loc, const char *name)
{
    return H5Lexists(loc, name, H5P_DEFAULT) > 0;
}

/* ---- attributes --------------------------------------------------------- */

static hid_t utf8_string_type(void)
{
    hid_t type = H5Tcopy(H5T_C_S1);
    if (type < 0)
        return type;
    if (H5Tset_size(type, H5T_VARIABLE) < 0 || H5Tset_cset(type, H5T_CSET_UTF8) < 0) {
        release(type);
        return H5I_INVALID_HID;
    }
    return type;
}

/* Creates attribute `name` on loc (replacing an existing one: HDF5 cannot
 * resize an attribute, so an update is delete + create) and writes it. */
static herr_t write_attr(hid_t loc, const char *name, hid_t file_type, hid_t mem_type,
                         hid_t space, const void *value)
{
    if (H5Aexists(loc, name) > 0 && H5Adelete(loc, name) < 0)
        return -1;
    hid_t attr = H5Acreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr < 0)
        return -1;
    herr_t rc = H5Awrite(attr, mem_type, value);
    release(attr);
    return rc;
}

static herr_t write_string_attr(hid_t loc, const char *name, const char *text)
{
    hid_t type = utf8_string_type();
    hid_t space = H5Screate(H5S_SCALAR);
    herr_t rc = -1;
    if (type >= 0 && space >= 0)
        rc = write_attr(loc, name, type, type, space, &text);
    release(space);
    release(type);
    return rc;
}

/* A 1-D string attribute of n elements (n may be 0: an empty array). */
static herr_t write_string_array_attr(hid_t loc, const char *name, const char *const *texts,
                                      size_t n)
{
    hsize_t dims[1] = {n};
    hid_t type = utf8_string_type();
    hid_t space = H5Screate_simple(1, dims, NULL);
    herr_t rc = -1;
    if (type >= 0 && space >= 0) {
        if (n > 0) {
            rc = write_attr(loc, name, type, type, space, texts);
        } else {
            hid_t attr = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
            rc = attr < 0 ? -1 : 0;
            release(attr);
        }
    }
    release(space);
    release(type);
    return rc;
}

static herr_t write_scalar_attr(hid_t loc, const char *name, hid_t file_type, hid_t mem_type,
                                const void *value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    herr_t rc = space < 0 ? -1 : write_attr(loc, name, file_type, mem_type, space, value);
    release(space);
    return rc;
}

/* Reads a scalar string attribute (variable- or fixed-length, so files
 * edited with h5py still read) into a malloc'd string. -1 if missing or not
 * a string. */
static int read_string_attr(hid_t loc, const char *name, char **out)
{
    *out = NULL;
    if (H5Aexists(loc, name) <= 0)
        return -1;
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t file_type = attr < 0 ? H5I_INVALID_HID : H5Aget_type(attr);
    hid_t space = attr < 0 ? H5I_INVALID_HID : H5Aget_space(attr);
    hid_t mem_type = H5I_INVALID_HID;
    int rc = -1;
    if (file_type < 0 || space < 0 || H5Tget_class(file_type) != H5T_STRING
        || H5Sget_simple_extent_npoints(space) != 1)
        goto done;
    mem_type = H5Tcopy(H5T_C_S1);
    if (mem_type < 0 || H5Tset_cset(mem_type, H5Tget_cset(file_type)) < 0)
        goto done;
    if (H5Tis_variable_str(file_type) > 0) {
        char *text = NULL;
        if (H5Tset_size(mem_type, H5T_VARIABLE) < 0 || H5Aread(attr, mem_type, &text) < 0)
            goto done;
        *out = strdup(text != NULL ? text : "");
        H5free_memory(text);
    } else {
        size_t size = H5Tget_size(file_type);
        char *text = calloc(size + 1, 1);
        /* One byte more than stored, null-terminated: a NULLPAD string that
         * fills its size still gets its last character. */
        if (text == NULL || H5Tset_size(mem_type, size + 1) < 0
            || H5Tset_strpad(mem_type, H5T_STR_NULLTERM) < 0 || H5Aread(attr, mem_type, text) < 0) {
            free(text);
            goto done;
        }
        *out = text;
    }
    rc = *out != NULL ? 0 : -1;
done:
    release(mem_type);
    release(space);
    release(file_type);
    release(attr);
    return rc;
}

static int read_scalar_attr(hid_t loc, const char *name, hid_t mem_type, void *value)
{
    if (H5Aexists(loc, name) <= 0)
        return -1;
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (attr < 0)
        return -1;
    herr_t rc = H5Aread(attr, mem_type, value);
    release(attr);
    return rc < 0 ? -1 : 0;
}

/* ---- the /metrics table ------------------------------------------------- */

/* Offsets of the fields of epoch_metrics, in the order of metrics_field_names. */
_Static_assert(METRICS_FIELD_COUNT == 9, "store.c maps every field of epoch_metrics");
static const size_t metrics_offsets[METRICS_FIELD_COUNT] = {
    offsetof(epoch_metrics, epoch),
    offsetof(epoch_metrics, learning_rate),
    offsetof(epoch_metrics, train_cost),
    offsetof(epoch_metrics, train_accuracy),
    offsetof(epoch_metrics, validation_cost),
    offsetof(epoch_metrics, validation_accuracy),
    offsetof(epoch_metrics, test_cost),
    offsetof(epoch_metrics, test_accuracy),
    offsetof(epoch_metrics, seconds),
};

/* The compound type of one /metrics row: in memory (laid out as
 * epoch_metrics) or in the file (packed, little-endian: epoch int32, the rest
 * IEEE double). HDF5 matches fields by name when converting. */
static hid_t metrics_type(int in_file)
{
    size_t size = in_file ? 4 + 8 * (METRICS_FIELD_COUNT - 1) : sizeof(epoch_metrics);
    hid_t type = H5Tcreate(H5T_COMPOUND, size);
    if (type < 0)
        return type;
    size_t packed = 0;
    for (int i = 0; i < METRICS_FIELD_COUNT; i++) {
        hid_t field = i == 0 ? (in_file ? H5T_STD_I32LE : H5T_NATIVE_INT)
                             : (in_file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE);
        size_t offset = in_file ? packed : metrics_offsets[i];
        if (H5Tinsert(type, metrics_field_names[i], offset, field) < 0) {
            release(type);
            return H5I_INVALID_HID;
        }
        packed += i == 0 ? 4 : 8;
    }
    return type;
}

/* A 1-D dataset of `rows` rows that grows by epoch (chunked, unlimited).
 * fill (may be NULL) is what rows never written read as. */
static hid_t create_epoch_dataset(hid_t loc, const char *name, hid_t file_type, hsize_t rows,
                                  hid_t fill_type, const void *fill)
{
    hsize_t dims[1] = {rows}, max_dims[1] = {H5S_UNLIMITED}, chunk[1] = {EPOCH_CHUNK_ROWS};
    hid_t space = H5Screate_simple(1, dims, max_dims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t dset = H5I_INVALID_HID;
    if (space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, chunk) >= 0
        && (fill == NULL || H5Pset_fill_value(dcpl, fill_type, fill) >= 0))
        dset = H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    release(dcpl);
    release(space);
    return dset;
}

/* Number of rows of a 1-D dataset, or -1. */
static hssize_t dataset_rows(hid_t dset)
{
    hid_t space = H5Dget_space(dset);
    hsize_t dims[1] = {0};
    hssize_t rows = -1;
    if (space >= 0 && H5Sget_simple_extent_ndims(space) == 1
        && H5Sget_simple_extent_dims(space, dims, NULL) == 1)
        rows = (hssize_t)dims[0];
    release(space);
    return rows;
}

/* A transfer property list whose type-conversion buffers hold `count` rows.
 * HDF5's default is a 1 MiB buffer allocated and cleared on every compound
 * read or write; with one row per epoch that clearing was most of the time
 * of a small run (a single neuron: 5 ms of 5.3 ms per epoch). */
static hid_t transfer_plist(hid_t dset, hid_t mem_type, hsize_t count)
{
    hid_t file_type = H5Dget_type(dset);
    size_t row = H5Tget_size(mem_type), file_row = file_type >= 0 ? H5Tget_size(file_type) : 0;
    release(file_type);
    if (file_row > row)
        row = file_row;
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    if (dxpl >= 0 && row > 0 && H5Pset_buffer(dxpl, (size_t)count * row, NULL, NULL) < 0) {
        release(dxpl);
        dxpl = H5I_INVALID_HID;
    }
    return dxpl;
}

/* Reads or writes rows first .. first+count-1 of a 1-D dataset. */
static herr_t transfer_rows(hid_t dset, hid_t mem_type, hsize_t first, hsize_t count, void *buf,
                            int writing)
{
    if (count == 0)
        return 0;
    hid_t file_space = H5Dget_space(dset);
    hid_t mem_space = H5Screate_simple(1, &count, NULL);
    hid_t dxpl = transfer_plist(dset, mem_type, count);
    herr_t rc = -1;
    if (file_space >= 0 && mem_space >= 0 && dxpl >= 0
        && H5Sselect_hyperslab(file_space, H5S_SELECT_SET, &first, NULL, &count, NULL) >= 0)
        rc = writing ? H5Dwrite(dset, mem_type, mem_space, file_space, dxpl, buf)
                     : H5Dread(dset, mem_type, mem_space, file_space, dxpl, buf);
    release(dxpl);
    release(mem_space);
    release(file_space);
    return rc;
}

/* Grows a 1-D dataset to first+count rows and writes those rows. */
static herr_t append_rows(hid_t dset, hid_t mem_type, hsize_t first, hsize_t count,
                          const void *buf)
{
    hsize_t size[1] = {first + count};
    if (H5Dset_extent(dset, size) < 0)
        return -1;
    return transfer_rows(dset, mem_type, first, count, (void *)buf, 1);
}

static herr_t set_rows(hid_t dset, hsize_t rows)
{
    hsize_t size[1] = {rows};
    return H5Dset_extent(dset, size);
}

/* ---- custom metrics ----------------------------------------------------- */

/* A custom metric name becomes an HDF5 link name: it must not be empty,
 * contain '/', or be "." (they would address another object). */
static int custom_name_is_valid(const char *name)
{
    return name[0] != '\0' && strchr(name, '/') == NULL && strcmp(name, ".") != 0;
}

typedef struct name_list {
    size_t count, capacity;
    char **names;
    int failed;
} name_list;

static void name_list_free(name_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->names[i]);
    free(list->names);
    memset(list, 0, sizeof *list);
}

static herr_t collect_name(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
    (void)group;
    (void)info;
    name_list *list = data;
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 8;
        char **names = realloc(list->names, capacity * sizeof *names);
        if (names == NULL) {
            list->failed = 1;
            return -1;
        }
        list->names = names;
        list->capacity = capacity;
    }
    list->names[list->count] = strdup(name);
    if (list->names[list->count] == NULL) {
        list->failed = 1;
        return -1;
    }
    list->count++;
    return 0;
}

/* Names of the links in group, in creation order when the group tracks it
 * (ours do: columns keep the order they first appeared in), else by name. */
static int list_links(hid_t group, name_list *list)
{
    memset(list, 0, sizeof *list);
    hsize_t index = 0;
    if (H5Literate(group, H5_INDEX_CRT_ORDER, H5_ITER_INC, &index, collect_name, list) >= 0)
        return 0;
    if (list->failed) {
        name_list_free(list);
        return -1;
    }
    name_list_free(list);
    index = 0;
    if (H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &index, collect_name, list) >= 0)
        return 0;
    name_list_free(list);
    return -1;
}

static hid_t create_ordered_group(hid_t loc, const char *name)
{
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    hid_t group = H5I_INVALID_HID;
    if (gcpl >= 0
        && H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) >= 0)
        group = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    release(gcpl);
    return group;
}

/* Writes custom column `name` up to and including `epoch`: the rows the
 * dataset does not have yet (all of them when the column is new: history
 * holds NaN for the epochs before it appeared). */
static int append_custom(store *s, hid_t group, const char *name, const double *values,
                         size_t epoch, mlp_error *err)
{
    if (!custom_name_is_valid(name))
        return mlp_error_set(err, MLP_ERR_RUN,
                             "custom metric name \"%s\" cannot be stored in %s: names must be "
                             "non-empty, not \".\", and contain no '/'",
                             name, s->partial_path);
    double nan = NAN;
    hid_t dset = link_exists(group, name)
                     ? H5Dopen2(group, name, H5P_DEFAULT)
                     : create_epoch_dataset(group, name, H5T_IEEE_F64LE, 0, H5T_NATIVE_DOUBLE, &nan);
    hssize_t have = dset < 0 ? -1 : dataset_rows(dset);
    int rc = MLP_OK;
    if (have < 0)
        rc = h5_fail(err, "cannot write custom metric %s to %s", name, s->partial_path);
    else if ((size_t)have > epoch + 1)
        rc = mlp_error_set(err, MLP_ERR_RUN, "internal: custom metric %s in %s has %lld rows at epoch %zu",
                           name, s->partial_path, (long long)have, epoch);
    else if (append_rows(dset, H5T_NATIVE_DOUBLE, (hsize_t)have, epoch + 1 - (hsize_t)have,
                         values + have) < 0)
        rc = h5_fail(err, "cannot write custom metric %s to %s", name, s->partial_path);
    release(dset);
    return rc;
}

/* ---- layers ------------------------------------------------------------- */

/* A dataset of rank 1 or 2 written whole: file_type in the file, mem_type in values. */
static herr_t write_array(hid_t loc, const char *name, int rank, const hsize_t *dims,
                          hid_t file_type, hid_t mem_type, const void *values)
{
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dset = space < 0 ? H5I_INVALID_HID
                           : H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT,
                                        H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = dset < 0 ? -1 : H5Dwrite(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
    release(dset);
    release(space);
    return rc;
}

static herr_t write_matrix(hid_t loc, const char *name, int rank, const hsize_t *dims,
                           const double *values)
{
    return write_array(loc, name, rank, dims, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, values);
}

static int check_layers(const store_layer *layers, size_t n_layers, mlp_error *err)
{
    if (layers == NULL || n_layers == 0)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: no layers to store");
    for (size_t k = 0; k < n_layers; k++)
        if (layers[k].rows == 0 || layers[k].cols == 0 || layers[k].weights == NULL
            || layers[k].biases == NULL)
            return mlp_error_set(err, MLP_ERR_RUN, "internal: layer %zu to store is empty", k + 1);
    return MLP_OK;
}

/* Writes layerK/{weights [rows, cols], biases [rows]} under group, K from 1. */
static herr_t write_layers(hid_t group, const store_layer *layers, size_t n_layers)
{
    for (size_t k = 0; k < n_layers; k++) {
        char name[32];
        snprintf(name, sizeof name, "layer%zu", k + 1);
        hid_t layer = H5Gcreate2(group, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        hsize_t dims[2] = {layers[k].rows, layers[k].cols};
        herr_t rc = layer < 0 ? -1 : write_matrix(layer, "weights", 2, dims, layers[k].weights);
        if (rc >= 0)
            rc = write_matrix(layer, "biases", 1, dims, layers[k].biases);
        release(layer);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Replaces loc/name with a fresh group (creation-ordered so layer10 lists
 * after layer9). The old one's space is not reclaimed in HDF5 1.10: fine. */
static hid_t replace_group(hid_t loc, const char *name)
{
    if (link_exists(loc, name) && H5Ldelete(loc, name, H5P_DEFAULT) < 0)
        return H5I_INVALID_HID;
    return create_ordered_group(loc, name);
}

/* ---- create ------------------------------------------------------------- */

/* H5Fcreate(H5F_ACC_TRUNC) truncates a file before it tries HDF5's lock, so
 * it would wipe the .partial of the same run running in another process.
 * Probe the lock HDF5 holds (flock) first and refuse instead. */
static int partial_is_locked(const char *partial_path)
{
    int fd = open(partial_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int locked = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    if (!locked)
        flock(fd, LOCK_UN);
    close(fd);
    return locked;
}

static int check_meta(const store_meta *meta, mlp_error *err)
{
    const char *fields[] = {meta->run_id, meta->experiment, meta->label, meta->config_yaml,
                            meta->version, meta->git_commit, meta->blas, meta->libraries,
                            meta->host, meta->start_time, meta->hook_path, meta->hook_sha256,
                            meta->hook_source};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i] == NULL)
            return mlp_error_set(err, MLP_ERR_RUN, "internal: a store_meta string is NULL");
    if (meta->dataset_file_count > 0 && (meta->dataset_files == NULL || meta->dataset_sha256 == NULL))
        return mlp_error_set(err, MLP_ERR_RUN, "internal: store_meta dataset lists are NULL");
    for (size_t i = 0; i < meta->dataset_file_count; i++)
        if (meta->dataset_files[i] == NULL || meta->dataset_sha256[i] == NULL)
            return mlp_error_set(err, MLP_ERR_RUN, "internal: a store_meta dataset entry is NULL");
    return MLP_OK;
}

static herr_t write_meta(hid_t root, const store_meta *meta)
{
    const struct {
        const char *name, *value;
        int only_if_set;
    } strings[] = {
        {"run_id", meta->run_id, 0},         {"experiment", meta->experiment, 0},
        {"label", meta->label, 0},           {"status", "running", 0},
        {"config", meta->config_yaml, 0},    {"mlplab_version", meta->version, 0},
        {"git_commit", meta->git_commit, 0}, {"blas", meta->blas, 0},
        {"libraries", meta->libraries, 0},   {"host", meta->host, 0},
        {"start", meta->start_time, 0},      {"hook_path", meta->hook_path, 1},
        {"hook_sha256", meta->hook_sha256, 1}, {"hook_source", meta->hook_source, 1},
        {"kernels", meta->kernels != NULL ? meta->kernels : "", 1},
    };
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        if (strings[i].only_if_set && strings[i].value[0] == '\0')
            continue;
        if (write_string_attr(root, strings[i].name, strings[i].value) < 0)
            return -1;
    }
    uint64_t seed = meta->seed;
    int32_t version = STORE_FORMAT_VERSION;
    if (write_scalar_attr(root, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &seed) < 0
        || write_scalar_attr(root, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT32, &version) < 0)
        return -1;
    if (write_string_array_attr(root, "dataset_files", meta->dataset_files, meta->dataset_file_count) < 0
        || write_string_array_attr(root, "dataset_sha256", meta->dataset_sha256,
                                   meta->dataset_file_count) < 0)
        return -1;
    return 0;
}

/* The empty skeleton: /metrics with no rows, /custom_metrics, /weights. */
static herr_t write_skeleton(hid_t file)
{
    hid_t type = metrics_type(1);
    hid_t metrics = type < 0 ? H5I_INVALID_HID
                             : create_epoch_dataset(file, "metrics", type, 0, H5I_INVALID_HID, NULL);
    hid_t custom = metrics < 0 ? H5I_INVALID_HID : create_ordered_group(file, "custom_metrics");
    hid_t weights = custom < 0 ? H5I_INVALID_HID : create_ordered_group(file, "weights");
    herr_t rc = weights < 0 ? -1 : 0;
    release(weights);
    release(custom);
    release(metrics);
    release(type);
    return rc;
}

static store *store_alloc(const char *path)
{
    store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->file = H5I_INVALID_HID;
    s->path = strdup(path);
    s->partial_path = with_suffix(path, ".partial");
    if (s->path == NULL || s->partial_path == NULL) {
        free(s->path);
        free(s->partial_path);
        free(s);
        return NULL;
    }
    return s;
}

static void store_free(store *s)
{
    if (s == NULL)
        return;
    if (s->file >= 0)
        H5Fclose(s->file);
    free(s->path);
    free(s->partial_path);
    free(s);
}

static int create_impl(const char *path, const store_meta *meta, store **out, mlp_error *err)
{
    if (path == NULL || meta == NULL || out == NULL)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: store_create without path or meta");
    if (check_meta(meta, err) != MLP_OK)
        return err ? err->status : MLP_ERR_RUN;
    store *s = store_alloc(path);
    if (s == NULL)
        return mlp_error_nomem(err, "the run file");
    if (partial_is_locked(s->partial_path)) {
        mlp_error_set(err, MLP_ERR_RUN,
                      "%s is locked by another process: is the same run already running?",
                      s->partial_path);
        store_free(s);
        return MLP_ERR_RUN;
    }
    s->file = H5Fcreate(s->partial_path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (s->file < 0) {
        h5_fail(err, "cannot create run file %s", s->partial_path);
        store_free(s);
        return MLP_ERR_RUN;
    }
    if (write_meta(s->file, meta) < 0 || write_skeleton(s->file) < 0
        || H5Fflush(s->file, H5F_SCOPE_GLOBAL) < 0) {
        h5_fail(err, "cannot write run file %s", s->partial_path);
        H5Fclose(s->file);
        s->file = H5I_INVALID_HID;
        remove(s->partial_path);
        store_free(s);
        return MLP_ERR_RUN;
    }
    *out = s;
    return MLP_OK;
}

/* ---- append, weights, checkpoint ---------------------------------------- */

static int check_open(const store *s, mlp_error *err)
{
    if (s == NULL || s->finished || s->file < 0)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: run file used after store_finish");
    return MLP_OK;
}

static int flush(store *s, mlp_error *err)
{
    if (H5Fflush(s->file, H5F_SCOPE_GLOBAL) < 0)
        return h5_fail(err, "cannot flush run file %s", s->partial_path);
    return MLP_OK;
}

static int append_impl(store *s, const metrics_history *history, size_t epoch, mlp_error *err)
{
    if (check_open(s, err) != MLP_OK)
        return MLP_ERR_RUN;
    if (history == NULL || epoch >= history->count)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: epoch %zu is not in the history", epoch);
    if ((hsize_t)epoch != s->rows)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: epoch %zu stored after %llu rows in %s",
                             epoch, (unsigned long long)s->rows, s->partial_path);
    hid_t type = metrics_type(0);
    hid_t metrics = type < 0 ? H5I_INVALID_HID : H5Dopen2(s->file, "metrics", H5P_DEFAULT);
    herr_t written = metrics < 0 ? -1 : append_rows(metrics, type, epoch, 1, &history->rows[epoch]);
    release(metrics);
    release(type);
    if (written < 0)
        return h5_fail(err, "cannot write epoch %zu to %s", epoch, s->partial_path);
    s->rows = epoch + 1;

    hid_t custom = H5Gopen2(s->file, "custom_metrics", H5P_DEFAULT);
    if (custom < 0)
        return h5_fail(err, "cannot open /custom_metrics in %s", s->partial_path);
    int rc = MLP_OK;
    for (size_t j = 0; j < history->custom_count && rc == MLP_OK; j++)
        rc = append_custom(s, custom, history->custom_names[j], history->custom_values[j], epoch, err);
    release(custom);
    if (rc != MLP_OK)
        return rc;
    return flush(s, err);
}

static int weights_impl(store *s, const char *group_name, const store_layer *layers,
                        size_t n_layers, mlp_error *err)
{
    if (check_open(s, err) != MLP_OK || check_layers(layers, n_layers, err) != MLP_OK)
        return MLP_ERR_RUN;
    if (group_name == NULL || !custom_name_is_valid(group_name))
        return mlp_error_set(err, MLP_ERR_RUN, "internal: bad weights group name");
    hid_t weights = H5Gopen2(s->file, "weights", H5P_DEFAULT);
    hid_t group = weights < 0 ? H5I_INVALID_HID : replace_group(weights, group_name);
    herr_t rc = group < 0 ? -1 : write_layers(group, layers, n_layers);
    release(group);
    release(weights);
    if (rc < 0)
        return h5_fail(err, "cannot write weights %s to %s", group_name, s->partial_path);
    return flush(s, err);
}


/* ---- diagnostics -------------------------------------------------------- */

/* One /diagnostics row: epoch and layer (int32), then the four measurements of
 * layer_diagnostics (IEEE double), matched by name as for /metrics. */
typedef struct diagnostics_row {
    int32_t epoch, layer;
    layer_diagnostics values;
} diagnostics_row;

static hid_t diagnostics_type(int in_file)
{
    const char *const names[6] = {"epoch", "layer", diagnostics_field_names[0],
                                  diagnostics_field_names[1], diagnostics_field_names[2],
                                  diagnostics_field_names[3]};
    const size_t offsets[6] = {
        offsetof(diagnostics_row, epoch), offsetof(diagnostics_row, layer),
        offsetof(diagnostics_row, values.saturated_fraction),
        offsetof(diagnostics_row, values.mean_abs_delta),
        offsetof(diagnostics_row, values.weight_gradient_norm),
        offsetof(diagnostics_row, values.mean_activation),
    };
    hid_t type = H5Tcreate(H5T_COMPOUND, in_file ? 2 * 4 + 4 * 8 : sizeof(diagnostics_row));
    for (size_t i = 0, packed = 0; type >= 0 && i < 6; packed += i < 2 ? 4 : 8, i++) {
        hid_t field = i < 2 ? (in_file ? H5T_STD_I32LE : H5T_NATIVE_INT32)
                            : (in_file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE);
        if (H5Tinsert(type, names[i], in_file ? packed : offsets[i], field) < 0) {
            release(type);
            type = H5I_INVALID_HID;
        }
    }
    return type;
}

static int diagnostics_impl(store *s, int epoch, const layer_diagnostics *layers, size_t n_layers,
                            mlp_error *err)
{
    if (check_open(s, err) != MLP_OK)
        return MLP_ERR_RUN;
    diagnostics_row rows[64];
    if (layers == NULL || n_layers == 0 || n_layers > sizeof rows / sizeof rows[0])
        return mlp_error_set(err, MLP_ERR_RUN, "internal: bad diagnostics to store");
    for (size_t k = 0; k < n_layers; k++)
        rows[k] = (diagnostics_row){epoch, (int32_t)(k + 1), layers[k]};
    hid_t file_type = diagnostics_type(1), mem_type = diagnostics_type(0);
    hid_t dset = H5I_INVALID_HID;
    if (file_type >= 0 && mem_type >= 0)
        dset = link_exists(s->file, "diagnostics")
                   ? H5Dopen2(s->file, "diagnostics", H5P_DEFAULT)
                   : create_epoch_dataset(s->file, "diagnostics", file_type, 0, H5I_INVALID_HID,
                                          NULL);
    hssize_t have = dset < 0 ? -1 : dataset_rows(dset);
    herr_t rc = have < 0 ? -1 : append_rows(dset, mem_type, (hsize_t)have, n_layers, rows);
    release(dset);
    release(mem_type);
    release(file_type);
    if (rc < 0)
        return h5_fail(err, "cannot write the diagnostics of epoch %d to %s", epoch,
                       s->partial_path);
    return MLP_OK;
}

/* Reads /diagnostics (absent: nothing); rows > 0: keeps only the rows of
 * epochs <= max_epoch (resume), else adds every value to history as the
 * custom metric layerK_NAME (tables, figures, check). */
static int read_diagnostics(hid_t file, const char *path, metrics_history *history, int cut,
                            int max_epoch, mlp_error *err)
{
    if (!link_exists(file, "diagnostics"))
        return MLP_OK;
    hid_t dset = H5Dopen2(file, "diagnostics", H5P_DEFAULT);
    hid_t mem_type = diagnostics_type(0);
    hssize_t count = dset < 0 ? -1 : dataset_rows(dset);
    diagnostics_row *rows = count > 0 ? malloc((size_t)count * sizeof *rows) : NULL;
    int rc = MLP_OK;
    if (count < 0 || mem_type < 0 || (count > 0 && rows == NULL) ||
        (count > 0 && transfer_rows(dset, mem_type, 0, (hsize_t)count, rows, 0) < 0))
        rc = h5_fail(err, "cannot read /diagnostics from %s", path);
    hsize_t kept = 0;
    for (hssize_t i = 0; rc == MLP_OK && i < count; i++) {
        const diagnostics_row *row = &rows[i];
        if (cut) {
            kept += row->epoch <= max_epoch;
            continue;
        }
        if (row->epoch < 0 || (size_t)row->epoch >= history->count)
            continue;
        const double values[DIAGNOSTICS_FIELDS] = {row->values.saturated_fraction, row->values.mean_abs_delta,
                                  row->values.weight_gradient_norm, row->values.mean_activation};
        for (int v = 0; rc == MLP_OK && v < DIAGNOSTICS_FIELDS; v++) {
            char name[64];
            snprintf(name, sizeof name, "layer%d_%s", (int)row->layer, diagnostics_field_names[v]);
            rc = metrics_history_set_custom(history, (size_t)row->epoch, name, values[v], err);
        }
    }
    if (rc == MLP_OK && cut && set_rows(dset, kept) < 0)
        rc = h5_fail(err, "cannot cut /diagnostics in %s", path);
    free(rows);
    release(mem_type);
    release(dset);
    return rc;
}

/* ---- confusion matrices ------------------------------------------------- */

static herr_t write_counts(hid_t loc, const char *name, size_t classes, const int32_t *counts)
{
    hsize_t dims[2] = {classes, classes};
    return write_array(loc, name, 2, dims, H5T_STD_I32LE, H5T_NATIVE_INT32, counts);
}

static int confusion_impl(store *s, const char *group_name, int epoch,
                          const store_confusion *matrices, mlp_error *err)
{
    if (check_open(s, err) != MLP_OK)
        return MLP_ERR_RUN;
    if (group_name == NULL || !custom_name_is_valid(group_name) || matrices == NULL ||
        matrices->classes == 0)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: bad confusion matrices to store");
    hid_t confusion = link_exists(s->file, "confusion") ? H5Gopen2(s->file, "confusion", H5P_DEFAULT)
                                                        : create_ordered_group(s->file, "confusion");
    hid_t group = confusion < 0 ? H5I_INVALID_HID : replace_group(confusion, group_name);
    int32_t epoch32 = epoch;
    herr_t rc = group < 0 ? -1 : write_scalar_attr(group, "epoch", H5T_STD_I32LE, H5T_NATIVE_INT32, &epoch32);
    if (rc >= 0 && matrices->validation != NULL)
        rc = write_counts(group, "validation", matrices->classes, matrices->validation);
    if (rc >= 0 && matrices->test != NULL)
        rc = write_counts(group, "test", matrices->classes, matrices->test);
    release(group);
    release(confusion);
    if (rc < 0)
        return h5_fail(err, "cannot write the confusion matrices %s to %s", group_name, s->partial_path);
    return flush(s, err);
}

/* Reads /confusion/GROUP/PART into a new matrix; absent = NULL (not an error). */
static int read_counts(hid_t file, const char *path, const char *group, const char *part,
                       size_t *classes, int32_t **out, mlp_error *err)
{
    char name[64];
    snprintf(name, sizeof name, "confusion/%s/%s", group, part);
    *out = NULL;
    if (H5Lexists(file, "confusion", H5P_DEFAULT) <= 0)
        return MLP_OK;
    char group_path[64];
    snprintf(group_path, sizeof group_path, "confusion/%s", group);
    if (H5Lexists(file, group_path, H5P_DEFAULT) <= 0 || H5Lexists(file, name, H5P_DEFAULT) <= 0)
        return MLP_OK;
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
    hid_t space = dset < 0 ? H5I_INVALID_HID : H5Dget_space(dset);
    hsize_t dims[2] = {0, 0};
    int ok = space >= 0 && H5Sget_simple_extent_ndims(space) == 2 &&
             H5Sget_simple_extent_dims(space, dims, NULL) == 2 && dims[0] == dims[1] &&
             dims[0] > 0 && dims[0] <= 4096 && (*classes == 0 || *classes == dims[0]);
    int32_t *counts = ok ? malloc(dims[0] * dims[1] * sizeof *counts) : NULL;
    ok = counts != NULL &&
         H5Dread(dset, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, counts) >= 0;
    release(space);
    release(dset);
    if (!ok) {
        free(counts);
        return mlp_error_set(err, MLP_ERR_DATA, "%s: /%s is not a square confusion matrix of the "
                             "run's classes", path, name);
    }
    *classes = dims[0];
    *out = counts;
    return MLP_OK;
}

static int read_confusion(hid_t file, const char *path, run_file *out, mlp_error *err)
{
    static const char *const groups[2] = {"final", "best_validation"};
    static const char *const parts[2] = {"validation", "test"};
    for (int w = 0; w < 2; w++) {
        out->confusion_epoch[w] = -1;
        for (int p = 0; p < 2; p++)
            if (read_counts(file, path, groups[w], parts[p], &out->classes, &out->confusion[w][p],
                            err) != MLP_OK)
                return MLP_ERR_DATA;
        char group_path[64];
        snprintf(group_path, sizeof group_path, "confusion/%s", groups[w]);
        if (H5Lexists(file, "confusion", H5P_DEFAULT) > 0 &&
            H5Lexists(file, group_path, H5P_DEFAULT) > 0) {
            hid_t group = H5Gopen2(file, group_path, H5P_DEFAULT);
            int32_t epoch = -1;
            if (group < 0 || read_scalar_attr(group, "epoch", H5T_NATIVE_INT32, &epoch) != 0)
                epoch = -1;
            release(group);
            out->confusion_epoch[w] = epoch;
        }
    }
    return MLP_OK;
}

/* ---- the /attempts table ------------------------------------------------ */

/* One row in memory. Strings are fixed-width and null-terminated: a
 * table h5dump, h5py and pandas read directly (h5py gives bytes). */
typedef struct attempt_row {
    int32_t attempt, first_epoch;
    char host[64], start[24], finish[24], outcome[16];
    char slurm_job_id[24], slurm_array_job_id[24], slurm_array_task_id[24];
    char slurm_restart_count[12], blas[128], kernels[128], git_commit[48];
} attempt_row;

#define ATTEMPT_TEXT(name) {#name, offsetof(attempt_row, name), sizeof(((attempt_row *)0)->name)}
static const struct {
    const char *name;
    size_t offset, size;        /* size 0: an int32 */
} attempt_fields[] = {
    {"attempt", offsetof(attempt_row, attempt), 0},
    {"first_epoch", offsetof(attempt_row, first_epoch), 0},
    ATTEMPT_TEXT(host),
    ATTEMPT_TEXT(start),
    ATTEMPT_TEXT(finish),
    ATTEMPT_TEXT(outcome),
    ATTEMPT_TEXT(slurm_job_id),
    ATTEMPT_TEXT(slurm_array_job_id),
    ATTEMPT_TEXT(slurm_array_task_id),
    ATTEMPT_TEXT(slurm_restart_count),
    ATTEMPT_TEXT(blas),
    ATTEMPT_TEXT(kernels),
    ATTEMPT_TEXT(git_commit),
};
#undef ATTEMPT_TEXT

/* The compound type of an /attempts row: in memory (attempt_row) or packed in
 * the file (little-endian int32s, the strings at their widths). */
static hid_t attempts_type(int in_file)
{
    size_t n = sizeof attempt_fields / sizeof attempt_fields[0], packed = 0;
    for (size_t i = 0; i < n; i++)
        packed += attempt_fields[i].size ? attempt_fields[i].size : 4;
    hid_t type = H5Tcreate(H5T_COMPOUND, in_file ? packed : sizeof(attempt_row));
    packed = 0;
    for (size_t i = 0; type >= 0 && i < n; i++) {
        size_t size = attempt_fields[i].size;
        hid_t field = size == 0 ? H5Tcopy(in_file ? H5T_STD_I32LE : H5T_NATIVE_INT32) : H5Tcopy(H5T_C_S1);
        herr_t rc = field < 0 ? -1 : 0;
        if (rc >= 0 && size > 0)
            rc = H5Tset_size(field, size) < 0 || H5Tset_strpad(field, H5T_STR_NULLTERM) < 0 ? -1 : 0;
        if (rc >= 0)
            rc = H5Tinsert(type, attempt_fields[i].name, in_file ? packed : attempt_fields[i].offset, field);
        release(field);
        if (rc < 0) {
            release(type);
            return H5I_INVALID_HID;
        }
        packed += size ? size : 4;
    }
    return type;
}

static void copy_text(char *field, size_t size, const char *text)
{
    memset(field, 0, size);
    if (text != NULL)
        memcpy(field, text, strnlen(text, size - 1));   /* null-terminated */
}

static int begin_attempt_impl(store *s, const store_attempt *a, int first_epoch, mlp_error *err)
{
    if (check_open(s, err) != MLP_OK)
        return MLP_ERR_RUN;
    if (a == NULL)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: store_begin_attempt without an attempt");
    hid_t file_type = attempts_type(1), mem_type = attempts_type(0);
    hid_t dset = H5I_INVALID_HID;
    if (file_type >= 0 && mem_type >= 0)
        dset = link_exists(s->file, "attempts")
                   ? H5Dopen2(s->file, "attempts", H5P_DEFAULT)
                   : create_epoch_dataset(s->file, "attempts", file_type, 0, H5I_INVALID_HID, NULL);
    hssize_t rows = dset < 0 ? -1 : dataset_rows(dset);
    attempt_row row;
    memset(&row, 0, sizeof row);
    row.attempt = (int32_t)rows + 1;
    row.first_epoch = first_epoch;
    copy_text(row.host, sizeof row.host, a->host);
    copy_text(row.start, sizeof row.start, a->start_time);
    copy_text(row.outcome, sizeof row.outcome, "running");
    copy_text(row.slurm_job_id, sizeof row.slurm_job_id, a->slurm_job_id);
    copy_text(row.slurm_array_job_id, sizeof row.slurm_array_job_id, a->slurm_array_job_id);
    copy_text(row.slurm_array_task_id, sizeof row.slurm_array_task_id, a->slurm_array_task_id);
    copy_text(row.slurm_restart_count, sizeof row.slurm_restart_count, a->slurm_restart_count);
    copy_text(row.blas, sizeof row.blas, a->blas);
    copy_text(row.kernels, sizeof row.kernels, a->kernels);
    copy_text(row.git_commit, sizeof row.git_commit, a->git_commit);
    herr_t rc = rows < 0 ? -1 : append_rows(dset, mem_type, (hsize_t)rows, 1, &row);
    release(dset);
    release(mem_type);
    release(file_type);
    if (rc < 0)
        return h5_fail(err, "cannot record the attempt in %s", s->partial_path);
    return flush(s, err);
}

/* Sets finish and outcome of the last /attempts row (none: nothing to do). */
static herr_t close_last_attempt(store *s, const char *outcome, const char *finish_time)
{
    if (!link_exists(s->file, "attempts"))
        return 0;
    hid_t mem_type = attempts_type(0);
    hid_t dset = mem_type < 0 ? H5I_INVALID_HID : H5Dopen2(s->file, "attempts", H5P_DEFAULT);
    hssize_t rows = dset < 0 ? -1 : dataset_rows(dset);
    attempt_row row;
    herr_t rc = rows < 0 ? -1 : 0;
    if (rows > 0)
        rc = transfer_rows(dset, mem_type, (hsize_t)rows - 1, 1, &row, 0);
    if (rows > 0 && rc >= 0) {
        copy_text(row.finish, sizeof row.finish, finish_time);
        copy_text(row.outcome, sizeof row.outcome, outcome);
        rc = transfer_rows(dset, mem_type, (hsize_t)rows - 1, 1, &row, 1);
    }
    release(dset);
    release(mem_type);
    return rc;
}

static int end_attempt_impl(store *s, const char *outcome, const char *finish_time, mlp_error *err)
{
    if (check_open(s, err) != MLP_OK)
        return MLP_ERR_RUN;
    if (outcome == NULL || finish_time == NULL)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: store_end_attempt without outcome or time");
    if (close_last_attempt(s, outcome, finish_time) < 0)
        return h5_fail(err, "cannot record the end of the attempt in %s", s->partial_path);
    return flush(s, err);
}

/* ---- finish ------------------------------------------------------------- */

static int finish_impl(store *s, const char *status, const char *reason, const char *finish_time,
                       mlp_error *err)
{
    if (check_open(s, err) != MLP_OK)
        return MLP_ERR_RUN;
    if (status == NULL || (strcmp(status, "complete") != 0 && strcmp(status, "failed") != 0))
        return mlp_error_set(err, MLP_ERR_RUN, "internal: run status \"%s\" is not complete or failed",
                             status ? status : "(null)");
    if (finish_time == NULL)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: store_finish without a finish time");
    int complete = strcmp(status, "complete") == 0;
    s->finished = 1;   /* from here on, whatever happens, only store_close */

    herr_t rc = write_string_attr(s->file, "status", status);
    if (rc >= 0 && reason != NULL && reason[0] != '\0')
        rc = write_string_attr(s->file, "reason", reason);
    if (rc >= 0)
        rc = write_string_attr(s->file, "finish", finish_time);
    if (rc >= 0)
        rc = close_last_attempt(s, status, finish_time);
    if (rc >= 0 && complete && link_exists(s->file, "checkpoint"))
        rc = H5Ldelete(s->file, "checkpoint", H5P_DEFAULT);
    if (rc >= 0)
        rc = H5Fflush(s->file, H5F_SCOPE_GLOBAL);
    if (rc < 0) {
        h5_fail(err, "cannot finish run file %s", s->partial_path);
        H5Fclose(s->file);
        s->file = H5I_INVALID_HID;
        return MLP_ERR_RUN;
    }
    rc = H5Fclose(s->file);
    s->file = H5I_INVALID_HID;
    if (rc < 0)
        return h5_fail(err, "cannot close run file %s", s->partial_path);

    /* A failed run must never look complete: it goes to PATH.failed, so PATH
     * is still missing (make runs it again) and the user can inspect it. */
    char *failed_path = with_suffix(s->path, ".failed");
    if (failed_path == NULL)
        return mlp_error_nomem(err, "a file name");
    const char *target = complete ? s->path : failed_path;
    int result = MLP_OK;
    if (rename(s->partial_path, target) != 0)
        result = mlp_error_set(err, MLP_ERR_RUN, "cannot rename %s to %s: %s", s->partial_path,
                               target, strerror(errno));
    else if (complete)
        remove(failed_path);   /* an earlier failed attempt is now superseded */
    free(failed_path);
    return result;
}

/* ---- resume ------------------------------------------------------------- */

/* Reads /metrics rows 0 .. rows-1 into history. */
static int read_metrics(hid_t file, const char *path, hsize_t rows, metrics_history *history,
                        mlp_error *err)
{
    if (rows == 0)
        return MLP_OK;
    epoch_metrics *buffer = malloc(rows * sizeof *buffer);
    if (buffer == NULL)
        return mlp_error_nomem(err, "the metrics of a run file");
    hid_t type = metrics_type(0);
    hid_t metrics = type < 0 ? H5I_INVALID_HID : H5Dopen2(file, "metrics", H5P_DEFAULT);
    herr_t read = metrics < 0 ? -1 : transfer_rows(metrics, type, 0, rows, buffer, 0);
    release(metrics);
    release(type);
    int rc = MLP_OK;
    if (read < 0)
        rc = h5_fail(err, "cannot read /metrics from %s", path);
    for (hsize_t i = 0; i < rows && rc == MLP_OK; i++) {
        if (buffer[i].epoch != (int)i) {
            rc = mlp_error_set(err, MLP_ERR_RUN, "%s: /metrics row %llu holds epoch %d",
                               path, (unsigned long long)i, buffer[i].epoch);
            break;
        }
        rc = metrics_history_append(history, &buffer[i], err);
    }
    free(buffer);
    return rc;
}

/* Reads the custom columns into history (history->count rows; a column
 * shorter than that is NaN for the missing epochs). When `prune` is set
 * (resume), datasets are cut to history->count rows, and a column with no
 * value in those rows is deleted: it first appeared in a dropped epoch. */
static int read_custom(hid_t file, const char *path, metrics_history *history, int prune,
                       mlp_error *err)
{
    if (!link_exists(file, "custom_metrics"))
        return MLP_OK;
    hid_t group = H5Gopen2(file, "custom_metrics", H5P_DEFAULT);
    name_list names;
    if (group < 0 || list_links(group, &names) < 0) {
        release(group);
        return h5_fail(err, "cannot list /custom_metrics in %s", path);
    }
    size_t rows = history->count;
    double *values = malloc((rows ? rows : 1) * sizeof *values);
    int rc = values == NULL ? mlp_error_nomem(err, "custom metrics") : MLP_OK;
    for (size_t j = 0; j < names.count && rc == MLP_OK; j++) {
        const char *name = names.names[j];
        hid_t dset = H5Dopen2(group, name, H5P_DEFAULT);
        hssize_t have = dset < 0 ? -1 : dataset_rows(dset);
        size_t n = have < 0 ? 0 : ((size_t)have < rows ? (size_t)have : rows);
        if (have < 0 || transfer_rows(dset, H5T_NATIVE_DOUBLE, 0, n, values, 0) < 0) {
            release(dset);
            rc = h5_fail(err, "cannot read /custom_metrics/%s from %s", name, path);
            break;
        }
        for (size_t i = n; i < rows; i++)
            values[i] = NAN;
        int any = 0;
        for (size_t i = 0; i < rows; i++)
            any |= !isnan(values[i]);
        herr_t pruned = 0;
        if (prune && !any)
            pruned = H5Ldelete(group, name, H5P_DEFAULT);
        else if (prune && (size_t)have != rows)
            pruned = set_rows(dset, rows);
        release(dset);
        if (pruned < 0) {
            rc = h5_fail(err, "cannot cut /custom_metrics/%s in %s", name, path);
            break;
        }
        if (prune && !any)
            continue;
        for (size_t i = 0; i < rows && rc == MLP_OK; i++)
            rc = metrics_history_set_custom(history, i, name, values[i], err);
    }
    free(values);
    name_list_free(&names);
    release(group);
    return rc;
}

/* ---- checkpoint ----------------------------------------------------------- */

/* A kill -9 can land in the middle of any HDF5 write, and HDF5 (no SWMR) may
 * write metadata before a flush and reuse freed space: a checkpoint replaced
 * in place could read back as half old, half new. So there are two slots,
 * /checkpoint/slot0 and slot1, epoch N written into slot N % 2 (the other
 * keeps epoch N-1 intact), data and then the slot's epoch and a SHA-256
 * over everything resume reads (metrics rows 0..N, custom metrics, weights,
 * RNG state). Resume takes the newest slot whose digest matches. */

typedef struct digest_input {
    int epoch;
    const metrics_history *history;    /* rows 0..epoch */
    size_t n_layers;
    const size_t *rows, *cols;
    const double *const *weights, *const *biases;
    const void *rng_state;
    size_t rng_state_size;
} digest_input;

static void digest_bytes(SHA2_CTX *ctx, const void *data, size_t size)
{
    SHA256Update(ctx, (const uint8_t *)data, size);
}

static void checkpoint_digest(const digest_input *in, char hex[SHA256_DIGEST_STRING_LENGTH])
{
    SHA2_CTX ctx;
    SHA256Init(&ctx);
    int32_t epoch = in->epoch;
    digest_bytes(&ctx, &epoch, sizeof epoch);
    const metrics_history *h = in->history;
    for (size_t i = 0; i < h->count && i <= (size_t)in->epoch; i++) {
        int32_t e = h->rows[i].epoch;
        digest_bytes(&ctx, &e, sizeof e);
        for (int f = 1; f < METRICS_FIELD_COUNT; f++)
            digest_bytes(&ctx, (const char *)&h->rows[i] + metrics_offsets[f], sizeof(double));
    }
    /* Custom columns in order; one with no value up to the epoch is left out
     * (at resume it can only be a column of the epoch in progress). */
    for (size_t j = 0; j < h->custom_count; j++) {
        size_t n = h->count < (size_t)in->epoch + 1 ? h->count : (size_t)in->epoch + 1;
        int any = 0;
        for (size_t i = 0; i < n; i++)
            any |= !isnan(h->custom_values[j][i]);
        if (!any)
            continue;
        digest_bytes(&ctx, h->custom_names[j], strlen(h->custom_names[j]) + 1);
        digest_bytes(&ctx, h->custom_values[j], n * sizeof(double));
    }
    for (size_t k = 0; k < in->n_layers; k++) {
        digest_bytes(&ctx, in->weights[k], in->rows[k] * in->cols[k] * sizeof(double));
        digest_bytes(&ctx, in->biases[k], in->rows[k] * sizeof(double));
    }
    if (in->rng_state_size > 0)
        digest_bytes(&ctx, in->rng_state, in->rng_state_size);
    SHA256End(&ctx, hex);
}

/* loc/name as a 1- or 2-D float64 (or uint8 when bytes) dataset of dims,
 * written in place when it exists, so its space is never freed and reused. */
static herr_t write_in_place(hid_t loc, const char *name, int rank, const hsize_t *dims,
                             int bytes, const void *values)
{
    hid_t mem_type = bytes ? H5T_NATIVE_UCHAR : H5T_NATIVE_DOUBLE;
    hid_t dset = H5I_INVALID_HID;
    if (link_exists(loc, name)) {
        dset = H5Dopen2(loc, name, H5P_DEFAULT);
    } else {
        hid_t space = H5Screate_simple(rank, dims, NULL);
        dset = space < 0 ? H5I_INVALID_HID
                         : H5Dcreate2(loc, name, bytes ? H5T_NATIVE_UCHAR : H5T_IEEE_F64LE, space,
                                      H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        release(space);
    }
    herr_t rc = dset < 0 ? -1 : 0;
    if (rc >= 0 && dims[0] > 0)
        rc = H5Dwrite(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
    release(dset);
    return rc;
}

static hid_t open_or_create_group(hid_t loc, const char *name)
{
    return link_exists(loc, name) ? H5Gopen2(loc, name, H5P_DEFAULT) : create_ordered_group(loc, name);
}

static herr_t write_slot_data(hid_t slot, const store_layer *layers, size_t n_layers,
                              const void *rng_state, size_t rng_state_size)
{
    for (size_t k = 0; k < n_layers; k++) {
        char name[32];
        snprintf(name, sizeof name, "layer%zu", k + 1);
        hid_t layer = open_or_create_group(slot, name);
        hsize_t dims[2] = {layers[k].rows, layers[k].cols};
        herr_t rc = layer < 0 ? -1 : write_in_place(layer, "weights", 2, dims, 0, layers[k].weights);
        if (rc >= 0)
            rc = write_in_place(layer, "biases", 1, dims, 0, layers[k].biases);
        release(layer);
        if (rc < 0)
            return -1;
    }
    hsize_t dims[1] = {rng_state_size};
    return write_in_place(slot, "rng_state", 1, dims, 1, rng_state);
}

static int checkpoint_impl(store *s, int epoch, const store_layer *layers, size_t n_layers,
                           const void *rng_state, size_t rng_state_size, mlp_error *err)
{
    if (check_open(s, err) != MLP_OK || check_layers(layers, n_layers, err) != MLP_OK)
        return MLP_ERR_RUN;
    /* Resume trusts that the checkpoint epoch's metrics row is in the file. */
    if (epoch < 0 || (hsize_t)epoch >= s->rows)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: checkpoint of epoch %d before its metrics", epoch);
    if (rng_state == NULL && rng_state_size > 0)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: checkpoint without RNG state");
    if (n_layers > CHECKPOINT_MAX_LAYERS)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: %zu layers to checkpoint", n_layers);

    /* The digest is of the history as the file holds it. */
    metrics_history history;
    metrics_history_init(&history);
    int rc = read_metrics(s->file, s->partial_path, (hsize_t)epoch + 1, &history, err);
    if (rc == MLP_OK)
        rc = read_custom(s->file, s->partial_path, &history, 0, err);
    size_t rows[CHECKPOINT_MAX_LAYERS], cols[CHECKPOINT_MAX_LAYERS];
    const double *weights[CHECKPOINT_MAX_LAYERS], *biases[CHECKPOINT_MAX_LAYERS];
    for (size_t k = 0; k < n_layers; k++) {
        rows[k] = layers[k].rows;
        cols[k] = layers[k].cols;
        weights[k] = layers[k].weights;
        biases[k] = layers[k].biases;
    }
    char digest[SHA256_DIGEST_STRING_LENGTH] = "";
    if (rc == MLP_OK) {
        digest_input in = {epoch, &history, n_layers, rows, cols, weights, biases,
                           rng_state, rng_state_size};
        checkpoint_digest(&in, digest);
    }
    metrics_history_free(&history);
    if (rc != MLP_OK)
        return rc;

    char slot_name[16];
    snprintf(slot_name, sizeof slot_name, "slot%d", epoch % 2);
    hid_t group = open_or_create_group(s->file, "checkpoint");
    hid_t slot = group < 0 ? H5I_INVALID_HID : open_or_create_group(group, slot_name);
    herr_t written = slot < 0 ? -1 : write_slot_data(slot, layers, n_layers, rng_state, rng_state_size);
    /* One flush at the end: if the slot's epoch and digest reach the disk
     * before its data, the digest does not match and resume takes the other. */
    int32_t epoch32 = epoch;
    if (written >= 0)
        written = write_scalar_attr(slot, "epoch", H5T_STD_I32LE, H5T_NATIVE_INT32, &epoch32);
    if (written >= 0)
        written = write_string_attr(slot, "sha256", digest);
    /* For people and scripts (h5dump -a /checkpoint/epoch); resume reads the slots. */
    if (written >= 0)
        written = write_scalar_attr(group, "epoch", H5T_STD_I32LE, H5T_NATIVE_INT32, &epoch32);
    release(slot);
    release(group);
    if (written < 0)
        return h5_fail(err, "cannot write the checkpoint of epoch %d to %s", epoch, s->partial_path);
    return flush(s, err);
}

/* Reads group/name (rank 1 or 2) into out after checking its shape. */
static int read_layer_array(hid_t group, const char *name, int rank, hsize_t *dims, double *out)
{
    hid_t dset = H5Dopen2(group, name, H5P_DEFAULT);
    hid_t space = dset < 0 ? H5I_INVALID_HID : H5Dget_space(dset);
    int rc = -1;
    if (space >= 0 && H5Sget_simple_extent_ndims(space) == rank
        && H5Sget_simple_extent_dims(space, dims, NULL) == rank)
        rc = out == NULL ? 0
                         : (H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0 ? -1 : 0);
    release(space);
    release(dset);
    return rc;
}

/* Copies the checkpoint layers into the caller's arrays. The arrays carry no
 * sizes, so what can be checked is checked: the layer count, each layer's
 * own shape (biases match weight rows) and the chain (layer K's inputs are
 * layer K-1's neurons). The run id (a hash of the resolved config, network
 * included) is what guarantees the shapes match the caller's network. */
static int read_checkpoint_layers(hid_t checkpoint, const char *path, double *const *weights,
                                  double *const *biases, size_t n_layers, size_t *rows,
                                  size_t *cols, int *unreadable, mlp_error *err)
{
    char name[32];
    snprintf(name, sizeof name, "layer%zu", n_layers + 1);
    int extra = link_exists(checkpoint, name);
    snprintf(name, sizeof name, "layer%zu", n_layers);
    if (n_layers == 0 || extra || !link_exists(checkpoint, name))
        return mlp_error_set(err, MLP_ERR_RUN,
                             "the checkpoint in %s does not have %zu layers like the network; "
                             "delete it to start the run again", path, n_layers);
    hsize_t previous_rows = 0;
    for (size_t k = 0; k < n_layers; k++) {
        if (weights[k] == NULL || biases[k] == NULL)
            return mlp_error_set(err, MLP_ERR_RUN, "internal: store_resume without layer %zu arrays", k + 1);
        snprintf(name, sizeof name, "layer%zu", k + 1);
        hid_t layer = H5Gopen2(checkpoint, name, H5P_DEFAULT);
        hsize_t wdims[2] = {0, 0}, bdims[1] = {0};
        int shapes_ok = layer >= 0 && read_layer_array(layer, "weights", 2, wdims, NULL) == 0
                        && read_layer_array(layer, "biases", 1, bdims, NULL) == 0
                        && bdims[0] == wdims[0] && (k == 0 || wdims[1] == previous_rows);
        int read_ok = shapes_ok && read_layer_array(layer, "weights", 2, wdims, weights[k]) == 0
                      && read_layer_array(layer, "biases", 1, bdims, biases[k]) == 0;
        release(layer);
        if (!shapes_ok)
            return mlp_error_set(err, MLP_ERR_RUN,
                                 "the checkpoint in %s has a malformed %s; delete it to start the run again",
                                 path, name);
        if (!read_ok) {
            *unreadable = 1;
            return h5_fail(err, "cannot read checkpoint %s from %s", name, path);
        }
        previous_rows = wdims[0];
        rows[k] = (size_t)wdims[0];
        cols[k] = (size_t)wdims[1];
    }
    return MLP_OK;
}

static int read_rng_state(hid_t checkpoint, const char *path, void *rng_state, size_t size,
                          int *unreadable, mlp_error *err)
{
    hid_t dset = H5Dopen2(checkpoint, "rng_state", H5P_DEFAULT);
    hssize_t have = dset < 0 ? -1 : dataset_rows(dset);
    int rc = MLP_OK;
    *unreadable = have < 0;
    if (have < 0)
        rc = h5_fail(err, "cannot read the checkpoint RNG state from %s", path);
    else if ((size_t)have != size)
        rc = mlp_error_set(err, MLP_ERR_RUN,
                           "the checkpoint RNG state in %s has %lld bytes, expected %zu; "
                           "delete it to start the run again", path, (long long)have, size);
    else if (size > 0 && H5Dread(dset, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, rng_state) < 0
             && (*unreadable = 1))
        rc = h5_fail(err, "cannot read the checkpoint RNG state from %s", path);
    release(dset);
    return rc;
}

/* Weight snapshots of epochs after the checkpoint, and "final", belong to
 * the part of the run that will be trained again. */
static int snapshot_after(const char *name, int epoch)
{
    int snapshot = -1;
    char tail;
    return strcmp(name, "final") == 0
           || (sscanf(name, "epoch_%d%c", &snapshot, &tail) == 1 && snapshot > epoch);
}

/* Removes them (snapshot_after). */
static int drop_later_weights(hid_t file, const char *path, int epoch, mlp_error *err)
{
    hid_t weights = H5Gopen2(file, "weights", H5P_DEFAULT);
    name_list names;
    if (weights < 0 || list_links(weights, &names) < 0) {
        release(weights);
        return h5_fail(err, "cannot list /weights in %s", path);
    }
    int rc = MLP_OK;
    for (size_t i = 0; i < names.count && rc == MLP_OK; i++) {
        if (snapshot_after(names.names[i], epoch) && H5Ldelete(weights, names.names[i], H5P_DEFAULT) < 0)
            rc = h5_fail(err, "cannot remove /weights/%s from %s", names.names[i], path);
    }
    name_list_free(&names);
    release(weights);
    return rc;
}

/* The epoch a slot claims, or -1 when it is missing or was never completed
 * (its sha256, written last, is absent). */
static int slot_epoch(hid_t checkpoint, const char *name)
{
    if (!link_exists(checkpoint, name))
        return -1;
    hid_t slot = H5Gopen2(checkpoint, name, H5P_DEFAULT);
    int32_t e = -1;
    int ok = slot >= 0 && H5Aexists(slot, "sha256") > 0
             && read_scalar_attr(slot, "epoch", H5T_NATIVE_INT32, &e) == 0;
    release(slot);
    return ok && e >= 0 ? e : -1;
}

/* Reads slot `name` into the caller's arrays and checks its digest against
 * the file's history up to its epoch. *valid = 1 when everything matches. A
 * torn or unreadable slot is just not valid; an error is returned only when
 * a completed slot cannot be this network's (layer count, RNG size). */
static int read_slot(hid_t file, hid_t checkpoint, const char *name, int epoch, const char *path,
                     double *const *weights, double *const *biases, size_t n_layers,
                     void *rng_state, size_t rng_state_size, int *valid, mlp_error *err)
{
    *valid = 0;
    if (n_layers > CHECKPOINT_MAX_LAYERS)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: %zu layers to resume", n_layers);
    hid_t slot = H5Gopen2(checkpoint, name, H5P_DEFAULT);
    char *stored = NULL;
    if (slot < 0 || read_string_attr(slot, "sha256", &stored) != 0) {
        release(slot);
        return MLP_OK;
    }
    size_t rows[CHECKPOINT_MAX_LAYERS], cols[CHECKPOINT_MAX_LAYERS];
    int unreadable = 0;
    mlp_error local = {0};
    int rc = read_checkpoint_layers(slot, path, weights, biases, n_layers, rows, cols, &unreadable,
                                    &local);
    if (rc == MLP_OK)
        rc = read_rng_state(slot, path, rng_state, rng_state_size, &unreadable, &local);
    release(slot);
    if (rc != MLP_OK) {
        free(stored);
        if (unreadable)
            return MLP_OK;
        if (err != NULL)
            *err = local;
        return rc;
    }
    metrics_history history;
    metrics_history_init(&history);
    if (read_metrics(file, path, (hsize_t)epoch + 1, &history, &local) == MLP_OK
        && read_custom(file, path, &history, 0, &local) == MLP_OK) {
        const double *w[CHECKPOINT_MAX_LAYERS], *b[CHECKPOINT_MAX_LAYERS];
        for (size_t k = 0; k < n_layers; k++) {
            w[k] = weights[k];
            b[k] = biases[k];
        }
        char digest[SHA256_DIGEST_STRING_LENGTH];
        digest_input in = {epoch, &history, n_layers, rows, cols, w, b, rng_state, rng_state_size};
        checkpoint_digest(&in, digest);
        *valid = strcmp(digest, stored) == 0;
    }
    metrics_history_free(&history);
    free(stored);
    return MLP_OK;
}

/* The newest valid slot: its data in the caller's arrays, *epoch its epoch
 * (-1: none is valid). */
static int read_newest_slot(hid_t file, const char *path, hsize_t rows_in_file,
                            double *const *weights, double *const *biases, size_t n_layers,
                            void *rng_state, size_t rng_state_size, int *epoch,
                            const char **slot_name, mlp_error *err)
{
    *epoch = -1;
    hid_t checkpoint = H5Gopen2(file, "checkpoint", H5P_DEFAULT);
    if (checkpoint < 0)
        return MLP_OK;
    int e[2] = {slot_epoch(checkpoint, "slot0"), slot_epoch(checkpoint, "slot1")};
    int first = e[1] > e[0];
    int rc = MLP_OK;
    for (int i = 0; i < 2 && rc == MLP_OK && *epoch < 0; i++) {
        int which = i == 0 ? first : !first;
        if (e[which] < 0 || (hsize_t)e[which] + 1 > rows_in_file)
            continue;
        int valid = 0;
        rc = read_slot(file, checkpoint, which ? "slot1" : "slot0", e[which], path, weights, biases,
                       n_layers, rng_state, rng_state_size, &valid, err);
        if (rc == MLP_OK && valid) {
            *epoch = e[which];
            *slot_name = which ? "slot1" : "slot0";
        }
    }
    release(checkpoint);
    return rc;
}

/* Copies one attribute of the old root to the new one, whatever its type. */
static herr_t copy_root_attr(hid_t old_root, const char *name, const H5A_info_t *info, void *data)
{
    (void)info;
    hid_t new_root = *(hid_t *)data;
    hid_t attr = H5Aopen(old_root, name, H5P_DEFAULT);
    hid_t file_type = attr < 0 ? H5I_INVALID_HID : H5Aget_type(attr);
    hid_t mem_type = file_type < 0 ? H5I_INVALID_HID : H5Tget_native_type(file_type, H5T_DIR_DEFAULT);
    hid_t space = attr < 0 ? H5I_INVALID_HID : H5Aget_space(attr);
    hssize_t n = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
    size_t size = mem_type < 0 ? 0 : H5Tget_size(mem_type);
    void *buffer = n < 0 || size == 0 ? NULL : calloc((size_t)(n > 0 ? n : 1), size);
    herr_t rc = buffer == NULL ? -1 : 0;
    if (rc >= 0 && n > 0)
        rc = H5Aread(attr, mem_type, buffer);
    if (rc >= 0) {
        hid_t copy = H5Acreate2(new_root, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
        rc = copy < 0 ? -1 : (n > 0 ? H5Awrite(copy, mem_type, buffer) : 0);
        release(copy);
        if (n > 0 && H5Tdetect_class(mem_type, H5T_VLEN) + H5Tis_variable_str(mem_type) > 0)
            H5Dvlen_reclaim(mem_type, space, H5P_DEFAULT, buffer);
    }
    free(buffer);
    release(space);
    release(mem_type);
    release(file_type);
    release(attr);
    return rc;
}

/* Resume writes into a new file, not the killed one: a kill in the middle of
 * an HDF5 write can leave structures that point past the file's recorded end,
 * and writing on would let new data overwrite them. So the root attributes,
 * every object but /checkpoint and the weight snapshots of later epochs, and
 * the valid checkpoint slot are copied from `old` into FRESH_PATH (PATH.partial.new), which then replaces
 * PATH.partial (rename) and is what the run goes on writing. */
static herr_t copy_partial(hid_t old, const char *fresh_path, const char *slot, int epoch)
{
    hid_t fresh = H5Fcreate(fresh_path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t old_root = H5Gopen2(old, "/", H5P_DEFAULT);
    hid_t new_root = fresh < 0 ? H5I_INVALID_HID : H5Gopen2(fresh, "/", H5P_DEFAULT);
    hsize_t index = 0;
    herr_t rc = old_root < 0 || new_root < 0 ? -1
                : H5Aiterate2(old_root, H5_INDEX_CRT_ORDER, H5_ITER_INC, &index, copy_root_attr, &new_root);
    if (rc < 0 && old_root >= 0 && new_root >= 0) {   /* the root does not track creation order */
        index = 0;
        rc = H5Aiterate2(old_root, H5_INDEX_NAME, H5_ITER_INC, &index, copy_root_attr, &new_root);
    }
    /* Every object but the checkpoint (tables, weights, diagnostics, confusion, ...). */
    name_list objects = {0};
    if (rc >= 0 && list_links(old_root, &objects) < 0)
        rc = -1;
    for (size_t i = 0; rc >= 0 && i < objects.count; i++)
        if (strcmp(objects.names[i], "checkpoint") != 0 && strcmp(objects.names[i], "weights") != 0)
            rc = H5Ocopy(old, objects.names[i], fresh, objects.names[i], H5P_DEFAULT, H5P_DEFAULT);
    name_list_free(&objects);
    /* The weight snapshots one by one, without those of later epochs: the
     * one being written when the process was killed is often torn. */
    hid_t old_weights = rc < 0 ? H5I_INVALID_HID : H5Gopen2(old, "weights", H5P_DEFAULT);
    hid_t new_weights = old_weights < 0 ? H5I_INVALID_HID : create_ordered_group(fresh, "weights");
    name_list snapshots = {0};
    if (new_weights < 0 || list_links(old_weights, &snapshots) < 0)
        rc = -1;
    for (size_t i = 0; rc >= 0 && i < snapshots.count; i++)
        if (!snapshot_after(snapshots.names[i], epoch))
            rc = H5Ocopy(old_weights, snapshots.names[i], new_weights, snapshots.names[i], H5P_DEFAULT,
                         H5P_DEFAULT);
    name_list_free(&snapshots);
    release(new_weights);
    release(old_weights);
    hid_t checkpoint = rc < 0 ? H5I_INVALID_HID : create_ordered_group(fresh, "checkpoint");
    char source[32];
    snprintf(source, sizeof source, "checkpoint/%s", slot);
    int32_t epoch32 = epoch;
    rc = checkpoint < 0 ? -1 : H5Ocopy(old, source, checkpoint, slot, H5P_DEFAULT, H5P_DEFAULT);
    if (rc >= 0)
        rc = write_scalar_attr(checkpoint, "epoch", H5T_STD_I32LE, H5T_NATIVE_INT32, &epoch32);
    release(checkpoint);
    release(new_root);
    release(old_root);
    if (fresh >= 0 && H5Fclose(fresh) < 0)
        rc = -1;
    return fresh < 0 ? -1 : rc;
}

/* What the process that reads the killed file tells its parent (exit status). */
enum {
    REBUILT = 0,            /* PATH.partial.new holds the run up to its newest valid checkpoint */
    NOT_RESUMABLE = 3,      /* not HDF5, another run's, no checkpoint, every slot torn or unreadable */
    REFUSED = 4,            /* a valid checkpoint of another network: the message is on the pipe */
};
/* Copying a run file takes well under a second for small runs: a reader
 * still going after 10 s plus 1 s per 10 MB of file is lost in a damaged
 * file (HDF5 has looped for ever reading a torn global heap) and is killed. */
enum { REBUILD_SECONDS = 10, REBUILD_BYTES_PER_SECOND = 10 << 20 };
/* Memory the reader may take beyond what the process had: a garbage size in
 * a torn header has made HDF5 allocate 24 GB (the torture test, under ASan). */
static const unsigned long long REBUILD_EXTRA_BYTES = 4ULL << 30;
/* The signals that stop a run (cmd_run.c): in the reader they kill it, so
 * that a signal to the process group is not held up by the reader. */
static const int stop_signals[] = {SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGHUP};

static int is_stop_signal(int number)
{
    for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++)
        if (stop_signals[i] == number)
            return 1;
    return 0;
}

/* In the reader: its address space capped at what it has now plus
 * REBUILD_EXTRA_BYTES (read from /proc/self/statm: the sanitizer build
 * reserves terabytes up front, so no fixed cap fits both builds). */
static void limit_reader(const char *partial_path)
{
    for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++)
        signal(stop_signals[i], SIG_DFL);
    struct stat file;
    off_t size = stat(partial_path, &file) == 0 ? file.st_size : 0;
    alarm(REBUILD_SECONDS + (unsigned)(size / REBUILD_BYTES_PER_SECOND));
    FILE *statm = fopen("/proc/self/statm", "r");
    unsigned long long pages = 0;
    long page_size = sysconf(_SC_PAGESIZE);
    if (statm != NULL && fscanf(statm, "%llu", &pages) == 1 && page_size > 0) {
        struct rlimit limit;
        limit.rlim_cur = limit.rlim_max = (rlim_t)(pages * (unsigned long long)page_size
                                                   + REBUILD_EXTRA_BYTES);
        setrlimit(RLIMIT_AS, &limit);
    }
    if (statm != NULL)
        fclose(statm);
}

/* The child's work: everything that touches the killed file. The caller's
 * arrays are the child's copies, free to scribble on. Returns the exit status. */
static int rebuild_from_killed(const store *s, const char *fresh_path, const char *run_id,
                               double *const *weights, double *const *biases, size_t n_layers,
                               void *rng_state, size_t rng_state_size, char *why, size_t why_size,
                               mlp_error *err)
{
    if (H5Fis_hdf5(s->partial_path) <= 0) {
        snprintf(why, why_size, "is not an HDF5 file any more");
        return NOT_RESUMABLE;
    }
    /* Read-only: the killed file is never changed. Past HDF5's own lock: the
     * parent holds an exclusive one for it (resume_impl). */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    hid_t file = fapl < 0 || H5Pset_file_locking(fapl, 0, 1) < 0
                     ? H5I_INVALID_HID
                     : H5Fopen(s->partial_path, H5F_ACC_RDONLY, fapl);
    release(fapl);
    if (file < 0) {
        snprintf(why, why_size, "cannot be opened by HDF5 (torn by a kill)");
        return NOT_RESUMABLE;
    }
    int status = NOT_RESUMABLE;
    char *stored_id = NULL;
    if (read_string_attr(file, "run_id", &stored_id) != 0 || strcmp(stored_id, run_id) != 0) {
        snprintf(why, why_size, "holds another run (run_id %.64s)", stored_id ? stored_id : "missing");
    } else if (!link_exists(file, "checkpoint")) {
        snprintf(why, why_size, "has no checkpoint yet (killed before its first epoch ended)");
    } else {
        hid_t metrics = H5Dopen2(file, "metrics", H5P_DEFAULT);
        hssize_t rows = metrics < 0 ? -1 : dataset_rows(metrics);
        release(metrics);
        int epoch = -1;
        const char *slot = NULL;
        int rc = rows < 0 ? MLP_OK
                          : read_newest_slot(file, s->partial_path, (hsize_t)rows, weights, biases,
                                             n_layers, rng_state, rng_state_size, &epoch, &slot, err);
        if (rc != MLP_OK)
            status = REFUSED;
        else if (epoch < 0)
            snprintf(why, why_size, "has no checkpoint that reads back whole (torn by a kill)");
        else if (copy_partial(file, fresh_path, slot, epoch) < 0)
            snprintf(why, why_size, "cannot be copied from its checkpoint of epoch %d (torn by a kill)",
                     epoch);
        else
            status = REBUILT;
    }
    free(stored_id);
    H5Fclose(file);
    return status;
}

/* Runs work(context, out, out_size) in a child process, for code that reads
 * a file a kill may have torn. A torn file can hold a structure HDF5 cannot
 * load (an object header continued past the end of the file), and HDF5 1.10
 * does not recover from failing to load it: it keeps objects it cannot free,
 * and at exit prints "infinite loop closing library" (and under
 * LeakSanitizer fails); a torn global heap has made it loop for ever, a
 * garbage size allocate 24 GB. Whatever the file does to HDF5 (or a crash, or
 * a hang: limit_reader) stays in the child. The child's `out` (plain bytes)
 * comes back through a pipe. Returns work's exit status, or -1 with *signal
 * set when the child was killed; -2 with errno when it could not start. */
typedef int (*isolated_work)(void *context, void *out, size_t out_size);

static int run_isolated(const char *path, isolated_work work, void *context, void *out,
                        size_t out_size, int *killed_by)
{
    *killed_by = 0;
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0)
        return -2;
    pid_t child = fork();
    if (child < 0) {
        int saved = errno;
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        errno = saved;
        return -2;
    }
    if (child == 0) {
        close(pipe_fds[0]);
        limit_reader(path);
        int status = work(context, out, out_size);
        for (size_t done = 0; done < out_size;) {
            ssize_t w = write(pipe_fds[1], (const char *)out + done, out_size - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            done += (size_t)w;
        }
        /* _exit: neither HDF5's nor LeakSanitizer's exit handlers run here. */
        _exit(status);
    }
    close(pipe_fds[1]);
    size_t have = 0;
    while (have < out_size) {
        ssize_t r = read(pipe_fds[0], (char *)out + have, out_size - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        have += (size_t)r;
    }
    close(pipe_fds[0]);
    int wstatus = 0;
    while (waitpid(child, &wstatus, 0) < 0 && errno == EINTR)
        ;
    if (have < out_size)
        memset((char *)out + have, 0, out_size - have);
    if (WIFSIGNALED(wstatus)) {
        *killed_by = WTERMSIG(wstatus);
        return -1;
    }
    return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
}

typedef struct rebuild_job {
    const store *s;
    const char *fresh_path, *run_id;
    double *const *weights, *const *biases;
    size_t n_layers;
    void *rng_state;
    size_t rng_state_size;
} rebuild_job;

/* The child's side of a rebuild: out is the reason it did not rebuild, or
 * the error message when REFUSED. */
static int rebuild_work(void *context, void *out, size_t out_size)
{
    const rebuild_job *job = context;
    mlp_error local = {0};
    char *text = out;
    text[0] = '\0';
    int status = rebuild_from_killed(job->s, job->fresh_path, job->run_id, job->weights,
                                     job->biases, job->n_layers, job->rng_state,
                                     job->rng_state_size, text, out_size, &local);
    if (status == REFUSED)
        snprintf(text, out_size, "%s", local.message);
    return status;
}

/* Rebuilds the killed PATH.partial into PATH.partial.new in a child
 * (run_isolated); this process then opens only the clean copy. *outcome is
 * one of the statuses above; *why says why not REBUILT. */
static int rebuild_isolated(const store *s, const char *fresh_path, const char *run_id,
                            double *const *weights, double *const *biases, size_t n_layers,
                            void *rng_state, size_t rng_state_size, int *outcome, char *why,
                            size_t why_size, mlp_error *err)
{
    rebuild_job job = {s, fresh_path, run_id, weights, biases, n_layers, rng_state, rng_state_size};
    char message[MLP_ERROR_MESSAGE_MAX];
    int killed_by = 0;
    *outcome = run_isolated(s->partial_path, rebuild_work, &job, message, sizeof message, &killed_by);
    message[sizeof message - 1] = '\0';
    if (*outcome == -2)
        return mlp_error_set(err, MLP_ERR_RUN, "cannot start a process to read %s: %s",
                             s->partial_path, strerror(errno));
    if (*outcome == REFUSED)
        return mlp_error_set(err, MLP_ERR_RUN, "%s", message);
    /* Stopped by a signal meant for the run: the file may be fine, keep it. */
    if (killed_by != 0 && is_stop_signal(killed_by))
        return mlp_error_set(err, MLP_ERR_INTERRUPTED,
                             "interrupted (signal %d) while reading %s to resume it; run the same "
                             "command again", killed_by, s->partial_path);
    if (*outcome == REBUILT || *outcome == NOT_RESUMABLE)
        snprintf(why, why_size, "%.400s", message);
    else if (killed_by != 0)
        snprintf(why, why_size, "could not be read (the reader died of signal %d)", killed_by);
    else
        snprintf(why, why_size, "could not be read (the reader exited %d)", *outcome);
    return MLP_OK;
}

/* After the rebuilt file replaced PATH.partial: open it, drop what belongs
 * to the epoch that was in progress, fill history. The caller's arrays are
 * not touched. A failure means a file HDF5 cannot change: start afresh. */
static int cut_to_checkpoint(store *s, metrics_history *history, int *epoch, mlp_error *err)
{
    s->file = H5Fopen(s->partial_path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (s->file < 0)
        return h5_fail(err, "cannot open %s to resume it", s->partial_path);
    hid_t checkpoint = H5Gopen2(s->file, "checkpoint", H5P_DEFAULT);
    int e[2] = {-1, -1};
    if (checkpoint >= 0) {
        e[0] = slot_epoch(checkpoint, "slot0");
        e[1] = slot_epoch(checkpoint, "slot1");
    }
    release(checkpoint);
    *epoch = e[0] > e[1] ? e[0] : e[1];
    if (*epoch < 0)
        return mlp_error_set(err, MLP_ERR_RUN, "%s lost its checkpoint", s->partial_path);
    hid_t metrics = H5Dopen2(s->file, "metrics", H5P_DEFAULT);
    int rc = metrics < 0 ? h5_fail(err, "cannot open /metrics in %s", s->partial_path)
                         : read_metrics(s->file, s->partial_path, (hsize_t)*epoch + 1, history, err);
    if (rc == MLP_OK && set_rows(metrics, (hsize_t)*epoch + 1) < 0)
        rc = h5_fail(err, "cannot cut /metrics in %s", s->partial_path);
    release(metrics);
    if (rc == MLP_OK)
        rc = read_custom(s->file, s->partial_path, history, 1, err);
    if (rc == MLP_OK)
        rc = read_diagnostics(s->file, s->partial_path, NULL, 1, *epoch, err);
    if (rc == MLP_OK)
        rc = drop_later_weights(s->file, s->partial_path, *epoch, err);
    if (rc == MLP_OK)
        rc = flush(s, err);
    return rc;
}

static int resume_impl(const char *path, const char *run_id, store **out, metrics_history *history,
                       int *resumed_epoch, double *const *weights, double *const *biases,
                       size_t n_layers, void *rng_state, size_t rng_state_size, char *note,
                       size_t note_size, mlp_error *err)
{
    if (out == NULL || path == NULL || run_id == NULL || history == NULL || resumed_epoch == NULL
        || weights == NULL || biases == NULL || (rng_state == NULL && rng_state_size > 0))
        return mlp_error_set(err, MLP_ERR_RUN, "internal: store_resume called without its arguments");
    *out = NULL;
    *resumed_epoch = -1;
    if (note != NULL && note_size > 0)
        note[0] = '\0';
    if (history->count != 0)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: store_resume needs an empty history");
    store *s = store_alloc(path);
    char *fresh_path = s == NULL ? NULL : with_suffix(s->partial_path, ".new");
    if (fresh_path == NULL) {
        store_free(s);
        return mlp_error_nomem(err, "the run file");
    }
    /* Missing: nothing to resume. Unreadable, another run's, killed before
     * its first checkpoint, or torn by a kill in the middle of a write: the
     * note says so and store_create starts afresh (and refuses if another
     * process holds the file). Starting afresh gives the same bytes. */
    int rc = MLP_OK, outcome = NOT_RESUMABLE;
    char why[512] = "";
    /* One process at a time: none while another writes the file (HDF5's
     * exclusive lock) or resumes it (this one, held until the clean copy
     * has replaced it and is open). */
    int lock_fd = open(s->partial_path, O_RDONLY | O_CLOEXEC);
    /* Held elsewhere: refuse. A filesystem without flock (ENOLCK, ENOSYS, ...;
     * HDF5_USE_FILE_LOCKING=FALSE there) gives no lock and no refusal. */
    if (lock_fd >= 0 && flock(lock_fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        rc = mlp_error_set(err, MLP_ERR_RUN,
                           "%s is locked by another process: is the same run already running?",
                           s->partial_path);
        outcome = -2;
    } else if (lock_fd >= 0) {
        rc = rebuild_isolated(s, fresh_path, run_id, weights, biases, n_layers, rng_state,
                              rng_state_size, &outcome, why, sizeof why, err);
    } else {
        outcome = -2;   /* no .partial: nothing to resume */
    }
    if (rc == MLP_OK && outcome == REBUILT && rename(fresh_path, s->partial_path) != 0) {
        snprintf(why, sizeof why, "cannot be replaced by its copy: %s", strerror(errno));
        outcome = NOT_RESUMABLE;
    }
    int epoch = -1;
    mlp_error local = {0};
    if (rc == MLP_OK && outcome == REBUILT && cut_to_checkpoint(s, history, &epoch, &local) != MLP_OK) {
        snprintf(why, sizeof why, "cannot be cut back to its checkpoint: %.400s", local.message);
        outcome = NOT_RESUMABLE;
    }
    if (rc == MLP_OK && outcome == REBUILT) {
        /* Only now the caller's arrays: from the clean copy the child checked. */
        hid_t metrics = H5Dopen2(s->file, "metrics", H5P_DEFAULT);
        hssize_t rows = metrics < 0 ? -1 : dataset_rows(metrics);
        release(metrics);
        int read_epoch = -1;
        const char *slot = NULL;
        rc = rows < 0 ? h5_fail(err, "cannot read /metrics from %s", s->partial_path)
                      : read_newest_slot(s->file, s->partial_path, (hsize_t)rows, weights, biases,
                                         n_layers, rng_state, rng_state_size, &read_epoch, &slot, err);
        if (rc == MLP_OK && read_epoch != epoch)
            rc = mlp_error_set(err, MLP_ERR_RUN,
                               "%s: the checkpoint of epoch %d did not read back from its copy; "
                               "delete the file to start the run again", s->partial_path, epoch);
    }
    if (outcome != REBUILT && outcome != -2)
        remove(fresh_path);
    free(fresh_path);
    if (lock_fd >= 0)
        close(lock_fd);
    if (rc != MLP_OK || outcome != REBUILT) {
        metrics_history_free(history);
        store_free(s);
        if (rc == MLP_OK && outcome != -2 && note != NULL && note_size > 0)
            snprintf(note, note_size, "%s.partial %s: starting the run afresh", path, why);
        return rc;
    }
    s->rows = (hsize_t)epoch + 1;
    *resumed_epoch = epoch;
    *out = s;
    return MLP_OK;
}

/* ---- read --------------------------------------------------------------- */

static int read_text_field(hid_t file, const char *path, const char *name, char *out, size_t size,
                           mlp_error *err)
{
    char *text = NULL;
    if (read_string_attr(file, name, &text) != 0)
        return mlp_error_set(err, MLP_ERR_DATA,
                             "%s is not an mlplab run file: it has no string attribute \"%s\"", path, name);
    snprintf(out, size, "%s", text);   /* truncates overlong labels for display */
    free(text);
    return MLP_OK;
}

static int read_impl(const char *path, run_file *out, mlp_error *err)
{
    if (path == NULL || out == NULL)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: store_read without path");
    memset(out, 0, sizeof *out);
    metrics_history_init(&out->history);
    if (access(path, R_OK) != 0)
        return mlp_error_set(err, MLP_ERR_DATA, "cannot read run file %s: %s", path, strerror(errno));
    if (H5Fis_hdf5(path) <= 0)
        return mlp_error_set(err, MLP_ERR_DATA, "%s is not an HDF5 file (not a run file)", path);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        return as_data_error(h5_fail(err, "cannot open run file %s", path), err);
    int rc = read_text_field(file, path, "run_id", out->run_id, sizeof out->run_id, err);
    if (rc == MLP_OK)
        rc = read_text_field(file, path, "experiment", out->experiment, sizeof out->experiment, err);
    if (rc == MLP_OK)
        rc = read_text_field(file, path, "label", out->label, sizeof out->label, err);
    if (rc == MLP_OK)
        rc = read_text_field(file, path, "status", out->status, sizeof out->status, err);
    if (rc == MLP_OK && read_string_attr(file, "config", &out->config_yaml) != 0)
        rc = mlp_error_set(err, MLP_ERR_DATA, "%s is not an mlplab run file: it has no \"config\"", path);
    uint64_t seed = 0;
    if (rc == MLP_OK && read_scalar_attr(file, "seed", H5T_NATIVE_UINT64, &seed) != 0)
        rc = mlp_error_set(err, MLP_ERR_DATA, "%s is not an mlplab run file: it has no \"seed\"", path);
    out->seed = (unsigned long)seed;

    hid_t metrics = rc == MLP_OK ? H5Dopen2(file, "metrics", H5P_DEFAULT) : H5I_INVALID_HID;
    hssize_t rows = metrics < 0 ? -1 : dataset_rows(metrics);
    release(metrics);
    if (rc == MLP_OK && rows < 0)
        rc = mlp_error_set(err, MLP_ERR_DATA, "%s is not an mlplab run file: it has no /metrics table", path);
    if (rc == MLP_OK)
        rc = read_metrics(file, path, (hsize_t)rows, &out->history, err);
    if (rc == MLP_OK)
        rc = read_custom(file, path, &out->history, 0, err);
    if (rc == MLP_OK)
        rc = read_diagnostics(file, path, &out->history, 0, 0, err);
    if (rc == MLP_OK)
        rc = read_confusion(file, path, out, err);
    H5Fclose(file);
    if (rc != MLP_OK) {
        store_run_file_free(out);
        return as_data_error(rc, err);
    }
    return MLP_OK;
}

/* ---- peek --------------------------------------------------------------- */

static int peek_file(const char *path, run_file_state *out, mlp_error *err)
{
    memset(out, 0, sizeof *out);
    out->epoch = -1;
    /* The writer holds HDF5's lock: read past it (a flushed state is what we see). */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    hid_t file = fapl < 0 || H5Pset_file_locking(fapl, 0, 1) < 0
                     ? H5I_INVALID_HID
                     : H5Fopen(path, H5F_ACC_RDONLY, fapl);
    release(fapl);
    if (file < 0)
        return as_data_error(h5_fail(err, "cannot open run file %s", path), err);
    int rc = read_text_field(file, path, "status", out->status, sizeof out->status, err);
    char *reason = NULL;
    if (rc == MLP_OK && read_string_attr(file, "reason", &reason) == 0) {
        reason[strcspn(reason, "\n")] = '\0';
        snprintf(out->reason, sizeof out->reason, "%s", reason);
    }
    free(reason);
    int32_t epoch = -1;
    hid_t checkpoint = link_exists(file, "checkpoint") ? H5Gopen2(file, "checkpoint", H5P_DEFAULT)
                                                        : H5I_INVALID_HID;
    if (checkpoint >= 0 && read_scalar_attr(checkpoint, "epoch", H5T_NATIVE_INT32, &epoch) == 0)
        out->epoch = epoch;
    release(checkpoint);
    if (rc == MLP_OK && out->epoch < 0 && link_exists(file, "metrics")) {
        hid_t metrics = H5Dopen2(file, "metrics", H5P_DEFAULT);
        hssize_t rows = metrics < 0 ? -1 : dataset_rows(metrics);
        out->epoch = rows > 0 ? (int)rows - 1 : -1;
        release(metrics);
    }
    if (rc == MLP_OK && link_exists(file, "attempts")) {
        hid_t attempts = H5Dopen2(file, "attempts", H5P_DEFAULT);
        hssize_t rows = attempts < 0 ? -1 : dataset_rows(attempts);
        out->attempts = rows > 0 ? (int)rows : 0;
        release(attempts);
    }
    H5Fclose(file);
    return as_data_error(rc, err);
}

/* ---- public entry points: silence HDF5's printing around each ----------- */

int store_create(const char *path, const store_meta *meta, store **out, mlp_error *err)
{
    RETURN_QUIETLY(create_impl(path, meta, out, err));
}

int store_append_epoch(store *s, const metrics_history *history, size_t epoch, mlp_error *err)
{
    RETURN_QUIETLY(append_impl(s, history, epoch, err));
}

int store_write_weights(store *s, const char *group, const store_layer *layers, size_t n_layers,
                        mlp_error *err)
{
    RETURN_QUIETLY(weights_impl(s, group, layers, n_layers, err));
}

int store_write_checkpoint(store *s, int epoch, const store_layer *layers, size_t n_layers,
                           const void *rng_state, size_t rng_state_size, mlp_error *err)
{
    RETURN_QUIETLY(checkpoint_impl(s, epoch, layers, n_layers, rng_state, rng_state_size, err));
}

int store_append_diagnostics(store *s, int epoch, const layer_diagnostics *layers,
                             size_t n_layers, mlp_error *err)
{
    RETURN_QUIETLY(diagnostics_impl(s, epoch, layers, n_layers, err));
}

int store_write_confusion(store *s, const char *group, int epoch, const store_confusion *matrices,
                          mlp_error *err)
{
    RETURN_QUIETLY(confusion_impl(s, group, epoch, matrices, err));
}

int store_finish(store *s, const char *status, const char *reason, const char *finish_time,
                 mlp_error *err)
{
    RETURN_QUIETLY(finish_impl(s, status, reason, finish_time, err));
}

void store_close(store *s)
{
    hdf5_printing saved = hdf5_silence();
    store_free(s);
    hdf5_restore(saved);
}

int store_resume(const char *path, const char *run_id, store **out, metrics_history *history,
                 int *resumed_epoch, double *const *weights, double *const *biases,
                 size_t n_layers, void *rng_state, size_t rng_state_size, char *note,
                 size_t note_size, mlp_error *err)
{
    RETURN_QUIETLY(resume_impl(path, run_id, out, history, resumed_epoch, weights, biases,
                               n_layers, rng_state, rng_state_size, note, note_size, err));
}

int store_read(const char *path, run_file *out, mlp_error *err)
{
    RETURN_QUIETLY(read_impl(path, out, err));
}

void store_run_file_free(run_file *run)
{
    if (run == NULL)
        return;
    free(run->config_yaml);
    metrics_history_free(&run->history);
    for (int w = 0; w < 2; w++)
        for (int p = 0; p < 2; p++)
            free(run->confusion[w][p]);
    memset(run, 0, sizeof *run);
}

int store_begin_attempt(store *s, const store_attempt *attempt, int first_epoch, mlp_error *err)
{
    RETURN_QUIETLY(begin_attempt_impl(s, attempt, first_epoch, err));
}

int store_end_attempt(store *s, const char *outcome, const char *finish_time, mlp_error *err)
{
    RETURN_QUIETLY(end_attempt_impl(s, outcome, finish_time, err));
}

typedef struct peek_result {
    run_file_state state;
    int rc;
    mlp_error err;
} peek_result;

static int peek_work(void *context, void *out, size_t out_size)
{
    (void)out_size;
    peek_result *result = out;
    result->rc = peek_file(context, &result->state, &result->err);
    return 0;
}

/* A .partial may be torn by a kill or be in the middle of a write: read in a
 * child (run_isolated), as resume does. Complete and failed files were
 * closed by HDF5 and are read here. */
static int peek_impl(const char *path, run_file_state *out, mlp_error *err)
{
    if (path == NULL || out == NULL)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: store_peek without path");
    memset(out, 0, sizeof *out);
    out->epoch = -1;
    if (access(path, R_OK) != 0)
        return mlp_error_set(err, MLP_ERR_DATA, "cannot read run file %s: %s", path, strerror(errno));
    int writer_active = partial_is_locked(path);
    size_t n = strlen(path), suffix = strlen(".partial");
    if (n < suffix || strcmp(path + n - suffix, ".partial") != 0) {
        int rc = peek_file(path, out, err);
        out->writer_active = writer_active;
        return rc;
    }
    peek_result *result = calloc(1, sizeof *result);
    if (result == NULL)
        return mlp_error_nomem(err, "reading a run file");
    int killed_by = 0;
    int status = run_isolated(path, peek_work, (void *)path, result, sizeof *result, &killed_by);
    int rc = MLP_OK;
    if (status == -2)
        rc = mlp_error_set(err, MLP_ERR_DATA, "cannot start a process to read %s: %s", path,
                           strerror(errno));
    else if (status != 0)
        rc = mlp_error_set(err, MLP_ERR_DATA, "cannot read run file %s: the reader %s %d "
                           "(a file torn by a kill?)", path, killed_by ? "died of signal" : "exited",
                           killed_by ? killed_by : status);
    else if ((rc = result->rc) != MLP_OK && err != NULL)
        *err = result->err;
    if (status == 0)
        *out = result->state;
    out->writer_active = writer_active;
    free(result);
    return rc;
}

int store_peek(const char *path, run_file_state *out, mlp_error *err)
{
    RETURN_QUIETLY(peek_impl(path, out, err));
}
