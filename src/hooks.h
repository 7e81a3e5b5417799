/* hooks.h — Lua 5.4 hooks that steer a run: the protocol between the trainer
 * and a script, which runs in the sandbox of sandbox.h (it can only compute).
 *
 * A hook script may define (all optional; see docs/hooks.md):
 *   learning_rate(epoch, history, args) -> number
 *   on_epoch_end(epoch, history, args)  -> nil | "stop" | {name = number, ...}
 *                                          | "stop", {name = number, ...}
 *   custom_metrics = {"name", ...}         the names on_epoch_end may return, or
 *   custom_metrics(args) -> {"name", ...}  a function of hook_args giving them
 *   watched_metrics = {"name", ...}        the metrics the hooks read from history,
 *   watched_metrics(args) -> {"name", ...} as a list or a function of hook_args
 * `history` is a read-only array of earlier epochs (history[1] is epoch 0), each
 * a table with the fields of metrics_field_names and the custom metrics so far.
 * `args` is the config's hook_args as a Lua table (read-only).
 *
 * The functions are looked up once, after the script's top level ran; the
 * globals are read-only from then on. custom_metrics is read (or called) then
 * too: each name an identifier, not a built-in metric's (measures.h), listed
 * once; `mlplab plan` checks a study's report against these names, and
 * on_epoch_end returning a name not among them is an error. watched_metrics
 * is read then too (any strings): watched.h checks them against what the run
 * records, before its first epoch. Each call runs under its own instruction
 * budget (sandbox.h). Any error, wrong return type, NaN or negative learning
 * rate is reported as "script.lua:LINE: message" with a traceback.
 *
 * Ownership: hooks_new allocates *out; hooks_free frees it. */
#ifndef MLP_HOOKS_H
#define MLP_HOOKS_H

#include <stddef.h>

#include "error.h"
#include "metrics.h"
#include "sandbox.h"
#include "yamltree.h"

typedef struct hooks hooks;

/* instructions_per_call (default 10,000,000) and memory_bytes (64 MiB); 0: the default. */
typedef sandbox_limits hooks_limits;

/* Loads the script (text only), runs its top level once in the sandbox.
 * args may be NULL (an empty table). limits may be NULL for the defaults. */
int hooks_new(const char *script_path, const yt_node *args, const hooks_limits *limits,
              hooks **out, mlp_error *err);
void hooks_free(hooks *h);

/* The rules hooks_new applies to hook_args before it loads the script: a
 * mapping, no key base_learning_rate (mlplab sets it), nested at most 64
 * levels. Each error is located at the offending node ("file:line:col", the
 * line, a caret, a hint); status MLP_ERR_CONFIG. args may be NULL. `mlplab
 * plan` calls it, then hooks_new, so that a study with a broken hook is
 * refused before anything trains. */
int hooks_check_args(const yt_node *args, mlp_error *err);

/* 1 if the script defines the function. */
int hooks_has_learning_rate(const hooks *h);
int hooks_has_epoch_end(const hooks *h);

/* The learning rate for `epoch` (1-based training epoch); history holds epochs
 * 0 .. epoch-1. If the script has no learning_rate, *rate = default_rate. */
int hooks_learning_rate(hooks *h, int epoch, const metrics_history *history,
                        double default_rate, double *rate, mlp_error *err);

/* Called after `epoch` was appended to history. Custom metrics returned are
 * stored into history (metrics_history_set_custom) at that epoch; *stop is set
 * to 1 if the script returned "stop". */
int hooks_epoch_end(hooks *h, int epoch, metrics_history *history, int *stop, mlp_error *err);

/* The custom metrics the script declares, in the order it lists them (owned
 * by h): i < hooks_custom_metric_count, else NULL. */
size_t hooks_custom_metric_count(const hooks *h);
const char *hooks_custom_metric(const hooks *h, size_t i);

/* The metrics the script says its hooks read from history (watched_metrics),
 * in its order (owned by h); none when it does not say, and then nothing
 * can be checked. */
size_t hooks_watched_metric_count(const hooks *h);
const char *hooks_watched_metric(const hooks *h, size_t i);

/* The script's SHA-256 (hex) and its source text (owned by h). */
const char *hooks_sha256(const hooks *h);
const char *hooks_source(const hooks *h);

#endif
