/* config_extends.c — see config_extends.h. */
#include "config_extends.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_EXTENDS = 32 };      /* longest extends chain before we call it runaway */

static const char override_origin[] = "command line";   /* "command line: argument N" */

int config_origin_is_override(const char *origin)
{
    return origin != NULL && strncmp(origin, override_origin, sizeof override_origin - 1) == 0;
}

void config_dir_of(const char *path, char *buf, size_t size)
{
    const char *slash = path != NULL ? strrchr(path, '/') : NULL;
    if (slash == NULL)
        buf[0] = '\0';
    else
        snprintf(buf, size, "%.*s", (int)(slash - path + 1), path);
}

int config_resolve_relative(const char *from, const char *rel, char *buf, size_t size)
{
    char dir[1024] = "";
    int from_file = from != NULL && !config_origin_is_override(from);
    if (rel[0] != '/' && from_file)
        config_dir_of(from, dir, sizeof dir);
    int n = snprintf(buf, size, "%s%s", dir, rel);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

typedef struct chain_link {
    char real[PATH_MAX];        /* canonical path, to recognise a cycle */
    char shown[1024];           /* as the user would recognise it */
} chain_link;

static int load_chain(const char *path, chain_link *chain, int depth, yt_node **out,
                      mlp_error *err)
{
    *out = NULL;
    yt_node *tree = yt_load_file(path, err);
    if (tree == NULL)
        return err != NULL ? err->status : MLP_ERR_CONFIG;
    int at = yt_map_index(tree, "extends");
    if (at < 0) {
        *out = tree;
        return 0;
    }
    const yt_node *ext = tree->items[at];
    const char *rel;
    char base_path[1024];
    int rc = 0;
    if (yt_to_string(ext, "extends", &rel, err) != 0) {
        rc = err->status;
    } else if (config_resolve_relative(path, rel, base_path, sizeof base_path) != 0) {
        rc = yt_error_at(err, MLP_ERR_CONFIG, ext->mark, NULL, "extends: path too long");
    } else if (access(base_path, R_OK) != 0) {
        char hint[1200], dir[1024];
        config_dir_of(path, dir, sizeof dir);
        snprintf(hint, sizeof hint, "extends paths are relative to the file that contains "
                 "them (here %s)", dir[0] ? dir : "the current directory");
        rc = yt_error_at(err, MLP_ERR_CONFIG, ext->mark, hint, "extends: cannot read %s: %s",
                         base_path, strerror(errno));
    } else if (depth + 1 >= MAX_EXTENDS) {
        rc = yt_error_at(err, MLP_ERR_CONFIG, ext->mark, NULL,
                         "extends: more than %d files in the chain", MAX_EXTENDS);
    }
    chain_link *link = &chain[depth + 1];
    if (rc == 0 && realpath(base_path, link->real) == NULL)
        rc = yt_error_at(err, MLP_ERR_CONFIG, ext->mark, NULL, "extends: cannot resolve %s: %s",
                         base_path, strerror(errno));
    for (int i = 0; rc == 0 && i <= depth; i++) {
        if (strcmp(chain[i].real, link->real) != 0)
            continue;
        char cycle[2048] = "";
        for (int j = i; j <= depth; j++) {
            size_t used = strlen(cycle);
            snprintf(cycle + used, sizeof cycle - used, "%s -> ", chain[j].shown);
        }
        size_t used = strlen(cycle);
        snprintf(cycle + used, sizeof cycle - used, "%s", base_path);
        rc = yt_error_at(err, MLP_ERR_CONFIG, ext->mark,
                         "a file cannot extend itself, directly or through other files",
                         "extends cycle: %s", cycle);
    }
    yt_node *base = NULL;
    if (rc == 0) {
        snprintf(link->shown, sizeof link->shown, "%s", base_path);
        rc = load_chain(base_path, chain, depth + 1, &base, err);
    }
    if (rc == 0) {
        yt_map_remove(tree, "extends");
        rc = yt_merge(base, tree, err);
    }
    if (rc != 0) {
        yt_free(base);
        yt_free(tree);
        return rc;
    }
    /* the merged root stands for the extending file (for "missing key" errors) */
    yt_mark m = base->mark;
    base->mark = tree->mark;
    tree->mark = m;
    yt_free(tree);
    *out = base;
    return 0;
}

int config_apply_override(yt_node *tree, const char *assignment, int position, mlp_error *err)
{
    char origin[64];
    snprintf(origin, sizeof origin, "%s: argument %d", override_origin, position);
    yt_mark where = {origin, 0, 0};
    static const char hint[] = "write dotted.key=value, e.g. train.learning_rate=0.1 or "
                               "network.sizes=[784,100,10]";
    const char *eq = assignment != NULL ? strchr(assignment, '=') : NULL;
    if (eq == NULL)
        return yt_error_at(err, MLP_ERR_USAGE, where, hint,
                           "'%s' is not an override: it has no '='",
                           assignment != NULL ? assignment : "");
    const char *start = assignment, *end = eq;
    while (start < end && isspace((unsigned char)*start))
        start++;
    while (end > start && isspace((unsigned char)end[-1]))
        end--;
    if (start == end)
        return yt_error_at(err, MLP_ERR_USAGE, where, hint,
                           "'%s' has no key before '='", assignment);
    char key[256];
    if ((size_t)(end - start) >= sizeof key)
        return yt_error_at(err, MLP_ERR_USAGE, where, hint, "the key of '%s' is too long",
                           assignment);
    snprintf(key, sizeof key, "%.*s", (int)(end - start), start);

    yt_node *value = yt_parse_string(eq + 1, origin, err);
    if (value == NULL)
        return err != NULL ? err->status : MLP_ERR_USAGE;
    where.file = value->mark.file;      /* interned: outlives this function */
    /* a mapping overrides key by key, as a file extending another does */
    yt_node *existing = yt_get(tree, key);
    if (existing != NULL && existing->kind == YT_MAPPING && value->kind == YT_MAPPING) {
        int rc = yt_merge(existing, value, err);
        yt_free(value);
        return rc;
    }
    return yt_set(tree, key, value, where, err);
}

int config_load_tree(const char *path, yt_node **out, mlp_error *err)
{
    *out = NULL;
    chain_link *chain = calloc(MAX_EXTENDS, sizeof *chain);
    if (chain == NULL)
        return mlp_error_nomem(err, "the extends chain");
    int rc = 0;
    if (realpath(path, chain[0].real) == NULL)
        rc = mlp_error_set(err, MLP_ERR_CONFIG, "%s: cannot open: %s", path, strerror(errno));
    if (rc == 0) {
        snprintf(chain[0].shown, sizeof chain[0].shown, "%s", path);
        rc = load_chain(path, chain, 0, out, err);
    }
    free(chain);
    return rc;
}
