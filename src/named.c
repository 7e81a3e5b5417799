/* named.c — see named.h. A row's name is its first member, so a pointer to
 * the row, converted, points to the name (C11 6.7.2.1p15). */
#include "named.h"

#include <string.h>

static const char *name_of(const void *rows, size_t i, size_t size)
{
    return *(const char *const *)((const char *)rows + i * size);
}

const void *named_find(const void *rows, size_t count, size_t size, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(name_of(rows, i, size), name) == 0)
            return (const char *)rows + i * size;
    return NULL;
}

size_t named_names(const void *rows, size_t count, size_t size, const char **names, size_t max)
{
    size_t n = 0;
    for (; n < count && n < max; n++)
        names[n] = name_of(rows, n, size);
    return n;
}
