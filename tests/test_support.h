/* test_support.h — helpers shared by the cmocka tests: a message check, reading and
 * writing small text files, removal of a test's scratch directory, and a run
 * config built in code. Include after <cmocka.h>. */
#ifndef MLP_TEST_SUPPORT_H
#define MLP_TEST_SUPPORT_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"

/* Fails the test, showing both texts, unless needle occurs in haystack. */
static inline void assert_contains(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle) == NULL)
        fail_msg("expected to find\n  \"%s\"\nin\n%s", needle, haystack);
}

/* A text function that hands back a malloc'ed string (escapes, quotes, slugs). */
typedef char *test_text_fn(const char *text);

/* For each row {text, expected} of cases[0..n): fn(text) must be expected. */
static inline void test_expect_each(test_text_fn *fn, const char *const cases[][2], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *got = fn(cases[i][0]);
        assert_non_null(got);
        assert_string_equal(got, cases[i][1]);
        free(got);
    }
}

/* A cmocka test case that is a table of {text, expected} rows for one text
 * function: TEST_TEXT_CASES(name, fn, cases) in a test list runs
 * test_expect_each(fn, cases, its row count) under the name `name`. */
typedef struct test_text_cases {
    test_text_fn *fn;
    const char *const (*cases)[2];
    size_t n;
} test_text_cases;

static inline void test_text_cases_run(void **state)
{
    const test_text_cases *t = *state;
    test_expect_each(t->fn, t->cases, t->n);
}

#define TEST_TEXT_CASES(name, fn, table)                                                   \
    {#name, test_text_cases_run, NULL, NULL,                                               \
     &(test_text_cases){fn, table, sizeof table / sizeof table[0]}}

static inline int test_remove_entry(const char *path, const struct stat *st, int flag,
                                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Writes text to path; fails the test if it cannot. */
static inline void test_write_text(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");
    if (file == NULL)
        fail_msg("cannot write %s", path);
    fputs(text, file);
    fclose(file);
}

/* a followed by b, malloc'ed (the caller frees it); fails the test when out
 * of memory. */
static inline char *test_joined(const char *a, const char *b)
{
    char *text = malloc(strlen(a) + strlen(b) + 1);
    if (text == NULL)
        fail_msg("out of memory");
    strcpy(text, a);
    strcat(text, b);
    return text;
}

/* The first 64 KiB of path as a malloc'ed string (the caller frees it); fails
 * the test if path cannot be read. */
static inline char *test_read_text(const char *path)
{
    FILE *file = fopen(path, "r");
    if (file == NULL)
        fail_msg("cannot read %s", path);
    char *text = calloc(1 << 16, 1);
    if (text == NULL)
        fail_msg("out of memory");
    size_t n = fread(text, 1, (1 << 16) - 1, file);
    text[n] = '\0';
    fclose(file);
    return text;
}

/* Removes path and everything below it (a mkdtemp scratch directory). */
static inline void test_remove_tree(const char *path)
{
    nftw(path, test_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A scratch directory for a cmocka test: test_scratch_setup makes
 * /tmp/mlplab-test-XXXXXX and puts a malloc'ed test_scratch in *state;
 * test_scratch_teardown removes the directory with all in it and frees it. */
typedef struct test_scratch {
    char dir[64];
    char paths[8][256];     /* what test_scratch_write returned, the last 8 */
    int written;
} test_scratch;

/* Writes DIR/rel holding text (making DIR/sub/ for "sub/x.yaml") and returns
 * its path, which stays valid for the next 7 writes; fails the test if the
 * file cannot be written. */
static inline const char *test_scratch_write(test_scratch *s, const char *rel, const char *text)
{
    char built[sizeof s->paths[0]];
    snprintf(built, sizeof built, "%s/%s", s->dir, rel);
    char *slash = strrchr(built, '/');
    if (slash > built + strlen(s->dir)) {
        *slash = '\0';
        mkdir(built, 0700);
        *slash = '/';
    }
    test_write_text(built, text);
    char *path = s->paths[s->written++ % 8];
    memcpy(path, built, sizeof built);
    return path;
}

/* Makes a fresh /tmp/mlplab-test-XXXXXX into dir; 0 on success, -1 if not. */
static inline int test_make_scratch_dir(char dir[64])
{
    snprintf(dir, 64, "/tmp/mlplab-test-XXXXXX");
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static inline int test_scratch_setup(void **state)
{
    test_scratch *s = calloc(1, sizeof *s);
    if (s == NULL || test_make_scratch_dir(s->dir) != 0) {
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

/* The end of a cmocka teardown: removes the fixture's scratch directory dir
 * with all in it, then frees the fixture; 0. */
static inline int test_remove_scratch(void *fixture, const char *dir)
{
    test_remove_tree(dir);
    free(fixture);
    return 0;
}

static inline int test_scratch_teardown(void **state)
{
    test_scratch *s = *state;
    return test_remove_scratch(s, s->dir);
}

/* A cmocka test case run in a fresh scratch directory. */
#define TEST_IN_SCRATCH(test) \
    cmocka_unit_test_setup_teardown(test, test_scratch_setup, test_scratch_teardown)

/* A cmocka test case run in the test file's own fixture: the file's static
 * functions setup and teardown. */
#define TEST_IN_FIXTURE(test) cmocka_unit_test_setup_teardown(test, setup, teardown)

/* XOR as the dataset: of a study or run config: four inline rows (no test
 * part), so that nothing needs MNIST. */
#define TEST_XOR_DATASET                                                                   \
    "dataset:\n"                                                                           \
    "  inline: {inputs: [[0, 0], [0, 1], [1, 0], [1, 1]], targets: [[0], [1], [1], [0]]}\n"

/* The same four rows as two classes, one-hot (class 1: the inputs differ). */
#define TEST_XOR_CLASSES_DATASET                                                           \
    "dataset:\n  inline: {inputs: [[0, 0], [0, 1], [1, 0], [1, 1]],\n"                     \
    "           targets: [[1, 0], [0, 1], [0, 1], [1, 0]]}\n"

/* A run config built in code rather than loaded from YAML, for the tests that
 * train directly: the data set, n_layers sizes (input first), the hidden and
 * output activations, the cost and the initializer (names from their tables);
 * every other field zero, for the caller to set. */
static inline void test_config_network(mlp_config *c, const char *dataset_name, int n_layers,
                                       const int sizes[], const char *hidden_name,
                                       const char *output_name, const char *cost_name,
                                       const char *init_name)
{
    memset(c, 0, sizeof *c);
    snprintf(c->dataset_name, sizeof c->dataset_name, "%s", dataset_name);
    c->n_layers = n_layers;
    memcpy(c->sizes, sizes, (size_t)n_layers * sizeof *sizes);
    snprintf(c->activation, sizeof c->activation, "%s", hidden_name);
    snprintf(c->output, sizeof c->output, "%s", output_name);
    snprintf(c->cost, sizeof c->cost, "%s", cost_name);
    snprintf(c->init, sizeof c->init, "%s", init_name);
}

#endif
