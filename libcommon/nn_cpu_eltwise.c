/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_cpu_eltwise: CPU element-wise kernels (activations, arithmetic) of the
 * neural-network engine. Plain loops over restrict pointers that the
 * compiler vectorises at -O2; OpenMP splits large arrays. Every element is
 * independent, so results do not depend on the thread count.
 */
#include <math.h>

#include "nn_cpu_impl.h"


void nn_cpu_axpby(float *restrict out, float a, const float *restrict x, float b, const float *restrict y,
                  int64_t n)
{
    if (y) {
        NN_CPU_FOR(n, i, n, out[i] = a * x[i] + b * y[i];);
    } else {
        NN_CPU_FOR(n, i, n, out[i] = a * x[i] + b;);
    }
}

void nn_cpu_scale_acc(float *restrict out, float a, const float *restrict x, int64_t n, bool acc)
{
    if (acc) {
        if (a == 1.0f) {
            NN_CPU_FOR(n, i, n, out[i] += x[i];);
        } else {
            NN_CPU_FOR(n, i, n, out[i] += a * x[i];);
        }
    } else {
        NN_CPU_FOR(n, i, n, out[i] = a * x[i];);
    }
}

void nn_cpu_lrelu_forward(float *restrict out, const float *restrict inp, float slope, int64_t n)
{
    NN_CPU_FOR(n, i, n, out[i] = inp[i] > 0.0f ? inp[i] : inp[i] * slope;);
}

// torch: the gradient at x = 0 is the negative slope (spec 11.2).
void nn_cpu_lrelu_backward(float *restrict dinp, const float *restrict dout, const float *restrict inp,
                           float slope, int64_t n, bool acc)
{
    if (acc) {
        NN_CPU_FOR(n, i, n, dinp[i] += inp[i] > 0.0f ? dout[i] : dout[i] * slope;);
    } else {
        NN_CPU_FOR(n, i, n, dinp[i] = inp[i] > 0.0f ? dout[i] : dout[i] * slope;);
    }
}

void nn_cpu_relu_forward(float *restrict out, const float *restrict inp, int64_t n)
{
    NN_CPU_FOR(n, i, n, out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;);
}

// torch's threshold_backward looks at the output: gradient only where out > 0.
void nn_cpu_relu_backward(float *restrict dinp, const float *restrict dout, const float *restrict out, int64_t n,
                          bool acc)
{
    if (acc) {
        NN_CPU_FOR(n, i, n, dinp[i] += out[i] > 0.0f ? dout[i] : 0.0f;);
    } else {
        NN_CPU_FOR(n, i, n, dinp[i] = out[i] > 0.0f ? dout[i] : 0.0f;);
    }
}

void nn_cpu_relu_mask(float *restrict x, const float *restrict out, int64_t n)
{
    NN_CPU_FOR(n, i, n, x[i] = out[i] > 0.0f ? x[i] : 0.0f;);
}

void nn_cpu_lrelu_mask(float *restrict x, const float *restrict out, float slope, int64_t n)
{
    NN_CPU_FOR(n, i, n, x[i] = out[i] > 0.0f ? x[i] : x[i] * slope;);
}

void nn_cpu_tanh_forward(float *restrict out, const float *restrict inp, int64_t n)
{
    NN_CPU_FOR(n, i, n, out[i] = tanhf(inp[i]););
}

void nn_cpu_tanh_backward(float *restrict dinp, const float *restrict dout, const float *restrict out, int64_t n,
                          bool acc)
{
    if (acc) {
        NN_CPU_FOR(n, i, n, dinp[i] += dout[i] * (1.0f - out[i] * out[i]););
    } else {
        NN_CPU_FOR(n, i, n, dinp[i] = dout[i] * (1.0f - out[i] * out[i]););
    }
}

void nn_cpu_sigmoid_forward(float *restrict out, const float *restrict inp, int64_t n)
{
    NN_CPU_FOR(n, i, n, out[i] = 1.0f / (1.0f + expf(-inp[i])););
}

void nn_cpu_sigmoid_backward(float *restrict dinp, const float *restrict dout, const float *restrict out,
                             int64_t n, bool acc)
{
    if (acc) {
        NN_CPU_FOR(n, i, n, dinp[i] += dout[i] * (1.0f - out[i]) * out[i];);
    } else {
        NN_CPU_FOR(n, i, n, dinp[i] = dout[i] * (1.0f - out[i]) * out[i];);
    }
}

void nn_cpu_abs_forward(float *restrict out, const float *restrict inp, int64_t n)
{
    NN_CPU_FOR(n, i, n, out[i] = fabsf(inp[i]););
}

static inline float sign0(float x)
{
    return (float)(x > 0.0f) - (float)(x < 0.0f);
}

// torch: abs backward is grad * sign(x) with sign(0) = 0 (spec 11.8).
void nn_cpu_abs_backward(float *restrict dinp, const float *restrict dout, const float *restrict inp, int64_t n,
                         bool acc)
{
    if (acc) {
        NN_CPU_FOR(n, i, n, dinp[i] += dout[i] * sign0(inp[i]););
    } else {
        NN_CPU_FOR(n, i, n, dinp[i] = dout[i] * sign0(inp[i]););
    }
}

void nn_cpu_square_forward(float *restrict out, const float *restrict inp, int64_t n)
{
    NN_CPU_FOR(n, i, n, out[i] = inp[i] * inp[i];);
}

void nn_cpu_square_backward(float *restrict dinp, const float *restrict dout, const float *restrict inp,
                            int64_t n, bool acc)
{
    if (acc) {
        NN_CPU_FOR(n, i, n, dinp[i] += 2.0f * inp[i] * dout[i];);
    } else {
        NN_CPU_FOR(n, i, n, dinp[i] = 2.0f * inp[i] * dout[i];);
    }
}

void nn_cpu_sqrt_forward(float *restrict out, const float *restrict inp, int64_t n)
{
    NN_CPU_FOR(n, i, n, out[i] = sqrtf(inp[i]););
}

// torch: grad / (2 * result); infinite at 0, as in torch.
void nn_cpu_sqrt_backward(float *restrict dinp, const float *restrict dout, const float *restrict out, int64_t n,
                          bool acc)
{
    if (acc) {
        NN_CPU_FOR(n, i, n, dinp[i] += dout[i] / (2.0f * out[i]););
    } else {
        NN_CPU_FOR(n, i, n, dinp[i] = dout[i] / (2.0f * out[i]););
    }
}

// spec 1.3: (1 - alpha) is computed in float32 from the stored float32 alpha.
void nn_cpu_fadein_forward(float *restrict out, const float *restrict low, const float *restrict high, float alpha,
                           int64_t n)
{
    const float beta = 1.0f - alpha;
    NN_CPU_FOR(n, i, n, out[i] = low[i] * beta + high[i] * alpha;);
}

void nn_cpu_adam_step(float *restrict param, float *restrict m, float *restrict v, const float *restrict grad,
                      float beta1, float one_minus_beta1, float beta2, float one_minus_beta2, float eps,
                      float step_size, float bc2_sqrt, int64_t n)
{
    // torch 1.4 Adam, operation by operation: mul_/add_, mul_/addcmul_,
    // sqrt()/bc2_sqrt + eps, addcdiv_(-step_size, m, denom).
    const float neg_step = -step_size;
    NN_CPU_FOR(n, i, n,
        float mi = m[i] * beta1 + one_minus_beta1 * grad[i];
        float vi = v[i] * beta2 + one_minus_beta2 * grad[i] * grad[i];
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        m[i] = mi;
        v[i] = vi;
        param[i] = param[i] + neg_step * mi / denom;
    );
}

void nn_cpu_sgd_step(float *restrict param, float *restrict buf, const float *restrict grad, float lr,
                     float momentum, bool first, int64_t n)
{
    const float neg_lr = -lr;
    if (!buf) {
        NN_CPU_FOR(n, i, n, param[i] = param[i] + neg_lr * grad[i];);
    } else if (first) {
        NN_CPU_FOR(n, i, n,
            buf[i] = grad[i];
            param[i] = param[i] + neg_lr * grad[i];
    );
    } else {
        NN_CPU_FOR(n, i, n,
            float b = buf[i] * momentum + grad[i];
            buf[i] = b;
            param[i] = param[i] + neg_lr * b;
    );
    }
}
