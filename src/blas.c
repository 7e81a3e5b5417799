/* blas.c — see blas.h. */
#include "blas.h"

#include <stdio.h>

#if defined(MLP_BLAS_BLIS)
#include <blis.h>

/* BLIS chooses its kernels at run time by itself. */
void blas_choose_kernels(char **argv)
{
    (void)argv;
}

void blas_use_one_thread(void)
{
    bli_thread_set_num_threads(1);
}

void blas_describe(char *text, size_t size)
{
    arch_t arch = bli_arch_query_id();
    snprintf(text, size, "BLIS %s (%s kernels), 1 thread", bli_info_get_version_str(),
             bli_arch_string(arch));
}

#elif defined(MLP_BLAS_OPENBLAS)

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int cpu_has_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512cd");
}

void blas_choose_kernels(char **argv)
{
    if (getenv("MLPLAB_KERNELS_CHOSEN") != NULL)
        return;     /* this process is already the re-executed one */
    const char *wanted = getenv("MLPLAB_OPENBLAS_CORETYPE");
    if (wanted == NULL || wanted[0] == '\0')
        wanted = cpu_has_avx512() ? "SkylakeX" : NULL;
    if (wanted == NULL || strcasecmp(openblas_get_corename(), wanted) == 0)
        return;
    setenv("OPENBLAS_CORETYPE", wanted, 1);
    setenv("MLPLAB_KERNELS_CHOSEN", wanted, 1);
    execv("/proc/self/exe", argv);
    /* exec failed: carry on with the kernels already loaded */
}

void blas_use_one_thread(void)
{
    openblas_set_num_threads(1);
}

void blas_describe(char *text, size_t size)
{
    snprintf(text, size, "%s (%s kernels), 1 thread", openblas_get_config(),
             openblas_get_corename());
}

#else
#error "build with -DMLP_BLAS_BLIS or -DMLP_BLAS_OPENBLAS (see the Makefile's BLAS variable)"
#endif
