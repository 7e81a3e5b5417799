/* manifest.c — see manifest.h. The writer (manifest → YAML), then the reader
 * (YAML → manifest). */
#include "manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const yt_mark no_mark = {NULL, 0, 0};

/* ---- manifest → study.yaml ---------------------------------------------- */

char *manifest_render(const study_manifest *m, mlp_error *err)
{
    yt_builder b = {0};
    char number[32], path[128];
    yt_node *root = yt_new_mapping(no_mark);
    yt_build_put(&b, root, "name", yt_build_text(&b, m->name != NULL ? m->name : "", 1));
    yt_build_put(&b, root, "description", yt_build_text(&b, m->description, 1));
    yt_build_put(&b, root, "source", yt_build_text(&b, m->source, 1));
    yt_build_put(&b, root, "quick", yt_build_text(&b, m->quick ? "true" : "false", 0));
    yt_node *labels = yt_build_put(&b, root, "labels", yt_new_sequence(no_mark));
    for (size_t i = 0; i < m->label_count; i++)
        yt_build_append(&b, labels, yt_build_text(&b, m->labels[i], 1));
    yt_node *runs = yt_build_put(&b, root, "runs", yt_new_sequence(no_mark));
    for (size_t i = 0; i < m->run_count && !b.failed; i++) {
        const manifest_run *r = &m->runs[i];
        yt_node *entry = yt_new_mapping(no_mark);
        yt_build_put(&b, entry, "id", yt_build_text(&b, r->id, 1));
        yt_build_put(&b, entry, "label", yt_build_text(&b, r->label, 1));
        snprintf(number, sizeof number, "%lu", r->seed);
        yt_build_put(&b, entry, "seed", yt_build_text(&b, number, 0));
        snprintf(path, sizeof path, "runs/%s.h5", r->id);
        yt_build_put(&b, entry, "file", yt_build_text(&b, path, 1));
        snprintf(path, sizeof path, "configs/%s.yaml", r->id);
        yt_build_put(&b, entry, "config", yt_build_text(&b, path, 1));
        yt_build_append(&b, runs, entry);
    }
    yt_build_put(&b, root, "reference",
                 m->reference != NULL ? yt_copy(m->reference) : yt_new_sequence(no_mark));
    yt_build_put(&b, root, "report",
                 m->report != NULL ? yt_copy(m->report) : yt_new_mapping(no_mark));
    if (m->gradcheck != NULL)
        yt_build_put(&b, root, "gradcheck", yt_copy(m->gradcheck));
    char *text = NULL;
    if (b.failed || root == NULL)
        mlp_error_nomem(err, "study.yaml");
    else
        text = yt_emit_canonical(root, err);
    yt_free(root);
    return text;
}

/* ---- study.yaml → manifest ---------------------------------------------- */

int manifest_exists(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/study.yaml", dir);
    return access(path, F_OK) == 0;
}

/* An optional string key: *out stays as it is when the key is absent. */
static int read_string(const yt_node *root, const char *key, const char **out, mlp_error *err)
{
    const yt_node *node = yt_map_get(root, key);
    return node != NULL ? yt_to_string(node, key, out, err) : MLP_OK;
}

static int read_labels(study_manifest *m, const yt_node *labels, mlp_error *err)
{
    int rc = yt_expect_kind(labels, YT_SEQUENCE, "labels", NULL, err);
    if (rc != MLP_OK)
        return rc;
    m->label_storage = calloc(labels->count + 1, sizeof *m->label_storage);
    if (m->label_storage == NULL)
        return mlp_error_nomem(err, "study.yaml");
    for (size_t i = 0; i < labels->count; i++) {
        const char *label = NULL;
        if ((rc = yt_to_string(labels->items[i], "labels", &label, err)) != MLP_OK)
            return rc;
        m->label_storage[i] = labels->items[i]->scalar;
    }
    m->labels = m->label_storage;
    m->label_count = labels->count;
    return MLP_OK;
}

static int read_runs(study_manifest *m, const yt_node *runs, mlp_error *err)
{
    int rc = yt_expect_kind(runs, YT_SEQUENCE, "runs", NULL, err);
    if (rc != MLP_OK)
        return rc;
    m->run_storage = calloc(runs->count + 1, sizeof *m->run_storage);
    if (m->run_storage == NULL)
        return mlp_error_nomem(err, "study.yaml");
    for (size_t i = 0; i < runs->count; i++) {
        const yt_node *item = runs->items[i];
        manifest_run *r = &m->run_storage[i];
        r->label = "";
        if ((rc = yt_expect_kind(item, YT_MAPPING, "runs item", NULL, err)) != MLP_OK)
            return rc;
        const yt_node *id = yt_map_get(item, "id");
        if (id == NULL)
            return yt_error_at(err, MLP_ERR_CONFIG, item->mark, NULL, "runs item has no id");
        if ((rc = yt_to_string(id, "runs.id", &r->id, err)) != MLP_OK)
            return rc;
        const yt_node *label = yt_map_get(item, "label");
        if (label != NULL && (rc = yt_to_string(label, "runs.label", &r->label, err)) != MLP_OK)
            return rc;
        const yt_node *seed = yt_map_get(item, "seed");
        long seed_value = 0;
        if (seed != NULL && (rc = yt_to_long(seed, "runs.seed", &seed_value, err)) != MLP_OK)
            return rc;
        r->seed = (unsigned long)seed_value;
    }
    m->runs = m->run_storage;
    m->run_count = runs->count;
    return MLP_OK;
}

static int read_manifest(study_manifest *m, mlp_error *err)
{
    const yt_node *root = m->tree;
    int rc = read_string(root, "name", &m->name, err);
    if (rc == MLP_OK)
        rc = read_string(root, "description", &m->description, err);
    if (rc == MLP_OK)
        rc = read_string(root, "source", &m->source, err);
    const yt_node *node = rc == MLP_OK ? yt_map_get(root, "quick") : NULL;
    if (node != NULL)
        rc = yt_to_bool(node, "quick", &m->quick, err);
    node = rc == MLP_OK ? yt_map_get(root, "labels") : NULL;
    if (node != NULL)
        rc = read_labels(m, node, err);
    node = rc == MLP_OK ? yt_map_get(root, "runs") : NULL;
    if (node != NULL)
        rc = read_runs(m, node, err);
    node = rc == MLP_OK ? yt_map_get(root, "reference") : NULL;
    if (node != NULL && (rc = yt_expect_kind(node, YT_SEQUENCE, "reference", NULL, err)) == MLP_OK)
        m->reference = node;
    node = rc == MLP_OK ? yt_map_get(root, "report") : NULL;
    if (node != NULL && (rc = yt_expect_kind(node, YT_MAPPING, "report", NULL, err)) == MLP_OK)
        m->report = node;
    if (rc == MLP_OK)
        m->gradcheck = yt_map_get(root, "gradcheck");
    return rc;
}

int manifest_load(const char *dir, study_manifest **out, mlp_error *err)
{
    *out = NULL;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/study.yaml", dir) >= (int)sizeof path)
        return mlp_error_set(err, MLP_ERR_USAGE, "path too long: %s", dir);
    study_manifest *m = calloc(1, sizeof *m);
    if (m == NULL)
        return mlp_error_nomem(err, "study.yaml");
    m->description = m->source = "";
    m->tree = yt_load_file(path, err);
    int rc = m->tree == NULL ? (err != NULL && err->status ? err->status : MLP_ERR_CONFIG)
                             : read_manifest(m, err);
    if (rc != MLP_OK) {
        manifest_free(m);
        return rc;
    }
    *out = m;
    return MLP_OK;
}

void manifest_free(study_manifest *m)
{
    if (m == NULL)
        return;
    yt_free(m->tree);
    free(m->label_storage);
    free(m->run_storage);
    free(m);
}
