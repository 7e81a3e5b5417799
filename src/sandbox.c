/* sandbox.c — the Lua 5.4 sandbox behind sandbox.h.
 *
 * The sandbox can only compute: a fresh lua_State whose allocator enforces a
 * memory cap, only the base, string, table, math and utf8 libraries, minus
 * everything that reaches outside (files, code loading), that cannot be
 * interrupted (string patterns), or that makes results depend on anything but
 * the script's inputs (random numbers, the collector, finalizers, state kept
 * in globals). Every Lua call runs under lua_pcall with an instruction budget
 * enforced by a count hook. See docs/hooks.md for the rules as users read
 * them. */
#include "sandbox.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "numtext.h"

enum {
    DEFAULT_INSTRUCTIONS = 10000000,
    COUNT_STEP = 1000,                     /* instructions between two count-hook calls */
    BYTES_PER_INSTRUCTION = 16,            /* allocation charged to the budget, see capped_alloc */
    STRING_REP_MAX = 1 << 20,              /* largest string string.rep may build */
};
#define DEFAULT_MEMORY ((size_t)64 << 20)

struct sandbox {
    lua_State *L;
    char *path;
    char short_src[LUA_IDSIZE];          /* how Lua abbreviates path in messages */

    size_t memory_limit, memory_used;
    int memory_refused;                  /* the allocator said no since the call began */
    long instruction_limit, instructions_used;
    int over_budget;                     /* the budget ran out during this call */
};

/* ---- allocator, budget ---------------------------------------------------- */

static void count_hook(lua_State *L, lua_Debug *ar);

/* Lua's allocator contract (lua_Alloc); ud is the sandbox. Refusing an
 * allocation makes Lua collect garbage and retry, then raise a memory error. */
static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    sandbox *s = ud;
    size_t old = ptr != NULL ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        s->memory_used -= old;
        return NULL;
    }
    if (nsize > old && nsize - old > s->memory_limit - s->memory_used) {
        s->memory_refused = 1;
        return NULL;
    }
    void *block = realloc(ptr, nsize);
    if (block == NULL)
        return NULL;
    s->memory_used = s->memory_used - old + nsize;
    /* Building a big string is one VM instruction (a concatenation, a
     * string.rep) but costs time in proportion to its size: charge it, so that
     * a loop of such instructions runs out of budget too. Once over, the
     * count hook is made to fire at the very next instruction. */
    if (nsize > old) {
        s->instructions_used += (long)((nsize - old) / BYTES_PER_INSTRUCTION);
        if (s->instructions_used > s->instruction_limit && s->L != NULL)
            lua_sethook(s->L, count_hook, LUA_MASKCOUNT, 1);   /* stop at the next instruction */
    }
    return block;
}

static sandbox *owner(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

/* Raises the budget error at stack level `level` (0: the running Lua
 * function, from the count hook; 1: the caller of a C function). */
static int budget_error(lua_State *L, int level)
{
    sandbox *s = owner(L);
    s->over_budget = 1;
    luaL_where(L, level);
    lua_pushfstring(L, "hook ran for more than %I instructions (endless loop?)",
                    (lua_Integer)s->instruction_limit);
    lua_concat(L, 2);
    return lua_error(L);
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    sandbox *s = owner(L);
    s->instructions_used += COUNT_STEP;
    if (s->over_budget || s->instructions_used > s->instruction_limit)
        budget_error(L, 0);
}

/* A fresh budget for one call (or the top level): counting from zero, the
 * count hook called every COUNT_STEP instructions. */
static void start_budget(sandbox *s)
{
    s->instructions_used = 0;
    s->over_budget = 0;
    s->memory_refused = 0;
    lua_sethook(s->L, count_hook, LUA_MASKCOUNT,
                s->instruction_limit < COUNT_STEP ? (int)s->instruction_limit : COUNT_STEP);
}

/* C library loops do not run VM instructions, so the wrappers below charge
 * one instruction per element a loop will touch, before it starts. */
static void charge(lua_State *L, lua_Integer elements)
{
    sandbox *s = owner(L);
    if (elements <= 0)
        return;
    if (s->over_budget || elements > s->instruction_limit - s->instructions_used)
        budget_error(L, 1);
    s->instructions_used += (long)elements;
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
static int wrapped_pcall(lua_State *L)
{
    int results = call_original(L);
    if (owner(L)->over_budget)
        return budget_error(L, 1);
    return results;
}

/* setmetatable without finalizers or weak tables: both run at moments chosen by
 * the garbage collector, outside any call's budget and not reproducibly. */
static int wrapped_setmetatable(lua_State *L)
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
static int wrapped_string_rep(lua_State *L)
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

static int wrapped_table_insert(lua_State *L)
{
    lua_Integer position;
    if (lua_type(L, 1) == LUA_TTABLE && lua_gettop(L) == 3 && integer_argument(L, 2, &position))
        charge(L, span(position, table_length(L)));
    return call_original(L);
}

static int wrapped_table_remove(lua_State *L)
{
    lua_Integer position;
    if (lua_type(L, 1) == LUA_TTABLE && integer_argument(L, 2, &position))
        charge(L, span(position, table_length(L)));
    return call_original(L);
}

static int wrapped_table_move(lua_State *L)
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

static int wrapped_table_concat(lua_State *L)
{
    charge_range(L, 3);
    return call_original(L);
}

static int wrapped_table_unpack(lua_State *L)
{
    charge_range(L, 2);
    return call_original(L);
}

/* Sorting n elements costs about n log2 n comparisons. */
static int wrapped_table_sort(lua_State *L)
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
/* Results must be functions of the inputs (for hooks: history and args), so no random numbers. */
static const char *const removed_math[] = {"random", "randomseed", NULL};

static void open_library(lua_State *L, const char *name, lua_CFunction open)
{
    luaL_requiref(L, name, open, 1);
}

/* Protected: opens and trims the libraries. */
static int open_libraries(lua_State *L)
{
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
    wrap_field(L, "pcall", wrapped_pcall);
    wrap_field(L, "xpcall", wrapped_pcall);
    wrap_field(L, "setmetatable", wrapped_setmetatable);

    lua_getfield(L, globals, LUA_STRLIBNAME);
    remove_fields(L, removed_string);
    wrap_field(L, "rep", wrapped_string_rep);
    freeze_table(L, -1, LUA_STRLIBNAME);
    lua_pop(L, 1);

    lua_getfield(L, globals, LUA_TABLIBNAME);
    wrap_field(L, "insert", wrapped_table_insert);
    wrap_field(L, "remove", wrapped_table_remove);
    wrap_field(L, "move", wrapped_table_move);
    wrap_field(L, "concat", wrapped_table_concat);
    wrap_field(L, "unpack", wrapped_table_unpack);
    wrap_field(L, "sort", wrapped_table_sort);
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

    return 0;
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
static void copy_expanding_path(const sandbox *s, const char *text, char *out, size_t size)
{
    size_t used = 0;
    size_t short_length = strlen(s->short_src);
    int expand = short_length > 0 && strcmp(s->short_src, s->path) != 0;
    while (*text != '\0' && used + 1 < size) {
        if (expand && strncmp(text, s->short_src, short_length) == 0) {
            int written = snprintf(out + used, size - used, "%s", s->path);
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
static int lua_failure(sandbox *s, int lua_status, int status, mlp_error *err)
{
    lua_State *L = s->L;
    if (lua_status == LUA_ERRMEM && !s->memory_refused) {
        lua_settop(L, 0);
        return mlp_error_set(err, status, "%s: out of memory while running the hook", s->path);
    }
    if (lua_status == LUA_ERRMEM || (s->memory_refused && lua_status == LUA_ERRERR)) {
        lua_settop(L, 0);
        return mlp_error_set(err, status, "%s: hook used more than its memory cap of %zu bytes "
                             "(memory_bytes)", s->path, s->memory_limit);
    }
    const char *message = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                         : "(error object is not a string)";
    if (lua_status == LUA_ERRERR)
        message = "error while reporting an error (the hook's error handling failed)";
    char expanded[MLP_ERROR_MESSAGE_MAX];
    copy_expanding_path(s, message, expanded, sizeof expanded);
    size_t path_length = strlen(s->path);
    if (strncmp(expanded, s->path, path_length) == 0 && expanded[path_length] == ':')
        mlp_error_set(err, status, "%s", expanded);
    else
        mlp_error_set(err, status, "%s: %s", s->path, expanded);
    lua_settop(L, 0);
    return status;
}

/* Describes the Lua value at idx for an error message without converting it. */
void sandbox_describe(lua_State *L, int idx, char *out, size_t size)
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
            numtext_shortest(lua_tonumber(L, idx), out, size);
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

/* ---- life cycle and calls ---------------------------------------------------- */

int sandbox_new(const char *path, const sandbox_limits *limits, sandbox **out, mlp_error *err)
{
    if (out == NULL || path == NULL)
        return mlp_error_set(err, MLP_ERR_RUN, "internal: sandbox_new without a path or result");
    *out = NULL;
    sandbox *s = calloc(1, sizeof *s);
    if (s == NULL)
        return mlp_error_nomem(err, "the hook sandbox");
    s->instruction_limit = limits != NULL && limits->instructions_per_call > 0
                               ? limits->instructions_per_call : DEFAULT_INSTRUCTIONS;
    s->memory_limit = limits != NULL && limits->memory_bytes > 0 ? limits->memory_bytes
                                                                 : DEFAULT_MEMORY;
    s->path = strdup(path);
    if (s->path == NULL) {
        sandbox_free(s);
        return mlp_error_nomem(err, "the hook sandbox");
    }
    s->L = lua_newstate(capped_alloc, s);
    if (s->L == NULL) {
        size_t cap = s->memory_limit;
        sandbox_free(s);
        return mlp_error_set(err, MLP_ERR_RUN, "%s: cannot create the Lua sandbox within its "
                             "memory cap of %zu bytes", path, cap);
    }
    int status = sandbox_protect(s, open_libraries, NULL, 0, err);
    if (status != MLP_OK) {
        sandbox_free(s);
        return status;
    }
    *out = s;
    return MLP_OK;
}

void sandbox_free(sandbox *s)
{
    if (s == NULL)
        return;
    if (s->L != NULL)
        lua_close(s->L);
    free(s->path);
    free(s);
}

lua_State *sandbox_state(sandbox *s)
{
    return s->L;
}

int sandbox_run_chunk(sandbox *s, const char *source, size_t length, mlp_error *err)
{
    lua_State *L = s->L;
    size_t name_length = strlen(s->path) + 2;
    char *chunk_name = malloc(name_length);
    if (chunk_name == NULL)
        return mlp_error_nomem(err, "the hook sandbox");
    snprintf(chunk_name, name_length, "@%s", s->path);
    /* Learn how Lua abbreviates the name (from an empty chunk of that name),
     * so that even syntax errors can be given the full path. */
    int lua_status = luaL_loadbufferx(L, "", 0, chunk_name, "t");
    if (lua_status == LUA_OK) {
        lua_Debug ar;
        lua_getinfo(L, ">S", &ar);
        snprintf(s->short_src, sizeof s->short_src, "%s", ar.short_src);
        lua_status = luaL_loadbufferx(L, source, length, chunk_name, "t");
    }
    free(chunk_name);
    if (lua_status != LUA_OK)
        return lua_failure(s, lua_status, MLP_ERR_CONFIG, err);
    int results = 0;
    int status = sandbox_call(s, 0, &results, err);
    if (status == MLP_OK)
        lua_pop(L, results);
    return status;
}

int sandbox_protect(sandbox *s, int (*fn)(lua_State *L), void *ud, int nresults, mlp_error *err)
{
    lua_State *L = s->L;
    start_budget(s);
    lua_pushcfunction(L, fn);
    lua_pushlightuserdata(L, ud);
    int lua_status = lua_pcall(L, 1, nresults, 0);
    if (lua_status != LUA_OK)
        return lua_failure(s, lua_status, MLP_ERR_RUN, err);
    return MLP_OK;
}

int sandbox_call(sandbox *s, int nargs, int *nresults, mlp_error *err)
{
    lua_State *L = s->L;
    int handler = lua_gettop(L) - nargs;   /* where the function is, below its arguments */
    lua_pushcfunction(L, message_handler);
    lua_insert(L, handler);
    start_budget(s);
    int lua_status = lua_pcall(L, nargs, LUA_MULTRET, handler);
    if (lua_status != LUA_OK)
        return lua_failure(s, lua_status, MLP_ERR_RUN, err);
    lua_remove(L, handler);
    *nresults = lua_gettop(L) - handler + 1;
    return MLP_OK;
}

void sandbox_freeze_globals(lua_State *L)
{
    lua_pushglobaltable(L);
    freeze_table(L, -1, "");
    lua_pop(L, 1);
}
