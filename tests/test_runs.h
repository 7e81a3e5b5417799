/* test_runs.h — tiny study directories for the tests of what reads run files
 * (report, figures, check): a mkdtemp() root holding NAME/runs/, and run files
 * written through the store API. Include after <cmocka.h> and test_support.h. */
#ifndef MLP_TEST_RUNS_H
#define MLP_TEST_RUNS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fsutil.h"
#include "metrics.h"
#include "report.h"
#include "run.h"
#include "store.h"

typedef struct study_fixture {
    char dir[64];          /* the mkdtemp root */
    char study[128];       /* DIR/NAME */
} study_fixture;

/* Makes /tmp/mlplab-test-WHAT-XXXXXX/NAME/runs; 0 on success, -1 if not. */
static inline int study_fixture_make(study_fixture *f, const char *what, const char *name)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/mlplab-test-%s-XXXXXX", what);
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->study, sizeof f->study, "%s/%s", f->dir, name);
    char path[256];
    snprintf(path, sizeof path, "%s/runs", f->study);
    mlp_error err = {0};
    return fsutil_make_dirs(path, &err) == MLP_OK ? 0 : -1;
}

/* Writes the study's study.yaml (DIR/NAME/study.yaml) holding text. */
static inline void study_fixture_write_manifest(const study_fixture *f, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/study.yaml", f->study);
    test_write_text(path, text);
}

/* A cmocka setup: *state becomes a calloc'ed fixture holding
 * /tmp/mlplab-test-WHAT-XXXXXX/NAME/runs, then write_runs (unless NULL) writes
 * its run files and study.yaml gets the text manifest (unless NULL); 0, or -1
 * (and nothing left behind) if the directories cannot be made.
 * study_fixture_teardown removes and frees it. */
static inline int study_fixture_start(void **state, const char *what, const char *name,
                                      void (*write_runs)(const study_fixture *f),
                                      const char *manifest)
{
    study_fixture *f = calloc(1, sizeof *f);
    if (f != NULL && study_fixture_make(f, what, name) != 0) {
        if (strstr(f->dir, "XXXXXX") == NULL)
            test_remove_tree(f->dir);
        free(f);
        f = NULL;
    }
    *state = f;
    if (f == NULL)
        return -1;
    if (write_runs != NULL)
        write_runs(f);
    if (manifest != NULL)
        study_fixture_write_manifest(f, manifest);
    return 0;
}

/* cmocka setup and teardown of a fixture for tests that train runs themselves
 * (study_fixture_run): /tmp/mlplab-test-run-XXXXXX. */
static inline int study_fixture_setup(void **state)
{
    return study_fixture_start(state, "run", "study", NULL, NULL);
}

static inline int study_fixture_teardown(void **state)
{
    study_fixture *f = *state;
    return test_remove_scratch(f, f->dir);
}

/* A cmocka test case whose setup makes a study_fixture (study_fixture_start). */
#define TEST_IN_STUDY(test, setup) \
    cmocka_unit_test_setup_teardown(test, setup, study_fixture_teardown)

/* The study's file REL (table.md, series/NAME.dat) as text; the caller frees
 * it. Fails the test if it cannot be read. */
static inline char *study_fixture_read(const study_fixture *f, const char *rel)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->study, rel);
    return test_read_text(path);
}

/* The study as report_study_load reads it (free it with report_study_free);
 * fails the test if it cannot be read. */
static inline report_study *study_fixture_load(const study_fixture *f)
{
    mlp_error err = {0};
    report_study *study = NULL;
    if (report_study_load(f->study, &study, &err) != MLP_OK)
        fail_msg("report_study_load: %s", err.message);
    return study;
}

/* Writes DIR/NAME.yaml holding config_text, runs it (run_execute) into
 * DIR/NAME.h5 and reads that file back into *out (free it with
 * store_run_file_free). config_out (may be NULL) receives the loaded config
 * (the caller frees it); out_path (may be NULL) the run file's path. */
static inline void study_fixture_run(const study_fixture *f, const char *name,
                                     const char *config_text, mlp_config **config_out,
                                     char out_path[512], run_file *out)
{
    char config_path[512], path[512];
    snprintf(config_path, sizeof config_path, "%s/%s.yaml", f->dir, name);
    snprintf(path, sizeof path, "%s/%s.h5", f->dir, name);
    test_write_text(config_path, config_text);
    mlp_config *config = NULL;
    mlp_error err = {0};
    if (config_load(config_path, NULL, 0, &config, &err) != MLP_OK)
        fail_msg("%s", err.message);
    run_options options = {.out_path = path};
    run_summary summary;
    if (run_execute(config, &options, &summary, &err) != MLP_OK)
        fail_msg("%s", err.message);
    if (store_read(path, out, &err) != MLP_OK)
        fail_msg("%s", err.message);
    if (out_path != NULL)
        snprintf(out_path, 512, "%s", path);
    if (config_out != NULL)
        *config_out = config;
    else
        config_free(config);
}

/* Writes runs/ID.h5 of the study: rows[0..n) as its epochs, the custom metric
 * "sparsity" at every epoch unless it is NaN, and final weights of one 1x2
 * layer. finish = 0 leaves it as ID.h5.partial, as a run still going would. */
/* As study_fixture_write_run, with /confusion/final matrices when confusion
 * is not NULL (of the last epoch), and /diagnostics rows when n_layers > 0:
 * layers[(e − 1) · n_layers + k] for epoch e ≥ 1 and layer k. */
static inline void study_fixture_write_run_parts(const study_fixture *f, const char *id,
                                                 const char *label, unsigned long seed,
                                                 const epoch_metrics *rows, size_t n,
                                                 double sparsity, int finish,
                                                 const store_confusion *confusion,
                                                 const layer_diagnostics *layers,
                                                 size_t n_layers)
{
    char path[256];
    snprintf(path, sizeof path, "%s/runs/%s.h5", f->study, id);
    store_meta meta = {
        .run_id = id, .experiment = strrchr(f->study, '/') + 1, .label = label, .seed = seed,
        .config_yaml = "cost: cross-entropy\n", .version = "0.1.0", .git_commit = "x",
        .blas = "", .libraries = "", .host = "", .start_time = "2024-05-01T12:00:00Z",
        .hook_path = "", .hook_sha256 = "", .hook_source = "",
    };
    mlp_error err = {0};
    store *s = NULL;
    if (store_create(path, &meta, &s, &err) != MLP_OK)
        fail_msg("store_create: %s", err.message);
    metrics_history h;
    metrics_history_init(&h);
    for (size_t e = 0; e < n; e++) {
        assert_int_equal(metrics_history_append(&h, &rows[e], &err), MLP_OK);
        if (!isnan(sparsity))
            assert_int_equal(metrics_history_set_custom(&h, e, "sparsity", sparsity, &err),
                             MLP_OK);
        if (e > 0 && n_layers > 0)     /* before the epoch's row, which flushes */
            assert_int_equal(store_append_diagnostics(s, (int)e, layers + (e - 1) * n_layers,
                                                      n_layers, &err),
                             MLP_OK);
        assert_int_equal(store_append_epoch(s, &h, e, &err), MLP_OK);
    }
    const double weights[2] = {0.5, -0.5}, biases[1] = {0.1};
    const store_layer layer = {1, 2, weights, biases};
    assert_int_equal(store_write_weights(s, "final", &layer, 1, &err), MLP_OK);
    if (confusion != NULL)
        assert_int_equal(store_write_confusion(s, "final", (int)n - 1, confusion, &err), MLP_OK);
    if (finish)
        assert_int_equal(store_finish(s, "complete", NULL, "2024-05-01T13:00:00Z", &err), MLP_OK);
    store_close(s);
    metrics_history_free(&h);
}

static inline void study_fixture_write_run_confusion(const study_fixture *f, const char *id,
                                                     const char *label, unsigned long seed,
                                                     const epoch_metrics *rows, size_t n,
                                                     double sparsity, int finish,
                                                     const store_confusion *confusion)
{
    study_fixture_write_run_parts(f, id, label, seed, rows, n, sparsity, finish, confusion, NULL,
                                  0);
}

static inline void study_fixture_write_run(const study_fixture *f, const char *id,
                                           const char *label, unsigned long seed,
                                           const epoch_metrics *rows, size_t n, double sparsity,
                                           int finish)
{
    study_fixture_write_run_confusion(f, id, label, seed, rows, n, sparsity, finish, NULL);
}

#endif
