/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conv_gemm: convolution as matrix products, one image at a time.
 *
 * im2col unrolls image n into col (C*KH*KW, OH*OW), row (c, kh, kw) holding
 * the input pixel each output pixel reads through tap (kh, kw); then
 *   forward          out_n (OC, OH*OW)  = weight (OC, C*KH*KW) . col
 *   backward-input   col = weight^T . dout_n, then col2im sums col back
 *   backward-weight  dweight += dout_n . col^T, image after image
 * The GEMMs run on OpenBLAS with its own threads; the gathers and scatters
 * around them run on OpenMP threads, one output row or channel plane per
 * iteration, so every value is summed in an order fixed by the shape alone.
 * OpenBLAS splits a GEMM between threads by rows and columns of the result,
 * never along the summed dimension, so its results do not depend on the
 * thread count either.
 * A 1x1, stride-1, unpadded convolution skips im2col: the image is col.
 */
#include <cblas.h>
#include <string.h>

#include "conv_impl.h"

static bool is_pointwise(const ConvShape *s)
{
    return s->KH == 1 && s->KW == 1 && s->stride == 1 && s->pad == 0;
}

size_t conv_gemm_workspace_floats(const ConvShape *s)
{
    if (is_pointwise(s))
        return 0;
    return (size_t)(s->C * s->KH * s->KW) * (size_t)(s->OH * s->OW);
}

// col (C*KH*KW, OH*OW) from one image img (C, H, W).
static void im2col(float *col, const float *img, const ConvShape *s)
{
    const int64_t rows = s->C * s->KH * s->KW, ohw = s->OH * s->OW;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        int64_t c = r / (s->KH * s->KW), kh = r / s->KW % s->KH, kw = r % s->KW;
        const float *plane = img + c * s->H * s->W;
        float *dst = col + r * ohw;
        for (int64_t oh = 0; oh < s->OH; oh++) {
            int64_t ih = oh * s->stride - s->pad + kh;
            float *d = dst + oh * s->OW;
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
}

// img (C, H, W) = sum of col (C*KH*KW, OH*OW) over the taps that read each
// pixel. One channel plane per iteration: taps in (kh, kw) order, so the sum
// order is fixed.
static void col2im(float *img, const float *col, const ConvShape *s)
{
    const int64_t ohw = s->OH * s->OW, kk = s->KH * s->KW;
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < s->C; c++) {
        float *plane = img + c * s->H * s->W;
        memset(plane, 0, (size_t)(s->H * s->W) * sizeof *plane);
        for (int64_t t = 0; t < kk; t++) {
            int64_t kh = t / s->KW, kw = t % s->KW;
            const float *src = col + (c * kk + t) * ohw;
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
    const int64_t ckk = s->C * s->KH * s->KW, ohw = s->OH * s->OW;
    for (int64_t n = 0; n < s->N; n++) {
        const float *img = inp + n * s->C * s->H * s->W;
        float *o = out + n * s->OC * ohw;
        const float *col = img;
        if (!is_pointwise(s)) {
            im2col(ws, img, s);
            col = ws;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)s->OC, (int)ohw, (int)ckk, 1.0f, weight,
                    (int)ckk, col, (int)ohw, 0.0f, o, (int)ohw);
        if (bias) {
#pragma omp parallel for schedule(static)
            for (int64_t oc = 0; oc < s->OC; oc++)
                for (int64_t i = 0; i < ohw; i++)
                    o[oc * ohw + i] += bias[oc];
        }
    }
}

void conv_gemm_backward_input(float *dinp, const float *dout, const float *weight, const ConvShape *s, float *ws)
{
    const int64_t ckk = s->C * s->KH * s->KW, ohw = s->OH * s->OW;
    for (int64_t n = 0; n < s->N; n++) {
        float *img = dinp + n * s->C * s->H * s->W;
        float *col = is_pointwise(s) ? img : ws;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)ckk, (int)ohw, (int)s->OC, 1.0f, weight,
                    (int)ckk, dout + n * s->OC * ohw, (int)ohw, 0.0f, col, (int)ohw);
        if (!is_pointwise(s))
            col2im(img, col, s);
    }
}

void conv_gemm_backward_weight(float *dweight, float *dbias, const float *dout, const float *inp,
                               const ConvShape *s, float *ws)
{
    const int64_t ckk = s->C * s->KH * s->KW, ohw = s->OH * s->OW;
    for (int64_t n = 0; n < s->N; n++) {
        const float *img = inp + n * s->C * s->H * s->W;
        const float *col = img;
        if (!is_pointwise(s)) {
            im2col(ws, img, s);
            col = ws;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)s->OC, (int)ckk, (int)ohw, 1.0f,
                    dout + n * s->OC * ohw, (int)ohw, col, (int)ohw, 1.0f, dweight, (int)ckk);
    }
    if (dbias)
        conv_bias_grad(dbias, dout, s);
}
