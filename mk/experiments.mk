# mk/experiments.mk — `make experiments` and `make study-NAME`: plan every study
# in experiments/ and run its runs through the runs.mk `mlplab plan` writes.
# Included from the Makefile; docs/studies.md is the user's description.
#
#   make experiments                  every study in experiments/*.yaml
#   make study-NAME                   one study, experiments/NAME.yaml
#   make experiments STUDIES="a b"    some of them
#   make experiments QUICK=1          the quick profile, into results-quick/
#   make experiments -j8 --output-sync=line LAUNCH='srun -n1 -c1'
#   make experiments FORCE=1          re-run every run, even complete ones
#
# Plan always runs (it is cheap and rewrites nothing that did not change);
# each run file depends on its config file only, so rebuilding mlplab does not
# re-run anything, while changing a study re-runs exactly the runs it changes.
# An interrupted `make experiments` resumes: run it again.

EXPERIMENTS_DIR ?= experiments
STUDIES ?= $(sort $(basename $(notdir $(wildcard $(EXPERIMENTS_DIR)/*.yaml))))

ifneq ($(filter-out 0 no,$(QUICK)),)
  RESULTS ?= results-quick
  PLAN_FLAGS := --quick
else
  RESULTS ?= results
  PLAN_FLAGS :=
endif

MLPLAB  ?= bin/mlplab
RUN_ONE ?= scripts/run-one.sh
LAUNCH  ?=
# Extra arguments for every plan, e.g. PLAN_ARGS='train.epochs=5'.
PLAN_ARGS ?=
# The studies train on MNIST; set EXPERIMENTS_DATA= to skip `make data`.
EXPERIMENTS_DATA ?= data

# The sub-makes and run-one.sh read these from the environment.
export MLPLAB RUN_ONE LAUNCH

.PHONY: experiments experiments-runs experiments-after-runs

# On a fresh machine: install the packages first, then build and run in a new
# make, so that pkg-config sees what was just installed.
experiments:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory experiments-after-runs

# Hook for the stages after training (tables, figures, report): give this
# target a recipe, e.g.
#   experiments-after-runs:
#   	$(MAKE) tables plots report
# It runs once every study's runs are complete.
experiments-after-runs: experiments-runs
	@$(MAKE) --no-print-directory tables plots report

.PHONY: tables plots figures report
tables: $(MLPLAB)
	@for s in $(STUDIES); do [ -d $(RESULTS)/$$s/runs ] && $(MLPLAB) table $(RESULTS)/$$s >/dev/null && echo "table: $(RESULTS)/$$s/table.md"; done; true

plots figures: $(MLPLAB)
	@for s in $(STUDIES); do [ -d $(RESULTS)/$$s/runs ] && scripts/figures.sh $(RESULTS)/$$s $(MLPLAB) && echo "figures: $(RESULTS)/$$s/figures/"; done; true

report:
	@scripts/report.sh $(RESULTS) $(STUDIES)

experiments-runs: $(addprefix study-,$(STUDIES))

# A pattern rule, so `make study-NAME` works for any experiments/NAME.yaml.
# The mlplab binary is a prerequisite of planning only, not of the runs.
study-%: $(EXPERIMENTS_DIR)/%.yaml $(filter bin/mlplab,$(MLPLAB)) | $(EXPERIMENTS_DATA)
	@$(MLPLAB) plan $< --results $(RESULTS) $(PLAN_FLAGS) $(PLAN_ARGS)
	@$(MAKE) --no-print-directory -f $(RESULTS)/$*/runs.mk
