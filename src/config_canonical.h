/* config_canonical.h — the canonical form of a resolved run config, and the
 * run id made from it.
 *
 * The canonical YAML has every field with its default filled in, keys sorted,
 * numbers in one form (reals with the shortest text that reads back, "3.0"
 * rather than "3"), strings quoted. It is what results/NAME/configs/ID.yaml
 * and a run file's `config` attribute hold. Without metadata (experiment,
 * label, description, dataset.dir, the hooks path) it is what a run *is*:
 * its SHA-256, followed by the SHA-256 of the hook script's bytes when there
 * is one, is the run id. Where files are is not part of it.
 *
 * Ownership: config_canonical_yaml's text is the caller's (free). */
#ifndef MLP_CONFIG_CANONICAL_H
#define MLP_CONFIG_CANONICAL_H

#include "config.h"
#include "error.h"

/* include_metadata = 0: the text the run id hashes. NULL on failure. */
char *config_canonical_yaml(const mlp_config *config, int include_metadata, mlp_error *err);

/* The run id: 64 lowercase hex digits and a NUL. */
int config_run_id(const mlp_config *config, char id[65], mlp_error *err);

#endif
