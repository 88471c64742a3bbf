/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conv: CPU kernels of 2-D convolution (cross-correlation, as torch.nn.Conv2d)
 * in float32 NCHW, forward and both backward passes. These are the hot path
 * of every model; the engine's conv op calls them, and so do the tests that
 * compare the fast algorithms (GEMM-based, Winograd, narrow-channel direct)
 * against the plain reference loops.
 *
 * Padding here is zero padding, the same on all four sides; reflect padding
 * is an explicit op before a pad-0 convolution. Kernels cannot fail: shapes
 * are validated once by conv_shape_init, and scratch memory comes from the
 * caller (conv_workspace_bytes).
 *
 * Determinism: for a given shape the summation order is fixed and does not
 * depend on the number of threads, so results are bit-for-bit repeatable.
 * Threads: kernels parallelise internally with OpenMP (omp_get_max_threads).
 * Not thread-safe to call concurrently with the same workspace.
 *
 *     ConvShape s;
 *     if (!conv_shape_init(&s, N, C, H, W, OC, 3, 3, 1, 1, &err)) ...
 *     void *ws = malloc(conv_workspace_bytes(&s));
 *     conv2d_forward_cpu(out, inp, weight, bias, &s, ws);
 */
#ifndef ADKIT_CONV_H
#define ADKIT_CONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct ConvShape {
    int64_t N, C, H, W; /* input batch, channels, height, width */
    int64_t OC, KH, KW; /* output channels, kernel height and width */
    int64_t stride;     /* same in both axes, >= 1 */
    int64_t pad;        /* zero padding on every side, >= 0 */
    int64_t OH, OW;     /* output size: (H + 2*pad - KH) / stride + 1 */
} ConvShape;

/* Validates and fills a shape (output size included). */
bool conv_shape_init(ConvShape *s, int64_t N, int64_t C, int64_t H, int64_t W, int64_t OC, int64_t KH,
                     int64_t KW, int64_t stride, int64_t pad, Err *err);

/* Bytes of scratch memory the three kernels below need for this shape
 * (the maximum over the three, so one workspace serves all). */
size_t conv_workspace_bytes(const ConvShape *s);

/* out (N, OC, OH, OW) = conv(inp (N, C, H, W), weight (OC, C, KH, KW)) + bias
 * (OC, or NULL for none). out is assigned. */
void conv2d_forward_cpu(float *out, const float *inp, const float *weight, const float *bias,
                        const ConvShape *s, void *workspace);

/* dinp (N, C, H, W) = gradient of the loss w.r.t. the input, given dout
 * (N, OC, OH, OW). dinp is assigned (not accumulated). */
void conv2d_backward_input_cpu(float *dinp, const float *dout, const float *weight, const ConvShape *s,
                               void *workspace);

/* dweight (OC, C, KH, KW) += gradient w.r.t. the weight; dbias (OC) +=
 * gradient w.r.t. the bias (skipped when NULL). Parameter gradients
 * accumulate, as in torch. */
void conv2d_backward_weight_cpu(float *dweight, float *dbias, const float *dout, const float *inp,
                                const ConvShape *s, void *workspace);

#endif
