/* sandbox.h — a Lua 5.4 state that can only compute: the sandbox hooks run in.
 *
 * Libraries: base, string, table, math and utf8, minus everything that reaches
 * outside (dofile, loadfile, load, print, warn; no io, os, package, debug),
 * that C runs without interruption (the string pattern functions), or that
 * makes results depend on anything but the script's inputs (random numbers,
 * collectgarbage, rawset, __gc finalizers, weak tables). The libraries are
 * read-only; sandbox_freeze_globals makes the globals read-only too.
 *
 * Limits: an instruction budget, fresh for every sandbox_* call, enforced by a
 * count hook (C library loops are charged one instruction per element, big
 * allocations one per 16 bytes), and a memory cap on the whole state enforced
 * by its allocator. pcall/xpcall cannot swallow a budget overrun.
 *
 * Errors: every failure becomes an mlp_error "PATH:LINE: message" plus a Lua
 * traceback, with the full path wherever Lua abbreviated it; an overrun of the
 * budget or the memory cap is named as such. See docs/hooks.md for the rules
 * as users read them; hooks.h is the protocol on top of this.
 *
 * Ownership: sandbox_new allocates *out; sandbox_free frees it and its state.
 * The caller may use the lua_State (sandbox_state) directly between calls, to
 * push and read values; running Lua code goes through sandbox_call. */
#ifndef MLP_SANDBOX_H
#define MLP_SANDBOX_H

#include <stddef.h>

#include "error.h"

struct lua_State;

typedef struct sandbox sandbox;

typedef struct sandbox_limits {
    long instructions_per_call;     /* 0: the default, 10,000,000 */
    size_t memory_bytes;            /* 0: the default, 64 MiB */
} sandbox_limits;

/* A fresh state with the trimmed libraries. path names the script in every
 * message and is the chunk name of sandbox_run_chunk. limits may be NULL. */
int sandbox_new(const char *path, const sandbox_limits *limits, sandbox **out, mlp_error *err);
void sandbox_free(sandbox *s);

struct lua_State *sandbox_state(sandbox *s);

/* Compiles source (Lua text, never bytecode) and runs its top level. A syntax
 * error is MLP_ERR_CONFIG, an error while running MLP_ERR_RUN. */
int sandbox_run_chunk(sandbox *s, const char *source, size_t length, mlp_error *err);

/* Runs fn(L) in protected mode with ud as its one argument (light userdata):
 * C code that builds or reads Lua values, which can raise (out of memory, a
 * __len or __index in the script). On success its nresults results are pushed;
 * on failure (MLP_ERR_RUN) the stack is emptied. */
int sandbox_protect(sandbox *s, int (*fn)(struct lua_State *L), void *ud, int nresults,
                    mlp_error *err);

/* Calls the function below the nargs values at the top of the stack. On
 * success its results replace function and arguments and *nresults says how
 * many; on failure (MLP_ERR_RUN) the stack is emptied. */
int sandbox_call(sandbox *s, int nargs, int *nresults, mlp_error *err);

/* Makes _G read-only: a later write is the error "hooks must not keep state
 * between calls". Raises on failure, so call it from a sandbox_protect fn. */
void sandbox_freeze_globals(struct lua_State *L);

/* Describes the value at idx for an error message ("nil", "3", "the string
 * \"x\"", "a table"), without running any of the script's code. */
void sandbox_describe(struct lua_State *L, int idx, char *out, size_t size);

#endif
