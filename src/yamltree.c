/* yamltree.c — see yamltree.h.
 *
 * libyaml does the reading (its event parser) and the writing (its emitter);
 * this file only builds the tree, remembers marks, resolves plain scalars
 * (null, true/false and numbers as in the YAML 1.2 core schema) and formats
 * errors.
 *
 * File names in marks are interned in one small process-wide table with
 * reference counts: marks are copied by value everywhere (the header fixes
 * `const char *file`), so a node cannot own its file name, yet every tree
 * must be able to outlive the others. Each node and each key mark holds one
 * reference. The table is guarded by a mutex. Names parsed from memory
 * (yt_parse_string) also keep their text, so errors can show the line. */
#include "yamltree.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#include "numtext.h"
#include "suggest.h"

enum {
    YT_MAX_DEPTH = 200,         /* nesting limit: deeper input is refused, not recursed into */
    SOURCE_WINDOW = 150,        /* bytes of a long source line shown around the caret */
    SOURCE_LEAD = 60            /* of which before the caret */
};

/* ---------------------------------------------------------------------------
 * Interned origins (file names, or "command line: ..." with their text)
 * ------------------------------------------------------------------------- */

typedef struct origin {
    char *name;
    char *text;                 /* source held in memory, or NULL: read the file */
    size_t refs;
    struct origin *next;
} origin;

static pthread_mutex_t origins_lock = PTHREAD_MUTEX_INITIALIZER;
static origin *origins;

/* Finds the entry whose name is exactly this pointer. Lock held. */
static origin *origin_by_pointer(const char *name)
{
    for (origin *o = origins; o != NULL; o = o->next)
        if (o->name == name)
            return o;
    return NULL;
}

static origin *origin_create(const char *name, const char *text)
{
    origin *o = calloc(1, sizeof *o);
    if (o == NULL)
        return NULL;
    o->name = strdup(name);
    o->text = text != NULL ? strdup(text) : NULL;
    if (o->name == NULL || (text != NULL && o->text == NULL)) {
        free(o->name);
        free(o->text);
        free(o);
        return NULL;
    }
    o->next = origins;
    origins = o;
    return o;
}

/* One more reference to the origin `name` with `text` (NULL: a file, whose
 * content is read when needed): the entry whose name is this very pointer
 * when text is NULL, else the one with the same name and text, else a new
 * one. NULL for a NULL name, or on out-of-memory. */
static const char *origin_acquire(const char *name, const char *text)
{
    if (name == NULL)
        return NULL;
    pthread_mutex_lock(&origins_lock);
    origin *o = text == NULL ? origin_by_pointer(name) : NULL;
    for (origin *it = origins; o == NULL && it != NULL; it = it->next)
        if ((it->text == NULL) == (text == NULL) && strcmp(it->name, name) == 0
            && (text == NULL || strcmp(it->text, text) == 0))
            o = it;
    if (o == NULL)
        o = origin_create(name, text);
    if (o != NULL)
        o->refs++;
    pthread_mutex_unlock(&origins_lock);
    return o != NULL ? o->name : NULL;
}

static void origin_release(const char *name)
{
    if (name == NULL)
        return;
    pthread_mutex_lock(&origins_lock);
    for (origin **link = &origins; *link != NULL; link = &(*link)->next) {
        origin *o = *link;
        if (o->name != name)
            continue;
        if (--o->refs == 0) {
            *link = o->next;
            free(o->name);
            free(o->text);
            free(o);
        }
        break;
    }
    pthread_mutex_unlock(&origins_lock);
}

/* Copies into buf the text of line `line` (1-based) of the origin's source.
 * Returns 1 on success; *in_memory tells whether the source was held in memory
 * and *single_line whether that text is one line. The caller's mark keeps the
 * entry alive. */
static int origin_source_line(const char *name, unsigned line, char *buf, size_t size,
                              int *in_memory, int *single_line)
{
    *in_memory = 0;
    *single_line = 0;
    if (name == NULL || line == 0 || size == 0)
        return 0;
    const char *text = NULL;
    pthread_mutex_lock(&origins_lock);
    origin *o = origin_by_pointer(name);
    if (o != NULL)
        text = o->text;
    pthread_mutex_unlock(&origins_lock);

    if (text != NULL) {
        *in_memory = 1;
        *single_line = strchr(text, '\n') == NULL;
        const char *p = text;
        for (unsigned l = 1; l < line && p != NULL; l++) {
            p = strchr(p, '\n');
            if (p != NULL)
                p++;
        }
        if (p == NULL)
            return 0;
        size_t n = strcspn(p, "\r\n");
        if (n >= size)
            n = size - 1;
        memcpy(buf, p, n);
        buf[n] = '\0';
        return 1;
    }

    FILE *f = fopen(name, "r");
    if (f == NULL)
        return 0;
    char *lineptr = NULL;
    size_t cap = 0;
    ssize_t got = -1;
    for (unsigned l = 1; l <= line; l++) {
        got = getline(&lineptr, &cap, f);
        if (got < 0)
            break;
    }
    fclose(f);
    int ok = got >= 0;
    if (ok) {
        size_t n = strcspn(lineptr, "\r\n");
        if (n >= size)
            n = size - 1;
        memcpy(buf, lineptr, n);
        buf[n] = '\0';
    }
    free(lineptr);
    return ok;
}

/* ---------------------------------------------------------------------------
 * Error formatting
 * ------------------------------------------------------------------------- */

static int is_utf8_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/* Appends to out the source line (a window of it when long) and a caret under
 * `column` (1-based, counted in characters as libyaml counts them). */
static void append_source(char *out, size_t size, const char *line, unsigned column)
{
    size_t len = strlen(line);
    size_t caret = 0;                   /* byte offset of the column */
    for (unsigned c = 1; c < column && caret < len; c++) {
        caret++;
        while (caret < len && is_utf8_continuation((unsigned char)line[caret]))
            caret++;
    }
    size_t start = 0, end = len;
    if (len > SOURCE_WINDOW) {
        start = caret > SOURCE_LEAD ? caret - SOURCE_LEAD : 0;
        while (start > 0 && is_utf8_continuation((unsigned char)line[start]))
            start--;
        end = start + SOURCE_WINDOW < len ? start + SOURCE_WINDOW : len;
        while (end < len && is_utf8_continuation((unsigned char)line[end]))
            end--;
    }
    const char *before = start > 0 ? "..." : "";
    const char *after = end < len ? "..." : "";

    char pad[SOURCE_WINDOW + 8];
    size_t n = 0;
    if (start > 0)
        for (int i = 0; i < 3; i++)
            pad[n++] = ' ';
    for (size_t i = start; i < caret && i < end && n + 1 < sizeof pad; i++) {
        if (is_utf8_continuation((unsigned char)line[i]))
            continue;
        pad[n++] = line[i] == '\t' ? '\t' : ' ';
    }
    pad[n] = '\0';
    size_t used = strlen(out);
    snprintf(out + used, size - used, "\n  %s%.*s%s\n  %s^", before, (int)(end - start),
             line + start, after, pad);
}

int yt_error_at(mlp_error *err, int status, yt_mark mark, const char *hint, const char *fmt, ...)
{
    if (err == NULL)
        return status;
    char message[MLP_ERROR_MESSAGE_MAX - 1024];    /* room left for the file name and line */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);

    char line[4096];
    int in_memory = 0, single_line = 0;
    int have_line = origin_source_line(mark.file, mark.line, line, sizeof line, &in_memory,
                                       &single_line);
    char out[MLP_ERROR_MESSAGE_MAX];
    if (mark.file == NULL)
        snprintf(out, sizeof out, "%s", message);
    else if (mark.line == 0 || (in_memory && single_line))
        snprintf(out, sizeof out, "%s: %s", mark.file, message);
    else
        snprintf(out, sizeof out, "%s:%u:%u: %s", mark.file, mark.line, mark.column, message);
    if (have_line)
        append_source(out, sizeof out, line, mark.column);
    if (hint != NULL) {
        size_t used = strlen(out);
        snprintf(out + used, sizeof out - used, "\nhint: %s", hint);
    }
    return mlp_error_set(err, status, "%s", out);
}

/* ---------------------------------------------------------------------------
 * Nodes
 * ------------------------------------------------------------------------- */

/* Takes a reference for a mark stored in a node. Returns 0, or -1 on OOM. */
static int mark_hold(yt_mark in, yt_mark *out)
{
    *out = in;
    if (in.file == NULL)
        return 0;
    out->file = origin_acquire(in.file, NULL);
    return out->file != NULL ? 0 : -1;
}

static yt_node *node_new(yt_kind kind, yt_mark mark)
{
    yt_node *n = calloc(1, sizeof *n);
    if (n == NULL)
        return NULL;
    n->kind = kind;
    if (mark_hold(mark, &n->mark) != 0) {
        free(n);
        return NULL;
    }
    return n;
}

yt_node *yt_new_scalar(const char *text, yt_mark mark)
{
    yt_node *n = node_new(YT_SCALAR, mark);
    if (n == NULL)
        return NULL;
    n->scalar = strdup(text != NULL ? text : "");
    if (n->scalar == NULL) {
        yt_free(n);
        return NULL;
    }
    return n;
}

yt_node *yt_new_sequence(yt_mark mark)
{
    return node_new(YT_SEQUENCE, mark);
}

yt_node *yt_new_mapping(yt_mark mark)
{
    return node_new(YT_MAPPING, mark);
}

void yt_free(yt_node *node)
{
    if (node == NULL)
        return;
    for (size_t i = 0; i < node->count; i++) {
        yt_free(node->items[i]);
        if (node->kind == YT_MAPPING) {
            free(node->keys[i]);
            origin_release(node->key_marks[i].file);
        }
    }
    free(node->items);
    free(node->keys);
    free(node->key_marks);
    free(node->scalar);
    origin_release(node->mark.file);
    free(node);
}

/* Arrays grow to the next power of two (at least 4), so appending n items
 * costs O(n); the capacity is implied by count (the struct has no field for
 * it). Returns 1 and the new capacity when an append at `count` must grow. */
static int next_capacity(size_t count, size_t *want)
{
    if (count == 0)
        *want = 4;
    else if (count >= 4 && (count & (count - 1)) == 0)
        *want = count * 2;
    else
        return 0;
    return 1;
}

/* Appends without checks; takes value. Returns 0 or -1 on OOM (value freed). */
static int seq_push(yt_node *seq, yt_node *value)
{
    size_t want;
    if (next_capacity(seq->count, &want)) {
        yt_node **items = realloc(seq->items, want * sizeof *items);
        if (items == NULL) {
            yt_free(value);
            return -1;
        }
        seq->items = items;
    }
    seq->items[seq->count++] = value;
    return 0;
}

/* Appends a new entry (no duplicate check); takes value. 0 or -1 on OOM. */
static int map_push(yt_node *map, const char *key, yt_node *value, yt_mark key_mark)
{
    size_t want;
    if (next_capacity(map->count, &want)) {
        yt_node **items = realloc(map->items, want * sizeof *items);
        if (items != NULL)
            map->items = items;
        char **keys = items != NULL ? realloc(map->keys, want * sizeof *keys) : NULL;
        if (keys != NULL)
            map->keys = keys;
        yt_mark *marks = keys != NULL ? realloc(map->key_marks, want * sizeof *marks) : NULL;
        if (marks == NULL) {
            yt_free(value);
            return -1;
        }
        map->key_marks = marks;
    }
    yt_mark held;
    char *k = strdup(key);
    if (k == NULL || mark_hold(key_mark, &held) != 0) {
        free(k);
        yt_free(value);
        return -1;
    }
    map->items[map->count] = value;
    map->keys[map->count] = k;
    map->key_marks[map->count] = held;
    map->count++;
    return 0;
}

yt_node *yt_copy(const yt_node *node)
{
    if (node == NULL)
        return NULL;
    yt_node *c = node->kind == YT_SCALAR ? yt_new_scalar(node->scalar, node->mark)
                                          : node_new(node->kind, node->mark);
    if (c == NULL)
        return NULL;
    c->quoted = node->quoted;
    for (size_t i = 0; i < node->count; i++) {
        yt_node *item = yt_copy(node->items[i]);
        int rc = item == NULL ? -1
                 : node->kind == YT_MAPPING ? map_push(c, node->keys[i], item, node->key_marks[i])
                                            : seq_push(c, item);
        if (rc != 0) {
            yt_free(c);
            return NULL;
        }
    }
    return c;
}

int yt_append(yt_node *sequence, yt_node *value, mlp_error *err)
{
    if (sequence == NULL || sequence->kind != YT_SEQUENCE) {
        yt_free(value);
        return mlp_error_set(err, MLP_ERR_RUN, "yt_append: not a sequence");
    }
    if (value == NULL)
        return mlp_error_nomem(err, "a YAML node");
    if (seq_push(sequence, value) != 0)
        return mlp_error_nomem(err, "a YAML sequence");
    return 0;
}

int yt_map_index(const yt_node *map, const char *key)
{
    if (map == NULL || map->kind != YT_MAPPING || key == NULL)
        return -1;
    for (size_t i = 0; i < map->count; i++)
        if (strcmp(map->keys[i], key) == 0)
            return (int)i;
    return -1;
}

yt_node *yt_map_get(const yt_node *map, const char *key)
{
    int i = yt_map_index(map, key);
    return i < 0 ? NULL : map->items[i];
}

int yt_map_set(yt_node *map, const char *key, yt_node *value, yt_mark key_mark, mlp_error *err)
{
    if (map == NULL || map->kind != YT_MAPPING) {
        /* The message first: key_mark may be value's own, which yt_free releases. */
        int rc = yt_error_at(err, MLP_ERR_CONFIG, key_mark, NULL,
                             "cannot set '%s': the parent is not a mapping", key);
        yt_free(value);
        return rc;
    }
    if (value == NULL)
        return mlp_error_nomem(err, "a YAML node");
    int i = yt_map_index(map, key);
    if (i < 0) {
        if (map_push(map, key, value, key_mark) != 0)
            return mlp_error_nomem(err, "a YAML mapping");
        return 0;
    }
    yt_mark held;
    if (mark_hold(key_mark, &held) != 0) {
        yt_free(value);
        return mlp_error_nomem(err, "a YAML mark");
    }
    origin_release(map->key_marks[i].file);
    map->key_marks[i] = held;
    yt_free(map->items[i]);
    map->items[i] = value;
    return 0;
}

int yt_map_remove(yt_node *map, const char *key)
{
    int i = yt_map_index(map, key);
    if (i < 0)
        return 0;
    yt_free(map->items[i]);
    free(map->keys[i]);
    origin_release(map->key_marks[i].file);
    size_t tail = map->count - (size_t)i - 1;
    memmove(&map->items[i], &map->items[i + 1], tail * sizeof *map->items);
    memmove(&map->keys[i], &map->keys[i + 1], tail * sizeof *map->keys);
    memmove(&map->key_marks[i], &map->key_marks[i + 1], tail * sizeof *map->key_marks);
    map->count--;
    return 1;
}

/* Splits a dotted path into a malloc'ed copy whose segments are NUL-separated;
 * *segments receives the count. NULL if a segment is empty. */
static char *split_dotted(const char *dotted, size_t *segments)
{
    if (dotted == NULL || dotted[0] == '\0')
        return NULL;
    char *copy = strdup(dotted);
    if (copy == NULL)
        return NULL;
    size_t n = 1;
    for (char *p = copy; *p != '\0'; p++)
        if (*p == '.') {
            *p = '\0';
            n++;
        }
    /* every segment must be non-empty */
    char *p = copy;
    for (size_t i = 0; i < n; i++) {
        if (*p == '\0') {
            free(copy);
            return NULL;
        }
        p += strlen(p) + 1;
    }
    *segments = n;
    return copy;
}

yt_node *yt_get(const yt_node *root, const char *dotted)
{
    size_t n = 0;
    char *segs = split_dotted(dotted, &n);
    if (segs == NULL)
        return NULL;
    const yt_node *cur = root;
    char *seg = segs;
    for (size_t i = 0; i < n && cur != NULL; i++) {
        cur = yt_map_get(cur, seg);
        seg += strlen(seg) + 1;
    }
    free(segs);
    return (yt_node *)cur;
}

int yt_set(yt_node *root, const char *dotted, yt_node *value, yt_mark mark, mlp_error *err)
{
    size_t n = 0;
    char *segs = split_dotted(dotted, &n);
    if (segs == NULL) {
        /* The message first: mark may be value's own, which yt_free releases. */
        int rc = yt_error_at(err, MLP_ERR_CONFIG, mark, "write keys as words joined by dots, "
                             "e.g. train.learning_rate", "'%s' is not a valid dotted key",
                             dotted != NULL ? dotted : "");
        yt_free(value);
        return rc;
    }
    yt_node *cur = root;
    char *seg = segs;
    for (size_t i = 0; i + 1 < n; i++) {
        yt_node *next = yt_map_get(cur, seg);
        if (next == NULL) {
            next = yt_new_mapping(mark);
            int rc = next == NULL ? mlp_error_nomem(err, "a YAML mapping")
                                  : yt_map_set(cur, seg, next, mark, err);
            if (rc != 0) {
                free(segs);
                yt_free(value);
                return rc;
            }
        } else if (next->kind != YT_MAPPING) {
            size_t prefix = (size_t)(seg - segs) + strlen(seg);
            int rc = yt_error_at(err, MLP_ERR_CONFIG, mark, NULL,
                                 "cannot set '%s': '%.*s' is not a mapping", dotted,
                                 (int)prefix, dotted);
            free(segs);
            yt_free(value);
            return rc;
        }
        cur = next;
        seg += strlen(seg) + 1;
    }
    int rc = yt_map_set(cur, seg, value, mark, err);
    free(segs);
    return rc;
}

int yt_merge(yt_node *base, const yt_node *over, mlp_error *err)
{
    if (base == NULL || over == NULL || base->kind != YT_MAPPING || over->kind != YT_MAPPING)
        return mlp_error_set(err, MLP_ERR_CONFIG, "yt_merge: both sides must be mappings");
    for (size_t i = 0; i < over->count; i++) {
        yt_node *target = yt_map_get(base, over->keys[i]);
        if (target != NULL && target->kind == YT_MAPPING && over->items[i]->kind == YT_MAPPING) {
            if (yt_merge(target, over->items[i], err) != 0)
                return err != NULL ? err->status : MLP_ERR_CONFIG;
            continue;
        }
        yt_node *copy = yt_copy(over->items[i]);
        if (copy == NULL)
            return mlp_error_nomem(err, "a YAML node");
        if (yt_map_set(base, over->keys[i], copy, over->key_marks[i], err) != 0)
            return err != NULL ? err->status : MLP_ERR_CONFIG;
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * Parsing (libyaml events → tree)
 * ------------------------------------------------------------------------- */

typedef struct parse_ctx {
    yaml_parser_t parser;
    const char *origin;         /* interned; the context holds one reference */
    mlp_error *err;
} parse_ctx;

static yt_mark mark_from(const parse_ctx *c, yaml_mark_t m)
{
    yt_mark mark = {c->origin, (unsigned)m.line + 1, (unsigned)m.column + 1};
    return mark;
}

static int parser_failed(parse_ctx *c)
{
    yaml_parser_t *p = &c->parser;
    if (p->error == YAML_MEMORY_ERROR)
        return mlp_error_nomem(c->err, "the YAML parser");
    if (p->error == YAML_READER_ERROR) {
        yt_mark m = {c->origin, 0, 0};
        return yt_error_at(c->err, MLP_ERR_CONFIG, m, "save the file as UTF-8 text",
                           "%s (at byte %zu)", p->problem != NULL ? p->problem : "unreadable",
                           p->problem_offset);
    }
    yt_mark m = mark_from(c, p->problem_mark);
    char line[4096];
    int in_memory, single_line;
    int have_line = origin_source_line(c->origin, m.line, line, sizeof line, &in_memory,
                                       &single_line);
    int tab = have_line && strchr(line, '\t') != NULL;
    const char *hint = tab ? "YAML indents with spaces; this line has a tab"
                           : "check the indentation, the space after each ':' and that every "
                             "bracket and quote is closed";
    const char *problem = p->problem != NULL ? p->problem : "invalid YAML";
    if (p->context == NULL)
        return yt_error_at(c->err, MLP_ERR_CONFIG, m, hint, "%s", problem);
    if (!have_line)     /* the text ended first: point where the open construct began */
        return yt_error_at(c->err, MLP_ERR_CONFIG, mark_from(c, p->context_mark), hint,
                           "%s %s that starts here; the text ends before it is closed",
                           problem, p->context);
    return yt_error_at(c->err, MLP_ERR_CONFIG, m, hint, "%s %s (started on line %u)", problem,
                       p->context, (unsigned)p->context_mark.line + 1);
}

static int next_event(parse_ctx *c, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&c->parser, ev))
        return parser_failed(c);
    return 0;
}

/* Refuses anchors and tags: the tree has no place for them, and silently
 * dropping them would change what the file means. */
static int check_plain_node(parse_ctx *c, const yaml_event_t *ev)
{
    const yaml_char_t *anchor = NULL, *tag = NULL;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
        break;
    case YAML_ALIAS_EVENT:
        return yt_error_at(c->err, MLP_ERR_CONFIG, mark_from(c, ev->start_mark),
                           "repeat the value, or put shared settings in a base file and use "
                           "extends", "aliases (*%s) are not supported",
                           (const char *)ev->data.alias.anchor);
    default:
        return 0;
    }
    if (anchor != NULL)
        return yt_error_at(c->err, MLP_ERR_CONFIG, mark_from(c, ev->start_mark),
                           "repeat the value, or put shared settings in a base file and use "
                           "extends", "anchors (&%s) are not supported", (const char *)anchor);
    if (tag != NULL)
        return yt_error_at(c->err, MLP_ERR_CONFIG, mark_from(c, ev->start_mark),
                           "remove the tag; quote a value to make it a string",
                           "tags (%s) are not supported", (const char *)tag);
    return 0;
}

static yt_node *parse_value(parse_ctx *c, yaml_event_t *ev, int depth);

/* Adds the item that starts with *ev (consumed) to the collection; 0, or -1
 * with c->err filled. */
typedef int item_parser(parse_ctx *c, yt_node *collection, yaml_event_t *ev, int depth);

static int add_sequence_item(parse_ctx *c, yt_node *seq, yaml_event_t *ev, int depth)
{
    yt_node *item = parse_value(c, ev, depth + 1);
    if (item == NULL)
        return -1;
    if (seq_push(seq, item) != 0) {
        mlp_error_nomem(c->err, "a YAML sequence");
        return -1;
    }
    return 0;
}

static int add_mapping_entry(parse_ctx *c, yt_node *map, yaml_event_t *ev, int depth)
{
    yt_mark key_mark = mark_from(c, ev->start_mark);
    if (check_plain_node(c, ev) != 0) {
        yaml_event_delete(ev);
        return -1;
    }
    if (ev->type != YAML_SCALAR_EVENT) {
        yaml_event_delete(ev);
        yt_error_at(c->err, MLP_ERR_CONFIG, key_mark, "write keys as plain words",
                    "a mapping key must be a single word, not a list or mapping");
        return -1;
    }
    char *key = strdup((const char *)ev->data.scalar.value);
    yaml_event_delete(ev);
    if (key == NULL) {
        mlp_error_nomem(c->err, "a YAML key");
        return -1;
    }
    int dup = yt_map_index(map, key);
    if (dup >= 0) {
        yt_error_at(c->err, MLP_ERR_CONFIG, key_mark, "remove one of the two",
                    "duplicate key '%s' (first written on line %u)", key,
                    map->key_marks[dup].line);
        free(key);
        return -1;
    }
    yaml_event_t value_ev;
    if (next_event(c, &value_ev) != 0) {
        free(key);
        return -1;
    }
    yt_node *value = parse_value(c, &value_ev, depth + 1);
    if (value == NULL) {
        free(key);
        return -1;
    }
    int rc = map_push(map, key, value, key_mark);
    free(key);
    if (rc != 0) {
        mlp_error_nomem(c->err, "a YAML mapping");
        return -1;
    }
    return 0;
}

/* Fills the sequence or mapping `collection` with add until the event `end`;
 * the collection, or NULL (and it freed) with c->err filled. */
static yt_node *parse_items(parse_ctx *c, yt_node *collection, int depth, yaml_event_type_t end,
                            item_parser *add)
{
    for (;;) {
        yaml_event_t ev;
        if (next_event(c, &ev) != 0)
            break;
        if (ev.type == end) {
            yaml_event_delete(&ev);
            return collection;
        }
        if (add(c, collection, &ev, depth) != 0)
            break;
    }
    yt_free(collection);
    return NULL;
}

/* Builds the node that starts with *ev (consumed). NULL with c->err filled. */
static yt_node *parse_value(parse_ctx *c, yaml_event_t *ev, int depth)
{
    yt_mark mark = mark_from(c, ev->start_mark);
    if (check_plain_node(c, ev) != 0) {
        yaml_event_delete(ev);
        return NULL;
    }
    if (depth > YT_MAX_DEPTH) {
        yaml_event_delete(ev);
        yt_error_at(c->err, MLP_ERR_CONFIG, mark, NULL, "nesting deeper than %d levels",
                    YT_MAX_DEPTH);
        return NULL;
    }
    yaml_event_type_t type = ev->type;
    if (type == YAML_SCALAR_EVENT) {
        yt_node *n = yt_new_scalar((const char *)ev->data.scalar.value, mark);
        if (n != NULL)
            n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        yaml_event_delete(ev);
        if (n == NULL)
            mlp_error_nomem(c->err, "a YAML scalar");
        return n;
    }
    yaml_event_delete(ev);
    if (type != YAML_SEQUENCE_START_EVENT && type != YAML_MAPPING_START_EVENT) {
        yt_error_at(c->err, MLP_ERR_CONFIG, mark, NULL, "unexpected YAML event");
        return NULL;
    }
    yt_node *n = node_new(type == YAML_SEQUENCE_START_EVENT ? YT_SEQUENCE : YT_MAPPING, mark);
    if (n == NULL) {
        mlp_error_nomem(c->err, "a YAML node");
        return NULL;
    }
    if (type == YAML_SEQUENCE_START_EVENT)
        return parse_items(c, n, depth, YAML_SEQUENCE_END_EVENT, add_sequence_item);
    return parse_items(c, n, depth, YAML_MAPPING_END_EVENT, add_mapping_entry);
}

/* Reads the stream: at most one document. *root is NULL for an empty stream. */
static int parse_stream(parse_ctx *c, yt_node **root)
{
    *root = NULL;
    yaml_event_t ev;
    if (next_event(c, &ev) != 0)
        return c->err != NULL ? c->err->status : MLP_ERR_CONFIG;
    yaml_event_delete(&ev);                     /* STREAM-START */
    if (next_event(c, &ev) != 0)
        return c->err != NULL ? c->err->status : MLP_ERR_CONFIG;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        return 0;
    }
    yaml_event_delete(&ev);                     /* DOCUMENT-START */
    if (next_event(c, &ev) != 0)
        return c->err != NULL ? c->err->status : MLP_ERR_CONFIG;
    yt_node *doc = parse_value(c, &ev, 0);
    if (doc == NULL)
        return c->err != NULL ? c->err->status : MLP_ERR_CONFIG;
    int rc = next_event(c, &ev);                /* DOCUMENT-END */
    if (rc == 0) {
        yaml_event_delete(&ev);
        rc = next_event(c, &ev);
    }
    if (rc == 0) {
        if (ev.type != YAML_STREAM_END_EVENT)
            rc = yt_error_at(c->err, MLP_ERR_CONFIG, mark_from(c, ev.start_mark),
                             "put each configuration in its own file",
                             "only one YAML document is allowed here; this is a second one");
        yaml_event_delete(&ev);
    }
    if (rc != 0) {
        yt_free(doc);
        return c->err != NULL ? c->err->status : rc;
    }
    *root = doc;
    return 0;
}

static int is_null_text(const char *s);

yt_node *yt_load_file(const char *path, mlp_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        mlp_error_set(err, MLP_ERR_CONFIG, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        mlp_error_set(err, MLP_ERR_CONFIG, "%s: is a directory, not a YAML file", path);
        return NULL;
    }
    parse_ctx c = {.err = err};
    c.origin = origin_acquire(path, NULL);
    if (c.origin == NULL || !yaml_parser_initialize(&c.parser)) {
        origin_release(c.origin);
        fclose(f);
        mlp_error_nomem(err, "the YAML parser");
        return NULL;
    }
    yaml_parser_set_input_file(&c.parser, f);
    yt_node *root = NULL;
    int rc = parse_stream(&c, &root);
    yaml_parser_delete(&c.parser);
    fclose(f);

    yt_mark top = {c.origin, 1, 1};
    if (rc == 0 && (root == NULL || (root->kind == YT_SCALAR && !root->quoted &&
                                     is_null_text(root->scalar)))) {
        /* an empty file (or only comments) is an empty configuration */
        yt_free(root);
        root = yt_new_mapping(top);
        if (root == NULL)
            rc = mlp_error_nomem(err, "a YAML mapping");
    } else if (rc == 0 && root->kind != YT_MAPPING) {
        rc = yt_error_at(err, MLP_ERR_CONFIG, root->mark,
                         "write one `key: value` per line at the top level",
                         "the top level of this file must be a mapping of keys to values, "
                         "not a %s", root->kind == YT_SEQUENCE ? "list" : "single value");
        yt_free(root);
        root = NULL;
    }
    origin_release(c.origin);
    return rc == 0 ? root : NULL;
}

yt_node *yt_parse_string(const char *text, const char *origin_name, mlp_error *err)
{
    if (text == NULL)
        text = "";
    parse_ctx c = {.err = err};
    c.origin = origin_acquire(origin_name != NULL ? origin_name : "<string>", text);
    if (c.origin == NULL || !yaml_parser_initialize(&c.parser)) {
        origin_release(c.origin);
        mlp_error_nomem(err, "the YAML parser");
        return NULL;
    }
    yaml_parser_set_input_string(&c.parser, (const unsigned char *)text, strlen(text));
    yt_node *root = NULL;
    int rc = parse_stream(&c, &root);
    yaml_parser_delete(&c.parser);
    if (rc == 0 && root == NULL) {
        /* nothing but whitespace: an empty (null) value */
        yt_mark m = {c.origin, 1, 1};
        root = yt_new_scalar("", m);
        if (root == NULL)
            mlp_error_nomem(err, "a YAML scalar");
    }
    origin_release(c.origin);
    return rc == 0 ? root : NULL;
}

/* ---------------------------------------------------------------------------
 * Plain scalar resolution (YAML 1.2 core schema)
 * ------------------------------------------------------------------------- */

typedef enum scalar_type { ST_NULL, ST_BOOL, ST_INT, ST_FLOAT, ST_INF, ST_NAN, ST_STRING } scalar_type;

static int is_null_text(const char *s)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    return suggest_list_has(nulls, s);
}

int yt_is_null(const yt_node *node)
{
    return node != NULL && node->kind == YT_SCALAR && !node->quoted && is_null_text(node->scalar);
}

static size_t count_digits(const char *s)
{
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9')
        n++;
    return n;
}

/* [-+]?[0-9]+ */
static int looks_int(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    size_t n = count_digits(s);
    return n > 0 && s[n] == '\0';
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int looks_float(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    size_t whole = count_digits(s);
    s += whole;
    size_t frac = 0;
    if (*s == '.') {
        s++;
        frac = count_digits(s);
        s += frac;
    }
    if (whole == 0 && frac == 0)
        return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+')
            s++;
        size_t exp = count_digits(s);
        if (exp == 0)
            return 0;
        s += exp;
    }
    return *s == '\0';
}

static scalar_type classify_text(const char *s, int quoted, long long *iv, double *dv, int *bv)
{
    /* only true/false: yes/no/on/off stay strings, as the Lua hooks read them
     * (docs/hooks.md), so canonical text never merges values the hooks tell apart */
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    static const char *const infs[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL};
    static const char *const ninfs[] = {"-.inf", "-.Inf", "-.INF", NULL};
    static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};
    if (quoted)
        return ST_STRING;
    if (is_null_text(s))
        return ST_NULL;
    if (suggest_list_has(trues, s) || suggest_list_has(falses, s)) {
        *bv = suggest_list_has(trues, s);
        return ST_BOOL;
    }
    if (suggest_list_has(infs, s) || suggest_list_has(ninfs, s)) {
        *dv = suggest_list_has(infs, s) ? INFINITY : -INFINITY;
        return ST_INF;
    }
    if (suggest_list_has(nans, s)) {
        *dv = NAN;
        return ST_NAN;
    }
    if (looks_int(s)) {
        errno = 0;
        long long v = strtoll(s, NULL, 10);
        if (errno == 0) {
            *iv = v;
            *dv = strtod(s, NULL);
            return ST_INT;
        }
        /* too large for an integer: still a number */
    }
    if (looks_float(s)) {
        *dv = strtod(s, NULL);
        return ST_FLOAT;
    }
    return ST_STRING;
}

static scalar_type classify(const yt_node *n, long long *iv, double *dv, int *bv)
{
    return classify_text(n->scalar, n->quoted, iv, dv, bv);
}

void yt_describe(const yt_node *n, char *buf, size_t size)
{
    if (n->kind == YT_MAPPING) {
        snprintf(buf, size, "a mapping");
        return;
    }
    if (n->kind == YT_SEQUENCE) {
        snprintf(buf, size, "a list");
        return;
    }
    long long iv;
    double dv;
    int bv;
    switch (classify(n, &iv, &dv, &bv)) {
    case ST_NULL:   snprintf(buf, size, "an empty value"); break;
    case ST_BOOL:   snprintf(buf, size, "the boolean %s", n->scalar); break;
    case ST_INT:
    case ST_FLOAT:
    case ST_INF:
    case ST_NAN:    snprintf(buf, size, "the number %s", n->scalar); break;
    default:
        if (strlen(n->scalar) > 40)
            snprintf(buf, size, "the string '%.37s...'", n->scalar);
        else
            snprintf(buf, size, "the string '%s'", n->scalar);
    }
}

int yt_error_kind(const yt_node *n, const char *what, const char *expected, const char *hint,
                  mlp_error *err)
{
    char got[96];
    yt_describe(n, got, sizeof got);
    return yt_error_at(err, MLP_ERR_CONFIG, n->mark, hint, "%s must be %s, not %s",
                       what != NULL ? what : "the value", expected, got);
}

static int missing(const char *what, const char *expected, mlp_error *err)
{
    return mlp_error_set(err, MLP_ERR_CONFIG, "%s must be %s, but it is missing",
                         what != NULL ? what : "the value", expected);
}

/* A scalar as the conversions below read it: its core-schema type and values. */
typedef struct typed_scalar {
    scalar_type type;
    long long iv;
    double dv;
    int bv;
} typed_scalar;

/* Classifies node into *s; 0 with err filled (MLP_ERR_CONFIG, `expected`
 * named) when it is missing or not a scalar. */
static int read_scalar(const yt_node *node, const char *what, const char *expected,
                       const char *hint, typed_scalar *s, mlp_error *err)
{
    if (node == NULL) {
        missing(what, expected, err);
        return 0;
    }
    if (node->kind != YT_SCALAR) {
        yt_error_kind(node, what, expected, hint, err);
        return 0;
    }
    s->type = classify(node, &s->iv, &s->dv, &s->bv);
    return 1;
}

int yt_to_double(const yt_node *node, const char *what, double *out, mlp_error *err)
{
    static const char hint[] = "write a plain number such as 0.5, 3 or 1e-3, without quotes";
    typed_scalar s;
    if (!read_scalar(node, what, "a number", hint, &s, err))
        return MLP_ERR_CONFIG;
    scalar_type t = s.type;
    if (t == ST_INF || t == ST_NAN || ((t == ST_INT || t == ST_FLOAT) && !isfinite(s.dv)))
        return yt_error_kind(node, what, "a finite number", hint, err);
    if (t != ST_INT && t != ST_FLOAT)
        return yt_error_kind(node, what, "a number", hint, err);
    *out = s.dv;
    return 0;
}

int yt_to_long(const yt_node *node, const char *what, long *out, mlp_error *err)
{
    static const char hint[] = "write a whole number such as 10, without quotes";
    typed_scalar s;
    if (!read_scalar(node, what, "an integer", hint, &s, err))
        return MLP_ERR_CONFIG;
    if (s.type == ST_INT && s.iv >= LONG_MIN && s.iv <= LONG_MAX) {
        *out = (long)s.iv;
        return 0;
    }
    /* 30.0 or 1e3 mean whole numbers too */
    double dv = s.dv;
    if (s.type == ST_FLOAT && isfinite(dv) && dv == floor(dv) && dv >= -9.2e18 && dv <= 9.2e18) {
        *out = (long)dv;
        return 0;
    }
    if (s.type == ST_INT || s.type == ST_FLOAT)
        return yt_error_kind(node, what, "an integer in range", hint, err);
    return yt_error_kind(node, what, "an integer", hint, err);
}

int yt_to_bool(const yt_node *node, const char *what, int *out, mlp_error *err)
{
    static const char hint[] = "write true or false, without quotes";
    typed_scalar s;
    if (!read_scalar(node, what, "true or false", hint, &s, err))
        return MLP_ERR_CONFIG;
    if (s.type != ST_BOOL)
        return yt_error_kind(node, what, "true or false", hint, err);
    *out = s.bv;
    return 0;
}

int yt_to_string(const yt_node *node, const char *what, const char **out, mlp_error *err)
{
    if (node == NULL)
        return missing(what, "a string", err);
    if (node->kind != YT_SCALAR)
        return yt_error_kind(node, what, "a string", NULL, err);
    if (!node->quoted && is_null_text(node->scalar))
        return yt_error_kind(node, what, "a string", "write a value after the colon, or ''", err);
    *out = node->scalar;
    return 0;
}

int yt_expect_kind(const yt_node *node, yt_kind kind, const char *what, const char *hint,
                   mlp_error *err)
{
    if (node->kind == kind)
        return 0;
    return yt_error_at(err, MLP_ERR_CONFIG, node->mark, hint, "%s must be a %s", what,
                       kind == YT_SEQUENCE ? "list" : kind == YT_MAPPING ? "mapping" : "scalar");
}

int yt_check_keys(const yt_node *map, const char *const *allowed, size_t n, const char *what,
                  const char *hint, mlp_error *err)
{
    for (size_t i = 0; i < map->count; i++) {
        int known = 0;
        for (size_t k = 0; k < n && !known; k++)
            known = strcmp(map->keys[i], allowed[k]) == 0;
        if (known)
            continue;
        char near[128], valid[512], own_hint[640];
        suggest_did_you_mean(map->keys[i], allowed, n, near, sizeof near);
        if (hint == NULL) {
            suggest_join(allowed, n, 0, valid, sizeof valid);
            snprintf(own_hint, sizeof own_hint, "the keys of %s are: %s", what, valid);
            hint = own_hint;
        }
        return yt_error_at(err, MLP_ERR_CONFIG, map->key_marks[i], hint,
                           "unknown key '%s' in %s%s", map->keys[i], what, near);
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * Building trees
 * ------------------------------------------------------------------------- */

static const yt_mark built_mark = {NULL, 0, 0};

yt_node *yt_build_put(yt_builder *b, yt_node *map, const char *key, yt_node *value)
{
    if (value == NULL || map == NULL) {
        yt_free(value);
        b->failed = 1;
        return NULL;
    }
    if (yt_map_set(map, key, value, built_mark, NULL) != 0) {
        b->failed = 1;
        return NULL;
    }
    return value;
}

void yt_build_append(yt_builder *b, yt_node *seq, yt_node *value)
{
    if (value == NULL || seq == NULL) {
        yt_free(value);
        b->failed = 1;
    } else if (yt_append(seq, value, NULL) != 0) {
        b->failed = 1;
    }
}

yt_node *yt_build_text(yt_builder *b, const char *text, int quoted)
{
    yt_node *n = yt_new_scalar(text, built_mark);
    if (n == NULL)
        b->failed = 1;
    else
        n->quoted = quoted;
    return n;
}

/* ---------------------------------------------------------------------------
 * Canonical emission
 * ------------------------------------------------------------------------- */

/* YAML 1.1 readers need the dot: "3.0", "1.0e-07". */
void yt_format_real(double d, char *buf, size_t size)
{
    if (isnan(d)) {
        snprintf(buf, size, ".nan");
        return;
    }
    if (isinf(d)) {
        snprintf(buf, size, d > 0 ? ".inf" : "-.inf");
        return;
    }
    char tmp[32];
    numtext_shortest(d, tmp, sizeof tmp);
    if (strchr(tmp, '.') != NULL) {
        snprintf(buf, size, "%s", tmp);
        return;
    }
    char *e = strchr(tmp, 'e');
    if (e == NULL)
        snprintf(buf, size, "%s.0", tmp);
    else
        snprintf(buf, size, "%.*s.0%s", (int)(e - tmp), tmp, e);
}

typedef struct out_buffer {
    char *data;
    size_t len, cap;
} out_buffer;

static int write_out(void *data, unsigned char *bytes, size_t size)
{
    out_buffer *b = data;
    if (b->len + size + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + size + 1)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (p == NULL)
            return 0;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, bytes, size);
    b->len += size;
    b->data[b->len] = '\0';
    return 1;
}

/* Emits a string scalar, quoted when plain text would read as something else. */
static int emit_string(yaml_emitter_t *em, const char *s)
{
    long long iv;
    double dv;
    int bv;
    yaml_scalar_style_t style = classify_text(s, 0, &iv, &dv, &bv) == ST_STRING
                                ? YAML_ANY_SCALAR_STYLE : YAML_SINGLE_QUOTED_SCALAR_STYLE;
    yaml_event_t ev;
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s),
                                      1, 1, style))
        return -1;
    return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int emit_plain(yaml_emitter_t *em, const char *s)
{
    yaml_event_t ev;
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s),
                                      1, 0, YAML_PLAIN_SCALAR_STYLE))
        return -1;
    return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int emit_scalar(yaml_emitter_t *em, const yt_node *n)
{
    long long iv;
    double dv;
    int bv;
    char text[64];
    switch (classify(n, &iv, &dv, &bv)) {
    case ST_NULL:   return emit_plain(em, "null");
    case ST_BOOL:   return emit_plain(em, bv ? "true" : "false");
    case ST_INT:    snprintf(text, sizeof text, "%lld", iv); return emit_plain(em, text);
    case ST_FLOAT:
    case ST_INF:
    case ST_NAN:    yt_format_real(dv, text, sizeof text); return emit_plain(em, text);
    default:        return emit_string(em, n->scalar);
    }
}

/* Sorts entry indices by key (insertion sort: qsort has no context argument,
 * and a file-scope pointer for it would not be thread-safe). */
static void sorted_keys(const yt_node *map, size_t *order)
{
    for (size_t i = 0; i < map->count; i++)
        order[i] = i;
    for (size_t i = 1; i < map->count; i++) {
        size_t v = order[i], j = i;
        while (j > 0 && strcmp(map->keys[order[j - 1]], map->keys[v]) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
}

static int emit_node(yaml_emitter_t *em, const yt_node *n)
{
    yaml_event_t ev;
    if (n->kind == YT_SCALAR)
        return emit_scalar(em, n);
    if (n->kind == YT_SEQUENCE) {
        /* lists of plain values (sizes, rows of data) stay on one line */
        int flat = 1;
        for (size_t i = 0; i < n->count && flat; i++)
            flat = n->items[i]->kind == YT_SCALAR;
        if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                                  flat ? YAML_FLOW_SEQUENCE_STYLE
                                                       : YAML_BLOCK_SEQUENCE_STYLE) ||
            !yaml_emitter_emit(em, &ev))
            return -1;
        for (size_t i = 0; i < n->count; i++)
            if (emit_node(em, n->items[i]) != 0)
                return -1;
        if (!yaml_sequence_end_event_initialize(&ev) || !yaml_emitter_emit(em, &ev))
            return -1;
        return 0;
    }
    size_t *order = malloc((n->count ? n->count : 1) * sizeof *order);
    if (order == NULL)
        return -1;
    sorted_keys(n, order);
    int rc = -1;
    if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
        !yaml_emitter_emit(em, &ev))
        goto done;
    for (size_t i = 0; i < n->count; i++)
        if (emit_string(em, n->keys[order[i]]) != 0 || emit_node(em, n->items[order[i]]) != 0)
            goto done;
    if (!yaml_mapping_end_event_initialize(&ev) || !yaml_emitter_emit(em, &ev))
        goto done;
    rc = 0;
done:
    free(order);
    return rc;
}

char *yt_emit_canonical(const yt_node *node, mlp_error *err)
{
    if (node == NULL) {
        mlp_error_set(err, MLP_ERR_RUN, "yt_emit_canonical: no tree");
        return NULL;
    }
    yaml_emitter_t em;
    out_buffer out = {0};
    if (!yaml_emitter_initialize(&em)) {
        mlp_error_nomem(err, "the YAML emitter");
        return NULL;
    }
    yaml_emitter_set_output(&em, write_out, &out);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, -1);           /* never fold long lines */
    yaml_emitter_set_indent(&em, 2);
    yaml_event_t ev;
    int ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
             yaml_emitter_emit(&em, &ev) &&
             yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
             yaml_emitter_emit(&em, &ev) &&
             emit_node(&em, node) == 0 &&
             yaml_document_end_event_initialize(&ev, 1) &&
             yaml_emitter_emit(&em, &ev) &&
             yaml_stream_end_event_initialize(&ev) &&
             yaml_emitter_emit(&em, &ev) &&
             yaml_emitter_flush(&em);
    const char *problem = em.problem;
    yaml_emitter_delete(&em);
    if (!ok) {
        free(out.data);
        mlp_error_set(err, MLP_ERR_RUN, "cannot write YAML: %s",
                      problem != NULL ? problem : "out of memory");
        return NULL;
    }
    if (out.data == NULL)
        out.data = strdup("");
    if (out.data == NULL)
        mlp_error_nomem(err, "the YAML text");
    return out.data;
}
