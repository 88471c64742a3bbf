/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpa_model: the Deep Perceptual Autoencoder's encoder and decoder (spec
 * dpa-piad.md 1.2, 2, 3.1-3.5, 3.7), for the residual9 and residual18
 * families and the regular one (3.3, in dpa_model_regular.c); the encoder
 * and the decoder may be of different families.
 *
 * Every module of every resolution the schedule visits is created once, in
 * one Params set: fromRGB (`enc.preprocess_res_R`) and toRGB
 * (`dec.postprocess_res_R`) per resolution, the down/up blocks `res_R`, the
 * encoder's last and the decoder's first block. The network of a stage
 * (stab(r) or trns(r)) is a view over those shared modules, chosen by the
 * arguments of dpa_encode/dpa_decode; in trns(r) the old fromRGB/toRGB of r/2
 * are blended in with a Fadein of weight alpha (3.5). Parameter names follow
 * the original state dict with the network's name as prefix, e.g.
 * `enc.res_64.0.model.2.model.0.weight`, so PyTorch weights can be imported
 * by name (params_load).
 *
 * Initialisation, from the seeded Rng in declaration order: every residual
 * conv weight kaiming_normal(fan_out, leaky_relu a = 0.2) (3.4), every
 * regular conv weight the ConvBlock's xavier_uniform with its activation's
 * gain (1.1; with use_wscale then divided by its scale, 1.3); every bias
 * torch's default U(+-1/sqrt(fan_in)).
 *
 * Block options (dpa_arch.h): norm bn / in / pixel, pad_type, upsample_mode for
 * every family where the original passes them (a norm layer or a
 * ReflectionPad2d shifts the state-dict index of the convs after it, as in
 * PyTorch); pool, use_wscale, use_mbstddev and normalize_latents for the
 * regular family.
 *
 * AMBIGUOUS: torch's state dict of a BatchNorm2d also holds
 * `num_batches_tracked`, an int64 counter used only when momentum is None
 * (never here); it is not kept.
 * AMBIGUOUS: the original also builds fromRGB/toRGB for resolutions below
 * initial_image_res, which no stage uses; this model creates modules only
 * for resolutions initial_image_res .. max_image_res, so a model file holds
 * exactly the parameters the paper's networks use.
 * AMBIGUOUS: the state-dict names of residual9 blocks and of a latent_res > 1
 * last/first block are not given by the spec; residual9 uses `res_R.0` like
 * residual18 (its one block), and the latent_res > 1 block is named
 * `res_L` with the PreAct block's own keys (`res_8.model.1.model.0`).
 *
 * Not for: training loops (dpa_train.h), losses (nn_loss.h).
 * Thread safety: a DpaModel is used by one thread at a time (its Params
 * carry gradients). Ownership: the model owns its Params.
 * Errors: Err; an architecture dpa_arch_check refuses.
 *
 *     DpaModel *m = dpa_model_new(nn_backend_cpu(), &cfg.arch, cfg.plan.initial_res, &err);
 *     dpa_model_init(m, seed);
 *     NNVar *z = dpa_encode(g, m, x, PG_STAB, 64, 1.0f);
 *     NNVar *y = dpa_decode(g, m, z, PG_STAB, 64, 1.0f);
 *     dpa_model_free(m);
 */
#ifndef ADKIT_DPA_MODEL_H
#define ADKIT_DPA_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "dpa_arch.h"
#include "err.h"
#include "nn.h"
#include "params.h"
#include "pg.h"

typedef struct DpaModel DpaModel;

/* Declares and allocates every module for resolutions min_res .. max_res
 * (min_res = the schedule's initial resolution). Values are zero until
 * dpa_model_init or params_load. */
DpaModel *dpa_model_new(const NNBackend *be, const DpaArch *arch, int min_res, Err *err);

/* An encoder alone, as the image discriminator `ddis` of the adversarial
 * ablations (spec 6.1 step 3: an encoder network of the configured type with
 * output_res 1 and output_dim 1, i.e. arch->latent_res = 1 and
 * arch->latent_dim = 1). Its parameters are named `<name>.preprocess_res_R...`
 * (e.g. `ddis.res_64.0.model.2.model.0.weight`), so they can share a file
 * with an autoencoder's. Only dpa_encode applies to it (and
 * dpa_model_stab_params with encoder = true); name: 1..15 characters, not
 * "dec". */
DpaModel *dpa_model_new_encoder(const NNBackend *be, const DpaArch *arch, int min_res, const char *name, Err *err);
void dpa_model_free(DpaModel *m);

/* The paper's initialisation (3.4) from rng_init(seed). */
void dpa_model_init(DpaModel *m, uint64_t seed);

/* Training (the default, as a new torch module) or evaluation mode: with
 * norm = bn, training normalises with the batch statistics and updates the
 * running ones; evaluation (scoring) uses the running statistics. Other
 * layers do not depend on the mode. */
void dpa_model_set_training(DpaModel *m, bool training);

/* The parameters (borrowed; live as long as the model). With norm = bn
 * they include the running statistics (`.running_mean`, `.running_var`),
 * which never get a gradient. */
Params *dpa_model_params(DpaModel *m);
const DpaArch *dpa_model_arch(const DpaModel *m);

/* Parameters of the encoder / decoder used by stab(res) (compare with
 * dpa_encoder_params / dpa_decoder_params). */
int64_t dpa_model_stab_params(const DpaModel *m, bool encoder, int res);

/* The encoder of stage (stage, res): x (N, image_dim, res, res) ->
 * (N, latent_dim, latent_res, latent_res). alpha: the fade-in weight
 * (trns only). */
NNVar *dpa_encode(NNGraph *g, DpaModel *m, NNVar *x, PgStage stage, int res, float alpha);

/* The decoder of stage (stage, res): code -> (N, image_dim, res, res),
 * linear output (no tanh). */
NNVar *dpa_decode(NNGraph *g, DpaModel *m, NNVar *z, PgStage stage, int res, float alpha);

/* MixResolution (4.3): the training batch x at max_res as the stage sees
 * it: stab(r): bilinear downscale by max/r; trns(r): the fade-in of the
 * r/2 version (nearest up-sampled x2) and the r version, float32. */
NNVar *dpa_mix_resolution(NNGraph *g, NNVar *x, int max_res, PgStage stage, int res, float alpha);

#endif
