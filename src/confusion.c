/* confusion.c — see confusion.h. */
#include "confusion.h"

#include <assert.h>
#include <math.h>
#include <string.h>

void confusion_count(const data_part *part, const int *predicted, size_t classes,
                     int32_t *counts)
{
    memset(counts, 0, classes * classes * sizeof *counts);
    for (size_t i = 0; i < part->count; i++) {
        int truth = data_class(part, i);
        assert(truth >= 0 && (size_t)truth < classes);
        assert(predicted[i] >= 0 && (size_t)predicted[i] < classes);
        counts[(size_t)truth * classes + (size_t)predicted[i]]++;
    }
}

double confusion_class_accuracy(const int32_t *counts, size_t classes, size_t c)
{
    const int32_t *row = counts + c * classes;
    long total = 0;
    for (size_t j = 0; j < classes; j++)
        total += row[j];
    return total > 0 ? (double)row[c] / (double)total : NAN;
}
