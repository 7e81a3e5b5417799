/* error.h — the error object every fallible function fills.
 *
 * Functions that can fail take an `mlp_error *err` as their last argument and
 * return 0 on success or a non-zero status (one of mlp_status) on failure. On
 * failure err->message holds a complete sentence ready for the user (for config
 * errors: "file:line:col: message", then the offending line, a caret and a hint).
 * The library never prints and never exits: the command layer (main.c) does.
 * err may be NULL when the caller only wants the status. */
#ifndef MLP_ERROR_H
#define MLP_ERROR_H

#include <stddef.h>

/* Statuses double as the process exit codes (documented in docs/cli.md). */
typedef enum mlp_status {
    MLP_OK = 0,
    MLP_ERR_RUN = 1,        /* training failed: numeric blow-up, hook error, I/O */
    MLP_ERR_USAGE = 2,      /* bad command line */
    MLP_ERR_CONFIG = 3,     /* invalid YAML or configuration */
    MLP_ERR_DATA = 4,       /* missing, corrupt or mismatched data set */
    MLP_ERR_GRADCHECK = 5,  /* a check failed: gradient check, reproduction check */
    MLP_ERR_INCOMPLETE = 6, /* mlplab status: runs still partial or not started, none failed */
    MLP_ERR_INTERRUPTED = 130 /* SIGINT/SIGTERM: stopped cleanly, resumable */
} mlp_status;

enum { MLP_ERROR_MESSAGE_MAX = 4096 };

typedef struct mlp_error {
    int status;                              /* an mlp_status; 0 = no error */
    char message[MLP_ERROR_MESSAGE_MAX];     /* for the user; "" when status == 0 */
} mlp_error;

/* Sets status and a printf-formatted message; returns status so callers can
 * write `return mlp_error_set(err, MLP_ERR_DATA, "...", ...);`. */
int mlp_error_set(mlp_error *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an existing message (to add context on the way up). */
int mlp_error_prefix(mlp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void mlp_error_clear(mlp_error *err);

/* Out-of-memory is reported the same way everywhere. */
int mlp_error_nomem(mlp_error *err, const char *what);

#endif
