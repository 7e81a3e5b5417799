/* config.c — see config.h: a merged tree checked, section by section, into an
 * mlp_config against the key table (config_keys.h). docs/config.md describes
 * the keys for users.
 *
 * Order of work: config_load reads the file and its `extends` chain and
 * applies the overrides (config_extends.c); config_from_tree fills in every
 * default, then reads and checks each section. The first problem found is
 * reported, located at the value (or key) that caused it. */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "activation.h"
#include "config_keys.h"
#include "cost.h"
#include "datasets.h"
#include "hooks.h"
#include "init.h"
#include "named.h"
#include "suggest.h"

enum {
    MAX_LAYER_SIZE = 1000000,   /* neurons per layer; keeps sizes products far from overflow */
};

static const char *const study_keys[] = {"cases", "sweep", "seeds", "reference", "report",
                                         "quick", "gradcheck", NULL};

/* Sections whose keys are suggested when a key is misplaced at the top. */
static const char *const suggested_sections[] = {"dataset", "network", "train"};

static const yt_mark no_mark = {NULL, 0, 0};

/* ---------------------------------------------------------------------------
 * Small helpers: did-you-mean, descriptions, marks
 * ------------------------------------------------------------------------- */

/* The error for a name not in one of the tables of named rows (count rows of
 * size bytes, named.h), or `also` (a name valid beside them, or NULL):
 * did-you-mean from the rows' names, and those names as the hint. */
static int unknown_name(const yt_node *node, const char *field, const char *kind,
                        const char *name, const void *rows, size_t count, size_t size,
                        const char *also, mlp_error *err)
{
    const char *names[32];
    size_t n = named_names(rows, count, size, names, 31);
    if (also != NULL)
        names[n++] = also;
    char near[128], list[256], hint[300];
    suggest_did_you_mean(name, names, n, near, sizeof near);
    suggest_join(names, n, 0, list, sizeof list);
    snprintf(hint, sizeof hint, "%ss: %s", kind, list);
    return yt_error_at(err, MLP_ERR_CONFIG, node != NULL ? node->mark : no_mark, hint,
                       "%s: unknown %s '%s'%s", field, kind, name, near);
}

/* A mark naming just the file of `node` (for "missing key" errors). */
static yt_mark file_mark(const yt_node *node)
{
    yt_mark m = {node != NULL ? node->mark.file : NULL, 0, 0};
    return m;
}


/* ---------------------------------------------------------------------------
 * Typed readers: each leaves *out untouched when the key is absent
 * ------------------------------------------------------------------------- */

static int check_keys(const yt_node *map, const char *path, mlp_error *err)
{
    config_key_list list;
    config_section_keys(path, &list);
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
                config_key_list section;
                config_section_keys(suggested_sections[s], &section);
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
    if (node == NULL || yt_is_null(node))
        return 0;
    if (node->kind != YT_MAPPING)
        return yt_error_kind(node, what, "a mapping",
                             "write the section as indented `key: value` lines, or {key: value}",
                             err);
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
    if (node == NULL || (allow_null && yt_is_null(node)))
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
    if (node->kind != YT_SEQUENCE)
        return yt_error_kind(node, what, "a list of numbers", "write a list such as [0.5, 1.0]",
                             err);
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
    if (node->kind != YT_SEQUENCE)
        return yt_error_kind(node, what, "a list of rows",
                             "write one list per row, e.g. [[0.5, 1.0], [0.0, 1.0]]", err);
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
    const config_key *row = config_key_find(key);
    assert(row != NULL && row->type != KEY_STRUCTURED);
    return read_row(section, row, c, err);
}

/* Every scalar row of section `name` ("train"), in row order. */
static int read_section_rows(const yt_node *section, const char *name, mlp_config *c,
                             mlp_error *err)
{
    size_t length = strlen(name);
    for (size_t i = 0; i < config_key_count; i++) {
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
    for (size_t i = 0; i < config_key_count; i++) {
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
    size_t count;
    const activation *rows = activation_table(&count);
    return unknown_name(node, what, "activation", name, rows, count, sizeof *rows, NULL, err);
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
            yt_describe(sizes, got, sizeof got);
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
    if (k == NULL) {
        size_t count;
        const cost *rows = cost_table(&count);
        return unknown_name(node, "cost", "cost", c->cost, rows, count, sizeof *rows, NULL, err);
    }
    const activation *out = activation_find(c->output);
    if (cost_pair_is_valid(k, out))
        return 0;
    /* point at what was written: an override from the command line first (the
     * likely change), then the cost if set, else the output activation */
    const yt_node *output = yt_get(root, "network.output");
    int output_from_cli = output != NULL && config_origin_is_override(output->mark.file);
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
    if (!is_inline && entry == NULL) {
        size_t count;
        const dataset_entry *rows = datasets_table(&count);
        return unknown_name(name, "dataset.name", "data set", c->dataset_name, rows, count,
                            sizeof *rows, "inline", err);
    }
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
                yt_describe(lists[i], got, sizeof got);
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
    size_t count;
    const initializer *rows = init_table(&count);
    return unknown_name(node, "init", "initializer", c->init, rows, count, sizeof *rows, NULL,
                        err);
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
    if (node->kind != YT_SCALAR || yt_to_long(node, "save_weights", &every, NULL) != 0)
        return yt_error_kind(node, "save_weights", "final or a number of epochs", hint, err);
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
        if (config_resolve_relative(node->mark.file, written, c->hooks_path, sizeof c->hooks_path) != 0)
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
            config_dir_of(node->mark.file, dir, sizeof dir);
            snprintf(hint, sizeof hint, "hooks paths are relative to the YAML file that names "
                     "them (here %s)", dir[0] ? dir : "the current directory");
            return yt_error_at(err, MLP_ERR_CONFIG, node->mark, hint, "hooks: cannot read %s: %s",
                               c->hooks_path, why);
        }
    }

    const yt_node *args = yt_map_get(root, "hook_args");
    if (args == NULL || yt_is_null(args))
        return 0;
    if (hooks_check_args(args, err) != MLP_OK)
        return err->status;
    if (c->hooks_path[0] == '\0' && args->count > 0)
        return yt_error_at(err, MLP_ERR_CONFIG, args->mark,
                           "name the script that reads them (e.g. hooks: ../lua/halve-on-plateau.lua), "
                           "or remove hook_args",
                           "hook_args are given, but no hooks script reads them");
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

