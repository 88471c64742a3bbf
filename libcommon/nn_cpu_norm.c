/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_cpu_norm: CPU kernels of the progressive-GAN normalisations the DPA
 * networks may use (spec dpa-piad.md 1.1, 1.3): pixel normalisation over
 * channels, instance normalisation over each plane, and the minibatch
 * standard deviation channel. Sums run in double, in index order, with one
 * output region per loop iteration, so results do not depend on the thread
 * count. Backwards recompute the statistics from the saved input.
 */
#include <math.h>
#include <string.h>

#include "nn_cpu_impl.h"

// PixelNormLayer: y = x / d, d = sqrt(mean_c x^2 + 1e-8), in float32 as torch.
static float pixel_div(const float *x, int64_t C, int64_t HW)
{
    double s = 0;
    for (int64_t c = 0; c < C; c++)
        s += (double)x[c * HW] * x[c * HW];
    return sqrtf((float)(s / (double)C) + 1e-8f);
}

void nn_cpu_pixel_norm_forward(float *restrict out, const float *restrict x, int64_t N, int64_t C, int64_t HW)
{
    NN_CPU_FOR(N * C * HW, p, N * HW,
        const int64_t base = (p / HW) * C * HW + p % HW;
        const float d = pixel_div(x + base, C, HW);
        for (int64_t c = 0; c < C; c++)
            out[base + c * HW] = x[base + c * HW] / d;
    );
}

// dx_j = g_j / d - x_j / (C d^3) * sum_c g_c x_c.
void nn_cpu_pixel_norm_backward(float *restrict dx, const float *restrict dout, const float *restrict x, int64_t N,
                                int64_t C, int64_t HW, bool acc)
{
    NN_CPU_FOR(N * C * HW, p, N * HW,
        const int64_t base = (p / HW) * C * HW + p % HW;
        const double d = pixel_div(x + base, C, HW);
        double gx = 0;
        for (int64_t c = 0; c < C; c++)
            gx += (double)dout[base + c * HW] * x[base + c * HW];
        const double k = gx / ((double)C * d * d * d);
        for (int64_t c = 0; c < C; c++) {
            const int64_t j = base + c * HW;
            const float v = (float)(dout[j] / d - x[j] * k);
            dx[j] = acc ? dx[j] + v : v;
        }
    );
}

// Mean and 1/sqrt(biased variance + eps) of one plane.
static void plane_stats(const float *x, int64_t HW, float eps, double *mean, double *invstd)
{
    double s = 0, v = 0;
    for (int64_t i = 0; i < HW; i++)
        s += x[i];
    const double m = s / (double)HW;
    for (int64_t i = 0; i < HW; i++)
        v += (x[i] - m) * (x[i] - m);
    *mean = m;
    *invstd = 1.0 / sqrt(v / (double)HW + eps);
}

void nn_cpu_instance_norm_forward(float *restrict out, const float *restrict x, float eps, int64_t NC, int64_t HW)
{
    NN_CPU_FOR(NC * HW, p, NC,
        const float *xi = x + p * HW;
        float *o = out + p * HW;
        double m, s;
        plane_stats(xi, HW, eps, &m, &s);
        for (int64_t i = 0; i < HW; i++)
            o[i] = (float)((xi[i] - m) * s);
    );
}

// dx = s (g - mean(g) - y mean(g y)), y = (x - mean) s.
void nn_cpu_instance_norm_backward(float *restrict dx, const float *restrict dout, const float *restrict x, float eps,
                                   int64_t NC, int64_t HW, bool acc)
{
    NN_CPU_FOR(NC * HW, p, NC,
        const float *xi = x + p * HW, *g = dout + p * HW;
        float *d = dx + p * HW;
        double m, s, gs = 0, gy = 0;
        plane_stats(xi, HW, eps, &m, &s);
        for (int64_t i = 0; i < HW; i++) {
            gs += g[i];
            gy += g[i] * (xi[i] - m) * s;
        }
        gs /= (double)HW;
        gy /= (double)HW;
        for (int64_t i = 0; i < HW; i++) {
            const float v = (float)(s * (g[i] - gs - (xi[i] - m) * s * gy));
            d[i] = acc ? d[i] + v : v;
        }
    );
}

// Mean over the batch of x[., ci] (x (N, CHW)).
static double batch_mean(const float *x, int64_t N, int64_t CHW, int64_t ci)
{
    double s = 0;
    for (int64_t n = 0; n < N; n++)
        s += x[n * CHW + ci];
    return s / (double)N;
}

void nn_cpu_mbstd_forward(float *restrict out, float *restrict sigma, const float *restrict x, int64_t N, int64_t C,
                          int64_t HW)
{
    const int64_t CHW = C * HW;
    NN_CPU_FOR(N * CHW, ci, CHW,
        const double m = batch_mean(x, N, CHW, ci);
        double v = 0;
        for (int64_t n = 0; n < N; n++)
            v += (x[n * CHW + ci] - m) * (x[n * CHW + ci] - m);
        sigma[ci] = sqrtf((float)(v / (double)N) + 1e-8f);
    );
    double s = 0;
    for (int64_t ci = 0; ci < CHW; ci++)
        s += sigma[ci];
    const float mean_sigma = (float)(s / (double)CHW);
    NN_CPU_FOR(N * (CHW + HW), n, N,
        float *o = out + n * (CHW + HW);
        memcpy(o, x + n * CHW, (size_t)CHW * sizeof(float));
        for (int64_t i = 0; i < HW; i++)
            o[CHW + i] = mean_sigma;
    );
}

// d sigma[ci] / d x[n, ci] = (x - mean) / (N sigma); the appended channel
// is mean(sigma), so its gradient reaches every sigma with 1 / (C HW).
void nn_cpu_mbstd_backward(float *restrict dx, const float *restrict dout, const float *restrict x,
                           const float *restrict sigma, int64_t N, int64_t C, int64_t HW, bool acc)
{
    const int64_t CHW = C * HW;
    double gsum = 0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t i = 0; i < HW; i++)
            gsum += dout[n * (CHW + HW) + CHW + i];
    const double k = gsum / (double)CHW;
    NN_CPU_FOR(N * CHW, ci, CHW,
        const double m = batch_mean(x, N, CHW, ci);
        const double f = k / ((double)N * sigma[ci]);
        for (int64_t n = 0; n < N; n++) {
            const float v = (float)(dout[n * (CHW + HW) + ci] + (x[n * CHW + ci] - m) * f);
            dx[n * CHW + ci] = acc ? dx[n * CHW + ci] + v : v;
        }
    );
}
