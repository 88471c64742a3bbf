/* SPDX-License-Identifier: Apache-2.0 */
/* vgg: VGG19 features from torchvision or normalised-prefix weights. */
#include "vgg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"

#define VGG_CONVS 16

static const char *const tap_names[VGG_TAP_COUNT] = {
    "c11", "r11", "c12", "r12", "p1",
    "c21", "r21", "c22", "r22", "p2",
    "c31", "r31", "c32", "r32", "c33", "r33", "c34", "r34", "p3",
    "c41", "r41", "c42", "r42", "c43", "r43", "c44", "r44", "p4",
    "c51", "r51", "c52", "r52", "c53", "r53", "c54", "r54", "p5",
};
_Static_assert(sizeof tap_names / sizeof tap_names[0] == VGG_TAP_COUNT, "one name per tap");

// Convolutions per block and their output channels (VGG19 configuration E).
static const int block_convs[5] = {2, 2, 4, 4, 4};
static const int block_channels[5] = {64, 128, 256, 512, 512};
// torchvision features.N index of each convolution.
static const int torchvision_index[VGG_CONVS] = {0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34};
// Keys of the normalised prefix: the 1x1 conv, then conv1_1 .. conv3_1.
static const int normalised_index[6] = {0, 2, 5, 9, 12, 16};

// ImageNet statistics of spec 5.2.
static const float imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
static const float imagenet_std[3] = {0.229f, 0.224f, 0.225f};

struct Vgg {
    VggWeights kind;
    Params *params;       /* frozen: pre (normalised only), then conv weights/biases */
    int nconv;            /* 3x3 convolutions present */
    int w[VGG_CONVS], b[VGG_CONVS];
    int pre_w, pre_b;     /* the normalised prefix's 1x1 conv, or -1 */
    VggTap deepest;
    float *stats;         /* device: mean[3], std[3] */
    char source[256];
};

const char *vgg_tap_name(VggTap t)
{
    return t >= 0 && t < VGG_TAP_COUNT ? tap_names[t] : "?";
}

bool vgg_tap_parse(const char *name, VggTap *out)
{
    for (int t = 0; t < VGG_TAP_COUNT; t++)
        if (!strcmp(name, tap_names[t])) {
            *out = (VggTap)t;
            return true;
        }
    return false;
}

int vgg_tap_channels(VggTap t)
{
    return block_channels[tap_names[t][1] - '1'];
}

int vgg_tap_downscale(VggTap t)
{
    // Taps of block b follow b-1 pools; pN follows N pools.
    const int b = tap_names[t][1] - '0';
    return 1 << (tap_names[t][0] == 'p' ? b : b - 1);
}

// Tap of conv i (0-based over the 16), its ReLU is +1; pool of a block
// follows its last ReLU.
static VggTap conv_tap(int i)
{
    int t = 0;
    for (int b = 0, k = 0; b < 5; b++) {
        for (int j = 0; j < block_convs[b]; j++, k++) {
            if (k == i)
                return (VggTap)t;
            t += 2;
        }
        t++; // the pool
    }
    return VGG_TAP_COUNT;
}

static int add_conv(Vgg *v, const NamedArrays *a, int key, const char *prefix, int ic, int oc, int k, int *wi,
                    int *bi, Err *err)
{
    char wname[64], bname[64];
    snprintf(wname, sizeof wname, "%s%d.weight", prefix, key);
    snprintf(bname, sizeof bname, "%s%d.bias", prefix, key);
    const NamedArray *w = named_arrays_find(a, wname), *b = named_arrays_find(a, bname);
    if (!w)
        return 0;
    if (!b)
        return err_set(err, "%s: %s without %s", v->source, wname, bname), -1;
    if (w->ndim != 4 || w->dims[0] != oc || w->dims[1] != ic || w->dims[2] != k || w->dims[3] != k ||
        named_array_elements(b) != oc)
        return err_set(err, "%s: %s is not a %dx%d convolution %d -> %d", v->source, wname, k, k, ic, oc), -1;
    *wi = params_add(v->params, wname, 4, (int64_t[]){oc, ic, k, k}, err);
    *bi = params_add(v->params, bname, 1, (int64_t[]){oc}, err);
    return *wi >= 0 && *bi >= 0 ? 1 : -1;
}

static void upload_conv(Vgg *v, const NamedArrays *a, int wi, int bi)
{
    params_upload(v->params, wi, named_arrays_find(a, params_name(v->params, wi))->data);
    params_upload(v->params, bi, named_arrays_find(a, params_name(v->params, bi))->data);
}

Vgg *vgg_new(const NNBackend *be, const NamedArrays *weights, const char *source, Err *err)
{
    Vgg *v = xcalloc_array(1, sizeof *v, err);
    if (!v)
        return NULL;
    snprintf(v->source, sizeof v->source, "%s", source);
    v->pre_w = v->pre_b = -1;
    v->params = params_new(be, false, err);
    v->stats = be->alloc(6 * sizeof(float));
    if (!v->params || !v->stats) {
        err_set(err, "out of memory building VGG19");
        goto fail;
    }
    be->upload(v->stats, imagenet_mean, 3);
    be->upload(v->stats + 3, imagenet_std, 3);
    const bool tv = named_arrays_find(weights, "features.0.weight") != NULL;
    const bool norm = !tv && named_arrays_find(weights, "0.weight") && named_arrays_find(weights, "2.weight");
    if (!tv && !norm) {
        err_set(err, "%s: neither a torchvision VGG19 (features.0.weight) nor a normalised VGG19 prefix "
                     "(0.weight, 2.weight)", source);
        goto fail;
    }
    v->kind = tv ? VGG_TORCHVISION : VGG_NORMALISED;
    if (norm && add_conv(v, weights, 0, "", 3, 3, 1, &v->pre_w, &v->pre_b, err) != 1) {
        err_set(err, "%s: missing 0.weight", source);
        goto fail;
    }
    int ic = 3;
    for (int b = 0, i = 0; b < 5; b++)
        for (int j = 0; j < block_convs[b]; j++, i++) {
            int key = tv ? torchvision_index[i] : (i + 1 < 6 ? normalised_index[i + 1] : -1);
            int r = key < 0 ? 0 : add_conv(v, weights, key, tv ? "features." : "", ic, block_channels[b], 3, &v->w[i],
                                           &v->b[i], err);
            if (r < 0)
                goto fail;
            if (r == 0)
                goto counted;
            v->nconv = i + 1;
            ic = block_channels[b];
        }
counted:
    if (v->nconv == 0) {
        err_set(err, "%s: no VGG19 convolution found", source);
        goto fail;
    }
    if (!params_alloc(v->params, err))
        goto fail;
    if (v->pre_w >= 0)
        upload_conv(v, weights, v->pre_w, v->pre_b);
    for (int i = 0; i < v->nconv; i++)
        upload_conv(v, weights, v->w[i], v->b[i]);
    // The deepest tap: the last ReLU, or the pool after it when its block is complete.
    v->deepest = (VggTap)(conv_tap(v->nconv - 1) + 1);
    if (v->nconv == VGG_CONVS || conv_tap(v->nconv) != v->deepest + 1)
        v->deepest = (VggTap)(v->deepest + 1);
    return v;
fail:
    vgg_free(v);
    return NULL;
}

void vgg_free(Vgg *v)
{
    if (!v)
        return;
    if (v->params)
        params_backend(v->params)->free(v->stats);
    params_free(v->params);
    free(v);
}

VggWeights vgg_weights(const Vgg *v)
{
    return v->kind;
}

VggTap vgg_deepest_tap(const Vgg *v)
{
    return v->deepest;
}

const NNBackend *vgg_backend(const Vgg *v)
{
    return params_backend(v->params);
}

const char *vgg_source(const Vgg *v)
{
    return v->source;
}

NNVar *vgg_preprocess(NNGraph *g, const Vgg *v, NNVar *x)
{
    if (x && x->value.ndim == 4 && x->value.shape[1] == 1)
        x = nn_expand_channels(g, x, 3);
    x = nn_affine(g, x, 0.5f, 0.5f);
    if (v->kind == VGG_TORCHVISION)
        x = nn_channel_norm(g, x, v->stats, v->stats + 3);
    return x;
}

bool vgg_forward(NNGraph *g, const Vgg *v, NNVar *x, const bool *want, NNVar **out, Err *err)
{
    int last = -1;
    for (int t = 0; t < VGG_TAP_COUNT; t++)
        if (want[t])
            last = t;
    if (last < 0)
        return nn_graph_ok(g, err);
    if (last > (int)v->deepest)
        return err_set(err, "vgg: tap %s is not available in %s (deepest: %s)", tap_names[last], v->source,
                       tap_names[v->deepest]);
    Params *p = v->params;
    NNVar *h = x;
    if (v->pre_w >= 0)
        h = nn_conv2d(g, h, params_var(p, v->pre_w), params_var(p, v->pre_b), 1, 0);
    int t = 0;
    for (int b = 0, i = 0; b < 5 && t <= last; b++) {
        for (int j = 0; j < block_convs[b] && t <= last; j++, i++) {
            // Conv and ReLU as one op unless the pre-activation is a tap.
            if (!want[t] && t + 1 <= last) {
                h = nn_conv2d_relu(g, h, params_var(p, v->w[i]), params_var(p, v->b[i]), 1, 1);
                t++;
            } else {
                NNVar *c = nn_conv2d(g, h, params_var(p, v->w[i]), params_var(p, v->b[i]), 1, 1);
                if (want[t])
                    out[t] = c;
                if (++t > last)
                    break;
                h = nn_relu(g, c);
            }
            if (want[t])
                out[t] = h;
            t++;
        }
        if (t > last)
            break;
        h = nn_maxpool2(g, h);
        if (want[t])
            out[t] = h;
        t++;
    }
    return nn_graph_ok(g, err);
}
