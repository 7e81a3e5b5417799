/* test_yamltree.c — the YAML tree: marks, errors with carets, conversions,
 * dotted access, merge and canonical emission. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "yamltree.h"

typedef test_scratch scratch;

static void test_load_keeps_marks(void **state)
{
    const char *path = test_scratch_write(*state, "a.yaml",
                                  "# comment\n"
                                  "train:\n"
                                  "  epochs: 30\n"
                                  "  learning_rate: '0.5'\n"
                                  "sizes: [784, 30, 10]\n");
    mlp_error err = {0};
    yt_node *root = yt_load_file(path, &err);
    assert_non_null(root);
    assert_int_equal(root->kind, YT_MAPPING);
    assert_int_equal(root->count, 2);
    assert_string_equal(root->keys[0], "train");
    assert_int_equal(root->key_marks[0].line, 2);
    assert_int_equal(root->key_marks[0].column, 1);
    assert_string_equal(root->key_marks[0].file, path);

    yt_node *epochs = yt_get(root, "train.epochs");
    assert_non_null(epochs);
    assert_string_equal(epochs->scalar, "30");
    assert_false(epochs->quoted);
    assert_int_equal(epochs->mark.line, 3);
    assert_int_equal(epochs->mark.column, 11);

    yt_node *rate = yt_get(root, "train.learning_rate");
    assert_true(rate->quoted);

    yt_node *sizes = yt_map_get(root, "sizes");
    assert_int_equal(sizes->kind, YT_SEQUENCE);
    assert_int_equal(sizes->count, 3);
    assert_int_equal(sizes->items[2]->mark.column, 18);
    assert_null(yt_get(root, "train.nothing"));
    assert_null(yt_get(root, "train..epochs"));
    yt_free(root);
}

static void test_syntax_error_has_position_and_caret(void **state)
{
    const char *path = test_scratch_write(*state, "bad.yaml",
                                  "train:\n"
                                  "  epochs: 30\n"
                                  "  batch_size: [1, 2\n"
                                  "cost: quadratic\n");
    mlp_error err = {0};
    yt_node *root = yt_load_file(path, &err);
    assert_null(root);
    assert_int_equal(err.status, MLP_ERR_CONFIG);
    char prefix[200];
    snprintf(prefix, sizeof prefix, "%s:", path);
    assert_memory_equal(err.message, prefix, strlen(prefix));
    /* line:col follow the file name, then the line and a caret, then a hint */
    assert_non_null(strstr(err.message, ":4:5: "));
    assert_non_null(strstr(err.message, "\n  cost: quadratic\n      ^"));
    assert_non_null(strstr(err.message, "\nhint: "));
}

static void test_tab_indentation_hint(void **state)
{
    const char *path = test_scratch_write(*state, "tab.yaml", "train:\n\tepochs: 3\n");
    mlp_error err = {0};
    assert_null(yt_load_file(path, &err));
    assert_non_null(strstr(err.message, ":2:"));
    /* the hint, not the file name "tab.yaml", must speak of the tab */
    assert_contains(err.message, "\nhint: YAML indents with spaces; this line has a tab");
}

static void test_rejects_anchors_duplicates_and_documents(void **state)
{
    scratch *s = *state;
    mlp_error err = {0};
    assert_null(yt_load_file(test_scratch_write(s, "anchor.yaml", "a: &x 1\nb: *x\n"), &err));
    assert_non_null(strstr(err.message, ":1:4: anchors (&x) are not supported"));

    assert_null(yt_load_file(test_scratch_write(s, "dup.yaml", "a: 1\nb: 2\na: 3\n"), &err));
    assert_non_null(strstr(err.message, ":3:1: duplicate key 'a' (first written on line 1)"));

    assert_null(yt_load_file(test_scratch_write(s, "two.yaml", "a: 1\n---\nb: 2\n"), &err));
    assert_non_null(strstr(err.message, "only one YAML document"));

    assert_null(yt_load_file(test_scratch_write(s, "list.yaml", "- 1\n- 2\n"), &err));
    assert_non_null(strstr(err.message, "must be a mapping"));

    assert_null(yt_load_file(test_scratch_write(s, "tag.yaml", "a: !!str 1\n"), &err));
    assert_non_null(strstr(err.message, "tags"));

    assert_null(yt_load_file(s->dir, &err));
    assert_non_null(strstr(err.message, "is a directory"));

    assert_null(yt_load_file("/nonexistent/x.yaml", &err));
    assert_non_null(strstr(err.message, "/nonexistent/x.yaml: cannot open"));
}

static void test_empty_file_is_empty_mapping(void **state)
{
    mlp_error err = {0};
    yt_node *root = yt_load_file(test_scratch_write(*state, "empty.yaml", "# nothing\n"), &err);
    assert_non_null(root);
    assert_int_equal(root->kind, YT_MAPPING);
    assert_int_equal(root->count, 0);
    yt_free(root);
}

static void test_error_at_formats_line_caret_hint(void **state)
{
    const char *path = test_scratch_write(*state, "e.yaml", "train:\n\tx: 1\n  learning_rate: fast\n");
    yt_mark mark = {path, 3, 18};
    mlp_error err = {0};
    int rc = yt_error_at(&err, MLP_ERR_CONFIG, mark, "use a number", "bad %s", "value");
    assert_int_equal(rc, MLP_ERR_CONFIG);
    assert_int_equal(err.status, MLP_ERR_CONFIG);
    char expected[512];
    snprintf(expected, sizeof expected,
             "%s:3:18: bad value\n  %s\n  %*s^\nhint: use a number", path,
             "  learning_rate: fast", 17, "");
    assert_string_equal(err.message, expected);

    /* a tab before the column is kept, so the caret lines up in a terminal */
    yt_mark tab = {path, 2, 2};
    yt_error_at(&err, MLP_ERR_CONFIG, tab, NULL, "m");
    assert_non_null(strstr(err.message, "\n  \tx: 1\n  \t^"));
    assert_null(strstr(err.message, "hint"));

    /* no file: just the message; line 0: file and message only */
    yt_mark none = {NULL, 0, 0};
    yt_error_at(&err, MLP_ERR_USAGE, none, NULL, "plain");
    assert_string_equal(err.message, "plain");
    yt_mark cli = {"command line: argument 2", 0, 0};
    yt_error_at(&err, MLP_ERR_USAGE, cli, "h", "oops");
    assert_string_equal(err.message, "command line: argument 2: oops\nhint: h");
    /* err may be NULL */
    assert_int_equal(yt_error_at(NULL, 7, none, NULL, "x"), 7);
}

static void test_long_line_is_windowed(void **state)
{
    char text[1200] = "v: [";
    for (int i = 0; i < 200; i++)
        strcat(text, "1, ");
    strcat(text, "x]\n");
    const char *path = test_scratch_write(*state, "long.yaml", text);
    yt_mark mark = {path, 1, 605};
    mlp_error err = {0};
    yt_error_at(&err, MLP_ERR_CONFIG, mark, NULL, "here");
    const char *src = strstr(err.message, "\n  ...");
    assert_non_null(src);
    const char *caret_line = strchr(src + 1, '\n');
    assert_non_null(caret_line);
    /* the caret sits under the 'x' */
    size_t caret_col = strlen(caret_line + 1) - 1;
    assert_int_equal(caret_line[1 + caret_col], '^');
    assert_int_equal(src[1 + caret_col], 'x');
}

static void test_parse_string_flow_values(void **state)
{
    mlp_error err = {0};
    yt_node *v = yt_parse_string("[784, 30, 10]", "command line: argument 1", &err);
    assert_non_null(v);
    assert_int_equal(v->kind, YT_SEQUENCE);
    assert_int_equal(v->count, 3);
    assert_string_equal(v->items[1]->mark.file, "command line: argument 1");
    yt_free(v);

    v = yt_parse_string("0.5", "cli", &err);
    assert_int_equal(v->kind, YT_SCALAR);
    assert_string_equal(v->scalar, "0.5");
    yt_free(v);

    v = yt_parse_string("", "cli", &err);
    assert_non_null(v);
    assert_int_equal(v->kind, YT_SCALAR);
    assert_string_equal(v->scalar, "");
    yt_free(v);

    /* an error in a one-line value shows the value and a caret, without line:col */
    v = yt_parse_string("[1, 2", "command line: argument 3", &err);
    assert_null(v);
    assert_memory_equal(err.message, "command line: argument 3: ", 26);
    assert_non_null(strstr(err.message, "did not find expected ',' or ']'"));
    assert_non_null(strstr(err.message, "\n  [1, 2\n  ^\n"));
}

static yt_node *scalar(const char *text, int quoted)
{
    yt_mark m = {"t.yaml", 1, 1};
    yt_node *n = yt_new_scalar(text, m);
    assert_non_null(n);
    n->quoted = quoted;
    return n;
}

typedef enum conversion { AS_DOUBLE, AS_LONG, AS_BOOL, AS_STRING } conversion;

/* yt_to_<as>(n, what, ...): its status; *number gets a number's or a
 * boolean's value (a string's is left as it is). */
static int convert(const yt_node *n, conversion as, const char *what, double *number,
                   mlp_error *err)
{
    long l = 0;
    int b = 0, rc = -1;
    const char *s;
    switch (as) {
    case AS_DOUBLE:
        return yt_to_double(n, what, number, err);
    case AS_LONG:
        rc = yt_to_long(n, what, &l, err);
        *number = (double)l;
        break;
    case AS_BOOL:
        rc = yt_to_bool(n, what, &b, err);
        *number = b;
        break;
    case AS_STRING:
        rc = yt_to_string(n, what, &s, err);
        break;
    }
    return rc;
}

static void test_conversions(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        conversion as;
        const char *what;
        double value;
    } cases[] = {
        {"1e-3", AS_DOUBLE, "train.learning_rate", 1e-3},
        {"30", AS_LONG, "train.epochs", 30},
        {"1e3", AS_LONG, "train.epochs", 1000},
        {"true", AS_BOOL, "train.monitor_train", 1},
        {"False", AS_BOOL, "x", 0},
    };
    mlp_error err = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        yt_node *n = scalar(cases[i].text, 0);
        double value = -1;
        if (convert(n, cases[i].as, cases[i].what, &value, &err) != 0)
            fail_msg("'%s' refused: %s", cases[i].text, err.message);
        if (value != cases[i].value)
            fail_msg("'%s' read as %.17g, not %.17g", cases[i].text, value, cases[i].value);
        yt_free(n);
    }

    const char *s = NULL;
    yt_node *n = scalar("42", 0);
    assert_int_equal(yt_to_string(n, "label", &s, &err), 0);
    assert_string_equal(s, "42");
    yt_free(n);

    double d = 0;
    yt_mark m = {"t.yaml", 2, 3};
    n = yt_new_sequence(m);
    assert_int_not_equal(yt_to_double(n, "l2", &d, &err), 0);
    assert_non_null(strstr(err.message, "t.yaml:2:3: l2 must be a number, not a list"));
    yt_free(n);

    long l = 0;
    assert_int_not_equal(yt_to_long(NULL, "seed", &l, &err), 0);
    assert_string_equal(err.message, "seed must be an integer, but it is missing");
}

/* Scalars a conversion refuses, and what the message says. */
static void test_conversion_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int quoted;
        conversion as;
        const char *what, *needle;
    } cases[] = {
        {"fast", 0, AS_DOUBLE, "train.learning_rate",
         "train.learning_rate must be a number, not the string 'fast'"},
        /* quoted: a string even though it looks numeric */
        {"0.5", 1, AS_DOUBLE, "x", "not the string '0.5'"},
        {".inf", 0, AS_DOUBLE, "x", "must be a finite number"},
        {"1e999", 0, AS_DOUBLE, "x", "x must be"},
        {"2.5", 0, AS_LONG, "train.epochs", "train.epochs must be an integer"},
        /* yes/no stay strings, as the Lua hooks read them */
        {"yes", 0, AS_BOOL, "train.monitor_train", "not the string 'yes'"},
        {"1", 0, AS_BOOL, "x", "x must be true or false, not the number 1"},
        {"", 0, AS_STRING, "label", "label must be a string, not an empty value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mlp_error err = {0};
        double value;
        yt_node *n = scalar(cases[i].text, cases[i].quoted);
        assert_int_equal(convert(n, cases[i].as, cases[i].what, &value, &err), MLP_ERR_CONFIG);
        assert_contains(err.message, cases[i].needle);
        yt_free(n);
    }
}

static void test_set_get_remove_copy(void **state)
{
    (void)state;
    mlp_error err = {0};
    yt_mark m = {"cli", 0, 0};
    yt_node *root = yt_new_mapping(m);
    assert_int_equal(yt_set(root, "train.learning_rate", scalar("0.1", 0), m, &err), 0);
    assert_int_equal(yt_set(root, "train.epochs", scalar("5", 0), m, &err), 0);
    assert_int_equal(yt_set(root, "train.epochs", scalar("6", 0), m, &err), 0);
    assert_string_equal(yt_get(root, "train.epochs")->scalar, "6");
    assert_int_equal(yt_map_index(yt_map_get(root, "train"), "epochs"), 1);   /* order kept */

    /* a step that is not a mapping is an error naming the path */
    assert_int_not_equal(yt_set(root, "train.epochs.x", scalar("1", 0), m, &err), 0);
    assert_non_null(strstr(err.message, "'train.epochs' is not a mapping"));
    assert_int_not_equal(yt_set(root, "train..x", scalar("1", 0), m, &err), 0);

    yt_node *copy = yt_copy(root);
    assert_non_null(copy);
    assert_int_equal(yt_map_remove(yt_map_get(root, "train"), "epochs"), 1);
    assert_int_equal(yt_map_remove(yt_map_get(root, "train"), "epochs"), 0);
    assert_null(yt_get(root, "train.epochs"));
    assert_string_equal(yt_get(copy, "train.epochs")->scalar, "6");

    yt_node *seq = yt_new_sequence(m);
    for (int i = 0; i < 100; i++) {
        char text[16];
        snprintf(text, sizeof text, "%d", i);
        assert_int_equal(yt_append(seq, scalar(text, 0), &err), 0);
    }
    assert_int_equal(seq->count, 100);
    assert_string_equal(seq->items[99]->scalar, "99");
    assert_int_not_equal(yt_append(root, scalar("x", 0), &err), 0);   /* not a sequence */
    yt_free(seq);
    yt_free(copy);
    yt_free(root);
}

static void test_merge(void **state)
{
    (void)state;
    mlp_error err = {0};
    yt_node *base = yt_parse_string("{train: {epochs: 30, batch_size: 10}, sizes: [1, 2, 3], "
                                    "cost: quadratic}", "base.yaml", &err);
    yt_node *over = yt_parse_string("{train: {epochs: 5}, sizes: [4], extra: {a: 1}}",
                                    "over.yaml", &err);
    assert_non_null(base);
    assert_non_null(over);
    assert_int_equal(yt_merge(base, over, &err), 0);
    yt_free(over);      /* the merged tree holds its own copies and marks */
    assert_string_equal(yt_get(base, "train.epochs")->scalar, "5");
    assert_string_equal(yt_get(base, "train.epochs")->mark.file, "over.yaml");
    assert_string_equal(yt_get(base, "train.batch_size")->scalar, "10");
    assert_int_equal(yt_map_get(base, "sizes")->count, 1);
    assert_string_equal(yt_get(base, "cost")->scalar, "quadratic");
    assert_string_equal(yt_get(base, "extra.a")->scalar, "1");

    yt_node *list = yt_parse_string("[1]", "x", &err);
    assert_int_not_equal(yt_merge(base, list, &err), 0);
    yt_free(list);
    yt_free(base);
}

static char *canonical_of(const char *text)
{
    mlp_error err = {0};
    yt_node *n = yt_parse_string(text, "t", &err);
    if (n == NULL)
        fail_msg("%s", err.message);
    char *out = yt_emit_canonical(n, &err);
    assert_non_null(out);
    yt_free(n);
    return out;
}

static void test_canonical_sorted_and_normalised(void **state)
{
    (void)state;
    char *a = canonical_of("b: {y: 3, x: 0.001}\na: [1, 2]\nc: hello\n");
    char *b = canonical_of("a: [+1, 2]\nc: hello\nb:\n  x: 1e-3\n  y: 3\n");
    assert_string_equal(a, b);
    assert_string_equal(a, "a: [1, 2]\nb:\n  x: 0.001\n  y: 3\nc: hello\n");
    free(a);
    free(b);

    /* reals: shortest round-trip text that still reads as a real */
    a = canonical_of("{r: 3.0, s: 3e0, t: 0.1, u: 1e-7, v: 1.0000000000000002, w: TRUE, "
                     "x: ~, y: '3', z: 'true', e: '', f: yes}");
    assert_string_equal(a, "e: ''\nf: yes\nr: 3.0\ns: 3.0\nt: 0.1\nu: 1.0e-07\n"
                           "v: 1.0000000000000002\nw: true\nx: null\ny: '3'\nz: 'true'\n");
    free(a);

    /* a real change changes the text */
    a = canonical_of("{lr: 0.5}");
    b = canonical_of("{lr: 0.50000001}");
    assert_string_not_equal(a, b);
    free(a);
    free(b);

    /* nested lists: block outside, flow for rows of plain values */
    a = canonical_of("{w: [[1, 2], [3, 4]], k: {}}");
    assert_string_equal(a, "k: {}\nw:\n- [1, 2]\n- [3, 4]\n");
    free(a);

    /* strings that need quotes get them; the result parses back the same */
    a = canonical_of("{s: 'a: b', t: '#x', u: \"multi\\nline\"}");
    mlp_error err = {0};
    yt_node *back = yt_parse_string(a, "again", &err);
    assert_non_null(back);
    assert_string_equal(yt_get(back, "s")->scalar, "a: b");
    assert_string_equal(yt_get(back, "t")->scalar, "#x");
    assert_string_equal(yt_get(back, "u")->scalar, "multi\nline");
    yt_free(back);
    free(a);
}

static void test_marks_outlive_their_source_tree(void **state)
{
    (void)state;
    mlp_error err = {0};
    yt_node *a = yt_parse_string("{x: 1}", "first origin", &err);
    yt_node *x = yt_copy(yt_map_get(a, "x"));
    yt_free(a);
    /* the copy still knows where it came from */
    assert_string_equal(x->mark.file, "first origin");
    yt_error_at(&err, MLP_ERR_CONFIG, x->mark, NULL, "still here");
    assert_string_equal(err.message, "first origin: still here\n  {x: 1}\n      ^");
    yt_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST_IN_SCRATCH(test_load_keeps_marks),
        TEST_IN_SCRATCH(test_syntax_error_has_position_and_caret),
        TEST_IN_SCRATCH(test_tab_indentation_hint),
        TEST_IN_SCRATCH(test_rejects_anchors_duplicates_and_documents),
        TEST_IN_SCRATCH(test_empty_file_is_empty_mapping),
        TEST_IN_SCRATCH(test_error_at_formats_line_caret_hint),
        TEST_IN_SCRATCH(test_long_line_is_windowed),
        cmocka_unit_test(test_parse_string_flow_values),
        cmocka_unit_test(test_conversions),
        cmocka_unit_test(test_conversion_refusals),
        cmocka_unit_test(test_set_get_remove_copy),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_canonical_sorted_and_normalised),
        cmocka_unit_test(test_marks_outlive_their_source_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
