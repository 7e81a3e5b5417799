# mk/data.mk — the named data sets: one target data-NAME per entry of
# src/datasets.c, which gets that set where mlplab looks for it. The files are
# checked against the catalogue's SHA-256 every time a run reads them.
# Included from the Makefile, and read by mk/experiments.mk together with a
# study's runs.mk to get the sets that study's runs read (NAME_DATASETS).
# docs/data.md is the user's description.

.PHONY: data data-mnist data-fashion-mnist study-data

data: data-mnist

data-mnist: data/mnist/.verified

# fetch-mnist.sh checks the files against the checksums of mlplab's catalogue
# (`mlplab info --checksums mnist`), so mlplab is built first.
DATA_MLPLAB = $(or $(MLPLAB),bin/mlplab)
data/mnist/.verified: scripts/fetch-mnist.sh | $(filter bin/mlplab,$(DATA_MLPLAB))
	@mkdir -p build && MLPLAB=$(DATA_MLPLAB) flock build/.data.lock scripts/fetch-mnist.sh data/mnist

# Debian's dataset-fashion-mnist (installed to /usr/share/datasets/fashion-mnist),
# unless FASHION_MNIST_DIR or data/fashion-mnist names the user's own copy.
# flock (here and for MNIST): studies planned in parallel (make -j) do not get
# a data set twice at once.
data-fashion-mnist:
	@if [ -z "$${FASHION_MNIST_DIR:-}" ] && [ ! -d data/fashion-mnist ]; then \
	    mkdir -p build && flock build/.data.lock scripts/deps.sh --fashion-mnist; fi

# The data sets of one planned study: make -f RESULTS/NAME/runs.mk -f mk/data.mk
# study-data STUDY=NAME (runs.mk first: it defines NAME_DATASETS).
study-data: $(addprefix data-,$($(STUDY)_DATASETS))
