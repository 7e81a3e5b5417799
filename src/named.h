/* named.h — the project's small tables of named rows (activations, costs,
 * initializers, data sets): static arrays of structs whose first member is
 * the row's name, `const char *name`. One look-up and one list of names for
 * all of them, so that a table is the only place its names are written. */
#ifndef MLP_NAMED_H
#define MLP_NAMED_H

#include <stddef.h>

/* The row named name among count rows of size bytes each, or NULL. */
const void *named_find(const void *rows, size_t count, size_t size, const char *name);

/* The rows' names, in table order, into names (at most max); returns how many. */
size_t named_names(const void *rows, size_t count, size_t size, const char **names, size_t max);

#endif
