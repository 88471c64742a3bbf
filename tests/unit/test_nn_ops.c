/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the nn engine's ops: every backward against central finite
 * differences, plus forward values of the ops whose exact semantics matter
 * (torch quirks) against small double-precision references written here.
 *
 * Method: for y = op(inputs), the analytic gradient of L = sum(r * y) (r a
 * fixed random projection, given as the backward seed) is compared with
 * (L(x + eps) - L(x - eps)) / (2 eps), L accumulated in double from the
 * float32 outputs, at up to 24 sampled elements per input. Error measure:
 * ||analytic - numeric|| / max(||numeric||, 1e-2) over the samples. With
 * eps = 1e-2 the truncation error of smooth ops is O(eps^2) ~ 1e-4 of the
 * second derivative and float32 rounding of L adds ~1e-5, so 2e-3 passes any
 * correct backward and fails a wrong factor, sign, index or missing term
 * (errors of order 0.1..1). Piecewise-linear ops get inputs kept at least
 * 0.05 away from their kinks, so a step of eps never crosses one; the
 * perceptual losses, whose VGG ReLUs cannot be kept away from 0, use
 * eps = 1e-3 (rounding noise then ~1e-4, still inside the tolerance).
 * The relative perceptual L1 case has thousands of |Nx - Ny| kinks, some
 * always within a step, and gets 1e-2 (a wrong term or factor gives > 0.1).
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
#include "params.h"
#include "torchload.h"
#include "vgg.h"
#include "rng.h"

#define MAX_IN 4
#define SAMPLES 24
#define EPS 1e-2f
#define TOL 2e-3

typedef NNVar *(*BuildFn)(NNGraph *g, NNVar **in, void *ctx);

typedef struct GradCase {
    const char *name;
    int nin;
    int ndim[MAX_IN];
    int64_t shape[MAX_IN][4];
    bool no_grad[MAX_IN];  /* inputs that are constants */
    float away_from;       /* |x - k*away_grid| kept >= 0.05 when > 0 (kinks at 0) */
    bool positive;         /* inputs in [0.5, 1.5] (sqrt) */
    bool apart;            /* input 1 kept >= 0.05 away from input 0 (|x - y|) */
    BuildFn build;
    void *ctx;
    float eps;             /* finite-difference step; 0 = EPS */
    double tol;            /* 0 = TOL */
} GradCase;

static NNGraph *new_graph(void)
{
    Err err = {0};
    NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
    assert_non_null(g);
    return g;
}

static void fill_inputs(const GradCase *c, float **x, Rng *rng)
{
    for (int k = 0; k < c->nin; k++) {
        int64_t n = tensor_shape_numel(c->ndim[k], c->shape[k]);
        x[k] = malloc((size_t)n * sizeof(float));
        for (int64_t i = 0; i < n; i++) {
            float v = 2.0f * rng_uniform_f32(rng) - 1.0f;
            if (c->positive)
                v = 1.0f + 0.5f * v;
            if (c->away_from > 0 && fabsf(v) < 0.05f)
                v = v < 0 ? v - 0.05f : v + 0.05f;
            if (c->apart && k == 1 && fabsf(v - x[0][i]) < 0.05f)
                v = x[0][i] + (v < x[0][i] ? -0.05f : 0.05f);
            x[k][i] = v;
        }
    }
}

// Builds the graph on host inputs; returns the output and, when r is given,
// the projection sum(r * y) in double.
static NNVar *forward(NNGraph *g, const GradCase *c, float **x, bool grad, NNVar **vars)
{
    nn_graph_reset(g);
    for (int k = 0; k < c->nin; k++) {
        vars[k] = nn_input(g, c->ndim[k], c->shape[k], x[k]);
        nn_set_requires_grad(vars[k], grad && !c->no_grad[k]);
    }
    return c->build(g, vars, c->ctx);
}

static double project(NNGraph *g, NNVar *y, const float *r)
{
    float *h = malloc((size_t)y->value.numel * sizeof *h);
    nn_var_download(g, y, h);
    double s = 0;
    for (int64_t i = 0; i < y->value.numel; i++)
        s += (double)h[i] * r[i];
    free(h);
    return s;
}

static void check_grad(const GradCase *c)
{
    NNGraph *g = new_graph();
    Rng rng;
    rng_init(&rng, rng_hash_string(c->name));
    float *x[MAX_IN];
    fill_inputs(c, x, &rng);
    NNVar *vars[MAX_IN];
    NNVar *y = forward(g, c, x, true, vars);
    Err err = {0};
    if (!y || !nn_graph_ok(g, &err))
        fail_msg("%s: forward failed: %s", c->name, err.msg);
    float *r = malloc((size_t)y->value.numel * sizeof *r);
    for (int64_t i = 0; i < y->value.numel; i++)
        r[i] = 2.0f * rng_uniform_f32(&rng) - 1.0f;
    if (!nn_backward_seeded(g, y, r, &err))
        fail_msg("%s: backward failed: %s", c->name, err.msg);
    float *ana[MAX_IN];
    for (int k = 0; k < c->nin; k++) {
        ana[k] = malloc((size_t)vars[k]->value.numel * sizeof(float));
        nn_var_grad_download(g, vars[k], ana[k]);
    }
    for (int k = 0; k < c->nin; k++) {
        if (c->no_grad[k])
            continue;
        const int64_t n = tensor_shape_numel(c->ndim[k], c->shape[k]);
        double num2 = 0, diff2 = 0;
        for (int s = 0; s < SAMPLES && s < n; s++) {
            int64_t i = n <= SAMPLES ? s : (int64_t)rng_below(&rng, (uint64_t)n);
            const float x0 = x[k][i];
            const float eps = c->eps > 0 ? c->eps : EPS;
            x[k][i] = x0 + eps;
            double lp = project(g, forward(g, c, x, false, vars), r);
            x[k][i] = x0 - eps;
            double lm = project(g, forward(g, c, x, false, vars), r);
            x[k][i] = x0;
            double fd = (lp - lm) / (2.0 * eps);
            num2 += fd * fd;
            diff2 += (fd - ana[k][i]) * (fd - ana[k][i]);
        }
        double rel = sqrt(diff2) / fmax(sqrt(num2), 1e-2);
        if (!(rel < (c->tol > 0 ? c->tol : TOL)))
            fail_msg("%s: input %d gradient differs from finite differences: relative error %.3g", c->name, k, rel);
        free(ana[k]);
        ana[k] = NULL;
    }
    for (int k = 0; k < c->nin; k++) {
        free(ana[k]);
        free(x[k]);
    }
    free(r);
    nn_graph_free(g);
}

/* ---- builders ---- */

typedef struct ConvCtx {
    int stride, pad;
} ConvCtx;

static NNVar *b_conv(NNGraph *g, NNVar **in, void *ctx)
{
    ConvCtx *c = ctx;
    return nn_conv2d(g, in[0], in[1], in[2], c->stride, c->pad);
}
static NNVar *b_linear(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_linear(g, in[0], in[1], in[2]);
}
static NNVar *b_reflect(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_reflect_pad(g, in[0], 2);
}
static NNVar *b_avgpool(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_avgpool2(g, in[0]);
}
static NNVar *b_maxpool(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_maxpool2(g, in[0]);
}
static NNVar *b_upsample(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_upsample_nearest2(g, in[0]);
}
static NNVar *b_bilinear_up(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_bilinear(g, in[0], 11, 16);
}
static NNVar *b_bilinear_down(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_downscale_bilinear(g, in[0], 4);
}
static NNVar *b_lrelu(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_leaky_relu(g, in[0], 0.2f);
}
static NNVar *b_relu(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_relu(g, in[0]);
}
static NNVar *b_tanh(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_tanh(g, in[0]);
}
static NNVar *b_sigmoid(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_sigmoid(g, in[0]);
}
static NNVar *b_abs(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_abs(g, in[0]);
}
static NNVar *b_square(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_square(g, in[0]);
}
static NNVar *b_sqrt(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_sqrt(g, in[0]);
}
static NNVar *b_axpby(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    NNVar *s = nn_sub(g, nn_add(g, in[0], in[1]), nn_scale(g, in[1], 3.0f));
    return nn_axpby(g, 0.5f, nn_affine(g, s, -2.0f, 1.0f), 1.5f, in[0]);
}
static NNVar *b_fadein(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_fadein(g, in[0], in[1], 0.3f);
}
static NNVar *b_concat(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    NNVar *c = nn_concat(g, in[0], in[1]);
    return nn_reshape(g, c, 2, (int64_t[]){2, c->value.numel / 2});
}
static NNVar *b_expand(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_expand_channels(g, in[0], 3);
}
static const float cn_mean[3] = {0.1f, -0.2f, 0.3f}, cn_div[3] = {0.5f, 2.0f, 1.5f};
static NNVar *b_channel_norm(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_channel_norm(g, in[0], cn_mean, cn_div);
}
static NNVar *b_div_sample(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_div_per_sample(g, in[0], nn_detach(g, nn_affine(g, in[1], 1.0f, 3.0f)));
}
static NNVar *b_reductions(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    NNVar *m = nn_mean_channels(g, in[0]);                  // (2, 1, 3, 4)
    NNVar *ps = nn_mean_per_sample(g, nn_square(g, m));     // (2)
    NNVar *ss = nn_sum_per_sample(g, in[0]);                // (2)
    NNVar *tot = nn_add(g, ps, ss);
    NNVar *a = nn_reshape(g, nn_add(g, nn_mean(g, in[0]), nn_sum(g, nn_square(g, in[0]))), 1, (int64_t[]){1});
    return nn_concat(g, nn_reshape(g, tot, 4, (int64_t[]){1, 2, 1, 1}), nn_reshape(g, a, 4, (int64_t[]){1, 1, 1, 1}));
}
static const int32_t ce_labels[3] = {2, 0, 4};
static NNVar *b_softmax_ce(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_softmax_cross_entropy(g, nn_scale(g, in[0], 3.0f), ce_labels);
}
static float bn_rm[3], bn_rv[3];
static NNVar *b_batchnorm(NNGraph *g, NNVar **in, void *ctx)
{
    const bool training = ctx != NULL;
    for (int c = 0; c < 3; c++)
        bn_rm[c] = 0.1f * (float)c, bn_rv[c] = 1.0f + 0.5f * (float)c;
    return nn_batchnorm2d(g, in[0], in[1], in[2], bn_rm, bn_rv, training, 0.1f, 1e-5f);
}
static NNVar *b_pixel_norm(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_pixel_norm(g, in[0]);
}
static NNVar *b_instance_norm(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_instance_norm(g, in[0], 1e-5f);
}
static NNVar *b_mbstd(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_minibatch_stddev(g, in[0]);
}
static NNVar *b_l1(NNGraph *g, NNVar **in, void *ctx)
{
    (void)ctx;
    return nn_compose_loss(g, 1.0f, nn_l1_loss(g, in[0], in[1], NN_REDUCE_NONE), 0.5f,
                           nn_l2_loss(g, in[0], in[1], NN_REDUCE_NONE));
}

/* The perceptual family on a 2-conv VGG prefix (conv1_1, conv1_2) with
 * synthetic weights: squared and relative variants, feature statistics,
 * an image term, layer weights, grey input expanded to 3 channels. */
static Vgg *small_vgg;
static NamedArrays small_stats;

static void add_array(NamedArrays *a, const char *name, int ndim, const int64_t *dims, float scale, int phase)
{
    a->items = realloc(a->items, (a->count + 1) * sizeof *a->items);
    NamedArray *n = &a->items[a->count++];
    memset(n, 0, sizeof *n);
    n->name = strdup(name);
    n->ndim = ndim;
    memcpy(n->dims, dims, (size_t)ndim * sizeof *dims);
    const int64_t count = tensor_shape_numel(ndim, dims);
    n->data = malloc((size_t)count * sizeof(float));
    for (int64_t i = 0; i < count; i++)
        n->data[i] = phase < 0 ? 1.5f + 0.5f * (float)(i % 3) : scale * (float)sin(0.9 * (double)i + phase);
}

static void make_small_vgg(void)
{
    NamedArrays w = {0};
    // conv1_1 outputs stay near 2 +- 0.5, so r11's ReLU has no kink within
    // reach of a finite-difference step (ReLU itself is checked above).
    add_array(&w, "features.0.weight", 4, (int64_t[]){64, 3, 3, 3}, 0.03f, 0);
    add_array(&w, "features.0.bias", 1, (int64_t[]){64}, 0.0f, -1);
    add_array(&w, "features.2.weight", 4, (int64_t[]){64, 64, 3, 3}, 0.06f, 2);
    add_array(&w, "features.2.bias", 1, (int64_t[]){64}, 0.05f, 3);
    Err err = {0};
    small_vgg = vgg_new(nn_backend_cpu(), &w, "small", &err);
    assert_non_null(small_vgg);
    assert_int_equal(vgg_deepest_tap(small_vgg), VGG_P1);
    named_arrays_fini(&w);
    add_array(&small_stats, "r11.0", 4, (int64_t[]){1, 64, 1, 1}, 0.1f, 4);
    add_array(&small_stats, "r11.1", 4, (int64_t[]){1, 64, 1, 1}, 0, -1);
    add_array(&small_stats, "c12.0", 4, (int64_t[]){1, 64, 1, 1}, 0.1f, 5);
    add_array(&small_stats, "c12.1", 4, (int64_t[]){1, 64, 1, 1}, 0, -1);
}

typedef struct PercCtx {
    int flags;
    float img_weight;
    NNReduction red;
    NNPerceptualLoss pl; /* made by perc_init; its statistics must outlive the backward */
} PercCtx;

static void perc_init(PercCtx *c)
{
    NNLossLayer layers[2] = {{VGG_R11, 1.0f}, {VGG_C12, 0.25f}};
    Err err = {0};
    if (!nn_perceptual_init(&c->pl, small_vgg, &small_stats, layers, 2, c->img_weight, c->flags, &err))
        fail_msg("%s", err.msg);
}

static NNVar *b_perceptual(NNGraph *g, NNVar **in, void *ctx)
{
    PercCtx *c = ctx;
    return nn_perceptual_loss(g, &c->pl, in[0], in[1], c->red);
}

#define SHAPE4(a, b, c, d) {a, b, c, d}

static void test_grad_conv(void **state)
{
    (void)state;
    ConvCtx c31 = {1, 1}, c42 = {2, 0}, c43 = {1, 3};
    GradCase a = {"conv3x3", 3, {4, 4, 1}, {SHAPE4(2, 3, 5, 6), SHAPE4(4, 3, 3, 3), {4}}, {0}, 0, 0, false, b_conv, &c31, 0, 0};
    check_grad(&a);
    GradCase b = {"conv4x4s2", 3, {4, 4, 1}, {SHAPE4(2, 2, 8, 8), SHAPE4(3, 2, 4, 4), {3}}, {0}, 0, 0, false, b_conv, &c42, 0, 0};
    check_grad(&b);
    GradCase d3 = {"conv4x4p3", 3, {4, 4, 1}, {SHAPE4(1, 2, 1, 1), SHAPE4(3, 2, 4, 4), {3}}, {0}, 0, 0, false, b_conv, &c43, 0, 0};
    check_grad(&d3);
    GradCase l = {"linear", 3, {2, 2, 1}, {{3, 5}, {4, 5}, {4}}, {0}, 0, 0, false, b_linear, NULL, 0, 0};
    check_grad(&l);
}

static void test_grad_spatial(void **state)
{
    (void)state;
    GradCase cases[] = {
        {"reflect_pad", 1, {4}, {SHAPE4(2, 2, 4, 5)}, {0}, 0, 0, false, b_reflect, NULL, 0, 0},
        {"avgpool2", 1, {4}, {SHAPE4(2, 3, 4, 6)}, {0}, 0, 0, false, b_avgpool, NULL, 0, 0},
        {"maxpool2", 1, {4}, {SHAPE4(2, 3, 4, 6)}, {0}, 0, 0, false, b_maxpool, NULL, 0, 0},
        {"upsample2", 1, {4}, {SHAPE4(2, 3, 3, 2)}, {0}, 0, 0, false, b_upsample, NULL, 0, 0},
        {"bilinear_up", 1, {4}, {SHAPE4(2, 2, 5, 7)}, {0}, 0, 0, false, b_bilinear_up, NULL, 0, 0},
        {"bilinear_down", 1, {4}, {SHAPE4(1, 2, 16, 12)}, {0}, 0, 0, false, b_bilinear_down, NULL, 0, 0},
        {"concat", 2, {4, 4}, {SHAPE4(2, 1, 3, 2), SHAPE4(2, 3, 3, 2)}, {0}, 0, 0, false, b_concat, NULL, 0, 0},
        {"expand_channels", 1, {4}, {SHAPE4(2, 1, 3, 4)}, {0}, 0, 0, false, b_expand, NULL, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_grad(&cases[i]);
}

static void test_grad_eltwise(void **state)
{
    (void)state;
    GradCase cases[] = {
        {"leaky_relu", 1, {4}, {SHAPE4(2, 3, 4, 4)}, {0}, 1, 0, false, b_lrelu, NULL, 0, 0},
        {"relu", 1, {4}, {SHAPE4(2, 3, 4, 4)}, {0}, 1, 0, false, b_relu, NULL, 0, 0},
        {"tanh", 1, {4}, {SHAPE4(2, 3, 4, 4)}, {0}, 0, 0, false, b_tanh, NULL, 0, 0},
        {"sigmoid", 1, {4}, {SHAPE4(2, 3, 4, 4)}, {0}, 0, 0, false, b_sigmoid, NULL, 0, 0},
        {"abs", 1, {4}, {SHAPE4(2, 3, 4, 4)}, {0}, 1, 0, false, b_abs, NULL, 0, 0},
        {"square", 1, {4}, {SHAPE4(2, 3, 4, 4)}, {0}, 0, 0, false, b_square, NULL, 0, 0},
        {"sqrt", 1, {4}, {SHAPE4(2, 3, 4, 4)}, {0}, 0, 1, false, b_sqrt, NULL, 0, 0},
        {"add_sub_axpby_affine", 2, {4, 4}, {SHAPE4(2, 3, 2, 2), SHAPE4(2, 3, 2, 2)}, {0}, 0, 0, false, b_axpby, NULL, 0, 0},
        {"fadein", 2, {4, 4}, {SHAPE4(2, 3, 2, 2), SHAPE4(2, 3, 2, 2)}, {0}, 0, 0, false, b_fadein, NULL, 0, 0},
        {"channel_norm", 1, {4}, {SHAPE4(2, 3, 2, 3)}, {0}, 0, 0, false, b_channel_norm, NULL, 0, 0},
        {"div_per_sample", 2, {4, 1}, {SHAPE4(2, 3, 2, 3), {2}}, {false, true}, 0, 0, false, b_div_sample, NULL, 0, 0},
        {"l1_l2_compose", 2, {4, 4}, {SHAPE4(2, 3, 4, 4), SHAPE4(2, 3, 4, 4)}, {0}, 0, 0, true, b_l1, NULL, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_grad(&cases[i]);
}

static void test_grad_reduce_norm(void **state)
{
    (void)state;
    static int training = 1;
    GradCase cases[] = {
        {"reductions", 1, {4}, {SHAPE4(2, 3, 3, 4)}, {0}, 0, 0, false, b_reductions, NULL, 0, 0},
        {"softmax_ce", 1, {2}, {{3, 5}}, {0}, 0, 0, false, b_softmax_ce, NULL, 0, 0},
        {"batchnorm_train", 3, {4, 1, 1}, {SHAPE4(3, 3, 2, 3), {3}, {3}}, {0}, 0, 0, false, b_batchnorm, &training, 0, 0},
        {"batchnorm_eval", 3, {4, 1, 1}, {SHAPE4(3, 3, 2, 3), {3}, {3}}, {0}, 0, 0, false, b_batchnorm, NULL, 0, 0},
        // Inputs in [0.5, 1.5]: near a zero pixel vector the curvature exceeds the step.
        {"pixel_norm", 1, {4}, {SHAPE4(2, 3, 2, 3)}, {0}, 0, 1, false, b_pixel_norm, NULL, 0, 0},
        {"instance_norm", 1, {4}, {SHAPE4(2, 3, 3, 3)}, {0}, 0, 0, false, b_instance_norm, NULL, 0, 0},
        {"minibatch_stddev", 1, {4}, {SHAPE4(3, 2, 2, 3)}, {0}, 0, 0, false, b_mbstd, NULL, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_grad(&cases[i]);
}

static void test_grad_perceptual(void **state)
{
    (void)state;
    make_small_vgg();
    PercCtx squared = {NN_FEATURE_NORM | NN_RELATIVE, 0.5f, NN_REDUCE_MEAN, {0}};
    PercCtx plain = {0, 0.0f, NN_REDUCE_SUM, {0}};
    PercCtx rel_l1 = {NN_RELATIVE_PERCEPTUAL_L1, 0.0f, NN_REDUCE_NONE, {0}};
    perc_init(&squared);
    perc_init(&plain);
    perc_init(&rel_l1);
    GradCase cases[] = {
        {"perceptual_relative_squared", 2, {4, 4}, {SHAPE4(2, 1, 6, 6), SHAPE4(2, 1, 6, 6)}, {true, false}, 0, 0,
         false, b_perceptual, &squared, 1e-3f, 0},
        {"perceptual_plain", 2, {4, 4}, {SHAPE4(2, 3, 6, 6), SHAPE4(2, 3, 6, 6)}, {true, false}, 0, 0, false,
         b_perceptual, &plain, 1e-3f, 0},
        {"perceptual_relative_l1", 2, {4, 4}, {SHAPE4(2, 3, 6, 6), SHAPE4(2, 3, 6, 6)}, {true, false}, 0, 0, true,
         b_perceptual, &rel_l1, 1e-3f, 1e-2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_grad(&cases[i]);
    nn_perceptual_fini(&squared.pl);
    nn_perceptual_fini(&plain.pl);
    nn_perceptual_fini(&rel_l1.pl);
    vgg_free(small_vgg);
    named_arrays_fini(&small_stats);
}

/* ---- forward semantics against double references ---- */

static void test_forward_semantics(void **state)
{
    (void)state;
    NNGraph *g = new_graph();
    Err err = {0};
    // Leaky ReLU at 0 takes the slope in backward; abs at 0 gives 0.
    float x[4] = {-1.0f, 0.0f, 2.0f, 0.0f}, d[4];
    NNVar *v = nn_input(g, 1, (int64_t[]){4}, x);
    nn_set_requires_grad(v, true);
    assert_true(nn_backward_seeded(g, nn_leaky_relu(g, v, 0.2f), (float[]){1, 1, 1, 1}, &err));
    nn_var_grad_download(g, v, d);
    assert_true(d[0] == 0.2f && d[1] == 0.2f && d[2] == 1.0f);
    assert_true(nn_backward_seeded(g, nn_abs(g, v), (float[]){1, 1, 1, 1}, &err));
    nn_var_grad_download(g, v, d);
    assert_true(d[0] == -1.0f && d[1] == 0.0f && d[2] == 1.0f);

    // Max-pool: ties send the gradient to the first maximum in row-major order.
    nn_graph_reset(g);
    float t[4] = {1.0f, 3.0f, 3.0f, 3.0f};
    v = nn_input(g, 4, (int64_t[]){1, 1, 2, 2}, t);
    nn_set_requires_grad(v, true);
    assert_true(nn_backward(g, nn_sum(g, nn_maxpool2(g, v)), &err));
    nn_var_grad_download(g, v, d);
    assert_true(d[0] == 0 && d[1] == 1 && d[2] == 0 && d[3] == 0);

    // Bilinear x1/4 down-scaling blends the two middle pixels (spec 4.3).
    nn_graph_reset(g);
    float img[64], out[4];
    for (int i = 0; i < 64; i++)
        img[i] = (float)(i * i % 17);
    v = nn_downscale_bilinear(g, nn_input(g, 4, (int64_t[]){1, 1, 8, 8}, img), 4);
    assert_non_null(v);
    nn_var_download(g, v, out);
    for (int oy = 0; oy < 2; oy++)
        for (int ox = 0; ox < 2; ox++) {
            const float *r0 = img + (4 * oy + 1) * 8 + 4 * ox + 1, *r1 = r0 + 8;
            float want = 0.5f * (0.5f * r0[0] + 0.5f * r0[1]) + 0.5f * (0.5f * r1[0] + 0.5f * r1[1]);
            assert_true(out[oy * 2 + ox] == want);
        }

    // Fade-in: low * (1 - alpha) + high * alpha in float32.
    nn_graph_reset(g);
    float lo[2] = {1.0f, -3.0f}, hi[2] = {0.25f, 7.0f}, fo[2];
    const float alpha = 1.0f / 3.0f;
    v = nn_fadein(g, nn_input(g, 1, (int64_t[]){2}, lo), nn_input(g, 1, (int64_t[]){2}, hi), alpha);
    nn_var_download(g, v, fo);
    for (int i = 0; i < 2; i++)
        assert_true(fo[i] == lo[i] * (1.0f - alpha) + hi[i] * alpha);

    // Batch-norm running statistics: momentum 0.1, unbiased variance.
    nn_graph_reset(g);
    float bx[4] = {1, 2, 3, 6}, rm = 0.5f, rv = 2.0f;
    v = nn_batchnorm2d(g, nn_input(g, 4, (int64_t[]){2, 1, 1, 2}, bx), NULL, NULL, &rm, &rv, true, 0.1f, 1e-5f);
    assert_non_null(v);
    const double mean = 3.0, uvar = (4 + 1 + 0 + 9) / 3.0;
    assert_true(fabs(rm - (0.9 * 0.5 + 0.1 * mean)) < 1e-6);
    assert_true(fabs(rv - (0.9 * 2.0 + 0.1 * uvar)) < 1e-6);
    nn_graph_free(g);
}

/* ---- errors are sticky and name the op ---- */

static void test_errors(void **state)
{
    (void)state;
    NNGraph *g = new_graph();
    Err err = {0};
    NNVar *x = nn_input(g, 4, (int64_t[]){1, 4, 5, 5}, NULL);
    NNVar *w = nn_input(g, 4, (int64_t[]){2, 3, 3, 3}, NULL);
    assert_null(nn_conv2d(g, x, w, NULL, 1, 1));
    assert_null(nn_relu(g, x)); // sticky: later ops fail too
    assert_false(nn_graph_ok(g, &err));
    assert_non_null(strstr(err.msg, "conv2d: input has 4 channels, weight expects 3"));
    assert_false(nn_backward(g, x, &err));
    nn_graph_reset(g);
    err_clear(&err);
    assert_true(nn_graph_ok(g, &err));
    assert_null(nn_avgpool2(g, nn_input(g, 4, (int64_t[]){1, 1, 3, 4}, NULL)));
    assert_false(nn_graph_ok(g, &err));
    assert_non_null(strstr(err.msg, "avgpool2: height and width must be even"));
    nn_graph_free(g);
}

/* ---- the arena stops growing after the first step ---- */

static void test_arena_steady_state(void **state)
{
    (void)state;
    NNGraph *g = new_graph();
    Err err = {0};
    size_t first = 0;
    for (int step = 0; step < 3; step++) {
        nn_graph_reset(g);
        NNVar *x = nn_input(g, 4, (int64_t[]){4, 8, 64, 64}, NULL);
        nn_set_requires_grad(x, true);
        NNVar *h = x;
        for (int i = 0; i < 6; i++)
            h = nn_leaky_relu(g, nn_add(g, h, x), 0.2f);
        assert_true(nn_backward(g, nn_mean(g, h), &err));
        if (step == 0)
            first = nn_graph_arena_bytes(g);
        else
            assert_int_equal(nn_graph_arena_bytes(g), first);
    }
    nn_graph_free(g);
}

// A frozen parameter's convolution weights are transformed once and kept
// by the graph: the results equal the plain kernels' bit for bit, and new
// values (params_upload, a write through params_data) are picked up.
static void test_frozen_conv_prepared(void **state)
{
    (void)state;
    Err err = {0};
    const int64_t N = 2, C = 20, H = 9, W = 9, OC = 24;
    Params *p = params_new(nn_backend_cpu(), false, &err);
    assert_non_null(p);
    int wi = params_add(p, "w", 4, (int64_t[]){OC, C, 3, 3}, &err);
    int bi = params_add(p, "b", 1, (int64_t[]){OC}, &err);
    assert_true(wi >= 0 && bi >= 0 && params_alloc(p, &err));
    ConvShape s;
    assert_true(conv_shape_init(&s, N, C, H, W, OC, 3, 3, 1, 1, &err));
    assert_true(conv_prepared_bytes(&s, CONV_PASS_FORWARD) > 0);
    const size_t nw = (size_t)(OC * C * 9), nx = (size_t)(N * C * H * W), ny = (size_t)(N * OC * H * W);
    float *wv = malloc(nw * sizeof *wv), *bv = malloc((size_t)OC * sizeof *bv), *xv = malloc(nx * sizeof *xv);
    float *seed = malloc(ny * sizeof *seed), *want_y = malloc(ny * sizeof *want_y);
    float *want_dx = malloc(nx * sizeof *want_dx), *got = malloc((nx > ny ? nx : ny) * sizeof *got);
    void *ws = malloc(conv_workspace_bytes(&s));
    Rng rng;
    rng_init(&rng, 77);
    for (size_t i = 0; i < nx; i++)
        xv[i] = 2 * rng_uniform_f32(&rng) - 1;
    for (size_t i = 0; i < ny; i++)
        seed[i] = 2 * rng_uniform_f32(&rng) - 1;
    NNGraph *g = new_graph();
    for (int step = 0; step < 4; step++) {
        // Steps 0 and 2 change the weights (upload, then a direct write);
        // steps 1 and 3 reuse them.
        if (step % 2 == 0) {
            for (size_t i = 0; i < nw; i++)
                wv[i] = 2 * rng_uniform_f32(&rng) - 1;
            for (int64_t i = 0; i < OC; i++)
                bv[i] = 2 * rng_uniform_f32(&rng) - 1;
            if (step == 0)
                params_upload(p, wi, wv);
            else
                memcpy(params_data(p, wi), wv, nw * sizeof *wv);
            params_upload(p, bi, bv);
            conv2d_forward_cpu(want_y, xv, wv, bv, &s, ws);
            conv2d_backward_input_cpu(want_dx, seed, wv, &s, ws);
        }
        nn_graph_reset(g);
        NNVar *x = nn_input(g, 4, (int64_t[]){N, C, H, W}, xv);
        nn_set_requires_grad(x, true);
        NNVar *y = nn_conv2d(g, x, params_var(p, wi), params_var(p, bi), 1, 1);
        assert_true(nn_backward_seeded(g, y, seed, &err));
        memcpy(got, y->value.data, ny * sizeof *got);
        assert_memory_equal(got, want_y, ny * sizeof *got);
        memcpy(got, x->grad, nx * sizeof *got);
        assert_memory_equal(got, want_dx, nx * sizeof *got);
    }
    nn_graph_free(g);
    params_free(p);
    free(wv), free(bv), free(xv), free(seed), free(want_y), free(want_dx), free(got), free(ws);
}

// nn_conv2d_leaky_relu against nn_leaky_relu(nn_conv2d): the same bytes
// for the output, every gradient of a backward, and a create_graph
// gradient penalty's gradients (the WGAN-GP pattern), on shapes of each
// algorithm (direct, Winograd, GEMM).
typedef struct FusedRun {
    float *y, *dx, *dw, *db, *pen_dw, *pen_dw2;
} FusedRun;

static void fused_lrelu_run(bool fused, const int64_t *sh, const float *xv, const float *wv, const float *bv,
                            const float *w2v, const float *seed, FusedRun *r)
{
    const int64_t N = sh[0], C = sh[1], H = sh[2], OC = sh[3], K = sh[4], stride = sh[5], pad = sh[6];
    Err err = {0};
    Params *p = params_new(nn_backend_cpu(), true, &err);
    assert_non_null(p);
    int wi = params_add(p, "w", 4, (int64_t[]){OC, C, K, K}, &err), bi = params_add(p, "b", 1, (int64_t[]){OC}, &err);
    int w2i = params_add(p, "w2", 4, (int64_t[]){2, OC, 3, 3}, &err);
    assert_true(wi >= 0 && bi >= 0 && w2i >= 0 && params_alloc(p, &err));
    params_upload(p, wi, wv);
    params_upload(p, bi, bv);
    params_upload(p, w2i, w2v);
    NNGraph *g = new_graph();
    for (int pass = 0; pass < 2; pass++) {
        nn_graph_reset(g);
        params_zero_grad(p);
        NNVar *x = nn_input(g, 4, (int64_t[]){N, C, H, H}, xv);
        nn_set_requires_grad(x, true);
        NNVar *w = params_var(p, wi), *b = params_var(p, bi);
        NNVar *y = fused ? nn_conv2d_leaky_relu(g, x, w, b, (int)stride, (int)pad, 0.2f)
                         : nn_leaky_relu(g, nn_conv2d(g, x, w, b, (int)stride, (int)pad), 0.2f);
        assert_non_null(y);
        const size_t ny = (size_t)y->value.numel, nw = (size_t)(OC * C * K * K);
        if (pass == 0) {
            // A plain backward from a seed.
            assert_true(nn_backward_seeded(g, y, seed, &err));
            r->y = malloc(ny * sizeof(float));
            r->dx = malloc((size_t)x->value.numel * sizeof(float));
            r->dw = malloc(nw * sizeof(float));
            r->db = malloc((size_t)OC * sizeof(float));
            memcpy(r->y, y->value.data, ny * sizeof(float));
            memcpy(r->dx, x->grad, (size_t)x->value.numel * sizeof(float));
            memcpy(r->dw, params_grad(p, wi), nw * sizeof(float));
            memcpy(r->db, params_grad(p, bi), (size_t)OC * sizeof(float));
        } else {
            // penalty = sum((d sum(conv(y, w2)) / dx)^2), backward to the weights.
            NNVar *out = nn_conv2d(g, y, params_var(p, w2i), NULL, 1, 1), *gx = NULL;
            if (!nn_grad(g, out, &x, 1, &gx, &err))
                fail_msg("%s", err.msg);
            assert_true(nn_backward(g, nn_sum(g, nn_square(g, gx)), &err));
            r->pen_dw = malloc(nw * sizeof(float));
            r->pen_dw2 = malloc((size_t)(2 * OC * 9) * sizeof(float));
            memcpy(r->pen_dw, params_grad(p, wi), nw * sizeof(float));
            memcpy(r->pen_dw2, params_grad(p, w2i), (size_t)(2 * OC * 9) * sizeof(float));
        }
    }
    nn_graph_free(g);
    params_free(p);
}

static void test_conv_leaky_relu_fused(void **state)
{
    (void)state;
    // N, C, H (= W), OC, K, stride, pad
    static const int64_t shapes[][7] = {{2, 4, 10, 4, 3, 1, 1}, {2, 20, 9, 24, 3, 1, 1}, {2, 8, 8, 6, 4, 2, 1}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int64_t *sh = shapes[i];
        const int64_t N = sh[0], C = sh[1], H = sh[2], OC = sh[3], K = sh[4];
        ConvShape s;
        Err err = {0};
        assert_true(conv_shape_init(&s, N, C, H, H, OC, K, K, sh[5], sh[6], &err));
        const size_t nx = (size_t)(N * C * H * H), nw = (size_t)(OC * C * K * K), ny = (size_t)(N * OC * s.OH * s.OW);
        float *xv = malloc(nx * sizeof(float)), *wv = malloc(nw * sizeof(float)), *bv = malloc(OC * sizeof(float));
        float *w2v = malloc((size_t)(2 * OC * 9) * sizeof(float)), *seed = malloc(ny * sizeof(float));
        Rng rng;
        rng_init(&rng, 900 + i);
        float *fill[] = {xv, wv, bv, w2v, seed};
        size_t counts[] = {nx, nw, (size_t)OC, (size_t)(2 * OC * 9), ny};
        for (int k = 0; k < 5; k++)
            for (size_t j = 0; j < counts[k]; j++)
                fill[k][j] = 2 * rng_uniform_f32(&rng) - 1;
        FusedRun a = {0}, b = {0};
        fused_lrelu_run(false, sh, xv, wv, bv, w2v, seed, &a);
        fused_lrelu_run(true, sh, xv, wv, bv, w2v, seed, &b);
        size_t negative = 0;
        for (size_t j = 0; j < ny; j++)
            negative += a.y[j] < 0.0f;
        assert_true(negative > ny / 4 && negative < ny * 3 / 4);
        assert_memory_equal(a.y, b.y, ny * sizeof(float));
        assert_memory_equal(a.dx, b.dx, nx * sizeof(float));
        assert_memory_equal(a.dw, b.dw, nw * sizeof(float));
        assert_memory_equal(a.db, b.db, (size_t)OC * sizeof(float));
        assert_memory_equal(a.pen_dw, b.pen_dw, nw * sizeof(float));
        assert_memory_equal(a.pen_dw2, b.pen_dw2, (size_t)(2 * OC * 9) * sizeof(float));
        float *all[] = {xv, wv, bv, w2v, seed, a.y, a.dx, a.dw, a.db, a.pen_dw, a.pen_dw2,
                        b.y, b.dx, b.dw, b.db, b.pen_dw, b.pen_dw2};
        for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
            free(all[k]);
    }
    Err err = {0};
    NNGraph *g = new_graph();
    NNVar *x = nn_full(g, 4, (int64_t[]){1, 1, 3, 3}, 1.0f), *w = nn_full(g, 4, (int64_t[]){1, 1, 1, 1}, 1.0f);
    assert_null(nn_conv2d_leaky_relu(g, x, w, NULL, 1, 0, 1.5f));
    assert_false(nn_graph_ok(g, &err));
    assert_non_null(strstr(err.msg, "slope"));
    nn_graph_free(g);
}

int main(void)
{
    // Tiny tensors: threads would only add start-up cost (the kernels give
    // the same bits for any thread count, see test_nn_train).
    omp_set_num_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grad_conv),         cmocka_unit_test(test_grad_spatial),
        cmocka_unit_test(test_grad_eltwise),      cmocka_unit_test(test_grad_reduce_norm),
        cmocka_unit_test(test_forward_semantics), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_arena_steady_state), cmocka_unit_test(test_grad_perceptual),
        cmocka_unit_test(test_frozen_conv_prepared), cmocka_unit_test(test_conv_leaky_relu_fused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
