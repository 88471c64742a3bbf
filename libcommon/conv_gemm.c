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
 * Three shapes of the models skip im2col: a 1x1 input, a kernel covering
 * the whole input (see point_* and whole_* below), and a plain 1x1
 * convolution (conv_plain_pointwise: one product per image on the tensors).
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

static void pack_a(float *dst, const float *src, int64_t M, int64_t K, int64_t rs, int64_t cs);

// A 1x1 input (the decoders' first conv, 4x4 pad 3 from the 1x1 latent):
// each output pixel reads at most one tap, so the convolution is a single
// product with the kernel rearranged, Wt (C, OC*OH*OW), instead of an
// im2col that is almost all padding.
static bool is_point_input(const ConvShape *s) { return s->H == 1 && s->W == 1; }

static size_t point_floats(const ConvShape *s)
{
    const int64_t cols = s->OC * s->OH * s->OW, cp = round_up(s->C, WG_PANEL);
    int64_t f = round_up(s->N, WG_OCB) * s->C + s->C * round_up(cols, WG_PANEL);
    int64_t b = round_up(s->N, WG_OCB) * cols + cols * cp;
    int64_t w = round_up(cols, WG_OCB) * s->N + s->N * cp + cols * s->C;
    int64_t most = f > b ? f : b;
    return (size_t)(w > most ? w : most);
}

// The tap output pixel p = oh * OW + ow reads from a 1x1 input, or -1.
static int64_t point_tap(const ConvShape *s, int64_t p)
{
    int64_t kh = s->pad - p / s->OW * s->stride, kw = s->pad - p % s->OW * s->stride;
    return kh >= 0 && kh < s->KH && kw >= 0 && kw < s->KW ? kh * s->KW + kw : -1;
}

// wt (C, ld): wt[c][oc * ohw + p] = weight[oc][c][tap(p)] (0 without a
// tap); transposed: wt (OC * ohw, ld) with wt[oc * ohw + p][c].
static void point_weight(float *wt, int64_t ld, const float *weight, const ConvShape *s, bool transposed)
{
    const int64_t ohw = s->OH * s->OW, kk = s->KH * s->KW, cols = s->OC * ohw;
    const int64_t rows = transposed ? cols : s->C;
    memset(wt, 0, (size_t)(rows * ld) * sizeof *wt);
    for (int64_t oc = 0; oc < s->OC; oc++)
        for (int64_t p = 0; p < ohw; p++) {
            int64_t t = point_tap(s, p);
            if (t < 0)
                continue;
            for (int64_t c = 0; c < s->C; c++) {
                float v = weight[(oc * s->C + c) * kk + t];
                if (transposed)
                    wt[(oc * ohw + p) * ld + c] = v;
                else
                    wt[c * ld + oc * ohw + p] = v;
            }
        }
}

static void point_forward(float *out, const float *inp, const float *weight, const ConvShape *s, float *ws)
{
    const int64_t cols = s->OC * s->OH * s->OW, ld = round_up(cols, WG_PANEL);
    float *a = ws, *b = a + round_up(s->N, WG_OCB) * s->C;
    pack_a(a, inp, s->N, s->C, s->C, 1);
    point_weight(b, ld, weight, s, false);
    GemmJob g = {a, b, out, s->N, cols, s->C, ld, cols, cols, 0, false, NULL};
    conv_kernels()->gemm_run(&g);
}

static void point_backward_input(float *dinp, const float *dout, const float *weight, const ConvShape *s,
                                 float *ws)
{
    const int64_t cols = s->OC * s->OH * s->OW, ld = round_up(s->C, WG_PANEL);
    float *a = ws, *b = a + round_up(s->N, WG_OCB) * cols;
    pack_a(a, dout, s->N, cols, cols, 1);
    point_weight(b, ld, weight, s, true);
    GemmJob g = {a, b, dinp, s->N, s->C, cols, ld, s->C, s->C, 0, false, NULL};
    conv_kernels()->gemm_run(&g);
}

static void point_backward_weight(float *dweight, const float *dout, const float *inp, const ConvShape *s,
                                  float *ws)
{
    const int64_t ohw = s->OH * s->OW, cols = s->OC * ohw, ld = round_up(s->C, WG_PANEL), kk = s->KH * s->KW;
    float *a = ws, *b = a + round_up(cols, WG_OCB) * s->N, *dwt = b + s->N * ld;
    pack_a(a, dout, cols, s->N, 1, cols); // dout^T
    for (int64_t n = 0; n < s->N; n++) {
        memcpy(b + n * ld, inp + n * s->C, (size_t)s->C * sizeof *b);
        memset(b + n * ld + s->C, 0, (size_t)(ld - s->C) * sizeof *b);
    }
    GemmJob g = {a, b, dwt, cols, s->C, s->N, ld, s->C, s->C, 0, false, NULL};
    conv_kernels()->gemm_run(&g);
    for (int64_t oc = 0; oc < s->OC; oc++)
        for (int64_t p = 0; p < ohw; p++) {
            int64_t t = point_tap(s, p);
            if (t < 0)
                continue;
            for (int64_t c = 0; c < s->C; c++)
                dweight[(oc * s->C + c) * kk + t] += dwt[(oc * ohw + p) * s->C + c];
        }
}

// A kernel that covers the whole unpadded input (the encoders' last conv,
// 4x4 to the 1x1 latent): the flattened image is the im2col column, so
// out (N, OC) = inp (N, C*H*W) . weight^T with nothing unrolled.
static bool is_point_output(const ConvShape *s)
{
    return s->pad == 0 && s->KH == s->H && s->KW == s->W && !is_point_input(s);
}

static size_t whole_floats(const ConvShape *s)
{
    const int64_t ckk = s->C * s->KH * s->KW, ckkp = round_up(ckk, WG_PANEL);
    int64_t f = round_up(s->N, WG_OCB) * ckk + ckk * round_up(s->OC, WG_PANEL);
    int64_t b = round_up(s->N, WG_OCB) * s->OC + s->OC * ckkp;
    int64_t w = round_up(s->OC, WG_OCB) * s->N + s->N * ckkp;
    int64_t most = f > b ? f : b;
    return (size_t)(w > most ? w : most);
}

// dst (rows, ld) = src (rows, cols) with zero columns past cols.
static void copy_padded(float *dst, int64_t ld, const float *src, int64_t rows, int64_t cols)
{
    for (int64_t r = 0; r < rows; r++) {
        memcpy(dst + r * ld, src + r * cols, (size_t)cols * sizeof *dst);
        memset(dst + r * ld + cols, 0, (size_t)(ld - cols) * sizeof *dst);
    }
}

static void whole_forward(float *out, const float *inp, const float *weight, const ConvShape *s, float *ws)
{
    const int64_t ckk = s->C * s->KH * s->KW, ld = round_up(s->OC, WG_PANEL);
    float *a = ws, *b = a + round_up(s->N, WG_OCB) * ckk;
    pack_a(a, inp, s->N, ckk, ckk, 1);
    // b (ckk, ld) = weight^T, in strips of 32 rows so that both sides of
    // the transpose stay in cache.
    for (int64_t k0 = 0; k0 < ckk; k0 += 32) {
        int64_t k1 = k0 + 32 < ckk ? k0 + 32 : ckk;
        for (int64_t oc = 0; oc < s->OC; oc++)
            for (int64_t k = k0; k < k1; k++)
                b[k * ld + oc] = weight[oc * ckk + k];
        for (int64_t k = k0; k < k1; k++)
            memset(b + k * ld + s->OC, 0, (size_t)(ld - s->OC) * sizeof *b);
    }
    GemmJob g = {a, b, out, s->N, s->OC, ckk, ld, s->OC, s->OC, 0, false, NULL};
    conv_kernels()->gemm_run(&g);
}

static void whole_backward_input(float *dinp, const float *dout, const float *weight, const ConvShape *s,
                                 float *ws)
{
    const int64_t ckk = s->C * s->KH * s->KW, ld = round_up(ckk, WG_PANEL);
    float *a = ws, *b = a + round_up(s->N, WG_OCB) * s->OC;
    pack_a(a, dout, s->N, s->OC, s->OC, 1);
    copy_padded(b, ld, weight, s->OC, ckk);
    GemmJob g = {a, b, dinp, s->N, ckk, s->OC, ld, ckk, ckk, 0, false, NULL};
    conv_kernels()->gemm_run(&g);
}

static void whole_backward_weight(float *dweight, const float *dout, const float *inp, const ConvShape *s,
                                  float *ws)
{
    const int64_t ckk = s->C * s->KH * s->KW, ld = round_up(ckk, WG_PANEL);
    float *a = ws, *b = a + round_up(s->OC, WG_OCB) * s->N;
    pack_a(a, dout, s->OC, s->N, 1, s->OC); // dout^T
    copy_padded(b, ld, inp, s->N, ckk);
    GemmJob g = {a, b, dweight, s->OC, ckk, s->N, ld, ckk, ckk, 0, true, NULL};
    conv_kernels()->gemm_run(&g);
}

size_t conv_gemm_workspace_floats(const ConvShape *s)
{
    size_t most = is_point_input(s) ? point_floats(s) : is_point_output(s) ? whole_floats(s) : 0;
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
// column = tap (c, kh, kw); columns past ckk are zero. One output row of one
// image per iteration; its OW x ldb block stays in cache while the taps fill
// it column by column.
static void im2col_t(float *colt, int64_t ldb, const float *inp, int64_t n0, int64_t cnt, const ConvShape *s)
{
    const int64_t ckk = s->C * s->KH * s->KW;
#pragma omp parallel for schedule(static) if (cnt * s->OH * s->OW * ldb > CONV_PAR_MIN)
    for (int64_t row = 0; row < cnt * s->OH; row++) {
        int64_t i = row / s->OH, oh = row % s->OH;
        const float *img = inp + (n0 + i) * s->C * s->H * s->W;
        float *blk = colt + row * s->OW * ldb;
        for (int64_t r = 0; r < ckk; r++) {
            int64_t c = r / (s->KH * s->KW), kh = r / s->KW % s->KH, kw = r % s->KW;
            int64_t ih = oh * s->stride - s->pad + kh;
            float *d = blk + r;
            if (ih < 0 || ih >= s->H) {
                for (int64_t ow = 0; ow < s->OW; ow++)
                    d[ow * ldb] = 0.0f;
                continue;
            }
            const float *src = img + (c * s->H + ih) * s->W;
            for (int64_t ow = 0; ow < s->OW; ow++) {
                int64_t iw = ow * s->stride - s->pad + kw;
                d[ow * ldb] = iw >= 0 && iw < s->W ? src[iw] : 0.0f;
            }
        }
        for (int64_t ow = 0; ow < s->OW; ow++)
            memset(blk + ow * ldb + ckk, 0, (size_t)(ldb - ckk) * sizeof *blk);
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

// dst[n] (rows_out, hw) = a (packed, rows_out x rows_in) . src[n] (rows_in,
// hw) (+ bias, per row) for every image: a plain pointwise convolution
// (conv_impl.h) runs the product on each image as it is, (C, H*W) row-major
// being the B operand.
static void pointwise_product(float *dst, const float *a, const float *src, const float *bias, int64_t N,
                              int64_t rows_in, int64_t rows_out, int64_t hw)
{
    for (int64_t n = 0; n < N; n++) {
        GemmJob g = {a, src + n * rows_in * hw, dst + n * rows_out * hw, rows_out, hw, rows_in, hw, hw, hw, 0,
                     false, bias};
        conv_kernels()->gemm_run(&g);
    }
}

// out (N, OC, ohw) += bias per output channel, for the products whose rows
// are not output channels.
static void add_channel_bias(float *out, const float *bias, const ConvShape *s, int64_t ohw)
{
#pragma omp parallel for schedule(static) if (s->N * s->OC * ohw > CONV_PAR_MIN)
    for (int64_t i = 0; i < s->N * s->OC; i++) {
        float *o = out + i * ohw, b = bias[i % s->OC];
        for (int64_t j = 0; j < ohw; j++)
            o[j] += b;
    }
}

void conv_gemm_forward(float *out, const float *inp, const float *weight, const float *bias, const ConvShape *s,
                       float *ws)
{
    const Plan p = plan(s, CONV_PASS_FORWARD);
    if (is_point_input(s) || is_point_output(s)) {
        (is_point_input(s) ? point_forward : whole_forward)(out, inp, weight, s, ws);
        if (bias)
            add_channel_bias(out, bias, s, p.ohw);
        return;
    }
    // Rows are output channels: the products add the bias as they write.
    float *a = ws, *col = a + round_up(s->OC, WG_OCB) * p.ckk;
    pack_a(a, weight, s->OC, p.ckk, p.ckk, 1);
    if (conv_plain_pointwise(s)) {
        pointwise_product(out, a, inp, bias, s->N, s->C, s->OC, p.ohw);
        return;
    }
    for (int64_t n0 = 0; n0 < s->N; n0 += p.nb) {
        int64_t cnt = s->N - n0 < p.nb ? s->N - n0 : p.nb;
        im2col(col, p.ldb, inp, n0, cnt, s);
        GemmJob g = {a, col, out + n0 * s->OC * p.ohw, s->OC, cnt * p.ohw, p.ckk, p.ldb, p.ohw, p.ohw,
                     s->OC * p.ohw, false, bias};
        conv_kernels()->gemm_run(&g);
    }
}

void conv_gemm_backward_input(float *dinp, const float *dout, const float *weight, const ConvShape *s, float *ws)
{
    if (is_point_input(s) || is_point_output(s)) {
        (is_point_input(s) ? point_backward_input : whole_backward_input)(dinp, dout, weight, s, ws);
        return;
    }
    const Plan p = plan(s, CONV_PASS_BACKWARD_INPUT);
    float *a = ws, *b = a + round_up(p.ckk, WG_OCB) * s->OC, *col = b + s->OC * p.ldb;
    pack_a(a, weight, p.ckk, s->OC, 1, p.ckk); // weight^T
    if (conv_plain_pointwise(s)) {
        pointwise_product(dinp, a, dout, NULL, s->N, s->OC, s->C, p.ohw);
        return;
    }
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
        GemmJob g = {a, b, col, p.ckk, cnt * p.ohw, s->OC, p.ldb, p.ldb, p.ldb, 0, false, NULL};
        conv_kernels()->gemm_run(&g);
        col2im(dinp, col, p.ldb, n0, cnt, s);
    }
}

void conv_gemm_backward_weight(float *dweight, float *dbias, const float *dout, const float *inp,
                               const ConvShape *s, float *ws)
{
    const Plan p = plan(s, CONV_PASS_BACKWARD_WEIGHT);
    float *a = ws, *colt = a + round_up(s->OC, WG_OCB) * p.nb * p.ohw;
    bool special = is_point_input(s) || is_point_output(s);
    if (special)
        (is_point_input(s) ? point_backward_weight : whole_backward_weight)(dweight, dout, inp, s, ws);
    for (int64_t n0 = 0; n0 < s->N && !special; n0 += p.nb) {
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
        GemmJob g = {a, colt, dweight, s->OC, p.ckk, K, p.ldb, p.ckk, p.ckk, 0, true, NULL};
        conv_kernels()->gemm_run(&g);
    }
    if (dbias)
        conv_bias_grad(dbias, dout, s);
}
