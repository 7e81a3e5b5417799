/* fsutil.c — see fsutil.h. */
#include "fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fsutil_make_dirs(const char *dir, mlp_error *err)
{
    char buffer[4096];
    if (snprintf(buffer, sizeof buffer, "%s", dir) >= (int)sizeof buffer)
        return mlp_error_set(err, MLP_ERR_RUN, "path too long: %s", dir);
    for (char *p = buffer + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buffer, 0777) != 0 && errno != EEXIST)
            return mlp_error_set(err, MLP_ERR_RUN, "cannot create directory %s: %s", buffer,
                                 strerror(errno));
        *p = saved;
        if (saved == '\0')
            break;
    }
    return MLP_OK;
}

int fsutil_make_parent_dirs(const char *path, mlp_error *err)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL || slash == path)
        return MLP_OK;
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path) >= (int)sizeof dir)
        return mlp_error_set(err, MLP_ERR_RUN, "path too long: %s", path);
    return fsutil_make_dirs(dir, err);
}

int fsutil_write_atomic(const char *path, const char *text, mlp_error *err)
{
    char temp[4096];
    if (snprintf(temp, sizeof temp, "%s.tmpXXXXXX", path) >= (int)sizeof temp)
        return mlp_error_set(err, MLP_ERR_RUN, "path too long: %s", path);
    int fd = mkstemp(temp);
    if (fd < 0)
        return mlp_error_set(err, MLP_ERR_RUN, "cannot write %s: %s", path, strerror(errno));
    /* mkstemp makes the file 0600; a result is as readable as any other output. */
    mode_t mask = umask(0);
    umask(mask);
    FILE *file = fchmod(fd, 0666 & ~mask) == 0 ? fdopen(fd, "w") : NULL;
    if (file == NULL) {
        int saved = errno;
        close(fd);
        unlink(temp);
        return mlp_error_set(err, MLP_ERR_RUN, "cannot write %s: %s", path, strerror(saved));
    }
    size_t length = strlen(text);
    int ok = fwrite(text, 1, length, file) == length;
    ok = fflush(file) == 0 && ok;
    ok = fsync(fileno(file)) == 0 && ok;
    ok = fclose(file) == 0 && ok;
    if (!ok || rename(temp, path) != 0) {
        int saved = errno;
        unlink(temp);
        return mlp_error_set(err, MLP_ERR_RUN, "cannot write %s: %s", path, strerror(saved));
    }
    return MLP_OK;
}

/* 1 when the file at path holds exactly text (reading at most its length + 1). */
static int holds(const char *path, const char *text)
{
    FILE *old = fopen(path, "rb");
    if (old == NULL)
        return 0;
    size_t length = strlen(text);
    int same = 1;
    for (size_t i = 0; i < length && same; i++)
        same = fgetc(old) == (unsigned char)text[i];
    same = same && fgetc(old) == EOF;
    fclose(old);
    return same;
}

int fsutil_write_if_changed(const char *path, const char *text, int *changed, mlp_error *err)
{
    if (changed != NULL)
        *changed = 0;
    if (holds(path, text))
        return MLP_OK;
    int rc = fsutil_write_atomic(path, text, err);
    if (rc == MLP_OK && changed != NULL)
        *changed = 1;
    return rc;
}

int fsutil_read_all(FILE *file, size_t max_bytes, char **text, size_t *length)
{
    *text = NULL;
    char *data = NULL;
    size_t used = 0, capacity = 0;
    for (;;) {
        if (used + 1 >= capacity) {
            size_t want = capacity != 0 ? 2 * capacity : 65536;
            char *grown = realloc(data, want);
            if (grown == NULL) {
                free(data);
                return ENOMEM;
            }
            data = grown;
            capacity = want;
        }
        size_t got = fread(data + used, 1, capacity - 1 - used, file);
        used += got;
        if (used > max_bytes) {
            free(data);
            return EFBIG;
        }
        if (got == 0)
            break;
    }
    if (ferror(file)) {
        int reason = errno != 0 ? errno : EIO;
        free(data);
        return reason;
    }
    data[used] = '\0';
    *text = data;
    if (length != NULL)
        *length = used;
    return 0;
}
