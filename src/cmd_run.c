/* cmd_run.c — `mlplab run FILE.yaml [key=value ...] [--out PATH]`. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "fsutil.h"
#include "config.h"
#include "config_canonical.h"
#include "run.h"

const char cmd_run_usage[] =
    "usage: mlplab run FILE.yaml [key=value ...] [--out PATH] [--fresh] [--quiet] [--tsv]\n"
    "\n"
    "Trains the network FILE.yaml describes and writes its HDF5 run file.\n"
    "  key=value    override a field, e.g. train.learning_rate=3.0 network.sizes=[784,100,10]\n"
    "  --out PATH   the run file (default results/runs/RUN_ID.h5); written as PATH.partial\n"
    "               until the run completes\n"
    "  --fresh      start over even if PATH.partial holds a checkpoint of this run\n"
    "  --quiet      no per-epoch output (the final summary line is still printed)\n"
    "  --tsv        the summary line for scripts: RUN_ID, EPOCHS, TEST_ACCURACY,\n"
    "               VALIDATION_ACCURACY, SECONDS, PATH separated by tabs, the numbers\n"
    "               in full (%.17g; seconds %.3f)\n"
    "\n"
    "A run interrupted with Ctrl-C (or SIGTERM, SIGUSR1, SIGUSR2, SIGHUP) keeps its last\n"
    "completed epoch and is resumed by running the same command again; a second Ctrl-C\n"
    "stops at once, a second SIGTERM changes nothing. See docs/config.md for the fields.\n";

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int signal_number)
{
    (void)signal_number;
    stop_requested = 1;
}

/* SIGINT: a second Ctrl-C while winding down kills at once, as users expect
 * (SA_RESETHAND). SIGTERM, and the SIGUSR1/SIGUSR2/SIGHUP a batch system may
 * be told to send (--signal): every one only asks for a stop after the epoch,
 * however many arrive, so a second SIGTERM while the checkpoint is written
 * (Slurm signals both srun and its task; preemption repeats it) cannot cut
 * the write short. Slurm's SIGKILL after KillWait is the hard stop. */
static void install_signal_handlers(void)
{
    static const struct {
        int number, flags;
    } stops[] = {
        {SIGINT, SA_RESETHAND}, {SIGTERM, 0}, {SIGUSR1, 0}, {SIGUSR2, 0}, {SIGHUP, 0},
    };
    for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = on_signal;
        action.sa_flags = stops[i].flags;
        sigemptyset(&action.sa_mask);
        sigaction(stops[i].number, &action, NULL);
    }
}

typedef struct progress_display {
    int terminal;               /* stderr is a terminal: one live line */
    int quiet;
} progress_display;

static void format_duration(double seconds, char *text, size_t size)
{
    long s = (long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(text, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(text, size, "%ld:%02ld", s / 60, s % 60);
}

/* Before the first epoch; a .partial that cannot be resumed is worth a
 * line even with --quiet. */
static void show_note(void *context, const char *note)
{
    (void)context;
    fprintf(stderr, "mlplab: note: %s\n", note);
}

static void show_progress(void *context, const run_progress *p)
{
    const progress_display *display = context;
    if (display->quiet)
        return;
    const epoch_metrics *row = &p->history->rows[p->epoch];
    int epochs = p->config->epochs;
    int done_here = p->epoch - (p->resumed_from > 0 ? p->resumed_from : 0);
    double eta = done_here > 0 ? p->elapsed_seconds / done_here * (epochs - p->epoch) : 0.0;
    char eta_text[32];
    format_duration(eta, eta_text, sizeof eta_text);
    if (display->terminal) {
        fprintf(stderr, "\r\033[Kepoch %d/%d  train cost %.4f  validation %.4f  test %.4f  "
                        "%.0f examples/s  ETA %s",
                p->epoch, epochs, row->train_cost, row->validation_accuracy, row->test_accuracy,
                p->examples_per_second, eta_text);
        if (p->epoch == epochs)
            fputc('\n', stderr);
    } else {
        fprintf(stderr, "epoch %d/%d train_cost=%.6g validation_accuracy=%.4f test_accuracy=%.4f "
                        "seconds=%.3f\n",
                p->epoch, epochs, row->train_cost, row->validation_accuracy, row->test_accuracy,
                row->seconds);
    }
    fflush(stderr);
}

int cmd_run(const cli_values *args)
{
    int status = MLP_OK;
    const char *out_path = args->out;
    int fresh = args->fresh, quiet = args->quiet, tsv = args->tsv;

    mlp_error err = {0};
    mlp_config *config = NULL;
    status = config_load(args->operands[0], args->overrides, args->n_overrides, &config, &err);
    if (status != MLP_OK) {
        cli_print_error(err.message);
        return status;
    }
    char default_path[256], run_id[65];
    if (out_path == NULL) {
        status = config_run_id(config, run_id, &err);
        if (status != MLP_OK) {
            cli_print_error(err.message);
            config_free(config);
            return status;
        }
        snprintf(default_path, sizeof default_path, "results/runs/%s.h5", run_id);
        out_path = default_path;
    }
    mlp_error dir_err = {0};
    if (fsutil_make_parent_dirs(out_path, &dir_err) != 0) {
        cli_print_error(dir_err.message);
        config_free(config);
        return MLP_ERR_RUN;
    }

    install_signal_handlers();
    progress_display display = {.terminal = isatty(STDERR_FILENO), .quiet = quiet};
    run_options run = {
        .out_path = out_path,
        .resume = !fresh,
        .stop = &stop_requested,
        .on_epoch = show_progress,
        .on_note = show_note,
        .context = &display,
    };
    run_summary summary;
    status = run_execute(config, &run, &summary, &err);
    if (status == MLP_OK && tsv) {
        printf("%s\t%d\t%.17g\t%.17g\t%.3f\t%s\n", summary.run_id[0] ? summary.run_id : "-",
               summary.epochs_done, summary.last.test_accuracy,
               summary.last.validation_accuracy, summary.seconds, out_path);
    } else if (status == MLP_OK) {
        printf("%s  epochs=%d  test_accuracy=%.4f  validation_accuracy=%.4f  (%.1f s)  %s\n",
               summary.run_id[0] ? summary.run_id : "-", summary.epochs_done,
               summary.last.test_accuracy, summary.last.validation_accuracy, summary.seconds,
               out_path);
    } else if (status == MLP_ERR_INTERRUPTED) {
        if (display.terminal)
            fputc('\n', stderr);
        fprintf(stderr, "mlplab: interrupted after epoch %d; %s.partial keeps it: run the same "
                        "command again to resume\n",
                summary.epochs_done, out_path);
    } else {
        cli_print_error(err.message);
    }
    config_free(config);
    return status;
}
