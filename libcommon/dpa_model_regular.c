/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpa_model_regular: the "regular" encoder and decoder (spec dpa-piad.md
 * 3.3; pg_encoders.py RegularEncoderNetworks, pg_decoders.py
 * RegularDecoderNetworks): plain stacks of ConvBlocks with LeakyReLU(0.2),
 * after Karras et al.'s progressive GAN, composed per stage as 3.5.
 *
 * Encoder (R = max_image_res, nf = dpa_enc_channels):
 *   preprocess_res_r (fromRGB): 1x1 image_dim -> nf(min(2r, R)), LReLU
 *   res_r, r = R .. 2 last:     3x3 nf(min(2r, R)) -> nf(r), LReLU; 3x3, LReLU; pool (avg or max)
 *   res_last:                   3x3 nf(2 last) -> nf(last), LReLU; 4x4 pad 0 (latent_res 1) or 3x3,
 *                               LReLU; 1x1 -> latent_dim, linear
 * Decoder (nf = dpa_dec_channels):
 *   res_first:                  4x4 pad 3 (latent_res 1) or 3x3 latent_dim -> nf(first), LReLU; 3x3, LReLU
 *   res_r, r = 2 first .. R:    Upsample x2 (upsample_mode); 3x3 nf(r/2) -> nf(r), LReLU; 3x3, LReLU
 *   postprocess_res_r (toRGB):  1x1 nf(r) -> image_dim, linear
 * The output of both networks is linear. Every conv keeps the ConvBlock
 * initialisation (xavier_uniform with the gain of its activation, torch's
 * default bias; no 3.4 override); pad_type and norm (between the conv and
 * its LReLU) reach the 3x3/4x4 convs of the blocks, use_wscale every conv,
 * as in the original. use_mbstddev puts a MinibatchStdDev layer first in
 * the last encoder block (its first conv takes one more channel),
 * normalize_latents a PixelNorm first in the decoder's first block; each
 * shifts the indices of its block's convs by one.
 *
 * State-dict names: fromRGB and toRGB are ConvBlocks themselves
 * (`enc.preprocess_res_64.model.0.weight`, `dec.postprocess_res_64.model.0.bias`);
 * block convs are Sequential entries: `enc.res_64.0`, `enc.res_64.1` (then
 * the pool), `enc.res_4.0` .. `.2`; `dec.res_4.0`, `.1`; `dec.res_8.1`,
 * `.2` (entry 0 is the Upsample).
 * AMBIGUOUS: with use_wscale torch's state dict also lists the conv weight
 * a second time as `...model.1.incoming.weight` (the WScale layer holds the
 * conv); it is the same tensor as `...model.0.weight` and is not repeated.
 */
#include <stdio.h>

#include "dpa_model_impl.h"

#define BLOCK_FLAGS (DPA_CONV_PAD_TYPE | DPA_CONV_WSCALE | DPA_CONV_XAVIER | DPA_CONV_LRELU | DPA_CONV_NORM)
#define RGB_FLAGS (DPA_CONV_WSCALE | DPA_CONV_XAVIER) /* pad_type 'zero', act linear */

static int min_int(int a, int b) { return a < b ? a : b; }

// Declares one conv; false (err set) on failure.
static bool add(DpaModel *m, DpaConv *c, const char *block, int in, int out, int k, int pad, int flags, Err *err)
{
    *c = dpa_model_add_conv(m, block, in, out, k, pad, flags, err);
    return c->w >= 0;
}

bool dpa_regular_build_encoder(DpaModel *m, Err *err)
{
    const DpaArch *a = &m->arch;
    int R = a->max_res, last = m->last;
    char name[128];
    for (int r = R; r >= m->min_res; r /= 2) {
        // fromRGB: ConvBlock(act leaky_relu) with the default pad_type.
        snprintf(name, sizeof name, "%s.preprocess_res_%d", m->enc_name, r);
        if (!add(m, &m->reg_from_rgb[dpa_model_log2(r)], name, a->image_dim, dpa_enc_channels(a, min_int(2 * r, R)), 1,
                 0, RGB_FLAGS | DPA_CONV_LRELU, err))
            return false;
    }
    for (int r = R; r >= 2 * last; r /= 2) {
        DpaConv *c = m->reg_down[dpa_model_log2(r)];
        int in = dpa_enc_channels(a, min_int(2 * r, R)), nf = dpa_enc_channels(a, r);
        snprintf(name, sizeof name, "%s.res_%d.0", m->enc_name, r);
        if (!add(m, &c[0], name, in, nf, 3, 1, BLOCK_FLAGS, err))
            return false;
        snprintf(name, sizeof name, "%s.res_%d.1", m->enc_name, r);
        if (!add(m, &c[1], name, nf, nf, 3, 1, BLOCK_FLAGS, err))
            return false;
    }
    // The last block: [MinibatchStdDev (one more channel)], three ConvBlocks.
    int nf = dpa_enc_channels(a, last), at = a->use_mbstddev;
    bool one = a->latent_res == 1;
    snprintf(name, sizeof name, "%s.res_%d.%d", m->enc_name, last, at);
    if (!add(m, &m->reg_last[0], name, dpa_enc_channels(a, 2 * last) + at, nf, 3, 1, BLOCK_FLAGS, err))
        return false;
    snprintf(name, sizeof name, "%s.res_%d.%d", m->enc_name, last, at + 1);
    if (!add(m, &m->reg_last[1], name, nf, nf, one ? 4 : 3, one ? 0 : 1, BLOCK_FLAGS, err))
        return false;
    snprintf(name, sizeof name, "%s.res_%d.%d", m->enc_name, last, at + 2);
    return add(m, &m->reg_last[2], name, nf, a->latent_dim, 1, 0, RGB_FLAGS, err);
}

bool dpa_regular_build_decoder(DpaModel *m, Err *err)
{
    const DpaArch *a = &m->arch;
    int R = a->max_res, first = m->last;
    char name[128];
    bool one = a->latent_res == 1;
    // The first block: [PixelNorm of the code], two ConvBlocks.
    int nf = dpa_dec_channels(a, first), at = a->normalize_latents;
    snprintf(name, sizeof name, "dec.res_%d.%d", first, at);
    if (!add(m, &m->reg_first[0], name, a->latent_dim, nf, one ? 4 : 3, one ? 3 : 1, BLOCK_FLAGS, err))
        return false;
    snprintf(name, sizeof name, "dec.res_%d.%d", first, at + 1);
    if (!add(m, &m->reg_first[1], name, nf, nf, 3, 1, BLOCK_FLAGS, err))
        return false;
    for (int r = 2 * first; r <= R; r *= 2) {
        DpaConv *c = m->reg_up[dpa_model_log2(r)];
        int in = dpa_dec_channels(a, r / 2), out = dpa_dec_channels(a, r);
        snprintf(name, sizeof name, "dec.res_%d.1", r);
        if (!add(m, &c[0], name, in, out, 3, 1, BLOCK_FLAGS, err))
            return false;
        snprintf(name, sizeof name, "dec.res_%d.2", r);
        if (!add(m, &c[1], name, out, out, 3, 1, BLOCK_FLAGS, err))
            return false;
    }
    for (int r = m->min_res; r <= R; r *= 2) {
        snprintf(name, sizeof name, "dec.postprocess_res_%d", r);
        if (!add(m, &m->to_rgb[dpa_model_log2(r)], name, dpa_dec_channels(a, r), a->image_dim, 1, 0, RGB_FLAGS, err))
            return false;
    }
    return true;
}

int64_t dpa_regular_stab_params(const DpaModel *m, bool encoder, int res)
{
    int64_t n = 0;
    if (encoder) {
        n += dpa_model_conv_numel(&m->reg_from_rgb[dpa_model_log2(res)]);
        for (int r = res; r >= 2 * m->last; r /= 2)
            for (int i = 0; i < 2; i++)
                n += dpa_model_conv_numel(&m->reg_down[dpa_model_log2(r)][i]);
        for (int i = 0; i < 3; i++)
            n += dpa_model_conv_numel(&m->reg_last[i]);
    } else {
        for (int i = 0; i < 2; i++)
            n += dpa_model_conv_numel(&m->reg_first[i]);
        for (int r = 2 * m->last; r <= res; r *= 2)
            for (int i = 0; i < 2; i++)
                n += dpa_model_conv_numel(&m->reg_up[dpa_model_log2(r)][i]);
        n += dpa_model_conv_numel(&m->to_rgb[dpa_model_log2(res)]);
    }
    return n;
}

/* ---- forward ---- */

// ConvBlock(act = leaky_relu).
static NNVar *from_rgb(NNGraph *g, DpaModel *m, NNVar *x, int res)
{
    return dpa_model_conv_lrelu(g, m, x, &m->reg_from_rgb[dpa_model_log2(res)]);
}

// res_r of the encoder: r x r -> r/2 x r/2.
static NNVar *down(NNGraph *g, DpaModel *m, NNVar *x, int res)
{
    const DpaConv *c = m->reg_down[dpa_model_log2(res)];
    x = dpa_model_conv_lrelu(g, m, dpa_model_conv_lrelu(g, m, x, &c[0]), &c[1]);
    return m->arch.pool == DPA_POOL_MAX ? nn_maxpool2(g, x) : nn_avgpool2(g, x);
}

// res_r of the decoder: r/2 x r/2 -> r x r.
static NNVar *up(NNGraph *g, DpaModel *m, NNVar *x, int res)
{
    const DpaConv *c = m->reg_up[dpa_model_log2(res)];
    return dpa_model_conv_lrelu(g, m, dpa_model_conv_lrelu(g, m, dpa_model_upsample(g, m, x), &c[0]), &c[1]);
}

static NNVar *to_rgb(NNGraph *g, DpaModel *m, NNVar *x, int res)
{
    return dpa_model_conv(g, m, x, &m->to_rgb[dpa_model_log2(res)]);
}

NNVar *dpa_regular_encode(NNGraph *g, DpaModel *m, NNVar *x, PgStage stage, int res, float alpha)
{
    NNVar *h;
    int r = res;
    if (stage == PG_TRNS && res > m->min_res) {
        // ConcatLayer(AvgPool2d -> fromRGB(r/2), fromRGB(r) -> res_r) -> Fadein
        // (3.5); the low path pools with AvgPool2d whatever pool is.
        NNVar *low = from_rgb(g, m, nn_avgpool2(g, x), res / 2);
        NNVar *high = down(g, m, from_rgb(g, m, x, res), res);
        h = nn_fadein(g, low, high, alpha);
        r = res / 2;
    } else {
        h = from_rgb(g, m, x, res);
    }
    for (; r >= 2 * m->last; r /= 2)
        h = down(g, m, h, r);
    if (m->arch.use_mbstddev)
        h = nn_minibatch_stddev(g, h);
    h = dpa_model_conv_lrelu(g, m, dpa_model_conv_lrelu(g, m, h, &m->reg_last[0]), &m->reg_last[1]);
    return dpa_model_conv(g, m, h, &m->reg_last[2]);
}

NNVar *dpa_regular_decode(NNGraph *g, DpaModel *m, NNVar *z, PgStage stage, int res, float alpha)
{
    if (m->arch.normalize_latents)
        z = nn_pixel_norm(g, z);
    NNVar *h = dpa_model_conv_lrelu(g, m, dpa_model_conv_lrelu(g, m, z, &m->reg_first[0]), &m->reg_first[1]);
    bool trns = stage == PG_TRNS && res > m->min_res;
    int top = trns ? res / 2 : res;
    for (int r = 2 * m->last; r <= top; r *= 2)
        h = up(g, m, h, r);
    if (!trns)
        return to_rgb(g, m, h, res);
    NNVar *low = dpa_model_upsample(g, m, to_rgb(g, m, h, res / 2));
    NNVar *high = to_rgb(g, m, up(g, m, h, res), res);
    return nn_fadein(g, low, high, alpha);
}
