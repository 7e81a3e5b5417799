/* hooks.c — the Lua 5.4 sandbox behind hooks.h.
 *
 * The sandbox can only compute: a fresh lua_State whose allocator enforces a
 * memory cap, only the base, string, table, math and utf8 libraries, minus
 * everything that reaches outside (files, code loading), that cannot be
 * interrupted (string patterns), or that makes results depend on anything but
 * the history and the arguments (random numbers, the collector, finalizers,
 * state kept in globals). Every Lua call runs under lua_pcall with an
 * instruction budget enforced by a count hook. See docs/hooks.md for the rules
 * as users read them. */
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
#include <lualib.h>

enum {
    DEFAULT_INSTRUCTIONS = 10000000,
    COUNT_STEP = 1000,                     /* instructions between two count-hook calls */
    BYTES_PER_INSTRUCTION = 16,            /* allocation charged to the budget, see sandbox_alloc */
    STRING_REP_MAX = 1 << 20,              /* largest string string.rep may build */
    SCRIPT_MAX_BYTES = 16 << 20,           /* larger is surely not a hook script */
    ARGS_MAX_DEPTH = 64,
    METRIC_NAME_MAX = 64,
};
#define DEFAULT_MEMORY ((size_t)64 << 20)

struct hooks {
    lua_State *L;
    char *path;
    char *source;
    size_t source_length;
    char sha256[SHA256_DIGEST_STRING_LENGTH];
    char short_src[LUA_IDSIZE];          /* how Lua abbreviates path in messages */

    size_t memory_limit, memory_used;
    int memory_refused;                  /* the allocator said no since the call began */
    long instruction_limit, instructions_used;
    int over_budget;                     /* the budget ran out during this call */

    int learning_rate_ref, epoch_end_ref;   /* registry refs, LUA_NOREF when absent */
    int learning_rate_line, epoch_end_line; /* where they are defined */
    int args_ref;                        /* hook_args as a Lua table, copied for each call */
    double base_rate;                    /* the config's rate, NAN until known */
};

/* ---- allocator, budget ---------------------------------------------------- */

static void count_hook(lua_State *L, lua_Debug *ar);

/* Lua's allocator contract (lua_Alloc); ud is the hooks object. Refusing an
 * allocation makes Lua collect garbage and retry, then raise a memory error. */
static void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    hooks *h = ud;
    size_t old = ptr != NULL ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        h->memory_used -= old;
        return NULL;
    }
    if (nsize > old && nsize - old > h->memory_limit - h->memory_used) {
        h->memory_refused = 1;
        return NULL;
    }
    void *block = realloc(ptr, nsize);
    if (block == NULL)
        return NULL;
    h->memory_used = h->memory_used - old + nsize;
    /* Building a big string is one VM instruction (a concatenation, a
     * string.rep) but costs time in proportion to its size: charge it, so that
     * a loop of such instructions runs out of budget too. Once over, the
     * count hook is made to fire at the very next instruction. */
    if (nsize > old) {
        h->instructions_used += (long)((nsize - old) / BYTES_PER_INSTRUCTION);
        if (h->instructions_used > h->instruction_limit && h->L != NULL)
            lua_sethook(h->L, count_hook, LUA_MASKCOUNT, 1);   /* stop at the next instruction */
    }
    return block;
}

static hooks *sandbox_owner(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

/* Raises the budget error at stack level `level` (0: the running Lua
 * function, from the count hook; 1: the caller of a C function). */
static int budget_error(lua_State *L, int level)
{
    hooks *h = sandbox_owner(L);
    h->over_budget = 1;
    luaL_where(L, level);
    lua_pushfstring(L, "hook ran for more than %I instructions (endless loop?)",
                    (lua_Integer)h->instruction_limit);
    lua_concat(L, 2);
    return lua_error(L);
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    hooks *h = sandbox_owner(L);
    h->instructions_used += COUNT_STEP;
    if (h->over_budget || h->instructions_used > h->instruction_limit)
        budget_error(L, 0);
}

/* A fresh budget for one call (or the top level): counting from zero, the
 * count hook called every COUNT_STEP instructions. */
static void start_budget(hooks *h)
{
    h->instructions_used = 0;
    h->over_budget = 0;
    h->memory_refused = 0;
    lua_sethook(h->L, count_hook, LUA_MASKCOUNT,
                h->instruction_limit < COUNT_STEP ? (int)h->instruction_limit : COUNT_STEP);
}

/* C library loops do not run VM instructions, so the wrappers below charge
 * one instruction per element a loop will touch, before it starts. */
static void charge(lua_State *L, lua_Integer elements)
{
    hooks *h = sandbox_owner(L);
    if (elements <= 0)
        return;
    if (h->over_budget || elements > h->instruction_limit - h->instructions_used)
        budget_error(L, 1);
    h->instructions_used += (long)elements;
}

/* Number of integers in [first, last], saturating. */
static lua_Integer span(lua_Integer first, lua_Integer last)
{
    if (last < first)
        return 0;
    lua_Unsigned distance = (lua_Unsigned)last - (lua_Unsigned)first;
    return distance >= (lua_Unsigned)LUA_MAXINTEGER ? LUA_MAXINTEGER : (lua_Integer)distance + 1;
}

/* ---- replacements for library functions ---------------------------------- */

/* Runs the original function (upvalue 1) in the wrapper's own frame, with the
 * arguments as they are. A direct C call rather than lua_call, so that its
 * errors read "script.lua:LINE: bad argument #1 to 'insert' ..." as if the
 * script had called it. Safe because the wrapped library functions use no
 * upvalues of their own and never yield (there are no coroutines). */
static int call_original(lua_State *L)
{
    lua_CFunction original = lua_tocfunction(L, lua_upvalueindex(1));
    return original(L);
}

/* pcall/xpcall that cannot swallow the budget error: once the budget is gone
 * the error goes on up, or `while true do pcall(loop) end` would never end. */
static int sandbox_pcall(lua_State *L)
{
    int results = call_original(L);
    if (sandbox_owner(L)->over_budget)
        return budget_error(L, 1);
    return results;
}

/* setmetatable without finalizers or weak tables: both run at moments chosen by
 * the garbage collector, outside any call's budget and not reproducibly. */
static int sandbox_setmetatable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: __gc finalizers are not allowed in hooks "
                                 "(they run whenever the collector decides)");
        lua_pushliteral(L, "__mode");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: weak tables (__mode) are not allowed in hooks "
                                 "(their contents depend on the collector)");
        lua_pop(L, 2);
    }
    return call_original(L);
}

/* string.rep with a bounded result; also returns at once for empty pieces,
 * which the original would copy n times. */
static int sandbox_string_rep(lua_State *L)
{
    size_t length = 0, separator_length = 0;
    luaL_checklstring(L, 1, &length);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &separator_length);
    if (n <= 0 || length + separator_length == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    double total = (double)n * (double)length + (double)(n - 1) * (double)separator_length;
    if (total > STRING_REP_MAX)
        return luaL_error(L, "string.rep: the result would be %I bytes; hooks may build at most "
                             "%d bytes at once", total < 4e18 ? (lua_Integer)total : LUA_MAXINTEGER,
                          STRING_REP_MAX);
    return call_original(L);
}

/* Length of table argument 1 as the table library sees it (may call __len). */
static lua_Integer table_length(lua_State *L)
{
    return luaL_len(L, 1);
}

/* Argument idx as an integer the way the table library reads it (floats with
 * an integral value and numeric strings too); 0 when it is not one. */
static int integer_argument(lua_State *L, int idx, lua_Integer *value)
{
    int is_integer = 0;
    *value = lua_tointegerx(L, idx, &is_integer);
    return is_integer;
}

static int sandbox_table_insert(lua_State *L)
{
    lua_Integer position;
    if (lua_type(L, 1) == LUA_TTABLE && lua_gettop(L) == 3 && integer_argument(L, 2, &position))
        charge(L, span(position, table_length(L)));
    return call_original(L);
}

static int sandbox_table_remove(lua_State *L)
{
    lua_Integer position;
    if (lua_type(L, 1) == LUA_TTABLE && integer_argument(L, 2, &position))
        charge(L, span(position, table_length(L)));
    return call_original(L);
}

static int sandbox_table_move(lua_State *L)
{
    lua_Integer first, last;
    if (integer_argument(L, 2, &first) && integer_argument(L, 3, &last))
        charge(L, span(first, last));
    return call_original(L);
}

/* table.concat(t, sep, i, j) and table.unpack(t, i, j): the range starts at
 * argument first_index. */
static void charge_range(lua_State *L, int first_index)
{
    if (lua_type(L, 1) != LUA_TTABLE)
        return;
    lua_Integer first, last;
    if (!integer_argument(L, first_index, &first))
        first = 1;
    if (!integer_argument(L, first_index + 1, &last))
        last = table_length(L);
    charge(L, span(first, last));
}

static int sandbox_table_concat(lua_State *L)
{
    charge_range(L, 3);
    return call_original(L);
}

static int sandbox_table_unpack(lua_State *L)
{
    charge_range(L, 2);
    return call_original(L);
}

/* Sorting n elements costs about n log2 n comparisons. */
static int sandbox_table_sort(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TTABLE) {
        lua_Integer n = table_length(L);
        lua_Integer bits = 1;
        for (lua_Integer m = n; m > 1; m >>= 1)
            bits++;
        charge(L, n > LUA_MAXINTEGER / bits ? LUA_MAXINTEGER : n * bits);
    }
    return call_original(L);
}

/* Replaces lib[name] (lib at the top of the stack) by a C closure over the original. */
static void wrap_field(lua_State *L, const char *name, lua_CFunction wrapper)
{
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, wrapper, 1);
    lua_setfield(L, -2, name);
}

static void remove_fields(lua_State *L, const char *const *names)
{
    for (; *names != NULL; names++) {
        lua_pushnil(L);
        lua_setfield(L, -2, *names);
    }
}

/* ---- read-only tables ------------------------------------------------------ */

/* __newindex of a frozen table; upvalue 1 names the library, "" for globals. */
static int refuse_write(lua_State *L)
{
    const char *library = lua_tostring(L, lua_upvalueindex(1));
    if (lua_type(L, 2) != LUA_TSTRING) {
        if (library[0] == '\0')
            return luaL_error(L, "hooks must not keep state between calls (a %s key in _G); "
                                 "compute from history", luaL_typename(L, 2));
        return luaL_error(L, "the %s library is read-only", library);
    }
    const char *key = lua_tostring(L, 2);
    if (library[0] == '\0')
        return luaL_error(L, "hooks must not keep state between calls (global '%s'); "
                             "compute from history", key);
    return luaL_error(L, "the %s library is read-only (cannot set %s.%s)", library, library, key);
}

/* Iterates the hidden contents (upvalue 1) of a frozen table. */
static int frozen_next(lua_State *L)
{
    lua_settop(L, 2);
    if (lua_next(L, lua_upvalueindex(1)))
        return 2;
    lua_pushnil(L);
    return 1;
}

static int frozen_pairs(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* Moves the contents of the table at idx into a hidden table and gives it a
 * protected metatable that reads through and refuses writes. A __newindex on
 * the table itself would not do: it only fires for keys not already there. */
static void freeze_table(lua_State *L, int idx, const char *library)
{
    idx = lua_absindex(L, idx);
    lua_newtable(L);
    int hidden = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, hidden);
    }
    lua_pushnil(L);
    while (lua_next(L, hidden)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, idx);
    }
    lua_createtable(L, 0, 4);
    lua_pushvalue(L, hidden);
    lua_setfield(L, -2, "__index");
    lua_pushstring(L, library);
    lua_pushcclosure(L, refuse_write, 1);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, hidden);
    lua_pushcclosure(L, frozen_next, 1);
    lua_pushcclosure(L, frozen_pairs, 1);
    lua_setfield(L, -2, "__pairs");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, idx);
    lua_settop(L, hidden - 1);
}

/* ---- building the sandbox --------------------------------------------------- */

static const char *const removed_base[] = {
    "dofile", "loadfile", "load", "collectgarbage", "print", "warn", "rawset", NULL,
};
/* dump makes bytecode; the pattern functions backtrack inside C, where the
 * count hook cannot interrupt them. */
static const char *const removed_string[] = {"dump", "find", "match", "gmatch", "gsub", NULL};
/* Hooks must be functions of history and args, so no random numbers. */
static const char *const removed_math[] = {"random", "randomseed", NULL};

static void open_library(lua_State *L, const char *name, lua_CFunction open)
{
    luaL_requiref(L, name, open, 1);
}

/* The scalar rules of docs/hooks.md: quoted text is a string; unquoted null,
 * booleans and numbers are what they look like; anything else is a string. */
static void push_scalar(lua_State *L, const yt_node *node)
{
    const char *text = node->scalar != NULL ? node->scalar : "";
    if (node->quoted) {
        lua_pushstring(L, text);
        return;
    }
    if (text[0] == '\0' || strcmp(text, "~") == 0 || strcmp(text, "null") == 0
        || strcmp(text, "Null") == 0 || strcmp(text, "NULL") == 0) {
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

/* Protected: opens and trims the libraries and stores the args template.
 * Argument 1: the hook_args node (light userdata, may be NULL). */
static int build_sandbox(lua_State *L)
{
    const yt_node *args = lua_touserdata(L, 1);

    open_library(L, LUA_GNAME, luaopen_base);
    lua_pop(L, 1);
    open_library(L, LUA_STRLIBNAME, luaopen_string);
    lua_pop(L, 1);
    open_library(L, LUA_TABLIBNAME, luaopen_table);
    lua_pop(L, 1);
    open_library(L, LUA_MATHLIBNAME, luaopen_math);
    lua_pop(L, 1);
    open_library(L, LUA_UTF8LIBNAME, luaopen_utf8);
    lua_pop(L, 1);

    lua_pushglobaltable(L);
    int globals = lua_gettop(L);
    remove_fields(L, removed_base);
    wrap_field(L, "pcall", sandbox_pcall);
    wrap_field(L, "xpcall", sandbox_pcall);
    wrap_field(L, "setmetatable", sandbox_setmetatable);

    lua_getfield(L, globals, LUA_STRLIBNAME);
    remove_fields(L, removed_string);
    wrap_field(L, "rep", sandbox_string_rep);
    freeze_table(L, -1, LUA_STRLIBNAME);
    lua_pop(L, 1);

    lua_getfield(L, globals, LUA_TABLIBNAME);
    wrap_field(L, "insert", sandbox_table_insert);
    wrap_field(L, "remove", sandbox_table_remove);
    wrap_field(L, "move", sandbox_table_move);
    wrap_field(L, "concat", sandbox_table_concat);
    wrap_field(L, "unpack", sandbox_table_unpack);
    wrap_field(L, "sort", sandbox_table_sort);
    freeze_table(L, -1, LUA_TABLIBNAME);
    lua_pop(L, 1);

    lua_getfield(L, globals, LUA_MATHLIBNAME);
    remove_fields(L, removed_math);
    freeze_table(L, -1, LUA_MATHLIBNAME);
    lua_pop(L, 1);

    lua_getfield(L, globals, LUA_UTF8LIBNAME);
    freeze_table(L, -1, LUA_UTF8LIBNAME);
    lua_pop(L, 1);

    /* getmetatable("") would hand out the string metatable, and with it a way
     * to change every string's methods. */
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);

    /* setmetatable(_G, ...) is refused from the start; the globals are frozen
     * after the top-level chunk has defined the hook functions. */
    lua_createtable(L, 0, 1);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, globals);
    lua_pop(L, 1);

    if (args != NULL)
        push_yaml(L, args);
    else
        lua_newtable(L);
    hooks *h = sandbox_owner(L);
    h->args_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* Protected: finds the hook functions, then freezes the globals. */
static int find_functions(lua_State *L)
{
    hooks *h = sandbox_owner(L);
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
    lua_pushglobaltable(L);
    freeze_table(L, -1, "");
    return 0;
}

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

static int build_call_arguments(lua_State *L)
{
    const call_context *context = lua_touserdata(L, 1);
    push_history(L, context->history);
    lua_rawgeti(L, LUA_REGISTRYINDEX, context->args_ref);
    push_copy(L, -1);
    lua_remove(L, -2);
    if (!isnan(context->base_rate)) {
        lua_pushnumber(L, context->base_rate);
        lua_setfield(L, -2, "base_learning_rate");
    }
    return 2;
}

/* Message handler: the message (non-string error objects described, never
 * converted, so that no script code runs here) plus a traceback. */
static int message_handler(lua_State *L)
{
    const char *message = lua_type(L, 1) == LUA_TSTRING
                              ? lua_tostring(L, 1)
                              : lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, message, 1);
    return 1;
}

/* ---- error messages ----------------------------------------------------- */

/* Copies text into err->message, writing the full path wherever Lua wrote its
 * abbreviation (Lua shortens chunk names to LUA_IDSIZE characters). */
static void copy_expanding_path(const hooks *h, const char *text, char *out, size_t size)
{
    size_t used = 0;
    size_t short_length = strlen(h->short_src);
    int expand = short_length > 0 && strcmp(h->short_src, h->path) != 0;
    while (*text != '\0' && used + 1 < size) {
        if (expand && strncmp(text, h->short_src, short_length) == 0) {
            int written = snprintf(out + used, size - used, "%s", h->path);
            used += written > 0 ? (size_t)written : 0;
            if (used >= size)
                used = size - 1;
            text += short_length;
            continue;
        }
        out[used++] = *text++;
    }
    out[used] = '\0';
}

/* Turns a failed lua_pcall/load (result on the stack top) into err; pops it. */
static int lua_failure(hooks *h, int lua_status, int status, mlp_error *err)
{
    lua_State *L = h->L;
    if (lua_status == LUA_ERRMEM && !h->memory_refused) {
        lua_settop(L, 0);
        return mlp_error_set(err, status, "%s: out of memory while running the hook", h->path);
    }
    if (lua_status == LUA_ERRMEM || (h->memory_refused && lua_status == LUA_ERRERR)) {
        lua_settop(L, 0);
        return mlp_error_set(err, status, "%s: hook used more than its memory cap of %zu bytes "
                             "(memory_bytes)", h->path, h->memory_limit);
    }
    const char *message = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                         : "(error object is not a string)";
    if (lua_status == LUA_ERRERR)
        message = "error while reporting an error (the hook's error handling failed)";
    char expanded[MLP_ERROR_MESSAGE_MAX];
    copy_expanding_path(h, message, expanded, sizeof expanded);
    size_t path_length = strlen(h->path);
    if (strncmp(expanded, h->path, path_length) == 0 && expanded[path_length] == ':')
        mlp_error_set(err, status, "%s", expanded);
    else
        mlp_error_set(err, status, "%s: %s", h->path, expanded);
    lua_settop(L, 0);
    return status;
}

/* The shortest %g text that reads back as the same double (0.1, not 0.10000000000000001). */
static void format_shortest(double value, char *out, size_t size)
{
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(out, size, "%.*g", precision, value);
        if (strtod(out, NULL) == value)
            return;
    }
}

/* Describes the Lua value at idx for an error message without converting it. */
static void describe_value(lua_State *L, int idx, char *out, size_t size)
{
    switch (lua_type(L, idx)) {
    case LUA_TNONE:
        snprintf(out, size, "nothing");
        break;
    case LUA_TNIL:
        snprintf(out, size, "nil");
        break;
    case LUA_TNUMBER:
        if (isnan(lua_tonumber(L, idx)))
            snprintf(out, size, "nan");   /* not "-nan": the sign of a NaN means nothing */
        else if (lua_isinteger(L, idx))
            snprintf(out, size, "%lld", (long long)lua_tointeger(L, idx));
        else
            format_shortest(lua_tonumber(L, idx), out, size);
        break;
    case LUA_TBOOLEAN:
        snprintf(out, size, "%s", lua_toboolean(L, idx) ? "true" : "false");
        break;
    case LUA_TSTRING:
        snprintf(out, size, "the string \"%.60s\"", lua_tostring(L, idx));
        break;
    default:
        snprintf(out, size, "a %s", luaL_typename(L, idx));
        break;
    }
}

/* ---- life cycle ------------------------------------------------------------ */

static int read_script(hooks *h, mlp_error *err)
{
    FILE *file = fopen(h->path, "rb");
    if (file == NULL)
        return mlp_error_set(err, MLP_ERR_CONFIG, "%s: cannot open the hook script: %s",
                             h->path, strerror(errno));
    size_t capacity = 4096, length = 0;
    char *text = malloc(capacity);
    int failed = text == NULL;
    while (!failed) {
        if (length + 1 >= capacity) {
            char *bigger = capacity < SCRIPT_MAX_BYTES ? realloc(text, capacity * 2) : NULL;
            if (bigger == NULL) {
                failed = 1;
                break;
            }
            text = bigger;
            capacity *= 2;
        }
        size_t got = fread(text + length, 1, capacity - 1 - length, file);
        length += got;
        if (got == 0)
            break;
    }
    int read_error = ferror(file) ? errno : 0;
    fclose(file);
    if (failed) {
        free(text);
        if (capacity >= SCRIPT_MAX_BYTES)
            return mlp_error_set(err, MLP_ERR_CONFIG, "%s: larger than %d bytes; not a hook script",
                                 h->path, SCRIPT_MAX_BYTES);
        return mlp_error_nomem(err, "the hook script");
    }
    if (read_error != 0) {
        free(text);
        return mlp_error_set(err, MLP_ERR_CONFIG, "%s: cannot read the hook script: %s",
                             h->path, strerror(read_error));
    }
    text[length] = '\0';
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

/* "file:line:col: " of a YAML node, or "" when the node has no position. */
static void format_mark(const yt_node *node, char *out, size_t size)
{
    if (node->mark.file != NULL && node->mark.line > 0)
        snprintf(out, size, "%s:%u:%u: ", node->mark.file, node->mark.line, node->mark.column);
    else
        out[0] = '\0';
}

static int check_args_depth(const yt_node *node, int depth, mlp_error *err)
{
    char where[512];
    if (depth > ARGS_MAX_DEPTH) {
        format_mark(node, where, sizeof where);
        return mlp_error_set(err, MLP_ERR_CONFIG, "%shook_args are nested more than %d levels deep",
                             where, ARGS_MAX_DEPTH);
    }
    if (node->kind == YT_SCALAR)
        return MLP_OK;
    for (size_t i = 0; i < node->count; i++)
        if (check_args_depth(node->items[i], depth + 1, err) != MLP_OK)
            return err != NULL ? err->status : MLP_ERR_CONFIG;
    return MLP_OK;
}

static int check_args(const yt_node *args, mlp_error *err)
{
    char where[512];
    if (args == NULL)
        return MLP_OK;
    format_mark(args, where, sizeof where);
    if (args->kind != YT_MAPPING)
        return mlp_error_set(err, MLP_ERR_CONFIG, "%shook_args must be a mapping of names to "
                             "values", where);
    for (size_t i = 0; i < args->count; i++) {
        if (strcmp(args->keys[i], "base_learning_rate") != 0)
            continue;
        format_mark(args->items[i], where, sizeof where);
        return mlp_error_set(err, MLP_ERR_CONFIG, "%shook_args.base_learning_rate is reserved: "
                             "mlplab sets it to the configured learning rate", where);
    }
    return check_args_depth(args, 0, err);
}

int hooks_new(const char *script_path, const yt_node *args, const hooks_limits *limits,
              hooks **out, mlp_error *err)
{
    if (out == NULL || script_path == NULL)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: hooks_new without a script or result");
    *out = NULL;
    int status = check_args(args, err);
    if (status != MLP_OK)
        return status;
    hooks *h = calloc(1, sizeof *h);
    if (h == NULL)
        return mlp_error_nomem(err, "the hook sandbox");
    h->learning_rate_ref = h->epoch_end_ref = h->args_ref = LUA_NOREF;
    h->base_rate = NAN;
    h->instruction_limit = limits != NULL && limits->instructions_per_call > 0
                               ? limits->instructions_per_call : DEFAULT_INSTRUCTIONS;
    h->memory_limit = limits != NULL && limits->memory_bytes > 0 ? limits->memory_bytes
                                                                 : DEFAULT_MEMORY;
    h->path = strdup(script_path);
    if (h->path == NULL) {
        hooks_free(h);
        return mlp_error_nomem(err, "the hook sandbox");
    }
    status = read_script(h, err);
    if (status != MLP_OK) {
        hooks_free(h);
        return status;
    }

    h->L = lua_newstate(sandbox_alloc, h);
    if (h->L == NULL) {
        size_t cap = h->memory_limit;
        hooks_free(h);
        return mlp_error_set(err, MLP_ERR_RUN, "%s: cannot create the Lua sandbox within its "
                             "memory cap of %zu bytes", script_path, cap);
    }
    lua_State *L = h->L;
    start_budget(h);

    lua_pushcfunction(L, build_sandbox);
    lua_pushlightuserdata(L, (void *)args);
    int lua_status = lua_pcall(L, 1, 0, 0);
    if (lua_status != LUA_OK) {
        lua_failure(h, lua_status, MLP_ERR_RUN, err);
        hooks_free(h);
        return MLP_ERR_RUN;
    }

    lua_pushcfunction(L, message_handler);
    size_t name_length = strlen(script_path) + 2;
    char *chunk_name = malloc(name_length);
    if (chunk_name == NULL) {
        hooks_free(h);
        return mlp_error_nomem(err, "the hook sandbox");
    }
    snprintf(chunk_name, name_length, "@%s", script_path);
    /* Learn how Lua abbreviates the name (from an empty chunk of that name),
     * so that even syntax errors can be given the full path. */
    lua_status = luaL_loadbufferx(L, "", 0, chunk_name, "t");
    if (lua_status == LUA_OK) {
        lua_Debug ar;
        lua_getinfo(L, ">S", &ar);
        snprintf(h->short_src, sizeof h->short_src, "%s", ar.short_src);
        lua_status = luaL_loadbufferx(L, h->source, h->source_length, chunk_name, "t");
    }
    free(chunk_name);
    if (lua_status != LUA_OK) {
        lua_failure(h, lua_status, MLP_ERR_CONFIG, err);
        hooks_free(h);
        return MLP_ERR_CONFIG;
    }

    start_budget(h);
    lua_status = lua_pcall(L, 0, 0, 1);
    if (lua_status == LUA_OK) {
        lua_settop(L, 0);
        lua_pushcfunction(L, find_functions);
        lua_status = lua_pcall(L, 0, 0, 0);
    }
    if (lua_status != LUA_OK) {
        lua_failure(h, lua_status, MLP_ERR_RUN, err);
        hooks_free(h);
        return MLP_ERR_RUN;
    }
    lua_settop(L, 0);
    *out = h;
    return MLP_OK;
}

void hooks_free(hooks *h)
{
    if (h == NULL)
        return;
    if (h->L != NULL)
        lua_close(h->L);
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

/* ---- calls ------------------------------------------------------------------ */

/* Calls the function `ref` as f(epoch, history, args). On success the results
 * are at stack indices 4 .. top and *count says how many. */
static int call_hook(hooks *h, int ref, int epoch, const metrics_history *history,
                     double base_rate, int *count, mlp_error *err)
{
    lua_State *L = h->L;
    call_context context = {history, base_rate, h->args_ref};
    lua_settop(L, 0);
    start_budget(h);
    lua_pushcfunction(L, message_handler);
    lua_pushcfunction(L, build_call_arguments);
    lua_pushlightuserdata(L, &context);
    int lua_status = lua_pcall(L, 1, 2, 0);
    if (lua_status == LUA_OK) {
        start_budget(h);   /* building the tables is not the hook's work */
        lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
        lua_pushinteger(L, epoch);
        lua_pushvalue(L, 2);
        lua_pushvalue(L, 3);
        lua_status = lua_pcall(L, 3, LUA_MULTRET, 1);
    }
    if (lua_status != LUA_OK)
        return lua_failure(h, lua_status, MLP_ERR_RUN, err);
    *count = lua_gettop(L) - 3;
    return MLP_OK;
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
    int count = 0;
    int status = call_hook(h, h->learning_rate_ref, epoch, history, default_rate, &count, err);
    if (status != MLP_OK)
        return status;
    lua_State *L = h->L;
    double value = lua_type(L, 4) == LUA_TNUMBER ? lua_tonumber(L, 4) : NAN;
    if (count >= 1 && lua_type(L, 4) == LUA_TNUMBER && isfinite(value) && value > 0) {
        *rate = value;
        lua_settop(L, 0);
        return MLP_OK;
    }
    char returned[128] = "nothing";
    if (count >= 1)
        describe_value(L, 4, returned, sizeof returned);
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

/* Checks the metrics table at idx and fills a sorted array (names point into
 * Lua strings, valid while the table stays on the stack). */
static int read_custom_metrics(hooks *h, int idx, int epoch, custom_metric **out, size_t *count,
                               mlp_error *err)
{
    lua_State *L = h->L;
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
            describe_value(L, -2, what, sizeof what);
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
            else if (lua_type(L, -1) != LUA_TNUMBER || !isfinite(lua_tonumber(L, -1)))
                problem = "its value is not a finite number";
        }
        if (problem != NULL) {
            char value[128];
            describe_value(L, -1, value, sizeof value);
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
    int count = 0;
    int status = call_hook(h, h->epoch_end_ref, epoch, history, base_rate, &count, err);
    if (status != MLP_OK)
        return status;
    lua_State *L = h->L;
    int stop_seen = 0, table_index = 0;
    for (int i = 4; i < 4 + count; i++) {
        int type = lua_type(L, i);
        int accepted = type == LUA_TNIL
                       || (type == LUA_TSTRING && strcmp(lua_tostring(L, i), "stop") == 0
                           && !stop_seen)
                       || (type == LUA_TTABLE && table_index == 0);
        if (!accepted) {
            char returned[128];
            describe_value(L, i, returned, sizeof returned);
            lua_settop(L, 0);
            return mlp_error_set(err, MLP_ERR_RUN, "%s:%d: on_epoch_end returned %s (result %d) "
                                 "for epoch %d; it may return nothing, \"stop\", a table of custom "
                                 "metrics {name = number}, or \"stop\" and such a table", h->path,
                                 h->epoch_end_line, returned, i - 3, epoch);
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
