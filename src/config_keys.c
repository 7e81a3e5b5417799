/* config_keys.c — the rows of config_keys.h: every key of a run config.
 * docs/config.md describes them for users (its table is made from here). */
#include "config_keys.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diagnostics.h"

enum { MAX_EPOCHS = 1000000 };

#define AT(field) .offset = offsetof(mlp_config, field), .size = sizeof(((mlp_config *)0)->field)

/* ORDER KEYS: the rows' order is the order of the keys in hints ("the keys
 * of train are: ...") and in docs/config.md; `extends` stays last (valid only
 * where files are read, it is never suggested). Adding a scalar key is adding
 * its row here, its field in config.h and its line in docs/config.md. */
const config_key config_keys[] = {
    {.key = "experiment", .type = KEY_TEXT, .role = KEY_METADATA,
     AT(experiment), .allow_null = 1, .default_text = "",
     .doc_type = "string", .doc_default = "`\"\"`",
     .doc_allowed = "metadata, at most 63 characters"},
    {.key = "label", .type = KEY_TEXT, .role = KEY_METADATA,
     AT(label), .allow_null = 1, .default_text = "",
     .doc_type = "string", .doc_default = "`\"\"`",
     .doc_allowed = "metadata, at most 255 characters"},
    {.key = "description", .type = KEY_TEXT, .role = KEY_METADATA,
     AT(description), .allow_null = 1, .default_text = "",
     .doc_type = "string", .doc_default = "`\"\"`",
     .doc_allowed = "metadata, at most 4095 characters"},
    {.key = "name", .type = KEY_STRUCTURED, .doc_type = "string", .doc_default = "—",
     .doc_allowed = "metadata: copied into `experiment` when that is empty"},
    {.key = "seed", .type = KEY_SEED, .role = KEY_RUN,
     AT(seed), .min = 0, .max = LONG_MAX, .default_long = 1,
     .doc_type = "integer", .doc_default = "`1`", .doc_allowed = "≥ 0"},
    {.key = "dataset.name", .type = KEY_STRUCTURED, .doc_type = "string",
     .doc_default = "`mnist` (`inline` if `dataset.inline` is given)",
     .doc_allowed = "`mnist`, `fashion-mnist`, `inline`"},
    {.key = "dataset.dir", .type = KEY_STRUCTURED, .doc_type = "string", .doc_default = "`\"\"`",
     .doc_allowed = "directory of the IDX files; `\"\"` = `$MNIST_DIR` / defaults (see "
                    "[data.md](data.md))"},
    {.key = "dataset.train_size", .type = KEY_STRUCTURED,
     .doc_type = "integer", .doc_default = "50000",
     .doc_allowed = "0 … 50000 (the first N training images)"},
    {.key = "dataset.validation_size", .type = KEY_STRUCTURED,
     .doc_type = "integer", .doc_default = "10000",
     .doc_allowed = "0 … 10000 (the first N of the last 10,000 training images)"},
    {.key = "dataset.test_size", .type = KEY_STRUCTURED,
     .doc_type = "integer", .doc_default = "10000",
     .doc_allowed = "0 … 10000 (the first N test images)"},
    {.key = "dataset.inline.inputs", .type = KEY_STRUCTURED, .doc_type = "list of rows of numbers",
     .doc_default = "—", .doc_allowed = "required when `dataset.name` is `inline`"},
    {.key = "dataset.inline.targets", .type = KEY_STRUCTURED,
     .doc_type = "list of rows of numbers",
     .doc_default = "—", .doc_allowed = "as many rows as `inputs`"},
    {.key = "network.sizes", .type = KEY_STRUCTURED,
     .doc_type = "list of integers", .doc_default = "**required**",
     .doc_allowed = "2 to 16 layers, each 1 … 1,000,000"},
    {.key = "network.activation", .type = KEY_TEXT, .role = KEY_RUN,
     AT(activation), .default_text = "sigmoid",
     .doc_type = "string", .doc_default = "`sigmoid`",
     .doc_allowed = "hidden layers: `sigmoid`, `tanh`, `relu`, `linear`"},
    {.key = "network.output", .type = KEY_TEXT, .role = KEY_RUN,
     AT(output), .default_text = "sigmoid",
     .doc_type = "string", .doc_default = "`sigmoid`",
     .doc_allowed = "output layer: `sigmoid`, `tanh`, `relu`, `linear`, `softmax`"},
    {.key = "cost", .type = KEY_TEXT, .role = KEY_RUN,
     AT(cost), .default_text = "cross-entropy", .doc_type = "string",
     .doc_default = "`cross-entropy`",
     .doc_allowed = "`quadratic`, `cross-entropy`, `log-likelihood`"},
    {.key = "init", .type = KEY_STRUCTURED,
     .doc_type = "string or mapping", .doc_default = "`large`",
     .doc_allowed = "`large`, `scaled`, `xavier`, `he`, or `{fixed: {weights, biases}}`"},
    {.key = "init.fixed.weights", .type = KEY_STRUCTURED},
    {.key = "init.fixed.biases", .type = KEY_STRUCTURED},
    {.key = "train.epochs", .type = KEY_INT, .role = KEY_RUN,
     AT(epochs), .min = 1, .max = MAX_EPOCHS,
     .default_long = 30, .doc_type = "integer", .doc_default = "30",
     .doc_allowed = "1 … 1,000,000"},
    {.key = "train.batch_size", .type = KEY_INT, .role = KEY_RUN,
     AT(batch_size), .min = 1, .max = INT_MAX,
     .default_long = 10, .doc_type = "integer", .doc_default = "10", .doc_allowed = "≥ 1"},
    {.key = "train.learning_rate", .type = KEY_REAL, .role = KEY_RUN,
     AT(learning_rate), .low = 0.0, .low_open = 1,
     .default_real = 0.5, .doc_type = "number", .doc_default = "0.5",
     .doc_allowed = "> 0, finite"},
    {"train.l2", KEY_REAL, KEY_RUN, AT(l2), .low = 0.0, .default_real = 0.0,
     .doc_type = "number", .doc_default = "0",
     .doc_allowed = "≥ 0, finite (λ; weights decay by 1 − ηλ/n per step)"},
    {.key = "train.monitor_train", .type = KEY_BOOL, .role = KEY_RUN,
     AT(monitor_train), .default_long = 1,
     .doc_type = "boolean", .doc_default = "`true`",
     .doc_allowed = "measure cost and accuracy on the training set every epoch"},
    {.key = "train.monitor_output", .type = KEY_BOOL, .role = KEY_RUN,
     AT(monitor_output), .default_long = 0,
     .doc_type = "boolean", .doc_default = "`false`",
     .doc_allowed = "also record the mean activation of the output layer over the training "
                    "set every epoch, as the custom metric `train_output` (for one neuron and "
                    "one example: its output; see `experiments/saturation.yaml`)"},
    {.key = "train.diagnostics", .type = KEY_BOOL, .role = KEY_RUN,
     AT(diagnostics), .default_long = 0, .omit_default = 1,
     .doc_type = "boolean", .doc_default = "`false`",
     .doc_allowed = "measure every layer on each epoch's training mini-batches as they train "
                    "— fraction of saturated units, mean \\|δ\\|, weight-gradient norm, mean "
                    "activation — into the run file's `/diagnostics` (docs/run-file.md); costs "
                    "a few per cent of the epoch (`make bench`). Only `true` enters the run id, "
                    "so runs planned before the key existed keep theirs"},
    {.key = "train.saturation_threshold", .type = KEY_REAL, .role = KEY_RUN,
     AT(saturation_threshold), .low = 0.0, .low_open = 1,
     .default_real = DIAGNOSTICS_SLOPE_THRESHOLD, .omit_default = 1,
     .doc_type = "number", .doc_default = "0.01",
     .doc_allowed = "> 0: with `train.diagnostics`, a sigmoid or softmax value counts as "
                    "saturated when its slope a(1 − a) is below it, a tanh value when 1 − a² is "
                    "(docs/run-file.md). Enters the run id only when it is not 0.01"},
    {.key = "save_weights", .type = KEY_STRUCTURED, .doc_type = "`final`, integer or mapping",
     .doc_default = "`final`", .doc_allowed = "`final`; N ≥ 1 or `{every: N}`: also every N epochs"},
    {.key = "save_weights.every", .type = KEY_STRUCTURED},
    {.key = "hooks", .type = KEY_STRUCTURED, .doc_type = "path", .doc_default = "none",
     .doc_allowed = "a `.lua` file, relative to the YAML file that names it; must exist"},
    {.key = "hook_args", .type = KEY_STRUCTURED, .doc_type = "mapping", .doc_default = "none",
     .doc_allowed = "passed to the hook script as `args` (see hooks.md); only with `hooks`, "
                    "no key `base_learning_rate`, nested at most 64 levels"},
    {.key = "extends", .type = KEY_STRUCTURED, .doc_type = "path", .doc_default = "—",
     .doc_allowed = "a YAML file, relative to the file that contains the key"},
};
const size_t config_key_count = sizeof config_keys / sizeof config_keys[0];
_Static_assert(sizeof config_keys / sizeof config_keys[0] <= CONFIG_KEYS_MAX,
               "config_key_list holds at most CONFIG_KEYS_MAX keys");

#undef AT

/* The keys of the mapping at `section` ("" for the top level, "train",
 * "dataset.inline", ...), in row order. */
void config_section_keys(const char *section, config_key_list *out)
{
    size_t length = strlen(section);
    out->count = 0;
    for (size_t i = 0; i < config_key_count; i++) {
        const char *key = config_keys[i].key;
        if (length > 0 && (strncmp(key, section, length) != 0 || key[length] != '.'))
            continue;
        const char *leaf = length > 0 ? key + length + 1 : key;
        size_t leaf_length = strcspn(leaf, ".");
        int seen = 0;
        for (size_t k = 0; k < out->count && !seen; k++)
            seen = strlen(out->names[k]) == leaf_length &&
                   strncmp(out->names[k], leaf, leaf_length) == 0;
        if (seen)
            continue;
        snprintf(out->text[out->count], sizeof out->text[0], "%.*s", (int)leaf_length, leaf);
        out->names[out->count] = out->text[out->count];
        out->count++;
    }
    out->names[out->count] = NULL;
}

const config_key *config_key_find(const char *key)
{
    for (size_t i = 0; i < config_key_count; i++)
        if (strcmp(config_keys[i].key, key) == 0)
            return &config_keys[i];
    return NULL;
}

char *config_keys_markdown(void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    if (out == NULL)
        return NULL;
    fputs("| key | type | default | allowed values |\n|-----|------|---------|----------------|\n",
          out);
    for (size_t i = 0; i < config_key_count; i++) {
        const config_key *row = &config_keys[i];
        if (row->doc_type != NULL)
            fprintf(out, "| `%s` | %s | %s | %s |\n", row->key, row->doc_type, row->doc_default,
                    row->doc_allowed);
    }
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
