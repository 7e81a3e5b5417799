/* test_measures.c — the derived-metric table: its rows agree with the run
 * file's fields, per-run values are computed as documented, values print as
 * the tables print them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_support.h"

#include <math.h>
#include <string.h>

#include "diagnostics.h"
#include "measures.h"
#include "metrics.h"

/* Every /metrics field has a per-epoch row, in metrics.h's order; every row is
 * complete and its bounds fit its unit. */
static void test_rows_follow_the_fields(void **state)
{
    (void)state;
    assert_true(measures_count >= METRICS_FIELD_COUNT);
    for (size_t i = 0; i < METRICS_FIELD_COUNT; i++) {
        assert_string_equal(measures_table[i].name, metrics_field_names[i]);
        assert_true(measures_table[i].per_epoch);
        assert_null(measures_table[i].per_run);
    }
    for (size_t i = 0; i < measures_count; i++) {
        const measure *m = &measures_table[i];
        assert_ptr_equal(measures_find(m->name), m);
        assert_non_null(m->label);
        assert_non_null(m->unit);
        assert_non_null(m->doc);
        assert_true(m->lower < m->upper);
        assert_true(m->per_epoch || m->per_run != NULL);
        if (strcmp(m->unit, "%") == 0) {
            assert_true(m->scale == 100.0);
            assert_true(m->lower == 0.0 && m->upper == 100.0);
        } else {
            assert_true(m->scale == 1.0);
        }
        /* The naming rule custom metrics follow holds for the rows too. */
        assert_int_equal(measures_is_percent(m->name), strstr(m->name, "accuracy") != NULL);
        /* What a run needs follows the name: an accuracy needs classes, a
         * metric of a part that part (plan refuses by these bits, study.h). */
        int accuracy = strstr(m->name, "accuracy") != NULL;
        if (accuracy || strstr(m->name, "class") != NULL)
            assert_true(m->needs & MEASURE_CLASSES);
        assert_int_equal((m->needs & MEASURE_TEST) != 0, strstr(m->name, "test") != NULL);
        assert_int_equal((m->needs & MEASURE_VALIDATION) != 0,
                         strstr(m->name, "validation") != NULL);
        assert_int_equal((m->needs & MEASURE_TRAIN_PASS) != 0,
                         strncmp(m->name, "train_", 6) == 0 && strcmp(m->name, "train_output") != 0);
    }
    for (size_t i = 0; measures_default_columns[i] != NULL; i++)
        assert_non_null(measures_find(measures_default_columns[i]));
    assert_null(measures_find("test_acuracy"));
}

/* The gap the table closed: best_test_accuracy is one number per run. */
static void test_per_run_measures_are_marked(void **state)
{
    (void)state;
    const char *per_run[] = {"best_validation_accuracy", "best_validation_epoch",
                             "validation_accuracy_epoch1",
                             "test_accuracy_at_best_validation", "best_test_accuracy",
                             "seconds_per_epoch"};
    for (size_t i = 0; i < sizeof per_run / sizeof per_run[0]; i++) {
        const measure *m = measures_find(per_run[i]);
        assert_non_null(m);
        assert_false(m->per_epoch);
    }
}

static void test_values_of_a_run(void **state)
{
    (void)state;
    run_file run;
    memset(&run, 0, sizeof run);
    mlp_error err = {0};
    metrics_history_init(&run.history);
    const epoch_metrics rows[3] = {
        {0, 0.5, 1.0, 0.1, 1.0, 0.10, 1.0, 0.10, 1.0},
        {1, 0.5, 0.8, 0.9, 0.8, 0.95, 0.8, 0.97, 2.0},
        {2, 0.5, 0.6, 0.95, 0.7, 0.95, 0.7, 0.96, 4.0},
    };
    for (size_t e = 0; e < 3; e++) {
        assert_int_equal(metrics_history_append(&run.history, &rows[e], &err), MLP_OK);
        assert_int_equal(metrics_history_set_custom(&run.history, e, "sparsity",
                                                    0.1 * (double)e, &err), MLP_OK);
    }
    assert_true(measures_run_value(&run, "test_accuracy") == 0.96);
    assert_true(measures_run_value(&run, "best_test_accuracy") == 0.97);
    assert_true(measures_run_value(&run, "best_validation_accuracy") == 0.95);
    assert_true(measures_run_value(&run, "best_validation_epoch") == 1.0);   /* first of a tie */
    assert_true(measures_run_value(&run, "test_accuracy_at_best_validation") == 0.97);
    assert_true(measures_run_value(&run, "seconds_per_epoch") == 3.0);       /* epoch 0 left out */
    assert_true(measures_run_value(&run, "validation_accuracy_epoch1") == 0.95);
    assert_true(measures_run_value(&run, "sparsity") == 0.2);
    assert_true(measures_epoch_value(&run, "sparsity", 1) == 0.1);
    assert_true(measures_epoch_value(&run, "train_cost", 1) == 0.8);
    assert_true(isnan(measures_epoch_value(&run, "train_cost", 3)));
    assert_true(isnan(measures_epoch_value(&run, "best_test_accuracy", 1)));
    assert_true(isnan(measures_run_value(&run, "no_such_metric")));
    metrics_history_free(&run.history);

    run_file empty;
    memset(&empty, 0, sizeof empty);
    assert_true(isnan(measures_run_value(&empty, "best_test_accuracy")));
}

static void test_format_and_headings(void **state)
{
    (void)state;
    char text[64];
    measures_format("test_accuracy", 0.95494, 0, text, sizeof text);
    assert_string_equal(text, "95.49");
    measures_format("test_accuracy", -0.0051, 1, text, sizeof text);
    assert_string_equal(text, "-0.51");
    measures_format("best_validation_epoch", 7.0, 0, text, sizeof text);
    assert_string_equal(text, "7.0");
    measures_format("train_cost", 0.123456, 0, text, sizeof text);
    assert_string_equal(text, "0.1235");
    measures_format("my_accuracy", 0.5, 1, text, sizeof text);      /* custom: percent */
    assert_string_equal(text, "+50.00");
    measures_format("sparsity", NAN, 0, text, sizeof text);
    assert_string_equal(text, "—");
    measures_format("sparsity", -INFINITY, 0, text, sizeof text);
    assert_string_equal(text, "-inf");
    measures_column_heading("best_test_accuracy", text, sizeof text);
    assert_string_equal(text, "peak test accuracy (%)");
    measures_column_heading("validation_accuracy", text, sizeof text);
    assert_string_equal(text, "final validation accuracy (%)");
    measures_column_heading("sparsity", text, sizeof text);
    assert_string_equal(text, "sparsity (final)");
    /* The /diagnostics fields: a row each, found for layerK_FIELD too. */
    for (size_t i = 0; i < DIAGNOSTICS_FIELDS; i++) {
        int layer = -1;
        const measure *row = measures_diagnostic(diagnostics_field_names[i], &layer);
        assert_non_null(row);
        assert_string_equal(row->name, diagnostics_field_names[i]);
        assert_int_equal(layer, 0);
        assert_null(measures_find(diagnostics_field_names[i]));   /* not a metric of its own */
    }
    int layer = 0;
    assert_string_equal(measures_diagnostic("layer12_mean_abs_delta", &layer)->label, "mean |δ|");
    assert_int_equal(layer, 12);
    assert_null(measures_diagnostic("layer2_saturation", NULL));
    assert_null(measures_diagnostic("test_accuracy", NULL));
    measures_column_heading("layer2_saturated_fraction", text, sizeof text);
    assert_string_equal(text, "final saturated fraction, layer 2");
    assert_true(measures_scale("my_accuracy") == 100.0);
    assert_true(measures_scale("sparsity") == 1.0);
    measures_did_you_mean("test_acuracy", NULL, 0, text, sizeof text);
    assert_string_equal(text, "; did you mean 'test_accuracy'?");
    measures_did_you_mean("zzzz", NULL, 0, text, sizeof text);
    assert_string_equal(text, "");
    /* Custom metrics are candidates too, and the nearest name wins. */
    const char *const custom[] = {"generalization_gap", "test_accuracy_gap"};
    measures_did_you_mean("generalisation_gap", custom, 2, text, sizeof text);
    assert_string_equal(text, "; did you mean 'generalization_gap'?");
    measures_did_you_mean("test_accuracy_gp", custom, 2, text, sizeof text);
    assert_string_equal(text, "; did you mean 'test_accuracy_gap'?");
    /* Names a custom metric cannot take. */
    assert_true(measures_is_builtin("test_accuracy"));
    assert_true(measures_is_builtin("best_test_accuracy"));
    assert_true(measures_is_builtin("train_output"));
    assert_true(measures_is_builtin("layer2_mean_abs_delta"));
    assert_false(measures_is_builtin("generalization_gap"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_follow_the_fields),
        cmocka_unit_test(test_per_run_measures_are_marked),
        cmocka_unit_test(test_values_of_a_run),
        cmocka_unit_test(test_format_and_headings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
