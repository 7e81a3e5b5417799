/* fuzz_idx.c — libFuzzer target: the IDX reader, plain and gzip.
 *
 * Input: the bytes of a file, written to a temporary file and read by
 * idx_read as an image file (3 dimensions) and a label file (1), the way
 * data.c reads MNIST, plus data_sha256_file. Any input may be refused; none
 * may crash, leak, read out of bounds or allocate without bound. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (path[0] == '\0') {
        snprintf(path, sizeof path, "/tmp/mlplab-fuzz-idx-XXXXXX");
        int fd = mkstemp(path);
        if (fd < 0)
            abort();
        close(fd);
    }
    FILE *file = fopen(path, "wb");
    if (file == NULL)
        abort();
    fwrite(data, 1, size, file);
    fclose(file);
    for (int ndims = 1; ndims <= 3; ndims += 2) {
        size_t dims[3];
        unsigned char *payload = NULL;
        mlp_error err = {0};
        if (idx_read(path, ndims, dims, &payload, &err) == 0)
            free(payload);
    }
    char hex[65];
    mlp_error err = {0};
    data_sha256_file(path, hex, &err);
    return 0;
}
