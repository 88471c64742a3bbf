/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpa_config: the configuration of a DPA experiment, its keys and their
 * meaning, turned from a Config (config.h) into a checked struct.
 *
 * One file per final experiment of the paper lives in pipelines/configs/
 * (values from spec dpa-piad.md 9); ad-train reads one with --config and lets
 * flags override keys. dpa_schema lists every key with its type, default and
 * a line of help (ad-train --help-config prints it). Per-resolution keys carry
 * the resolution as a suffix: `layers.32 = r32`, `stab_iters.64 = 8666`,
 * `trns_iters.32 = 20000`, `batch_size.16 = 128`.
 *
 * Not for: training itself. Thread safety: pure functions over the inputs.
 *
 *     Config *c = config_new(&err);
 *     DpaConfig dc;
 *     if (!config_load_file(c, path, &err) || !dpa_config_from(c, &dc, &err)) ...
 *     int64_t n = dc.iters[2][PG_STAB];
 */
#ifndef ADKIT_DPA_CONFIG_H
#define ADKIT_DPA_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "dpa_arch.h"
#include "err.h"
#include "pg.h"

#define DPA_MAX_LAYERS 8

extern const ConfigKey dpa_schema[];

typedef enum DpaLoss {
    DPA_LOSS_L1,
    DPA_LOSS_L2,
    DPA_LOSS_PERCEPTUAL,          /* no feature normalisation, squared, absolute */
    DPA_LOSS_RELATIVE_PERCEPTUAL, /* relative_perceptual_L1: the paper's loss */
    DPA_LOSS_COMPOSE,             /* relative_perceptual_L1 + compose_l1_weight * L1 */
    DPA_LOSS_COUNT
} DpaLoss;

typedef enum DpaCrop { DPA_CROP_NONE, DPA_CROP_CENTER, DPA_CROP_RANDOM, DPA_CROP_COUNT } DpaCrop;

/* The perceptual layers and weights of one resolution. */
typedef struct DpaLayers {
    int count;
    char names[DPA_MAX_LAYERS][8]; /* VGG taps: "r32", "r42", ... */
    double weights[DPA_MAX_LAYERS];
} DpaLayers;

/* The wasserstein adversarial loss with gradient penalty (spec 5.7):
 * D-loss = -lambd * W + norm_penalty * norm + gradient_penalty * GP with
 * target norm gamma. Every configuration of the paper: 1, 10, 0.001, 1. */
typedef struct DpaWgan {
    double lambd;
    double gradient_penalty;
    double norm_penalty;
    double gamma;
} DpaWgan;

/* Discriminator steps per iteration at most (each draws its own batch). */
#define DPA_MAX_N_DIS 16

typedef struct DpaConfig {
    DpaArch arch;              /* networks */
    PgPlan plan;               /* resolutions and iterations per stage */
    DpaLoss loss;
    DpaLayers layers[PG_MAX_LEVELS]; /* per resolution level (initial_res << k) */
    double compose_l1_weight;
    /* Adversarial ablations (spec 6.2, 9.1, 9.2): adv_weight * (-mean ddis(rec))
     * joins the loss when adv_weight != 0; n_dis discriminator steps per
     * iteration, each on a fresh batch (drawn even when adv_weight is 0, as the
     * original does). ddis: the discriminator's architecture (latent_res 1,
     * latent_dim 1; its inner dims in enc_dims and dec_dims), set when
     * adv_weight != 0. */
    double adv_weight;
    int n_dis;
    DpaArch ddis;
    DpaWgan wgan;
    bool use_smooth_pg;
    double lr;
    int64_t batch_size[PG_MAX_LEVELS];
    uint64_t seed;
    /* training transforms (test-time uses centre crops only) */
    DpaCrop crop;
    int crop_size;             /* 0: none */
    bool flip;                 /* random horizontal then vertical flips, p = 0.5 each */
    int center_crop;           /* NIH: crop 224 or 300 before resizing; 0: none */
    int resize;                /* 0: none; else the side after resizing (Pillow bilinear) */
    int pad;                   /* zero pixels on every side, last (Fashion-MNIST 28 -> 32); 0: none */
    bool equalize;             /* ImageOps.equalize after cropping */
    bool grey;                 /* convert('L') */
    bool cache_data;           /* transform each image once (the pg configs' quirk) */
    int test_batch_size;
    const char *vgg;           /* "vgg19" (torchvision) or "vgg19-normalised"; borrowed from the Config */
    int64_t checkpoint_every;  /* iterations between checkpoints */
    int64_t sample_every;      /* iterations between reconstruction grids */
    int64_t log_every;         /* iterations between loss log lines */
    bool precise_conv;         /* conv_set_precise for the whole run (conv.h) */
} DpaConfig;

/* "l1", "l2", "perceptual", "relative_perceptual_L1", "compose". */
const char *dpa_loss_name(DpaLoss l);

/* Applies defaults, validates against dpa_schema, and fills dc. Strings in
 * dc borrow from c. Errors name the key and where it was set. */
bool dpa_config_from(Config *c, DpaConfig *dc, Err *err);

/* Level index k of resolution r (r = initial_res << k). */
int dpa_config_level(const DpaConfig *dc, int res);

#endif
