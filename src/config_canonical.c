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
#include "yamltree.h"

static const yt_mark no_mark = {NULL, 0, 0};

static yt_node *long_node(yt_builder *b, long v)
{
    char text[32];
    snprintf(text, sizeof text, "%ld", v);
    return yt_build_text(b, text, 0);
}

static yt_node *double_node(yt_builder *b, double v)
{
    char text[40];
    yt_format_real(v, text, sizeof text);     /* "3.0": a real, not the integer 3 */
    return yt_build_text(b, text, 0);
}

static yt_node *vector_node(yt_builder *b, const double *v, size_t n)
{
    yt_node *seq = yt_new_sequence(no_mark);      /* NULL: the caller's put fails */
    for (size_t i = 0; seq != NULL && i < n; i++)
        yt_build_append(b, seq, double_node(b, v[i]));
    return seq;
}

static yt_node *matrix_node(yt_builder *b, const double *m, size_t rows, size_t cols)
{
    yt_node *seq = yt_new_sequence(no_mark);      /* NULL: the caller's put fails */
    for (size_t r = 0; seq != NULL && r < rows; r++)
        yt_build_append(b, seq, vector_node(b, m + r * cols, cols));
    return seq;
}

/* The mapping `key` of map, created when absent. */
static yt_node *section_node(yt_builder *b, yt_node *map, const char *key)
{
    yt_node *node = yt_map_get(map, key);
    return node != NULL ? node : yt_build_put(b, map, key, yt_new_mapping(no_mark));
}

/* Every scalar row's value at its dotted place (metadata only with
 * include_metadata), in the form canonical_tree writes it. */
static void put_rows(yt_builder *b, yt_node *root, const mlp_config *c, int include_metadata)
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
            value = yt_build_text(b, field, 1);
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
            value = yt_build_text(b, *(const int *)field ? "true" : "false", 0);
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
        yt_build_put(b, parent, dot != NULL ? dot + 1 : row->key, value);
    }
}

static yt_node *canonical_tree(const mlp_config *c, int include_metadata, yt_builder *b)
{
    yt_node *root = yt_new_mapping(no_mark);
    if (root == NULL) {
        b->failed = 1;
        return NULL;
    }
    put_rows(b, root, c, include_metadata);
    yt_node *ds = section_node(b, root, "dataset");
    yt_build_put(b, ds, "name", yt_build_text(b, c->dataset_name, 1));
    int last = c->n_layers - 1;
    if (strcmp(c->dataset_name, "inline") == 0) {
        yt_node *in = yt_build_put(b, ds, "inline", yt_new_mapping(no_mark));
        yt_build_put(b, in, "inputs",
                     matrix_node(b, c->inline_inputs, c->inline_count, (size_t)c->sizes[0]));
        yt_build_put(b, in, "targets",
                     matrix_node(b, c->inline_targets, c->inline_count, (size_t)c->sizes[last]));
    } else {
        /* Where the files are is not what the run is (their SHA-256 is checked
         * and recorded): the id leaves the directory out. */
        if (include_metadata)
            yt_build_put(b, ds, "dir", yt_build_text(b, c->dataset_dir, 1));
        yt_build_put(b, ds, "train_size", long_node(b, c->train_size));
        yt_build_put(b, ds, "validation_size", long_node(b, c->validation_size));
        yt_build_put(b, ds, "test_size", long_node(b, c->test_size));
    }

    yt_node *net = section_node(b, root, "network");
    yt_node *sizes = yt_build_put(b, net, "sizes", yt_new_sequence(no_mark));
    for (int k = 0; sizes != NULL && k < c->n_layers; k++)
        yt_build_append(b, sizes, long_node(b, c->sizes[k]));

    if (strcmp(c->init, "fixed") == 0) {
        yt_node *init = yt_build_put(b, root, "init", yt_new_mapping(no_mark));
        yt_node *fixed = yt_build_put(b, init, "fixed", yt_new_mapping(no_mark));
        yt_node *w = yt_build_put(b, fixed, "weights", yt_new_sequence(no_mark));
        yt_node *bias = yt_build_put(b, fixed, "biases", yt_new_sequence(no_mark));
        for (int k = 0; w != NULL && bias != NULL && k < last; k++) {
            size_t rows = (size_t)c->sizes[k + 1], cols = (size_t)c->sizes[k];
            yt_build_append(b, w, matrix_node(b, c->fixed_weights[k], rows, cols));
            yt_build_append(b, bias, vector_node(b, c->fixed_biases[k], rows));
        }
    } else {
        yt_build_put(b, root, "init", yt_build_text(b, c->init, 1));
    }

    if (c->save_weights_every > 0)
        yt_build_put(b, root, "save_weights", long_node(b, c->save_weights_every));
    else
        yt_build_put(b, root, "save_weights", yt_build_text(b, "final", 1));

    /* The id hashes the hook script's bytes (config_run_id), not its path. */
    if (include_metadata)
        yt_build_put(b, root, "hooks", yt_build_text(b, c->hooks_path, 1));
    yt_build_put(b, root, "hook_args",
                 c->hook_args != NULL ? yt_copy(c->hook_args) : yt_new_mapping(no_mark));
    return root;
}

char *config_canonical_yaml(const mlp_config *config, int include_metadata, mlp_error *err)
{
    if (config == NULL) {
        mlp_error_set(err, MLP_ERR_RUN, "config_canonical_yaml: no config");
        return NULL;
    }
    yt_builder b = {0};
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
