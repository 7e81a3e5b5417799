/* provenance.h — what a run records about where and with what it ran. */
#ifndef MLP_PROVENANCE_H
#define MLP_PROVENANCE_H

#include <stddef.h>

/* The commit the binary was built from (git describe --always --dirty), written
 * by the Makefile into build/commit.c at link time. */
extern const char mlp_git_commit[];

/* "libyaml 0.2.5, HDF5 1.10.8, Lua 5.4.4, GSL 2.7, zlib 1.2.13" */
void provenance_libraries(char *text, size_t size);

/* The host name, or "unknown". */
void provenance_host(char *text, size_t size);

/* The value of environment variable `name` (e.g. SLURM_JOB_ID), or "" when unset. */
const char *provenance_env(const char *name);

/* The current time as ISO 8601 UTC: "2026-11-23T14:36:21Z". */
void provenance_now(char *text, size_t size);

#endif
