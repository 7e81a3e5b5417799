/* cmd_plan.c — `mlplab plan experiments/NAME.yaml [--results DIR] [--quick] [key=value ...]`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "plan.h"

const char cmd_plan_usage[] =
    "usage: mlplab plan STUDY.yaml [--results DIR] [--quick] [key=value ...]\n"
    "\n"
    "Expands a study (cases x sweep x seeds) into runs and writes, under DIR/NAME/:\n"
    "  configs/ID.yaml  the resolved config of each run (`mlplab run` reproduces it)\n"
    "  runs.mk          one make rule per run: make -f DIR/NAME/runs.mk -j N\n"
    "  study.yaml       labels, runs, references and report settings for the tables\n"
    "A study with gradcheck: trains nothing: plan checks it and writes study.yaml and\n"
    "an empty runs.mk; `mlplab table DIR/NAME` runs its gradient checks.\n"
    "Files are rewritten only when their content changes. Every run is validated\n"
    "before anything is written.\n"
    "  --results DIR  where results go (default results; results-quick with --quick)\n"
    "  --quick        the study's quick: profile (default: 2 epochs, 2000/500/500\n"
    "                 examples, first seed only)\n"
    "  key=value      override a field of every run, e.g. train.epochs=5, or a study\n"
    "                 key, e.g. seeds=3\n"
    "See docs/studies.md.\n";

/* done, partial or todo: what the run file on disk says. */
static const char *run_state(const char *study_dir, const char *id)
{
    char path[4096 + 128];     /* study_dir is at most 4096 */
    snprintf(path, sizeof path, "%s/runs/%s.h5", study_dir, id);
    if (access(path, F_OK) == 0)
        return "done";
    snprintf(path, sizeof path, "%s/runs/%s.h5.partial", study_dir, id);
    if (access(path, F_OK) == 0)
        return "partial";
    return "todo";
}

static void print_table(const plan_study *study, const char *study_dir, size_t written)
{
    int width = 5;
    for (size_t i = 0; i < study->n_labels; i++) {
        int len = (int)strlen(study->labels[i]);
        if (len > width)
            width = len;
    }
    size_t done = 0;
    printf("%-12s  %4s  %-7s  %-*s  %s\n", "RUN", "SEED", "STATE", width, "LABEL",
           "DIFFERS FROM THE BASE");
    for (size_t i = 0; i < study->n_runs; i++) {
        const plan_run *r = &study->runs[i];
        const char *state = run_state(study_dir, r->id);
        done += strcmp(state, "done") == 0;
        printf("%.12s  %4lu  %-7s  %-*s  %s\n", r->id, r->seed, state, width, r->label,
               r->differs);
    }
    printf("%s: %zu runs (%zu case%s x %zu sweep point%s x %zu seed%s), %zu done; "
           "%zu config%s written; make -f %s/runs.mk\n",
           study->name, study->n_runs, study->n_cases, study->n_cases == 1 ? "" : "s",
           study->n_points, study->n_points == 1 ? "" : "s", study->n_seeds,
           study->n_seeds == 1 ? "" : "s", done, written, written == 1 ? "" : "s", study_dir);
}

/* A gradient-check study has no runs: one line saying what `mlplab table` will check. */
static void print_gradcheck(const plan_study *study, const char *study_dir)
{
    const yt_node *matrix = yt_get(study->gradcheck, "matrix");
    const yt_node *sizes = yt_get(study->gradcheck, "sizes");
    char shape[256] = "";
    for (size_t i = 0; sizes != NULL && i < sizes->count; i++) {
        size_t used = strlen(shape);
        snprintf(shape + used, sizeof shape - used, "%s%s", i ? "-" : "",
                 sizes->items[i]->scalar);
    }
    printf("%s: a gradient-check study with %zu combinations (matrix %s, network %s); "
           "nothing to train; mlplab table %s runs the check\n",
           study->name, study->n_combinations, matrix != NULL ? matrix->scalar : "?", shape,
           study_dir);
}

int cmd_plan(const cli_values *args)
{
    int status = MLP_OK;
    const char *study_path = args->operands[0], *results_dir = args->results;
    int quick = args->quick;
    if (results_dir == NULL)
        results_dir = quick ? "results-quick" : "results";

    mlp_error err = {0};
    plan_study *study = NULL;
    plan_options plan = {
        .quick = quick, .overrides = args->overrides, .n_overrides = args->n_overrides,
    };
    size_t written = 0;
    status = plan_load(study_path, &plan, &study, &err);
    if (status == MLP_OK)
        status = plan_write(study, results_dir, &written, &err);
    if (status != MLP_OK) {
        cli_print_error(err.message);
        plan_free(study);
        return status;
    }
    char study_dir[4096];
    size_t len = strlen(results_dir);
    while (len > 1 && results_dir[len - 1] == '/')
        len--;
    snprintf(study_dir, sizeof study_dir, "%.*s/%s", (int)len, results_dir, study->name);
    if (study->gradcheck != NULL)
        print_gradcheck(study, study_dir);
    else
        print_table(study, study_dir, written);
    plan_free(study);
    return MLP_OK;
}
