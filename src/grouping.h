/* grouping.h — an order of a part's images for the evaluation passes that
 * puts images with the same nonzero pixels next to each other.
 *
 * Why: the listed kernels multiply each group of rows over the union of its
 * rows' nonzero pixels (kernels.h, forward_listed_bytes), so a group of
 * similar images does fewer multiply-adds than a group of images taken as
 * they come (on MNIST, groups of six: 217 inputs instead of 345). The order
 * changes only the speed: an example's outputs do not depend on the rows it
 * is grouped with (a skipped or added zero term leaves each sum unchanged),
 * and the costs are summed per example in the part's own order (train.c).
 *
 * The order: images sorted by class, then by their count of nonzero pixels
 * (stable), then gathered greedily: each group starts from the first image
 * left, shortlists the 32 of the next 600 of its class closest to it by a
 * coarse mask (a bit per 8 pixels), and takes from those, one at a time, the
 * image that adds the fewest new pixels to its union. On MNIST, groups of six
 * then have a union of 217 inputs. Deterministic, the same in every kernel
 * variant (only integers are compared), and computed once per part from the
 * data alone. */
#ifndef MLP_GROUPING_H
#define MLP_GROUPING_H

#include <stddef.h>

#include "data.h"
#include "error.h"

/* Fills order[0 .. part->count) with the part's examples in evaluation
 * order, each consecutive `group` (1 to 16) of them, from the start, similar
 * images. IDX parts only (part->pixels). Takes two copies of a bit per pixel
 * (rows padded to 512) while it runs: 13 MB for MNIST's 50,000 training
 * images. */
int grouping_order(const data_part *part, size_t group, size_t *order, mlp_error *err);

#endif
