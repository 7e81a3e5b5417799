/* yamltree.h — a YAML document as a small tree that remembers where each node
 * was written, so that any later check can point at file:line:column.
 *
 * Parsing goes through libyaml; nothing here tokenizes YAML by hand. Only what
 * configs need is kept: mappings (ordered, string keys), sequences and scalars
 * (kept as the text written, with a flag for quoted scalars, which are always
 * strings). Anchors/aliases and tags are rejected with a clear error.
 *
 * Ownership: every yt_node returned by a _load/_parse/_copy/_new function is
 * owned by the caller and freed with yt_free (which frees the whole subtree).
 * Functions that take a `yt_node *value` to insert into a tree take ownership
 * of it, on success and on failure alike. */
#ifndef MLP_YAMLTREE_H
#define MLP_YAMLTREE_H

#include <stddef.h>

#include "error.h"

typedef enum yt_kind { YT_SCALAR, YT_SEQUENCE, YT_MAPPING } yt_kind;

/* Where a node was written. `file` is the path as given to yt_load_file, or an
 * origin such as "command line" for values parsed from arguments. line and
 * column are 1-based; 0 when unknown. */
typedef struct yt_mark {
    const char *file;        /* interned: valid as long as any tree from that file lives */
    unsigned line, column;
} yt_mark;

typedef struct yt_node yt_node;
struct yt_node {
    yt_kind kind;
    yt_mark mark;            /* where the value starts */
    char *scalar;            /* YT_SCALAR: the text as written (unquoted) */
    int quoted;              /* YT_SCALAR: written in quotes, so a string even if it looks numeric */
    size_t count;            /* YT_SEQUENCE / YT_MAPPING: number of items / entries */
    yt_node **items;         /* YT_SEQUENCE: the items; YT_MAPPING: the values */
    char **keys;             /* YT_MAPPING: the keys, parallel to items */
    yt_mark *key_marks;      /* YT_MAPPING: where each key was written */
};

/* Loads a file holding a single YAML document whose root is a mapping.
 * Syntax errors read "file:line:col: message", then the line and a caret. */
yt_node *yt_load_file(const char *path, mlp_error *err);

/* Parses text (a whole document, or a flow value such as "[784, 30, 10]",
 * "0.5" or "{a: 1}") with `origin` standing for the file name in marks. */
yt_node *yt_parse_string(const char *text, const char *origin, mlp_error *err);

void yt_free(yt_node *node);
yt_node *yt_copy(const yt_node *node);           /* deep copy; NULL on out-of-memory */
yt_node *yt_new_scalar(const char *text, yt_mark mark);
yt_node *yt_new_sequence(yt_mark mark);
yt_node *yt_new_mapping(yt_mark mark);
int yt_append(yt_node *sequence, yt_node *value, mlp_error *err);   /* takes value */

/* Mapping look-up of one key (no dots); NULL when absent or not a mapping. */
yt_node *yt_map_get(const yt_node *map, const char *key);
/* Index of key in map, or -1. */
int yt_map_index(const yt_node *map, const char *key);
/* Sets map[key] = value, replacing an existing entry in place (keeps order). */
int yt_map_set(yt_node *map, const char *key, yt_node *value, yt_mark key_mark, mlp_error *err);
/* Removes key from map if present; returns 1 if removed. */
int yt_map_remove(yt_node *map, const char *key);

/* Dotted paths: "train.learning_rate" walks nested mappings. yt_get returns NULL
 * if any step is missing. yt_set creates missing intermediate mappings and fails
 * (with a message naming the path) if a step is not a mapping. */
yt_node *yt_get(const yt_node *root, const char *dotted);
int yt_set(yt_node *root, const char *dotted, yt_node *value, yt_mark mark, mlp_error *err);

/* Deep merge: every key of `over` replaces the same key of `base`, except that
 * two mappings merge key by key. Sequences and scalars replace whole. */
int yt_merge(yt_node *base, const yt_node *over, mlp_error *err);

/* Scalar conversions. Each returns 0 on success, or fills err with
 * "file:line:col: FIELD must be ..." plus the offending line and a caret, where
 * FIELD is `what` (the dotted key the caller is reading). */
int yt_to_double(const yt_node *node, const char *what, double *out, mlp_error *err);
int yt_to_long(const yt_node *node, const char *what, long *out, mlp_error *err);
int yt_to_bool(const yt_node *node, const char *what, int *out, mlp_error *err);
int yt_to_string(const yt_node *node, const char *what, const char **out, mlp_error *err);
/* 0 when every key of map is one of the n names in allowed; else, at the
 * first other key, "unknown key 'K' in WHAT; did you mean 'X'?" (when one is
 * near, suggest.h) with hint, or when hint is NULL "the keys of WHAT are: ...".
 * Status MLP_ERR_CONFIG. */
int yt_check_keys(const yt_node *map, const char *const *allowed, size_t n, const char *what,
                  const char *hint, mlp_error *err);

/* 1 if node is a plain scalar YAML reads as null ("", ~, null, Null, NULL). */
int yt_is_null(const yt_node *node);

/* What node is, for "must be X, not <this>": "a mapping", "a list", "an
 * empty value", "the boolean true", "the number 5", "the string 'abc'". */
void yt_describe(const yt_node *node, char *buf, size_t size);

/* "file:line:col: WHAT must be EXPECTED, not <yt_describe>" with the hint (may
 * be NULL; WHAT NULL: "the value"), status MLP_ERR_CONFIG. Returns the status. */
int yt_error_kind(const yt_node *node, const char *what, const char *expected, const char *hint,
                  mlp_error *err);

/* 0 when node is of `kind`, else "file:line:col: WHAT must be a list" (mapping,
 * scalar) with the hint (may be NULL), status MLP_ERR_CONFIG. */
int yt_expect_kind(const yt_node *node, yt_kind kind, const char *what, const char *hint,
                   mlp_error *err);

/* Formats an error located at `mark`: "file:line:col: <message>", then the
 * source line and a caret under the column (when the file can be read), then
 * "hint: <hint>" if hint is non-NULL. Returns status. */
int yt_error_at(mlp_error *err, int status, yt_mark mark, const char *hint,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Building a tree to emit (study.yaml, a canonical config) without checking
 * every call: each yt_build_* sets b->failed when out of memory or given a
 * NULL node, frees a value it cannot place, and returns what it placed or
 * made (NULL on failure), so a builder checks b->failed once at the end. */
typedef struct yt_builder {
    int failed;
} yt_builder;
/* map[key] = value (yt_map_set); returns value. */
yt_node *yt_build_put(yt_builder *b, yt_node *map, const char *key, yt_node *value);
/* Appends value to seq. */
void yt_build_append(yt_builder *b, yt_node *seq, yt_node *value);
/* A scalar of text; quoted: a string, whatever it looks like. */
yt_node *yt_build_text(yt_builder *b, const char *text, int quoted);

/* A real as canonical emission writes it: the shortest text that reads back
 * to d (numtext.h), with a dot so that it still reads as a real ("3.0",
 * "1.0e-07"); .nan, .inf, -.inf. */
void yt_format_real(double d, char *buf, size_t size);

/* Canonical text of a tree: mapping keys sorted, numbers written in one form
 * (integers as integers, reals with the shortest text that reads back to the
 * same double, "1e-3" and "0.001" alike), strings quoted only when needed,
 * block style, emitted through libyaml. Two trees that mean the same give the
 * same text; the result is malloc'ed, the caller frees it. */
char *yt_emit_canonical(const yt_node *node, mlp_error *err);

#endif
