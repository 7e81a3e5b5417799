/* cmd_status.c — `mlplab status [--runs] [RESULTS/NAME ...]`: how far each
 * study has got, from its plan (study.yaml) and its run files alone. No
 * scheduler is asked: on a cluster this is what tells what is left. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "manifest.h"
#include "store.h"

const char cmd_status_usage[] =
    "usage: mlplab status [--runs] [RESULTS/NAME ...]\n"
    "\n"
    "Says for each study how many of its planned runs are complete, partial (with the\n"
    "epoch reached; \"running\" when a process is writing it), failed (with the first\n"
    "line of the error) and not started, from results/NAME/study.yaml and the run\n"
    "files alone. Without arguments: every study under results/.\n"
    "  --runs   one line per run instead, tab-separated, for scripts:\n"
    "           STATE FILE EPOCH LABEL SEED REASON, STATE one of complete, running,\n"
    "           partial, failed, todo; FILE as runs.mk names it; EPOCH -1 when none\n"
    "Exit status: 0 every run is complete, 1 a run failed, 6 runs are still partial or\n"
    "not started (none failed), 2 usage, 4 a study directory or run file is unreadable.\n"
    "See docs/cluster.md.\n";

enum run_state { STATE_COMPLETE, STATE_RUNNING, STATE_PARTIAL, STATE_FAILED, STATE_TODO, STATE_COUNT };
static const char *const state_names[STATE_COUNT] = {"complete", "running", "partial", "failed", "todo"};

typedef struct run_status {
    enum run_state state;
    run_file_state file;
} run_status;

/* Which of ID.h5, ID.h5.partial, ID.h5.failed says what: complete first (it
 * only exists when complete), then a partial (a newer attempt than any
 * .failed), then failed. An unreadable partial (killed before its first
 * flush) is a partial with no epoch. */
static int run_status_of(const char *dir, const char *file, run_status *out, mlp_error *err)
{
    char path[4096 + 300];
    memset(out, 0, sizeof *out);
    out->file.epoch = -1;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (access(path, F_OK) == 0) {
        out->state = STATE_COMPLETE;
        return store_peek(path, &out->file, err);
    }
    snprintf(path, sizeof path, "%s/%s.partial", dir, file);
    if (access(path, F_OK) == 0) {
        mlp_error ignored = {0};
        if (store_peek(path, &out->file, &ignored) != MLP_OK)
            out->file.epoch = -1;
        out->state = out->file.writer_active ? STATE_RUNNING : STATE_PARTIAL;
        return MLP_OK;
    }
    snprintf(path, sizeof path, "%s/%s.failed", dir, file);
    if (access(path, F_OK) == 0) {
        out->state = STATE_FAILED;
        int rc = store_peek(path, &out->file, err);
        if (rc == MLP_OK && out->file.reason[0] == '\0')
            snprintf(out->file.reason, sizeof out->file.reason, "no reason recorded");
        return rc;
    }
    out->state = STATE_TODO;
    return MLP_OK;
}

/* One study: its summary line (or its run lines), and counts[] added up. */
static int study_status(const char *dir, int per_run, size_t counts[STATE_COUNT])
{
    mlp_error err = {0};
    study_manifest *plan = NULL;
    if (!manifest_exists(dir) || manifest_load(dir, &plan, &err) != MLP_OK) {
        if (err.message[0] != '\0')
            cli_print_error(err.message);
        else
            fprintf(stderr, "mlplab: %s has no study.yaml\n", dir);
        fprintf(stderr, "hint: %s is not a planned study: run `mlplab plan` (or make submit / make "
                        "experiments) first\n", dir);
        return MLP_ERR_DATA;
    }
    size_t n_runs = plan->run_count, here[STATE_COUNT] = {0};
    int status = MLP_OK;
    run_status *states = calloc(n_runs ? n_runs : 1, sizeof *states);
    if (states == NULL) {
        fprintf(stderr, "mlplab: out of memory reading %s\n", dir);
        manifest_free(plan);
        return MLP_ERR_RUN;
    }
    char file[128];
    for (size_t i = 0; i < n_runs; i++) {
        snprintf(file, sizeof file, "runs/%s.h5", plan->runs[i].id);
        if (run_status_of(dir, file, &states[i], &err) != MLP_OK) {
            cli_print_error(err.message);
            status = MLP_ERR_DATA;
            states[i].state = STATE_TODO;
        }
        here[states[i].state]++;
    }
    if (!per_run)
        printf("%s: %zu runs: %zu complete, %zu partial, %zu failed, %zu not started\n",
               plan->name != NULL ? plan->name : dir, n_runs, here[STATE_COMPLETE],
               here[STATE_PARTIAL] + here[STATE_RUNNING], here[STATE_FAILED], here[STATE_TODO]);
    for (size_t i = 0; i < n_runs; i++) {
        const char *id = plan->runs[i].id, *label = plan->runs[i].label;
        unsigned long seed = plan->runs[i].seed;
        const run_status *rs = &states[i];
        if (per_run)
            printf("%s\t%s/runs/%s.h5\t%d\t%s\t%lu\t%s\n", state_names[rs->state], dir, id,
                   rs->file.epoch, label, seed, rs->file.reason);
        else if ((rs->state == STATE_PARTIAL || rs->state == STATE_RUNNING) && rs->file.epoch < 0)
            /* killed before its first flush, or torn by a kill: resume will say which */
            printf("  %-8s %.12s  %s seed=%lu  no epoch readable yet\n", state_names[rs->state],
                   id, label, seed);
        else if (rs->state == STATE_PARTIAL || rs->state == STATE_RUNNING)
            printf("  %-8s %.12s  %s seed=%lu  epoch %d%s\n", state_names[rs->state], id, label,
                   seed, rs->file.epoch, rs->file.attempts > 1 ? " (resumed)" : "");
        else if (rs->state == STATE_FAILED)
            printf("  %-8s %.12s  %s seed=%lu  %s\n", state_names[rs->state], id, label, seed,
                   rs->file.reason);
    }
    free(states);
    for (int s = 0; s < STATE_COUNT; s++)
        counts[s] += here[s];
    manifest_free(plan);
    return status;
}

/* Every RESULTS/NAME with a study.yaml, sorted; returns how many were found. */
static int each_study_in(const char *results, int per_run, size_t counts[STATE_COUNT], int *status)
{
    struct dirent **entries = NULL;
    int n = scandir(results, &entries, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "mlplab: no %s/ directory here\nhint: run make experiments or make submit "
                        "first, or name study directories: mlplab status results/NAME\n", results);
        *status = MLP_ERR_DATA;
        return 0;
    }
    int found = 0;
    for (int i = 0; i < n; i++) {
        char dir[4096], path[4096 + 32];
        snprintf(dir, sizeof dir, "%s/%s", results, entries[i]->d_name);
        snprintf(path, sizeof path, "%s/study.yaml", dir);
        if (entries[i]->d_name[0] != '.' && access(path, F_OK) == 0) {
            int rc = study_status(dir, per_run, counts);
            if (rc != MLP_OK)
                *status = rc;
            found++;
        }
        free(entries[i]);
    }
    free(entries);
    return found;
}

int cmd_status(const cli_values *args)
{
    int status = MLP_OK;
    int per_run = args->runs;
    size_t counts[STATE_COUNT] = {0};
    if (args->n_operands == 0) {
        if (each_study_in("results", per_run, counts, &status) == 0 && status == MLP_OK) {
            fprintf(stderr, "mlplab: no planned study under results/\n");
            return MLP_ERR_DATA;
        }
    }
    for (int i = 0; i < args->n_operands; i++) {
        int rc = study_status(args->operands[i], per_run, counts);
        if (rc != MLP_OK)
            status = rc;
    }
    if (status != MLP_OK)
        return status;
    if (counts[STATE_FAILED] > 0)
        return MLP_ERR_RUN;
    if (counts[STATE_PARTIAL] + counts[STATE_RUNNING] + counts[STATE_TODO] > 0)
        return MLP_ERR_INCOMPLETE;
    return MLP_OK;
}
