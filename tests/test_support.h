/* test_support.h — helpers shared by the cmocka tests: a message check and
 * removal of a test's scratch directory. Include after <cmocka.h>. */
#ifndef MLP_TEST_SUPPORT_H
#define MLP_TEST_SUPPORT_H

#include <ftw.h>
#include <stdio.h>
#include <string.h>

/* Fails the test, showing both texts, unless needle occurs in haystack. */
static inline void assert_contains(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle) == NULL)
        fail_msg("expected to find\n  \"%s\"\nin\n%s", needle, haystack);
}

static inline int test_remove_entry(const char *path, const struct stat *st, int flag,
                                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes path and everything below it (a mkdtemp scratch directory). */
static inline void test_remove_tree(const char *path)
{
    nftw(path, test_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
