/* blas.h — the CBLAS in use (BLIS or OpenBLAS, chosen at build time with
 * `make BLAS=...`): its header, single-threaded set-up, and a description for
 * the run file's provenance and `make bench`. */
#ifndef MLP_BLAS_H
#define MLP_BLAS_H

#include <stddef.h>

#include <cblas.h>

/* OpenBLAS picks its kernels from the CPU model when it is loaded, and on
 * CPUs it does not recognise (such as this project's AMD EPYC machines) falls
 * back to generic Haswell kernels 3-4x slower than the AVX-512 ones the CPU
 * has (some machines also set OPENBLAS_CORETYPE=Haswell in the environment).
 * mlplab chooses by measurement (docs/performance.md): on a CPU with AVX-512
 * it wants SkylakeX kernels, or whatever MLPLAB_OPENBLAS_CORETYPE names; if the
 * loaded kernels differ it sets OPENBLAS_CORETYPE and re-executes the program
 * (argv) once so the library loads again with them; otherwise it returns.
 * Only mlplab-bench calls it (first thing in its main): the BLAS serves the
 * benchmark's dgemm comparison alone, since training and the diagnostics run
 * on the project's own kernels (kernels.h). */
void blas_choose_kernels(char **argv);

/* One thread per run: runs are parallel across processes (make -j), and a
 * fixed thread count keeps results bit-identical. Call once before any GEMM. */
void blas_use_one_thread(void);

/* "BLIS 0.9.0 (skx kernels), 1 thread" or "OpenBLAS 0.3.21 (Haswell kernels), 1 thread". */
void blas_describe(char *text, size_t size);

#endif
