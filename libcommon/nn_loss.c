/* SPDX-License-Identifier: Apache-2.0 */
/* nn_loss: L1, L2, perceptual losses and their composition (spec 5). */
#include "nn_loss.h"

#include <stdio.h>
#include <string.h>

#include "nn_impl.h"

static const char *const reduction_names[NN_REDUCE_COUNT] = {"none", "mean", "sum", "pixelwise"};
_Static_assert(sizeof reduction_names / sizeof reduction_names[0] == NN_REDUCE_COUNT, "one name per reduction");

const char *nn_reduction_name(NNReduction r)
{
    return r >= 0 && r < NN_REDUCE_COUNT ? reduction_names[r] : "?";
}

bool nn_reduction_parse(const char *name, NNReduction *out)
{
    for (int r = 0; r < NN_REDUCE_COUNT; r++)
        if (!strcmp(name, reduction_names[r])) {
            *out = (NNReduction)r;
            return true;
        }
    return false;
}

static NNVar *reduce_samples(NNGraph *g, NNVar *per_sample, NNReduction red)
{
    switch (red) {
    case NN_REDUCE_MEAN:
        return nn_mean(g, per_sample);
    case NN_REDUCE_SUM:
        return nn_sum(g, per_sample);
    default:
        return per_sample;
    }
}

static NNVar *pointwise_loss(NNGraph *g, NNVar *real, NNVar *rec, NNReduction red, bool l1)
{
    NNVar *d = nn_sub(g, real, rec);
    d = l1 ? nn_abs(g, d) : nn_square(g, d);
    if (red == NN_REDUCE_PIXELWISE) {
        if (!l1)
            return nn_impl_fail(g, "l2_loss", "reduction 'pixelwise' is defined for L1 only");
        return d;
    }
    return reduce_samples(g, nn_mean_per_sample(g, d), red);
}

NNVar *nn_l1_loss(NNGraph *g, NNVar *real, NNVar *rec, NNReduction red)
{
    return pointwise_loss(g, real, rec, red, true);
}

NNVar *nn_l2_loss(NNGraph *g, NNVar *real, NNVar *rec, NNReduction red)
{
    return pointwise_loss(g, real, rec, red, false);
}

NNVar *nn_compose_loss(NNGraph *g, float w1, NNVar *a, float w2, NNVar *b)
{
    return nn_axpby(g, w1, a, w2, b);
}

static float *upload_stat(const NNBackend *be, const NamedArrays *mv, VggTap tap, int which, int channels,
                          const char *what, Err *err)
{
    char key[16];
    snprintf(key, sizeof key, "%s.%d", vgg_tap_name(tap), which);
    const NamedArray *a = named_arrays_find(mv, key);
    if (!a)
        return err_set(err, "feature statistics: no %s of layer %s", what, vgg_tap_name(tap)), NULL;
    if (named_array_elements(a) != channels)
        return err_set(err, "feature statistics: %s of %s has %lld values for %d channels", what,
                       vgg_tap_name(tap), (long long)named_array_elements(a), channels),
               NULL;
    float *d = be->alloc((size_t)channels * sizeof(float));
    if (!d)
        return err_set(err, "out of memory"), NULL;
    be->upload(d, a->data, channels);
    return d;
}

bool nn_perceptual_init(NNPerceptualLoss *pl, const Vgg *vgg, const NamedArrays *mean_var,
                        const NNLossLayer *layers, int nlayers, float img_weight, int flags, Err *err)
{
    memset(pl, 0, sizeof *pl);
    pl->vgg = vgg;
    pl->img_weight = img_weight;
    pl->flags = flags;
    if (nlayers < 0 || nlayers > VGG_TAP_COUNT)
        return err_set(err, "perceptual loss: %d layers", nlayers);
    if (nlayers == 0 && img_weight == 0.0f)
        return err_set(err, "perceptual loss: no layer and no image weight");
    const bool normalise = (flags & NN_FEATURE_NORM) && vgg_weights(vgg) == VGG_TORCHVISION;
    if (normalise && !mean_var)
        return err_set(err, "perceptual loss: feature normalisation needs the mean/var file");
    for (int i = 0; i < nlayers; i++) {
        const VggTap t = layers[i].tap;
        if (t < 0 || t >= VGG_TAP_COUNT)
            return err_set(err, "perceptual loss: invalid layer %d", (int)t);
        if (t > vgg_deepest_tap(vgg))
            return err_set(err, "perceptual loss: layer %s is not available in %s (deepest: %s)", vgg_tap_name(t),
                           vgg_source(vgg), vgg_tap_name(vgg_deepest_tap(vgg)));
        pl->layers[pl->nlayers++] = layers[i];
        pl->want[t] = true;
        if (normalise) {
            const int c = vgg_tap_channels(t);
            pl->mean[i] = upload_stat(vgg_backend(vgg), mean_var, t, 0, c, "mean", err);
            pl->div[i] = pl->mean[i] ? upload_stat(vgg_backend(vgg), mean_var, t, 1, c, "var", err) : NULL;
            if (!pl->div[i]) {
                nn_perceptual_fini(pl);
                return false;
            }
        }
    }
    return true;
}

void nn_perceptual_fini(NNPerceptualLoss *pl)
{
    if (pl->vgg)
        for (int i = 0; i < VGG_TAP_COUNT; i++) {
            vgg_backend(pl->vgg)->free(pl->mean[i]);
            vgg_backend(pl->vgg)->free(pl->div[i]);
        }
    memset(pl, 0, sizeof *pl);
}

// One layer's error (5.5): per-sample mean of rho(Nx - Ny) [/ den], or its
// channel-mean map for 'pixelwise'.
static NNVar *layer_term(NNGraph *g, const NNPerceptualLoss *pl, NNVar *fx, NNVar *fy, const float *mean,
                         const float *div, bool map)
{
    const bool l1 = pl->flags & NN_USE_L1;
    NNVar *nx = mean ? nn_channel_norm(g, fx, mean, div) : fx;
    NNVar *ny = mean ? nn_channel_norm(g, fy, mean, div) : fy;
    NNVar *d = nn_sub(g, nx, ny);
    d = l1 ? nn_abs(g, d) : nn_square(g, d);
    if (pl->flags & NN_RELATIVE) {
        // The denominator comes from the real image's features, detached.
        NNVar *rx = l1 ? nn_abs(g, nx) : nn_square(g, nx);
        d = nn_div_per_sample(g, d, nn_detach(g, nn_mean_per_sample(g, rx)));
    }
    return map ? nn_mean_channels(g, d) : nn_mean_per_sample(g, d);
}

// The wanted taps of img. When nothing differentiates through img (the
// real image in training, both images in evaluation) only the taps are
// kept: they go into vars made first, and the forward's intermediates are
// rewound, so the peak memory holds one VGG19 forward less.
static bool features(NNGraph *g, const NNPerceptualLoss *pl, NNVar *img, NNVar **f, Err *e)
{
    if (img->requires_grad)
        return vgg_forward(g, pl->vgg, img, pl->want, f, e);
    for (int t = 0; t < VGG_TAP_COUNT; t++) {
        if (!pl->want[t])
            continue;
        int64_t shape[4] = {img->value.shape[0], vgg_tap_channels((VggTap)t), img->value.shape[2],
                            img->value.shape[3]};
        // Each 2x2 max-pool before the tap floors the size.
        for (int k = vgg_tap_downscale((VggTap)t); k > 1; k /= 2)
            shape[2] /= 2, shape[3] /= 2;
        if (!(f[t] = nn_impl_node(g, NULL, 4, shape, NULL, 0, NULL)))
            return nn_graph_ok(g, e);
    }
    NNVar *tmp[VGG_TAP_COUNT] = {NULL};
    NNGraphMark mark = nn_graph_mark(g);
    bool ok = vgg_forward(g, pl->vgg, img, pl->want, tmp, e);
    for (int t = 0; ok && t < VGG_TAP_COUNT; t++)
        if (pl->want[t]) {
            if (!tensor_same_shape(&tmp[t]->value, &f[t]->value)) {
                ok = err_set(e, "vgg: tap %s has an unexpected shape", vgg_tap_name((VggTap)t));
                break;
            }
            g->be->copy(f[t]->value.data, tmp[t]->value.data, f[t]->value.numel);
        }
    nn_graph_rewind(g, mark);
    return ok;
}

NNVar *nn_perceptual_loss(NNGraph *g, const NNPerceptualLoss *pl, NNVar *real, NNVar *rec, NNReduction red)
{
    const bool map = red == NN_REDUCE_PIXELWISE;
    if (map && (pl->nlayers != 1 || pl->img_weight != 0.0f))
        return nn_impl_fail(g, "perceptual_loss", "reduction 'pixelwise' needs exactly one layer and img_weight 0");
    NNVar *in[2] = {real, rec};
    if (!nn_impl_inputs_ok(g, in, 2))
        return NULL;
    if (!tensor_same_shape(&real->value, &rec->value) || real->value.ndim != 4)
        return nn_impl_fail(g, "perceptual_loss", "real and reconstruction must have the same 4-D shape");
    NNVar *X = vgg_preprocess(g, pl->vgg, real), *Y = vgg_preprocess(g, pl->vgg, rec);
    NNVar *fx[VGG_TAP_COUNT] = {NULL}, *fy[VGG_TAP_COUNT] = {NULL};
    Err e = {0};
    if (!features(g, pl, X, fx, &e) || !features(g, pl, Y, fy, &e))
        return nn_impl_fail(g, "perceptual_loss", "%s", e.msg);
    NNVar *total = NULL;
    double wsum = 0;
    if (pl->img_weight != 0.0f) {
        total = nn_scale(g, layer_term(g, pl, X, Y, NULL, NULL, false), pl->img_weight);
        wsum += pl->img_weight;
    }
    for (int i = 0; i < pl->nlayers; i++) {
        const VggTap t = pl->layers[i].tap;
        const float w = pl->layers[i].weight;
        NNVar *term = layer_term(g, pl, fx[t], fy[t], pl->mean[i], pl->div[i], map);
        total = total ? nn_axpby(g, 1.0f, total, w, term) : nn_scale(g, term, w);
        wsum += w;
    }
    total = nn_scale(g, total, (float)(1.0 / wsum));
    if (map)
        return nn_bilinear(g, total, real->value.shape[2], real->value.shape[3]);
    return reduce_samples(g, total, red);
}
