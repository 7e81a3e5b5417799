/* watched.h — the metrics a run's hook reads from history (its
 * watched_metrics, hooks.h), checked against what the run records.
 *
 * A hook that reads a metric the run never records (a misspelt
 * hook_args.metric, train_cost with train.monitor_train: false) would
 * otherwise fail at the end of the first epoch, or hours into a study. `mlplab
 * plan` and `mlplab run` check it once the hook is loaded, before anything
 * trains. A hook that does not define watched_metrics is not checked.
 *
 * A name is fine when the history of a run of `config` holds a value for it:
 * a per-epoch row of measures.h whose needs the run meets (measures_recorded),
 * or a custom metric the hook itself declares. */
#ifndef MLP_WATCHED_H
#define MLP_WATCHED_H

#include "config.h"
#include "error.h"
#include "hooks.h"
#include "yamltree.h"

/* MLP_OK, or MLP_ERR_CONFIG for the first watched name the run cannot give,
 * located at the hook_args value that holds the name (else at hooks_node, the
 * config's `hooks:` value; else unlocated), with a did-you-mean over the names
 * the run records and a hint (which setting records it, or what to watch). */
int watched_check(const hooks *h, const mlp_config *config, const yt_node *hooks_node,
                  mlp_error *err);

#endif
