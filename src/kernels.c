/* kernels.c — see kernels.h: the table of variants and the choice among them.
 * Compiled for the baseline x86-64, so the CPU is checked before any AVX
 * instruction runs. */
#include "kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnu/libc-version.h>

#include "suggest.h"

int kernels_cpu_has_avx2(void);
int kernels_cpu_has_avx512(void);

int kernels_cpu_has_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

int kernels_cpu_has_avx512(void)
{
    __builtin_cpu_init();
    return kernels_cpu_has_avx2() && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512vl");
}

/* Folded by the compiler, which rounds each quotient correctly (as the
 * division at run time does; tests/test_kernels.c checks all 256). */
#define BYTE_VALUES_4(p) (p) / 255.0, ((p) + 1) / 255.0, ((p) + 2) / 255.0, ((p) + 3) / 255.0
#define BYTE_VALUES_16(p)                                                                     \
    BYTE_VALUES_4(p), BYTE_VALUES_4((p) + 4), BYTE_VALUES_4((p) + 8), BYTE_VALUES_4((p) + 12)
#define BYTE_VALUES_64(p)                                                                     \
    BYTE_VALUES_16(p), BYTE_VALUES_16((p) + 16), BYTE_VALUES_16((p) + 32),                    \
        BYTE_VALUES_16((p) + 48)
const double kernels_byte_value[256] = {BYTE_VALUES_64(0), BYTE_VALUES_64(64),
                                        BYTE_VALUES_64(128), BYTE_VALUES_64(192)};

static const kernel_variant *const variants[] = {&kernels_portable, &kernels_avx2,
                                                 &kernels_avx512};
enum { VARIANT_COUNT = sizeof variants / sizeof variants[0] };

const kernel_variant *const *kernels_table(size_t *count)
{
    *count = VARIANT_COUNT;
    return variants;
}

const kernel_variant *kernels_find(const char *name)
{
    for (size_t i = 0; i < VARIANT_COUNT; i++)
        if (strcmp(variants[i]->name, name) == 0)
            return variants[i];
    return NULL;
}

const char *kernels_names(void)
{
    return "portable, avx2, avx512";
}

static const kernel_variant *widest_supported(void)
{
    for (size_t i = VARIANT_COUNT; i-- > 0;)
        if (variants[i]->cpu_supports())
            return variants[i];
    return &kernels_portable;
}

const kernel_variant *kernels_resolve(const char *wanted, mlp_error *err)
{
    const kernel_variant *widest = widest_supported();
    if (wanted == NULL || wanted[0] == '\0')
        return widest;
    const kernel_variant *v = kernels_find(wanted);
    if (v == NULL) {
        static const char *const names[] = {"portable", "avx2", "avx512"};
        char hint[128];
        suggest_did_you_mean(wanted, names, 3, hint, sizeof hint);
        mlp_error_set(err, MLP_ERR_CONFIG,
                      "MLPLAB_KERNELS=%s is not a kernel variant (choose one of %s, or unset "
                      "it to use the widest this CPU has: %s)%s",
                      wanted, kernels_names(), widest->name, hint);
        return NULL;
    }
    if (!v->cpu_supports()) {
        mlp_error_set(err, MLP_ERR_CONFIG,
                      "MLPLAB_KERNELS=%s, but this CPU lacks the instructions it needs (%s); "
                      "choose one this CPU has, or unset it to use %s (results are the same "
                      "with every variant)",
                      wanted, v->description, widest->name);
        return NULL;
    }
    return v;
}

static const kernel_variant *chosen;

void kernels_set_active(const kernel_variant *variant)
{
    chosen = variant;
}

const kernel_variant *kernels_choose(mlp_error *err)
{
    if (chosen == NULL)
        chosen = kernels_resolve(getenv("MLPLAB_KERNELS"), err);
    return chosen;
}

void kernels_describe(const kernel_variant *variant, char *text, size_t size)
{
    /* exp is the project's own (exponential.h); glibc's tanh, log and log1p
     * take their FMA code on CPUs with AVX2 and FMA: the guarantee of
     * docs/numerics.md covers those, and says so where it does not. */
    const char *libm = kernels_cpu_has_avx2()
                           ? "glibc %s tanh/log, FMA path"
                           : "glibc %s tanh/log WITHOUT FMA here: tanh and the costs' "
                             "logarithms may differ in the last bit from CPUs with FMA "
                             "(docs/numerics.md)";
    char libm_text[192];
    snprintf(libm_text, sizeof libm_text, libm, gnu_get_libc_version());
    snprintf(text, size, "%s (%s); portable, avx2 and avx512 give identical results; %s",
             variant->name, variant->description, libm_text);
}

const kernel_variant *kernels_active(void)
{
    mlp_error ignored = {0};
    const kernel_variant *v = kernels_choose(&ignored);
    return v != NULL ? v : widest_supported();
}
