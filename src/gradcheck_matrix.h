/* gradcheck_matrix.h — many gradient checks at once: the matrices of
 * `mlplab gradcheck --question / --all` and of a study's `gradcheck:` key.
 *
 * A matrix is a list of (hidden activation, output activation, cost)
 * combinations checked with the same network shape, batch, seed, ε and
 * tolerance (gradcheck.h), each with the result a study expects (PASS unless
 * its `expect:` list says FAIL). This file builds the combinations of a mode,
 * reads and validates the `gradcheck:` mapping of a study (errors as
 * file:line:column with a hint), writes it back in normalized form for
 * study.yaml, runs the checks and renders the results as text, Markdown, CSV
 * or LaTeX (those two through table.h) — one renderer for the command and
 * for the study's table files.
 * docs/studies.md describes the key, docs/numerics.md the check.
 *
 * Ownership: gradcheck_matrix_new / _from_yaml allocate, gradcheck_matrix_free
 * frees; functions returning text through `char **text` malloc it, the caller
 * frees it. */
#ifndef MLP_GRADCHECK_MATRIX_H
#define MLP_GRADCHECK_MATRIX_H

#include <stddef.h>

#include "error.h"
#include "gradcheck.h"
#include "yamltree.h"

/* one: the spec's own hidden/output/cost; question: hidden sigmoid, tanh,
 * relu × {same output + quadratic, same output + cross-entropy, softmax +
 * log-likelihood}; all: every hidden activation × output activation × cost. */
typedef enum gradcheck_mode { GRADCHECK_ONE, GRADCHECK_QUESTION, GRADCHECK_ALL } gradcheck_mode;

typedef enum gradcheck_format {
    GRADCHECK_TEXT,
    GRADCHECK_MARKDOWN,
    GRADCHECK_CSV,
    GRADCHECK_LATEX
} gradcheck_format;

typedef struct gradcheck_row {
    const activation *hidden, *output;
    const cost *cost;
    int accepted;                /* `mlplab run` accepts it (cost_pair_is_valid, hidden not output-only) */
    int expect_pass;             /* the result the study expects: 1 PASS, 0 FAIL */
    int checked;                 /* result is filled (gradcheck_matrix_run) */
    gradcheck_result result;
} gradcheck_row;

typedef struct gradcheck_matrix {
    gradcheck_mode mode;
    gradcheck_spec spec;         /* shared settings; hidden/output/cost come from each row */
    size_t n_rows;
    gradcheck_row *rows;         /* in table order */
} gradcheck_matrix;

/* "one", "question", "all"; gradcheck_mode_parse returns -1 for another name. */
const char *gradcheck_mode_name(gradcheck_mode mode);
int gradcheck_mode_parse(const char *name, gradcheck_mode *out);

/* The combinations of mode with spec's settings, every one expected to PASS,
 * none checked yet. NULL (err filled) on out-of-memory. */
gradcheck_matrix *gradcheck_matrix_new(gradcheck_mode mode, const gradcheck_spec *spec,
                                       mlp_error *err);
void gradcheck_matrix_free(gradcheck_matrix *matrix);

/* The row of (hidden, output, cost), or NULL when the matrix does not hold it. */
gradcheck_row *gradcheck_matrix_find(gradcheck_matrix *matrix, const activation *hidden,
                                     const activation *output, const cost *c);

/* Reads a study's `gradcheck:` mapping: matrix (question | all, required),
 * sizes, examples, seed, epsilon, tolerance (defaults: gradcheck_defaults) and
 * expect (a list of {hidden, output, cost, result: PASS | FAIL}). Every error
 * is MLP_ERR_CONFIG located at the offending node, with a hint. */
int gradcheck_matrix_from_yaml(const yt_node *node, gradcheck_matrix **out, mlp_error *err);

/* The normalized `gradcheck:` mapping (every default filled in; expect lists
 * the FAIL expectations in table order, each with all four keys) that
 * gradcheck_matrix_from_yaml reads back to the same matrix. NULL on
 * out-of-memory. */
yt_node *gradcheck_matrix_to_yaml(const gradcheck_matrix *matrix, mlp_error *err);

/* Runs every row's check (deterministic: the spec's seed for each). */
int gradcheck_matrix_run(gradcheck_matrix *matrix, mlp_error *err);

/* Rows whose result differs from the expected one (checked rows only). */
size_t gradcheck_matrix_unexpected(const gradcheck_matrix *matrix);

/* The table of the results: header and one line per row, in `format`; with
 * with_expected, an `expected` column after the result. Text is the format of
 * `mlplab gradcheck` (refused pairs marked "(refused by run)"). */
int gradcheck_matrix_render(const gradcheck_matrix *matrix, gradcheck_format format,
                            int with_expected, char **text, mlp_error *err);

/* A study's table file (table.md, table.csv, table.tex): Markdown has the
 * heading `# name`, the description, what was checked, the table with the
 * expected column and a line saying whether every result is as expected;
 * LaTeX a booktabs tabular with those sentences as % comments; CSV the table
 * alone. format GRADCHECK_TEXT is refused (MLP_ERR_USAGE). */
int gradcheck_matrix_report(const gradcheck_matrix *matrix, const char *name,
                            const char *description, gradcheck_format format, char **text,
                            mlp_error *err);

#endif
