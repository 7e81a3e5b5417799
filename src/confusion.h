/* confusion.h — confusion matrices: how often each true class was predicted as
 * each class.
 *
 * A matrix is classes x classes row-major int32 counts, rows = true class,
 * columns = predicted class (the largest output, as for accuracy), so row c
 * sums to the number of examples of class c and its diagonal entry over that
 * sum is the accuracy on class c. Counted from the predicted classes an
 * evaluation returns (train.h, trainer_predictions) and the part's labels;
 * run.c writes them to the run file (docs/run-file.md, /confusion). */
#ifndef MLP_CONFUSION_H
#define MLP_CONFUSION_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"

/* counts (classes x classes) = the confusion matrix of predicted[0..part->count)
 * against the part's classes (data_class). Every predicted class and every
 * label must be below classes. */
void confusion_count(const data_part *part, const int *predicted, size_t classes,
                     int32_t *counts);

/* The fraction of class c's examples predicted as c; NaN when there are none. */
double confusion_class_accuracy(const int32_t *counts, size_t classes, size_t c);

#endif
