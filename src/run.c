/* run.c — see run.h. */
#include "run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blas.h"
#include "config_canonical.h"
#include "confusion.h"
#include "diagnostics.h"
#include "data.h"
#include "hooks.h"
#include "kernels.h"
#include "provenance.h"
#include "store.h"
#include "train.h"
#include "watched.h"

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + 1e-9 * (double)(now.tv_nsec - start->tv_nsec);
}

/* Everything one run holds, released in one place. */
typedef struct run_state {
    const mlp_config *config;
    dataset *data;
    hooks *hooks;
    trainer *trainer;
    store *store;
    metrics_history history;
    char run_id[65];
    store_layer layers[NET_MAX_LAYERS];
    /* the last evaluation's confusion matrices (NULL without classes or that part) */
    int32_t *confusion_validation, *confusion_test;
    int evaluated;              /* this process has evaluated an epoch */
} run_state;

static void run_state_release(run_state *state)
{
    store_close(state->store);
    trainer_free(state->trainer);
    hooks_free(state->hooks);
    data_free(state->data);
    metrics_history_free(&state->history);
    free(state->confusion_validation);
    free(state->confusion_test);
}

static void describe_layers(run_state *state)
{
    mlp_net *net = trainer_net(state->trainer);
    double *const *weights = trainer_weights(state->trainer);
    for (size_t k = 0; k < net->n_layers; k++) {
        state->layers[k].rows = net->sizes[k + 1];
        state->layers[k].cols = net->sizes[k];
        state->layers[k].weights = weights[k];
        state->layers[k].biases = net->biases[k];
    }
}

static int open_store(run_state *state, const run_options *options, int *resumed_epoch,
                      mlp_error *err)
{
    mlp_net *net = trainer_net(state->trainer);
    gsl_rng *rng = trainer_rng(state->trainer);
    *resumed_epoch = -1;
    if (options->resume) {
        char note[1024];
        int status = store_resume(options->out_path, state->run_id, &state->store,
                                  &state->history, resumed_epoch,
                                  trainer_weights(state->trainer), net->biases, net->n_layers,
                                  gsl_rng_state(rng), gsl_rng_size(rng), note, sizeof note, err);
        if (status != MLP_OK)
            return status;
        if (note[0] != '\0' && options->on_note != NULL)
            options->on_note(options->context, note);
        if (state->store != NULL) {
            trainer_load_weights(state->trainer);
            return MLP_OK;
        }
        *resumed_epoch = -1;
    }
    const mlp_config *config = state->config;
    char *yaml = config_canonical_yaml(config, 1, err);
    if (yaml == NULL)
        return err ? err->status : MLP_ERR_RUN;
    char blas[256], libraries[256], host[256], start[64], kernels[256];
    blas_describe(blas, sizeof blas);
    kernels_describe(trainer_net(state->trainer)->kernels, kernels, sizeof kernels);
    provenance_libraries(libraries, sizeof libraries);
    provenance_host(host, sizeof host);
    provenance_now(start, sizeof start);
    const char *files[DATA_MAX_FILES], *digests[DATA_MAX_FILES];
    for (size_t i = 0; i < state->data->file_count; i++) {
        files[i] = state->data->file_paths[i];
        digests[i] = state->data->file_sha256[i];
    }
    store_meta meta = {
        .run_id = state->run_id,
        .experiment = config->experiment,
        .label = config->label,
        .seed = config->seed,
        .config_yaml = yaml,
        .version = MLP_VERSION,
        .git_commit = mlp_git_commit,
        .blas = blas,
        .libraries = libraries,
        .host = host,
        .start_time = start,
        .dataset_file_count = state->data->file_count,
        .dataset_files = files,
        .dataset_sha256 = digests,
        .hook_path = state->hooks ? config->hooks_path : "",
        .hook_sha256 = state->hooks ? hooks_sha256(state->hooks) : "",
        .hook_source = state->hooks ? hooks_source(state->hooks) : "",
        .kernels = kernels,
    };
    int status = store_create(options->out_path, &meta, &state->store, err);
    free(yaml);
    return status;
}

/* The confusion matrices of the evaluation trainer_evaluate just made. */
static void count_confusion(run_state *state)
{
    const dataset *data = state->data;
    size_t classes = data->output_size;
    if (state->confusion_validation != NULL)
        confusion_count(&data->validation, trainer_predictions(state->trainer, &data->validation),
                        classes, state->confusion_validation);
    if (state->confusion_test != NULL)
        confusion_count(&data->test, trainer_predictions(state->trainer, &data->test), classes,
                        state->confusion_test);
}

static int allocate_confusion(run_state *state, mlp_error *err)
{
    const dataset *data = state->data;
    size_t cells = data->output_size * data->output_size;
    if (!data->has_classes)
        return MLP_OK;
    if (data->validation.count > 0 &&
        (state->confusion_validation = calloc(cells, sizeof(int32_t))) == NULL)
        return mlp_error_nomem(err, "a confusion matrix");
    if (data->test.count > 0 && (state->confusion_test = calloc(cells, sizeof(int32_t))) == NULL)
        return mlp_error_nomem(err, "a confusion matrix");
    return MLP_OK;
}

static int write_confusion(run_state *state, const char *group, int epoch, mlp_error *err)
{
    if (state->confusion_validation == NULL && state->confusion_test == NULL)
        return MLP_OK;
    store_confusion matrices = {.classes = state->data->output_size,
                                .validation = state->confusion_validation,
                                .test = state->confusion_test};
    return store_write_confusion(state->store, group, epoch, &matrices, err);
}

/* The best-validation matrices are replaced whenever an epoch beats every
 * earlier one (so they are those of the first epoch of the highest validation
 * accuracy, the tables' best_validation_epoch). A resumed run's history holds
 * the earlier epochs, so it carries on exactly where it stopped. */
static int record_best_confusion(run_state *state, int epoch, mlp_error *err)
{
    const metrics_history *history = &state->history;
    double accuracy = history->rows[epoch].validation_accuracy;
    if (state->confusion_validation == NULL || isnan(accuracy))
        return MLP_OK;
    for (int e = 0; e < epoch; e++)
        if (history->rows[e].validation_accuracy >= accuracy)
            return MLP_OK;
    return write_confusion(state, "best_validation", epoch, err);
}

/* Records this process's attempt at the run: where, when, under which Slurm
 * job, with which kernels and build. */
static int begin_attempt(run_state *state, int first_epoch, mlp_error *err)
{
    char blas[256], host[256], start[64], kernels[256];
    blas_describe(blas, sizeof blas);
    kernels_describe(trainer_net(state->trainer)->kernels, kernels, sizeof kernels);
    provenance_host(host, sizeof host);
    provenance_now(start, sizeof start);
    store_attempt attempt = {
        .host = host,
        .start_time = start,
        .slurm_job_id = provenance_env("SLURM_JOB_ID"),
        .slurm_array_job_id = provenance_env("SLURM_ARRAY_JOB_ID"),
        .slurm_array_task_id = provenance_env("SLURM_ARRAY_TASK_ID"),
        .slurm_restart_count = provenance_env("SLURM_RESTART_COUNT"),
        .blas = blas,
        .kernels = kernels,
        .git_commit = mlp_git_commit,
    };
    return store_begin_attempt(state->store, &attempt, first_epoch, err);
}

/* Measures the network after an epoch (or before training, epoch 0) and
 * appends the row, with the custom metric train_output when train.monitor_output
 * is on (before the hook runs, so the hook sees it). seconds counts from
 * epoch_start: training plus evaluation. */
static int measure_epoch(run_state *state, epoch_metrics *row, const struct timespec *epoch_start,
                         mlp_error *err)
{
    trainer_evaluate(state->trainer, row);
    state->evaluated = 1;
    count_confusion(state);
    row->seconds = seconds_since(epoch_start);
    int status = metrics_history_append(&state->history, row, err);
    if (status == MLP_OK && state->config->monitor_output)
        status = metrics_history_set_custom(
            &state->history, (size_t)row->epoch, "train_output",
            trainer_mean_output(state->trainer, &state->data->train), err);
    return status;
}

/* After an epoch is in the history: hook metrics, the file, snapshots, checkpoint. */
static int record_epoch(run_state *state, int epoch, int *stop_requested, mlp_error *err)
{
    int status = MLP_OK;
    *stop_requested = 0;
    if (state->hooks != NULL) {
        status = hooks_epoch_end(state->hooks, epoch, &state->history, stop_requested, err);
        if (status != MLP_OK)
            return status;
    }
    status = store_append_epoch(state->store, &state->history, (size_t)epoch, err);
    if (status == MLP_OK)
        status = record_best_confusion(state, epoch, err);
    if (status != MLP_OK)
        return status;
    mlp_net *net = trainer_net(state->trainer);
    trainer_weights(state->trainer);   /* state->layers point at these: refresh them */
    int every = state->config->save_weights_every;
    if (every > 0 && epoch % every == 0) {
        char group[32];
        snprintf(group, sizeof group, "epoch_%04d", epoch);
        status = store_write_weights(state->store, group, state->layers, net->n_layers, err);
        if (status != MLP_OK)
            return status;
    }
    gsl_rng *rng = trainer_rng(state->trainer);
    return store_write_checkpoint(state->store, epoch, state->layers, net->n_layers,
                                  gsl_rng_state(rng), gsl_rng_size(rng), err);
}

static void report_progress(const run_state *state, const run_options *options, int epoch,
                            int resumed_from, double examples_per_second,
                            const struct timespec *started)
{
    if (options->on_epoch == NULL)
        return;
    run_progress progress = {
        .config = state->config,
        .run_id = state->run_id,
        .history = &state->history,
        .epoch = epoch,
        .resumed_from = resumed_from,
        .examples_per_second = examples_per_second,
        .elapsed_seconds = seconds_since(started),
    };
    options->on_epoch(options->context, &progress);
}

/* train.diagnostics: the epoch's per-layer measurements, into /diagnostics
 * (flushed with the epoch's metrics row, which follows). */
static int record_diagnostics(run_state *state, int epoch, mlp_error *err)
{
    const diagnostics *d = trainer_diagnostics(state->trainer);
    if (d == NULL)
        return MLP_OK;
    size_t n_layers = trainer_net(state->trainer)->n_layers;
    layer_diagnostics layers[NET_MAX_LAYERS];
    for (size_t k = 0; k < n_layers; k++)
        layers[k] = diagnostics_layer(d, k);
    return store_append_diagnostics(state->store, epoch, layers, n_layers, err);
}

static int train_epochs(run_state *state, const run_options *options, int first_epoch,
                        int resumed_from, const struct timespec *started, run_summary *summary,
                        mlp_error *err)
{
    const mlp_config *config = state->config;
    for (int epoch = first_epoch; epoch <= config->epochs; epoch++) {
        if (options->stop != NULL && *options->stop)
            return mlp_error_set(err, MLP_ERR_INTERRUPTED, "interrupted after epoch %d", epoch - 1);
        struct timespec epoch_start;
        clock_gettime(CLOCK_MONOTONIC, &epoch_start);
        double rate = config->learning_rate;
        int status = MLP_OK;
        if (state->hooks != NULL) {
            status = hooks_learning_rate(state->hooks, epoch, &state->history,
                                         config->learning_rate, &rate, err);
            if (status != MLP_OK)
                return status;
        }
        status = trainer_epoch(state->trainer, rate, options->stop, err);
        if (status == MLP_OK)
            status = record_diagnostics(state, epoch, err);
        if (status != MLP_OK)
            return status;
        double train_seconds = seconds_since(&epoch_start);
        epoch_metrics row = {.epoch = epoch, .learning_rate = rate};
        status = measure_epoch(state, &row, &epoch_start, err);
        if (status != MLP_OK)
            return status;
        int stop_requested = 0;
        status = record_epoch(state, epoch, &stop_requested, err);
        if (status != MLP_OK)
            return status;
        summary->epochs_done = epoch;
        double speed = train_seconds > 0 ? (double)state->data->train.count / train_seconds : 0;
        report_progress(state, options, epoch, resumed_from, speed, started);
        if (stop_requested) {
            summary->stopped_by_hook = 1;
            break;
        }
    }
    return MLP_OK;
}

int run_execute(const mlp_config *config, const run_options *options, run_summary *summary,
                mlp_error *err)
{
    struct timespec started;
    clock_gettime(CLOCK_MONOTONIC, &started);
    memset(summary, 0, sizeof *summary);
    run_state state = {.config = config};
    metrics_history_init(&state.history);
    blas_use_one_thread();

    int status = config_run_id(config, state.run_id, err);
    if (status == MLP_OK)
        status = data_load(config, &state.data, err);
    if (status == MLP_OK && config->hooks_path[0] != '\0')
        status = hooks_new(config->hooks_path, config->hook_args, NULL, &state.hooks, err);
    /* A config not planned by `mlplab plan` is checked here, before the first epoch. */
    if (status == MLP_OK && state.hooks != NULL)
        status = watched_check(state.hooks, config, yt_map_get(config->tree, "hooks"), err);
    if (status == MLP_OK)
        status = trainer_new(config, state.data, &state.trainer, err);
    if (status == MLP_OK)
        status = allocate_confusion(&state, err);
    if (status != MLP_OK) {
        run_state_release(&state);
        return status;
    }
    memcpy(summary->run_id, state.run_id, sizeof summary->run_id);
    describe_layers(&state);

    int resumed_epoch = -1;
    status = open_store(&state, options, &resumed_epoch, err);
    if (status == MLP_OK)
        status = begin_attempt(&state, resumed_epoch + 1, err);
    if (status != MLP_OK) {
        run_state_release(&state);
        return status;
    }
    int first_epoch = resumed_epoch + 1;
    if (resumed_epoch < 0) {
        struct timespec epoch_start;
        clock_gettime(CLOCK_MONOTONIC, &epoch_start);
        epoch_metrics row = {.epoch = 0, .learning_rate = config->learning_rate};
        int stop_requested = 0;
        status = measure_epoch(&state, &row, &epoch_start, err);
        if (status == MLP_OK)
            status = record_epoch(&state, 0, &stop_requested, err);
        if (status == MLP_OK)
            report_progress(&state, options, 0, -1, 0.0, &started);
        first_epoch = stop_requested ? config->epochs + 1 : 1;
        summary->stopped_by_hook = stop_requested;
    } else {
        summary->epochs_done = resumed_epoch;
    }
    if (status == MLP_OK)
        status = train_epochs(&state, options, first_epoch, resumed_epoch, &started, summary, err);

    char finish[64];
    provenance_now(finish, sizeof finish);
    if (status == MLP_OK) {
        mlp_net *net = trainer_net(state.trainer);
        trainer_weights(state.trainer);
        /* A run resumed after its last epoch evaluates that epoch's weights again. */
        if (!state.evaluated) {
            epoch_metrics again = {0};
            trainer_evaluate(state.trainer, &again);
            count_confusion(&state);
        }
        status = write_confusion(&state, "final", (int)state.history.count - 1, err);
        if (status == MLP_OK)
            status = store_write_weights(state.store, "final", state.layers, net->n_layers, err);
        if (status == MLP_OK)
            status = store_finish(state.store, "complete", NULL, finish, err);
    } else if (status != MLP_ERR_INTERRUPTED) {
        /* The failure is recorded in the file, which is renamed so it cannot
         * pass for a complete run; the original error is what the user sees. */
        mlp_error ignored = {0};
        store_finish(state.store, "failed", err ? err->message : "error", finish, &ignored);
    } else {
        mlp_error ignored = {0};
        store_end_attempt(state.store, "interrupted", finish, &ignored);
    }
    if (state.history.count > 0)
        summary->last = state.history.rows[state.history.count - 1];
    summary->seconds = seconds_since(&started);
    run_state_release(&state);
    return status;
}
