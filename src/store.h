/* store.h — the HDF5 run file: one per run, the interface users read.
 *
 * Layout (documented for users in docs/run-file.md):
 *   /                  attributes: run_id, experiment, label, seed, status,
 *                      config (resolved YAML), mlplab_version, git_commit,
 *                      library versions, blas, host, start, finish, dataset files
 *                      and SHA-256, hook script path/sha256/source when used
 *   /metrics           compound dataset, one row per epoch (epoch 0 = untrained),
 *                      fields named as metrics_field_names; chunked, extendable
 *   /custom_metrics/NAME   1-D double per custom hook metric, one value per epoch
 *   /weights/final/layerK/{weights,biases}       K = 1 .. layers (1 = first after input)
 *   /weights/epoch_NNNN/layerK/{weights,biases}  weights shaped [neurons, inputs]
 *   /attempts          one row per start or resume: host, times, outcome, Slurm ids,
 *                      kernels, commit (store_begin_attempt)
 *   /diagnostics       with train.diagnostics: compound, one row per epoch (from 1)
 *                      and layer: epoch, layer, saturated_fraction, mean_abs_delta,
 *                      weight_gradient_norm, mean_activation (diagnostics.h)
 *   /confusion/{final,best_validation}/{validation,test}  int32 [classes, classes],
 *                      rows = true class; attribute epoch on each group
 *   /checkpoint        (only while running) epoch, weights, RNG state: for resume
 *
 * Atomicity: a run writes PATH.partial and flushes it after every epoch; status
 * is "running" until store_finish sets "complete", flushes and renames it to
 * PATH, or sets "failed" and renames it to PATH.failed (a failed run must never
 * look complete: PATH stays missing, so make runs it again, and the user can
 * inspect the .failed file). So PATH exists only when complete, and a killed
 * or interrupted run (store_close without store_finish) leaves PATH.partial,
 * readable by h5dump, from which store_resume continues.
 * Default HDF5 format bounds (not LATEST, not SWMR) so a killed file stays
 * readable on HDF5 1.10.
 *
 * Ownership: store_create/store_resume allocate *out; store_close frees it
 * (and closes the file without renaming if store_finish was not called). */
#ifndef MLP_STORE_H
#define MLP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "diagnostics.h"
#include "error.h"
#include "metrics.h"

typedef struct store store;

/* One layer's parameters: weights rows x cols row-major, biases rows. */
typedef struct store_layer {
    size_t rows, cols;
    const double *weights;
    const double *biases;
} store_layer;

/* Provenance written as root attributes when the file is created. Strings may
 * be "" but not NULL. */
typedef struct store_meta {
    const char *run_id, *experiment, *label;
    unsigned long seed;
    const char *config_yaml;            /* resolved config, canonical YAML */
    const char *version, *git_commit;
    const char *blas;                   /* e.g. "OpenBLAS 0.3.21 (Haswell kernels), 1 thread" */
    const char *libraries;              /* "libyaml 0.2.5, HDF5 1.10.8, Lua 5.4.4, GSL 2.7" */
    const char *host;
    const char *start_time;             /* ISO 8601 UTC */
    size_t dataset_file_count;
    const char *const *dataset_files;   /* paths */
    const char *const *dataset_sha256;  /* hex digests, parallel to dataset_files */
    const char *hook_path, *hook_sha256, *hook_source;   /* "" when no hook */
    const char *kernels;                /* the kernel variant that ran (kernels_describe);
                                           NULL or "": not written */
} store_meta;

/* Creates PATH.partial (replacing any old one) with status "running". */
int store_create(const char *path, const store_meta *meta, store **out, mlp_error *err);

/* One attempt of a run: a start, or a resume, in one process (docs/run-file.md,
 * /attempts). Strings may be "" but not NULL; longer ones are cut to the
 * field widths of the table. */
typedef struct store_attempt {
    const char *host;
    const char *start_time;             /* ISO 8601 UTC */
    const char *slurm_job_id;           /* SLURM_JOB_ID, "" outside Slurm */
    const char *slurm_array_job_id;     /* SLURM_ARRAY_JOB_ID, "" when not an array task */
    const char *slurm_array_task_id;    /* SLURM_ARRAY_TASK_ID */
    const char *slurm_restart_count;    /* SLURM_RESTART_COUNT: requeues so far */
    const char *blas;                   /* the BLAS and its kernels this attempt used */
    const char *kernels;                /* mlplab's own kernel variant (kernels_describe); may be NULL */
    const char *git_commit;
} store_attempt;

/* Appends a row to /attempts (creating the table in a file that has none):
 * number = rows + 1, first_epoch = the epoch it trains first, outcome
 * "running" until store_end_attempt or store_finish closes it. A row still
 * "running" in a file no process writes is an attempt that was killed. */
int store_begin_attempt(store *s, const store_attempt *attempt, int first_epoch, mlp_error *err);

/* Closes the last attempt: its finish time and outcome ("interrupted"; store_finish
 * closes it itself with "complete" or "failed"), then flushes. */
int store_end_attempt(store *s, const char *outcome, const char *finish_time, mlp_error *err);

/* Appends one epoch's row to /metrics and the custom metric values for that
 * epoch (history row `epoch`; custom names the history has), then flushes. */
int store_append_epoch(store *s, const metrics_history *history, size_t epoch, mlp_error *err);

/* Writes /weights/GROUP/layerK for every layer (GROUP = "final" or "epoch_0005"). */
int store_write_weights(store *s, const char *group, const store_layer *layers,
                        size_t n_layers, mlp_error *err);

/* Replaces /checkpoint with the state after `epoch` completed: the layers and
 * an opaque RNG state blob, then flushes. Called after store_append_epoch. */
int store_write_checkpoint(store *s, int epoch, const store_layer *layers, size_t n_layers,
                           const void *rng_state, size_t rng_state_size, mlp_error *err);

/* Appends one row per layer (epoch, layer K from 1, the layer_diagnostics) to
 * /diagnostics, creating it at the first call. Not flushed: call it before
 * store_append_epoch of the same epoch, which flushes. A resumed run drops
 * the rows of epochs after its checkpoint. store_read adds them to the
 * history as the custom metrics layerK_saturated_fraction, ... */
int store_append_diagnostics(store *s, int epoch, const layer_diagnostics *layers,
                             size_t n_layers, mlp_error *err);

/* A confusion-matrix pair of one evaluation (confusion.h): validation and
 * test, classes x classes int32 counts each, rows = true class; either may be
 * NULL (that part is absent). */
typedef struct store_confusion {
    size_t classes;
    const int32_t *validation, *test;
} store_confusion;

/* Replaces /confusion/GROUP ("final", "best_validation") with the matrices of
 * `epoch` (attribute epoch), then flushes. */
int store_write_confusion(store *s, const char *group, int epoch, const store_confusion *matrices,
                          mlp_error *err);

/* Sets status ("complete" or "failed", with an optional reason), the finish
 * time, removes /checkpoint when complete, flushes, closes and renames
 * PATH.partial to PATH (to PATH.failed when failed). After this only
 * store_close may be called. */
int store_finish(store *s, const char *status, const char *reason, const char *finish_time,
                 mlp_error *err);

void store_close(store *s);

/* Resume: continues PATH.partial if it exists, is this run's (run_id) and
 * has a checkpoint slot that reads back whole (its SHA-256 matches). The
 * killed file is only read, and in a child process (HDF5 does not always
 * recover from a torn file); the run goes on in a clean copy of it. Fills
 * history with the stored rows up to and including the checkpoint epoch
 * (later rows, from an epoch that was in progress, are dropped), copies the
 * checkpoint weights into `weights`/`biases` (caller-allocated, shapes must
 * match) and the RNG blob into rng_state (rng_state_size bytes), and sets
 * *resumed_epoch = the checkpoint's epoch.
 * Returns MLP_OK with *out NULL when there is nothing to resume; the caller's
 * arrays are then untouched, and when a PATH.partial was there (unreadable,
 * torn, another run's, no checkpoint yet) `note` (may be NULL) says why it
 * is started afresh, for the user. An error only for a whole checkpoint
 * that cannot be this network's (layers, RNG size). */
int store_resume(const char *path, const char *run_id, store **out, metrics_history *history,
                 int *resumed_epoch, double *const *weights, double *const *biases,
                 size_t n_layers, void *rng_state, size_t rng_state_size, char *note,
                 size_t note_size, mlp_error *err);

enum { STORE_FINAL = 0, STORE_BEST_VALIDATION = 1 };
enum { STORE_VALIDATION = 0, STORE_TEST = 1 };

/* Reading a finished run file back (for tables and series). */
typedef struct run_file {
    char run_id[65];
    char experiment[256];
    char label[256];
    char status[32];
    unsigned long seed;
    char *config_yaml;                  /* owned */
    metrics_history history;            /* owned: built-in and custom metrics */
    /* /confusion, when the run has classes: confusion[WHEN][PART] is a
     * classes x classes matrix (owned; NULL when absent), WHEN = STORE_FINAL or
     * STORE_BEST_VALIDATION, PART = STORE_VALIDATION or STORE_TEST, of the
     * epoch confusion_epoch[WHEN] (-1 when absent). */
    size_t classes;
    int32_t *confusion[2][2];
    int confusion_epoch[2];
} run_file;

int store_read(const char *path, run_file *out, mlp_error *err);

/* What a run file (PATH, PATH.partial or PATH.failed) says about its run,
 * for `mlplab status`: read without taking HDF5's lock, so a file being
 * written can be looked at. */
typedef struct run_file_state {
    char status[32];            /* "running", "complete" or "failed" */
    char reason[512];           /* first line of the failure reason, or "" */
    int epoch;                  /* last epoch kept: the checkpoint's (partial), else the last row */
    int attempts;               /* rows of /attempts (0 in files written before it existed) */
    int writer_active;          /* a live process holds the file (the run is going on) */
} run_file_state;

int store_peek(const char *path, run_file_state *out, mlp_error *err);
void store_run_file_free(run_file *run);

#endif
