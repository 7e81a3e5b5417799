/* config_keys.h — the keys of a run config, as one table of rows (after
 * redis's standardConfig): dotted name, type, bounds, default, the field of
 * mlp_config, whether the run id hashes it, and its line in docs/config.md.
 *
 * From the rows follow: the keys each mapping may hold and the did-you-mean
 * over them (config.c), the defaults and the reading of every scalar key
 * (config.c), the scalar keys' canonical form (config_canonical.c), and
 * docs/config.md's table (config_keys_markdown). Structured keys (sizes,
 * inline data, fixed weights, paths, mappings) have hand-written readers and
 * writers but are rows too, so that all those lists stay one list.
 *
 * Static data; nothing to free but config_keys_markdown's text. */
#ifndef MLP_CONFIG_KEYS_H
#define MLP_CONFIG_KEYS_H

#include <stddef.h>

/* How a key is read, defaulted and written back: the scalar types from the
 * row alone, KEY_STRUCTURED by its own code. */
typedef enum key_type { KEY_TEXT, KEY_INT, KEY_SEED, KEY_REAL, KEY_BOOL, KEY_STRUCTURED } key_type;

/* What the canonical form does with a scalar key: part of the run (hashed
 * into the run id) or metadata (in configs/ID.yaml and the run file, not
 * hashed). */
typedef enum key_role { KEY_RUN, KEY_METADATA } key_role;

typedef struct config_key {
    const char *key;                /* dotted, e.g. "train.epochs" */
    key_type type;
    key_role role;
    size_t offset, size;            /* the field in mlp_config (scalar types) */
    long min, max;                  /* KEY_INT, KEY_SEED: bounds */
    double low;                     /* KEY_REAL: lower bound ... */
    int low_open;                   /* ... 1: excluded (learning_rate > 0) */
    int allow_null;                 /* KEY_TEXT: an empty value leaves the default */
    long default_long;              /* KEY_INT, KEY_SEED, KEY_BOOL */
    double default_real;            /* KEY_REAL */
    const char *default_text;       /* KEY_TEXT */
    int omit_default;               /* 1: the canonical form leaves the key out at its
                                       default (a key added after runs were planned:
                                       their run ids stay what they were) */
    /* docs/config.md's row: type, default, allowed values; NULL: not listed */
    const char *doc_type, *doc_default, *doc_allowed;
} config_key;

enum { CONFIG_KEYS_MAX = 64 };      /* rows at most (checked where the table is) */

/* The rows, in the order hints and docs/config.md list them; `extends` last. */
extern const config_key config_keys[];
extern const size_t config_key_count;

/* The row of a dotted key; NULL when there is none. */
const config_key *config_key_find(const char *dotted);

/* The keys of one mapping of a run config: names[0 .. count-1], then NULL. */
typedef struct config_key_list {
    size_t count;
    const char *names[CONFIG_KEYS_MAX + 1];
    char text[CONFIG_KEYS_MAX][64];
} config_key_list;

/* The keys of the mapping at `section` ("" for the top level, "train",
 * "dataset.inline", ...), in row order. */
void config_section_keys(const char *section, config_key_list *out);

/* docs/config.md's table of keys (Markdown: a header, then one row per
 * documented key, in the table's order); tests/test_config.c checks that the
 * docs hold exactly this text. Caller frees; NULL on out-of-memory. */
char *config_keys_markdown(void);

#endif
