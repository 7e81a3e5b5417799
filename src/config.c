/* config.c — see config.h. The schema (every key, its type, default and
 * range) is the code below; docs/config.md describes it for users.
 *
 * Order of work: load the file and its `extends` chain (each base merged
 * under the file that extends it), apply command-line overrides, then check
 * the merged tree section by section into an mlp_config. The first problem
 * found is reported, located at the value (or key) that caused it. */
#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sha2.h>

#include "activation.h"
#include "cost.h"
#include "datasets.h"
#include "init.h"
#include "suggest.h"

enum {
    MAX_EXTENDS = 32,           /* longest extends chain before we call it runaway */
    MAX_LAYER_SIZE = 1000000,   /* neurons per layer; keeps sizes products far from overflow */
    MAX_EPOCHS = 1000000
};

/* ---------------------------------------------------------------------------
 * The schema: one row per key
 * ------------------------------------------------------------------------- */

/* How a key is read, defaulted and written back. The generic code below does
 * it for the scalar types from the row alone; KEY_STRUCTURED keys (sizes,
 * inline data, fixed weights, data set sizes, paths, mappings) have their own
 * readers and writers, but are rows too, so that the key lists, the hints and
 * docs/config.md's table all come from this one table. */
typedef enum key_type { KEY_TEXT, KEY_INT, KEY_SEED, KEY_REAL, KEY_BOOL, KEY_STRUCTURED } key_type;

/* What the canonical form does with a scalar key: part of the run (hashed
 * into the run id) or metadata (in configs/ID.yaml and the run file, not
 * hashed). */
typedef enum key_role { KEY_RUN, KEY_METADATA } key_role;

typedef struct config_key {
    const char *key;                /* dotted, e.g. "train.epochs" */
    key_type type;
    key_role role;
    size_t offset, size;            /* the field in mlp_config (scalar types) */
    long min, max;                  /* KEY_INT, KEY_SEED: bounds */
    double low;                     /* KEY_REAL: lower bound ... */
    int low_open;                   /* ... 1: excluded (learning_rate > 0) */
    int allow_null;                 /* KEY_TEXT: an empty value leaves the default */
    long default_long;              /* KEY_INT, KEY_SEED, KEY_BOOL */
    double default_real;            /* KEY_REAL */
    const char *default_text;       /* KEY_TEXT */
    int omit_default;               /* 1: the canonical form leaves the key out at its
                                       default (a key added after runs were planned:
                                       their run ids stay what they were) */
    /* docs/config.md's row: type, default, allowed values; NULL: not listed */
    const char *doc_type, *doc_default, *doc_allowed;
} config_key;

#define AT(field) .offset = offsetof(mlp_config, field), .size = sizeof(((mlp_config *)0)->field)

/* ORDER KEYS: the rows' order is the order of the keys in hints ("the keys
 * of train are: ...") and in docs/config.md; `extends` stays last (valid only
 * where files are read, it is never suggested). Adding a scalar key is adding
 * its row here, its field in config.h and its line in docs/config.md. */
static const config_key config_keys[] = {
    {.key = "experiment", .type = KEY_TEXT, .role = KEY_METADATA,
     AT(experiment), .allow_null = 1, .default_text = "",
     .doc_type = "string", .doc_default = "`\"\"`",
     .doc_allowed = "metadata, at most 63 characters"},
    {.key = "label", .type = KEY_TEXT, .role = KEY_METADATA,
     AT(label), .allow_null = 1, .default_text = "",
     .doc_type = "string", .doc_default = "`\"\"`",
     .doc_allowed = "metadata, at most 255 characters"},
    {.key = "description", .type = KEY_TEXT, .role = KEY_METADATA,
     AT(description), .allow_null = 1, .default_text = "",
     .doc_type = "string", .doc_default = "`\"\"`",
     .doc_allowed = "metadata, at most 4095 characters"},
    {.key = "name", .type = KEY_STRUCTURED, .doc_type = "string", .doc_default = "—",
     .doc_allowed = "metadata: copied into `experiment` when that is empty"},
    {.key = "seed", .type = KEY_SEED, .role = KEY_RUN,
     AT(seed), .min = 0, .max = LONG_MAX, .default_long = 1,
     .doc_type = "integer", .doc_default = "`1`", .doc_allowed = "≥ 0"},
    {.key = "dataset.name", .type = KEY_STRUCTURED, .doc_type = "string",
     .doc_default = "`mnist` (`inline` if `dataset.inline` is given)",
     .doc_allowed = "`mnist`, `fashion-mnist`, `inline`"},
    {.key = "dataset.dir", .type = KEY_STRUCTURED, .doc_type = "string", .doc_default = "`\"\"`",
     .doc_allowed = "directory of the IDX files; `\"\"` = `$MNIST_DIR` / defaults (see "
                    "[data.md](data.md))"},
    {.key = "dataset.train_size", .type = KEY_STRUCTURED,
     .doc_type = "integer", .doc_default = "50000",
     .doc_allowed = "0 … 50000 (the first N training images)"},
    {.key = "dataset.validation_size", .type = KEY_STRUCTURED,
     .doc_type = "integer", .doc_default = "10000",
     .doc_allowed = "0 … 10000 (the first N of the last 10,000 training images)"},
    {.key = "dataset.test_size", .type = KEY_STRUCTURED,
     .doc_type = "integer", .doc_default = "10000",
     .doc_allowed = "0 … 10000 (the first N test images)"},
    {.key = "dataset.inline.inputs", .type = KEY_STRUCTURED, .doc_type = "list of rows of numbers",
     .doc_default = "—", .doc_allowed = "required when `dataset.name` is `inline`"},
    {.key = "dataset.inline.targets", .type = KEY_STRUCTURED,
     .doc_type = "list of rows of numbers",
     .doc_default = "—", .doc_allowed = "as many rows as `inputs`"},
    {.key = "network.sizes", .type = KEY_STRUCTURED,
     .doc_type = "list of integers", .doc_default = "**required**",
     .doc_allowed = "2 to 16 layers, each 1 … 1,000,000"},
    {.key = "network.activation", .type = KEY_TEXT, .role = KEY_RUN,
     AT(activation), .default_text = "sigmoid",
     .doc_type = "string", .doc_default = "`sigmoid`",
     .doc_allowed = "hidden layers: `sigmoid`, `tanh`, `relu`, `linear`"},
    {.key = "network.output", .type = KEY_TEXT, .role = KEY_RUN,
     AT(output), .default_text = "sigmoid",
     .doc_type = "string", .doc_default = "`sigmoid`",
     .doc_allowed = "output layer: `sigmoid`, `tanh`, `relu`, `linear`, `softmax`"},
    {.key = "cost", .type = KEY_TEXT, .role = KEY_RUN,
     AT(cost), .default_text = "cross-entropy", .doc_type = "string",
     .doc_default = "`cross-entropy`",
     .doc_allowed = "`quadratic`, `cross-entropy`, `log-likelihood`"},
    {.key = "init", .type = KEY_STRUCTURED,
     .doc_type = "string or mapping", .doc_default = "`large`",
     .doc_allowed = "`large`, `scaled`, `xavier`, `he`, or `{fixed: {weights, biases}}`"},
    {.key = "init.fixed.weights", .type = KEY_STRUCTURED},
    {.key = "init.fixed.biases", .type = KEY_STRUCTURED},
    {.key = "train.epochs", .type = KEY_INT, .role = KEY_RUN,
     AT(epochs), .min = 1, .max = MAX_EPOCHS,
     .default_long = 30, .doc_type = "integer", .doc_default = "30",
     .doc_allowed = "1 … 1,000,000"},
    {.key = "train.batch_size", .type = KEY_INT, .role = KEY_RUN,
     AT(batch_size), .min = 1, .max = INT_MAX,
     .default_long = 10, .doc_type = "integer", .doc_default = "10", .doc_allowed = "≥ 1"},
    {.key = "train.learning_rate", .type = KEY_REAL, .role = KEY_RUN,
     AT(learning_rate), .low = 0.0, .low_open = 1,
     .default_real = 0.5, .doc_type = "number", .doc_default = "0.5",
     .doc_allowed = "> 0, finite"},
    {"train.l2", KEY_REAL, KEY_RUN, AT(l2), .low = 0.0, .default_real = 0.0,
     .doc_type = "number", .doc_default = "0",
     .doc_allowed = "≥ 0, finite (λ; weights decay by 1 − ηλ/n per step)"},
    {.key = "train.monitor_train", .type = KEY_BOOL, .role = KEY_RUN,
     AT(monitor_train), .default_long = 1,
     .doc_type = "boolean", .doc_default = "`true`",
     .doc_allowed = "measure cost and accuracy on the training set every epoch"},
    {.key = "train.monitor_output", .type = KEY_BOOL, .role = KEY_RUN,
     AT(monitor_output), .default_long = 0,
     .doc_type = "boolean", .doc_default = "`false`",
     .doc_allowed = "also record the mean activation of the output layer over the training "
                    "set every epoch, as the custom metric `train_output` (for one neuron and "
                    "one example: its output; see `experiments/saturation.yaml`)"},
    {.key = "train.diagnostics", .type = KEY_BOOL, .role = KEY_RUN,
     AT(diagnostics), .default_long = 0, .omit_default = 1,
     .doc_type = "boolean", .doc_default = "`false`",
     .doc_allowed = "measure every layer on each epoch's training mini-batches as they train "
                    "— fraction of saturated units, mean \\|δ\\|, weight-gradient norm, mean "
                    "activation — into the run file's `/diagnostics` (docs/run-file.md); costs "
                    "a few per cent of the epoch (`make bench`). Only `true` enters the run id, "
                    "so runs planned before the key existed keep theirs"},
    {.key = "save_weights", .type = KEY_STRUCTURED, .doc_type = "`final`, integer or mapping",
     .doc_default = "`final`", .doc_allowed = "`final`; N ≥ 1 or `{every: N}`: also every N epochs"},
    {.key = "save_weights.every", .type = KEY_STRUCTURED},
    {.key = "hooks", .type = KEY_STRUCTURED, .doc_type = "path", .doc_default = "none",
     .doc_allowed = "a `.lua` file, relative to the YAML file that names it; must exist"},
    {.key = "hook_args", .type = KEY_STRUCTURED, .doc_type = "mapping", .doc_default = "none",
     .doc_allowed = "passed to the hook script as `args` (see hooks.md)"},
    {.key = "extends", .type = KEY_STRUCTURED, .doc_type = "path", .doc_default = "—",
     .doc_allowed = "a YAML file, relative to the file that contains the key"},
};
enum { KEY_COUNT = sizeof config_keys / sizeof config_keys[0] };

#undef AT

static const char *const study_keys[] = {"cases", "sweep", "seeds", "reference", "report",
                                         "quick", "gradcheck", NULL};

/* Sections whose keys are suggested when a key is misplaced at the top. */
static const char *const suggested_sections[] = {"dataset", "network", "train"};

/* The keys of one mapping of a run config, derived from the rows. */
typedef struct key_list {
    size_t count;
    const char *names[KEY_COUNT + 1];
    char text[KEY_COUNT][64];
} key_list;

/* The keys of the mapping at `section` ("" for the top level, "train",
 * "dataset.inline", ...), in row order. */
static void section_keys(const char *section, key_list *out)
{
    size_t length = strlen(section);
    out->count = 0;
    for (size_t i = 0; i < KEY_COUNT; i++) {
        const char *key = config_keys[i].key;
        if (length > 0 && (strncmp(key, section, length) != 0 || key[length] != '.'))
            continue;
        const char *leaf = length > 0 ? key + length + 1 : key;
        size_t leaf_length = strcspn(leaf, ".");
        int seen = 0;
        for (size_t k = 0; k < out->count && !seen; k++)
            seen = strlen(out->names[k]) == leaf_length &&
                   strncmp(out->names[k], leaf, leaf_length) == 0;
        if (seen)
            continue;
        snprintf(out->text[out->count], sizeof out->text[0], "%.*s", (int)leaf_length, leaf);
        out->names[out->count] = out->text[out->count];
        out->count++;
    }
    out->names[out->count] = NULL;
}

static const config_key *find_key(const char *key)
{
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (strcmp(config_keys[i].key, key) == 0)
            return &config_keys[i];
    return NULL;
}

static const yt_mark no_mark = {NULL, 0, 0};

/* ---------------------------------------------------------------------------
 * Small helpers: did-you-mean, descriptions, paths
 * ------------------------------------------------------------------------- */

/* The error for a name not in one of the tables: did-you-mean from the table's
 * own comma-separated list of names (activation_names() and the like), and
 * that list as the hint. */
static int unknown_name(const yt_node *node, const char *field, const char *kind,
                        const char *name, const char *names_list, mlp_error *err)
{
    char copy[256];
    const char *names[32];
    size_t n = 0;
    snprintf(copy, sizeof copy, "%s", names_list);
    for (char *save = NULL, *item = strtok_r(copy, ", ", &save); item != NULL && n < 32;
         item = strtok_r(NULL, ", ", &save))
        names[n++] = item;
    char near[128], hint[300];
    suggest_did_you_mean(name, names, n, near, sizeof near);
    snprintf(hint, sizeof hint, "%ss: %s", kind, names_list);
    return yt_error_at(err, MLP_ERR_CONFIG, node != NULL ? node->mark : no_mark, hint,
                       "%s: unknown %s '%s'%s", field, kind, name, near);
}

static int is_null(const yt_node *node)
{
    return node != NULL && node->kind == YT_SCALAR && !node->quoted &&
           (node->scalar[0] == '\0' || strcmp(node->scalar, "~") == 0 ||
            strcmp(node->scalar, "null") == 0 || strcmp(node->scalar, "Null") == 0 ||
            strcmp(node->scalar, "NULL") == 0);
}

static void describe(const yt_node *node, char *buf, size_t size)
{
    if (node->kind == YT_MAPPING)
        snprintf(buf, size, "a mapping");
    else if (node->kind == YT_SEQUENCE)
        snprintf(buf, size, "a list");
    else if (is_null(node))
        snprintf(buf, size, "an empty value");
    else
        snprintf(buf, size, "'%.40s'", node->scalar);
}

/* A mark naming just the file of `node` (for "missing key" errors). */
static yt_mark file_mark(const yt_node *node)
{
    yt_mark m = {node != NULL ? node->mark.file : NULL, 0, 0};
    return m;
}

/* dir_of("a/b/c.yaml") = "a/b/"; "" for a bare name. */
static void dir_of(const char *path, char *buf, size_t size)
{
    const char *slash = path != NULL ? strrchr(path, '/') : NULL;
    if (slash == NULL)
        buf[0] = '\0';
    else
        snprintf(buf, size, "%.*s", (int)(slash - path + 1), path);
}

/* rel resolved against the directory of `from` (a file path); absolute paths
 * and paths from the command line stay as written. Returns -1 if too long. */
static int resolve_relative(const char *from, const char *rel, char *buf, size_t size)
{
    char dir[1024] = "";
    int from_file = from != NULL && strncmp(from, "command line", 12) != 0;
    if (rel[0] != '/' && from_file)
        dir_of(from, dir, sizeof dir);
    int n = snprintf(buf, size, "%s%s", dir, rel);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* ---------------------------------------------------------------------------
 * Typed readers: each leaves *out untouched when the key is absent
 * ------------------------------------------------------------------------- */

static int check_keys(const yt_node *map, const char *path, mlp_error *err)
{
    key_list list;
    section_keys(path, &list);
    const char *const *keys = list.names;
    size_t n = list.count;
    for (size_t i = 0; i < map->count; i++) {
        const char *key = map->keys[i];
        int known = 0;
        for (size_t k = 0; k < n && !known; k++)
            known = strcmp(key, keys[k]) == 0;
        if (known)
            continue;
        char valid[512], near[128];
        /* `extends` is valid only where files are read, so never suggested */
        suggest_join(keys, path[0] == '\0' ? n - 1 : n, 0, valid, sizeof valid);
        suggest_did_you_mean(key, keys, path[0] == '\0' ? n - 1 : n, near, sizeof near);
        char hint[1024];
        snprintf(hint, sizeof hint, "the keys of %s are: %s (see docs/config.md)",
                 path[0] ? path : "a run config", valid);
        if (path[0] == '\0' && near[0] == '\0') {
            /* a section's key written at the top: point to its section */
            for (size_t s = 0; s < sizeof suggested_sections / sizeof suggested_sections[0] &&
                               !near[0]; s++) {
                key_list section;
                section_keys(suggested_sections[s], &section);
                const char *hit = suggest_closest(key, section.names, section.count);
                if (hit != NULL)
                    snprintf(near, sizeof near, "; did you mean '%s.%s'?",
                             suggested_sections[s], hit);
            }
            if (strchr(key, '.') != NULL)
                snprintf(hint, sizeof hint, "dotted keys are for command-line overrides and "
                         "study cases; in a file write nested mappings, e.g. train: "
                         "{learning_rate: 0.5}");
        }
        return yt_error_at(err, MLP_ERR_CONFIG, map->key_marks[i], hint,
                           "unknown key '%s%s%s'%s", path, path[0] ? "." : "", key, near);
    }
    return 0;
}

/* The section mapping `key` of map: *out NULL when absent or empty. */
static int get_section(const yt_node *map, const char *key, const char *what,
                       const yt_node **out, mlp_error *err)
{
    *out = NULL;
    const yt_node *node = yt_map_get(map, key);
    if (node == NULL || is_null(node))
        return 0;
    if (node->kind != YT_MAPPING) {
        char got[64];
        describe(node, got, sizeof got);
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark,
                           "write the section as indented `key: value` lines, or {key: value}",
                           "%s must be a mapping, not %s", what, got);
    }
    *out = node;
    return check_keys(node, what, err);
}

static int read_long(const yt_node *map, const char *key, const char *what, long min, long max,
                     long *out, mlp_error *err)
{
    const yt_node *node = yt_map_get(map, key);
    if (node == NULL)
        return 0;
    long v;
    if (yt_to_long(node, what, &v, err) != 0)
        return err != NULL ? err->status : MLP_ERR_CONFIG;
    if (v < min || v > max) {
        char hint[128];
        snprintf(hint, sizeof hint, "%s ranges from %ld to %ld", what, min, max);
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark, hint, "%s must be %s %ld, not %ld",
                           what, v < min ? "at least" : "at most", v < min ? min : max, v);
    }
    *out = v;
    return 0;
}

static int read_int(const yt_node *map, const char *key, const char *what, long min, long max,
                    int *out, mlp_error *err)
{
    long v = *out;
    int rc = read_long(map, key, what, min, max, &v, err);
    if (rc == 0)
        *out = (int)v;
    return rc;
}

/* min_open: the minimum itself is excluded (learning_rate > 0). */
static int read_double(const yt_node *map, const char *key, const char *what, double min,
                       int min_open, double *out, mlp_error *err)
{
    const yt_node *node = yt_map_get(map, key);
    if (node == NULL)
        return 0;
    double v;
    if (yt_to_double(node, what, &v, err) != 0)
        return err != NULL ? err->status : MLP_ERR_CONFIG;
    if (v < min || (min_open && v == min))
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark, NULL, "%s must be %s %g, not %s",
                           what, min_open ? "greater than" : "at least", min, node->scalar);
    *out = v;
    return 0;
}

static int read_bool(const yt_node *map, const char *key, const char *what, int *out,
                     mlp_error *err)
{
    const yt_node *node = yt_map_get(map, key);
    if (node == NULL)
        return 0;
    return yt_to_bool(node, what, out, err);
}

/* A string into a fixed buffer. allow_empty: null/absent leave buf alone. */
static int read_text(const yt_node *node, const char *what, char *buf, size_t size,
                     int allow_null, mlp_error *err)
{
    if (node == NULL || (allow_null && is_null(node)))
        return 0;
    const char *s;
    if (yt_to_string(node, what, &s, err) != 0)
        return err != NULL ? err->status : MLP_ERR_CONFIG;
    if (strlen(s) >= size)
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark, NULL,
                           "%s is too long (at most %zu characters)", what, size - 1);
    snprintf(buf, size, "%s", s);
    return 0;
}

/* A list of numbers of exactly `expected` entries (0: any, but not empty). */
static int read_vector(const yt_node *node, const char *what, size_t expected, const char *why,
                       double **out, size_t *count, mlp_error *err)
{
    if (node->kind != YT_SEQUENCE) {
        char got[64];
        describe(node, got, sizeof got);
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark, "write a list such as [0.5, 1.0]",
                           "%s must be a list of numbers, not %s", what, got);
    }
    if (node->count == 0 || (expected != 0 && node->count != expected)) {
        if (expected == 0)
            return yt_error_at(err, MLP_ERR_CONFIG, node->mark, NULL, "%s is empty", what);
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark, NULL,
                           "%s has %zu values, but %s", what, node->count, why);
    }
    double *v = malloc(node->count * sizeof *v);
    if (v == NULL)
        return mlp_error_nomem(err, what);
    for (size_t i = 0; i < node->count; i++) {
        char item[160];
        snprintf(item, sizeof item, "%s[%zu]", what, i);
        if (yt_to_double(node->items[i], item, &v[i], err) != 0) {
            free(v);
            return err != NULL ? err->status : MLP_ERR_CONFIG;
        }
    }
    *out = v;
    *count = node->count;
    return 0;
}

/* A list of rows of numbers, row-major into *out. expected_rows / cols = 0:
 * any count (cols then must match the first row). */
static int read_matrix(const yt_node *node, const char *what, size_t expected_rows,
                       const char *rows_why, size_t expected_cols, const char *cols_why,
                       double **out, size_t *rows, size_t *cols, mlp_error *err)
{
    if (node->kind != YT_SEQUENCE) {
        char got[64];
        describe(node, got, sizeof got);
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark,
                           "write one list per row, e.g. [[0.5, 1.0], [0.0, 1.0]]",
                           "%s must be a list of rows, not %s", what, got);
    }
    if (node->count == 0)
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark, NULL, "%s has no rows", what);
    if (expected_rows != 0 && node->count != expected_rows)
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark, NULL, "%s has %zu rows, but %s",
                           what, node->count, rows_why);
    size_t width = expected_cols;
    char first_why[160];
    if (width == 0) {
        if (node->items[0]->kind == YT_SEQUENCE)
            width = node->items[0]->count;
        snprintf(first_why, sizeof first_why, "the first row has %zu", width);
        cols_why = first_why;
    }
    double *m = calloc(node->count * (width ? width : 1), sizeof *m);
    if (m == NULL)
        return mlp_error_nomem(err, what);
    for (size_t r = 0; r < node->count; r++) {
        char row_what[160];
        snprintf(row_what, sizeof row_what, "%s[%zu]", what, r);
        double *row = NULL;
        size_t n = 0;
        if (read_vector(node->items[r], row_what, width, cols_why, &row, &n, err) != 0) {
            free(m);
            return err != NULL ? err->status : MLP_ERR_CONFIG;
        }
        memcpy(m + r * width, row, width * sizeof *row);
        free(row);
    }
    *out = m;
    *rows = node->count;
    *cols = width;
    return 0;
}

/* A scalar row's value from its section mapping (absent: the default stays). */
static int read_row(const yt_node *section, const config_key *row, mlp_config *c,
                    mlp_error *err)
{
    const char *leaf = strrchr(row->key, '.');
    leaf = leaf != NULL ? leaf + 1 : row->key;
    char *field = (char *)c + row->offset;
    switch (row->type) {
    case KEY_TEXT:
        return read_text(yt_map_get(section, leaf), row->key, field, row->size, row->allow_null,
                         err);
    case KEY_INT:
        return read_int(section, leaf, row->key, row->min, row->max, (int *)field, err);
    case KEY_SEED: {
        long v = (long)*(unsigned long *)field;
        int rc = read_long(section, leaf, row->key, row->min, row->max, &v, err);
        if (rc == 0)
            *(unsigned long *)field = (unsigned long)v;
        return rc;
    }
    case KEY_REAL:
        return read_double(section, leaf, row->key, row->low, row->low_open, (double *)field,
                           err);
    case KEY_BOOL:
        return read_bool(section, leaf, row->key, (int *)field, err);
    case KEY_STRUCTURED:
        break;
    }
    return 0;
}

/* The row named key (a scalar one), read from section. */
static int read_key(const yt_node *section, const char *key, mlp_config *c, mlp_error *err)
{
    const config_key *row = find_key(key);
    assert(row != NULL && row->type != KEY_STRUCTURED);
    return read_row(section, row, c, err);
}

/* Every scalar row of section `name` ("train"), in row order. */
static int read_section_rows(const yt_node *section, const char *name, mlp_config *c,
                             mlp_error *err)
{
    size_t length = strlen(name);
    for (size_t i = 0; i < KEY_COUNT; i++) {
        const config_key *row = &config_keys[i];
        if (row->type == KEY_STRUCTURED || strncmp(row->key, name, length) != 0 ||
            row->key[length] != '.' || strchr(row->key + length + 1, '.') != NULL)
            continue;
        if (read_row(section, row, c, err) != 0)
            return err != NULL ? err->status : MLP_ERR_CONFIG;
    }
    return 0;
}

/* Every scalar row's default; the field's size must fit the row's type. */
static void set_defaults(mlp_config *c)
{
    for (size_t i = 0; i < KEY_COUNT; i++) {
        const config_key *row = &config_keys[i];
        char *field = (char *)c + row->offset;
        switch (row->type) {
        case KEY_TEXT:
            snprintf(field, row->size, "%s", row->default_text);
            break;
        case KEY_INT:
        case KEY_BOOL:
            assert(row->size == sizeof(int));
            *(int *)field = (int)row->default_long;
            break;
        case KEY_SEED:
            assert(row->size == sizeof(unsigned long));
            *(unsigned long *)field = (unsigned long)row->default_long;
            break;
        case KEY_REAL:
            assert(row->size == sizeof(double));
            *(double *)field = row->default_real;
            break;
        case KEY_STRUCTURED:
            break;
        }
    }
}

/* ---------------------------------------------------------------------------
 * Sections
 * ------------------------------------------------------------------------- */

static int check_top(const yt_node *root, mlp_error *err)
{
    for (size_t i = 0; i < root->count; i++) {
        for (size_t s = 0; study_keys[s] != NULL; s++) {
            if (strcmp(root->keys[i], study_keys[s]) != 0)
                continue;
            const char *file = root->key_marks[i].file ? root->key_marks[i].file : "FILE";
            return yt_error_at(err, MLP_ERR_CONFIG, root->key_marks[i],
                               "`mlplab run` takes the config of one run; a study (cases, "
                               "sweep, seeds, reference, report) expands into many runs",
                               "%s: this is a study file; run `mlplab plan %s`",
                               root->keys[i], file);
        }
        if (strcmp(root->keys[i], "extends") == 0)
            return yt_error_at(err, MLP_ERR_CONFIG, root->key_marks[i],
                               "write extends: in a file; it is read when the file is loaded",
                               "extends cannot be set here (only files extend other files)");
    }
    return check_keys(root, "", err);
}

static int read_metadata(const yt_node *root, mlp_config *c, mlp_error *err)
{
    if (read_key(root, "experiment", c, err) != 0 || read_key(root, "label", c, err) != 0 ||
        read_key(root, "description", c, err) != 0)
        return err != NULL ? err->status : MLP_ERR_CONFIG;
    /* a study's `name` names the experiment when nothing else does */
    char name[CONFIG_NAME_MAX] = "";
    if (read_text(yt_map_get(root, "name"), "name", name, sizeof name, 1, err) != 0)
        return err != NULL ? err->status : MLP_ERR_CONFIG;
    if (c->experiment[0] == '\0')
        memcpy(c->experiment, name, sizeof name);

    return read_key(root, "seed", c, err);
}

/* Looks up a name in a table of activations; error with did-you-mean. */
static int find_activation(const yt_node *node, const char *what, const char *name,
                           const activation **out, mlp_error *err)
{
    *out = activation_find(name);
    if (*out != NULL)
        return 0;
    return unknown_name(node, what, "activation", name, activation_names(), err);
}

static int read_network(const yt_node *root, mlp_config *c, const yt_node **sizes_node,
                        mlp_error *err)
{
    const yt_node *net;
    if (get_section(root, "network", "network", &net, err) != 0)
        return err->status;
    const yt_node *sizes = yt_map_get(net, "sizes");
    *sizes_node = sizes;
    if (sizes == NULL)
        return yt_error_at(err, MLP_ERR_CONFIG, net != NULL ? net->mark : file_mark(root),
                           "e.g. network: {sizes: [784, 30, 10]} (input, hidden..., output)",
                           "network.sizes is missing");
    if (sizes->kind != YT_SEQUENCE || sizes->count < 2 || sizes->count > CONFIG_MAX_LAYERS) {
        char got[64];
        if (sizes->kind == YT_SEQUENCE)
            snprintf(got, sizeof got, "%zu sizes", sizes->count);
        else
            describe(sizes, got, sizeof got);
        char hint[160];
        snprintf(hint, sizeof hint, "write the layer sizes from input to output, e.g. "
                 "[784, 30, 10]; between 2 and %d layers", CONFIG_MAX_LAYERS);
        return yt_error_at(err, MLP_ERR_CONFIG, sizes->mark, hint,
                           "network.sizes must be a list of 2 to %d layer sizes, not %s",
                           CONFIG_MAX_LAYERS, got);
    }
    c->n_layers = (int)sizes->count;
    for (size_t k = 0; k < sizes->count; k++) {
        char what[64];
        snprintf(what, sizeof what, "network.sizes[%zu]", k);
        long v;
        if (yt_to_long(sizes->items[k], what, &v, err) != 0)
            return err->status;
        if (v < 1 || v > MAX_LAYER_SIZE)
            return yt_error_at(err, MLP_ERR_CONFIG, sizes->items[k]->mark, NULL,
                               "%s must be between 1 and %d, not %ld", what, MAX_LAYER_SIZE, v);
        c->sizes[k] = (int)v;
    }

    const yt_node *hidden = yt_map_get(net, "activation"), *output = yt_map_get(net, "output");
    if (read_key(net, "network.activation", c, err) != 0 ||
        read_key(net, "network.output", c, err) != 0)
        return err->status;
    const activation *a, *o;
    if (find_activation(hidden, "network.activation", c->activation, &a, err) != 0 ||
        find_activation(output, "network.output", c->output, &o, err) != 0)
        return err->status;
    if (a->output_only)
        return yt_error_at(err, MLP_ERR_CONFIG, hidden->mark,
                           "use sigmoid, tanh, relu or linear for hidden layers, and "
                           "network.output: softmax for the output",
                           "network.activation: %s can only be the output activation (it "
                           "normalises a whole layer into probabilities)", a->name);
    return 0;
}

static int read_cost(const yt_node *root, mlp_config *c, mlp_error *err)
{
    const yt_node *node = yt_map_get(root, "cost");
    if (read_key(root, "cost", c, err) != 0)
        return err->status;
    const cost *k = cost_find(c->cost);
    if (k == NULL)
        return unknown_name(node, "cost", "cost", c->cost, cost_names(), err);
    const activation *out = activation_find(c->output);
    if (cost_pair_is_valid(k, out))
        return 0;
    /* point at what was written: an override from the command line first (the
     * likely change), then the cost if set, else the output activation */
    const yt_node *output = yt_get(root, "network.output");
    int output_from_cli = output != NULL && output->mark.file != NULL &&
                          strncmp(output->mark.file, "command line", 12) == 0;
    const yt_node *at = node != NULL && !output_from_cli ? node : output;
    return yt_error_at(err, MLP_ERR_CONFIG, at != NULL ? at->mark : file_mark(root),
                       k->pairing_hint, "cost: %s cannot train a %s output layer "
                       "(network.output: %s)", k->name, out->name, out->name);
}

static int read_inline(const yt_node *ds, const yt_node *sizes, mlp_config *c, mlp_error *err)
{
    const yt_node *node;
    if (get_section(ds, "inline", "dataset.inline", &node, err) != 0)
        return err->status;
    const char *size_keys[] = {"train_size", "validation_size", "test_size"};
    for (int i = 0; i < 3; i++) {
        int at = yt_map_index(ds, size_keys[i]);
        if (at >= 0)
            return yt_error_at(err, MLP_ERR_CONFIG, ds->key_marks[at],
                               "remove it; inline data has no validation or test part",
                               "dataset.%s is for mnist and fashion-mnist; inline data "
                               "trains on all its rows", size_keys[i]);
    }
    const yt_node *inputs = yt_map_get(node, "inputs"), *targets = yt_map_get(node, "targets");
    if (inputs == NULL || targets == NULL)
        return yt_error_at(err, MLP_ERR_CONFIG, node != NULL ? node->mark : ds->mark,
                           "e.g. dataset: {inline: {inputs: [[1.0]], targets: [[0.0]]}}",
                           "dataset.inline needs both inputs and targets (one row per example)");
    size_t in_rows, in_cols, out_rows, out_cols;
    if (read_matrix(inputs, "dataset.inline.inputs", 0, NULL, 0, NULL, &c->inline_inputs,
                    &in_rows, &in_cols, err) != 0)
        return err->status;
    char why[160];
    snprintf(why, sizeof why, "dataset.inline.inputs has %zu (one target row per example)",
             in_rows);
    if (read_matrix(targets, "dataset.inline.targets", in_rows, why, 0, NULL,
                    &c->inline_targets, &out_rows, &out_cols, err) != 0)
        return err->status;
    c->inline_count = in_rows;
    c->train_size = (long)in_rows;
    c->validation_size = c->test_size = 0;

    int last = c->n_layers - 1;
    if ((size_t)c->sizes[0] != in_cols)
        return yt_error_at(err, MLP_ERR_CONFIG, sizes->items[0]->mark,
                           "network.sizes[0] is the number of inputs per example",
                           "network.sizes[0] is %d, but the rows of dataset.inline.inputs "
                           "have %zu values", c->sizes[0], in_cols);
    if ((size_t)c->sizes[last] != out_cols)
        return yt_error_at(err, MLP_ERR_CONFIG, sizes->items[last]->mark,
                           "the last of network.sizes is the number of outputs per example",
                           "network.sizes[%d] is %d, but the rows of dataset.inline.targets "
                           "have %zu values", last, c->sizes[last], out_cols);
    return 0;
}

static int read_dataset(const yt_node *root, const yt_node *sizes, mlp_config *c,
                        mlp_error *err)
{
    const yt_node *ds;
    if (get_section(root, "dataset", "dataset", &ds, err) != 0)
        return err->status;
    const yt_node *name = yt_map_get(ds, "name");
    int inline_at = yt_map_index(ds, "inline");
    /* `dataset: {inline: ...}` alone means the inline data set */
    snprintf(c->dataset_name, sizeof c->dataset_name, "%s", inline_at >= 0 ? "inline" : "mnist");
    if (read_text(name, "dataset.name", c->dataset_name, sizeof c->dataset_name, 0, err) != 0 ||
        read_text(yt_map_get(ds, "dir"), "dataset.dir", c->dataset_dir, sizeof c->dataset_dir,
                  1, err) != 0)
        return err->status;

    int is_inline = strcmp(c->dataset_name, "inline") == 0;
    const dataset_entry *entry = datasets_find(c->dataset_name);
    if (!is_inline && entry == NULL)
        return unknown_name(name, "dataset.name", "data set", c->dataset_name, datasets_names(),
                            err);
    if (is_inline && inline_at < 0)
        return yt_error_at(err, MLP_ERR_CONFIG, name->mark,
                           "e.g. dataset: {inline: {inputs: [[1.0]], targets: [[0.0]]}}",
                           "dataset.name is inline, but dataset.inline is missing");
    if (!is_inline && inline_at >= 0)
        return yt_error_at(err, MLP_ERR_CONFIG, ds->key_marks[inline_at],
                           "remove dataset.inline, or set dataset.name: inline",
                           "dataset.inline is only read when dataset.name is inline "
                           "(here it is %s)", c->dataset_name);
    if (is_inline)
        return read_inline(ds, sizes, c, err);

    /* Nielsen's split (see data.h): train from the first part of the training
     * file, validation from its last validation_default images. */
    long train_max = (long)(entry->train_available - entry->validation_default);
    c->train_size = (long)entry->train_default;
    c->validation_size = (long)entry->validation_default;
    c->test_size = (long)entry->test_default;
    if (read_long(ds, "train_size", "dataset.train_size", 0, train_max, &c->train_size,
                  err) != 0 ||
        read_long(ds, "validation_size", "dataset.validation_size", 0,
                  (long)entry->validation_default, &c->validation_size, err) != 0 ||
        read_long(ds, "test_size", "dataset.test_size", 0, (long)entry->test_default,
                  &c->test_size, err) != 0)
        return err->status;

    int last = c->n_layers - 1;
    char hint[160];
    snprintf(hint, sizeof hint, "%s has %zu inputs and %zu classes: network.sizes: "
             "[%zu, ..., %zu]", entry->name, entry->input_size, entry->classes,
             entry->input_size, entry->classes);
    if ((size_t)c->sizes[0] != entry->input_size)
        return yt_error_at(err, MLP_ERR_CONFIG, sizes->items[0]->mark, hint,
                           "network.sizes[0] is %d, but %s examples have %zu inputs",
                           c->sizes[0], entry->name, entry->input_size);
    if ((size_t)c->sizes[last] != entry->classes)
        return yt_error_at(err, MLP_ERR_CONFIG, sizes->items[last]->mark, hint,
                           "network.sizes[%d] is %d, but %s has %zu classes", last,
                           c->sizes[last], entry->name, entry->classes);
    return 0;
}

static int read_fixed(const yt_node *init, mlp_config *c, mlp_error *err)
{
    const yt_node *fixed;
    if (check_keys(init, "init", err) != 0 ||
        get_section(init, "fixed", "init.fixed", &fixed, err) != 0)
        return err->status;
    static const char example[] = "e.g. init: {fixed: {weights: [[[0.6]]], biases: [[0.9]]}} "
                                  "for network.sizes: [1, 1]";
    if (fixed == NULL)
        return yt_error_at(err, MLP_ERR_CONFIG, init->mark, example,
                           "init as a mapping must be {fixed: {weights: ..., biases: ...}}");
    const yt_node *weights = yt_map_get(fixed, "weights"), *biases = yt_map_get(fixed, "biases");
    if (weights == NULL || biases == NULL)
        return yt_error_at(err, MLP_ERR_CONFIG, fixed->mark, example,
                           "init.fixed needs both weights and biases");
    size_t layers = (size_t)c->n_layers - 1;
    const yt_node *lists[2] = {weights, biases};
    const char *names[2] = {"init.fixed.weights", "init.fixed.biases"};
    for (int i = 0; i < 2; i++)
        if (lists[i]->kind != YT_SEQUENCE || lists[i]->count != layers) {
            char got[64];
            if (lists[i]->kind == YT_SEQUENCE)
                snprintf(got, sizeof got, "%zu", lists[i]->count);
            else
                describe(lists[i], got, sizeof got);
            return yt_error_at(err, MLP_ERR_CONFIG, lists[i]->mark, example,
                               "%s must be a list with one entry per layer after the input "
                               "(%zu for network.sizes), not %s", names[i], layers, got);
        }
    for (size_t k = 0; k < layers; k++) {
        char what[64], rows_why[96], cols_why[96];
        size_t rows, cols, n;
        snprintf(what, sizeof what, "init.fixed.weights[%zu]", k);
        snprintf(rows_why, sizeof rows_why, "network.sizes[%zu] = %d neurons need one row each",
                 k + 1, c->sizes[k + 1]);
        snprintf(cols_why, sizeof cols_why, "network.sizes[%zu] = %d inputs need one weight "
                 "each", k, c->sizes[k]);
        if (read_matrix(weights->items[k], what, (size_t)c->sizes[k + 1], rows_why,
                        (size_t)c->sizes[k], cols_why, &c->fixed_weights[k], &rows, &cols,
                        err) != 0)
            return err->status;
        snprintf(what, sizeof what, "init.fixed.biases[%zu]", k);
        snprintf(rows_why, sizeof rows_why, "network.sizes[%zu] = %d neurons need one bias "
                 "each", k + 1, c->sizes[k + 1]);
        if (read_vector(biases->items[k], what, (size_t)c->sizes[k + 1], rows_why,
                        &c->fixed_biases[k], &n, err) != 0)
            return err->status;
    }
    snprintf(c->init, sizeof c->init, "fixed");
    return 0;
}

static int read_init(const yt_node *root, mlp_config *c, mlp_error *err)
{
    const yt_node *node = yt_map_get(root, "init");
    if (node == NULL)
        return 0;
    if (node->kind == YT_MAPPING)
        return read_fixed(node, c, err);
    if (read_text(node, "init", c->init, sizeof c->init, 0, err) != 0)
        return err->status;
    const initializer *found = init_find(c->init);
    if (found != NULL && found->fill == NULL)
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark,
                           "write init: {fixed: {weights: [...], biases: [...]}}",
                           "init: fixed needs the values of every weight and bias");
    if (found != NULL)
        return 0;
    return unknown_name(node, "init", "initializer", c->init, init_names(), err);
}

static int read_train(const yt_node *root, mlp_config *c, mlp_error *err)
{
    const yt_node *t;
    if (get_section(root, "train", "train", &t, err) != 0)
        return err->status;
    return read_section_rows(t, "train", c, err);
}

static int read_save_weights(const yt_node *root, mlp_config *c, mlp_error *err)
{
    const yt_node *node = yt_map_get(root, "save_weights");
    if (node == NULL)
        return 0;
    static const char hint[] = "write save_weights: final, save_weights: N or "
                               "save_weights: {every: N} (N epochs, at least 1)";
    if (node->kind == YT_MAPPING) {
        if (check_keys(node, "save_weights", err) != 0)
            return err->status;
        if (yt_map_get(node, "every") == NULL)
            return yt_error_at(err, MLP_ERR_CONFIG, node->mark, hint,
                               "save_weights needs every: N");
        return read_int(node, "every", "save_weights.every", 1, INT_MAX,
                        &c->save_weights_every, err);
    }
    if (node->kind == YT_SCALAR && strcmp(node->scalar, "final") == 0) {
        c->save_weights_every = 0;
        return 0;
    }
    long every;
    if (node->kind != YT_SCALAR || yt_to_long(node, "save_weights", &every, NULL) != 0) {
        char got[64];
        describe(node, got, sizeof got);
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark, hint,
                           "save_weights must be final or a number of epochs, not %s", got);
    }
    if (every < 1 || every > INT_MAX)
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark, hint,
                           "save_weights must be at least 1 epoch, not %ld", every);
    c->save_weights_every = (int)every;
    return 0;
}

static int read_hooks(const yt_node *root, mlp_config *c, mlp_error *err)
{
    const yt_node *node = yt_map_get(root, "hooks");
    char written[1024] = "";
    if (read_text(node, "hooks", written, sizeof written, 1, err) != 0)
        return err->status;
    if (written[0] != '\0') {
        size_t len = strlen(written);
        if (len < 5 || strcmp(written + len - 4, ".lua") != 0)
            return yt_error_at(err, MLP_ERR_CONFIG, node->mark,
                               "hooks names a Lua script, e.g. ../lua/halve-on-plateau.lua",
                               "hooks must be a .lua file, not '%s'", written);
        if (resolve_relative(node->mark.file, written, c->hooks_path, sizeof c->hooks_path) != 0)
            return yt_error_at(err, MLP_ERR_CONFIG, node->mark, NULL, "hooks: path too long");
        struct stat st;
        const char *why = NULL;
        if (stat(c->hooks_path, &st) != 0)
            why = strerror(errno);
        else if (!S_ISREG(st.st_mode) || access(c->hooks_path, R_OK) != 0)
            why = "not a readable file";
        if (why != NULL) {
            char hint[1200];
            char dir[1024];
            dir_of(node->mark.file, dir, sizeof dir);
            snprintf(hint, sizeof hint, "hooks paths are relative to the YAML file that names "
                     "them (here %s)", dir[0] ? dir : "the current directory");
            return yt_error_at(err, MLP_ERR_CONFIG, node->mark, hint, "hooks: cannot read %s: %s",
                               c->hooks_path, why);
        }
    }

    const yt_node *args = yt_map_get(root, "hook_args");
    if (args == NULL || is_null(args))
        return 0;
    if (args->kind != YT_MAPPING) {
        char got[64];
        describe(args, got, sizeof got);
        return yt_error_at(err, MLP_ERR_CONFIG, args->mark,
                           "e.g. hook_args: {patience: 5, factor: 0.5}",
                           "hook_args must be a mapping of names to values, not %s", got);
    }
    c->hook_args = yt_copy(args);
    if (c->hook_args == NULL)
        return mlp_error_nomem(err, "hook_args");
    return 0;
}

static int validate(const yt_node *root, mlp_config *c, mlp_error *err)
{
    if (root == NULL || root->kind != YT_MAPPING)
        return mlp_error_set(err, MLP_ERR_CONFIG, "a run config must be a mapping of keys");
    const yt_node *sizes = NULL;
    if (check_top(root, err) != 0 || read_metadata(root, c, err) != 0 ||
        read_network(root, c, &sizes, err) != 0 || read_cost(root, c, err) != 0 ||
        read_dataset(root, sizes, c, err) != 0 || read_init(root, c, err) != 0 ||
        read_train(root, c, err) != 0 || read_save_weights(root, c, err) != 0 ||
        read_hooks(root, c, err) != 0)
        return err->status;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Loading: extends chains and overrides
 * ------------------------------------------------------------------------- */

typedef struct chain_link {
    char real[PATH_MAX];        /* canonical path, to recognise a cycle */
    char shown[1024];           /* as the user would recognise it */
} chain_link;

static int load_chain(const char *path, chain_link *chain, int depth, yt_node **out,
                      mlp_error *err)
{
    *out = NULL;
    yt_node *tree = yt_load_file(path, err);
    if (tree == NULL)
        return err != NULL ? err->status : MLP_ERR_CONFIG;
    int at = yt_map_index(tree, "extends");
    if (at < 0) {
        *out = tree;
        return 0;
    }
    const yt_node *ext = tree->items[at];
    const char *rel;
    char base_path[1024];
    int rc = 0;
    if (yt_to_string(ext, "extends", &rel, err) != 0) {
        rc = err->status;
    } else if (resolve_relative(path, rel, base_path, sizeof base_path) != 0) {
        rc = yt_error_at(err, MLP_ERR_CONFIG, ext->mark, NULL, "extends: path too long");
    } else if (access(base_path, R_OK) != 0) {
        char hint[1200], dir[1024];
        dir_of(path, dir, sizeof dir);
        snprintf(hint, sizeof hint, "extends paths are relative to the file that contains "
                 "them (here %s)", dir[0] ? dir : "the current directory");
        rc = yt_error_at(err, MLP_ERR_CONFIG, ext->mark, hint, "extends: cannot read %s: %s",
                         base_path, strerror(errno));
    } else if (depth + 1 >= MAX_EXTENDS) {
        rc = yt_error_at(err, MLP_ERR_CONFIG, ext->mark, NULL,
                         "extends: more than %d files in the chain", MAX_EXTENDS);
    }
    chain_link *link = &chain[depth + 1];
    if (rc == 0 && realpath(base_path, link->real) == NULL)
        rc = yt_error_at(err, MLP_ERR_CONFIG, ext->mark, NULL, "extends: cannot resolve %s: %s",
                         base_path, strerror(errno));
    for (int i = 0; rc == 0 && i <= depth; i++) {
        if (strcmp(chain[i].real, link->real) != 0)
            continue;
        char cycle[2048] = "";
        for (int j = i; j <= depth; j++) {
            size_t used = strlen(cycle);
            snprintf(cycle + used, sizeof cycle - used, "%s -> ", chain[j].shown);
        }
        size_t used = strlen(cycle);
        snprintf(cycle + used, sizeof cycle - used, "%s", base_path);
        rc = yt_error_at(err, MLP_ERR_CONFIG, ext->mark,
                         "a file cannot extend itself, directly or through other files",
                         "extends cycle: %s", cycle);
    }
    yt_node *base = NULL;
    if (rc == 0) {
        snprintf(link->shown, sizeof link->shown, "%s", base_path);
        rc = load_chain(base_path, chain, depth + 1, &base, err);
    }
    if (rc == 0) {
        yt_map_remove(tree, "extends");
        rc = yt_merge(base, tree, err);
    }
    if (rc != 0) {
        yt_free(base);
        yt_free(tree);
        return rc;
    }
    /* the merged root stands for the extending file (for "missing key" errors) */
    yt_mark m = base->mark;
    base->mark = tree->mark;
    tree->mark = m;
    yt_free(tree);
    *out = base;
    return 0;
}

int config_apply_override(yt_node *tree, const char *assignment, int position, mlp_error *err)
{
    char origin[64];
    snprintf(origin, sizeof origin, "command line: argument %d", position);
    yt_mark where = {origin, 0, 0};
    static const char hint[] = "write dotted.key=value, e.g. train.learning_rate=0.1 or "
                               "network.sizes=[784,100,10]";
    const char *eq = assignment != NULL ? strchr(assignment, '=') : NULL;
    if (eq == NULL)
        return yt_error_at(err, MLP_ERR_USAGE, where, hint,
                           "'%s' is not an override: it has no '='",
                           assignment != NULL ? assignment : "");
    const char *start = assignment, *end = eq;
    while (start < end && isspace((unsigned char)*start))
        start++;
    while (end > start && isspace((unsigned char)end[-1]))
        end--;
    if (start == end)
        return yt_error_at(err, MLP_ERR_USAGE, where, hint,
                           "'%s' has no key before '='", assignment);
    char key[256];
    if ((size_t)(end - start) >= sizeof key)
        return yt_error_at(err, MLP_ERR_USAGE, where, hint, "the key of '%s' is too long",
                           assignment);
    snprintf(key, sizeof key, "%.*s", (int)(end - start), start);

    yt_node *value = yt_parse_string(eq + 1, origin, err);
    if (value == NULL)
        return err != NULL ? err->status : MLP_ERR_USAGE;
    where.file = value->mark.file;      /* interned: outlives this function */
    /* a mapping overrides key by key, as a file extending another does */
    yt_node *existing = yt_get(tree, key);
    if (existing != NULL && existing->kind == YT_MAPPING && value->kind == YT_MAPPING) {
        int rc = yt_merge(existing, value, err);
        yt_free(value);
        return rc;
    }
    return yt_set(tree, key, value, where, err);
}

int config_load_tree(const char *path, yt_node **out, mlp_error *err)
{
    *out = NULL;
    chain_link *chain = calloc(MAX_EXTENDS, sizeof *chain);
    if (chain == NULL)
        return mlp_error_nomem(err, "the extends chain");
    int rc = 0;
    if (realpath(path, chain[0].real) == NULL)
        rc = mlp_error_set(err, MLP_ERR_CONFIG, "%s: cannot open: %s", path, strerror(errno));
    if (rc == 0) {
        snprintf(chain[0].shown, sizeof chain[0].shown, "%s", path);
        rc = load_chain(path, chain, 0, out, err);
    }
    free(chain);
    return rc;
}

int config_load(const char *path, char *const overrides[], int n_overrides, mlp_config **out,
                mlp_error *err)
{
    *out = NULL;
    mlp_error local = {0};
    if (err == NULL)
        err = &local;
    yt_node *tree = NULL;
    int rc = config_load_tree(path, &tree, err);
    for (int i = 0; rc == 0 && i < n_overrides; i++)
        rc = config_apply_override(tree, overrides[i], i + 1, err);
    if (rc != 0) {
        yt_free(tree);
        return rc;
    }
    return config_from_tree(tree, out, err);
}

int config_from_tree(yt_node *tree, mlp_config **out, mlp_error *err)
{
    *out = NULL;
    mlp_config *c = calloc(1, sizeof *c);
    if (c == NULL) {
        yt_free(tree);
        return mlp_error_nomem(err, "the config");
    }
    c->tree = tree;
    /* defaults: the scalar rows', then the structured keys' */
    set_defaults(c);
    snprintf(c->dataset_name, sizeof c->dataset_name, "mnist");
    snprintf(c->init, sizeof c->init, "large");
    c->save_weights_every = 0;

    mlp_error local = {0};
    if (err == NULL)
        err = &local;
    int rc = validate(tree, c, err);
    if (rc != 0) {
        config_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void config_free(mlp_config *config)
{
    if (config == NULL)
        return;
    free(config->inline_inputs);
    free(config->inline_targets);
    for (int k = 0; k < CONFIG_MAX_LAYERS; k++) {
        free(config->fixed_weights[k]);
        free(config->fixed_biases[k]);
    }
    yt_free(config->hook_args);
    yt_free(config->tree);
    free(config);
}

/* ---------------------------------------------------------------------------
 * Canonical form and run id
 * ------------------------------------------------------------------------- */

/* Shortest of %.15g/%.16g/%.17g that reads back exactly, as a real ("3.0"). */
static void format_double(double d, char *buf, size_t size)
{
    char tmp[32];
    for (int p = 15; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*g", p, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    if (strpbrk(tmp, ".en") != NULL)
        snprintf(buf, size, "%s", tmp);
    else
        snprintf(buf, size, "%s.0", tmp);
}

typedef struct builder {
    int failed;
} builder;

static yt_node *put(builder *b, yt_node *map, const char *key, yt_node *value)
{
    if (value == NULL || map == NULL || yt_map_set(map, key, value, no_mark, NULL) != 0) {
        b->failed = 1;
        return NULL;
    }
    return value;
}

static yt_node *str_node(builder *b, const char *s)
{
    yt_node *n = yt_new_scalar(s, no_mark);
    if (n == NULL)
        b->failed = 1;
    else
        n->quoted = 1;      /* a string, whatever it looks like */
    return n;
}

static yt_node *long_node(builder *b, long v)
{
    char text[32];
    snprintf(text, sizeof text, "%ld", v);
    yt_node *n = yt_new_scalar(text, no_mark);
    if (n == NULL)
        b->failed = 1;
    return n;
}

static yt_node *double_node(builder *b, double v)
{
    char text[40];
    format_double(v, text, sizeof text);
    yt_node *n = yt_new_scalar(text, no_mark);
    if (n == NULL)
        b->failed = 1;
    return n;
}

static yt_node *vector_node(builder *b, const double *v, size_t n)
{
    yt_node *seq = yt_new_sequence(no_mark);
    for (size_t i = 0; seq != NULL && i < n; i++)
        if (yt_append(seq, double_node(b, v[i]), NULL) != 0)
            b->failed = 1;
    if (seq == NULL)
        b->failed = 1;
    return seq;
}

static yt_node *matrix_node(builder *b, const double *m, size_t rows, size_t cols)
{
    yt_node *seq = yt_new_sequence(no_mark);
    for (size_t r = 0; seq != NULL && r < rows; r++)
        if (yt_append(seq, vector_node(b, m + r * cols, cols), NULL) != 0)
            b->failed = 1;
    if (seq == NULL)
        b->failed = 1;
    return seq;
}

/* The mapping `key` of map, created when absent. */
static yt_node *section_node(builder *b, yt_node *map, const char *key)
{
    yt_node *node = yt_map_get(map, key);
    return node != NULL ? node : put(b, map, key, yt_new_mapping(no_mark));
}

/* Every scalar row's value at its dotted place (metadata only with
 * include_metadata), in the form canonical_tree writes it. */
static void put_rows(builder *b, yt_node *root, const mlp_config *c, int include_metadata)
{
    for (size_t i = 0; i < KEY_COUNT; i++) {
        const config_key *row = &config_keys[i];
        if (row->type == KEY_STRUCTURED || (row->role == KEY_METADATA && !include_metadata))
            continue;
        const char *field = (const char *)c + row->offset;
        if (row->omit_default && row->type == KEY_BOOL && *(const int *)field == row->default_long)
            continue;
        yt_node *value = NULL;
        switch (row->type) {
        case KEY_TEXT:
            value = str_node(b, field);
            break;
        case KEY_INT:
            value = long_node(b, *(const int *)field);
            break;
        case KEY_SEED:
            value = long_node(b, (long)*(const unsigned long *)field);
            break;
        case KEY_REAL:
            value = double_node(b, *(const double *)field);
            break;
        case KEY_BOOL:
            value = yt_new_scalar(*(const int *)field ? "true" : "false", no_mark);
            break;
        case KEY_STRUCTURED:
            break;
        }
        const char *dot = strchr(row->key, '.');
        yt_node *parent = root;
        if (dot != NULL) {
            char section[64];
            snprintf(section, sizeof section, "%.*s", (int)(dot - row->key), row->key);
            parent = section_node(b, root, section);
        }
        put(b, parent, dot != NULL ? dot + 1 : row->key, value);
    }
}

static yt_node *canonical_tree(const mlp_config *c, int include_metadata, builder *b)
{
    yt_node *root = yt_new_mapping(no_mark);
    if (root == NULL) {
        b->failed = 1;
        return NULL;
    }
    put_rows(b, root, c, include_metadata);
    yt_node *ds = section_node(b, root, "dataset");
    put(b, ds, "name", str_node(b, c->dataset_name));
    int last = c->n_layers - 1;
    if (strcmp(c->dataset_name, "inline") == 0) {
        yt_node *in = put(b, ds, "inline", yt_new_mapping(no_mark));
        put(b, in, "inputs", matrix_node(b, c->inline_inputs, c->inline_count,
                                         (size_t)c->sizes[0]));
        put(b, in, "targets", matrix_node(b, c->inline_targets, c->inline_count,
                                          (size_t)c->sizes[last]));
    } else {
        /* Where the files are is not what the run is (their SHA-256 is checked
         * and recorded): the id leaves the directory out. */
        if (include_metadata)
            put(b, ds, "dir", str_node(b, c->dataset_dir));
        put(b, ds, "train_size", long_node(b, c->train_size));
        put(b, ds, "validation_size", long_node(b, c->validation_size));
        put(b, ds, "test_size", long_node(b, c->test_size));
    }

    yt_node *net = section_node(b, root, "network");
    yt_node *sizes = put(b, net, "sizes", yt_new_sequence(no_mark));
    for (int k = 0; sizes != NULL && k < c->n_layers; k++)
        if (yt_append(sizes, long_node(b, c->sizes[k]), NULL) != 0)
            b->failed = 1;

    if (strcmp(c->init, "fixed") == 0) {
        yt_node *init = put(b, root, "init", yt_new_mapping(no_mark));
        yt_node *fixed = put(b, init, "fixed", yt_new_mapping(no_mark));
        yt_node *w = put(b, fixed, "weights", yt_new_sequence(no_mark));
        yt_node *bias = put(b, fixed, "biases", yt_new_sequence(no_mark));
        for (int k = 0; w != NULL && bias != NULL && k < last; k++) {
            size_t rows = (size_t)c->sizes[k + 1], cols = (size_t)c->sizes[k];
            if (yt_append(w, matrix_node(b, c->fixed_weights[k], rows, cols), NULL) != 0 ||
                yt_append(bias, vector_node(b, c->fixed_biases[k], rows), NULL) != 0)
                b->failed = 1;
        }
    } else {
        put(b, root, "init", str_node(b, c->init));
    }

    if (c->save_weights_every > 0)
        put(b, root, "save_weights", long_node(b, c->save_weights_every));
    else
        put(b, root, "save_weights", str_node(b, "final"));

    /* The id hashes the hook script's bytes (config_run_id), not its path. */
    if (include_metadata)
        put(b, root, "hooks", str_node(b, c->hooks_path));
    put(b, root, "hook_args", c->hook_args != NULL ? yt_copy(c->hook_args)
                                                    : yt_new_mapping(no_mark));
    return root;
}

char *config_canonical_yaml(const mlp_config *config, int include_metadata, mlp_error *err)
{
    if (config == NULL) {
        mlp_error_set(err, MLP_ERR_RUN, "config_canonical_yaml: no config");
        return NULL;
    }
    builder b = {0};
    yt_node *tree = canonical_tree(config, include_metadata, &b);
    if (b.failed) {
        yt_free(tree);
        mlp_error_nomem(err, "the canonical config");
        return NULL;
    }
    char *text = yt_emit_canonical(tree, err);
    yt_free(tree);
    return text;
}

int config_run_id(const mlp_config *config, char id[65], mlp_error *err)
{
    char *text = config_canonical_yaml(config, 0, err);
    if (text == NULL)
        return err != NULL ? err->status : MLP_ERR_RUN;
    SHA2_CTX ctx;
    SHA256Init(&ctx);
    SHA256Update(&ctx, (const uint8_t *)text, strlen(text));
    free(text);
    if (config->hooks_path[0] != '\0') {
        /* the script's bytes are part of what the run is */
        char hook[SHA256_DIGEST_STRING_LENGTH];
        if (SHA256File(config->hooks_path, hook) == NULL)
            return mlp_error_set(err, MLP_ERR_RUN, "%s: cannot read the hook script: %s",
                                 config->hooks_path, strerror(errno));
        char line[128];
        snprintf(line, sizeof line, "\nhook_sha256: %s\n", hook);
        SHA256Update(&ctx, (const uint8_t *)line, strlen(line));
    }
    SHA256End(&ctx, id);
    return 0;
}

yt_mark config_mark(const mlp_config *config, const char *dotted)
{
    if (config == NULL || config->tree == NULL || dotted == NULL)
        return no_mark;
    /* walk mappings by key and lists by index ("network.sizes.0") */
    char path[256];
    snprintf(path, sizeof path, "%s", dotted);
    const yt_node *cur = config->tree;
    for (char *save = NULL, *seg = strtok_r(path, ".", &save); seg != NULL && cur != NULL;
         seg = strtok_r(NULL, ".", &save)) {
        if (cur->kind == YT_SEQUENCE) {
            char *end;
            unsigned long i = strtoul(seg, &end, 10);
            cur = *end == '\0' && i < cur->count ? cur->items[i] : NULL;
        } else {
            cur = yt_map_get(cur, seg);
        }
    }
    return cur != NULL ? cur->mark : no_mark;
}

char *config_keys_markdown(void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    if (out == NULL)
        return NULL;
    fputs("| key | type | default | allowed values |\n|-----|------|---------|----------------|\n",
          out);
    for (size_t i = 0; i < KEY_COUNT; i++) {
        const config_key *row = &config_keys[i];
        if (row->doc_type != NULL)
            fprintf(out, "| `%s` | %s | %s | %s |\n", row->key, row->doc_type, row->doc_default,
                    row->doc_allowed);
    }
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
