/* SPDX-License-Identifier: Apache-2.0 */
/* dpa_model: the DPA encoder/decoder (see dpa_model.h): the residual families,
 * the ConvBlock helpers and the dispatch; the regular family is in
 * dpa_model_regular.c. */
#include "dpa_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_init.h"
#include "rng.h"
#include "dpa_model_impl.h"

#define LRELU_SLOPE DPA_LRELU_SLOPE
#define MAX_LOG2 DPA_MAX_LOG2

typedef DpaConv Conv;
typedef DpaResBlock ResBlock;
typedef DpaStage Stage;
typedef DpaFromRgb FromRgb;

int dpa_model_log2(int v)
{
    int k = 0;
    while ((1 << k) < v)
        k++;
    return k;
}

static int ilog2(int v) { return dpa_model_log2(v); }

DpaConv dpa_model_add_conv(DpaModel *m, const char *block, int in, int out, int k, int pad, int flags, Err *err)
{
    const DpaArch *a = &m->arch;
    bool reflect = (flags & DPA_CONV_PAD_TYPE) && a->pad_type == DPA_PAD_REFLECT;
    bool wscale = (flags & DPA_CONV_WSCALE) && a->use_wscale;
    Conv c = {.w = -1, .b = -1, .scale = -1, .in = in, .out = out, .k = k, .pad = pad, .reflect = reflect,
              .norm = (flags & DPA_CONV_NORM) && a->norm != DPA_NORM_NONE,
              .xavier = (flags & DPA_CONV_XAVIER) != 0,
              .gain = (flags & DPA_CONV_LRELU) ? nn_init_gain_leaky_relu(0.2) : 1.0};
    if (m->nconvs == DPA_MAX_CONVS) {
        err_set(err, "dpa model: more than %d convolutions", DPA_MAX_CONVS);
        return c;
    }
    // ConvBlock.model = [ReflectionPad2d (reflect only), Conv2d, WScaleLayer
    // (wscale only), ...]; WScale takes the conv's bias over (1.3).
    int at = reflect ? 1 : 0;
    char name[256];
    snprintf(name, sizeof name, "%s.model.%d.weight", block, at);
    int w = params_add(m->params, name, 4, (int64_t[]){out, in, k, k}, err);
    if (w < 0)
        return c;
    if (wscale) {
        snprintf(name, sizeof name, "%s.model.%d.scale", block, at + 1);
        if ((c.scale = params_add(m->params, name, 1, (int64_t[]){1}, err)) < 0)
            return c;
    }
    snprintf(name, sizeof name, "%s.model.%d.bias", block, wscale ? at + 1 : at);
    if ((c.b = params_add(m->params, name, 1, (int64_t[]){out}, err)) < 0)
        return c;
    c.bn.w = -1;
    if (c.norm) {
        snprintf(name, sizeof name, "%s.model.%d", block, at + 1 + wscale);
        Err e = {0};
        c.bn = dpa_model_add_bn(m, name, out, &e);
        if (e.msg[0]) {
            *err = e;
            return c;
        }
    }
    c.w = w;
    m->convs[m->nconvs++] = c;
    return c;
}

DpaBatchNorm dpa_model_add_bn(DpaModel *m, const char *layer, int channels, Err *err)
{
    DpaBatchNorm bn = {.w = -1, .b = -1, .mean = -1, .var = -1, .channels = channels};
    if (m->arch.norm != DPA_NORM_BN)
        return bn;
    if (m->nbns == 2 * DPA_MAX_CONVS) {
        err_set(err, "dpa model: more than %d batch norms", 2 * DPA_MAX_CONVS);
        return bn;
    }
    const char *suffix[4] = {"weight", "bias", "running_mean", "running_var"};
    int idx[4];
    char name[256];
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "%s.%s", layer, suffix[i]);
        if ((idx[i] = params_add(m->params, name, 1, (int64_t[]){channels}, err)) < 0)
            return bn;
    }
    bn = (DpaBatchNorm){.w = idx[0], .b = idx[1], .mean = idx[2], .var = idx[3], .channels = channels};
    m->bns[m->nbns++] = bn;
    return bn;
}

// A residual-family conv: kaiming init (3.4), the configured pad_type.
static Conv add_conv(DpaModel *m, const char *block, int in, int out, int k, int pad, Err *err)
{
    return dpa_model_add_conv(m, block, in, out, k, pad, DPA_CONV_PAD_TYPE, err);
}

// PreActResnetBlock ConvBlocks: main .model.1/.model.2, skip .skipcon;
// Down/Up: .model.2/.model.3 (after LReLU and the pool/upsample), skip
// .skipcon.1 (after the pool/upsample) (3.7). A norm layer first in the
// main path shifts the main convs by one.
static bool add_block(DpaModel *m, ResBlock *b, const char *prefix, int in, int out, bool updown, Err *err)
{
    char name[256];
    memset(b, 0, sizeof *b);
    b->skip.w = -1;
    b->pre.w = -1;
    int at = (updown ? 2 : 1) + (m->arch.norm != DPA_NORM_NONE);
    if (m->arch.norm == DPA_NORM_BN) {
        snprintf(name, sizeof name, "%s.model.0", prefix);
        b->pre = dpa_model_add_bn(m, name, in, err);
        if (b->pre.w < 0)
            return false;
    }
    snprintf(name, sizeof name, "%s.model.%d", prefix, at);
    b->c1 = dpa_model_add_conv(m, name, in, out, 3, 1, DPA_CONV_PAD_TYPE | DPA_CONV_NORM, err);
    if (b->c1.w < 0)
        return false;
    snprintf(name, sizeof name, "%s.model.%d", prefix, at + 1);
    b->c2 = add_conv(m, name, out, out, 3, 1, err);
    if (b->c2.w < 0)
        return false;
    if (in != out) {
        snprintf(name, sizeof name, "%s.skipcon%s", prefix, updown ? ".1" : "");
        b->skip = add_conv(m, name, in, out, 1, 0, err);
        if (b->skip.w < 0)
            return false;
    }
    return true;
}

static bool add_stage(DpaModel *m, Stage *s, const char *net, int res, int in, int out, Err *err)
{
    char name[128];
    bool res18 = (strcmp(net, "dec") != 0 ? m->arch.enc_type : m->arch.dec_type) == DPA_RESIDUAL18;
    snprintf(name, sizeof name, "%s.res_%d.0", net, res);
    if (!add_block(m, &s->main, name, in, out, true, err))
        return false;
    s->has_extra = res18;
    if (res18) {
        snprintf(name, sizeof name, "%s.res_%d.1", net, res);
        return add_block(m, &s->extra, name, out, out, false, err);
    }
    return true;
}

static bool build_residual_encoder(DpaModel *m, Err *err)
{
    const DpaArch *a = &m->arch;
    int R = a->max_res, last = m->last;
    char name[128];
    // fromRGB per resolution (high to low), res_r, last block.
    for (int r = R; r >= m->min_res; r /= 2) {
        FromRgb *f = &m->from_rgb[ilog2(r)];
        int nf = dpa_enc_channels(a, r);
        snprintf(name, sizeof name, "%s.preprocess_res_%d.0", m->enc_name, r);
        f->conv = add_conv(m, name, a->image_dim, nf, 3, 1, err);
        if (f->conv.w < 0)
            return false;
        f->npre = a->enc_type == DPA_RESIDUAL18 ? 2 : 1;
        for (int i = 0; i < f->npre; i++) {
            snprintf(name, sizeof name, "%s.preprocess_res_%d.%d", m->enc_name, r, i + 1);
            if (!add_block(m, &f->pre[i], name, nf, nf, false, err))
                return false;
        }
    }
    for (int r = R; r >= 2 * last; r /= 2)
        if (!add_stage(m, &m->down[ilog2(r)], m->enc_name, r, dpa_enc_channels(a, r), dpa_enc_channels(a, r / 2),
                       err))
            return false;
    if (a->latent_res == 1) {
        snprintf(name, sizeof name, "%s.res_%d.1", m->enc_name, last);
        m->enc_last_conv = add_conv(m, name, dpa_enc_channels(a, last), a->latent_dim, 4, 0, err);
        return m->enc_last_conv.w >= 0;
    }
    snprintf(name, sizeof name, "%s.res_%d", m->enc_name, last);
    return add_block(m, &m->enc_last_block, name, dpa_enc_channels(a, last), a->latent_dim, false, err);
}

static bool build_residual_decoder(DpaModel *m, Err *err)
{
    const DpaArch *a = &m->arch;
    int R = a->max_res, last = m->last;
    char name[128];
    // First block, res_r (low to high), toRGB per resolution.
    if (a->latent_res == 1) {
        // The original gives this ConvBlock pad_type 'zero' whatever the configuration.
        snprintf(name, sizeof name, "dec.res_%d.1", last);
        m->dec_first_conv = dpa_model_add_conv(m, name, a->latent_dim, dpa_dec_channels(a, last), 4, 3, 0, err);
        if (m->dec_first_conv.w < 0)
            return false;
    } else {
        int nf = dpa_dec_channels(a, last);
        snprintf(name, sizeof name, "dec.res_%d", last);
        if (!add_block(m, &m->dec_first_block, name, nf, nf, false, err))
            return false;
    }
    for (int r = 2 * last; r <= R; r *= 2)
        if (!add_stage(m, &m->up[ilog2(r)], "dec", r, dpa_dec_channels(a, r / 2), dpa_dec_channels(a, r), err))
            return false;
    for (int r = m->min_res; r <= R; r *= 2) {
        snprintf(name, sizeof name, "dec.postprocess_res_%d.1", r);
        m->to_rgb[ilog2(r)] = add_conv(m, name, dpa_dec_channels(a, r), a->image_dim, 3, 1, err);
        if (m->to_rgb[ilog2(r)].w < 0)
            return false;
    }
    return true;
}

static bool build(DpaModel *m, Err *err)
{
    bool enc = m->arch.enc_type == DPA_REGULAR ? dpa_regular_build_encoder(m, err) : build_residual_encoder(m, err);
    return enc && (m->enc_only ||
           (m->arch.dec_type == DPA_REGULAR ? dpa_regular_build_decoder(m, err) : build_residual_decoder(m, err))) &&
           params_alloc(m->params, err);
}

static DpaModel *model_new(const NNBackend *be, const DpaArch *arch, int min_res, const char *enc_name,
                           bool enc_only, Err *err)
{
    if (!dpa_arch_check(arch, err))
        return NULL;
    int last = dpa_last_res(arch);
    if (min_res < last || min_res > arch->max_res || (min_res & (min_res - 1)) != 0 || arch->max_res >= (1 << MAX_LOG2)) {
        err_set(err, "initial resolution %d: must be a power of two between %d (the latent's) and %d", min_res, last,
                arch->max_res);
        return NULL;
    }
    DpaModel *m = xcalloc_array(1, sizeof *m, err);
    if (!m)
        return NULL;
    m->arch = *arch;
    m->training = true; // as a new torch module
    m->min_res = min_res;
    m->last = last;
    snprintf(m->enc_name, sizeof m->enc_name, "%s", enc_name);
    m->enc_only = enc_only;
    m->params = params_new(be, true, err);
    if (!m->params || !build(m, err)) {
        dpa_model_free(m);
        return NULL;
    }
    return m;
}

DpaModel *dpa_model_new(const NNBackend *be, const DpaArch *arch, int min_res, Err *err)
{
    return model_new(be, arch, min_res, "enc", false, err);
}

DpaModel *dpa_model_new_encoder(const NNBackend *be, const DpaArch *arch, int min_res, const char *name, Err *err)
{
    if (!name[0] || strlen(name) >= sizeof ((DpaModel *)0)->enc_name || strcmp(name, "dec") == 0) {
        err_set(err, "dpa model: '%s' cannot name an encoder", name);
        return NULL;
    }
    return model_new(be, arch, min_res, name, true, err);
}

void dpa_model_free(DpaModel *m)
{
    if (!m)
        return;
    params_free(m->params);
    free(m);
}

void dpa_model_init(DpaModel *m, uint64_t seed)
{
    Rng rng;
    rng_init(&rng, seed);
    double gain = nn_init_gain_leaky_relu(0.2);
    for (int i = 0; i < m->nconvs; i++) {
        const Conv *c = &m->convs[i];
        int64_t kk = (int64_t)c->k * c->k, n = (int64_t)c->out * c->in * kk;
        float *w = params_data(m->params, c->w);
        if (c->xavier)
            nn_init_xavier_uniform(w, n, c->gain, c->in * kk, c->out * kk, &rng);
        else
            nn_init_kaiming_normal(w, n, gain, c->out * kk, &rng);
        nn_init_torch_default_bias(params_data(m->params, c->b), c->out, c->in * kk, &rng);
        if (c->scale > 0) {
            // WScaleLayer (1.3): s = sqrt(mean(W^2)) of the initialised
            // weight, in float32 as torch; W <- W / s.
            double sum = 0;
            for (int64_t j = 0; j < n; j++)
                sum += (double)w[j] * w[j];
            float s = sqrtf((float)(sum / (double)n));
            for (int64_t j = 0; j < n; j++)
                w[j] = w[j] / s;
            *params_data(m->params, c->scale) = s;
        }
    }
    // BatchNorm2d: weight 1, bias 0, running mean 0, running variance 1.
    for (int i = 0; i < m->nbns; i++) {
        const DpaBatchNorm *bn = &m->bns[i];
        nn_init_constant(params_data(m->params, bn->w), bn->channels, 1.0f);
        nn_init_constant(params_data(m->params, bn->b), bn->channels, 0.0f);
        nn_init_constant(params_data(m->params, bn->mean), bn->channels, 0.0f);
        nn_init_constant(params_data(m->params, bn->var), bn->channels, 1.0f);
    }
}

void dpa_model_set_training(DpaModel *m, bool training) { m->training = training; }

Params *dpa_model_params(DpaModel *m) { return m->params; }
const DpaArch *dpa_model_arch(const DpaModel *m) { return &m->arch; }

// Weight and bias of a batch norm (torch counts the running statistics as
// buffers, not parameters).
static int64_t bn_numel(const DpaBatchNorm *bn) { return bn->w > 0 ? 2 * (int64_t)bn->channels : 0; }

int64_t dpa_model_conv_numel(const Conv *c)
{
    // Unused convs of the zeroed model struct have out = 0 and scale = 0;
    // parameter 0 is always the first conv's weight, never a scale or a
    // batch norm's.
    return c->w < 0 ? 0 : (int64_t)c->out * c->in * c->k * c->k + c->out + (c->scale > 0) + bn_numel(&c->bn);
}
static int64_t conv_numel(const Conv *c) { return dpa_model_conv_numel(c); }
static int64_t block_numel(const ResBlock *b)
{
    return conv_numel(&b->c1) + conv_numel(&b->c2) + conv_numel(&b->skip) + bn_numel(&b->pre);
}
static int64_t stage_numel(const Stage *s)
{
    return block_numel(&s->main) + (s->has_extra ? block_numel(&s->extra) : 0);
}

int64_t dpa_model_stab_params(const DpaModel *m, bool encoder, int res)
{
    if ((encoder ? m->arch.enc_type : m->arch.dec_type) == DPA_REGULAR)
        return dpa_regular_stab_params(m, encoder, res);
    int64_t n = 0;
    if (encoder) {
        const FromRgb *f = &m->from_rgb[ilog2(res)];
        n += conv_numel(&f->conv);
        for (int i = 0; i < f->npre; i++)
            n += block_numel(&f->pre[i]);
        for (int r = res; r >= 2 * m->last; r /= 2)
            n += stage_numel(&m->down[ilog2(r)]);
        n += conv_numel(&m->enc_last_conv) + block_numel(&m->enc_last_block);
    } else {
        n += conv_numel(&m->dec_first_conv) + block_numel(&m->dec_first_block);
        for (int r = 2 * m->last; r <= res; r *= 2)
            n += stage_numel(&m->up[ilog2(r)]);
        n += conv_numel(&m->to_rgb[ilog2(res)]);
    }
    return n;
}

/* ---- forward ---- */

// dpa_model_conv, then LeakyReLU(0.2) with lrelu.
static NNVar *conv_act(NNGraph *g, DpaModel *m, NNVar *x, const Conv *c, bool lrelu)
{
    int pad = c->pad;
    if (c->reflect && pad > 0) {
        x = nn_reflect_pad(g, x, pad);
        pad = 0;
    }
    if (c->scale > 0) {
        // WScale computes s * conv(x) + bias; conv(s * x) + bias is the
        // same by linearity (zero or reflected padding scales with x), up
        // to float rounding, and needs no bias-free conv plus broadcast add.
        float s;
        params_download(m->params, c->scale, &s);
        x = nn_scale(g, x, s);
    }
    NNVar *w = params_var(m->params, c->w), *b = params_var(m->params, c->b);
    if (lrelu && !c->norm) // one op: the same values and gradients, fewer passes
        return nn_conv2d_leaky_relu(g, x, w, b, 1, pad, LRELU_SLOPE);
    x = nn_conv2d(g, x, w, b, 1, pad);
    if (c->norm)
        x = dpa_model_norm(g, m, x, &c->bn);
    return lrelu ? nn_leaky_relu(g, x, LRELU_SLOPE) : x;
}

NNVar *dpa_model_conv(NNGraph *g, DpaModel *m, NNVar *x, const Conv *c) { return conv_act(g, m, x, c, false); }

NNVar *dpa_model_conv_lrelu(NNGraph *g, DpaModel *m, NNVar *x, const Conv *c)
{
    return conv_act(g, m, x, c, true);
}

NNVar *dpa_model_norm(NNGraph *g, DpaModel *m, NNVar *x, const DpaBatchNorm *bn)
{
    Params *p = m->params;
    switch (m->arch.norm) {
    case DPA_NORM_BN:
        // BatchNorm2d defaults: momentum 0.1, eps 1e-5; batch statistics and
        // running updates in training mode, running statistics otherwise.
        return nn_batchnorm2d(g, x, params_var(p, bn->w), params_var(p, bn->b), params_data(p, bn->mean),
                              params_data(p, bn->var), m->training, 0.1f, 1e-5f);
    case DPA_NORM_IN:
        return nn_instance_norm(g, x, 1e-5f); // InstanceNorm2d defaults: eps 1e-5, affine False
    case DPA_NORM_PIXEL:
        return nn_pixel_norm(g, x);
    default:
        return x;
    }
}

static NNVar *conv(NNGraph *g, DpaModel *m, NNVar *x, const Conv *c) { return dpa_model_conv(g, m, x, c); }

NNVar *dpa_model_upsample(NNGraph *g, const DpaModel *m, NNVar *x)
{
    if (!x || m->arch.upsample == DPA_UPSAMPLE_NEAREST)
        return nn_upsample_nearest2(g, x);
    // nn.Upsample(scale_factor=2, mode='bilinear'): align_corners False.
    return nn_bilinear(g, x, 2 * x->value.shape[2], 2 * x->value.shape[3]);
}

typedef enum BlockKind { BLOCK_PREACT, BLOCK_DOWN, BLOCK_UP } BlockKind;

// skip(x) + main(x); main = N -> LReLU -> [pool|upsample] -> conv -> N -> LReLU -> conv (1.2).
static NNVar *res_block(NNGraph *g, DpaModel *m, NNVar *x, const ResBlock *b, BlockKind kind)
{
    NNVar *h = nn_leaky_relu(g, dpa_model_norm(g, m, x, &b->pre), LRELU_SLOPE);
    NNVar *s = x;
    if (kind == BLOCK_DOWN) {
        h = nn_avgpool2(g, h);
        s = nn_avgpool2(g, x);
    } else if (kind == BLOCK_UP) {
        h = nn_upsample_nearest2(g, h);
        s = nn_upsample_nearest2(g, x);
    }
    h = dpa_model_conv_lrelu(g, m, h, &b->c1);
    h = conv(g, m, h, &b->c2);
    if (b->skip.w >= 0)
        s = conv(g, m, s, &b->skip);
    return nn_add(g, s, h);
}

static NNVar *stage_forward(NNGraph *g, DpaModel *m, NNVar *x, const Stage *s, BlockKind kind)
{
    x = res_block(g, m, x, &s->main, kind);
    return s->has_extra ? res_block(g, m, x, &s->extra, BLOCK_PREACT) : x;
}

static NNVar *from_rgb(NNGraph *g, DpaModel *m, NNVar *x, int res)
{
    const FromRgb *f = &m->from_rgb[ilog2(res)];
    x = conv(g, m, x, &f->conv);
    for (int i = 0; i < f->npre; i++)
        x = res_block(g, m, x, &f->pre[i], BLOCK_PREACT);
    return x;
}

static NNVar *to_rgb(NNGraph *g, DpaModel *m, NNVar *x, int res)
{
    return conv(g, m, nn_leaky_relu(g, x, LRELU_SLOPE), &m->to_rgb[ilog2(res)]);
}

NNVar *dpa_encode(NNGraph *g, DpaModel *m, NNVar *x, PgStage stage, int res, float alpha)
{
    if (m->arch.enc_type == DPA_REGULAR)
        return dpa_regular_encode(g, m, x, stage, res, alpha);
    NNVar *h;
    int r = res;
    if (stage == PG_TRNS && res > m->min_res) {
        // ConcatLayer(low, high) -> Fadein (3.5).
        NNVar *low = from_rgb(g, m, nn_avgpool2(g, x), res / 2);
        NNVar *high = stage_forward(g, m, from_rgb(g, m, x, res), &m->down[ilog2(res)], BLOCK_DOWN);
        h = nn_fadein(g, low, high, alpha);
        r = res / 2;
    } else {
        h = from_rgb(g, m, x, res);
    }
    for (; r >= 2 * m->last; r /= 2)
        h = stage_forward(g, m, h, &m->down[ilog2(r)], BLOCK_DOWN);
    if (m->arch.latent_res == 1)
        return conv(g, m, nn_leaky_relu(g, h, LRELU_SLOPE), &m->enc_last_conv);
    return res_block(g, m, h, &m->enc_last_block, BLOCK_PREACT);
}

NNVar *dpa_decode(NNGraph *g, DpaModel *m, NNVar *z, PgStage stage, int res, float alpha)
{
    if (m->arch.dec_type == DPA_REGULAR)
        return dpa_regular_decode(g, m, z, stage, res, alpha);
    NNVar *h;
    if (m->arch.latent_res == 1)
        h = conv(g, m, nn_leaky_relu(g, z, LRELU_SLOPE), &m->dec_first_conv);
    else
        h = res_block(g, m, z, &m->dec_first_block, BLOCK_PREACT);
    bool trns = stage == PG_TRNS && res > m->min_res;
    int top = trns ? res / 2 : res;
    for (int r = 2 * m->last; r <= top; r *= 2)
        h = stage_forward(g, m, h, &m->up[ilog2(r)], BLOCK_UP);
    if (!trns)
        return to_rgb(g, m, h, res);
    // The transition's low path upsamples with upsample_mode (3.5).
    NNVar *low = dpa_model_upsample(g, m, to_rgb(g, m, h, res / 2));
    NNVar *high = to_rgb(g, m, stage_forward(g, m, h, &m->up[ilog2(res)], BLOCK_UP), res);
    return nn_fadein(g, low, high, alpha);
}

NNVar *dpa_mix_resolution(NNGraph *g, NNVar *x, int max_res, PgStage stage, int res, float alpha)
{
    NNVar *high = res == max_res ? x : nn_downscale_bilinear(g, x, max_res / res);
    if (stage != PG_TRNS)
        return high;
    NNVar *low = nn_upsample_nearest2(g, nn_downscale_bilinear(g, x, max_res / (res / 2)));
    return nn_fadein(g, low, high, alpha);
}
