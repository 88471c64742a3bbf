/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpa_model_impl: what dpa_model.c (the residual families, the dispatch)
 * and dpa_model_regular.c (the regular family, spec 3.3) share: the model
 * struct and the ConvBlock helpers. Tools and other modules use dpa_model.h.
 */
#ifndef ADKIT_DPA_MODEL_IMPL_H
#define ADKIT_DPA_MODEL_IMPL_H

#include "dpa_model.h"

#define DPA_LRELU_SLOPE 0.2f
#define DPA_MAX_LOG2 17
#define DPA_MAX_CONVS 512

/* How dpa_model_add_conv declares a ConvBlock (spec 1.1). */
enum {
    DPA_CONV_PAD_TYPE = 1, /* the block gets the configured pad_type (else 'zero') */
    DPA_CONV_WSCALE = 2,   /* the block gets the configured use_wscale (else none) */
    DPA_CONV_XAVIER = 4,   /* ConvBlock init only: xavier_uniform (else kaiming, 3.4) */
    DPA_CONV_LRELU = 8,    /* the block's act is leaky_relu: xavier gain sqrt(2/1.04) (else 1) */
    DPA_CONV_NORM = 16,    /* the block gets the configured norm after its conv (else 'none') */
};

/* A BatchNorm2d with torch's defaults (affine, eps 1e-5, momentum 0.1):
 * parameter indices of weight, bias and the running statistics (stored as
 * parameters that never get a gradient, so Adam leaves them as they are);
 * w < 0: none. */
typedef struct DpaBatchNorm {
    int w, b, mean, var;
    int channels;
} DpaBatchNorm;

/* One ConvBlock's Conv2d (and WScale layer). */
typedef struct DpaConv {
    int w, b;       /* parameter indices; w < 0: absent */
    int scale;      /* WScale's 1-element scale parameter, or -1 (never 0) */
    int in, out, k, pad;
    bool reflect;   /* ReflectionPad2d(pad) then an unpadded conv */
    bool norm;      /* the configured norm follows the conv (and WScale) */
    DpaBatchNorm bn; /* that norm's parameters when it is bn */
    bool xavier;    /* initialised by xavier_uniform(gain) (regular) instead of kaiming (residual) */
    double gain;
} DpaConv;

/* PreActResnetBlock / Down / Up (1.2): two 3x3 convs and an optional 1x1 skip. */
typedef struct DpaResBlock {
    DpaConv c1, c2, skip;
    DpaBatchNorm pre; /* the main path's first norm, when it is bn */
} DpaResBlock;

/* One stage of the residual encoder or decoder: a Down/Up block and, in
 * residual18, a PreAct block after it. */
typedef struct DpaStage {
    DpaResBlock main, extra;
    bool has_extra;
} DpaStage;

/* Residual fromRGB: a 3x3 conv and one (residual9) or two (residual18) PreAct blocks. */
typedef struct DpaFromRgb {
    DpaConv conv;
    DpaResBlock pre[2];
    int npre;
} DpaFromRgb;

struct DpaModel {
    DpaArch arch;
    int min_res, last;
    char enc_name[16];                 /* prefix of the encoder's parameter names: "enc", or "ddis" */
    bool enc_only;                     /* an encoder alone (the image discriminator): no decoder modules */
    bool training;                     /* batch norm: batch statistics (and running updates) */
    Params *params;
    /* residual families (3.1, 3.2), indexed by log2(res) */
    DpaFromRgb from_rgb[DPA_MAX_LOG2]; /* min_res .. max_res */
    DpaStage down[DPA_MAX_LOG2];       /* encoder res_r, r = max .. 2 last */
    DpaConv enc_last_conv;             /* latent_res 1: LReLU -> conv 4x4 */
    DpaResBlock enc_last_block;        /* latent_res > 1: PreAct(nf(last), latent_dim) */
    DpaConv dec_first_conv;            /* latent_res 1: LReLU -> conv 4x4 pad 3 */
    DpaResBlock dec_first_block;
    DpaStage up[DPA_MAX_LOG2];         /* decoder res_r, r = 2 first .. max */
    DpaConv to_rgb[DPA_MAX_LOG2];      /* residual: LReLU -> conv 3x3; regular: conv 1x1 */
    /* regular family (3.3), indexed by log2(res) */
    DpaConv reg_from_rgb[DPA_MAX_LOG2]; /* 1x1 + LReLU, min_res .. max_res */
    DpaConv reg_down[DPA_MAX_LOG2][2];  /* res_r: two 3x3 + LReLU, then pooling */
    DpaConv reg_last[3];                /* [mbstd], 3x3 + LReLU, 4x4 or 3x3 + LReLU, 1x1 */
    DpaConv reg_first[2];               /* [PixelNorm], 4x4 pad 3 or 3x3 + LReLU, 3x3 + LReLU */
    DpaConv reg_up[DPA_MAX_LOG2][2];    /* res_r: upsampling, two 3x3 + LReLU */
    DpaConv convs[DPA_MAX_CONVS];       /* every conv, in declaration order (initialisation) */
    int nconvs;
    DpaBatchNorm bns[2 * DPA_MAX_CONVS]; /* every batch norm (initialisation) */
    int nbns;
};

int dpa_model_log2(int v);

/* Declares the Conv2d of the ConvBlock named block (e.g. "enc.res_64.0"):
 * `block.model.0.weight/.bias`, shifted by one past a ReflectionPad2d, and
 * with WScale `block.model.1.scale` and the bias moved to
 * `block.model.1.bias` (3.7, layers.py). flags: DPA_CONV_*. On failure
 * returns a DpaConv with w = -1 and sets err. */
DpaConv dpa_model_add_conv(DpaModel *m, const char *block, int in, int out, int k, int pad, int flags, Err *err);

/* The ConvBlock without its activation: [ReflectionPad2d], Conv2d,
 * [WScale], [norm]: x (N, in, H, W) -> (N, out, H', W'). */
NNVar *dpa_model_conv(NNGraph *g, DpaModel *m, NNVar *x, const DpaConv *c);
/* The ConvBlock with act = leaky_relu (0.2): one fused op where there is no
 * norm between the two (the same values and gradients either way). */
NNVar *dpa_model_conv_lrelu(NNGraph *g, DpaModel *m, NNVar *x, const DpaConv *c);

/* Declares a BatchNorm2d of `channels` named `layer` (.weight, .bias,
 * .running_mean, .running_var) when the configured norm is bn; otherwise
 * returns one with w = -1. On failure w = -1 and err is set (check err). */
DpaBatchNorm dpa_model_add_bn(DpaModel *m, const char *layer, int channels, Err *err);

/* The configured norm layer: instance, pixel, or bn (the site's
 * parameters); x itself for none. */
NNVar *dpa_model_norm(NNGraph *g, DpaModel *m, NNVar *x, const DpaBatchNorm *bn);

/* Upsample x2 with the configured upsample_mode. */
NNVar *dpa_model_upsample(NNGraph *g, const DpaModel *m, NNVar *x);

/* Elements of one conv's parameters (0 when absent). */
int64_t dpa_model_conv_numel(const DpaConv *c);

/* The regular family (dpa_model_regular.c): declaring the encoder's and
 * the decoder's modules, their stab parameter counts, and the networks of a
 * stage, as dpa_encode/dpa_decode. */
bool dpa_regular_build_encoder(DpaModel *m, Err *err);
bool dpa_regular_build_decoder(DpaModel *m, Err *err);
int64_t dpa_regular_stab_params(const DpaModel *m, bool encoder, int res);
NNVar *dpa_regular_encode(NNGraph *g, DpaModel *m, NNVar *x, PgStage stage, int res, float alpha);
NNVar *dpa_regular_decode(NNGraph *g, DpaModel *m, NNVar *z, PgStage stage, int res, float alpha);

#endif
