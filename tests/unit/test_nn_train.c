/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the training machinery: Params (views, save/load, errors),
 * Adam (torch 1.4 formula) and SGD against double-precision references,
 * the initialisers' distributions, and bit-for-bit repeatability of whole
 * training steps across runs and thread counts.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <omp.h>

#include "nn.h"
#include "nn_init.h"
#include "nn_loss.h"
#include "nn_optim.h"
#include "params.h"
#include "rng.h"
#include "vgg.h"

static Params *two_params(int64_t n0, int64_t n1)
{
    Err err = {0};
    Params *p = params_new(nn_backend_cpu(), true, &err);
    assert_non_null(p);
    assert_int_equal(params_add(p, "a", 1, &n0, &err), 0);
    assert_int_equal(params_add(p, "b.weight", 2, (int64_t[]){n1, 1}, &err), 1);
    assert_true(params_alloc(p, &err));
    return p;
}

static void test_params_layout(void **state)
{
    (void)state;
    Err err = {0};
    Params *p = two_params(5, 3);
    assert_int_equal(params_elements(p), 8);
    assert_true(params_block_floats(p) >= 8);
    assert_int_equal(((uintptr_t)params_data(p, 1)) % 64, 0);
    assert_ptr_equal(params_var(p, 1)->value.data, params_data(p, 1));
    assert_int_equal(params_find(p, "b.weight"), 1);
    assert_int_equal(params_find(p, "c"), -1);
    assert_int_equal(params_add(p, "late", 1, (int64_t[]){1}, &err), -1);
    assert_non_null(strstr(err.msg, "after allocation"));
    params_grad(p, 1)[2] = 3.0f;
    params_scale_grad(p, -0.5f);
    assert_true(params_grad(p, 1)[2] == -1.5f && params_grad(p, 0)[0] == 0.0f);
    params_zero_grad(p);
    assert_true(params_grad(p, 1)[2] == 0.0f);
    params_free(p);

    err_clear(&err);
    p = params_new(nn_backend_cpu(), true, &err);
    assert_int_equal(params_add(p, "x", 1, (int64_t[]){2}, &err), 0);
    assert_int_equal(params_add(p, "x", 1, (int64_t[]){2}, &err), -1);
    assert_non_null(strstr(err.msg, "declared twice"));
    params_free(p);
}

static void test_params_save_load(void **state)
{
    (void)state;
    Err err = {0};
    char path[] = "/tmp/adkit-params-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    Params *p = two_params(5, 3);
    for (int i = 0; i < 5; i++)
        params_data(p, 0)[i] = (float)i + 0.5f;
    for (int i = 0; i < 3; i++)
        params_data(p, 1)[i] = -(float)i;
    TStreamWriter *w = tstream_create(path, &err);
    assert_non_null(w);
    assert_true(params_save(p, w, &err));
    assert_true(tstream_writer_commit(w, &err));

    // Declared in another order: records are matched by name.
    Params *q = params_new(nn_backend_cpu(), false, &err);
    params_add(q, "b.weight", 2, (int64_t[]){3, 1}, &err);
    params_add(q, "a", 1, (int64_t[]){5}, &err);
    assert_true(params_alloc(q, &err));
    TStreamReader *r = tstream_open(path, &err);
    assert_true(params_load(q, r, &err));
    tstream_close(r);
    assert_memory_equal(params_data(q, 1), params_data(p, 0), 5 * sizeof(float));
    assert_memory_equal(params_data(q, 0), params_data(p, 1), 3 * sizeof(float));
    params_free(q);

    // A shape mismatch names the parameter and both shapes.
    q = params_new(nn_backend_cpu(), false, &err);
    params_add(q, "a", 1, (int64_t[]){4}, &err);
    assert_true(params_alloc(q, &err));
    r = tstream_open(path, &err);
    assert_false(params_load(q, r, &err));
    assert_non_null(strstr(err.msg, "a: (4) f32 expected, the file has (5) f32"));
    tstream_close(r);
    params_free(q);

    // A missing parameter is named.
    err_clear(&err);
    q = params_new(nn_backend_cpu(), false, &err);
    params_add(q, "zz", 1, (int64_t[]){4}, &err);
    assert_true(params_alloc(q, &err));
    r = tstream_open(path, &err);
    assert_false(params_load(q, r, &err));
    assert_non_null(strstr(err.msg, "parameter zz is missing"));
    tstream_close(r);
    params_free(q);
    params_free(p);
    unlink(path);
}

// torch 1.4 Adam in double: eps is added to sqrt(v) / sqrt(1 - beta2^t).
static void test_adam_reference(void **state)
{
    (void)state;
    Err err = {0};
    Params *p = two_params(4, 2);
    const double lr = 1e-3, b1 = 0.5, b2 = 0.99, eps = 1e-8;
    NNAdam adam;
    assert_true(nn_adam_init(&adam, p, lr, b1, b2, eps, &err));
    double w[6] = {0.3, -0.2, 1.0, 0.0, 2.0, -1.0}, m[6] = {0}, v[6] = {0};
    // Tiny gradients make eps matter: sqrt(v)/sqrt(bc2) is ~1e-8 as well.
    const double gs[3][6] = {{1e-8, -2e-8, 0.5, 0, 3, -1e-3},
                             {2e-8, -1e-8, -0.5, 1e-9, 3, 2e-3},
                             {1e-8, 3e-8, 0.25, 0, -1, 1e-3}};
    for (int i = 0; i < 4; i++)
        params_data(p, 0)[i] = (float)w[i];
    for (int i = 0; i < 2; i++)
        params_data(p, 1)[i] = (float)w[4 + i];
    for (int t = 1; t <= 3; t++) {
        for (int i = 0; i < 4; i++)
            params_grad(p, 0)[i] = (float)gs[t - 1][i];
        for (int i = 0; i < 2; i++)
            params_grad(p, 1)[i] = (float)gs[t - 1][4 + i];
        nn_adam_step(&adam);
        for (int i = 0; i < 6; i++) {
            const double g = (float)gs[t - 1][i];
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            const double denom = sqrt(v[i]) / sqrt(1 - pow(b2, t)) + eps;
            w[i] -= lr / (1 - pow(b1, t)) * m[i] / denom;
        }
    }
    for (int i = 0; i < 6; i++) {
        const float got = i < 4 ? params_data(p, 0)[i] : params_data(p, 1)[i - 4];
        assert_true(fabs(got - w[i]) <= 1e-6 * fmax(1.0, fabs(w[i])));
    }
    nn_adam_reset(&adam);
    assert_int_equal(adam.t, 0);
    nn_adam_fini(&adam);
    params_free(p);
}

static void test_sgd_reference(void **state)
{
    (void)state;
    Err err = {0};
    Params *p = two_params(1, 1);
    NNSgd sgd;
    assert_true(nn_sgd_init(&sgd, p, 0.1, 0.9, &err));
    double w = 1.0, buf = 0;
    params_data(p, 0)[0] = 1.0f;
    const double gs[3] = {0.5, -0.25, 1.0};
    for (int t = 0; t < 3; t++) {
        params_grad(p, 0)[0] = (float)gs[t];
        nn_sgd_step(&sgd);
        buf = t == 0 ? gs[t] : 0.9 * buf + gs[t];
        w -= 0.1 * buf;
    }
    assert_true(fabs(params_data(p, 0)[0] - w) < 1e-6);
    nn_sgd_fini(&sgd);
    params_free(p);
}

static void test_init_distributions(void **state)
{
    (void)state;
    enum { N = 40000 };
    static float a[N], b[N];
    Rng rng;
    rng_init(&rng, 5);
    // spec 3.4: std = 1.3867504905630728 / sqrt(fan_out)
    const double gain = nn_init_gain_leaky_relu(0.2);
    assert_true(fabs(gain - 1.3867504905630728) < 1e-15);
    nn_init_kaiming_normal(a, N, gain, 64 * 9, &rng);
    double s2 = 0;
    for (int i = 0; i < N; i++)
        s2 += (double)a[i] * a[i];
    const double want = gain / sqrt(64.0 * 9);
    assert_true(fabs(sqrt(s2 / N) / want - 1.0) < 0.02);
    // torch default conv init: U(+-1/sqrt(fan_in)) for weights and biases
    nn_init_torch_default_weight(a, N, 27, &rng);
    double amax = 0;
    for (int i = 0; i < N; i++)
        amax = fmax(amax, fabs(a[i]));
    assert_true(amax <= 1.0 / sqrt(27.0) && amax > 0.99 / sqrt(27.0));
    nn_init_xavier_uniform(a, N, 1.0, 27, 36, &rng);
    amax = 0;
    for (int i = 0; i < N; i++)
        amax = fmax(amax, fabs(a[i]));
    const double bound = sqrt(6.0 / 63.0);
    assert_true(amax <= bound && amax > 0.99 * bound);
    // Same seed, same bits.
    Rng r1, r2;
    rng_init(&r1, 99);
    rng_init(&r2, 99);
    nn_init_kaiming_normal(a, N, 1.0, 10, &r1);
    nn_init_kaiming_normal(b, N, 1.0, 10, &r2);
    assert_memory_equal(a, b, sizeof a);
}

/* A 2-layer conv autoencoder step, large enough for the kernels to split
 * work across threads; returns the parameters after 3 Adam steps. */
static void train_three_steps(float *out_params, int64_t *n_out)
{
    Err err = {0};
    NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
    Params *p = params_new(nn_backend_cpu(), true, &err);
    int w1 = params_add(p, "w1", 4, (int64_t[]){8, 3, 3, 3}, &err);
    int b1 = params_add(p, "b1", 1, (int64_t[]){8}, &err);
    int w2 = params_add(p, "w2", 4, (int64_t[]){3, 8, 3, 3}, &err);
    int b2 = params_add(p, "b2", 1, (int64_t[]){3}, &err);
    assert_true(params_alloc(p, &err));
    Rng rng;
    rng_init(&rng, 42);
    nn_init_kaiming_normal(params_data(p, w1), 216, nn_init_gain_leaky_relu(0.2), 8 * 9, &rng);
    nn_init_torch_default_bias(params_data(p, b1), 8, 27, &rng);
    nn_init_kaiming_normal(params_data(p, w2), 216, nn_init_gain_leaky_relu(0.2), 3 * 9, &rng);
    nn_init_torch_default_bias(params_data(p, b2), 3, 72, &rng);
    NNAdam adam;
    assert_true(nn_adam_init(&adam, p, 1e-2, 0.9, 0.999, 1e-8, &err));
    const int64_t shape[4] = {16, 3, 32, 32};
    float *x = malloc(16 * 3 * 32 * 32 * sizeof *x);
    for (int i = 0; i < 16 * 3 * 32 * 32; i++)
        x[i] = 2.0f * rng_uniform_f32(&rng) - 1.0f;
    for (int step = 0; step < 3; step++) {
        nn_graph_reset(g);
        NNVar *in = nn_input(g, 4, shape, x);
        NNVar *h = nn_leaky_relu(g, nn_conv2d(g, in, params_var(p, w1), params_var(p, b1), 1, 1), 0.2f);
        h = nn_upsample_nearest2(g, nn_avgpool2(g, h));
        NNVar *y = nn_conv2d(g, h, params_var(p, w2), params_var(p, b2), 1, 1);
        NNVar *loss = nn_compose_loss(g, 1.0f, nn_l1_loss(g, in, y, NN_REDUCE_MEAN), 0.5f,
                                      nn_l2_loss(g, in, y, NN_REDUCE_MEAN));
        params_zero_grad(p);
        assert_true(nn_backward(g, loss, &err));
        nn_adam_step(&adam);
    }
    *n_out = params_block_floats(p);
    memcpy(out_params, params_values(p), (size_t)*n_out * sizeof(float));
    free(x);
    nn_adam_fini(&adam);
    params_free(p);
    nn_graph_free(g);
}

static void test_repeatable_across_threads(void **state)
{
    (void)state;
    static float a[1024], b[1024], c[1024];
    int64_t na, nb, nc;
    omp_set_num_threads(1);
    train_three_steps(a, &na);
    omp_set_num_threads(2);
    train_three_steps(b, &nb);
    train_three_steps(c, &nc);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, (size_t)na * sizeof(float));
    assert_memory_equal(b, c, (size_t)nb * sizeof(float));
}

// Evaluation mode records no gradient: the same values, nothing to backprop.
static void test_no_grad_mode(void **state)
{
    (void)state;
    Err err = {0};
    Params *p = two_params(3, 3);
    for (int i = 0; i < 3; i++)
        params_data(p, 0)[i] = (float)i - 1.0f;
    NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
    float with_grad, without;
    NNVar *x = nn_input(g, 1, (int64_t[]){3}, (float[]){0.5f, -2.0f, 4.0f});
    NNVar *loss = nn_mean(g, nn_abs(g, nn_sub(g, x, params_var(p, 0))));
    assert_true(loss->requires_grad);
    nn_var_download(g, loss, &with_grad);
    nn_graph_reset(g);
    nn_graph_set_grad(g, false);
    x = nn_input(g, 1, (int64_t[]){3}, (float[]){0.5f, -2.0f, 4.0f});
    loss = nn_mean(g, nn_abs(g, nn_sub(g, x, params_var(p, 0))));
    assert_false(loss->requires_grad);
    nn_var_download(g, loss, &without);
    assert_true(with_grad == without);
    params_zero_grad(p);
    assert_true(nn_backward(g, loss, &err));
    for (int i = 0; i < 3; i++)
        assert_true(params_grad(p, 0)[i] == 0.0f);
    nn_graph_free(g);
    params_free(p);
}

static void test_vgg_bad_weights(void **state)
{
    (void)state;
    Err err = {0};
    NamedArrays a = {0};
    float w[3] = {0};
    NamedArray item = {.name = "classifier.0.weight", .ndim = 1, .dims = {3}, .data = w};
    a.items = &item;
    a.count = 1;
    assert_null(vgg_new(nn_backend_cpu(), &a, "model.pth", &err));
    assert_non_null(strstr(err.msg, "model.pth: neither a torchvision VGG19"));
    // A conv with the wrong shape names the key.
    err_clear(&err);
    float b[64] = {0};
    NamedArray two[2] = {{.name = "features.0.weight", .ndim = 4, .dims = {64, 1, 3, 3}, .data = w},
                         {.name = "features.0.bias", .ndim = 1, .dims = {64}, .data = b}};
    a.items = two;
    a.count = 2;
    assert_null(vgg_new(nn_backend_cpu(), &a, "model.pth", &err));
    assert_non_null(strstr(err.msg, "features.0.weight is not a 3x3 convolution 3 -> 64"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_layout),      cmocka_unit_test(test_params_save_load),
        cmocka_unit_test(test_adam_reference),     cmocka_unit_test(test_sgd_reference),
        cmocka_unit_test(test_init_distributions), cmocka_unit_test(test_repeatable_across_threads),
        cmocka_unit_test(test_no_grad_mode),       cmocka_unit_test(test_vgg_bad_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
