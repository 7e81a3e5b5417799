/* watched.c — see watched.h. */
#include "watched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnostics.h"
#include "measures.h"
#include "suggest.h"

/* The first scalar of `node` (depth first, in file order) that reads `name`:
 * the hook_args value the hook took the name from, as far as one can tell
 * from outside the script. NULL when none does (the name is the hook's own
 * default). hook_args are at most 64 levels deep (hooks_check_args). */
static const yt_node *find_value(const yt_node *node, const char *name)
{
    if (node == NULL)
        return NULL;
    if (node->kind == YT_SCALAR)
        return node->scalar != NULL && strcmp(node->scalar, name) == 0 ? node : NULL;
    for (size_t i = 0; i < node->count; i++) {
        const yt_node *found = find_value(node->items[i], name);
        if (found != NULL)
            return found;
    }
    return NULL;
}

/* 1 when the history of a run that records `recorded` holds values of the
 * built-in row `m`. */
static int in_history(const measure *m, unsigned recorded)
{
    return m != NULL && m->per_epoch && (m->needs & ~recorded) == 0;
}

/* The names the history holds: the per-epoch rows the run records, then the
 * hook's custom metrics. NULL when out of memory; caller frees the array
 * (its names point into the table and h). */
static const char **history_names(const hooks *h, unsigned recorded, size_t *count)
{
    size_t n_custom = hooks_custom_metric_count(h);
    const char **names = malloc((measures_count + n_custom) * sizeof *names);
    if (names == NULL)
        return NULL;
    *count = 0;
    for (size_t i = 0; i < measures_count; i++)
        if (in_history(&measures_table[i], recorded))
            names[(*count)++] = measures_table[i].name;
    for (size_t i = 0; i < n_custom; i++)
        names[(*count)++] = hooks_custom_metric(h, i);
    return names;
}

/* The same quantity measured on another part of the data (train_cost ->
 * validation_cost), when the run records it: what the hint offers to watch
 * instead. NULL when there is none. */
static const char *counterpart(const char *name, unsigned recorded)
{
    static const char *const parts[] = {"validation_", "train_", "test_"};
    enum { N_PARTS = sizeof parts / sizeof parts[0] };
    const char *quantity = NULL;
    for (size_t i = 0; i < N_PARTS && quantity == NULL; i++)
        if (strncmp(name, parts[i], strlen(parts[i])) == 0)
            quantity = name + strlen(parts[i]);
    for (size_t i = 0; quantity != NULL && i < N_PARTS; i++) {
        char other[128];
        snprintf(other, sizeof other, "%s%s", parts[i], quantity);
        const measure *m = measures_find(other);
        if (strcmp(other, name) != 0 && in_history(m, recorded))
            return m->name;
    }
    return NULL;
}

/* The error for one name the history of the run will not hold. */
static int refuse(const hooks *h, const mlp_config *config, const yt_node *hooks_node,
                  const char *name, unsigned recorded, mlp_error *err)
{
    const char *script = strrchr(config->hooks_path, '/');
    script = script != NULL ? script + 1 : config->hooks_path;
    const yt_node *value = find_value(config->hook_args, name);
    yt_mark mark = value != NULL ? value->mark : hooks_node != NULL ? hooks_node->mark
                                                                    : (yt_mark){NULL, 0, 0};
    const char *by_default = value != NULL ? "" : " by default (no hook_args value names it)";

    const measure *m = measures_find(name);
    if (m != NULL && m->per_epoch) {
        const char *reason = NULL, *hint = NULL;
        measures_unrecorded(m->needs & ~recorded, strcmp(config->dataset_name, "inline") == 0,
                            &reason, &hint);
        const char *instead = counterpart(name, recorded);
        char text[512];
        snprintf(text, sizeof text, "%s%s%s", hint != NULL ? hint : "",
                 instead != NULL ? ", or watch " : "", instead != NULL ? instead : "");
        return yt_error_at(err, MLP_ERR_CONFIG, mark, text[0] != '\0' ? text : NULL,
                           "%s watches '%s'%s, which this run does not record: %s", script, name,
                           by_default, reason);
    }

    size_t count = 0;
    const char **names = history_names(h, recorded, &count);
    if (names == NULL)
        return mlp_error_nomem(err, "the metrics of a run");
    char did_you_mean[160], known[1024];
    suggest_did_you_mean(name, names, count, did_you_mean, sizeof did_you_mean);
    suggest_join(names, count, 0, known, sizeof known);
    free(names);
    const char *what = m != NULL ? "a per-run column (docs/reports.md), which the history does "
                                   "not hold"
                       : diagnostics_metric_name(name) ? "a /diagnostics metric, which the "
                                                         "history does not hold"
                                                       : "not a metric this run records";
    char hint[1200];
    snprintf(hint, sizeof hint, "a hook reads from the history what the run records each "
             "epoch; this run records: %s (docs/hooks.md)", known);
    return yt_error_at(err, MLP_ERR_CONFIG, mark, hint, "%s watches '%s'%s, %s%s", script, name,
                       by_default, what, did_you_mean);
}

int watched_check(const hooks *h, const mlp_config *config, const yt_node *hooks_node,
                  mlp_error *err)
{
    unsigned recorded = measures_recorded(config);
    for (size_t i = 0; i < hooks_watched_metric_count(h); i++) {
        const char *name = hooks_watched_metric(h, i);
        int declared = 0;
        for (size_t j = 0; j < hooks_custom_metric_count(h) && !declared; j++)
            declared = strcmp(hooks_custom_metric(h, j), name) == 0;
        if (!declared && !in_history(measures_find(name), recorded))
            return refuse(h, config, hooks_node, name, recorded, err);
    }
    return MLP_OK;
}
