/* test_fsutil.c — directories and atomic writes, with the one policy of
 * fsutil.h: mkdir -p, permissions from the umask, nothing left behind, and
 * write_if_changed leaving an unchanged file alone; reading a whole file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_support.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

static size_t entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_make_dirs(void **state)
{
    test_scratch *s = *state;
    char path[256];
    mlp_error err = {0};
    snprintf(path, sizeof path, "%s/a/b/c", s->dir);
    assert_int_equal(fsutil_make_dirs(path, &err), MLP_OK);
    assert_int_equal(fsutil_make_dirs(path, &err), MLP_OK);   /* exists: fine */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    snprintf(path, sizeof path, "%s/x/y/file.h5", s->dir);
    assert_int_equal(fsutil_make_parent_dirs(path, &err), MLP_OK);
    snprintf(path, sizeof path, "%s/x/y", s->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(fsutil_make_parent_dirs("bare-name.h5", &err), MLP_OK);
    /* A file in the way is an error naming the path. */
    snprintf(path, sizeof path, "%s/plain", s->dir);
    test_write_text(path, "x");
    snprintf(path, sizeof path, "%s/plain/sub", s->dir);
    assert_int_equal(fsutil_make_dirs(path, &err), MLP_ERR_RUN);
    assert_contains(err.message, "cannot create directory");
    assert_contains(err.message, "/plain");
}

static void test_write_atomic_and_if_changed(void **state)
{
    test_scratch *s = *state;
    char path[256];
    mlp_error err = {0};
    snprintf(path, sizeof path, "%s/table.md", s->dir);
    mode_t old = umask(027);
    assert_int_equal(fsutil_write_atomic(path, "one\n", &err), MLP_OK);
    umask(old);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);   /* 0666 less the umask, not mkstemp's 0600 */
    char *text = test_read_text(path);
    assert_string_equal(text, "one\n");
    free(text);

    int changed = -1;
    assert_int_equal(fsutil_write_if_changed(path, "one\n", &changed, &err), MLP_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(fsutil_write_if_changed(path, "one", &changed, &err), MLP_OK);
    assert_int_equal(changed, 1);                /* a prefix is not the same text */
    assert_int_equal(fsutil_write_if_changed(path, "one\ntwo\n", &changed, &err), MLP_OK);
    assert_int_equal(changed, 1);
    text = test_read_text(path);
    assert_string_equal(text, "one\ntwo\n");
    free(text);
    assert_int_equal(entries(s->dir), 1);        /* no temporary file left */

    snprintf(path, sizeof path, "%s/missing/table.md", s->dir);
    assert_int_equal(fsutil_write_atomic(path, "x", &err), MLP_ERR_RUN);
    assert_contains(err.message, "cannot write");
    assert_contains(err.message, "missing/table.md");
}

/* Past the first buffer (64 KiB), exactly at the limit, one byte over it. */
static void test_read_all(void **state)
{
    test_scratch *s = *state;
    size_t size = 100000;
    char *big = malloc(size + 1);
    assert_non_null(big);
    for (size_t i = 0; i < size; i++)
        big[i] = (char)('a' + i % 26);
    big[size] = '\0';
    FILE *file = fopen(test_scratch_write(s, "big.txt", big), "rb");
    assert_non_null(file);
    char *text = NULL;
    size_t length = 0;
    assert_int_equal(fsutil_read_all(file, size, &text, &length), 0);
    assert_int_equal(length, size);
    assert_string_equal(text, big);     /* NUL-terminated */
    free(text);
    rewind(file);
    assert_int_equal(fsutil_read_all(file, size - 1, &text, &length), EFBIG);
    assert_null(text);
    fclose(file);
    free(big);

    file = fopen(s->dir, "rb");         /* a directory opens, but does not read */
    if (file != NULL) {
        assert_int_equal(fsutil_read_all(file, size, &text, NULL), EISDIR);
        assert_null(text);
        fclose(file);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_IN_SCRATCH(test_make_dirs),
        TEST_IN_SCRATCH(test_write_atomic_and_if_changed),
        TEST_IN_SCRATCH(test_read_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
