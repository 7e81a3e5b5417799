/* config_extends.h — YAML files that extend other files, and key=value
 * overrides from the command line: the loading under run configs (config.c)
 * and study files (plan.c) alike. No validation here; that is the caller's.
 *
 * `extends: PATH`, relative to the file that holds it, names a base file; the
 * extending file's keys are merged over the base's, mapping by mapping
 * (yt_merge). Chains are followed up to 32 files; a cycle is an error that
 * lists it. The merged root keeps the extending file's mark.
 *
 * An override "dotted.key=value" parses value as YAML flow text and sets it
 * at the dotted key (a mapping is merged key by key); its mark reads
 * "command line: argument N", and paths in it stay relative to the current
 * directory.
 *
 * Ownership: config_load_tree allocates *out; the caller frees it (yt_free). */
#ifndef MLP_CONFIG_EXTENDS_H
#define MLP_CONFIG_EXTENDS_H

#include <stddef.h>

#include "error.h"
#include "yamltree.h"

/* Loads path and follows its `extends:` chain, merging each file over its base. */
int config_load_tree(const char *path, yt_node **out, mlp_error *err);

/* Parses "a.b=value" (position: the argument's number, for the mark) and
 * applies it to tree. A malformed assignment is MLP_ERR_USAGE. */
int config_apply_override(yt_node *tree, const char *assignment, int position, mlp_error *err);

/* 1 if a mark's origin is an override rather than a file. */
int config_origin_is_override(const char *origin);

/* dir_of("a/b/c.yaml") = "a/b/"; "" for a bare name or NULL. */
void config_dir_of(const char *path, char *buf, size_t size);

/* rel resolved against the directory of `from` (a mark's origin); absolute
 * paths and paths from an override stay as written. -1 if too long. */
int config_resolve_relative(const char *from, const char *rel, char *buf, size_t size);

#endif
