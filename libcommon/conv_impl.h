/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conv_impl: what the conv_*.c files share; not for use outside them.
 * Each algorithm states its workspace need in floats and exposes the passes
 * it supports; conv.c dispatches.
 */
#ifndef ADKIT_CONV_IMPL_H
#define ADKIT_CONV_IMPL_H

#include "conv.h"

/* Scratch floats the GEMM algorithm needs (all three passes). */
size_t conv_gemm_workspace_floats(const ConvShape *s);
void conv_gemm_forward(float *out, const float *inp, const float *weight, const float *bias, const ConvShape *s,
                       float *ws);
void conv_gemm_backward_input(float *dinp, const float *dout, const float *weight, const ConvShape *s, float *ws);
void conv_gemm_backward_weight(float *dweight, float *dbias, const float *dout, const float *inp,
                               const ConvShape *s, float *ws);

/* The reference loops (conv_ref.c): need no workspace. */
void conv_ref_forward(float *out, const float *inp, const float *weight, const float *bias, const ConvShape *s);
void conv_ref_backward_input(float *dinp, const float *dout, const float *weight, const ConvShape *s);
void conv_ref_backward_weight(float *dweight, float *dbias, const float *dout, const float *inp,
                              const ConvShape *s);

/* dbias (OC) += sum of dout (N, OC, OH, OW) over N, OH, OW, in a fixed
 * order with a double accumulator per channel. Shared by every algorithm. */
void conv_bias_grad(float *dbias, const float *dout, const ConvShape *s);

#endif
