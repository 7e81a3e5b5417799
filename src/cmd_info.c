/* cmd_info.c — `mlplab info`: what this build knows and runs on. */
#include <stdio.h>

#include "activation.h"
#include "blas.h"
#include "commands.h"
#include "cost.h"
#include "datasets.h"
#include "init.h"
#include "kernels.h"
#include "provenance.h"

const char cmd_info_usage[] =
    "usage: mlplab info [--checksums NAME]\n"
    "\n"
    "Lists the activations, costs, initializers and data sets this build knows,\n"
    "the libraries it links and the kernel variant it trains with (MLPLAB_KERNELS).\n"
    "  --checksums NAME  the SHA-256 of data set NAME's files instead, as sha256sum\n"
    "                    prints them (`sha256sum -c` checks a directory against them;\n"
    "                    scripts/fetch-mnist.sh reads MNIST's from here)\n";

/* "SHA256  FILE" per file of the data set, in the catalogue's order. */
static int print_checksums(const char *name)
{
    const dataset_entry *entry = datasets_find(name);
    if (entry == NULL) {
        fprintf(stderr, "mlplab info: no data set '%s' has checksums (data sets: %s)\n", name,
                datasets_names());
        return MLP_ERR_USAGE;
    }
    const dataset_file *files[] = {&entry->train_images, &entry->train_labels,
                                   &entry->test_images, &entry->test_labels};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (files[i]->sha256 != NULL)
            printf("%s  %s\n", files[i]->sha256, files[i]->name);
    return MLP_OK;
}

int cmd_info(const cli_values *args)
{
    const char *checksums = args->checksums;
    if (checksums != NULL)
        return print_checksums(checksums);
    size_t n;
    const activation *acts = activation_table(&n);
    printf("activations:\n");
    for (size_t i = 0; i < n; i++)
        printf("  %-10s outputs in %s%s\n", acts[i].name, acts[i].range_text,
               acts[i].output_only ? " (output layer only)" : "");
    const cost *costs = cost_table(&n);
    printf("costs:\n");
    for (size_t i = 0; i < n; i++)
        printf("  %-15s %s\n", costs[i].name,
               costs[i].required_output ? costs[i].required_output : "any output");
    const initializer *inits = init_table(&n);
    printf("initializers:\n");
    for (size_t i = 0; i < n; i++)
        printf("  %-10s %s\n", inits[i].name, inits[i].description);
    printf("data sets: %s\n", datasets_names());
    char text[256];
    blas_use_one_thread();
    blas_describe(text, sizeof text);
    printf("blas: %s (only `make bench` calls it)\n", text);
    mlp_error err = {0};
    const kernel_variant *kernels = kernels_choose(&err);
    if (kernels == NULL) {
        fprintf(stderr, "mlplab info: %s\n", err.message);
        return err.status;
    }
    kernels_describe(kernels, text, sizeof text);
    printf("kernels: %s\n", text);
    size_t count;
    const kernel_variant *const *table = kernels_table(&count);
    printf("kernel variants this CPU runs:");
    for (size_t i = 0; i < count; i++)
        if (table[i]->cpu_supports())
            printf(" %s", table[i]->name);
    printf(" (choose with MLPLAB_KERNELS)\n");
    provenance_libraries(text, sizeof text);
    printf("libraries: %s\n", text);
    return 0;
}
