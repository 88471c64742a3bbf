/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vgg: the VGG19 feature extractor of the perceptual losses (spec
 * dpa-piad.md 5.3): 3x3 convolutions (zero padding 1), ReLU and 2x2
 * max-pooling, with named taps c11, r11, c12, r12, p1, c21, ... r54, p5
 * computed in that order and stopped at the deepest tap asked for. Weights
 * are frozen: gradients flow through the network to its input, no weight
 * gradient is computed.
 *
 * Two weight layouts, read from NamedArrays (torchload.h):
 *   - VGG_TORCHVISION: torchvision's vgg19 state dict (features.N.weight/
 *     bias, N = 0,2,5,7,10,12,14,16,19,...,34), the paper's extractor. Its
 *     input is ImageNet-normalised RGB (vgg_preprocess). A dict with only
 *     the first convolutions gives the taps up to the last one present.
 *   - VGG_NORMALISED: the "normalised VGG19" prefix of style transfer
 *     (vgg19-normalised-conv3_1.pth: keys 0 (a 1x1 conv mapping RGB in [0,1]
 *     to Caffe BGR*255 - mean), 2, 5, 9, 12, 16), taps up to r31. Its input
 *     is RGB in [0,1]; the 1x1 conv runs inside vgg_forward.
 *     AMBIGUOUS: the source network used reflection padding; we use zero
 *     padding like the paper's extractor, so both layouts are the same
 *     network and only the weights differ.
 *
 * Thread safety: a Vgg is read-only after vgg_new and may be shared by
 * graphs of several threads. Ownership: the Vgg owns copies of its weights
 * (on the back end's device); it does not keep the NamedArrays.
 * Errors: Err, naming the source file and the missing key or tap.
 *
 *     NamedArrays w = {0};
 *     torch_load("vgg19-dcbb9e9d.pth", &w, &err);
 *     Vgg *vgg = vgg_new(nn_backend_cpu(), &w, "vgg19-dcbb9e9d.pth", &err);
 *     named_arrays_fini(&w);
 *     bool want[VGG_TAP_COUNT] = {[VGG_R42] = true};
 *     NNVar *taps[VGG_TAP_COUNT];
 *     if (!vgg_forward(g, vgg, vgg_preprocess(g, vgg, x), want, taps, &err)) ...
 *     // taps[VGG_R42] is (N, 512, H/8, W/8)
 */
#ifndef ADKIT_VGG_H
#define ADKIT_VGG_H

#include <stdbool.h>

#include "nn.h"
#include "torchload.h"

/* The taps, in the order the network computes them. */
typedef enum VggTap {
    VGG_C11, VGG_R11, VGG_C12, VGG_R12, VGG_P1,
    VGG_C21, VGG_R21, VGG_C22, VGG_R22, VGG_P2,
    VGG_C31, VGG_R31, VGG_C32, VGG_R32, VGG_C33, VGG_R33, VGG_C34, VGG_R34, VGG_P3,
    VGG_C41, VGG_R41, VGG_C42, VGG_R42, VGG_C43, VGG_R43, VGG_C44, VGG_R44, VGG_P4,
    VGG_C51, VGG_R51, VGG_C52, VGG_R52, VGG_C53, VGG_R53, VGG_C54, VGG_R54, VGG_P5,
    VGG_TAP_COUNT
} VggTap;

typedef enum VggWeights {
    VGG_TORCHVISION, /* features.N.*, ImageNet-normalised input */
    VGG_NORMALISED,  /* normalised prefix, RGB [0, 1] input */
    VGG_WEIGHTS_COUNT
} VggWeights;

typedef struct Vgg Vgg;

/* "r42", ...; "?" for an invalid value. */
const char *vgg_tap_name(VggTap t);
/* Parses a tap name; false when unknown. */
bool vgg_tap_parse(const char *name, VggTap *out);
/* Channels of a tap (64, 128, 256 or 512); its spatial size is the input's
 * divided by 2^(number of pools before it). */
int vgg_tap_channels(VggTap t);
int vgg_tap_downscale(VggTap t);

/* Builds the extractor from a state dict; the layout is recognised from
 * the keys. source names the file in messages. */
Vgg *vgg_new(const NNBackend *be, const NamedArrays *weights, const char *source, Err *err);
void vgg_free(Vgg *vgg);

VggWeights vgg_weights(const Vgg *vgg);
/* The deepest tap these weights can compute. */
VggTap vgg_deepest_tap(const Vgg *vgg);
/* The back end holding the weights (borrowed). */
const NNBackend *vgg_backend(const Vgg *vgg);
/* The file the weights came from (borrowed). */
const char *vgg_source(const Vgg *vgg);

/* Spec 5.2 for these weights: x (N, 1 or 3, H, W) in [-1, 1]; grey is
 * expanded to 3 channels (backward sums); then x*0.5 + 0.5, and for
 * torchvision weights (x - mean_c) / std_c with ImageNet statistics. */
NNVar *vgg_preprocess(NNGraph *g, const Vgg *vgg, NNVar *x);

/* Runs the network on x (N, 3, H, W) (already preprocessed) up to the
 * deepest tap with want[t]; out[t] is set for every wanted tap (others are
 * left untouched). Asking for a tap the weights do not have is an error
 * naming it and the file. */
bool vgg_forward(NNGraph *g, const Vgg *vgg, NNVar *x, const bool *want, NNVar **out, Err *err);

#endif
