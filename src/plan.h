/* plan.h — a study (experiments/NAME.yaml) expanded into runs.
 *
 * A study file is a run config plus study-only keys (name, description,
 * cases, sweep, seeds, reference, report, quick, gradcheck; docs/studies.md).
 * plan_load follows its `extends:` chain, takes the study-only keys out, and builds one
 * run config per (case, sweep point, seed): a copy of the base tree with the
 * case's dotted overrides, then the sweep point's, then the quick profile
 * (with --quick), then the command-line overrides. Every run is validated by
 * config_from_tree and named by config_run_id before anything is written, so
 * every error — an unknown key in a case, two cases that are the same run —
 * is reported as file:line:column before anything trains.
 *
 * plan_write turns a loaded study into files under RESULTS/NAME/: one
 * canonical config per run (configs/ID.yaml), a Makefile fragment with one
 * rule per run (runs.mk) and study.yaml for the table and report commands.
 * Files are rewritten only when their content changes (temp file + rename),
 * so Make's timestamps stay stable across re-plans.
 *
 * A study with `gradcheck:` describes a matrix of gradient checks instead of
 * training runs (gradcheck_matrix.h): plan validates it and keeps the
 * normalized mapping in plan_study.gradcheck, plans no runs (n_runs = 0, no
 * labels), and writes study.yaml with `gradcheck:` for `mlplab table`.
 *
 * Ownership: plan_load allocates *out; free it with plan_free. */
#ifndef MLP_PLAN_H
#define MLP_PLAN_H

#include <stddef.h>

#include "config.h"
#include "error.h"
#include "yamltree.h"

enum { PLAN_LABEL_MAX = 256, PLAN_DIFFERS_MAX = 1024, PLAN_MAX_RUNS = 100000 };

typedef struct plan_run {
    char id[65];                    /* run id: config_run_id of the resolved config */
    char label[PLAN_LABEL_MAX];     /* case label, then ", key=value" per swept key */
    unsigned long seed;
    size_t label_index;             /* index of label in plan_study.labels */
    char differs[PLAN_DIFFERS_MAX]; /* the case and sweep overrides, "key=value, ..." */
    char *config_yaml;              /* canonical YAML with metadata: configs/ID.yaml */
    int has_hooks;                  /* runs a Lua hook, which may return custom metrics */
    char **custom_metrics;          /* the ones its hook declares (hooks.h), NULL-terminated,
                                       one allocation; NULL without a hook */
    unsigned records;               /* the MEASURE_* bits of what it records (measures.h):
                                       train.diagnostics gives the layerK_* metrics, ... */
    int inline_data;                /* dataset.inline (for the hints of what it lacks) */
    int weight_layers;              /* layers after the input: K of layerK_* is 1 .. it */
    int epochs;                     /* train.epochs: its last epoch */
    char dataset[CONFIG_NAME_MAX];  /* dataset.name: what make must fetch before it runs */
} plan_run;

typedef struct plan_study {
    char name[CONFIG_NAME_MAX];     /* the file's basename without .yaml */
    char source[1024];              /* the study file, as given */
    char description[4096];
    char **labels;                  /* distinct labels, in study order */
    size_t n_labels;
    plan_run *runs;                 /* case-major, then sweep point, then seed */
    size_t n_runs;
    size_t n_cases, n_points, n_seeds;  /* n_runs = n_cases * n_points * n_seeds */
    int quick;                      /* planned with the quick profile */
    yt_node *reference;             /* the `reference:` list, or NULL */
    yt_node *report;                /* the `report:` mapping, or NULL */
    yt_node *gradcheck;             /* a gradient-check study: its normalized gradcheck:
                                       mapping; NULL for a training study */
    size_t n_combinations;          /* the combinations the gradcheck matrix checks */
} plan_study;

typedef struct plan_options {
    int quick;                      /* apply the study's quick: block (or the default one) */
    char *const *overrides;         /* "dotted.key=value" from the command line */
    int n_overrides;
} plan_options;

/* Loads and expands a study. options may be NULL (no quick, no overrides).
 * The other profile (the full study for --quick; with a quick: block, the
 * quick one for a plain plan) is expanded and checked too, then discarded. */
int plan_load(const char *path, const plan_options *options, plan_study **out,
              mlp_error *err);
void plan_free(plan_study *study);

/* Loads a YAML file and follows its `extends:` chain (paths relative to the
 * file that names them; cycles reported), merging each file over its base.
 * The result is the merged tree; study keys are left in it. */
int plan_load_tree(const char *path, yt_node **out, mlp_error *err);

/* Writes RESULTS/NAME/{configs/ID.yaml, runs.mk, study.yaml}; creates the
 * directories. *configs_written (may be NULL) receives the number of config
 * files created or changed. */
int plan_write(const plan_study *study, const char *results_dir, size_t *configs_written,
               mlp_error *err);

/* The text of runs.mk for a study whose files live under study_dir
 * (RESULTS/NAME). Caller frees. */
char *plan_runs_mk(const plan_study *study, const char *study_dir, mlp_error *err);

/* The text of study.yaml (name, description, labels, runs, reference, report).
 * Caller frees. */
char *plan_study_yaml(const plan_study *study, mlp_error *err);

/* A compact one-line rendering of a YAML value for labels: scalars as written,
 * [a,b], {k:v}. Returns 0, or -1 if it did not fit in size. */
int plan_render_value(const yt_node *node, char *buf, size_t size);

#endif
