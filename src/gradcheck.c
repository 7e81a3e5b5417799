/* gradcheck.c — see gradcheck.h. */
#include "gradcheck.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

void gradcheck_defaults(gradcheck_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->sizes[0] = 20;
    spec->sizes[1] = 10;
    spec->sizes[2] = 5;
    spec->n_sizes = 3;
    spec->hidden = activation_find("sigmoid");
    spec->output = activation_find("sigmoid");
    spec->cost = cost_find("cross-entropy");
    spec->seed = 1;
    spec->examples = 8;
    spec->epsilon = 1e-5;
    spec->tolerance = 1e-4;
}

static double batch_cost(const mlp_net *net, const cost *c, net_workspace *ws, const double *x,
                         const double *y, size_t rows)
{
    net_forward(net, ws, x, rows);
    size_t last = net->n_layers - 1;
    return cost_total(c, net->output, ws->z[last], ws->a[last], y, rows,
                      net->sizes[net->n_layers]);
}

static double relative_error(double analytic, double numeric)
{
    double scale = fabs(analytic) + fabs(numeric);
    return fabs(analytic - numeric) / (scale > 1e-8 ? scale : 1e-8);
}

/* Largest relative error over one parameter array, each entry nudged ±ε. */
static double check_parameters(const mlp_net *net, const gradcheck_spec *spec,
                               net_workspace *ws, const double *x, const double *y,
                               double *parameters, const double *analytic, size_t count)
{
    double worst = 0.0;
    for (size_t i = 0; i < count; i++) {
        double saved = parameters[i];
        parameters[i] = saved + spec->epsilon;
        double plus = batch_cost(net, spec->cost, ws, x, y, spec->examples);
        parameters[i] = saved - spec->epsilon;
        double minus = batch_cost(net, spec->cost, ws, x, y, spec->examples);
        parameters[i] = saved;
        double numeric = (plus - minus) / (2.0 * spec->epsilon);
        double error = relative_error(analytic[i], numeric);
        if (!(error <= worst))      /* NaN counts as the worst */
            worst = isnan(error) ? INFINITY : error;
    }
    return worst;
}

int gradcheck_run(const gradcheck_spec *spec, gradcheck_result *out, mlp_error *err)
{
    memset(out, 0, sizeof *out);
    size_t n_in = spec->sizes[0], n_out = spec->sizes[spec->n_sizes - 1];
    mlp_net *net = net_new(spec->sizes, spec->n_sizes, spec->hidden, spec->output, err);
    if (net == NULL)
        return err ? err->status : MLP_ERR_RUN;
    net_workspace *ws = net_workspace_new(net, spec->examples, err);
    net_gradients *grads = net_gradients_new(net, err);
    double *x = malloc(spec->examples * n_in * sizeof *x);
    double *y = calloc(spec->examples * n_out, sizeof *y);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    int status = MLP_OK;
    if (ws == NULL || grads == NULL || x == NULL || y == NULL || rng == NULL) {
        status = err && err->status ? err->status : mlp_error_nomem(err, "the gradient check");
        goto done;
    }
    gsl_rng_set(rng, spec->seed);
    /* Scaled initialization keeps hidden units out of saturation, so the check
     * measures the formulas, not the rounding of flat regions. */
    net_init_random(net, init_find("scaled"), rng);
    for (size_t i = 0; i < spec->examples * n_in; i++)
        x[i] = gsl_rng_uniform(rng);
    for (size_t r = 0; r < spec->examples; r++)   /* one-hot targets, as for classification */
        y[r * n_out + gsl_rng_uniform_int(rng, n_out)] = 1.0;

    out->cost = batch_cost(net, spec->cost, ws, x, y, spec->examples) / (double)spec->examples;
    net_forward(net, ws, x, spec->examples);
    net_backward(net, spec->cost, ws, x, y, spec->examples, grads);
    out->n_layers = net->n_layers;
    out->passed = 1;
    for (size_t k = 0; k < net->n_layers; k++) {
        size_t rows = net->sizes[k + 1], cols = net->sizes[k];
        double w = check_parameters(net, spec, ws, x, y, net->weights_t[k], grads->weights_t[k],
                                    rows * cols);
        double b = check_parameters(net, spec, ws, x, y, net->biases[k], grads->biases[k], rows);
        out->max_relative_error[k] = w > b ? w : b;
        if (out->max_relative_error[k] > out->worst)
            out->worst = out->max_relative_error[k];
        if (!(out->max_relative_error[k] < spec->tolerance))
            out->passed = 0;
    }
done:
    gsl_rng_free(rng);
    free(y);
    free(x);
    net_gradients_free(grads);
    net_workspace_free(ws);
    net_free(net);
    return status;
}
