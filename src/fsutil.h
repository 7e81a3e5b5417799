/* fsutil.h — the file operations every stage shares, with one policy for the
 * whole results directory:
 *  - directories are made as `mkdir -p` makes them (mode 0777 less the umask);
 *  - a file is written to a temporary file in its own directory, flushed to
 *    the disk (fsync), given the umask's permissions (0666 less the umask) and
 *    renamed over the target, so a reader sees the old file or the new one,
 *    never half of one, and a crash leaves no empty file behind.
 * Errors are MLP_ERR_RUN with the path and the system's reason. */
#ifndef MLP_FSUTIL_H
#define MLP_FSUTIL_H

#include <stdio.h>

#include "error.h"

/* mkdir -p DIR. */
int fsutil_make_dirs(const char *dir, mlp_error *err);

/* mkdir -p of the directory part of PATH (nothing for a bare file name). */
int fsutil_make_parent_dirs(const char *path, mlp_error *err);

/* Writes text to path atomically, as above. */
int fsutil_write_atomic(const char *path, const char *text, mlp_error *err);

/* fsutil_write_atomic unless path already holds exactly text, so that Make's
 * timestamps stay as they are. *changed (may be NULL) is 1 when it wrote. */
int fsutil_write_if_changed(const char *path, const char *text, int *changed, mlp_error *err);

/* The rest of an open file, NUL-terminated, into *text (the caller frees it)
 * and its length (without the NUL) into *length (may be NULL). Returns 0, or
 * with *text NULL an errno value for the caller's message: the read's, EFBIG
 * for more than max_bytes, ENOMEM. The file stays open. */
int fsutil_read_all(FILE *file, size_t max_bytes, char **text, size_t *length);

#endif
