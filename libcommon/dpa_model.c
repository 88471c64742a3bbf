/* SPDX-License-Identifier: Apache-2.0 */
/* dpa_model: the DPA encoder/decoder (see dpa_model.h). */
#include "dpa_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_init.h"
#include "rng.h"

#define LRELU_SLOPE 0.2f
#define MAX_LOG2 17
#define MAX_CONVS 512

typedef struct Conv {
    int w, b;          /* parameter indices; w < 0: absent */
    int in, out, k, pad;
} Conv;

/* PreActResnetBlock / Down / Up (1.2): two 3x3 convs and an optional 1x1 skip. */
typedef struct ResBlock {
    Conv c1, c2, skip;
} ResBlock;

/* One stage of the encoder or decoder: a Down/Up block and, in residual18,
 * a PreAct block after it. */
typedef struct Stage {
    ResBlock main, extra;
    bool has_extra;
} Stage;

/* fromRGB: a 3x3 conv and one (residual9) or two (residual18) PreAct blocks. */
typedef struct FromRgb {
    Conv conv;
    ResBlock pre[2];
    int npre;
} FromRgb;

struct DpaModel {
    DpaArch arch;
    int min_res, last;
    char enc_name[16];          /* prefix of the encoder's parameter names: "enc", or "ddis" */
    bool enc_only;              /* an encoder alone (the image discriminator): no decoder modules */
    Params *params;
    FromRgb from_rgb[MAX_LOG2]; /* by log2(res), min_res .. max_res */
    Stage down[MAX_LOG2];       /* encoder res_r, r = max .. 2 last */
    Conv enc_last_conv;         /* latent_res 1: LReLU -> conv 4x4 */
    ResBlock enc_last_block;    /* latent_res > 1: PreAct(nf(last), latent_dim) */
    Conv dec_first_conv;        /* latent_res 1: LReLU -> conv 4x4 pad 3 */
    ResBlock dec_first_block;
    Stage up[MAX_LOG2];         /* decoder res_r, r = 2 first .. max */
    Conv to_rgb[MAX_LOG2];      /* LReLU -> conv 3x3 */
    Conv convs[MAX_CONVS];      /* every conv, in declaration order (initialisation) */
    int nconvs;
};

static int ilog2(int v)
{
    int k = 0;
    while ((1 << k) < v)
        k++;
    return k;
}

static Conv add_conv(DpaModel *m, const char *prefix, int in, int out, int k, int pad, Err *err)
{
    Conv c = {.w = -1, .b = -1, .in = in, .out = out, .k = k, .pad = pad};
    if (m->nconvs == MAX_CONVS) {
        err_set(err, "dpa model: more than %d convolutions", MAX_CONVS);
        return c;
    }
    char name[256];
    snprintf(name, sizeof name, "%s.weight", prefix);
    c.w = params_add(m->params, name, 4, (int64_t[]){out, in, k, k}, err);
    snprintf(name, sizeof name, "%s.bias", prefix);
    c.b = c.w < 0 ? -1 : params_add(m->params, name, 1, (int64_t[]){out}, err);
    if (c.b < 0)
        c.w = -1;
    else
        m->convs[m->nconvs++] = c;
    return c;
}

// PreActResnetBlock keys: main convs .model.1/.model.2, skip .skipcon;
// Down/Up: .model.2/.model.3 (after LReLU and the pool/upsample), skip
// .skipcon.1 (after the pool/upsample) (3.7).
static bool add_block(DpaModel *m, ResBlock *b, const char *prefix, int in, int out, bool updown, Err *err)
{
    char name[256];
    memset(b, 0, sizeof *b);
    b->skip.w = -1;
    snprintf(name, sizeof name, "%s.model.%d.model.0", prefix, updown ? 2 : 1);
    b->c1 = add_conv(m, name, in, out, 3, 1, err);
    if (b->c1.w < 0)
        return false;
    snprintf(name, sizeof name, "%s.model.%d.model.0", prefix, updown ? 3 : 2);
    b->c2 = add_conv(m, name, out, out, 3, 1, err);
    if (b->c2.w < 0)
        return false;
    if (in != out) {
        snprintf(name, sizeof name, "%s.skipcon.%smodel.0", prefix, updown ? "1." : "");
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

static bool build(DpaModel *m, Err *err)
{
    const DpaArch *a = &m->arch;
    int R = a->max_res, last = m->last;
    char name[128];
    // Encoder: fromRGB per resolution (high to low), res_r, last block.
    for (int r = R; r >= m->min_res; r /= 2) {
        FromRgb *f = &m->from_rgb[ilog2(r)];
        int nf = dpa_enc_channels(a, r);
        snprintf(name, sizeof name, "%s.preprocess_res_%d.0.model.0", m->enc_name, r);
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
        if (!add_stage(m, &m->down[ilog2(r)], m->enc_name, r, dpa_enc_channels(a, r), dpa_enc_channels(a, r / 2), err))
            return false;
    if (a->latent_res == 1) {
        snprintf(name, sizeof name, "%s.res_%d.1.model.0", m->enc_name, last);
        m->enc_last_conv = add_conv(m, name, dpa_enc_channels(a, last), a->latent_dim, 4, 0, err);
        if (m->enc_last_conv.w < 0)
            return false;
    } else {
        snprintf(name, sizeof name, "%s.res_%d", m->enc_name, last);
        if (!add_block(m, &m->enc_last_block, name, dpa_enc_channels(a, last), a->latent_dim, false, err))
            return false;
    }
    if (m->enc_only)
        return params_alloc(m->params, err);
    // Decoder: first block, res_r (low to high), toRGB per resolution.
    if (a->latent_res == 1) {
        snprintf(name, sizeof name, "dec.res_%d.1.model.0", last);
        m->dec_first_conv = add_conv(m, name, a->latent_dim, dpa_dec_channels(a, last), 4, 3, err);
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
        snprintf(name, sizeof name, "dec.postprocess_res_%d.1.model.0", r);
        m->to_rgb[ilog2(r)] = add_conv(m, name, dpa_dec_channels(a, r), a->image_dim, 3, 1, err);
        if (m->to_rgb[ilog2(r)].w < 0)
            return false;
    }
    return params_alloc(m->params, err);
}

static DpaModel *model_new(const NNBackend *be, const DpaArch *arch, int min_res, const char *enc_name,
                           bool enc_only, Err *err)
{
    if (!dpa_arch_check(arch, err))
        return NULL;
    if (arch->enc_type == DPA_REGULAR || arch->dec_type == DPA_REGULAR) {
        err_set(err, "the regular encoder/decoder family is not available (no final configuration of the "
                     "paper uses it); use residual18 or residual9");
        return NULL;
    }
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
        int64_t kk = (int64_t)c->k * c->k;
        float *w = params_data(m->params, c->w);
        float *b = params_data(m->params, c->b);
        nn_init_kaiming_normal(w, (int64_t)c->out * c->in * kk, gain, c->out * kk, &rng);
        nn_init_torch_default_bias(b, c->out, c->in * kk, &rng);
    }
}

Params *dpa_model_params(DpaModel *m) { return m->params; }
const DpaArch *dpa_model_arch(const DpaModel *m) { return &m->arch; }

static int64_t conv_numel(const Conv *c) { return c->w < 0 ? 0 : (int64_t)c->out * c->in * c->k * c->k + c->out; }
static int64_t block_numel(const ResBlock *b) { return conv_numel(&b->c1) + conv_numel(&b->c2) + conv_numel(&b->skip); }
static int64_t stage_numel(const Stage *s)
{
    return block_numel(&s->main) + (s->has_extra ? block_numel(&s->extra) : 0);
}

int64_t dpa_model_stab_params(const DpaModel *m, bool encoder, int res)
{
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

static NNVar *conv(NNGraph *g, DpaModel *m, NNVar *x, const Conv *c)
{
    return nn_conv2d(g, x, params_var(m->params, c->w), params_var(m->params, c->b), 1, c->pad);
}

typedef enum BlockKind { BLOCK_PREACT, BLOCK_DOWN, BLOCK_UP } BlockKind;

// skip(x) + main(x); main = LReLU -> [pool|upsample] -> conv -> LReLU -> conv (1.2).
static NNVar *res_block(NNGraph *g, DpaModel *m, NNVar *x, const ResBlock *b, BlockKind kind)
{
    NNVar *h = nn_leaky_relu(g, x, LRELU_SLOPE);
    NNVar *s = x;
    if (kind == BLOCK_DOWN) {
        h = nn_avgpool2(g, h);
        s = nn_avgpool2(g, x);
    } else if (kind == BLOCK_UP) {
        h = nn_upsample_nearest2(g, h);
        s = nn_upsample_nearest2(g, x);
    }
    h = conv(g, m, h, &b->c1);
    h = nn_leaky_relu(g, h, LRELU_SLOPE);
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
    NNVar *low = nn_upsample_nearest2(g, to_rgb(g, m, h, res / 2));
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
