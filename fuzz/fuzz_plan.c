/* fuzz_plan.c — libFuzzer target: the study planner.
 *
 * Input: a study file. It is written to FUZZ_PLAN_DIR/experiments/fuzz.yaml
 * (default build/fuzz/plan/experiments/, which `make fuzz` sets up with
 * ../configs and ../lua beside it, so that the shipped studies' `extends:` and
 * `hooks:` resolve) and planned with and without the quick profile; the
 * manifest and runs.mk are rendered, nothing is written. Any input may be
 * refused; none may crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = getenv("FUZZ_PLAN_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/experiments/fuzz.yaml",
             dir != NULL ? dir : "build/fuzz/plan");
    FILE *file = fopen(path, "wb");
    if (file == NULL)
        abort();            /* the harness is set up wrong: say so at once */
    fwrite(data, 1, size, file);
    fclose(file);
    for (int quick = 0; quick <= 1; quick++) {
        plan_options options = {.quick = quick};
        plan_study *study = NULL;
        mlp_error err = {0};
        if (plan_load(path, &options, &study, &err) != 0)
            continue;
        free(plan_study_yaml(study, &err));
        free(plan_runs_mk(study, "results/fuzz", &err));
        plan_free(study);
    }
    return 0;
}
