/* test_manifest.c — study.yaml: what the writer writes the reader reads back,
 * and a malformed manifest is refused with its line and column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manifest.h"

static void write_manifest(const test_scratch *f, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/study.yaml", f->dir);
    test_write_text(path, text);
}

static void test_round_trip(void **state)
{
    test_scratch *f = *state;
    mlp_error err = {0};
    yt_node *extra = yt_parse_string("reference: [{label: a, test_accuracy: 0.95}]\n"
                                     "report: {table: {metrics: [test_accuracy]}}\n",
                                     "test", &err);
    assert_non_null(extra);
    char *labels[] = {"a, 30 hidden", "b's"};
    const manifest_run runs[] = {{"id1", "a, 30 hidden", 1}, {"id2", "b's", 7}};
    const study_manifest written = {
        .name = "demo", .description = "two: labels", .source = "experiments/demo.yaml",
        .quick = 1, .label_count = 2, .labels = labels, .run_count = 2, .runs = runs,
        .reference = yt_map_get(extra, "reference"), .report = yt_map_get(extra, "report"),
    };
    char *text = manifest_render(&written, &err);
    assert_non_null(text);
    assert_contains(text, "file: runs/id2.h5");
    assert_contains(text, "config: configs/id2.yaml");
    assert_false(manifest_exists(f->dir));
    write_manifest(f, text);
    assert_true(manifest_exists(f->dir));

    study_manifest *m = NULL;
    assert_int_equal(manifest_load(f->dir, &m, &err), MLP_OK);
    assert_string_equal(m->name, "demo");
    assert_string_equal(m->description, "two: labels");
    assert_string_equal(m->source, "experiments/demo.yaml");
    assert_true(m->quick);
    assert_int_equal(m->label_count, 2);
    assert_string_equal(m->labels[1], "b's");
    assert_int_equal(m->run_count, 2);
    assert_string_equal(m->runs[1].id, "id2");
    assert_string_equal(m->runs[1].label, "b's");
    assert_int_equal(m->runs[1].seed, 7);
    assert_non_null(yt_get(m->report, "table.metrics"));
    assert_int_equal(m->reference->count, 1);
    assert_null(m->gradcheck);

    /* The same manifest renders to the same bytes. */
    char *again = manifest_render(m, &err);
    assert_string_equal(again, text);
    free(again);
    manifest_free(m);
    free(text);
    yt_free(extra);
}

static void expect_refused(const test_scratch *f, const char *text, const char *message)
{
    write_manifest(f, text);
    study_manifest *m = NULL;
    mlp_error err = {0};
    assert_int_equal(manifest_load(f->dir, &m, &err), MLP_ERR_CONFIG);
    assert_null(m);
    assert_contains(err.message, "study.yaml:");
    assert_contains(err.message, message);
}

static void test_malformed_manifests(void **state)
{
    test_scratch *f = *state;
    expect_refused(f, "name: x\nlabels: a\n", "2:9: labels must be a list");
    expect_refused(f, "runs:\n  - {label: a}\n", "2:5: runs item has no id");
    expect_refused(f, "runs:\n  - {id: a, seed: many}\n", "runs.seed");
    expect_refused(f, "quick: perhaps\n", "quick");
    expect_refused(f, "report: [table]\n", "report must be a mapping");
    expect_refused(f, "reference: {label: a}\n", "reference must be a list");
    study_manifest *m = NULL;
    mlp_error err = {0};
    char missing[128];
    snprintf(missing, sizeof missing, "%s/none", f->dir);
    assert_int_equal(manifest_load(missing, &m, &err), MLP_ERR_CONFIG);
    assert_contains(err.message, "cannot open");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_IN_SCRATCH(test_round_trip),
        TEST_IN_SCRATCH(test_malformed_manifests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
