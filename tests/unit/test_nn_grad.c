/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of create_graph (double backward): the WGAN-GP gradient
 * penalty GP = mean_b (||d sum D(x)/d x_b|| - 1)^2 of a tiny discriminator
 * built like the paper's (3x3 conv, leaky ReLU, average pooling, a 1x1 skip
 * conv added, a 4x4 valid conv, reshape, linear), differentiated w.r.t. the
 * discriminator's parameters and checked against central finite
 * differences of the whole penalty; and the first-order gradient nn_grad
 * returns, checked against finite differences of sum D(x).
 *
 * Tolerance: steps of 2e-3 and 1e-3 on O(1) weights; GP is O(1) and
 * computed in float32 (rounding ~1e-7), so numeric noise is ~1e-4 relative
 * and truncation O(eps^2); 3e-3 catches any missing or wrong second-order
 * term (each contributes tens of percent of the gradient). Samples where
 * the two step sizes disagree crossed a leaky ReLU kink and are skipped
 * (at most a fifth of them may be).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <omp.h>

#include "nn.h"
#include "nn_init.h"
#include "params.h"
#include "rng.h"

enum { W1, B1, WS, BS, W2, B2, WL, BL, NPARAM };

typedef struct Disc {
    Params *p;
    int id[NPARAM];
} Disc;

static void disc_init(Disc *d)
{
    Err err = {0};
    d->p = params_new(nn_backend_cpu(), true, &err);
    assert_non_null(d->p);
    const struct {
        const char *name;
        int ndim;
        int64_t shape[4];
    } spec[NPARAM] = {
        {"w1", 4, {4, 3, 3, 3}}, {"b1", 1, {4}}, {"ws", 4, {4, 3, 1, 1}}, {"bs", 1, {4}},
        {"w2", 4, {2, 4, 4, 4}}, {"b2", 1, {2}}, {"wl", 2, {1, 2}},       {"bl", 1, {1}},
    };
    for (int i = 0; i < NPARAM; i++)
        assert_true((d->id[i] = params_add(d->p, spec[i].name, spec[i].ndim, spec[i].shape, &err)) >= 0);
    assert_true(params_alloc(d->p, &err));
    Rng rng;
    rng_init(&rng, 7);
    for (int i = 0; i < NPARAM; i++) {
        NNVar *v = params_var(d->p, d->id[i]);
        nn_init_uniform(params_data(d->p, d->id[i]), v->value.numel, -0.6, 0.6, &rng);
    }
}

static NNVar *disc_forward(NNGraph *g, Disc *d, NNVar *x)
{
    Params *p = d->p;
    NNVar *h = nn_leaky_relu(g, nn_conv2d(g, x, params_var(p, d->id[W1]), params_var(p, d->id[B1]), 1, 1), 0.2f);
    h = nn_avgpool2(g, h);
    NNVar *skip = nn_conv2d(g, nn_avgpool2(g, x), params_var(p, d->id[WS]), params_var(p, d->id[BS]), 1, 0);
    h = nn_leaky_relu(g, nn_add(g, h, skip), 0.2f);
    h = nn_conv2d(g, h, params_var(p, d->id[W2]), params_var(p, d->id[B2]), 1, 0);  // (N, 2, 1, 1)
    h = nn_reshape(g, h, 2, (int64_t[]){h->value.shape[0], 2});
    return nn_linear(g, h, params_var(p, d->id[WL]), params_var(p, d->id[BL]));    // (N, 1)
}

static float xhat[2 * 3 * 8 * 8];

// GP + 0.5 * mean D(x): the penalty and a plain first-order term together.
static NNVar *penalty(NNGraph *g, Disc *d, NNVar **gx_out)
{
    nn_graph_reset(g);
    NNVar *x = nn_input(g, 4, (int64_t[]){2, 3, 8, 8}, xhat);
    nn_set_requires_grad(x, true);
    NNVar *out = disc_forward(g, d, x);
    NNVar *gx;
    Err err = {0};
    if (!nn_grad(g, out, &x, 1, &gx, &err))
        fail_msg("nn_grad: %s", err.msg);
    if (gx_out)
        *gx_out = gx;
    NNVar *norm = nn_sqrt(g, nn_sum_per_sample(g, nn_square(g, gx)));
    NNVar *gp = nn_mean(g, nn_square(g, nn_affine(g, norm, 1.0f, -1.0f)));
    return nn_axpby(g, 1.0f, gp, 0.5f, nn_mean(g, out));
}

static double scalar(NNGraph *g, NNVar *v)
{
    float f;
    nn_var_download(g, v, &f);
    return f;
}

static double central_difference(NNGraph *g, Disc *d, float *w, float eps)
{
    const float w0 = *w;
    *w = w0 + eps;
    const double lp = scalar(g, penalty(g, d, NULL));
    *w = w0 - eps;
    const double lm = scalar(g, penalty(g, d, NULL));
    *w = w0;
    return (lp - lm) / (2.0 * eps);
}

static void test_gradient_penalty(void **state)
{
    (void)state;
    Err err = {0};
    Rng rng;
    rng_init(&rng, 11);
    for (size_t i = 0; i < sizeof xhat / sizeof xhat[0]; i++)
        xhat[i] = 2.0f * rng_uniform_f32(&rng) - 1.0f;
    Disc d;
    disc_init(&d);
    NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
    assert_non_null(g);
    NNVar *loss = penalty(g, &d, NULL);
    params_zero_grad(d.p);
    assert_true(nn_backward(g, loss, &err));
    int used = 0, skipped = 0;
    double diff_k[NPARAM], all2 = 0;
    for (int k = 0; k < NPARAM; k++) {
        float *w = params_data(d.p, d.id[k]), *gw = params_grad(d.p, d.id[k]);
        const int64_t n = params_var(d.p, d.id[k])->value.numel;
        double diff2 = 0;
        for (int64_t i = 0; i < n && i < 8; i++) {
            const int64_t j = n <= 8 ? i : (int64_t)rng_below(&rng, (uint64_t)n);
            const double fd1 = central_difference(g, &d, w + j, 2e-3f);
            const double fd2 = central_difference(g, &d, w + j, 1e-3f);
            // A step that moves a pre-activation across a leaky ReLU kink
            // changes GP discontinuously; the two step sizes then disagree.
            if (fabs(fd1 - fd2) > 1e-2 * fmax(fabs(fd2), 0.1)) {
                skipped++;
                continue;
            }
            used++;
            all2 += fd1 * fd1;
            diff2 += (fd1 - gw[j]) * (fd1 - gw[j]);
        }
        diff_k[k] = sqrt(diff2);
    }
    // Relative to the norm of all sampled gradients: some parameters have
    // gradients near the float32 noise floor of GP / eps on their own.
    for (int k = 0; k < NPARAM; k++) {
        const double rel = diff_k[k] / sqrt(all2);
        if (!(rel < 3e-3))
            fail_msg("parameter %s: GP gradient differs from finite differences by %.3g", params_name(d.p, d.id[k]),
                     rel);
    }
    if (skipped * 4 > used)
        fail_msg("too many finite differences crossed a kink: %d of %d", skipped, used + skipped);
    nn_graph_free(g);
    params_free(d.p);
}

static void test_first_order_grad(void **state)
{
    (void)state;
    Err err = {0};
    Disc d;
    disc_init(&d);
    NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
    NNVar *gx;
    penalty(g, &d, &gx);
    float ana[2 * 3 * 8 * 8];
    nn_var_download(g, gx, ana);
    const float eps = 1e-3f;
    double num2 = 0, diff2 = 0;
    for (int i = 0; i < 384; i += 7) {
        const float x0 = xhat[i];
        double l[2];
        for (int s = 0; s < 2; s++) {
            xhat[i] = x0 + (s ? -eps : eps);
            nn_graph_reset(g);
            l[s] = scalar(g, nn_sum(g, disc_forward(g, &d, nn_input(g, 4, (int64_t[]){2, 3, 8, 8}, xhat))));
        }
        xhat[i] = x0;
        const double fd = (l[0] - l[1]) / (2.0 * eps);
        num2 += fd * fd;
        diff2 += (fd - ana[i]) * (fd - ana[i]);
    }
    const double rel = sqrt(diff2) / sqrt(num2);
    if (!(rel < 3e-3))
        fail_msg("d sum D / dx differs from finite differences by %.3g", rel);
    nn_graph_free(g);
    params_free(d.p);
}

static void test_unsupported_op(void **state)
{
    (void)state;
    Err err = {0};
    NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
    NNVar *x = nn_input(g, 4, (int64_t[]){1, 1, 2, 2}, (float[]){1, 2, 3, 4});
    nn_set_requires_grad(x, true);
    NNVar *y = nn_maxpool2(g, nn_tanh(g, x)), *gx;
    assert_false(nn_grad(g, y, &x, 1, &gx, &err));
    assert_non_null(strstr(err.msg, "does not support create_graph"));
    nn_graph_free(g);
}

int main(void)
{
    // Tiny tensors: threads would only add start-up cost (the kernels give
    // the same bits for any thread count, see test_nn_train).
    omp_set_num_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradient_penalty),
        cmocka_unit_test(test_first_order_grad),
        cmocka_unit_test(test_unsupported_op),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
