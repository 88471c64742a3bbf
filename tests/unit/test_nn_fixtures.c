/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The nn engine against PyTorch: every op's output and input gradients, a
 * 2-layer conv net trained two Adam steps, the relative perceptual L1 loss
 * (values, gradient, pixelwise map) on a VGG19 with formula weights, a
 * WGAN-GP penalty's parameter gradients (double backward), and, when the
 * shared weights are present, the loss on the normalised VGG19 prefix.
 * Reference values: tests/fixtures/nn/nn.ts, written by make_fixtures.py
 * beside it.
 *
 * Tolerance: per tensor, ||ours - torch|| / ||torch|| < 1e-4. Both sides
 * compute in float32 with different summation orders (our reductions run in
 * double, torch's conv and sums vectorise differently): that leaves errors
 * of ~1e-7 per operation, ~1e-6 after the 10 convolutions of VGG up to
 * conv4_2 and the divisions of the relative loss; 1e-4 keeps a 100x
 * margin while any semantic difference (padding, interpolation
 * coordinates, eps placement, a missing 1/N) shows up at 1e-3 or more.
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
#include "nn_loss.h"
#include "nn_optim.h"
#include "params.h"
#include "torchload.h"
#include "tstream.h"
#include "vgg.h"

#define FIXTURE_VERSION 1
#define TOL 1e-4

static TRecord *recs;
static int nrecs;

static int load_fixtures(void **state)
{
    (void)state;
    const char *top = getenv("ADKIT_TOP");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/nn/nn.ts", top ? top : ".");
    Err err = {0};
    TStreamReader *r = tstream_open(path, &err);
    if (!r) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    int got;
    recs = calloc(512, sizeof *recs);
    for (;;) {
        trecord_init(&recs[nrecs]);
        got = tstream_read(r, &recs[nrecs], &err);
        if (got != 1)
            break;
        if (++nrecs == 512)
            break;
    }
    tstream_close(r);
    if (got < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static int free_fixtures(void **state)
{
    (void)state;
    for (int i = 0; i <= nrecs && i < 512; i++)
        trecord_fini(&recs[i]);
    free(recs);
    return 0;
}

static const TRecord *fx(const char *name)
{
    for (int i = 0; i < nrecs; i++) {
        const char *n = trecord_meta_get(&recs[i], "name");
        if (n && !strcmp(n, name))
            return &recs[i];
    }
    return NULL;
}

static const TRecord *need(const char *name)
{
    const TRecord *r = fx(name);
    if (!r)
        fail_msg("fixture %s is missing: regenerate with tests/fixtures/nn/make_fixtures.py", name);
    return r;
}

static NNVar *input_of(NNGraph *g, const char *name, bool grad)
{
    const TRecord *r = need(name);
    NNVar *v = nn_input(g, r->ndim, r->dims, r->data);
    nn_set_requires_grad(v, grad);
    return v;
}

static void compare(const char *what, const float *ours, const char *ref_name)
{
    const TRecord *r = need(ref_name);
    const float *ref = r->data;
    double d2 = 0, r2 = 0;
    for (int64_t i = 0; i < trecord_elements(r); i++) {
        d2 += ((double)ours[i] - ref[i]) * ((double)ours[i] - ref[i]);
        r2 += (double)ref[i] * ref[i];
    }
    const double rel = sqrt(d2) / fmax(sqrt(r2), 1e-30);
    if (!(rel < TOL))
        fail_msg("%s differs from PyTorch (%s): relative error %.3g", what, ref_name, rel);
}

static void compare_var(NNGraph *g, NNVar *v, bool grad, const char *ref_name)
{
    const TRecord *r = need(ref_name);
    if (trecord_elements(r) != v->value.numel)
        fail_msg("%s: %lld elements, PyTorch has %lld", ref_name, (long long)v->value.numel,
                 (long long)trecord_elements(r));
    float *h = malloc((size_t)v->value.numel * sizeof *h);
    if (grad)
        nn_var_grad_download(g, v, h);
    else
        nn_var_download(g, v, h);
    compare(ref_name, h, ref_name);
    free(h);
}

static void test_version(void **state)
{
    (void)state;
    const TRecord *v = need("version");
    const float got = *(const float *)v->data;
    if (got != FIXTURE_VERSION)
        fail_msg("fixture version %g, this test expects %d: regenerate with tests/fixtures/nn/make_fixtures.py", got,
                 FIXTURE_VERSION);
}

/* ---- ops ---- */

typedef NNVar *(*OpFn)(NNGraph *g, NNVar **in);

static NNVar *f_conv_p1(NNGraph *g, NNVar **in) { return nn_conv2d(g, in[0], in[1], in[2], 1, 1); }
static NNVar *f_conv_s2(NNGraph *g, NNVar **in) { return nn_conv2d(g, in[0], in[1], in[2], 2, 0); }
static NNVar *f_conv_p3(NNGraph *g, NNVar **in) { return nn_conv2d(g, in[0], in[1], in[2], 1, 3); }
static NNVar *f_conv_p0(NNGraph *g, NNVar **in) { return nn_conv2d(g, in[0], in[1], in[2], 1, 0); }
static NNVar *f_linear(NNGraph *g, NNVar **in) { return nn_linear(g, in[0], in[1], in[2]); }
static NNVar *f_reflect(NNGraph *g, NNVar **in) { return nn_reflect_pad(g, in[0], 2); }
static NNVar *f_avgpool(NNGraph *g, NNVar **in) { return nn_avgpool2(g, in[0]); }
static NNVar *f_maxpool(NNGraph *g, NNVar **in) { return nn_maxpool2(g, in[0]); }
static NNVar *f_upsample(NNGraph *g, NNVar **in) { return nn_upsample_nearest2(g, in[0]); }
static NNVar *f_bilinear_up(NNGraph *g, NNVar **in) { return nn_bilinear(g, in[0], 11, 16); }
static NNVar *f_bilinear_down(NNGraph *g, NNVar **in) { return nn_downscale_bilinear(g, in[0], 4); }
static NNVar *f_lrelu(NNGraph *g, NNVar **in) { return nn_leaky_relu(g, in[0], 0.2f); }
static NNVar *f_relu(NNGraph *g, NNVar **in) { return nn_relu(g, in[0]); }
static NNVar *f_tanh(NNGraph *g, NNVar **in) { return nn_tanh(g, in[0]); }
static NNVar *f_sigmoid(NNGraph *g, NNVar **in) { return nn_sigmoid(g, in[0]); }
static NNVar *f_fadein(NNGraph *g, NNVar **in) { return nn_fadein(g, in[0], in[1], 0.3f); }
static NNVar *f_softmax_ce(NNGraph *g, NNVar **in)
{
    static const int32_t labels[3] = {2, 0, 4};
    return nn_softmax_cross_entropy(g, in[0], labels);
}
static float bn_rm[3], bn_rv[3];
static NNVar *f_batchnorm(NNGraph *g, NNVar **in)
{
    for (int c = 0; c < 3; c++)
        bn_rm[c] = 0.1f, bn_rv[c] = 1.5f;
    return nn_batchnorm2d(g, in[0], in[1], in[2], bn_rm, bn_rv, true, 0.1f, 1e-5f);
}

static void run_op(const char *name, int nin, OpFn f)
{
    Err err = {0};
    NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
    NNVar *in[4];
    char key[128];
    for (int i = 0; i < nin; i++) {
        snprintf(key, sizeof key, "%s/in%d", name, i);
        in[i] = input_of(g, key, true);
    }
    NNVar *y = f(g, in);
    if (!y || !nn_graph_ok(g, &err))
        fail_msg("%s: %s", name, err.msg);
    snprintf(key, sizeof key, "%s/out", name);
    compare_var(g, y, false, key);
    snprintf(key, sizeof key, "%s/gout", name);
    const TRecord *gout = need(key);
    assert_true(nn_backward_seeded(g, y, gout->data, &err));
    for (int i = 0; i < nin; i++) {
        snprintf(key, sizeof key, "%s/din%d", name, i);
        compare_var(g, in[i], true, key);
    }
    nn_graph_free(g);
}

static void test_ops(void **state)
{
    (void)state;
    run_op("conv3x3", 3, f_conv_p1);
    run_op("conv4x4s2", 3, f_conv_s2);
    run_op("conv4x4p3", 3, f_conv_p3);
    run_op("conv1x1", 3, f_conv_p0);
    run_op("linear", 3, f_linear);
    run_op("reflect_pad", 1, f_reflect);
    run_op("avgpool2", 1, f_avgpool);
    run_op("maxpool2", 1, f_maxpool);
    run_op("upsample2", 1, f_upsample);
    run_op("bilinear_up", 1, f_bilinear_up);
    run_op("bilinear_down4", 1, f_bilinear_down);
    run_op("leaky_relu", 1, f_lrelu);
    run_op("relu", 1, f_relu);
    run_op("tanh", 1, f_tanh);
    run_op("sigmoid", 1, f_sigmoid);
    run_op("fadein", 2, f_fadein);
    run_op("softmax_ce", 1, f_softmax_ce);
    run_op("batchnorm_train", 3, f_batchnorm);
    compare("batch-norm running mean", bn_rm, "batchnorm_train/running_mean");
    compare("batch-norm running var", bn_rv, "batchnorm_train/running_var");
}

/* ---- a 2-layer net, two Adam steps ---- */

static void test_net_adam(void **state)
{
    (void)state;
    Err err = {0};
    NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
    Params *p = params_new(nn_backend_cpu(), true, &err);
    const char *names[4] = {"w1", "b1", "w2", "b2"};
    int id[4];
    char key[64];
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "net/%s_init", names[i]);
        const TRecord *r = need(key);
        id[i] = params_add(p, names[i], r->ndim, r->dims, &err);
    }
    assert_true(params_alloc(p, &err));
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "net/%s_init", names[i]);
        params_upload(p, id[i], need(key)->data);
    }
    NNAdam adam;
    assert_true(nn_adam_init(&adam, p, 1e-2, 0.9, 0.999, 1e-8, &err));
    for (int step = 0; step < 2; step++) {
        nn_graph_reset(g);
        NNVar *x = input_of(g, "net/x", false);
        NNVar *h = nn_leaky_relu(g, nn_conv2d(g, x, params_var(p, id[0]), params_var(p, id[1]), 1, 1), 0.2f);
        h = nn_upsample_nearest2(g, nn_avgpool2(g, h));
        NNVar *y = nn_conv2d(g, h, params_var(p, id[2]), params_var(p, id[3]), 1, 1);
        NNVar *loss = nn_l1_loss(g, x, y, NN_REDUCE_MEAN);
        params_zero_grad(p);
        assert_true(nn_backward(g, loss, &err));
        snprintf(key, sizeof key, "net/loss%d", step);
        compare_var(g, loss, false, key);
        nn_adam_step(&adam);
    }
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "net/%s_after", names[i]);
        compare(key, params_data(p, id[i]), key);
    }
    nn_adam_fini(&adam);
    params_free(p);
    nn_graph_free(g);
}

/* ---- relative perceptual L1 on a formula-weighted VGG19 ---- */

static const int vgg_convs[10][2] = {{3, 64},    {64, 64},   {64, 128},  {128, 128}, {128, 256},
                                     {256, 256}, {256, 256}, {256, 256}, {256, 512}, {512, 512}};
static const int tv_index[10] = {0, 2, 5, 7, 10, 12, 14, 16, 19, 21};

static void add_array(NamedArrays *a, const char *name, int ndim, const int64_t *dims, float *data)
{
    a->items = realloc(a->items, (a->count + 1) * sizeof *a->items);
    NamedArray *n = &a->items[a->count++];
    memset(n, 0, sizeof *n);
    n->name = strdup(name);
    n->ndim = ndim;
    memcpy(n->dims, dims, (size_t)ndim * sizeof *dims);
    n->data = data;
}

// The same formulas as make_fixtures.py (double sin/cos rounded to float).
static void formula_vgg(NamedArrays *w, NamedArrays *stats)
{
    char name[64];
    for (int k = 0; k < 10; k++) {
        const int ic = vgg_convs[k][0], oc = vgg_convs[k][1];
        const int64_t n = (int64_t)oc * ic * 9;
        float *wd = malloc((size_t)n * sizeof *wd), *bd = malloc((size_t)oc * sizeof *bd);
        for (int64_t i = 0; i < n; i++)
            wd[i] = (float)(sin(0.7 * (double)i + 0.3 * k) * sqrt(2.0 / (ic * 9)));
        for (int j = 0; j < oc; j++)
            bd[j] = (float)(0.05 * cos(1.3 * j + k));
        snprintf(name, sizeof name, "features.%d.weight", tv_index[k]);
        add_array(w, name, 4, (int64_t[]){oc, ic, 3, 3}, wd);
        snprintf(name, sizeof name, "features.%d.bias", tv_index[k]);
        add_array(w, name, 1, (int64_t[]){oc}, bd);
    }
    const char *taps[2] = {"r22", "r42"};
    const int chans[2] = {128, 512};
    for (int k = 0; k < 2; k++) {
        float *m = malloc((size_t)chans[k] * sizeof *m), *v = malloc((size_t)chans[k] * sizeof *v);
        for (int j = 0; j < chans[k]; j++) {
            m[j] = (float)(0.1 * sin((double)j + k));
            v[j] = (float)(1.0 + 0.5 * cos((double)j) * cos((double)j));
        }
        snprintf(name, sizeof name, "%s.0", taps[k]);
        add_array(stats, name, 4, (int64_t[]){1, chans[k], 1, 1}, m);
        snprintf(name, sizeof name, "%s.1", taps[k]);
        add_array(stats, name, 4, (int64_t[]){1, chans[k], 1, 1}, v);
    }
}

static void test_relative_perceptual(void **state)
{
    (void)state;
    Err err = {0};
    NamedArrays w = {0}, stats = {0};
    formula_vgg(&w, &stats);
    Vgg *vgg = vgg_new(nn_backend_cpu(), &w, "formula-vgg19", &err);
    if (!vgg)
        fail_msg("%s", err.msg);
    assert_int_equal(vgg_weights(vgg), VGG_TORCHVISION);
    assert_int_equal(vgg_deepest_tap(vgg), VGG_R42);
    NNPerceptualLoss pl;
    NNLossLayer layers[2] = {{VGG_R22, 1.0f}, {VGG_R42, 0.5f}};
    if (!nn_perceptual_init(&pl, vgg, &stats, layers, 2, 0.0f, NN_RELATIVE_PERCEPTUAL_L1, &err))
        fail_msg("%s", err.msg);
    NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
    NNVar *real = input_of(g, "perc/real", false), *rec = input_of(g, "perc/rec", true);
    NNVar *none = nn_perceptual_loss(g, &pl, real, rec, NN_REDUCE_NONE);
    NNVar *mean = nn_mean(g, none);
    assert_true(nn_backward(g, mean, &err));
    compare_var(g, none, false, "perc/loss_none");
    compare_var(g, rec, true, "perc/drec_mean");
    // The real image's features are computed and their intermediates
    // rewound (nothing differentiates through them); with a gradient
    // through the real image too, every intermediate is kept: the same
    // bits, and a higher peak of activation memory.
    {
        const int64_t n = none->value.numel, nr = rec->value.numel;
        float *loss_a = malloc((size_t)n * sizeof *loss_a), *loss_b = malloc((size_t)n * sizeof *loss_b);
        float *drec_a = malloc((size_t)nr * sizeof *drec_a), *drec_b = malloc((size_t)nr * sizeof *drec_b);
        nn_var_download(g, none, loss_a);
        nn_var_grad_download(g, rec, drec_a);
        NNGraph *g2 = nn_graph_new(nn_backend_cpu(), &err);
        NNVar *real2 = input_of(g2, "perc/real", true), *rec2 = input_of(g2, "perc/rec", true);
        NNVar *none2 = nn_perceptual_loss(g2, &pl, real2, rec2, NN_REDUCE_NONE);
        assert_true(nn_backward(g2, nn_mean(g2, none2), &err));
        nn_var_download(g2, none2, loss_b);
        nn_var_grad_download(g2, rec2, drec_b);
        assert_memory_equal(loss_a, loss_b, (size_t)n * sizeof *loss_a);
        assert_memory_equal(drec_a, drec_b, (size_t)nr * sizeof *drec_a);
        assert_true(nn_graph_arena_bytes(g) < nn_graph_arena_bytes(g2));
        nn_graph_free(g2);
        free(loss_a), free(loss_b), free(drec_a), free(drec_b);
    }
    nn_perceptual_fini(&pl);

    // 'pixelwise': one layer, channel mean, bilinear up to 16 x 16.
    nn_graph_reset(g);
    assert_true(nn_perceptual_init(&pl, vgg, &stats, layers, 1, 0.0f, NN_RELATIVE_PERCEPTUAL_L1, &err));
    real = input_of(g, "perc/real", false);
    rec = input_of(g, "perc/rec", false);
    NNVar *map = nn_perceptual_loss(g, &pl, real, rec, NN_REDUCE_PIXELWISE);
    assert_non_null(map);
    assert_int_equal(map->value.shape[1], 1);
    assert_int_equal(map->value.shape[2], 16);
    compare_var(g, map, false, "perc/pixelwise");
    nn_perceptual_fini(&pl);

    // A tap deeper than the weights is an error naming it and the file.
    NNLossLayer deep = {VGG_R51, 1.0f};
    assert_false(nn_perceptual_init(&pl, vgg, &stats, &deep, 1, 0.0f, NN_RELATIVE_PERCEPTUAL_L1, &err));
    assert_non_null(strstr(err.msg, "r51 is not available in formula-vgg19 (deepest: r42)"));
    nn_graph_free(g);
    vgg_free(vgg);
    named_arrays_fini(&w);
    named_arrays_fini(&stats);
}

/* ---- WGAN-GP penalty gradients ---- */

static void test_gradient_penalty(void **state)
{
    (void)state;
    Err err = {0};
    const char *names[8] = {"w1", "b1", "ws", "bs", "w2", "b2", "wl", "bl"};
    Params *p = params_new(nn_backend_cpu(), true, &err);
    char key[64];
    for (int i = 0; i < 8; i++) {
        snprintf(key, sizeof key, "gp/%s", names[i]);
        const TRecord *r = need(key);
        assert_int_equal(params_add(p, names[i], r->ndim, r->dims, &err), i);
    }
    assert_true(params_alloc(p, &err));
    for (int i = 0; i < 8; i++) {
        snprintf(key, sizeof key, "gp/%s", names[i]);
        params_upload(p, i, need(key)->data);
    }
    NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
    NNVar *x = input_of(g, "gp/x", true);
    NNVar *h = nn_avgpool2(g, nn_leaky_relu(g, nn_conv2d(g, x, params_var(p, 0), params_var(p, 1), 1, 1), 0.2f));
    h = nn_leaky_relu(g, nn_add(g, h, nn_conv2d(g, nn_avgpool2(g, x), params_var(p, 2), params_var(p, 3), 1, 0)),
                      0.2f);
    h = nn_reshape(g, nn_conv2d(g, h, params_var(p, 4), params_var(p, 5), 1, 0), 2, (int64_t[]){2, 2});
    NNVar *out = nn_linear(g, h, params_var(p, 6), params_var(p, 7)), *gx;
    assert_true(nn_grad(g, out, &x, 1, &gx, &err));
    NNVar *gp = nn_mean(g, nn_square(g, nn_affine(g, nn_sqrt(g, nn_sum_per_sample(g, nn_square(g, gx))), 1, -1)));
    params_zero_grad(p);
    assert_true(nn_backward(g, gp, &err));
    compare_var(g, gp, false, "gp/penalty");
    for (int i = 0; i < 8; i++) {
        snprintf(key, sizeof key, "gp/d%s", names[i]);
        compare(key, params_grad(p, i), key);
    }
    nn_graph_free(g);
    params_free(p);
}

/* ---- the normalised VGG19 prefix from ../shared ---- */

static void test_normalised_vgg(void **state)
{
    (void)state;
    const char *shared = getenv("ADKIT_SHARED");
    char path[1024];
    snprintf(path, sizeof path, "%s/weights/vgg19-normalised-conv3_1.pth", shared ? shared : "../shared");
    FILE *f = fopen(path, "rb");
    if (!f || !fx("normvgg/real")) {
        if (f)
            fclose(f);
        skip();
    }
    fclose(f);
    Err err = {0};
    NamedArrays w = {0};
    if (!torch_load(path, &w, &err))
        fail_msg("%s", err.msg);
    Vgg *vgg = vgg_new(nn_backend_cpu(), &w, path, &err);
    named_arrays_fini(&w);
    if (!vgg)
        fail_msg("%s", err.msg);
    assert_int_equal(vgg_weights(vgg), VGG_NORMALISED);
    assert_int_equal(vgg_deepest_tap(vgg), VGG_R31);
    NNPerceptualLoss pl;
    NNLossLayer r31 = {VGG_R31, 1.0f}, r42 = {VGG_R42, 1.0f};
    assert_false(nn_perceptual_init(&pl, vgg, NULL, &r42, 1, 0.0f, NN_RELATIVE_PERCEPTUAL_L1, &err));
    assert_non_null(strstr(err.msg, "layer r42 is not available in"));
    assert_non_null(strstr(err.msg, "vgg19-normalised-conv3_1.pth (deepest: r31)"));
    assert_true(nn_perceptual_init(&pl, vgg, NULL, &r31, 1, 0.0f, NN_RELATIVE_PERCEPTUAL_L1, &err));
    NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
    NNVar *real = input_of(g, "normvgg/real", false), *rec = input_of(g, "normvgg/rec", true);
    NNVar *none = nn_perceptual_loss(g, &pl, real, rec, NN_REDUCE_NONE);
    assert_true(nn_backward(g, nn_mean(g, none), &err));
    compare_var(g, none, false, "normvgg/loss_none");
    compare_var(g, rec, true, "normvgg/drec_mean");
    nn_graph_free(g);
    nn_perceptual_fini(&pl);
    vgg_free(vgg);
}

int main(void)
{
    omp_set_num_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),         cmocka_unit_test(test_ops),
        cmocka_unit_test(test_net_adam),        cmocka_unit_test(test_relative_perceptual),
        cmocka_unit_test(test_gradient_penalty), cmocka_unit_test(test_normalised_vgg),
    };
    return cmocka_run_group_tests(tests, load_fixtures, free_fixtures);
}
