/* manifest.h — results/NAME/study.yaml, the study manifest: what `mlplab plan`
 * planned, for the stages after training (table, figures, check). This module
 * is its one writer and its one reader, so the file's schema is here and
 * nowhere else:
 *
 *   name, description, source   strings (source: the study file planned)
 *   quick                       true when planned with the quick profile
 *   labels                      the labels, in study order
 *   runs                        [{id, label, seed, file: runs/ID.h5, config: configs/ID.yaml}]
 *   reference                   the study's `reference:` list, as written (validated by plan)
 *   report                      the study's `report:` mapping, as written (validated by plan)
 *   gradcheck                   only in a gradient-check study: its normalized matrix
 *
 * The writer emits canonical YAML (yamltree.h), so the same plan gives the same
 * bytes. The reader checks the shape of every key it returns, with the file's
 * line and column.
 *
 * Ownership: manifest_load allocates *out and manifest_free frees it; every
 * pointer in a loaded manifest points into it. A manifest given to
 * manifest_render is borrowed: the writer keeps nothing. */
#ifndef MLP_MANIFEST_H
#define MLP_MANIFEST_H

#include <stddef.h>

#include "error.h"
#include "yamltree.h"

typedef struct manifest_run {
    const char *id;            /* the run id; its files are runs/ID.h5 and configs/ID.yaml */
    const char *label;         /* "" when not given */
    unsigned long seed;
} manifest_run;

typedef struct study_manifest {
    const char *name;          /* NULL when the file has none */
    const char *description;   /* "" when none */
    const char *source;        /* "" when none */
    int quick;                 /* planned with the quick profile */
    size_t label_count;
    char *const *labels;
    size_t run_count;
    const manifest_run *runs;
    const yt_node *reference;  /* a list; NULL when absent */
    const yt_node *report;     /* a mapping; NULL when absent */
    const yt_node *gradcheck;  /* NULL unless a gradient-check study */
    /* Reader only: what the pointers above point into. */
    yt_node *tree;
    char **label_storage;
    manifest_run *run_storage;
} study_manifest;

/* The text of study.yaml for m (reference NULL: an empty list; report NULL:
 * an empty mapping). Caller frees; NULL on failure. */
char *manifest_render(const study_manifest *m, mlp_error *err);

/* 1 when DIR/study.yaml exists. */
int manifest_exists(const char *dir);

/* Reads DIR/study.yaml. A missing or invalid file is an error (MLP_ERR_CONFIG,
 * located); use manifest_exists first where the file is optional. */
int manifest_load(const char *dir, study_manifest **out, mlp_error *err);
void manifest_free(study_manifest *m);

#endif
