/* table.h — a table as a grid of text cells, written as Markdown (a GFM pipe
 * table) or as a LaTeX booktabs tabular: the one renderer behind the
 * training studies' table.md/table.tex (report_table.c) and the gradient-
 * check tables (gradcheck_matrix.c).
 *
 * Row 0 is the header. Cells are plain UTF-8 text, escaped for each format
 * (a `|` or a newline in Markdown; LaTeX's specials through latex.h); a cell
 * may carry its own LaTeX source instead (table_set_latex), for a heading
 * that wants LaTeX spacing. Each column has an alignment.
 *
 * Ownership: table_init allocates the cells, table_free frees them. */
#ifndef MLP_TABLE_H
#define MLP_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"

/* TABLE_PLAIN: Markdown `---`, LaTeX l; TABLE_LEFT: `:---`, l; TABLE_RIGHT: `---:`, r. */
typedef enum table_align { TABLE_PLAIN, TABLE_LEFT, TABLE_RIGHT } table_align;

typedef struct table_grid {
    size_t rows, cols;
    char **cells;                /* rows * cols, row-major; NULL reads as "" */
    char **latex;                /* rows * cols: LaTeX source that replaces a cell, or NULL */
    table_align *align;          /* cols; TABLE_PLAIN unless set */
} table_grid;

/* A rows x cols table of empty cells. */
int table_init(table_grid *t, size_t rows, size_t cols, mlp_error *err);
void table_free(table_grid *t);

/* Sets cell (row, col) to a copy of text. */
int table_set(table_grid *t, size_t row, size_t col, const char *text, mlp_error *err);

/* The same with printf formatting. */
int table_setf(table_grid *t, size_t row, size_t col, mlp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* LaTeX source written for cell (row, col) as it is, instead of its escaped text. */
int table_set_latex(table_grid *t, size_t row, size_t col, const char *latex, mlp_error *err);

void table_set_align(table_grid *t, size_t col, table_align align);

/* `| a | b |` lines, the alignment line after the header. */
void table_write_markdown(FILE *out, const table_grid *t);

/* A comment naming the booktabs package, then the tabular with \toprule,
 * \midrule after the header, \bottomrule. */
void table_write_latex(FILE *out, const table_grid *t);

#endif
