/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conv_gemm: convolution as matrix products over groups of images, for any
 * shape.
 *
 * im2col unrolls a group of images into col (C*KH*KW, images*OH*OW), row
 * (c, kh, kw) holding the input pixel each output pixel reads through tap
 * (kh, kw); then
 *   forward          out (OC, images*OH*OW) = weight (OC, C*KH*KW) . col
 *   backward-input   col = weight^T . dout, then col2im sums col back
 *   backward-weight  dweight += dout (OC, images*OH*OW) . col^T
 * Grouping images makes the products wide enough to block even when each
 * image has a handful of output pixels (the 4x4 and 1x1 layers). The group
 * size depends on the shape only.
 *
 * The products run on the register-tiled kernel of conv_kernels.inc under
 * OpenMP, not on a BLAS library: one thread pool for every conv kernel (a
 * second pool spinning beside OpenMP's halves the speed of both on a busy
 * machine), and a summation order fixed by the shape, whatever the thread
 * count.
 */
#include <string.h>

#include "conv_impl.h"

// Target floats of a group's unrolled buffer (about 8 MB).
#define GEMM_GROUP_FLOATS ((int64_t)1 << 21)

static int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

typedef struct Plan {
    int64_t ckk, ohw;
    int64_t nb;  /* images per group */
    int64_t ldb; /* row length of the B operand */
} Plan;

static int64_t group(const ConvShape *s, int64_t per_image)
{
    int64_t nb = GEMM_GROUP_FLOATS / (per_image > 0 ? per_image : 1);
    return nb < 1 ? 1 : nb > s->N ? s->N : nb;
}

static Plan plan(const ConvShape *s, ConvPass pass)
{
    Plan p;
    p.ckk = s->C * s->KH * s->KW;
    p.ohw = s->OH * s->OW;
    if (pass == CONV_PASS_FORWARD) {
        p.nb = group(s, p.ckk * p.ohw);
        p.ldb = round_up(p.nb * p.ohw, WG_PANEL);
    } else if (pass == CONV_PASS_BACKWARD_INPUT) {
        p.nb = group(s, (s->OC + p.ckk) * p.ohw);
        p.ldb = round_up(p.nb * p.ohw, WG_PANEL);
    } else {
        p.nb = group(s, (round_up(p.ckk, WG_PANEL) + round_up(s->OC, WG_OCB)) * p.ohw);
        p.ldb = round_up(p.ckk, WG_PANEL);
    }
    return p;
}

static size_t pass_floats(const ConvShape *s, ConvPass pass)
{
    Plan p = plan(s, pass);
    int64_t ocp = round_up(s->OC, WG_OCB);
    switch (pass) {
    case CONV_PASS_FORWARD:
        return (size_t)(ocp * p.ckk + p.ckk * p.ldb);
    case CONV_PASS_BACKWARD_INPUT:
        return (size_t)(round_up(p.ckk, WG_OCB) * s->OC + s->OC * p.ldb + p.ckk * p.ldb);
    default:
        return (size_t)(ocp * p.nb * p.ohw + p.nb * p.ohw * p.ldb);
    }
}

size_t conv_gemm_workspace_floats(const ConvShape *s)
{
    size_t most = 0;
    for (ConvPass p = 0; p < CONV_PASS_COUNT; p++) {
        size_t f = pass_floats(s, p);
        most = f > most ? f : most;
    }
    return most;
}

// dst (M rounded up to WG_OCB, K) packed as GemmJob's A from src, element
// (i, k) at src[i * rs + k * cs].
static void pack_a(float *dst, const float *src, int64_t M, int64_t K, int64_t rs, int64_t cs)
{
    const int64_t blocks = (M + WG_OCB - 1) / WG_OCB;
#pragma omp parallel for schedule(static) if (M * K > CONV_PAR_MIN)
    for (int64_t b = 0; b < blocks; b++)
        for (int64_t k = 0; k < K; k++)
            for (int64_t r = 0; r < WG_OCB; r++) {
                int64_t i = b * WG_OCB + r;
                dst[(b * K + k) * WG_OCB + r] = i < M ? src[i * rs + k * cs] : 0.0f;
            }
}

// col (ckk, ldb): column (n - n0) * ohw + oh * OW + ow of row (c, kh, kw) is
// the pixel image n reads through that tap; columns past cnt * ohw are zero.
static void im2col(float *col, int64_t ldb, const float *inp, int64_t n0, int64_t cnt, const ConvShape *s)
{
    const int64_t rows = s->C * s->KH * s->KW, ohw = s->OH * s->OW;
#pragma omp parallel for schedule(static) if (rows * ldb > CONV_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        int64_t c = r / (s->KH * s->KW), kh = r / s->KW % s->KH, kw = r % s->KW;
        float *dst = col + r * ldb;
        for (int64_t i = 0; i < cnt; i++) {
            const float *plane = inp + ((n0 + i) * s->C + c) * s->H * s->W;
            for (int64_t oh = 0; oh < s->OH; oh++) {
                int64_t ih = oh * s->stride - s->pad + kh;
                float *d = dst + i * ohw + oh * s->OW;
                if (ih < 0 || ih >= s->H) {
                    memset(d, 0, (size_t)s->OW * sizeof *d);
                    continue;
                }
                const float *src = plane + ih * s->W;
                for (int64_t ow = 0; ow < s->OW; ow++) {
                    int64_t iw = ow * s->stride - s->pad + kw;
                    d[ow] = iw >= 0 && iw < s->W ? src[iw] : 0.0f;
                }
            }
        }
        memset(dst + cnt * ohw, 0, (size_t)(ldb - cnt * ohw) * sizeof *dst);
    }
}

// The transpose of im2col: colt (cnt * ohw, ldb), row = output pixel,
// column = tap (c, kh, kw); columns past ckk are zero.
static void im2col_t(float *colt, int64_t ldb, const float *inp, int64_t n0, int64_t cnt, const ConvShape *s)
{
    const int64_t ckk = s->C * s->KH * s->KW, kk = s->KH * s->KW;
#pragma omp parallel for schedule(static) if (cnt * s->OH * s->OW * ldb > CONV_PAR_MIN)
    for (int64_t row = 0; row < cnt * s->OH; row++) {
        int64_t i = row / s->OH, oh = row % s->OH;
        const float *img = inp + (n0 + i) * s->C * s->H * s->W;
        for (int64_t ow = 0; ow < s->OW; ow++) {
            float *d = colt + (row * s->OW + ow) * ldb;
            for (int64_t c = 0; c < s->C; c++)
                for (int64_t kh = 0; kh < s->KH; kh++) {
                    int64_t ih = oh * s->stride - s->pad + kh;
                    for (int64_t kw = 0; kw < s->KW; kw++) {
                        int64_t iw = ow * s->stride - s->pad + kw;
                        bool in = ih >= 0 && ih < s->H && iw >= 0 && iw < s->W;
                        d[c * kk + kh * s->KW + kw] = in ? img[(c * s->H + ih) * s->W + iw] : 0.0f;
                    }
                }
            memset(d + ckk, 0, (size_t)(ldb - ckk) * sizeof *d);
        }
    }
}

// dinp images n0 .. n0+cnt-1 = col (ckk, ldb) summed back over the taps that
// read each pixel. One (image, channel) plane per iteration, taps in (kh, kw)
// order: the sum order is fixed.
static void col2im(float *dinp, const float *col, int64_t ldb, int64_t n0, int64_t cnt, const ConvShape *s)
{
    const int64_t ohw = s->OH * s->OW, kk = s->KH * s->KW;
#pragma omp parallel for schedule(static) if (cnt * s->C * kk * ohw > CONV_PAR_MIN)
    for (int64_t job = 0; job < cnt * s->C; job++) {
        int64_t i = job / s->C, c = job % s->C;
        float *plane = dinp + ((n0 + i) * s->C + c) * s->H * s->W;
        memset(plane, 0, (size_t)(s->H * s->W) * sizeof *plane);
        for (int64_t t = 0; t < kk; t++) {
            int64_t kh = t / s->KW, kw = t % s->KW;
            const float *src = col + (c * kk + t) * ldb + i * ohw;
            for (int64_t oh = 0; oh < s->OH; oh++) {
                int64_t ih = oh * s->stride - s->pad + kh;
                if (ih < 0 || ih >= s->H)
                    continue;
                float *d = plane + ih * s->W;
                const float *srow = src + oh * s->OW;
                for (int64_t ow = 0; ow < s->OW; ow++) {
                    int64_t iw = ow * s->stride - s->pad + kw;
                    if (iw >= 0 && iw < s->W)
                        d[iw] += srow[ow];
                }
            }
        }
    }
}

void conv_gemm_forward(float *out, const float *inp, const float *weight, const float *bias, const ConvShape *s,
                       float *ws)
{
    const Plan p = plan(s, CONV_PASS_FORWARD);
    float *a = ws, *col = a + round_up(s->OC, WG_OCB) * p.ckk;
    pack_a(a, weight, s->OC, p.ckk, p.ckk, 1);
    for (int64_t n0 = 0; n0 < s->N; n0 += p.nb) {
        int64_t cnt = s->N - n0 < p.nb ? s->N - n0 : p.nb;
        im2col(col, p.ldb, inp, n0, cnt, s);
        GemmJob g = {a, col, out + n0 * s->OC * p.ohw, s->OC, cnt * p.ohw, p.ckk, p.ldb, p.ohw, p.ohw,
                     s->OC * p.ohw, false};
        conv_kernels()->gemm_run(&g);
    }
    if (bias) {
#pragma omp parallel for schedule(static) if (s->N * s->OC * p.ohw > CONV_PAR_MIN)
        for (int64_t i = 0; i < s->N * s->OC; i++) {
            float *o = out + i * p.ohw, b = bias[i % s->OC];
            for (int64_t j = 0; j < p.ohw; j++)
                o[j] += b;
        }
    }
}

void conv_gemm_backward_input(float *dinp, const float *dout, const float *weight, const ConvShape *s, float *ws)
{
    const Plan p = plan(s, CONV_PASS_BACKWARD_INPUT);
    float *a = ws, *b = a + round_up(p.ckk, WG_OCB) * s->OC, *col = b + s->OC * p.ldb;
    pack_a(a, weight, p.ckk, s->OC, 1, p.ckk); // weight^T
    for (int64_t n0 = 0; n0 < s->N; n0 += p.nb) {
        int64_t cnt = s->N - n0 < p.nb ? s->N - n0 : p.nb;
        // b (OC, ldb): the group's dout, images side by side.
#pragma omp parallel for schedule(static) if (s->OC * p.ldb > CONV_PAR_MIN)
        for (int64_t oc = 0; oc < s->OC; oc++) {
            float *row = b + oc * p.ldb;
            for (int64_t i = 0; i < cnt; i++)
                memcpy(row + i * p.ohw, dout + ((n0 + i) * s->OC + oc) * p.ohw, (size_t)p.ohw * sizeof *row);
            memset(row + cnt * p.ohw, 0, (size_t)(p.ldb - cnt * p.ohw) * sizeof *row);
        }
        GemmJob g = {a, b, col, p.ckk, cnt * p.ohw, s->OC, p.ldb, p.ldb, p.ldb, 0, false};
        conv_kernels()->gemm_run(&g);
        col2im(dinp, col, p.ldb, n0, cnt, s);
    }
}

void conv_gemm_backward_weight(float *dweight, float *dbias, const float *dout, const float *inp,
                               const ConvShape *s, float *ws)
{
    const Plan p = plan(s, CONV_PASS_BACKWARD_WEIGHT);
    float *a = ws, *colt = a + round_up(s->OC, WG_OCB) * p.nb * p.ohw;
    for (int64_t n0 = 0; n0 < s->N; n0 += p.nb) {
        int64_t cnt = s->N - n0 < p.nb ? s->N - n0 : p.nb, K = cnt * p.ohw;
        // a: the group's dout (OC, cnt * ohw) packed as GemmJob's A.
        const int64_t blocks = (s->OC + WG_OCB - 1) / WG_OCB;
#pragma omp parallel for schedule(static) if (s->OC * K > CONV_PAR_MIN)
        for (int64_t blk = 0; blk < blocks; blk++)
            for (int64_t r = 0; r < WG_OCB; r++) {
                int64_t oc = blk * WG_OCB + r;
                float *d = a + blk * K * WG_OCB + r;
                for (int64_t k = 0; k < K; k++)
                    d[k * WG_OCB] = oc < s->OC ? dout[((n0 + k / p.ohw) * s->OC + oc) * p.ohw + k % p.ohw] : 0.0f;
            }
        im2col_t(colt, p.ldb, inp, n0, cnt, s);
        GemmJob g = {a, colt, dweight, s->OC, p.ckk, K, p.ldb, p.ckk, p.ckk, 0, true};
        conv_kernels()->gemm_run(&g);
    }
    if (dbias)
        conv_bias_grad(dbias, dout, s);
}
