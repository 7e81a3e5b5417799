/* blas.c — see blas.h. */
#include "blas.h"

#include <stdio.h>

#if defined(MLP_BLAS_BLIS)
#include <blis.h>

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
