/* test_ownership.c — what happens to a value when inserting it fails. The
 * YAML tree's insertions (yt_map_set, yt_set, yt_append) and the builders on
 * top of them (yt_build_*, the canonical config) take the value, on failure
 * too (yamltree.h). Here every allocation a sequence of insertions makes is
 * made to fail in turn; LeakSanitizer (detect_leaks=1) fails the suite if
 * any value is left behind, and ASan if one is freed twice.
 *
 * Linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc (Makefile), so
 * that the library's own allocations pass through the countdown below. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_canonical.h"
#include "yamltree.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *p, size_t size);

/* The allocation that fails: countdown reaches 0; -1 = none. */
static long countdown = -1;
static long failures;

static int fail_now(void)
{
    if (countdown < 0 || countdown-- > 0)
        return 0;
    failures++;
    return 1;
}

void *__wrap_malloc(size_t size)
{
    return fail_now() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t count, size_t size)
{
    return fail_now() ? NULL : __real_calloc(count, size);
}

void *__wrap_realloc(void *p, size_t size)
{
    return fail_now() ? NULL : __real_realloc(p, size);
}

/* Runs step with the k-th allocation failing, k = 0, 1, ... until a run
 * makes no allocation fail: every failure point of step is visited. */
static void at_every_failure(void (*step)(void))
{
    for (long k = 0;; k++) {
        long before = failures;
        countdown = k;
        step();
        countdown = -1;
        if (failures == before)
            break;
    }
    assert_true(failures > 0);
}

static void insertions(void)
{
    static const yt_mark nowhere = {NULL, 0, 0};
    yt_node *root = yt_new_mapping(nowhere);
    if (root == NULL)
        return;
    char key[16];
    for (int i = 0; i < 10; i++) {      /* past the first growths of the arrays */
        snprintf(key, sizeof key, "k%d", i);
        yt_map_set(root, key, yt_new_scalar("x", nowhere), nowhere, NULL);
        yt_map_set(root, "k0", yt_new_scalar("replaced", nowhere), nowhere, NULL);
        yt_set(root, "a.b.c", yt_new_scalar("deep", nowhere), nowhere, NULL);
        if (yt_map_get(root, "list") == NULL)
            yt_map_set(root, "list", yt_new_sequence(nowhere), nowhere, NULL);
        yt_append(yt_map_get(root, "list"), yt_new_scalar("item", nowhere), NULL);
    }
    yt_builder b = {0};
    yt_node *map = yt_build_put(&b, root, "built", yt_new_mapping(nowhere));
    yt_build_put(&b, map, "text", yt_build_text(&b, "t", 1));
    yt_build_append(&b, yt_build_put(&b, map, "seq", yt_new_sequence(nowhere)),
                    yt_build_text(&b, "u", 0));
    yt_free(yt_copy(root));
    yt_free(root);
}

static void test_insertions_take_the_value(void **state)
{
    (void)state;
    at_every_failure(insertions);
}

/* A config with each structured part canonical_tree builds by hand. */
static const char every_structured_key[] =
    TEST_XOR_DATASET
    "network: {sizes: [2, 3, 1]}\n"
    "init: {fixed: {weights: [[[1, 2], [3, 4], [5, 6]], [[1, 1, 1]]],\n"
    "               biases: [[0, 0, 0], [0.5]]}}\n"
    "save_weights: 2\n";

static mlp_config *inline_config;

static void canonical(void)
{
    free(config_canonical_yaml(inline_config, 1, NULL));
}

/* The canonical config is built with yt_build_*: a section that cannot be
 * made must not keep the values meant for it. */
static void test_canonical_config_under_failures(void **state)
{
    (void)state;
    mlp_error err = {0};
    yt_node *tree = yt_parse_string(every_structured_key, "ownership.yaml", &err);
    assert_non_null(tree);
    if (config_from_tree(tree, &inline_config, &err) != MLP_OK)
        fail_msg("%s", err.message);
    char *whole = config_canonical_yaml(inline_config, 1, &err);
    assert_non_null(whole);
    at_every_failure(canonical);
    /* and the text is the same once memory is back */
    char *again = config_canonical_yaml(inline_config, 1, &err);
    assert_string_equal(again, whole);
    free(again);
    free(whole);
    config_free(inline_config);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insertions_take_the_value),
        cmocka_unit_test(test_canonical_config_under_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
