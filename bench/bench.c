/* bench.c — `make bench`: seconds per epoch on MNIST for [784,30,10] and
 * [784,100,10] at batch 10 and 100, where the time goes, the dense-equivalent
 * GFLOP/s against the machine's dgemm at the same shapes (measured in this
 * process), peak memory, and every kernel variant's speed and weights.
 *
 * Times are CPU seconds of this thread (the machine is shared: wall time
 * would count other processes), best of N epochs.
 *
 * Usage: mlplab-bench [--epochs N] [--quick] [--only HIDDEN BATCH] [--path P]
 *                     [--diagnostics | --monitor]
 *   (MNIST from data/mnist or MNIST_DIR; --only times one configuration, with
 *   its split, and nothing else: for working on one kernel; --path forces the
 *   first layer's path, auto (the default), dense, sparse or listed;
 *   --diagnostics times only train.diagnostics: true against false, at batch
 *   10, of both networks or of --only's, each tenth of an epoch the best of N
 *   taken in turn; --monitor the same for train.monitor_train) */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "blas.h"
#include "config.h"
#include "data.h"
#include "kernels.h"
#include "train.h"

/* dgemm GFLOP/s for C[m x n] = A[m x k] op(B), repeated for ~0.2 s. */
static double dgemm_rate(int m, int n, int k, int trans_b)
{
    double *a = calloc((size_t)m * k, sizeof *a), *b = calloc((size_t)k * n, sizeof *b);
    double *c = calloc((size_t)m * n, sizeof *c);
    for (int i = 0; i < m * k; i++)
        a[i] = (i % 7) * 0.1;
    for (int i = 0; i < k * n; i++)
        b[i] = (i % 5) * 0.1;
    long reps = 0;
    double start = net_cpu_seconds(), elapsed = 0.0;
    do {
        for (int r = 0; r < 16; r++)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k,
                        1.0, a, k, b, trans_b ? k : n, 0.0, c, n);
        reps += 16;
        elapsed = net_cpu_seconds() - start;
    } while (elapsed < 0.2);
    free(a);
    free(b);
    free(c);
    return 2.0 * m * n * k * reps / elapsed / 1e9;
}

/* Floating-point operations of one epoch if every product were dense:
 * training (forward, weight gradients, error propagation except into the
 * input layer) and evaluation forwards. */
static double epoch_flops(const int *sizes, int n_sizes, double n_train, double n_eval)
{
    double forward = 0.0, backward = 0.0;
    for (int k = 0; k + 1 < n_sizes; k++) {
        double product = 2.0 * sizes[k] * sizes[k + 1];
        forward += product;
        backward += product * (k > 0 ? 2.0 : 1.0);
    }
    return n_train * (forward + backward) + n_eval * forward;
}

/* The same epoch's time at the dgemm rates of its shapes: layer 1's forward
 * (rows x H x 784) and gradient (H x 784 x rows), and the evaluation chunks. */
static double dgemm_epoch_seconds(int hidden, int batch)
{
    double forward = dgemm_rate(batch, hidden, 784, 1), gradient = dgemm_rate(hidden, 784, batch, 0);
    double evaluation = dgemm_rate(1000, hidden, 784, 1);
    double small = 2.0 * hidden * 10;      /* the output layer: at the forward's rate */
    double per_example = 2.0 * 784 * hidden / forward + 2.0 * 784 * hidden / gradient +
                         3.0 * small / forward;
    return (50000.0 * per_example + 20000.0 * (2.0 * 784 * hidden + small) / evaluation) / 1e9;
}

typedef struct bench_result {
    double seconds, train, evaluate;    /* best epoch: total, its training, its evaluation */
    net_timing split;                   /* of the best epoch timed with its split */
    double split_train;                 /* that epoch's training, clock reads included */
    uint64_t weights_hash;              /* FNV-1a of every final weight and bias */
} bench_result;

static uint64_t hash_parameters(trainer *t)
{
    uint64_t h = 1469598103934665603ULL;
    mlp_net *net = trainer_net(t);
    double *const *weights = trainer_weights(t);
    for (size_t k = 0; k < net->n_layers; k++) {
        const unsigned char *w = (const unsigned char *)weights[k];
        for (size_t i = 0; i < net->sizes[k] * net->sizes[k + 1] * sizeof(double); i++)
            h = (h ^ w[i]) * 1099511628211ULL;
        const unsigned char *b = (const unsigned char *)net->biases[k];
        for (size_t i = 0; i < net->sizes[k + 1] * sizeof(double); i++)
            h = (h ^ b[i]) * 1099511628211ULL;
    }
    return h;
}

/* train.diagnostics and train.monitor_train for the runs bench_one times
 * (what the measurements cost). */
static int with_diagnostics, with_monitor;

/* The first layer's path for the runs bench_one times (--path; all give the
 * same results, only the speed differs). */
static net_input_path forced_path = NET_PATH_AUTO;

/* A trainer of [784, hidden, 10] at `batch` on MNIST (sigmoid, cross-entropy,
 * eta 0.5, seed 1), with the settings above, under `variant` (which it leaves
 * active), configured by *config (which it fills, and which must outlive it);
 * NULL after printing why. */
static trainer *bench_trainer(const dataset *data, int hidden, int batch, int epochs,
                              const kernel_variant *variant, mlp_config *config_out)
{
    mlp_config config;
    memset(&config, 0, sizeof config);
    strcpy(config.dataset_name, "mnist");
    config.n_layers = 3;
    config.sizes[0] = 784;
    config.sizes[1] = hidden;
    config.sizes[2] = 10;
    strcpy(config.activation, "sigmoid");
    strcpy(config.output, "sigmoid");
    strcpy(config.cost, "cross-entropy");
    strcpy(config.init, "large");
    config.epochs = epochs;
    config.batch_size = batch;
    config.learning_rate = 0.5;
    config.monitor_train = with_monitor;
    config.seed = 1;
    config.diagnostics = with_diagnostics;
    *config_out = config;
    mlp_error err = {0};
    trainer *t = NULL;
    kernels_set_active(variant);
    if (trainer_new(config_out, data, &t, &err) != MLP_OK) {
        fprintf(stderr, "mlplab-bench: %s\n", err.message);
        return NULL;
    }
    trainer_net(t)->input_path = forced_path;
    return t;
}

static int bench_one(const dataset *data, int hidden, int batch, int epochs,
                     const kernel_variant *variant, bench_result *out)
{
    mlp_config config;
    trainer *t = bench_trainer(data, hidden, batch, epochs, variant, &config);
    if (t == NULL)
        return 1;
    mlp_error err = {0};
    /* Odd epochs are timed whole; even ones (all but the first) measure the
     * split, whose clock reads (a system call each, several per batch) would
     * otherwise be counted in the epoch's time. */
    out->seconds = 1e30;
    double best_split = 1e30;
    for (int e = 0; e < 2 * epochs; e++) {
        int splitting = e % 2 == 1;
        net_timing split = {0};
        trainer_set_timing(t, splitting ? &split : NULL);
        double start = net_cpu_seconds();
        trainer_epoch(t, 0.5, NULL, &err);
        double trained = net_cpu_seconds();
        trainer_set_timing(t, NULL);
        epoch_metrics row;
        trainer_evaluate(t, &row);
        double finished = net_cpu_seconds();
        if (splitting && trained - start < best_split) {
            best_split = trained - start;
            out->split = split;
            out->split_train = trained - start;
        } else if (!splitting && finished - start < out->seconds) {
            out->seconds = finished - start;
            out->train = trained - start;
            out->evaluate = finished - trained;
        }
    }
    out->weights_hash = hash_parameters(t);
    trainer_free(t);
    kernels_set_active(NULL);
    return 0;
}

/* The tenth `slice` (0 … SLICES − 1) of each part of *data, as a view in *view:
 * the same images and labels, none copied. */
enum { SLICES = 10 };

static void slice_of(const dataset *data, int slice, dataset *view)
{
    const data_part *whole[3] = {&data->train, &data->validation, &data->test};
    data_part *part[3] = {&view->train, &view->validation, &view->test};
    for (int i = 0; i < 3; i++) {
        size_t count = whole[i]->count / SLICES, first = (size_t)slice * count;
        *part[i] = *whole[i];
        part[i]->count = count;
        part[i]->pixels = whole[i]->pixels + first * whole[i]->input_size;
        part[i]->labels = whole[i]->labels + first;
    }
}

/* Times epochs of the networks [784, hidden[n], 10] in two configurations,
 * side 0 and side 1 (a batch size each, and *setting 0 and 1 if setting is
 * not NULL): two trainers, one of each, take turns through the ten tenths of
 * the data (an epoch of a tenth: training on a tenth of the training set, then
 * measuring a tenth of the validation and test sets), `rounds` times, which of
 * the two goes first alternating, so that a change in the machine's load
 * (which comes in bursts on a shared machine) slows both alike. The trainers
 * borrow the dataset view and read its parts at every epoch. An epoch's time is
 * the sum over the tenths of the best time of each. Prints them and what side
 * 1 costs against side 0, and the median of that over the pairs of turns on
 * one tenth (a burst of load that slows one turn of a pair moves the median
 * little). With totals, each network's two epoch times are also put there. */
typedef struct in_turn {
    const char *title;   /* what is compared, the line above the results */
    const char *side[2]; /* the two columns' names */
    int batch[2];        /* each side's batch size */
    int *setting;        /* 0 on side 0 and 1 on side 1; NULL: none */
} in_turn;

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int compare_in_turn(const dataset *data, const kernel_variant *chosen, int rounds,
                           const int *hidden, int n_networks, const in_turn *sides,
                           double totals[][2])
{
    printf("\n%s, CPU s per epoch (its ten tenths taken in turn, best of %d each):\n",
           sides->title, rounds);
    for (int n = 0; n < n_networks; n++) {
        dataset view = *data;
        trainer *both[2] = {NULL, NULL};
        mlp_config configs[2];
        for (int on = 0; on < 2; on++) {
            if (sides->setting != NULL)
                *sides->setting = on;
            both[on] = bench_trainer(&view, hidden[n], sides->batch[on], rounds, chosen,
                                     &configs[on]);
        }
        if (sides->setting != NULL)
            *sides->setting = 0;
        double best[2][SLICES];
        for (int j = 0; j < SLICES; j++)
            best[0][j] = best[1][j] = 1e30;
        double *ratios = malloc((size_t)rounds * SLICES * sizeof *ratios);
        int failed = both[0] == NULL || both[1] == NULL || ratios == NULL;
        for (int c = 0; c < rounds && !failed; c++)
            for (int j = 0; j < SLICES && !failed; j++) {
                slice_of(data, j, &view);
                for (int on = 0; on < 2 && !failed; on++) {
                    mlp_error err = {0};
                    failed = trainer_order_parts(both[on], &err) != MLP_OK;
                    if (failed)
                        fprintf(stderr, "mlplab-bench: %s\n", err.message);
                }
                double pair[2] = {1.0, 1.0};
                for (int turn = 0; turn < 2 && !failed; turn++) {
                    int on = (turn + c + j) % 2;
                    mlp_error err = {0};
                    epoch_metrics row;
                    double start = net_cpu_seconds();
                    failed = trainer_epoch(both[on], 0.5, NULL, &err) != MLP_OK;
                    trainer_evaluate(both[on], &row);
                    double seconds = net_cpu_seconds() - start;
                    if (failed)
                        fprintf(stderr, "mlplab-bench: %s\n", err.message);
                    else if (seconds < best[on][j])
                        best[on][j] = seconds;
                    pair[on] = seconds;
                }
                ratios[c * SLICES + j] = pair[1] / pair[0];
            }
        trainer_free(both[0]);
        trainer_free(both[1]);
        kernels_set_active(NULL);
        if (failed) {
            free(ratios);
            return 1;
        }
        double epoch[2] = {0.0, 0.0};
        for (int j = 0; j < SLICES; j++)
            for (int on = 0; on < 2; on++)
                epoch[on] += best[on][j];
        size_t pairs = (size_t)rounds * SLICES;
        qsort(ratios, pairs, sizeof *ratios, by_value);
        double median = (ratios[(pairs - 1) / 2] + ratios[pairs / 2]) / 2.0;
        free(ratios);
        printf("[784,%d,10]%*s %8.3f %s, %8.3f %s: %+5.1f %%  (median of %zu pairs %+5.1f %%)\n",
               hidden[n], hidden[n] < 100 ? 3 : 2, "", epoch[0], sides->side[0], epoch[1],
               sides->side[1], 100.0 * (epoch[1] - epoch[0]) / epoch[0], pairs,
               100.0 * (median - 1.0));
        if (totals != NULL) {
            totals[n][0] = epoch[0];
            totals[n][1] = epoch[1];
        }
    }
    return 0;
}

/* The comparisons the bench makes in turn. */
static const in_turn batch_in_turn = {
    "batch 100 against batch 10, monitor_train off", {"batch 10", "batch 100"}, {10, 100}, NULL};
static const in_turn diagnostics_in_turn = {
    "train.diagnostics: true against false, batch 10", {"without", "with"}, {10, 10},
    &with_diagnostics};
static const in_turn monitor_in_turn = {
    "train.monitor_train: true (the default) against false, batch 10", {"without", "with"},
    {10, 10}, &with_monitor};

static int load_mnist(dataset **data)
{
    mlp_config config;
    memset(&config, 0, sizeof config);
    strcpy(config.dataset_name, "mnist");
    config.train_size = 50000;
    config.validation_size = 10000;
    config.test_size = 10000;
    config.n_layers = 3;
    config.sizes[0] = 784;
    config.sizes[1] = 30;
    config.sizes[2] = 10;
    mlp_error err = {0};
    if (data_load(&config, data, &err) != MLP_OK) {
        fprintf(stderr, "mlplab-bench: %s\n", err.message);
        return 1;
    }
    return 0;
}

/* The CPU's model name as Linux reports it ("unknown" elsewhere): timings
 * differ between machines, so the output says which one ran. */
static void cpu_model(char *name, size_t size)
{
    snprintf(name, size, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
            snprintf(name, size, "%s", colon + 2);
            name[strcspn(name, "\n")] = '\0';
            break;
        }
    }
    fclose(f);
}

/* A whole decimal number in 1 .. most, into *out. */
static int positive(const char *text, long most, int *out)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < 1 || value > most)
        return 0;
    *out = (int)value;
    return 1;
}

static int bad_number(const char *option, const char *text, const char *wanted)
{
    fprintf(stderr, "mlplab-bench: %s %s is not a number it takes; hint: %s\n", option, text,
            wanted);
    return 2;
}

int main(int argc, char **argv)
{
    blas_choose_kernels(argv);
    int epochs = 3, only_hidden = 0, only_batch = 0, diagnostics_only = 0, monitor_only = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc) {
            if (!positive(argv[++i], 1000, &epochs))
                return bad_number("--epochs", argv[i], "1 to 1000 epochs");
        } else if (strcmp(argv[i], "--only") == 0 && i + 2 < argc) {
            if (!positive(argv[++i], 4096, &only_hidden))
                return bad_number("--only", argv[i], "1 to 4096 hidden units");
            if (!positive(argv[++i], 50000, &only_batch))
                return bad_number("--only", argv[i], "a batch size of 1 to 50000");
        } else if (strcmp(argv[i], "--path") == 0 && i + 1 < argc) {
            const char *names[] = {"auto", "dense", "sparse", "listed"};
            const char *name = argv[++i];
            int found = 0;
            for (int p = 0; p < 4; p++)
                if (strcmp(name, names[p]) == 0) {
                    forced_path = (net_input_path)p;
                    found = 1;
                }
            if (!found) {
                fprintf(stderr, "mlplab-bench: --path %s is not a path; hint: auto, dense, "
                                "sparse or listed\n", name);
                return 2;
            }
        }
        else if (strcmp(argv[i], "--quick") == 0)
            epochs = 1;
        else if (strcmp(argv[i], "--diagnostics") == 0)
            diagnostics_only = 1;
        else if (strcmp(argv[i], "--monitor") == 0)
            monitor_only = 1;
        else {
            /* --help: the usage on stdout, success; anything else: on stderr, a usage error */
            int help = strcmp(argv[i], "--help") == 0;
            const char *wants = strcmp(argv[i], "--only") == 0     ? "HIDDEN and BATCH"
                                : strcmp(argv[i], "--epochs") == 0 ? "a number"
                                : strcmp(argv[i], "--path") == 0   ? "a path"
                                                                   : NULL;
            if (wants != NULL)
                fprintf(stderr, "mlplab-bench: %s needs %s after it\n", argv[i], wants);
            else if (!help)
                fprintf(stderr, "mlplab-bench: unknown option %s\n", argv[i]);
            fprintf(help ? stdout : stderr,
                    "usage: mlplab-bench [--epochs N] [--quick] [--only HIDDEN BATCH] "
                    "[--path auto|dense|sparse|listed] [--diagnostics | --monitor]\n");
            return help ? 0 : 2;
        }
    }
    if (epochs < 1)
        epochs = 1;
    blas_use_one_thread();
    mlp_error err = {0};
    const kernel_variant *chosen = kernels_choose(&err);
    if (chosen == NULL) {
        fprintf(stderr, "mlplab-bench: %s\n", err.message);
        return 3;
    }
    dataset *data = NULL;
    if (load_mnist(&data) != 0)
        return 4;
    int hidden[] = {30, 100}, batches[] = {10, 100}, n_networks = 2, n_batches = 2;
    if (only_hidden > 0 && only_batch > 0) {
        hidden[0] = only_hidden;
        batches[0] = only_batch;
        n_networks = n_batches = 1;
    }
    if (diagnostics_only) {
        int failed = compare_in_turn(data, chosen, epochs, hidden, n_networks,
                                     &diagnostics_in_turn, NULL);
        data_free(data);
        return failed ? 4 : 0;
    }
    if (monitor_only) {
        int failed = compare_in_turn(data, chosen, epochs, hidden, n_networks, &monitor_in_turn,
                                     NULL);
        data_free(data);
        return failed ? 4 : 0;
    }
    char text[256];
    kernels_describe(chosen, text, sizeof text);
    printf("kernels: %s\n", text);
    cpu_model(text, sizeof text);
    printf("cpu: %s\n", text);
    blas_describe(text, sizeof text);
    printf("dgemm for comparison: %s; 1000x1000x1000 at %.1f GFLOP/s\n", text,
           dgemm_rate(1000, 1000, 1000, 0));
    printf("\nCPU seconds per epoch (train 50,000 + evaluate 20,000; sigmoid, cross-entropy, "
           "eta 0.5, monitor_train off), best of %d:\n", epochs);
    printf("%-13s %5s %8s %7s %7s %9s %9s %7s | training split*** %6s %6s %6s %6s %6s\n",
           "network", "batch", "s/epoch", "train", "eval", "GFLOP/s*", "dgemm s**", "x dgemm",
           "conv", "layer1", "other", "activ", "rest");
    for (int n = 0; n < n_networks; n++)
        for (int b = 0; b < n_batches; b++) {
            bench_result r;
            if (bench_one(data, hidden[n], batches[b], epochs, chosen, &r) != 0)
                return 4;
            const int sizes[] = {784, hidden[n], 10};
            double gflops = epoch_flops(sizes, 3, 50000, 20000) / r.seconds / 1e9;
            double bound = dgemm_epoch_seconds(hidden[n], batches[b]);
            const net_timing *s = &r.split;
            double rest = r.split_train - s->conversion - s->layer1 - s->other_layers -
                          s->activations;
            char name[32];
            snprintf(name, sizeof name, "[784,%d,10]", hidden[n]);
            printf("%-13s %5d %8.3f %7.3f %7.3f %9.1f %9.3f %6.2fx | %15.3f %6.3f %6.3f %6.3f "
                   "%6.3f\n",
                   name, batches[b], r.seconds, r.train, r.evaluate, gflops, bound,
                   bound / r.seconds, s->conversion, s->layer1, s->other_layers, s->activations,
                   rest);
        }
    printf("  * the dense-equivalent rate: the FLOPs a dense epoch needs over the time taken\n"
           "  ** the same epoch if every product ran at this machine's dgemm rate at its shape "
           "(10 or 100 rows x H x 784, 1000-row evaluation chunks)\n"
           "  *** from other epochs of the same run, timed part by part: the clock reads (a "
           "system call each) add to the rest\n");
    if (n_networks == 1) {
        data_free(data);
        return 0;
    }
    /* Batch 100 must not be slower than batch 10, and train.diagnostics must
     * cost at most 10 % of an epoch (issue #12); the default
     * train.monitor_train: true, which measures the 50,000 training examples
     * too after each epoch, at most 20 % (issue #10). The verdict on the batch
     * comes from epochs taken in turn, not from the table above, whose rows
     * were timed one after the other: a burst of load on a shared machine
     * during one row could reverse it. */
    double batch_seconds[2][2];
    if (compare_in_turn(data, chosen, epochs, hidden, 2, &batch_in_turn, batch_seconds) != 0)
        return 4;
    for (int n = 0; n < 2; n++)
        printf("[784,%d,10]: batch 100 %s batch 10 (%.3f s against %.3f s, in turn)\n", hidden[n],
               batch_seconds[n][1] <= batch_seconds[n][0] ? "is not slower than"
                                                          : "is SLOWER than",
               batch_seconds[n][1], batch_seconds[n][0]);
    if (compare_in_turn(data, chosen, epochs, hidden, 2, &diagnostics_in_turn, NULL) != 0 ||
        compare_in_turn(data, chosen, epochs, hidden, 2, &monitor_in_turn, NULL) != 0)
        return 4;

    printf("\nevery kernel variant, [784,30,10] batch 10, one epoch (weights: FNV-1a of every "
           "final parameter):\n");
    size_t count;
    const kernel_variant *const *table = kernels_table(&count);
    uint64_t first_hash = 0;
    int all_same = 1;
    for (size_t i = 0; i < count; i++) {
        if (!table[i]->cpu_supports()) {
            printf("  %-9s not on this CPU (%s)\n", table[i]->name, table[i]->description);
            continue;
        }
        bench_result r;
        if (bench_one(data, 30, 10, 1, table[i], &r) != 0)
            return 4;
        if (first_hash == 0)
            first_hash = r.weights_hash;
        all_same = all_same && r.weights_hash == first_hash;
        printf("  %-9s %.3f s/epoch  weights %016llx\n", table[i]->name, r.seconds,
               (unsigned long long)r.weights_hash);
    }
    printf("  %s\n", all_same ? "identical weights from every variant"
                              : "VARIANTS DIFFER: this is a bug (docs/numerics.md)");
    data_free(data);
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    printf("\npeak memory (max RSS) of this process: %.1f MB\n", usage.ru_maxrss / 1024.0);
    /* Measured once on the machine: a ratio against them holds only
     * there (docs/performance.md says how the peers are timed on another). */
    printf("outside yardsticks, measured once on AMD EPYC Zen 4, not by this run (docs/performance.md): "
           "numpy matrix-form loop 0.35 s ([784,30,10] b10) and 0.69 s ([784,100,10] b10); "
           "PyTorch 1.13 float32 1 thread 1.30 s\n");
    return all_same ? 0 : 1;
}
