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
 * decoder gets latent_dim == nf_dec(first) (the original ignores latent_dim
 * there and requires it). */
bool dpa_arch_check(const DpaArch *a, Err *err);

/* Parameters (weights and biases) of the stab encoder / decoder at res. */
int64_t dpa_encoder_params(const DpaArch *a, int res);
int64_t dpa_decoder_params(const DpaArch *a, int res);

#endif
