/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_cpu_impl: the CPU kernels behind nn_backend_cpu(), shared by the
 * nn_cpu*.c files only (see nn_backend.h for every contract).
 */
#ifndef ADKIT_NN_CPU_IMPL_H
#define ADKIT_NN_CPU_IMPL_H

#include "nn_backend.h"

/* Element counts above which a loop is split across OpenMP threads; below
 * it the thread start costs more than the loop. */
#define NN_CPU_PAR_MIN 32768

/* for (int64_t i = 0; i < count; i++) { body }, split across OpenMP threads
 * (static schedule: each thread owns a fixed range) when work exceeds
 * NN_CPU_PAR_MIN. Small loops do not enter a parallel region at all:
 * libgomp allocates a team even for a region whose if() clause is false,
 * which would put a malloc in every op of a small model's step. */
#define NN_CPU_FOR(work, i, count, ...)                                   \
    do {                                                                  \
        if ((work) > NN_CPU_PAR_MIN) {                                    \
            _Pragma("omp parallel for schedule(static)")                  \
            for (int64_t i = 0; i < (count); i++) { __VA_ARGS__ }         \
        } else {                                                          \
            for (int64_t i = 0; i < (count); i++) { __VA_ARGS__ }         \
        }                                                                 \
    } while (0)

void nn_cpu_axpby(float *out, float a, const float *x, float b, const float *y, int64_t n);
void nn_cpu_scale_acc(float *out, float a, const float *x, int64_t n, bool acc);
void nn_cpu_lrelu_forward(float *out, const float *inp, float slope, int64_t n);
void nn_cpu_lrelu_backward(float *dinp, const float *dout, const float *inp, float slope, int64_t n, bool acc);
void nn_cpu_relu_forward(float *out, const float *inp, int64_t n);
void nn_cpu_relu_backward(float *dinp, const float *dout, const float *out, int64_t n, bool acc);
void nn_cpu_relu_mask(float *x, const float *out, int64_t n);
void nn_cpu_lrelu_mask(float *x, const float *out, float slope, int64_t n);
void nn_cpu_tanh_forward(float *out, const float *inp, int64_t n);
void nn_cpu_tanh_backward(float *dinp, const float *dout, const float *out, int64_t n, bool acc);
void nn_cpu_sigmoid_forward(float *out, const float *inp, int64_t n);
void nn_cpu_sigmoid_backward(float *dinp, const float *dout, const float *out, int64_t n, bool acc);
void nn_cpu_abs_forward(float *out, const float *inp, int64_t n);
void nn_cpu_abs_backward(float *dinp, const float *dout, const float *inp, int64_t n, bool acc);
void nn_cpu_square_forward(float *out, const float *inp, int64_t n);
void nn_cpu_square_backward(float *dinp, const float *dout, const float *inp, int64_t n, bool acc);
void nn_cpu_sqrt_forward(float *out, const float *inp, int64_t n);
void nn_cpu_sqrt_backward(float *dinp, const float *dout, const float *out, int64_t n, bool acc);
void nn_cpu_fadein_forward(float *out, const float *low, const float *high, float alpha, int64_t n);

void nn_cpu_channel_norm_forward(float *out, const float *x, const float *mean, const float *div, int64_t N,
                                 int64_t C, int64_t HW);
void nn_cpu_channel_norm_backward(float *dx, const float *dout, const float *div, int64_t N, int64_t C,
                                  int64_t HW, bool acc);
void nn_cpu_div_per_sample(float *out, const float *x, const float *s, int64_t N, int64_t inner, bool acc);
void nn_cpu_sum_per_sample(float *out, const float *x, double divisor, int64_t N, int64_t inner);
void nn_cpu_broadcast_per_sample(float *dx, const float *g, float scale, int64_t N, int64_t inner, bool acc);
void nn_cpu_mean_channels_forward(float *out, const float *x, int64_t N, int64_t C, int64_t HW);
void nn_cpu_mean_channels_backward(float *dx, const float *dout, int64_t N, int64_t C, int64_t HW, bool acc);
void nn_cpu_copy_channels(float *dst, int64_t dst_C, int64_t dst_c0, const float *src, int64_t src_C,
                          int64_t src_c0, int64_t copy_C, int64_t N, int64_t HW, bool acc);

void nn_cpu_avgpool2_forward(float *out, const float *inp, int64_t NC, int64_t H, int64_t W);
void nn_cpu_avgpool2_backward(float *dinp, const float *dout, int64_t NC, int64_t H, int64_t W, bool acc);
void nn_cpu_maxpool2_forward(float *out, const float *inp, int64_t NC, int64_t H, int64_t W);
void nn_cpu_maxpool2_backward(float *dinp, const float *dout, const float *inp, int64_t NC, int64_t H, int64_t W,
                              bool acc);
void nn_cpu_upsample2_forward(float *out, const float *inp, float scale, int64_t NC, int64_t H, int64_t W);
void nn_cpu_upsample2_backward(float *dinp, const float *dout, float scale, int64_t NC, int64_t H, int64_t W,
                               bool acc);
void nn_cpu_bilinear_forward(float *out, const float *inp, int64_t NC, int64_t H, int64_t W, int64_t OH,
                             int64_t OW);
void nn_cpu_bilinear_backward(float *dinp, const float *dout, int64_t NC, int64_t H, int64_t W, int64_t OH,
                              int64_t OW, bool acc);
void nn_cpu_reflect_pad_forward(float *out, const float *inp, int64_t NC, int64_t H, int64_t W, int64_t p);
void nn_cpu_reflect_pad_backward(float *dinp, const float *dout, int64_t NC, int64_t H, int64_t W, int64_t p,
                                 bool acc);

void nn_cpu_batchnorm_forward(float *out, float *mean, float *invstd, float *running_mean, float *running_var,
                              const float *x, const float *weight, const float *bias, bool training,
                              float momentum, float eps, int64_t N, int64_t C, int64_t HW);
void nn_cpu_batchnorm_backward(float *dx, float *dweight, float *dbias, const float *dout, const float *x,
                               const float *mean, const float *invstd, const float *weight, bool training,
                               int64_t N, int64_t C, int64_t HW, bool acc);
void nn_cpu_pixel_norm_forward(float *out, const float *x, int64_t N, int64_t C, int64_t HW);
void nn_cpu_pixel_norm_backward(float *dx, const float *dout, const float *x, int64_t N, int64_t C, int64_t HW,
                                bool acc);
void nn_cpu_instance_norm_forward(float *out, const float *x, float eps, int64_t NC, int64_t HW);
void nn_cpu_instance_norm_backward(float *dx, const float *dout, const float *x, float eps, int64_t NC, int64_t HW,
                                   bool acc);
void nn_cpu_mbstd_forward(float *out, float *sigma, const float *x, int64_t N, int64_t C, int64_t HW);
void nn_cpu_mbstd_backward(float *dx, const float *dout, const float *x, const float *sigma, int64_t N, int64_t C,
                           int64_t HW, bool acc);
void nn_cpu_softmax_ce_forward(float *loss, float *prob, const float *logits, const int32_t *labels, int64_t N,
                               int64_t K);
void nn_cpu_softmax_ce_backward(float *dlogits, const float *dloss, const float *prob, const int32_t *labels,
                                int64_t N, int64_t K, bool acc);
void nn_cpu_adam_step(float *param, float *m, float *v, const float *grad, float beta1, float one_minus_beta1,
                      float beta2, float one_minus_beta2, float eps, float step_size, float bc2_sqrt, int64_t n);
void nn_cpu_sgd_step(float *param, float *buf, const float *grad, float lr, float momentum, bool first,
                     int64_t n);

#endif
