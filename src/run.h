/* run.h — one run from a validated config to a complete run file.
 *
 * Loads the data, builds the trainer and the hooks, then for each epoch:
 * learning rate (config or hook) → train → evaluate → hook's on_epoch_end →
 * append the metrics and flush → weight snapshot if due → checkpoint.
 * Epoch 0 is the untrained network. The file is PATH.partial until the run
 * completes; an interrupted run (SIGINT/SIGTERM sets *stop) keeps its last
 * checkpoint and is resumed by the next run of the same config, giving a file
 * bit-identical (but for times) to an uninterrupted run.
 *
 * Progress is reported through a callback so the library never prints. */
#ifndef MLP_RUN_H
#define MLP_RUN_H

#include <signal.h>

#include "config.h"
#include "error.h"
#include "metrics.h"

typedef struct run_progress {
    const mlp_config *config;
    const char *run_id;
    const metrics_history *history;
    int epoch;                  /* the epoch just finished */
    int resumed_from;           /* -1, or the checkpoint epoch this run resumed from */
    double examples_per_second; /* training throughput of this epoch */
    double elapsed_seconds;     /* since this process started the run */
} run_progress;

typedef struct run_options {
    const char *out_path;                           /* the final run file */
    int resume;                                     /* 1: resume from OUT.partial if it matches */
    volatile sig_atomic_t *stop;                    /* set by a signal handler; may be NULL */
    void (*on_epoch)(void *context, const run_progress *progress);   /* may be NULL */
    /* Told when OUT.partial is there but cannot be resumed (torn by a kill,
     * another run's, ...): the sentence says why and that the run starts
     * afresh. May be NULL. */
    void (*on_note)(void *context, const char *note);
    void *context;
} run_options;

typedef struct run_summary {
    char run_id[65];
    int epochs_done;
    int stopped_by_hook;
    epoch_metrics last;         /* metrics of the last epoch */
    double seconds;
} run_summary;

/* Returns MLP_OK when the run file is complete, MLP_ERR_INTERRUPTED when
 * stopped by *stop (the partial file is kept for resume), or an error (the
 * file is then renamed OUT.failed with the reason in its status). */
int run_execute(const mlp_config *config, const run_options *options, run_summary *summary,
                mlp_error *err);


#endif
