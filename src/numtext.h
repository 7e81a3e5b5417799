/* numtext.h — a double as the shortest decimal text that reads back as the
 * same double, the one rule behind every exact number mlplab writes (canonical
 * configs, canonical YAML, gnuplot assignments, hook values in messages).
 * Each writer adds its own dress on top (YAML's "3.0", nothing for gnuplot). */
#ifndef MLP_NUMTEXT_H
#define MLP_NUMTEXT_H

#include <stddef.h>

/* The first of %.15g, %.16g, %.17g that strtod reads back as d ("0.1", "100",
 * "0.30000000000000004"); %.17g's "nan"/"inf" when none does. buf: 32 bytes
 * are always enough. */
void numtext_shortest(double d, char *buf, size_t size);

#endif
