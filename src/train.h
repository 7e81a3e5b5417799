/* train.h — mini-batch SGD over a data set, and the per-epoch measurements.
 *
 * A trainer holds the network, the random-number generator (GSL mt19937,
 * seeded from the run's seed; it draws the initial weights, then one
 * Fisher–Yates shuffle of the training indices per epoch and nothing else),
 * and the buffers for one mini-batch. It knows nothing of files, hooks or
 * terminals: run.c drives it. Same config and seed: bit-identical weights
 * and metrics, whichever kernel variant runs (docs/numerics.md).
 *
 * Reported cost, as network2.py's total_cost: for a set of n examples,
 *   (1/n) Σ_x C_x + (λ / 2n) Σ_w w²
 * (the L2 penalty uses that set's n). Accuracy is the fraction of examples
 * whose largest output is the right class; NaN for a part that is absent or a
 * data set without classes.
 *
 * Ownership: trainer_new allocates; trainer_free frees. The trainer borrows
 * config and data, which must outlive it. */
#ifndef MLP_TRAIN_H
#define MLP_TRAIN_H

#include <signal.h>
#include <stddef.h>

#include <gsl/gsl_rng.h>

#include "config.h"
#include "data.h"
#include "error.h"
#include "metrics.h"
#include "net.h"

typedef struct trainer trainer;

/* Builds the network from the config and initializes it (drawing from the RNG
 * seeded with config->seed, or copying the fixed values). */
int trainer_new(const mlp_config *config, const dataset *data, trainer **out, mlp_error *err);
void trainer_free(trainer *t);

mlp_net *trainer_net(trainer *t);
gsl_rng *trainer_rng(trainer *t);

/* Every layer's weights as [neurons x inputs] (the run file's layout), copied
 * from the network now: trainer-owned buffers, the same pointers on every
 * call, valid until trainer_free. */
double *const *trainer_weights(trainer *t);

/* Adds up where training batches spend their time into *timing (NULL: stop). */
void trainer_set_timing(trainer *t, net_timing *timing);

/* Loads those buffers into the network (after something wrote into them: a
 * checkpoint being resumed). */
void trainer_load_weights(trainer *t);

/* One epoch: shuffle, then every mini-batch in order (the last may be short).
 * Stops early, returning MLP_ERR_INTERRUPTED, when *stop becomes non-zero
 * between batches (stop may be NULL). */
int trainer_epoch(trainer *t, double learning_rate, volatile sig_atomic_t *stop, mlp_error *err);

/* Fills the cost and accuracy fields of row for train (unless monitoring is
 * off: NaN), validation and test. */
void trainer_evaluate(trainer *t, epoch_metrics *row);

/* The predicted class (largest output) of every example of the validation or
 * the test part, as the last trainer_evaluate found them; NULL for another
 * part. For the confusion matrices (confusion.h). */
const int *trainer_predictions(const trainer *t, const data_part *part);

/* With train.diagnostics: the measurements of the last trainer_epoch's
 * mini-batches (diagnostics.h); NULL without. */
struct diagnostics;
const struct diagnostics *trainer_diagnostics(const trainer *t);

/* Orders the data's parts for evaluation (grouping.h: similar images
 * together, which makes a pass faster and changes no result): validation and
 * test, and train with monitor_train. trainer_new does it; a caller that
 * changes the data's parts afterwards (the benchmark's slices) calls it again,
 * or the changed parts are measured in their natural order. */
int trainer_order_parts(trainer *t, mlp_error *err);

/* Cost and accuracy of the network on one part (NaN, NaN if it is empty): one
 * of the data's parts, or another no larger than the largest of them. */
void trainer_measure(trainer *t, const data_part *part, double *cost, double *accuracy);

/* Mean activation of the output layer over a part (every example and output
 * neuron; NaN if the part is empty). For a one-neuron network trained on one
 * example this is the neuron's output, which Nielsen's saturation figures
 * follow; on a larger network it shows the outputs drifting into saturation. */
double trainer_mean_output(trainer *t, const data_part *part);

#endif
