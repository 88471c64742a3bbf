/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_cpu: the CPU back end's table (nn_backend.h) and its memory functions.
 * Kernels live in nn_cpu_eltwise.c, nn_cpu_channel.c, nn_cpu_spatial.c and,
 * for convolution, conv.h.
 */
#include <stdlib.h>
#include <string.h>

#include "nn_cpu_impl.h"

static void *cpu_alloc(size_t bytes)
{
    // 64-byte alignment: one AVX-512 vector, one cache line.
    size_t rounded = (bytes + 63) & ~(size_t)63;
    return aligned_alloc(64, rounded ? rounded : 64);
}

static void cpu_free(void *p)
{
    free(p);
}

static void cpu_zero(float *p, int64_t n)
{
    memset(p, 0, (size_t)n * sizeof *p);
}

static void cpu_copy(float *dst, const float *src, int64_t n)
{
    if (dst != src)
        memmove(dst, src, (size_t)n * sizeof *dst);
}

static const NNBackend cpu_backend = {
    .name = "cpu",
    .device = TENSOR_CPU,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .zero = cpu_zero,
    .copy = cpu_copy,
    .upload = cpu_copy,
    .download = cpu_copy,
    .conv_workspace_bytes = conv_workspace_bytes,
    .conv2d_forward = conv2d_forward_cpu,
    .conv2d_backward_input = conv2d_backward_input_cpu,
    .conv2d_backward_weight = conv2d_backward_weight_cpu,
    .conv_prepared_bytes = conv_prepared_bytes,
    .conv_weights_prepare = conv_weights_prepare,
    .conv2d_forward_prepared = conv2d_forward_prepared_cpu,
    .conv_backward_input_masks = conv_backward_input_masks,
    .conv2d_backward_input_prepared = conv2d_backward_input_prepared_cpu,
    .axpby = nn_cpu_axpby,
    .scale_acc = nn_cpu_scale_acc,
    .lrelu_forward = nn_cpu_lrelu_forward,
    .lrelu_backward = nn_cpu_lrelu_backward,
    .relu_forward = nn_cpu_relu_forward,
    .relu_backward = nn_cpu_relu_backward,
    .relu_mask = nn_cpu_relu_mask,
    .lrelu_mask = nn_cpu_lrelu_mask,
    .tanh_forward = nn_cpu_tanh_forward,
    .tanh_backward = nn_cpu_tanh_backward,
    .sigmoid_forward = nn_cpu_sigmoid_forward,
    .sigmoid_backward = nn_cpu_sigmoid_backward,
    .abs_forward = nn_cpu_abs_forward,
    .abs_backward = nn_cpu_abs_backward,
    .square_forward = nn_cpu_square_forward,
    .square_backward = nn_cpu_square_backward,
    .sqrt_forward = nn_cpu_sqrt_forward,
    .sqrt_backward = nn_cpu_sqrt_backward,
    .fadein_forward = nn_cpu_fadein_forward,
    .channel_norm_forward = nn_cpu_channel_norm_forward,
    .channel_norm_backward = nn_cpu_channel_norm_backward,
    .div_per_sample = nn_cpu_div_per_sample,
    .sum_per_sample = nn_cpu_sum_per_sample,
    .broadcast_per_sample = nn_cpu_broadcast_per_sample,
    .mean_channels_forward = nn_cpu_mean_channels_forward,
    .mean_channels_backward = nn_cpu_mean_channels_backward,
    .copy_channels = nn_cpu_copy_channels,
    .avgpool2_forward = nn_cpu_avgpool2_forward,
    .avgpool2_backward = nn_cpu_avgpool2_backward,
    .maxpool2_forward = nn_cpu_maxpool2_forward,
    .maxpool2_backward = nn_cpu_maxpool2_backward,
    .upsample2_forward = nn_cpu_upsample2_forward,
    .upsample2_backward = nn_cpu_upsample2_backward,
    .bilinear_forward = nn_cpu_bilinear_forward,
    .bilinear_backward = nn_cpu_bilinear_backward,
    .reflect_pad_forward = nn_cpu_reflect_pad_forward,
    .reflect_pad_backward = nn_cpu_reflect_pad_backward,
    .batchnorm_forward = nn_cpu_batchnorm_forward,
    .batchnorm_backward = nn_cpu_batchnorm_backward,
    .pixel_norm_forward = nn_cpu_pixel_norm_forward,
    .pixel_norm_backward = nn_cpu_pixel_norm_backward,
    .instance_norm_forward = nn_cpu_instance_norm_forward,
    .instance_norm_backward = nn_cpu_instance_norm_backward,
    .mbstd_forward = nn_cpu_mbstd_forward,
    .mbstd_backward = nn_cpu_mbstd_backward,
    .softmax_ce_forward = nn_cpu_softmax_ce_forward,
    .softmax_ce_backward = nn_cpu_softmax_ce_backward,
    .adam_step = nn_cpu_adam_step,
    .sgd_step = nn_cpu_sgd_step,
};

const NNBackend *nn_backend_cpu(void)
{
    return &cpu_backend;
}
