/* SPDX-License-Identifier: Apache-2.0 */
/*
 * squeezenet: inference of SqueezeNet 1.1 (ImageNet, 1000 classes) from its
 * ncnn files, and of any other ncnn graph built from the same layer types:
 * Convolution (square kernel, stride, zero padding, optional fused ReLU),
 * Pooling (max with Caffe's round-up output size, or global average), Split,
 * Concat (channels) and Softmax (channels).
 *
 * The network reads float (N, 3, S, S) images, BGR, 0..255 minus the Caffe
 * mean (104, 117, 123), S = the Input layer's size (227 for SqueezeNet 1.1);
 * squeezenet_preprocess makes that from an 8-bit image of any size. Any
 * blob can be read out ("tap"), by its layer's name ("fire9/concat",
 * "pool10", "prob") or its blob's name; only the layers it depends on run.
 *
 * Not for: training (no gradients), layers other than those above (the
 * loader names any other type). Determinism: results do not depend on the
 * number of threads (conv.h kernels; pools and softmax are per channel).
 * Thread safety: a loaded net is read-only; squeezenet_forward may run
 * concurrently on one net. Ownership: squeezenet_free frees the net.
 * Errors: load errors name the file and line or byte offset (ncnn.h);
 * forward errors name the tap or the allocation that failed.
 *
 *     SqueezeNet *net = squeezenet_load("squeezenet_v1.1.param", "squeezenet_v1.1.bin", &err);
 *     int side = squeezenet_input_side(net);                       // 227
 *     float *x = malloc(3 * side * side * sizeof *x), prob[1000];
 *     squeezenet_preprocess(x, side, rgb_chw, 3, h, w, &err);
 *     squeezenet_forward(net, prob, x, 1, "prob", &err);         // softmax over 1000 classes
 *     squeezenet_free(net);
 */
#ifndef ADKIT_SQUEEZENET_H
#define ADKIT_SQUEEZENET_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "ncnn.h"

typedef struct SqueezeNet SqueezeNet;

/* Loads an ncnn .param/.bin pair and checks every layer's shape. NULL with
 * err set on failure. */
SqueezeNet *squeezenet_load(const char *param_path, const char *bin_path, Err *err);

/* The same from a parsed graph, which the net takes over (it is freed here
 * on failure too). */
SqueezeNet *squeezenet_new(NcnnNet *ncnn, Err *err);

/* Frees the net; NULL is fine. */
void squeezenet_free(SqueezeNet *net);

/* Side S of the square input the network expects (its Input layer). */
int squeezenet_input_side(const SqueezeNet *net);

/* Shape (C, H, W) of the tap's output for one image. False with
 * "unknown tap NAME (taps: ...)" when no layer or blob has that name. */
bool squeezenet_tap_shape(const SqueezeNet *net, const char *tap, int64_t chw[3], Err *err);

/* Writes "name name ..." of every layer that can be tapped into buf (NUL
 * terminated, truncated to size). */
void squeezenet_tap_names(const SqueezeNet *net, char *buf, size_t size);

/* One 8-bit planar image (C, H, W) with C = 1 (grey, replicated), 3 (RGB)
 * or 4 (RGBA, alpha dropped) -> out (3, side, side) float: resized when its
 * size differs with plain bilinear interpolation (half-pixel centres, no
 * antialiasing, rounded to 8 bits: ncnn's from_pixels_resize, the rule the
 * published model was checked with), channels reordered to BGR, minus
 * (104, 117, 123). */
bool squeezenet_preprocess(float *out, int side, const uint8_t *chw, int channels, int height, int width,
                           Err *err);

/* Runs n images inp (n, 3, S, S) up to tap; out gets n * C * H * W floats
 * (squeezenet_tap_shape), image-major. False with err on an unknown tap or
 * allocation failure (out is then zeroed). */
bool squeezenet_forward(const SqueezeNet *net, float *out, const float *inp, int64_t n, const char *tap,
                        Err *err);

#endif
