/* numtext.c — see numtext.h. Starting at 15 digits, not 1: any double that
 * reads back at fewer digits prints the same at 15 (%g drops the zeros), and
 * %g at few digits would write 100 as "1e+02". */
#include "numtext.h"

#include <stdio.h>
#include <stdlib.h>

void numtext_shortest(double d, char *buf, size_t size)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, size, "%.*g", digits, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}
