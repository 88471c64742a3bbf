/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpa_adversarial: the image discriminator `ddis` of the DPA adversarial
 * ablations (with_adversarial, with_adversarial_L1; spec dpa-piad.md 5.7,
 * 6.2, 9.1, 9.2): the wasserstein discriminator loss with gradient penalty,
 * its gradients for one discriminator step, and the generator term that
 * joins the reconstruction loss.
 *
 * The discriminator is a DPA encoder with one output (dpa_model_new_encoder
 * with DpaConfig.ddis), evaluated as the stage's network (stab(r) or
 * trns(r), fade-in alpha) like the encoder. With real x, fake x~ (the
 * autoencoder's reconstructions, detached) and per-sample a_b in [0, 1):
 *
 *     W    = mean D(x) - mean D(x~)
 *     norm = mean D(x)^2 + mean D(x~)^2
 *     x^_b = a_b x_b + (1 - a_b) x~_b,   g_b = d sum D(x^) / d x^_b
 *     GP   = mean_b (||g_b||_2 - gamma)^2 / gamma^2
 *     D-loss = -lambd W + norm_penalty norm + gradient_penalty GP
 *
 * GP needs the gradient of g_b with respect to D's parameters: a double
 * backward (nn_grad with create_graph). The generator term is
 * -mean D(rec), with gradients flowing into the autoencoder.
 *
 * A batch is processed in parts of at most `micro` images whose parameter
 * gradients accumulate: every term above is a batch mean, so the batch's
 * loss is the sum of the parts' losses times their share of the batch (the
 * same value up to float summation order; the parts are fixed by the batch
 * and micro, so results do not depend on threads).
 *
 * Not for: the training loop (dpa_train.h), the alpha draws (the caller's
 * seeded Rng), the optimiser step. Thread safety: one graph and model per
 * thread. Errors: Err (shape mismatches, a failed graph).
 *
 *     DpaDisTerms t;
 *     if (!dpa_dis_gradients(g, ddis, &dc.wgan, real, fake, alpha, B, PG_STAB, 64, 1.0f, 32, &t, &err))
 *         ...
 *     nn_adam_step(&ddis_adam);     // t.loss, t.wass, t.norm, t.gp for the log
 */
#ifndef ADKIT_DPA_ADVERSARIAL_H
#define ADKIT_DPA_ADVERSARIAL_H

#include <stdbool.h>
#include <stdint.h>

#include "dpa_config.h"
#include "dpa_model.h"
#include "err.h"
#include "nn.h"
#include "pg.h"

/* The terms of a discriminator loss as they enter it (as the original logs
 * them): wass = -lambd W, norm = norm_penalty (mean D(x)^2 + mean D(x~)^2),
 * gp = gradient_penalty GP; loss = wass + norm + gp. */
typedef struct DpaDisTerms {
    double loss, wass, norm, gp;
} DpaDisTerms;

/* The discriminator loss of the images real and fake (n images of
 * (C, res, res) each, host memory, C = the discriminator's image_dim) on
 * graph g (not reset here; recording for backward must be on), with
 * alpha[n] the interpolation weights of the gradient penalty. real and fake
 * enter as constants (no gradient reaches them). Returns the scalar loss
 * var; terms (if non-NULL) receive the three term vars (scalars) in the
 * order wass, norm, gp. NULL with err set on a failed graph or allocation. */
NNVar *dpa_dis_loss(NNGraph *g, DpaModel *ddis, const DpaWgan *w, const float *real, const float *fake,
                    const float *alpha, int64_t n, PgStage stage, int res, float fade, NNVar *terms[3], Err *err);

/* One discriminator step's gradients: zeroes ddis's gradients, then
 * accumulates the gradients of the loss of the batch real, fake (n images
 * of (C, res, res) each, host memory, C = the discriminator's image_dim)
 * with interpolation weights alpha[n], in parts of at most micro images.
 * Fills *out with the batch's loss and terms. The caller runs the
 * optimiser. False (message in err) on a failed graph. */
bool dpa_dis_gradients(NNGraph *g, DpaModel *ddis, const DpaWgan *w, const float *real, const float *fake,
                       const float *alpha, int64_t n, PgStage stage, int res, float fade, int64_t micro,
                       DpaDisTerms *out, Err *err);

/* The generator term -mean D(rec) (scalar) of reconstructions rec
 * (N, C, res, res) on graph g; gradients flow into rec (and into ddis's
 * parameters, which the next discriminator step zeroes). */
NNVar *dpa_gen_adv_loss(NNGraph *g, DpaModel *ddis, NNVar *rec, PgStage stage, int res, float fade);

#endif
