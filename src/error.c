/* error.c — see error.h. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int mlp_error_set(mlp_error *err, int status, const char *fmt, ...)
{
    if (err == NULL)
        return status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->status = status;
    return status;
}

int mlp_error_prefix(mlp_error *err, const char *fmt, ...)
{
    if (err == NULL)
        return MLP_ERR_RUN;
    char prefix[512];
    char old[MLP_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof old);
    /* Built in two steps: the message may be cut, never overflow. */
    size_t used = (size_t)snprintf(err->message, sizeof err->message, "%s: ", prefix);
    if (used < sizeof err->message)
        memcpy(err->message + used, old, strnlen(old, sizeof err->message - used - 1) + 1);
    err->message[sizeof err->message - 1] = '\0';
    return err->status;
}

void mlp_error_clear(mlp_error *err)
{
    if (err == NULL)
        return;
    err->status = MLP_OK;
    err->message[0] = '\0';
}

int mlp_error_nomem(mlp_error *err, const char *what)
{
    return mlp_error_set(err, MLP_ERR_RUN, "out of memory while allocating %s", what);
}
