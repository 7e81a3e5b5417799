/* blas.h — the CBLAS in use (BLIS or OpenBLAS, chosen at build time with
 * `make BLAS=...`): its header, single-threaded set-up, and a description for
 * the run file's provenance and `make bench`. */
#ifndef MLP_BLAS_H
#define MLP_BLAS_H

#include <stddef.h>

#include <cblas.h>

/* One thread per run: runs are parallel across processes (make -j), and a
 * fixed thread count keeps results bit-identical. Call once before any GEMM. */
void blas_use_one_thread(void);

/* "BLIS 0.9.0 (skx kernels), 1 thread" or "OpenBLAS 0.3.21 (Haswell kernels), 1 thread". */
void blas_describe(char *text, size_t size);

#endif
