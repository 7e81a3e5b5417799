/* fuzz_config.c — libFuzzer target: the run-config loader with overrides.
 *
 * Input: a YAML document, optionally followed by a line "#overrides" and then
 * one "dotted.key=value" override per line, as `mlplab run FILE k=v ...`
 * applies them. Everything config.c does with a file's text is exercised:
 * parsing, overrides, validation, defaults, the canonical form and the run id.
 * Any input may be refused; none may crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_canonical.h"
#include "yamltree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *overrides = strstr(text, "\n#overrides\n");
    if (overrides != NULL) {
        *overrides = '\0';
        overrides += strlen("\n#overrides\n");
    }
    mlp_error err = {0};
    yt_node *tree = yt_parse_string(text, "fuzz.yaml", &err);
    int position = 1, ok = tree != NULL;
    for (char *save = NULL, *line = overrides != NULL ? strtok_r(overrides, "\n", &save) : NULL;
         ok && line != NULL; line = strtok_r(NULL, "\n", &save))
        ok = config_apply_override(tree, line, position++, &err) == 0;
    mlp_config *config = NULL;
    if (!ok)
        yt_free(tree);
    else if (config_from_tree(tree, &config, &err) == 0) {
        char id[65];
        config_run_id(config, id, &err);
        free(config_canonical_yaml(config, 1, &err));
        config_free(config);
    }
    free(text);
    return 0;
}
