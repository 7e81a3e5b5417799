/* config_canonical.c — see config_canonical.h. The scalar keys are written
 * from their rows (config_keys.h); the structured ones by hand below. */
#include "config_canonical.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sha2.h>

#include "config_keys.h"
#include "numtext.h"
#include "yamltree.h"

static const yt_mark no_mark = {NULL, 0, 0};

/* The shortest text that reads back exactly, as a real ("3.0"). */
static void format_double(double d, char *buf, size_t size)
{
    char tmp[32];
    numtext_shortest(d, tmp, sizeof tmp);
    if (strpbrk(tmp, ".en") != NULL)
        snprintf(buf, size, "%s", tmp);
    else
        snprintf(buf, size, "%s.0", tmp);
}

/* Building a tree: any allocation that fails sets `failed`, checked once at the end. */
typedef struct builder {
    int failed;
} builder;

static yt_node *built(builder *b, yt_node *node)
{
    if (node == NULL)
        b->failed = 1;
    return node;
}

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
    yt_node *n = built(b, yt_new_scalar(s, no_mark));
    if (n != NULL)
        n->quoted = 1;      /* a string, whatever it looks like */
    return n;
}

static yt_node *long_node(builder *b, long v)
{
    char text[32];
    snprintf(text, sizeof text, "%ld", v);
    return built(b, yt_new_scalar(text, no_mark));
}

static yt_node *double_node(builder *b, double v)
{
    char text[40];
    format_double(v, text, sizeof text);
    return built(b, yt_new_scalar(text, no_mark));
}

static yt_node *vector_node(builder *b, const double *v, size_t n)
{
    yt_node *seq = built(b, yt_new_sequence(no_mark));
    for (size_t i = 0; seq != NULL && i < n; i++)
        if (yt_append(seq, double_node(b, v[i]), NULL) != 0)
            b->failed = 1;
    return seq;
}

static yt_node *matrix_node(builder *b, const double *m, size_t rows, size_t cols)
{
    yt_node *seq = built(b, yt_new_sequence(no_mark));
    for (size_t r = 0; seq != NULL && r < rows; r++)
        if (yt_append(seq, vector_node(b, m + r * cols, cols), NULL) != 0)
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
    for (size_t i = 0; i < config_key_count; i++) {
        const config_key *row = &config_keys[i];
        if (row->type == KEY_STRUCTURED || (row->role == KEY_METADATA && !include_metadata))
            continue;
        const char *field = (const char *)c + row->offset;
        if (row->omit_default &&
            ((row->type == KEY_BOOL && *(const int *)field == row->default_long) ||
             (row->type == KEY_REAL && *(const double *)field == row->default_real)))
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
    yt_node *root = built(b, yt_new_mapping(no_mark));
    if (root == NULL)
        return NULL;
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
