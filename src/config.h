/* config.h — the typed configuration of one run, read from YAML.
 *
 * config_load reads a YAML file (following `extends:` chains, relative to each
 * file) and applies `key=value` overrides (dotted keys, YAML flow values), both
 * by config_extends.h; config_from_tree checks every field against the key
 * table (config_keys.h) and returns a typed mlp_config.
 * Nothing trains until this has succeeded. Every error names
 * file:line:column (or "command line: argument N" for an override) with the
 * offending line, a caret and a hint; unknown keys get a did-you-mean.
 *
 * The resolved configuration (all defaults filled in) can be written back as
 * canonical YAML, whose SHA-256 is the run id: config_canonical.h.
 *
 * Ownership: config_load allocates *out; the caller frees it with config_free. */
#ifndef MLP_CONFIG_H
#define MLP_CONFIG_H

#include <stddef.h>

#include "config_extends.h"
#include "error.h"
#include "yamltree.h"

enum { CONFIG_MAX_LAYERS = 16, CONFIG_NAME_MAX = 64 };

typedef struct mlp_config {
    /* metadata: recorded, not part of the run id */
    char experiment[CONFIG_NAME_MAX];   /* study name ("" for a lone run) */
    char label[256];                    /* case label for tables and plots */
    char description[4096];

    /* dataset */
    char dataset_name[CONFIG_NAME_MAX]; /* "mnist", "fashion-mnist" or "inline" */
    char dataset_dir[1024];             /* "" = $MNIST_DIR, else data/mnist (see data.h) */
    long train_size, validation_size, test_size;   /* first N of each part */
    /* inline data (dataset_name == "inline"): row-major, count rows each */
    size_t inline_count;
    double *inline_inputs;              /* inline_count x sizes[0] */
    double *inline_targets;             /* inline_count x sizes[n_layers-1] */

    /* network: sizes[0] is the input, sizes[n_layers-1] the output */
    int n_layers;
    int sizes[CONFIG_MAX_LAYERS];
    char activation[CONFIG_NAME_MAX];   /* hidden layers: a name from activation.h */
    char output[CONFIG_NAME_MAX];       /* output layer: a name from activation.h */
    char cost[CONFIG_NAME_MAX];         /* a name from cost.h */

    /* initializer: a name from init.h; for "fixed", explicit values per layer k
     * (k = 0 is the first layer after the input): fixed_weights[k] is
     * sizes[k+1] x sizes[k] row-major, fixed_biases[k] has sizes[k+1] entries */
    char init[CONFIG_NAME_MAX];
    double *fixed_weights[CONFIG_MAX_LAYERS];
    double *fixed_biases[CONFIG_MAX_LAYERS];

    /* training */
    int epochs;
    int batch_size;
    double learning_rate;
    double l2;                          /* λ; weight decay factor 1 - ηλ/n */
    int monitor_train;                  /* 1: measure the training set every epoch */
    int monitor_output;                 /* 1: record the mean output activation on the
                                         * training set each epoch (custom metric
                                         * train_output; the single-neuron studies) */
    int diagnostics;                    /* 1: per-layer saturation, |δ|, gradient norm and
                                         * activation each epoch (diagnostics.h) */
    double saturation_threshold;        /* the slope below which diagnostics count a sigmoid,
                                         * softmax or tanh unit as saturated */
    unsigned long seed;
    int save_weights_every;             /* 0: final weights only; N: also every N epochs */

    /* Lua hooks: path resolved relative to the YAML file that named it ("" = none) */
    char hooks_path[1024];
    yt_node *hook_args;                 /* a mapping, or NULL; owned by the config */

    /* where each field was set, for errors found after loading (e.g. by data) */
    yt_node *tree;                      /* the merged document; owned by the config */
} mlp_config;

/* Loads, merges, overrides and validates. overrides are "dotted.key=value". */
int config_load(const char *path, char *const overrides[], int n_overrides,
                mlp_config **out, mlp_error *err);

/* Validates an already merged tree (takes ownership of tree in all cases).
 * Used by the study planner, which builds each run's tree itself. */
int config_from_tree(yt_node *tree, mlp_config **out, mlp_error *err);

void config_free(mlp_config *config);

/* Where `dotted` was set, for errors found later (e.g. "network.sizes" when the
 * data set has another input size); a mark with file NULL if it was a default. */
yt_mark config_mark(const mlp_config *config, const char *dotted);

#endif
