/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpa_train: the DPA training loop (spec dpa-piad.md 4, 6): progressive
 * growing (or the single stab stage of wo_pg), MixResolution of each batch,
 * the stage's loss (smooth PG in transitions), Adam (betas 0.9/0.999,
 * eps 1e-8) started afresh at every stage, batches from a shuffled
 * drop_last sampler, and the configured transforms.
 *
 * Adversarial ablations (adv_weight != 0, spec 5.7, 6.2): before each
 * autoencoder step, n_dis discriminator steps, each on a fresh batch and its
 * reconstructions (WGAN-GP loss, dpa_adversarial.h; the discriminator's own
 * Adam, also started afresh at every stage); the autoencoder's loss adds
 * adv_weight * (-mean ddis(rec)). With adv_weight 0 the n_dis batches are
 * still drawn, as in the original. The log then has the extra columns
 * rec_loss, adv_loss, wass, norm, gp (the last discriminator step's terms).
 *
 * A step's batch is processed in parts of at most 32 images whose
 * parameter gradients accumulate (the batch mean of the loss is the sum of
 * the parts' means times their share), to bound the activation memory;
 * with use_mbstddev or norm = bn in one part, since their statistics span
 * the batch. As in the original, the sample grids are computed in training
 * mode (spec 6.2: with bn they update the running statistics).
 *
 * Adam at a stage start covers every parameter of the model, not only the
 * stage's networks as in the original; this is the same computation: a
 * parameter outside the stage gets no gradient, so its moments stay zero
 * and its Adam update is exactly 0.
 *
 * AMBIGUOUS: display images (4.2 step 6): as in the original, the first
 * batch of the first epoch is drawn for the sample grids and not trained
 * on; its first four images are shown (test-time transform).
 *
 * Files: the model (-o) at the end; a checkpoint (dpa_file.h) every
 * checkpoint_every iterations, at every stage switch and at the end, always
 * atomically; --resume continues from the checkpoint and reaches the same
 * final bytes as an uninterrupted run. The checkpoint keeps the loss log,
 * so a resumed run's log and loss curve show every iteration once. A loss that is NaN, infinite or above
 * 1e6 (the original's limit) stops training before the parameters change,
 * with an error naming the iteration; the last checkpoint stays as it was.
 *
 * Not for: the command line (tools/ad-train.c). Thread safety: one run per
 * process (OpenMP inside). Errors: Err.
 *
 *     DpaTrainOptions o = {.images = "train.ts", .model = "m.ts", .checkpoint = "m.ckpt.ts"};
 *     if (!dpa_train(config, &o, &err)) ...
 */
#ifndef ADKIT_DPA_TRAIN_H
#define ADKIT_DPA_TRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "dpa_config.h"
#include "dpa_losses.h"
#include "dpa_model.h"
#include "err.h"
#include "nn.h"

typedef struct DpaTrainOptions {
    const char *images;     /* training stream, path or "-" */
    const char *model;      /* the final model file ("-": stdout) */
    const char *checkpoint; /* the checkpoint file */
    bool resume;            /* continue from the checkpoint */
    const char *log;        /* TSV of losses, or NULL; written from the start, on resume with the
                               checkpoint's rows first, so it covers the whole run */
    const char *samples;    /* folder for reconstruction grids and the whole run's loss curve, or NULL */
    const char *weights;    /* VGG weights file or folder, or NULL (search) */
    int64_t stop_after;     /* > 0: stop after this many iterations of this run (checkpoint kept) */
    bool progress;          /* progress line on stderr */
    bool *finished;         /* if non-NULL: set to whether the schedule ended (false after stop_after) */
} DpaTrainOptions;

/* Trains the DPA model the configuration describes (validated here against
 * dpa_schema; every problem with the configuration, the images or the
 * checkpoint is reported before the first iteration). */
bool dpa_train(Config *cfg, const DpaTrainOptions *o, Err *err);

/* One step's forward: the batch x (n images at max_res, host memory) mixed
 * to the stage (4.3), encoded, decoded, and the stage's loss (batch mean)
 * on a reset graph. Returns the loss var (NULL on a failed graph). The
 * caller zeroes gradients, runs nn_backward and the optimiser. */
NNVar *dpa_step_loss(NNGraph *g, DpaModel *m, const DpaLosses *L, const float *x, int64_t n, PgStage stage,
                     int res, double progress);

#endif
