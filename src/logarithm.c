/* logarithm.c — see logarithm.h. */
#include "logarithm.h"

#include <math.h>

/* fdlibm's e_log.c / s_log1p.c (their bit patterns in the comments). */
const logarithm_constants LOGARITHM = {
    .inv_sqrt2 = 0x1.6a09e667f3bcdp-1,
    .ln2_hi = 0x1.62e42feep-1,          /* 3fe62e42 fee00000 */
    .ln2_lo = 0x1.a39ef35793c76p-33,    /* 3dea39ef 35793c76 */
    .lg1 = 0x1.5555555555593p-1,        /* 3fe55555 55555593 */
    .lg2 = 0x1.999999997fa04p-2,        /* 3fd99999 9997fa04 */
    .lg3 = 0x1.2492494229359p-2,        /* 3fd24924 94229359 */
    .lg4 = 0x1.c71c51d8e78afp-3,        /* 3fcc71c5 1d8e78af */
    .lg5 = 0x1.7466496cb03dep-3,        /* 3fc74664 96cb03de */
    .lg6 = 0x1.39a09d078c69fp-3,        /* 3fc39a09 d078c69f */
    .lg7 = 0x1.2f112df3e5244p-3,        /* 3fc2f112 df3e5244 */
};

double log1p_unit(double x)
{
    const logarithm_constants *c = &LOGARITHM;
    double u = 1.0 + x;
    double error = x - (u - 1.0);
    double k = trunc(u * c->inv_sqrt2);
    double f = u * (1.0 - 0.5 * k) - 1.0;
    double s = f / (2.0 + f);
    double z = s * s, w = z * z;
    double t1 = w * (c->lg2 + w * (c->lg4 + w * c->lg6));
    double t2 = z * (c->lg1 + w * (c->lg3 + w * (c->lg5 + w * c->lg7)));
    double r = t2 + t1, hfsq = 0.5 * f * f;
    return k * c->ln2_hi - ((hfsq - (s * (hfsq + r) + (k * c->ln2_lo + error / u))) - f);
}
