/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpa_arch: the shape of the DPA encoder and decoder families (spec
 * dpa-piad.md 2 and 3): which channel count each resolution gets from the
 * configured inner_dims lists, and how many parameters each network has.
 *
 * The mapping is the original's, Python negative indexing included: the
 * encoder reads inner_dims from the END (inner_dims[-1] is the channel count
 * at the lowest resolution), the decoder from the START; surplus entries are
 * ignored. Parameter counts are for the stab network at a resolution (the
 * modules that network uses), and reproduce the spec's table 3.6 - a check
 * that a configuration builds the paper's network.
 *
 * Not for: building layers (the model module does that from this plan).
 * Thread safety: pure functions.
 *
 *     DpaArch a = {.enc_type = DPA_RESIDUAL18, .dec_type = DPA_RESIDUAL18, .image_dim = 3,
 *                  .max_res = 64, .latent_res = 8, .latent_dim = 4,
 *                  .enc_dims = {4, 4, 4, 4}, .n_enc = 4, .dec_dims = {4, 4, 4, 4}, .n_dec = 4};
 *     if (!dpa_arch_check(&a, &err)) ...
 *     int64_t n = dpa_encoder_params(&a, 64);    // 2776
 */
#ifndef ADKIT_DPA_ARCH_H
#define ADKIT_DPA_ARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define DPA_MAX_DIMS 16

typedef enum DpaNetType {
    DPA_REGULAR,    /* plain conv stacks (3.3); no final config uses it */
    DPA_RESIDUAL9,  /* one PreAct block per stage (PIAD) */
    DPA_RESIDUAL18, /* two per stage (every final DPA config) */
    DPA_NET_TYPE_COUNT
} DpaNetType;

/* "regular", "residual9", "residual18". */
const char *dpa_net_type_name(DpaNetType t);
/* Parses a name as above; false when unknown. */
bool dpa_net_type_parse(const char *name, DpaNetType *out);

/* The block options of the original's networks (spec 1.1, 3.3). Value 0 of
 * each is the original's default, which every final configuration uses. */
typedef enum DpaNorm { DPA_NORM_NONE, DPA_NORM_BN, DPA_NORM_IN, DPA_NORM_PIXEL, DPA_NORM_COUNT } DpaNorm;
typedef enum DpaPadType { DPA_PAD_ZERO, DPA_PAD_REFLECT, DPA_PAD_TYPE_COUNT } DpaPadType;
typedef enum DpaPool { DPA_POOL_AVG, DPA_POOL_MAX, DPA_POOL_COUNT } DpaPool;
typedef enum DpaUpsample { DPA_UPSAMPLE_NEAREST, DPA_UPSAMPLE_BILINEAR, DPA_UPSAMPLE_COUNT } DpaUpsample;

/* Names as in the original's configurations: norm "none", "bn", "in",
 * "pixel"; pad_type "zero", "reflect"; pool "avg", "max"; upsample_mode
 * "nearest", "bilinear". Parsers return false for an unknown name. */
const char *dpa_norm_name(DpaNorm v);
bool dpa_norm_parse(const char *name, DpaNorm *out);
const char *dpa_pad_type_name(DpaPadType v);
bool dpa_pad_type_parse(const char *name, DpaPadType *out);
const char *dpa_pool_name(DpaPool v);
bool dpa_pool_parse(const char *name, DpaPool *out);
const char *dpa_upsample_name(DpaUpsample v);
bool dpa_upsample_parse(const char *name, DpaUpsample *out);

typedef struct DpaArch {
    DpaNetType enc_type, dec_type;
    int image_dim;                    /* 1 grey, 3 RGB */
    int max_res;                      /* image side at the final stage */
    int latent_res;                   /* 1 (a 4x4 conv ends the encoder) or a power of two */
    int latent_dim;                   /* channels of the code */
    int64_t enc_dims[DPA_MAX_DIMS];   /* inner_dims of the encoder, as configured */
    int n_enc;
    int64_t dec_dims[DPA_MAX_DIMS];   /* inner_dims of the decoder, as configured */
    int n_dec;
    /* Block options (1.1-1.3, 3.3). The residual families use norm (in
     * their PreAct blocks), pad_type (every padded conv but the decoder's
     * first 4x4) and upsample_mode (only the low-resolution path of a
     * decoder transition: the original's residual blocks do not receive
     * it); pool, use_wscale, use_mbstddev and normalize_latents belong to
     * the regular family alone, as in the original. */
    DpaNorm norm;
    DpaPadType pad_type;
    DpaPool pool;                     /* regular encoder: the pooling after each block */
    DpaUpsample upsample;             /* regular decoder blocks and decoder transitions */
    bool use_wscale;                  /* regular: equalised learning rate (WScaleLayer, 1.3) */
    bool use_mbstddev;                /* regular encoder: minibatch stddev channel before the last block;
                                         as in the original, a code then depends on the other images of
                                         its batch (scores on test_batch_size) */
    bool normalize_latents;           /* regular decoder: PixelNorm of the code */
} DpaArch;

/* The resolution where the encoder stops and the decoder starts (4 when
 * latent_res is 1, since a 4x4 conv maps 4x4 to 1x1). */
int dpa_last_res(const DpaArch *a);

/* Channels of the encoder at resolution r (nf_enc), or -1 when the list is
 * too short for r. */
int dpa_enc_channels(const DpaArch *a, int res);

/* Channels of the decoder at resolution r (nf_dec), or -1. */
int dpa_dec_channels(const DpaArch *a, int res);

/* Checks that every resolution from max_res down to the latent has a
 * channel count, that sizes are powers of two, and that a latent_res > 1
 * residual decoder gets latent_dim == nf_dec(first) (the original ignores
 * latent_dim there and requires it). Refuses use_mbstddev with a residual
 * encoder and reflection padding of a 1x1 code (PyTorch fails on both
 * too), instance norm of the regular encoder's 1x1 maps (all zeros), and a
 * regular encoder whose images are not larger than its last block. */
bool dpa_arch_check(const DpaArch *a, Err *err);

/* Parameters (weights and biases; with use_wscale also each regular conv's
 * scale, with bn each batch norm's weight and bias, as torch's parameters()
 * counts them) of the stab encoder / decoder at res. */
int64_t dpa_encoder_params(const DpaArch *a, int res);
int64_t dpa_decoder_params(const DpaArch *a, int res);

#endif
