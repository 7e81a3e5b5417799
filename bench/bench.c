/* bench.c — `make bench`: seconds per epoch on MNIST, peak memory, achieved
 * GFLOP/s, and the machine's dgemm GFLOP/s measured in the same process.
 *
 * Usage: mlplab-bench [--epochs N] [--quick]   (MNIST from data/mnist or MNIST_DIR) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "blas.h"
#include "config.h"
#include "data.h"
#include "train.h"

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* dgemm GFLOP/s for C[m x n] = A[m x k] B[k x n], repeated for ~0.3 s. */
static double dgemm_rate(int m, int n, int k, int trans_b)
{
    double *a = calloc((size_t)m * k, sizeof *a), *b = calloc((size_t)k * n, sizeof *b);
    double *c = calloc((size_t)m * n, sizeof *c);
    for (int i = 0; i < m * k; i++)
        a[i] = (i % 7) * 0.1;
    for (int i = 0; i < k * n; i++)
        b[i] = (i % 5) * 0.1;
    long reps = 0;
    double start = now_seconds(), elapsed = 0.0;
    do {
        for (int r = 0; r < 16; r++)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k,
                        1.0, a, k, b, trans_b ? k : n, 0.0, c, n);
        reps += 16;
        elapsed = now_seconds() - start;
    } while (elapsed < 0.3);
    free(a);
    free(b);
    free(c);
    return 2.0 * m * n * k * reps / elapsed / 1e9;
}

/* Floating-point operations of one epoch: training (forward, weight gradients,
 * error propagation except into the input layer) and evaluation forwards. */
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

static int bench_one(const int *sizes, int n_sizes, int batch, int epochs, double *seconds_out,
                     double *gflops_out)
{
    mlp_config config;
    memset(&config, 0, sizeof config);
    strcpy(config.dataset_name, "mnist");
    config.train_size = 50000;
    config.validation_size = 10000;
    config.test_size = 10000;
    config.n_layers = n_sizes;
    memcpy(config.sizes, sizes, (size_t)n_sizes * sizeof *sizes);
    strcpy(config.activation, "sigmoid");
    strcpy(config.output, "sigmoid");
    strcpy(config.cost, "cross-entropy");
    strcpy(config.init, "large");
    config.epochs = epochs;
    config.batch_size = batch;
    config.learning_rate = 0.5;
    config.monitor_train = 0;
    config.seed = 1;
    mlp_error err = {0};
    dataset *data = NULL;
    trainer *t = NULL;
    if (data_load(&config, &data, &err) != MLP_OK || trainer_new(&config, data, &t, &err) != MLP_OK) {
        fprintf(stderr, "mlplab-bench: %s\n", err.message);
        data_free(data);
        return 1;
    }
    double best = 1e30;
    for (int e = 0; e < epochs; e++) {
        double start = now_seconds();
        trainer_epoch(t, 0.5, NULL, &err);
        epoch_metrics row;
        trainer_evaluate(t, &row);
        double elapsed = now_seconds() - start;
        if (elapsed < best)
            best = elapsed;
    }
    *seconds_out = best;
    *gflops_out = epoch_flops(sizes, n_sizes, 50000, 20000) / best / 1e9;
    trainer_free(t);
    data_free(data);
    return 0;
}

int main(int argc, char **argv)
{
    blas_choose_kernels(argv);
    int epochs = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc)
            epochs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--quick") == 0)
            epochs = 1;
        else {
            fprintf(stderr, "usage: mlplab-bench [--epochs N] [--quick]\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    blas_use_one_thread();
    char blas[256];
    blas_describe(blas, sizeof blas);
    printf("BLAS: %s\n", blas);
    printf("dgemm GFLOP/s: 1000x1000x1000 %.1f | batch-10 shapes: 10x30x784 %.1f, "
           "30x784x10 %.1f | batch-100: 100x100x784 %.1f\n",
           dgemm_rate(1000, 1000, 1000, 0), dgemm_rate(10, 30, 784, 1),
           dgemm_rate(30, 784, 10, 0), dgemm_rate(100, 100, 784, 1));
    printf("\n%-14s %6s %12s %10s   (best of %d epochs: train 50,000 + evaluate 20,000, "
           "sigmoid, cross-entropy)\n", "network", "batch", "s/epoch", "GFLOP/s", epochs);
    const int small[] = {784, 30, 10}, large[] = {784, 100, 10};
    const int *nets[] = {small, large};
    const int batches[] = {10, 100};
    for (int n = 0; n < 2; n++)
        for (int b = 0; b < 2; b++) {
            double seconds, gflops;
            if (bench_one(nets[n], 3, batches[b], epochs, &seconds, &gflops) != 0)
                return 4;
            printf("[784,%d,10]%*s %6d %12.3f %10.1f\n", nets[n][1], nets[n][1] < 100 ? 4 : 3,
                   "", batches[b], seconds, gflops);
        }
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    printf("\npeak memory (max RSS): %.1f MB\n", usage.ru_maxrss / 1024.0);
    printf("reference, this machine: network2.py 3.4 s ([784,30,10]) and 9.6 s ([784,100,10]) "
           "per training epoch; PyTorch 1.13 batch 10: 1.1-1.6 s\n");
    return 0;
}
