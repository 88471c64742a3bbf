/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_backend: the table of kernels the neural-network engine runs on.
 *
 * The graph code (nn_ops_*.c, nn_graph.c, nn_optim.c) never touches tensor
 * data itself: it calls these function pointers, so a CUDA back end is a
 * second table (nn_cuda.cu) and the models never see which one runs. Every
 * pointer is required; a back end that cannot run an operation must still
 * provide it (there is no fallback between devices).
 *
 * Conventions: outputs first, then inputs, then sizes (like memcpy); shapes
 * in the comments; `acc` = accumulate into the output (+=) instead of
 * assigning. Pointers are device pointers of the back end. Kernels cannot
 * fail; shapes were validated by the graph op that calls them.
 *
 * Determinism: every kernel gives the same bits for any thread count (each
 * parallel loop owns disjoint outputs; reductions are per sample, in double,
 * in a fixed order).
 *
 *     const NNBackend *be = nn_backend_cpu();
 *     float *buf = be->alloc(bytes);
 *     be->lrelu_forward(out, inp, 0.2f, n);
 *     be->free(buf);
 */
#ifndef ADKIT_NN_BACKEND_H
#define ADKIT_NN_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conv.h"
#include "tensor.h"

typedef struct NNBackend {
    const char *name;     /* "cpu" */
    TensorDevice device;  /* where the table's pointers live */

    /* ---- memory ---- */
    void *(*alloc)(size_t bytes);   /* 64-byte aligned; NULL when out of memory */
    void (*free)(void *p);          /* NULL does nothing */
    void (*zero)(float *p, int64_t n);
    void (*copy)(float *dst, const float *src, int64_t n);                 /* device to device */
    void (*upload)(float *dst_device, const float *src_host, int64_t n);   /* host to device */
    void (*download)(float *dst_host, const float *src_device, int64_t n); /* device to host */

    /* ---- convolution (conv.h semantics) ---- */
    size_t (*conv_workspace_bytes)(const ConvShape *s);
    void (*conv2d_forward)(float *out, const float *inp, const float *weight, const float *bias,
                           const ConvShape *s, void *workspace);
    void (*conv2d_backward_input)(float *dinp, const float *dout, const float *weight, const ConvShape *s,
                                  void *workspace);
    void (*conv2d_backward_weight)(float *dweight, float *dbias, const float *dout, const float *inp,
                                   const ConvShape *s, void *workspace);
    /* weights transformed once for the forward or backward-input (conv.h
     * "Prepared weights"); prepared_bytes 0: nothing to prepare */
    size_t (*conv_prepared_bytes)(const ConvShape *s, ConvPass pass);
    void (*conv_weights_prepare)(void *prepared, const float *weight, const ConvShape *s, ConvPass pass);
    /* act: out = act(conv + bias) in the same pass (conv.h ConvAct) */
    void (*conv2d_forward_prepared)(float *out, const float *inp, const float *weight, const void *prepared,
                                    const float *bias, ConvAct act, const ConvShape *s, void *workspace);
    /* whether conv2d_backward_input_prepared takes a dout_mask for s */
    bool (*conv_backward_input_masks)(const ConvShape *s);
    /* dout_mask: NULL, or the gradient of dout * (dout_mask > 0) (conv.h) */
    void (*conv2d_backward_input_prepared)(float *dinp, const float *dout, const float *dout_mask,
                                           const float *weight, const void *prepared, const ConvShape *s,
                                           void *workspace);

    /* ---- element-wise, n elements ---- */
    /* out = a*x + b*y (y may be NULL: out = a*x + b) */
    void (*axpby)(float *out, float a, const float *x, float b, const float *y, int64_t n);
    /* out (+)= a*x */
    void (*scale_acc)(float *out, float a, const float *x, int64_t n, bool acc);
    void (*lrelu_forward)(float *out, const float *inp, float slope, int64_t n);
    /* dinp (+)= dout * (inp > 0 ? 1 : slope); x = 0 takes the slope (torch) */
    void (*lrelu_backward)(float *dinp, const float *dout, const float *inp, float slope, int64_t n, bool acc);
    void (*relu_forward)(float *out, const float *inp, int64_t n);
    /* dinp (+)= out > 0 ? dout : 0 */
    void (*relu_backward)(float *dinp, const float *dout, const float *out, int64_t n, bool acc);
    /* x = out > 0 ? x : 0, in place: relu_backward for a gradient buffer
     * that nothing else reads */
    void (*relu_mask)(float *x, const float *out, int64_t n);
    /* x = out > 0 ? x : x * slope, in place: the same for a LeakyReLU whose
     * output is out (out > 0 exactly where its input is, for slope > 0) */
    void (*lrelu_mask)(float *x, const float *out, float slope, int64_t n);
    void (*tanh_forward)(float *out, const float *inp, int64_t n);
    void (*tanh_backward)(float *dinp, const float *dout, const float *out, int64_t n, bool acc);
    void (*sigmoid_forward)(float *out, const float *inp, int64_t n);
    void (*sigmoid_backward)(float *dinp, const float *dout, const float *out, int64_t n, bool acc);
    void (*abs_forward)(float *out, const float *inp, int64_t n);
    /* dinp (+)= dout * sign(inp), sign(0) = 0 */
    void (*abs_backward)(float *dinp, const float *dout, const float *inp, int64_t n, bool acc);
    void (*square_forward)(float *out, const float *inp, int64_t n);
    void (*square_backward)(float *dinp, const float *dout, const float *inp, int64_t n, bool acc);
    void (*sqrt_forward)(float *out, const float *inp, int64_t n);
    void (*sqrt_backward)(float *dinp, const float *dout, const float *out, int64_t n, bool acc);
    /* out = low*(1-alpha) + high*alpha, (1-alpha) in float32 */
    void (*fadein_forward)(float *out, const float *low, const float *high, float alpha, int64_t n);

    /* ---- per channel / per sample; x is (N, C, HW) ---- */
    /* out = (x - mean[c]) / div[c], a true division (spec 5.2, 5.4) */
    void (*channel_norm_forward)(float *out, const float *x, const float *mean, const float *div, int64_t N,
                                 int64_t C, int64_t HW);
    void (*channel_norm_backward)(float *dx, const float *dout, const float *div, int64_t N, int64_t C,
                                  int64_t HW, bool acc);
    /* out (N, inner) (+)= x / s[n], a true division (forward, and backward
     * with dout in place of x) */
    void (*div_per_sample)(float *out, const float *x, const float *s, int64_t N, int64_t inner, bool acc);
    /* out (N) = (sum over inner of x (N, inner)) / divisor, accumulated in
     * double in a fixed order and rounded once */
    void (*sum_per_sample)(float *out, const float *x, double divisor, int64_t N, int64_t inner);
    /* dx (N, inner) (+)= g[n] * scale */
    void (*broadcast_per_sample)(float *dx, const float *g, float scale, int64_t N, int64_t inner, bool acc);
    /* out (N, 1, HW) = mean over C of x (N, C, HW) */
    void (*mean_channels_forward)(float *out, const float *x, int64_t N, int64_t C, int64_t HW);
    void (*mean_channels_backward)(float *dx, const float *dout, int64_t N, int64_t C, int64_t HW, bool acc);
    /* copy x (N, Cx, HW) into channels [c0, c0+Cx) of out (N, Co, HW), or back (acc applies to dst) */
    void (*copy_channels)(float *dst, int64_t dst_C, int64_t dst_c0, const float *src, int64_t src_C,
                          int64_t src_c0, int64_t copy_C, int64_t N, int64_t HW, bool acc);

    /* ---- spatial, x is (NC, H, W) planes ---- */
    void (*avgpool2_forward)(float *out, const float *inp, int64_t NC, int64_t H, int64_t W);
    void (*avgpool2_backward)(float *dinp, const float *dout, int64_t NC, int64_t H, int64_t W, bool acc);
    void (*maxpool2_forward)(float *out, const float *inp, int64_t NC, int64_t H, int64_t W);
    void (*maxpool2_backward)(float *dinp, const float *dout, const float *inp, int64_t NC, int64_t H, int64_t W,
                              bool acc);
    /* nearest x2: out (NC, 2H, 2W); backward sums each 2x2 block, times scale */
    void (*upsample2_forward)(float *out, const float *inp, float scale, int64_t NC, int64_t H, int64_t W);
    void (*upsample2_backward)(float *dinp, const float *dout, float scale, int64_t NC, int64_t H, int64_t W,
                               bool acc);
    /* bilinear, align_corners = False (torch upsample_bilinear2d): (NC,H,W) -> (NC,OH,OW) */
    void (*bilinear_forward)(float *out, const float *inp, int64_t NC, int64_t H, int64_t W, int64_t OH,
                             int64_t OW);
    void (*bilinear_backward)(float *dinp, const float *dout, int64_t NC, int64_t H, int64_t W, int64_t OH,
                              int64_t OW, bool acc);
    /* reflection padding by p on every side: (NC,H,W) -> (NC,H+2p,W+2p) */
    void (*reflect_pad_forward)(float *out, const float *inp, int64_t NC, int64_t H, int64_t W, int64_t p);
    void (*reflect_pad_backward)(float *dinp, const float *dout, int64_t NC, int64_t H, int64_t W, int64_t p,
                                 bool acc);

    /* ---- batch normalisation, x (N, C, HW) ---- */
    /* Training: batch statistics; writes mean (C) and invstd (C) for the
     * backward, and updates running_mean/var (C) with momentum, unbiased
     * variance (torch BatchNorm2d). Eval: uses running stats, mean/invstd
     * are filled from them. */
    void (*batchnorm_forward)(float *out, float *mean, float *invstd, float *running_mean, float *running_var,
                              const float *x, const float *weight, const float *bias, bool training,
                              float momentum, float eps, int64_t N, int64_t C, int64_t HW);
    /* dx (+)= ..., dweight += , dbias += (each may be NULL when not needed) */
    void (*batchnorm_backward)(float *dx, float *dweight, float *dbias, const float *dout, const float *x,
                               const float *mean, const float *invstd, const float *weight, bool training,
                               int64_t N, int64_t C, int64_t HW, bool acc);

    /* ---- normalisations of the progressive-GAN family (spec dpa-piad.md 1.1, 1.3) ---- */
    /* out (N, C, HW) = x / sqrt(mean over C of x^2 + 1e-8) (PixelNormLayer) */
    void (*pixel_norm_forward)(float *out, const float *x, int64_t N, int64_t C, int64_t HW);
    void (*pixel_norm_backward)(float *dx, const float *dout, const float *x, int64_t N, int64_t C, int64_t HW,
                                bool acc);
    /* out (NC, HW) = (x - mean) / sqrt(biased var + eps) per plane (InstanceNorm2d, affine False) */
    void (*instance_norm_forward)(float *out, const float *x, float eps, int64_t NC, int64_t HW);
    void (*instance_norm_backward)(float *dx, const float *dout, const float *x, float eps, int64_t NC, int64_t HW,
                                   bool acc);
    /* MinibatchStdDevLayer: sigma (C, HW) = sqrt(mean over N of (x - mean over N)^2 + 1e-8) is saved;
     * out (N, C+1, HW) = x, then one channel filled with the mean of sigma */
    void (*mbstd_forward)(float *out, float *sigma, const float *x, int64_t N, int64_t C, int64_t HW);
    /* dx (N, C, HW) (+)= dout's first C channels + (sum of its last channel) / (C HW) * d sigma / dx */
    void (*mbstd_backward)(float *dx, const float *dout, const float *x, const float *sigma, int64_t N, int64_t C,
                           int64_t HW, bool acc);

    /* ---- softmax cross-entropy over logits (N, K), labels (N) ---- */
    /* loss (N) per sample; prob (N, K) saved softmax for the backward */
    void (*softmax_ce_forward)(float *loss, float *prob, const float *logits, const int32_t *labels, int64_t N,
                               int64_t K);
    /* dlogits (+)= dloss[n] * (prob - onehot) */
    void (*softmax_ce_backward)(float *dlogits, const float *dloss, const float *prob, const int32_t *labels,
                                int64_t N, int64_t K, bool acc);

    /* ---- optimisers over a flat parameter block of n floats ---- */
    /* torch 1.4 Adam (spec 11.10); step_size = lr / (1 - beta1^t),
     * bc2_sqrt = sqrt(1 - beta2^t); the (1 - beta) factors are computed in
     * double and rounded once, as torch does with Python floats */
    void (*adam_step)(float *param, float *m, float *v, const float *grad, float beta1, float one_minus_beta1,
                      float beta2, float one_minus_beta2, float eps, float step_size, float bc2_sqrt, int64_t n);
    /* torch SGD: buf = momentum*buf + g (buf = g on the first step); p -= lr*buf */
    void (*sgd_step)(float *param, float *buf, const float *grad, float lr, float momentum, bool first,
                     int64_t n);
} NNBackend;

/* The CPU back end (OpenBLAS + OpenMP). Never NULL; static storage. */
const NNBackend *nn_backend_cpu(void);

#endif
