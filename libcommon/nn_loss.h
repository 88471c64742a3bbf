/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_loss: the reconstruction losses of DPA and PIAD (spec dpa-piad.md 5):
 * L1, L2, the perceptual family (relative perceptual L1 is the paper's
 * loss) and their weighted composition, built from nn.h ops so that their
 * gradients come from the tape.
 *
 * Argument order matters: (real, rec). The relative error divides by a
 * statistic of the REAL image's features, detached (5.5).
 * Reductions: NONE gives one value per sample (N) (the anomaly score),
 * MEAN the batch mean (training), SUM the batch sum, PIXELWISE a map:
 * L1: the |x - y| map (N, C, H, W); perceptual: (N, 1, H, W), the channel
 * mean of the single layer's normalised error, bilinearly up-sampled to the
 * input size (one layer only, img_weight 0).
 *
 * Feature normalisation: per layer (f - mean_c) / var_c with the paper's
 * mean/var file, divided by "var" as stored (5.4). AMBIGUOUS: with the
 * normalised VGG19 prefix the file does not describe the features (it was
 * measured on torchvision's weights), so the normalisation is the identity
 * (mean 0, var 1); those weights are already scaled so that each channel's
 * mean activation over ImageNet is 1, which is what the file's statistics
 * achieve for torchvision's. AMBIGUOUS: the optional image term
 * (img_weight != 0, zero in every config) compares the preprocessed images
 * without feature normalisation.
 *
 * Thread safety: an NNPerceptualLoss is read-only after init and may be
 * shared. Ownership: it borrows the Vgg (must outlive it) and owns device
 * copies of the statistics.
 *
 *     NNPerceptualLoss pl;
 *     NNLossLayer layers[] = {{VGG_R42, 1.0f}};
 *     if (!nn_perceptual_init(&pl, vgg, &mean_var, layers, 1, 0.0f, NN_RELATIVE_PERCEPTUAL_L1, &err)) ...
 *     NNVar *loss = nn_perceptual_loss(g, &pl, real, rec, NN_REDUCE_MEAN);
 *     NNVar *score = nn_perceptual_loss(g, &pl, real, rec, NN_REDUCE_NONE);   // (N)
 *     nn_perceptual_fini(&pl);
 */
#ifndef ADKIT_NN_LOSS_H
#define ADKIT_NN_LOSS_H

#include <stdbool.h>

#include "nn.h"
#include "torchload.h"
#include "vgg.h"

typedef enum NNReduction {
    NN_REDUCE_NONE,      /* (N) */
    NN_REDUCE_MEAN,      /* scalar */
    NN_REDUCE_SUM,       /* scalar */
    NN_REDUCE_PIXELWISE, /* a map, see above */
    NN_REDUCE_COUNT
} NNReduction;

/* "none", "mean", "sum", "pixelwise"; parse returns false when unknown. */
const char *nn_reduction_name(NNReduction r);
bool nn_reduction_parse(const char *name, NNReduction *out);

/* Per sample mean over (C, H, W) of |x - y| resp. (x - y)^2, reduced. */
NNVar *nn_l1_loss(NNGraph *g, NNVar *real, NNVar *rec, NNReduction red);
NNVar *nn_l2_loss(NNGraph *g, NNVar *real, NNVar *rec, NNReduction red);

/* w1*a + w2*b (the 'compose' loss, 5.6). */
NNVar *nn_compose_loss(NNGraph *g, float w1, NNVar *a, float w2, NNVar *b);

/* Flags of the perceptual family (5.5). */
typedef enum NNPerceptualFlags {
    NN_FEATURE_NORM = 1,    /* (f - mean) / var per layer */
    NN_USE_L1 = 2,          /* |.| instead of squares */
    NN_RELATIVE = 4,        /* divide by the real image's mean |Nx| (or Nx^2) */
    NN_RELATIVE_PERCEPTUAL_L1 = NN_FEATURE_NORM | NN_USE_L1 | NN_RELATIVE,
} NNPerceptualFlags;

typedef struct NNLossLayer {
    VggTap tap;
    float weight;
} NNLossLayer;

typedef struct NNPerceptualLoss {
    const Vgg *vgg;                      /* borrowed */
    int nlayers;
    NNLossLayer layers[VGG_TAP_COUNT];   /* in the configured order */
    float img_weight;
    int flags;                           /* NNPerceptualFlags */
    float *mean[VGG_TAP_COUNT];          /* per layer, channels floats on the device; NULL: identity */
    float *div[VGG_TAP_COUNT];
    bool want[VGG_TAP_COUNT];            /* taps to compute */
} NNPerceptualLoss;

/* mean_var: the paper's statistics (keys "<tap>.0" mean, "<tap>.1" var,
 * each (1, C, 1, 1)), needed when flags has NN_FEATURE_NORM and the
 * weights are torchvision's; ignored otherwise (may be NULL then). Layers
 * the weights cannot compute are an error naming the tap and the file. */
bool nn_perceptual_init(NNPerceptualLoss *pl, const Vgg *vgg, const NamedArrays *mean_var,
                        const NNLossLayer *layers, int nlayers, float img_weight, int flags, Err *err);
void nn_perceptual_fini(NNPerceptualLoss *pl);

/* The loss of rec against real (both (N, C, H, W) in [-1, 1], C = 1 or 3). */
NNVar *nn_perceptual_loss(NNGraph *g, const NNPerceptualLoss *pl, NNVar *real, NNVar *rec, NNReduction red);

#endif
