/* hooks.c — the hook protocol behind hooks.h, on the sandbox of sandbox.h.
 *
 * Which hooks exist (learning_rate, on_epoch_end: looked up once, after the
 * script's top level ran), what they are handed (fresh history and args tables
 * for every call, so nothing a hook changes survives it), and what they may
 * return (checked here, each mistake named with the hook's line and epoch).
 * The trainer calls hooks_learning_rate before an epoch and hooks_epoch_end
 * after it (run.c). See docs/hooks.md for the rules as users read them. */
#include "hooks.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sha2.h>

#include <lauxlib.h>
#include <lua.h>

#include "fsutil.h"
#include "measures.h"

enum {
    SCRIPT_MAX_BYTES = 16 << 20,           /* larger is surely not a hook script */
    ARGS_MAX_DEPTH = 64,
    METRIC_NAME_MAX = 64,
    DECLARED_MAX = 1024,                   /* columns of /custom_metrics a script may declare */
};

/* A list of metric names a script declares: a global list, or a function of
 * args that returns one (custom_metrics, watched_metrics). */
typedef struct name_list {
    int ref, line;                       /* LUA_NOREF when absent; line 0 for a list */
    char **names;                        /* in the order declared */
    size_t count;
} name_list;

/* What a list is, for the messages that refuse a wrong one. */
typedef struct list_kind {
    const char *global;                  /* the global that declares it */
    const char *meaning;                 /* what its names are */
    const char *one, *two;               /* examples: a list of one name, of two */
    int new_columns;                     /* 1: names of new columns: identifiers, not a
                                            built-in metric's, each listed once */
} list_kind;

static const list_kind custom_kind = {"custom_metrics", "the names on_epoch_end may return",
                                      "{\"gap\"}", "{\"gap\", \"ratio\"}", 1};
/* Any string will do here: a name the run does not record is refused by
 * watched.h, which can point at the hook_args value in the study file and
 * suggest the names the run does record. */
static const list_kind watched_kind = {"watched_metrics", "the metrics the hooks read from history",
                                       "{\"validation_cost\"}",
                                       "{\"validation_cost\", \"train_cost\"}", 0};

struct hooks {
    sandbox *sandbox;
    char *path;
    char *source;
    size_t source_length;
    char sha256[SHA256_DIGEST_STRING_LENGTH];

    int learning_rate_ref, epoch_end_ref;   /* registry refs, LUA_NOREF when absent */
    int learning_rate_line, epoch_end_line; /* where they are defined */
    int args_ref;                        /* hook_args as a Lua table, copied for each call */
    double base_rate;                    /* the config's rate, NAN until known */

    name_list declared;                  /* custom_metrics: the names on_epoch_end may return */
    name_list watched;                   /* watched_metrics: the metrics the hooks read */
};

/* ---- hook_args -> Lua ------------------------------------------------------ */

/* The scalar rules of docs/hooks.md: quoted text is a string; unquoted null,
 * booleans and numbers are what they look like; anything else is a string. */
static void push_scalar(lua_State *L, const yt_node *node)
{
    const char *text = node->scalar != NULL ? node->scalar : "";
    if (node->quoted) {
        lua_pushstring(L, text);
        return;
    }
    if (yt_is_null(node)) {
        lua_pushnil(L);
        return;
    }
    if (strcmp(text, "true") == 0 || strcmp(text, "True") == 0 || strcmp(text, "TRUE") == 0) {
        lua_pushboolean(L, 1);
        return;
    }
    if (strcmp(text, "false") == 0 || strcmp(text, "False") == 0 || strcmp(text, "FALSE") == 0) {
        lua_pushboolean(L, 0);
        return;
    }
    if (lua_stringtonumber(L, text) != 0) {
        if (lua_isinteger(L, -1) || isfinite(lua_tonumber(L, -1)))
            return;
        lua_pop(L, 1);
    }
    lua_pushstring(L, text);
}

static void push_yaml(lua_State *L, const yt_node *node)
{
    luaL_checkstack(L, 4, "hook_args nested too deeply");
    switch (node->kind) {
    case YT_SCALAR:
        push_scalar(L, node);
        return;
    case YT_SEQUENCE:
        lua_createtable(L, node->count > INT32_MAX ? INT32_MAX : (int)node->count, 0);
        for (size_t i = 0; i < node->count; i++) {
            push_yaml(L, node->items[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        return;
    case YT_MAPPING:
        lua_createtable(L, 0, node->count > INT32_MAX ? INT32_MAX : (int)node->count);
        for (size_t i = 0; i < node->count; i++) {
            lua_pushstring(L, node->keys[i]);
            push_yaml(L, node->items[i]);
            lua_rawset(L, -3);
        }
        return;
    }
    lua_pushnil(L);
}

/* hook_args on their way into the registry (a template, copied for each call). */
typedef struct args_template {
    const yt_node *args;                 /* may be NULL: an empty table */
    int ref;
} args_template;

/* Protected. Argument 1: the args_template (light userdata). */
static int store_args(lua_State *L)
{
    args_template *template = lua_touserdata(L, 1);
    if (template->args != NULL)
        push_yaml(L, template->args);
    else
        lua_newtable(L);
    template->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* ---- the hooks a script defines ---------------------------------------------- */

/* Protected: finds the hook functions, then freezes the globals.
 * Argument 1: the hooks object (light userdata). */
static int find_functions(lua_State *L)
{
    hooks *h = lua_touserdata(L, 1);
    static const char *const names[2] = {"learning_rate", "on_epoch_end"};
    int *refs[2] = {&h->learning_rate_ref, &h->epoch_end_ref};
    int *lines[2] = {&h->learning_rate_line, &h->epoch_end_line};
    for (int i = 0; i < 2; i++) {
        int type = lua_getglobal(L, names[i]);
        if (type == LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        if (type != LUA_TFUNCTION)
            return luaL_error(L, "%s: '%s' is a %s; it must be a function (or not defined)",
                              h->path, names[i], lua_typename(L, type));
        lua_Debug ar;
        lua_pushvalue(L, -1);
        lua_getinfo(L, ">S", &ar);
        *lines[i] = ar.linedefined;
        *refs[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    /* The declarations, read (or called) by read_names once this returns. */
    const list_kind *kinds[2] = {&custom_kind, &watched_kind};
    name_list *lists[2] = {&h->declared, &h->watched};
    for (int i = 0; i < 2; i++) {
        int type = lua_getglobal(L, kinds[i]->global);
        if (type != LUA_TNIL && type != LUA_TTABLE && type != LUA_TFUNCTION)
            return luaL_error(L, "%s: '%s' is a %s; it must be a list of %s, e.g. %s = %s, or a "
                              "function of args that returns one", h->path, kinds[i]->global,
                              lua_typename(L, type), kinds[i]->meaning, kinds[i]->global,
                              kinds[i]->one);
        if (type == LUA_TFUNCTION) {
            lua_Debug ar;
            lua_pushvalue(L, -1);
            lua_getinfo(L, ">S", &ar);
            lists[i]->line = ar.linedefined;
        }
        if (type != LUA_TNIL)
            lists[i]->ref = luaL_ref(L, LUA_REGISTRYINDEX);
        else
            lua_pop(L, 1);
    }
    sandbox_freeze_globals(L);
    return 0;
}

/* ---- what a hook is handed ------------------------------------------------------- */

/* Builds fresh history and args tables for one call: a hook can change them,
 * and nothing of it survives the call. */
typedef struct call_context {
    const metrics_history *history;
    double base_rate;
    int args_ref;
} call_context;

static void push_history(lua_State *L, const metrics_history *history)
{
    size_t count = history != NULL ? history->count : 0;
    lua_createtable(L, count > INT32_MAX ? INT32_MAX : (int)count, 0);
    for (size_t i = 0; i < count; i++) {
        const epoch_metrics *row = &history->rows[i];
        lua_createtable(L, 0, METRICS_FIELD_COUNT + (int)history->custom_count);
        lua_pushinteger(L, row->epoch);
        lua_setfield(L, -2, metrics_field_names[0]);
        for (int f = 1; f < METRICS_FIELD_COUNT; f++) {
            lua_pushnumber(L, metrics_field(row, metrics_field_names[f]));
            lua_setfield(L, -2, metrics_field_names[f]);
        }
        for (size_t j = 0; j < history->custom_count; j++) {
            double value = history->custom_values[j][i];
            if (isnan(value))
                continue;
            lua_pushnumber(L, value);
            lua_setfield(L, -2, history->custom_names[j]);
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

/* Pushes a deep copy of the table at idx (the args template: no cycles). */
static void push_copy(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    luaL_checkstack(L, 4, "hook_args nested too deeply");
    lua_newtable(L);
    int copy = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pushvalue(L, -2);
        if (lua_type(L, -2) == LUA_TTABLE)
            push_copy(L, -2);
        else
            lua_pushvalue(L, -2);
        lua_rawset(L, copy);
        lua_pop(L, 1);
    }
}

static void push_args(lua_State *L, const call_context *context)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, context->args_ref);
    push_copy(L, -1);
    lua_remove(L, -2);
    if (!isnan(context->base_rate)) {
        lua_pushnumber(L, context->base_rate);
        lua_setfield(L, -2, "base_learning_rate");
    }
}

static int build_call_arguments(lua_State *L)
{
    const call_context *context = lua_touserdata(L, 1);
    push_history(L, context->history);
    push_args(L, context);
    return 2;
}

static int build_args(lua_State *L)
{
    push_args(L, lua_touserdata(L, 1));
    return 1;
}

/* ---- the custom metrics a script declares ---------------------------------- */

/* A custom metric's name: [A-Za-z_][A-Za-z0-9_]*, at most METRIC_NAME_MAX characters. */
static int is_identifier(const char *name, size_t length)
{
    if (length == 0 || length > METRIC_NAME_MAX)
        return 0;
    for (size_t i = 0; i < length; i++) {
        char c = name[i];
        int letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        if (!letter && !(i > 0 && c >= '0' && c <= '9'))
            return 0;
    }
    return 1;
}

static int list_has(const name_list *list, const char *name)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->names[i], name) == 0)
            return 1;
    return 0;
}

/* Why `name` cannot name a new column of /custom_metrics, NULL if it can. */
static const char *column_name_problem(const name_list *list, const char *name, size_t length)
{
    if (!is_identifier(name, length))
        return "is not an identifier ([A-Za-z_][A-Za-z0-9_]*, at most 64 characters)";
    if (measures_is_builtin(name))
        return "is a built-in metric's name (docs/reports.md); a custom metric needs a name "
               "of its own";
    if (list_has(list, name))
        return "is listed twice";
    return NULL;
}

/* Copies the list at stack index 1 into `list`, checking each name as `kind`
 * requires. `where` is ":LINE" of the function that returned it, or "". */
static int copy_names(hooks *h, const list_kind *kind, name_list *list, lua_State *L,
                      const char *where, mlp_error *err)
{
    lua_Unsigned length = lua_rawlen(L, 1);
    lua_Unsigned keys = 0;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        keys++;
    }
    if (keys != length)
        return mlp_error_set(err, MLP_ERR_RUN, "%s%s: %s must be a list of %s, e.g. %s, not a "
                             "table with other keys", h->path, where, kind->global,
                             kind->meaning, kind->two);
    if (length > DECLARED_MAX)
        return mlp_error_set(err, MLP_ERR_RUN, "%s%s: %s lists %llu names; a hook may declare "
                             "at most %d", h->path, where, kind->global,
                             (unsigned long long)length, DECLARED_MAX);
    list->names = calloc(length > 0 ? length : 1, sizeof *list->names);
    if (list->names == NULL)
        return mlp_error_nomem(err, kind->global);
    for (lua_Unsigned i = 1; i <= length; i++) {
        lua_rawgeti(L, 1, (lua_Integer)i);
        const char *problem = NULL, *name = NULL;
        char what[128];
        sandbox_describe(L, -1, what, sizeof what);
        if (lua_type(L, -1) != LUA_TSTRING) {
            problem = "is not a string: each entry is the name of a metric";
        } else {
            size_t name_length = 0;
            name = lua_tolstring(L, -1, &name_length);
            if (kind->new_columns)
                problem = column_name_problem(list, name, name_length);
        }
        if (problem != NULL)
            return mlp_error_set(err, MLP_ERR_RUN, "%s%s: %s[%llu], %s, %s", h->path, where,
                                 kind->global, (unsigned long long)i, what, problem);
        if ((list->names[list->count] = strdup(name)) == NULL)
            return mlp_error_nomem(err, kind->global);
        list->count++;
        lua_pop(L, 1);
    }
    return MLP_OK;
}

/* The names of a declaration: its list, or what its function returns for args
 * (called once, under the budget of a call; args.base_learning_rate is not
 * set yet). */
static int read_names(hooks *h, const list_kind *kind, name_list *list, mlp_error *err)
{
    if (list->ref == LUA_NOREF)
        return MLP_OK;
    lua_State *L = sandbox_state(h->sandbox);
    char where[32] = "";
    if (list->line > 0)
        snprintf(where, sizeof where, ":%d", list->line);
    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, list->ref);
    if (lua_type(L, 1) == LUA_TFUNCTION) {
        call_context context = {NULL, NAN, h->args_ref};
        int count = 0;
        int status = sandbox_protect(h->sandbox, build_args, &context, 1, err);
        if (status == MLP_OK)
            status = sandbox_call(h->sandbox, 1, &count, err);
        if (status != MLP_OK)
            return status;
        if (count != 1 || lua_type(L, 1) != LUA_TTABLE) {
            char returned[128] = "nothing";
            if (count >= 1)
                sandbox_describe(L, 1, returned, sizeof returned);
            lua_settop(L, 0);
            return mlp_error_set(err, MLP_ERR_RUN, "%s%s: %s returned %s%s; it must return one "
                                 "list of names, e.g. %s", h->path, where, kind->global,
                                 returned, count > 1 ? " and more" : "", kind->one);
        }
    }
    int status = copy_names(h, kind, list, L, where, err);
    lua_settop(L, 0);
    return status;
}

static void name_list_free(name_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->names[i]);
    free(list->names);
}

/* ---- life cycle ------------------------------------------------------------ */

static int read_script(hooks *h, mlp_error *err)
{
    FILE *file = fopen(h->path, "rb");
    if (file == NULL)
        return mlp_error_set(err, MLP_ERR_CONFIG, "%s: cannot open the hook script: %s",
                             h->path, strerror(errno));
    char *text = NULL;
    size_t length = 0;
    int reason = fsutil_read_all(file, SCRIPT_MAX_BYTES, &text, &length);
    fclose(file);
    if (reason == EFBIG)
        return mlp_error_set(err, MLP_ERR_CONFIG, "%s: larger than %d bytes; not a hook script",
                             h->path, SCRIPT_MAX_BYTES);
    if (reason == ENOMEM)
        return mlp_error_nomem(err, "the hook script");
    if (reason != 0)
        return mlp_error_set(err, MLP_ERR_CONFIG, "%s: cannot read the hook script: %s",
                             h->path, strerror(reason));
    h->source = text;
    h->source_length = length;
    SHA256Data((const uint8_t *)text, length, h->sha256);
    if (length > 0 && text[0] == LUA_SIGNATURE[0])
        return mlp_error_set(err, MLP_ERR_CONFIG, "%s: is a precompiled (binary) Lua chunk; "
                             "hook scripts must be Lua source text", h->path);
    if (memchr(text, '\0', length) != NULL)
        return mlp_error_set(err, MLP_ERR_CONFIG, "%s: contains a NUL byte; hook scripts must "
                             "be Lua source text", h->path);
    return MLP_OK;
}

static int check_args_depth(const yt_node *node, int depth, mlp_error *err)
{
    if (depth > ARGS_MAX_DEPTH)
        return yt_error_at(err, MLP_ERR_CONFIG, node->mark,
                           "hand the script flat values, or a list or mapping of them",
                           "hook_args are nested more than %d levels deep", ARGS_MAX_DEPTH);
    if (node->kind == YT_SCALAR)
        return MLP_OK;
    for (size_t i = 0; i < node->count; i++)
        if (check_args_depth(node->items[i], depth + 1, err) != MLP_OK)
            return MLP_ERR_CONFIG;
    return MLP_OK;
}

int hooks_check_args(const yt_node *args, mlp_error *err)
{
    if (args == NULL)
        return MLP_OK;
    if (args->kind != YT_MAPPING)
        return yt_error_at(err, MLP_ERR_CONFIG, args->mark,
                           "e.g. hook_args: {patience: 5, factor: 0.5}",
                           "hook_args must be a mapping of names to values, not %s",
                           args->kind == YT_SEQUENCE ? "a list" : "a single value");
    for (size_t i = 0; i < args->count; i++)
        if (strcmp(args->keys[i], "base_learning_rate") == 0)
            return yt_error_at(err, MLP_ERR_CONFIG,
                               args->key_marks != NULL ? args->key_marks[i] : args->items[i]->mark,
                               "the script reads the configured rate as args.base_learning_rate; "
                               "set train.learning_rate, or give the script another key "
                               "(the shipped schedules take base)",
                               "hook_args.base_learning_rate is reserved: mlplab sets it to the "
                               "configured learning rate");
    return check_args_depth(args, 0, err);
}

int hooks_new(const char *script_path, const yt_node *args, const hooks_limits *limits,
              hooks **out, mlp_error *err)
{
    if (out == NULL || script_path == NULL)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: hooks_new without a script or result");
    *out = NULL;
    int status = hooks_check_args(args, err);
    if (status != MLP_OK)
        return status;
    hooks *h = calloc(1, sizeof *h);
    if (h == NULL)
        return mlp_error_nomem(err, "the hook sandbox");
    h->learning_rate_ref = h->epoch_end_ref = h->args_ref = LUA_NOREF;
    h->declared.ref = h->watched.ref = LUA_NOREF;
    h->base_rate = NAN;
    h->path = strdup(script_path);
    status = h->path != NULL ? read_script(h, err) : mlp_error_nomem(err, "the hook sandbox");
    if (status == MLP_OK)
        status = sandbox_new(script_path, limits, &h->sandbox, err);
    args_template template = {args, LUA_NOREF};
    if (status == MLP_OK)
        status = sandbox_protect(h->sandbox, store_args, &template, 0, err);
    h->args_ref = template.ref;
    if (status == MLP_OK)
        status = sandbox_run_chunk(h->sandbox, h->source, h->source_length, err);
    if (status == MLP_OK)
        status = sandbox_protect(h->sandbox, find_functions, h, 0, err);
    if (status == MLP_OK)
        status = read_names(h, &custom_kind, &h->declared, err);
    if (status == MLP_OK)
        status = read_names(h, &watched_kind, &h->watched, err);
    if (status != MLP_OK) {
        hooks_free(h);
        return status;
    }
    *out = h;
    return MLP_OK;
}

void hooks_free(hooks *h)
{
    if (h == NULL)
        return;
    sandbox_free(h->sandbox);
    name_list_free(&h->declared);
    name_list_free(&h->watched);
    free(h->path);
    free(h->source);
    free(h);
}

int hooks_has_learning_rate(const hooks *h)
{
    return h != NULL && h->learning_rate_ref != LUA_NOREF;
}

int hooks_has_epoch_end(const hooks *h)
{
    return h != NULL && h->epoch_end_ref != LUA_NOREF;
}

const char *hooks_sha256(const hooks *h)
{
    return h != NULL ? h->sha256 : NULL;
}

const char *hooks_source(const hooks *h)
{
    return h != NULL ? h->source : NULL;
}

size_t hooks_custom_metric_count(const hooks *h)
{
    return h != NULL ? h->declared.count : 0;
}

const char *hooks_custom_metric(const hooks *h, size_t i)
{
    return h != NULL && i < h->declared.count ? h->declared.names[i] : NULL;
}

size_t hooks_watched_metric_count(const hooks *h)
{
    return h != NULL ? h->watched.count : 0;
}

const char *hooks_watched_metric(const hooks *h, size_t i)
{
    return h != NULL && i < h->watched.count ? h->watched.names[i] : NULL;
}

/* ---- calls ------------------------------------------------------------------ */

/* Calls the function `ref` as f(epoch, history, args). On success the results
 * are at stack indices *first .. top and *count says how many. */
static int call_hook(hooks *h, int ref, int epoch, const metrics_history *history,
                     double base_rate, int *first, int *count, mlp_error *err)
{
    lua_State *L = sandbox_state(h->sandbox);
    call_context context = {history, base_rate, h->args_ref};
    lua_settop(L, 0);
    /* Building the tables runs under a budget of its own: it is not the hook's work. */
    int status = sandbox_protect(h->sandbox, build_call_arguments, &context, 2, err);
    if (status != MLP_OK)
        return status;
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    lua_pushinteger(L, epoch);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    *first = lua_gettop(L) - 3;
    return sandbox_call(h->sandbox, 3, count, err);
}

int hooks_learning_rate(hooks *h, int epoch, const metrics_history *history,
                        double default_rate, double *rate, mlp_error *err)
{
    if (h == NULL || rate == NULL)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: hooks_learning_rate without hooks");
    h->base_rate = default_rate;
    if (h->learning_rate_ref == LUA_NOREF) {
        *rate = default_rate;
        return MLP_OK;
    }
    int first = 0, count = 0;
    int status = call_hook(h, h->learning_rate_ref, epoch, history, default_rate, &first, &count,
                           err);
    if (status != MLP_OK)
        return status;
    lua_State *L = sandbox_state(h->sandbox);
    double value = lua_type(L, first) == LUA_TNUMBER ? lua_tonumber(L, first) : NAN;
    if (count >= 1 && lua_type(L, first) == LUA_TNUMBER && isfinite(value) && value > 0) {
        *rate = value;
        lua_settop(L, 0);
        return MLP_OK;
    }
    char returned[128] = "nothing";
    if (count >= 1)
        sandbox_describe(L, first, returned, sizeof returned);
    lua_settop(L, 0);
    return mlp_error_set(err, MLP_ERR_RUN, "%s:%d: learning_rate returned %s for epoch %d; "
                         "it must return a finite number > 0", h->path, h->learning_rate_line,
                         returned, epoch);
}

typedef struct custom_metric {
    const char *name;
    double value;
} custom_metric;

static int compare_metrics(const void *a, const void *b)
{
    return strcmp(((const custom_metric *)a)->name, ((const custom_metric *)b)->name);
}

/* Checks the metrics table at idx and fills a sorted array (names point into
 * Lua strings, valid while the table stays on the stack). */
static int read_custom_metrics(hooks *h, int idx, int epoch, custom_metric **out, size_t *count,
                               mlp_error *err)
{
    lua_State *L = sandbox_state(h->sandbox);
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        n++;
    }
    custom_metric *metrics = calloc(n > 0 ? n : 1, sizeof *metrics);
    if (metrics == NULL)
        return mlp_error_nomem(err, "custom metrics");
    size_t used = 0;
    char what[128];
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        const char *problem = NULL;
        const char *name = NULL;
        if (lua_type(L, -2) != LUA_TSTRING) {
            sandbox_describe(L, -2, what, sizeof what);
            problem = "its name is not a string";
        } else {
            size_t length = 0;
            name = lua_tolstring(L, -2, &length);
            snprintf(what, sizeof what, "\"%.64s\"", name);
            if (!is_identifier(name, length))
                problem = "its name is not an identifier ([A-Za-z_][A-Za-z0-9_]*, at most 64 "
                          "characters)";
            else if (metrics_field_index(name) >= 0)
                problem = "its name is a built-in metric's";
            else if (!list_has(&h->declared, name))
                problem = "the script does not declare it: list every name on_epoch_end may "
                          "return in custom_metrics (docs/hooks.md)";
            else if (lua_type(L, -1) != LUA_TNUMBER || !isfinite(lua_tonumber(L, -1)))
                problem = "its value is not a finite number";
        }
        if (problem != NULL) {
            char value[128];
            sandbox_describe(L, -1, value, sizeof value);
            free(metrics);
            return mlp_error_set(err, MLP_ERR_RUN, "%s:%d: on_epoch_end returned the custom "
                                 "metric %s = %s for epoch %d, but %s", h->path, h->epoch_end_line,
                                 what, value, epoch, problem);
        }
        metrics[used].name = name;
        metrics[used].value = lua_tonumber(L, -1);
        used++;
        lua_pop(L, 1);
    }
    /* Sorted, so that new columns appear in the same order on every run
     * (table traversal order is not reproducible). */
    qsort(metrics, used, sizeof *metrics, compare_metrics);
    *out = metrics;
    *count = used;
    return MLP_OK;
}

int hooks_epoch_end(hooks *h, int epoch, metrics_history *history, int *stop, mlp_error *err)
{
    if (h == NULL || history == NULL || stop == NULL)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: hooks_epoch_end without hooks");
    *stop = 0;
    if (h->epoch_end_ref == LUA_NOREF)
        return MLP_OK;
    if (epoch < 0 || (size_t)epoch >= history->count)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: on_epoch_end for epoch %d with %zu "
                             "epochs of history", epoch, history->count);
    double base_rate = !isnan(h->base_rate) ? h->base_rate : history->rows[0].learning_rate;
    int first = 0, count = 0;
    int status = call_hook(h, h->epoch_end_ref, epoch, history, base_rate, &first, &count, err);
    if (status != MLP_OK)
        return status;
    lua_State *L = sandbox_state(h->sandbox);
    int stop_seen = 0, table_index = 0;
    for (int i = first; i < first + count; i++) {
        int type = lua_type(L, i);
        int accepted = type == LUA_TNIL
                       || (type == LUA_TSTRING && strcmp(lua_tostring(L, i), "stop") == 0
                           && !stop_seen)
                       || (type == LUA_TTABLE && table_index == 0);
        if (!accepted) {
            char returned[128];
            sandbox_describe(L, i, returned, sizeof returned);
            lua_settop(L, 0);
            return mlp_error_set(err, MLP_ERR_RUN, "%s:%d: on_epoch_end returned %s (result %d) "
                                 "for epoch %d; it may return nothing, \"stop\", a table of custom "
                                 "metrics {name = number}, or \"stop\" and such a table", h->path,
                                 h->epoch_end_line, returned, i - first + 1, epoch);
        }
        if (type == LUA_TSTRING)
            stop_seen = 1;
        if (type == LUA_TTABLE)
            table_index = i;
    }
    if (table_index != 0) {
        custom_metric *metrics = NULL;
        size_t metric_count = 0;
        status = read_custom_metrics(h, table_index, epoch, &metrics, &metric_count, err);
        for (size_t j = 0; status == MLP_OK && j < metric_count; j++)
            status = metrics_history_set_custom(history, (size_t)epoch, metrics[j].name,
                                                metrics[j].value, err);
        free(metrics);
        if (status != MLP_OK) {
            lua_settop(L, 0);
            return status;
        }
    }
    lua_settop(L, 0);
    *stop = stop_seen;
    return MLP_OK;
}
