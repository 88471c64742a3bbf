/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpa_losses: the reconstruction loss of a DPA configuration at every
 * resolution of its schedule (spec dpa-piad.md 4.4, 5.5, 5.6): L1, L2,
 * perceptual, relative perceptual L1 or compose (relative perceptual L1 +
 * compose_l1_weight * L1), with the VGG19 taps and weights of each
 * resolution, and the smooth progressive-growing blend of transitions.
 *
 * The perceptual network's weights are found by name in a folder:
 * vgg19-dcbb9e9d.pth (torchvision, `vgg = vgg19`, with the paper's feature
 * statistics vgg19_ILSVRC2012_object_detection_mean_var.pt beside it) or
 * vgg19-normalised-conv3_1.pth (`vgg = vgg19-normalised`, taps up to r31).
 * dpa_weights_find looks in an explicit path (a file or folder), then
 * $ADKIT_WEIGHTS, ./weights and ../shared/weights.
 *
 * Not for: the networks (dpa_model.h). Thread safety: read-only after init;
 * a graph per thread. Ownership: DpaLosses owns the VGG and the statistics.
 * Errors: Err naming the missing file and the folders searched.
 *
 *     DpaLosses L;
 *     if (!dpa_losses_init(&L, &cfg, NULL, &err)) ...
 *     NNVar *loss = dpa_losses_stage(g, &L, PG_STAB, 64, 1.0, real, rec);   // training (mean)
 *     NNVar *score = dpa_losses_final(g, &L, real, rec, NN_REDUCE_NONE);    // (N)
 *     dpa_losses_fini(&L);
 */
#ifndef ADKIT_DPA_LOSSES_H
#define ADKIT_DPA_LOSSES_H

#include <stdbool.h>
#include <stddef.h>

#include "dpa_config.h"
#include "nn.h"
#include "nn_loss.h"
#include "torchload.h"
#include "vgg.h"

typedef struct DpaLosses {
    DpaConfig cfg;                          /* copy (its strings borrowed from the Config) */
    Vgg *vgg;                               /* NULL for l1 / l2 */
    NNPerceptualLoss pl[PG_MAX_LEVELS];     /* per level, perceptual losses only */
    bool have[PG_MAX_LEVELS];
    char source[4096];                      /* the weights file used, or "" */
} DpaLosses;

/* The weights file of a VGG kind ("vgg19" or "vgg19-normalised"): `where`
 * (a file, or a folder holding it; NULL: none) first, then the standard
 * folders. Writes the path found into path (bytes). */
bool dpa_weights_find(const char *vgg_kind, const char *where, char *path, size_t bytes, Err *err);

/* Builds the losses of every level of cfg's schedule; weights: as `where`
 * of dpa_weights_find. */
bool dpa_losses_init(DpaLosses *L, const DpaConfig *cfg, const char *weights, Err *err);
void dpa_losses_fini(DpaLosses *L);

/* The loss of the resolution at level k with a reduction. PIXELWISE gives
 * an (N, 1, H, W) map: the channel mean of L1/L2 errors, the single layer's
 * map of the perceptual losses, and for compose the sum of both weighted
 * maps (AMBIGUOUS: the original defines no compose map). */
NNVar *dpa_losses_at(NNGraph *g, const DpaLosses *L, int level, NNVar *real, NNVar *rec, NNReduction red);

/* The training loss of a stage (batch mean): with use_smooth_pg in a
 * transition with progress < 1, (1 - p) L_{r/2}(down x, down y) + p L_r(x, y)
 * where down is the x0.5 bilinear downscale (4.4); else L_r(x, y). */
NNVar *dpa_losses_stage(NNGraph *g, const DpaLosses *L, PgStage stage, int res, double progress, NNVar *real,
                        NNVar *rec);

/* The loss at the final resolution (the anomaly score, spec 7). */
NNVar *dpa_losses_final(NNGraph *g, const DpaLosses *L, NNVar *real, NNVar *rec, NNReduction red);

#endif
