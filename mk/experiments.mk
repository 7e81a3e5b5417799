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
#   make submit STUDIES="a b"         the same on Slurm: job arrays and a report job
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

# The stages after training. Each study's table and figures are made as soon
# as its own runs are complete (outputs-NAME), while other studies still
# train: under -j they take the cores that would otherwise idle (the figures
# are about a minute of CPU in all), and nothing is left for the end but the
# report, which reads every table and figure and so comes last.
experiments-after-runs: $(addprefix outputs-,$(STUDIES))
	@$(MAKE) --no-print-directory report

# A study whose table fails (a gradient check that is not as expected) still
# gets its figures, then fails the target.
outputs-%: study-%
	@status=0; $(call table_of,$*) || status=1; $(call figures_of,$*) || status=1; exit $$status

.PHONY: tables plots figures report
# table_of NAME, figures_of NAME: one study's table or figures (nothing for a
# study with no results yet); a shell command that fails if they fail.
table_of = { [ ! -f $(RESULTS)/$(1)/study.yaml ] || \
    { $(MLPLAB) table $(RESULTS)/$(1) >/dev/null && echo "table: $(RESULTS)/$(1)/table.md"; }; }
figures_of = { [ ! -f $(RESULTS)/$(1)/study.yaml ] || \
    { scripts/figures.sh $(RESULTS)/$(1) $(MLPLAB) && echo "figures: $(RESULTS)/$(1)/figures/"; }; }

# A study whose table fails (a gradient check that is not as expected, an
# invalid study.yaml) fails the target, after every other table is written.
tables: $(filter bin/mlplab,$(MLPLAB))
	@status=0; for s in $(STUDIES); do $(call table_of,$$s) || status=1; done; exit $$status

# One study per job, so that `make -j2 plots` draws two at a time; -k: every
# other study is drawn when one fails, and the target fails.
plots figures: $(filter bin/mlplab,$(MLPLAB))
	@$(MAKE) --no-print-directory -k $(addprefix figures-,$(STUDIES))

figures-%:
	@$(call figures_of,$*)

report: $(filter bin/mlplab,$(MLPLAB))
	@scripts/report.sh $(RESULTS) $(STUDIES)

experiments-runs: $(addprefix study-,$(STUDIES))

# A pattern rule, so `make study-NAME` works for any experiments/NAME.yaml.
# After planning, the data sets the runs read (runs.mk lists them) are got
# through mk/data.mk: `make study-X` installs Fashion-MNIST when X needs it.
# The mlplab binary is a prerequisite of planning only, not of the runs.
study-%: $(EXPERIMENTS_DIR)/%.yaml $(filter bin/mlplab,$(MLPLAB)) | $(EXPERIMENTS_DATA)
	@$(MLPLAB) plan $< --results $(RESULTS) $(PLAN_FLAGS) $(PLAN_ARGS)
	@$(MAKE) --no-print-directory -f $(RESULTS)/$*/runs.mk -f mk/data.mk study-data STUDY=$*
	@$(MAKE) --no-print-directory -f $(RESULTS)/$*/runs.mk

# Does every study reproduce what it claims? (docs/reproduction.md) Reads the
# results only: run `make experiments` (with the same QUICK=) first.
.PHONY: check-reproduction
check-reproduction: $(filter bin/mlplab,$(MLPLAB))
	@missing=; for s in $(STUDIES); do [ -f $(RESULTS)/$$s/study.yaml ] || missing="$$missing $$s"; done; \
	if [ -n "$$missing" ]; then \
	    echo "mlplab: no results in $(RESULTS)/ for:$$missing" >&2; \
	    echo "hint: run 'make experiments$(if $(filter-out 0 no,$(QUICK)), QUICK=1)' first" >&2; exit 2; fi
	@$(MLPLAB) check $(addprefix $(RESULTS)/,$(STUDIES))

# make submit: plan, then submit every run that is neither complete nor queued
# as Slurm job arrays, plus a report job after them; returns at once and
# prints the job ids (scripts/slurm-submit.sh; docs/cluster.md). The site's
# options, all optional:
SLURM_PARTITION ?=
SLURM_ACCOUNT ?=
# per task, e.g. 2:00:00
SLURM_TIME ?=
# per CPU, e.g. 500M
SLURM_MEM ?=
# CPUs per task: runs at once in a task
SLURM_CPUS ?= 1
# at most N tasks of an array running at once (%N)
SLURM_THROTTLE ?=
# more sbatch options, e.g. SLURM_ARGS='--qos=short --constraint=avx512'
SLURM_ARGS ?=
RUNS_PER_TASK ?= 4
.PHONY: submit submit-after-deps
submit:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory submit-after-deps

submit-after-deps: $(filter bin/mlplab,$(MLPLAB)) | $(EXPERIMENTS_DATA)
	@for s in $(STUDIES); do \
	    $(MLPLAB) plan $(EXPERIMENTS_DIR)/$$s.yaml --results $(RESULTS) $(PLAN_FLAGS) $(PLAN_ARGS) >/dev/null || exit $$?; \
	done
	@SLURM_PARTITION='$(SLURM_PARTITION)' SLURM_ACCOUNT='$(SLURM_ACCOUNT)' SLURM_TIME='$(SLURM_TIME)' \
	  SLURM_MEM='$(SLURM_MEM)' SLURM_CPUS='$(SLURM_CPUS)' SLURM_THROTTLE='$(SLURM_THROTTLE)' \
	  SLURM_ARGS='$(SLURM_ARGS)' RUNS_PER_TASK='$(RUNS_PER_TASK)' \
	  REPORT_COMMAND="$(MAKE) -C $(CURDIR) --no-print-directory tables plots report RESULTS='$(RESULTS)' STUDIES='$(STUDIES)' EXPERIMENTS_DIR='$(EXPERIMENTS_DIR)' MLPLAB='$(MLPLAB)'" \
	  scripts/slurm-submit.sh $(RESULTS) $(STUDIES)
