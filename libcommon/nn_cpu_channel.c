/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_cpu_channel: CPU kernels that work per channel or per sample of NCHW
 * tensors: channel normalisation, per-sample scaling and sums, channel
 * means and copies, batch normalisation and softmax cross-entropy.
 * Reductions run in double, in index order, one sample (or channel) per
 * thread, so the result is the same for any thread count.
 */
#include <math.h>
#include <string.h>

#include "nn_cpu_impl.h"

void nn_cpu_channel_norm_forward(float *restrict out, const float *restrict x, const float *restrict mean,
                                 const float *restrict div, int64_t N, int64_t C, int64_t HW)
{
    NN_CPU_FOR(N * C * HW, nc, N * C,
        const float m = mean[nc % C], d = div[nc % C];
        const float *xi = x + nc * HW;
        float *o = out + nc * HW;
        for (int64_t i = 0; i < HW; i++)
            o[i] = (xi[i] - m) / d;
    );
}

void nn_cpu_channel_norm_backward(float *restrict dx, const float *restrict dout, const float *restrict div,
                                  int64_t N, int64_t C, int64_t HW, bool acc)
{
    NN_CPU_FOR(N * C * HW, nc, N * C,
        const float d = div[nc % C];
        const float *g = dout + nc * HW;
        float *o = dx + nc * HW;
        if (acc)
            for (int64_t i = 0; i < HW; i++)
                o[i] += g[i] / d;
        else
            for (int64_t i = 0; i < HW; i++)
                o[i] = g[i] / d;
    );
}

void nn_cpu_div_per_sample(float *restrict out, const float *restrict x, const float *restrict s, int64_t N,
                           int64_t inner, bool acc)
{
    NN_CPU_FOR(N * inner, n, N,
        const float sn = s[n];
        const float *xi = x + n * inner;
        float *o = out + n * inner;
        if (acc)
            for (int64_t i = 0; i < inner; i++)
                o[i] += xi[i] / sn;
        else
            for (int64_t i = 0; i < inner; i++)
                o[i] = xi[i] / sn;
    );
}

void nn_cpu_sum_per_sample(float *restrict out, const float *restrict x, double divisor, int64_t N,
                           int64_t inner)
{
    NN_CPU_FOR(N * inner, n, N,
        const float *xi = x + n * inner;
        // Four double partial sums keep the loop fast and the order fixed.
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int64_t i = 0;
        for (; i + 4 <= inner; i += 4) {
            s0 += xi[i];
            s1 += xi[i + 1];
            s2 += xi[i + 2];
            s3 += xi[i + 3];
        }
        for (; i < inner; i++)
            s0 += xi[i];
        out[n] = (float)(((s0 + s1) + (s2 + s3)) / divisor);
    );
}

void nn_cpu_broadcast_per_sample(float *restrict dx, const float *restrict g, float scale, int64_t N,
                                 int64_t inner, bool acc)
{
    NN_CPU_FOR(N * inner, n, N,
        const float v = g[n] * scale;
        float *o = dx + n * inner;
        if (acc)
            for (int64_t i = 0; i < inner; i++)
                o[i] += v;
        else
            for (int64_t i = 0; i < inner; i++)
                o[i] = v;
    );
}

void nn_cpu_mean_channels_forward(float *restrict out, const float *restrict x, int64_t N, int64_t C, int64_t HW)
{
    NN_CPU_FOR(N * C * HW, n, N,
        float *o = out + n * HW;
        for (int64_t i = 0; i < HW; i++) {
            double s = 0;
            for (int64_t c = 0; c < C; c++)
                s += x[(n * C + c) * HW + i];
            o[i] = (float)(s / (double)C);
        }
    );
}

void nn_cpu_mean_channels_backward(float *restrict dx, const float *restrict dout, int64_t N, int64_t C,
                                   int64_t HW, bool acc)
{
    const float inv = 1.0f / (float)C;
    NN_CPU_FOR(N * C * HW, nc, N * C,
        const float *g = dout + (nc / C) * HW;
        float *o = dx + nc * HW;
        if (acc)
            for (int64_t i = 0; i < HW; i++)
                o[i] += g[i] * inv;
        else
            for (int64_t i = 0; i < HW; i++)
                o[i] = g[i] * inv;
    );
}

void nn_cpu_copy_channels(float *restrict dst, int64_t dst_C, int64_t dst_c0, const float *restrict src,
                          int64_t src_C, int64_t src_c0, int64_t copy_C, int64_t N, int64_t HW, bool acc)
{
    NN_CPU_FOR(N * copy_C * HW, nc, N * copy_C,
        const int64_t n = nc / copy_C, c = nc % copy_C;
        float *o = dst + (n * dst_C + dst_c0 + c) * HW;
        const float *s = src + (n * src_C + src_c0 + c) * HW;
        if (acc)
            for (int64_t i = 0; i < HW; i++)
                o[i] += s[i];
        else
            memcpy(o, s, (size_t)HW * sizeof *o);
    );
}

// torch BatchNorm2d: batch mean and biased variance normalise; the running
// variance is updated with the unbiased one (momentum 0.1, eps 1e-5 by default).
void nn_cpu_batchnorm_forward(float *restrict out, float *restrict mean, float *restrict invstd,
                              float *restrict running_mean, float *restrict running_var, const float *restrict x,
                              const float *restrict weight, const float *restrict bias, bool training,
                              float momentum, float eps, int64_t N, int64_t C, int64_t HW)
{
    const int64_t M = N * HW;
    NN_CPU_FOR(N * C * HW, c, C,
        float mu, istd;
        if (training) {
            double s = 0;
            for (int64_t n = 0; n < N; n++)
                for (int64_t i = 0; i < HW; i++)
                    s += x[(n * C + c) * HW + i];
            const double dmu = s / (double)M;
            double ss = 0;
            for (int64_t n = 0; n < N; n++)
                for (int64_t i = 0; i < HW; i++) {
                    const double d = x[(n * C + c) * HW + i] - dmu;
                    ss += d * d;
                }
            const double var = ss / (double)M;
            mu = (float)dmu;
            istd = (float)(1.0 / sqrt(var + (double)eps));
            if (running_mean)
                running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * mu;
            if (running_var)
                running_var[c] = (1.0f - momentum) * running_var[c] +
                                 momentum * (float)(M > 1 ? ss / (double)(M - 1) : var);
        } else {
            mu = running_mean[c];
            istd = 1.0f / sqrtf(running_var[c] + eps);
        }
        mean[c] = mu;
        invstd[c] = istd;
        const float w = weight ? weight[c] : 1.0f, b = bias ? bias[c] : 0.0f;
        for (int64_t n = 0; n < N; n++) {
            const float *xi = x + (n * C + c) * HW;
            float *o = out + (n * C + c) * HW;
            for (int64_t i = 0; i < HW; i++)
                o[i] = (xi[i] - mu) * istd * w + b;
        }
    );
}

void nn_cpu_batchnorm_backward(float *restrict dx, float *restrict dweight, float *restrict dbias,
                               const float *restrict dout, const float *restrict x, const float *restrict mean,
                               const float *restrict invstd, const float *restrict weight, bool training,
                               int64_t N, int64_t C, int64_t HW, bool acc)
{
    const int64_t M = N * HW;
    NN_CPU_FOR(N * C * HW, c, C,
        const float mu = mean[c], istd = invstd[c], w = weight ? weight[c] : 1.0f;
        double gsum = 0, dotp = 0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < HW; i++) {
                const int64_t k = (n * C + c) * HW + i;
                gsum += dout[k];
                dotp += (double)dout[k] * (x[k] - mu);
            }
        if (dweight)
            dweight[c] += (float)(dotp * istd);
        if (dbias)
            dbias[c] += (float)gsum;
        if (!dx)
            continue;
        const float gmean = (float)(gsum / (double)M);
        const float proj = (float)(dotp / (double)M) * istd * istd;
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < HW; i++) {
                const int64_t k = (n * C + c) * HW + i;
                const float g = training ? (dout[k] - gmean - (x[k] - mu) * proj) * istd * w : dout[k] * istd * w;
                dx[k] = acc ? dx[k] + g : g;
            }
    );
}

void nn_cpu_softmax_ce_forward(float *restrict loss, float *restrict prob, const float *restrict logits,
                               const int32_t *restrict labels, int64_t N, int64_t K)
{
    NN_CPU_FOR(N * K, n, N,
        const float *z = logits + n * K;
        float *p = prob + n * K;
        float zmax = z[0];
        for (int64_t k = 1; k < K; k++)
            zmax = z[k] > zmax ? z[k] : zmax;
        double s = 0;
        for (int64_t k = 0; k < K; k++)
            s += exp((double)z[k] - zmax);
        const double lse = zmax + log(s);
        for (int64_t k = 0; k < K; k++)
            p[k] = (float)exp((double)z[k] - lse);
        loss[n] = (float)(lse - z[labels[n]]);
    );
}

void nn_cpu_softmax_ce_backward(float *restrict dlogits, const float *restrict dloss, const float *restrict prob,
                                const int32_t *restrict labels, int64_t N, int64_t K, bool acc)
{
    NN_CPU_FOR(N * K, n, N, for (int64_t k = 0; k < K; k++) {
            const float g = dloss[n] * (prob[n * K + k] - (k == labels[n] ? 1.0f : 0.0f));
            dlogits[n * K + k] = acc ? dlogits[n * K + k] + g : g;
        });
}
