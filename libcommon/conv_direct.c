/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conv_direct: stride-1 convolutions of narrow layers (a few channels, as in
 * the DPA models' 4- and 16-channel blocks), where a GEMM has too short a
 * summed dimension to block on. The input planes of a group of images are
 * zero padded into a workspace; output pixel q = y * Wp + x then reads tap
 * (kh, kw) at q + kh * Wp + kw, so the kernel in conv_kernels.inc is a run
 * of contiguous vector loads and FMAs, up to 8 output channels at a time.
 *
 * Backward-input is the forward convolution of dout with the kernel flipped
 * and its channel axes swapped, padded by K - 1 - pad. Backward-weight
 * correlates dout (laid out with Wp columns, the extra ones zero) with the
 * padded input, a block of output channels against one input channel per
 * job (for 1x1 kernels, against a block of input channels), summed per
 * chunk of images into double; where conv_direct_channel_wgrad holds, dout
 * is transposed to (image, pixel, channel) instead and the sums run over
 * output channels in vectors. Plain 1x1 convolutions (conv_plain_pointwise)
 * read dout and the input in place.
 *
 * Images are processed in groups whose size depends on the shape only, so
 * the workspace and the summation order do not depend on the thread count.
 */
#include <string.h>

#include "conv_impl.h"

#define DIR_GROUP_FLOATS ((int64_t)1 << 21)

// Geometry of the stride-1 convolution (C, H, W) -> (OC, OH, OW) with kernel
// K and padding pad.
static void geom_init(DirGeom *g, int64_t C, int64_t H, int64_t W, int64_t OC, int64_t K, int64_t pad)
{
    g->C = C;
    g->OC = OC;
    g->K = K;
    g->Wp = W + 2 * pad;
    g->OH = H + 2 * pad - K + 1;
    g->OW = g->Wp - K + 1;
    // Slack after each plane covers the vector over-read of the last row.
    g->plane = ((H + 2 * pad) * g->Wp + 2 * DIR_QALIGN + K + 15) / 16 * 16;
    g->qstride = (g->OH * g->Wp + DIR_QALIGN - 1) / DIR_QALIGN * DIR_QALIGN;
    g->rows_per_block = (DIR_MAX_Q - 2 * DIR_QALIGN) / g->Wp;
    if (g->rows_per_block < 1)
        g->rows_per_block = 1;
}

static void pass_geom(DirGeom *g, const ConvShape *s, ConvPass pass)
{
    if (pass == CONV_PASS_BACKWARD_INPUT)
        geom_init(g, s->OC, s->OH, s->OW, s->C, s->KH, s->KH - 1 - s->pad);
    else
        geom_init(g, s->C, s->H, s->W, s->OC, s->KH, s->pad);
}

bool conv_direct_supported(const ConvShape *s, ConvPass pass)
{
    (void)pass;
    return s->stride == 1 && s->KH == s->KW && s->KH <= 4 && s->pad < s->KH && s->W + 2 * s->pad <= DIR_MAX_WP &&
           s->OW + 2 * s->KH <= DIR_MAX_WP;
}

// Images per group for this pass: as many as fit DIR_GROUP_FLOATS.
static int64_t group_images(const ConvShape *s, const DirGeom *g, ConvPass pass)
{
    int64_t per = g->C * g->plane + (pass == CONV_PASS_BACKWARD_WEIGHT ? g->OC * g->qstride : 0);
    int64_t nb = DIR_GROUP_FLOATS / per;
    return nb < 1 ? 1 : nb > s->N ? s->N : nb;
}

static size_t pass_floats(const ConvShape *s, ConvPass pass)
{
    DirGeom g;
    pass_geom(&g, s, pass);
    int64_t nb = group_images(s, &g, pass), kk = s->KH * s->KW;
    switch (pass) {
    case CONV_PASS_FORWARD:
        return (size_t)(nb * g.C * g.plane);
    case CONV_PASS_BACKWARD_INPUT:
        return (size_t)(nb * g.C * g.plane + s->OC * s->C * kk);
    default:
        return (size_t)(nb * (g.C * g.plane + g.OC * g.qstride) + 2 * s->OC * s->C * kk);
    }
}

size_t conv_direct_workspace_floats(const ConvShape *s)
{
    if (!conv_direct_supported(s, CONV_PASS_FORWARD))
        return 0;
    size_t most = 0;
    for (ConvPass p = 0; p < CONV_PASS_COUNT; p++) {
        size_t f = pass_floats(s, p);
        most = f > most ? f : most;
    }
    return most;
}

// dst (plane floats) = src (H, W) placed at (pad, pad) in rows of Wp
// floats, zeros everywhere else. One memset of the whole plane is faster
// than zeroing only the border on these small planes.
static void copy_rows(float *dst, int64_t plane, int64_t Wp, int64_t pad, const float *src, int64_t H, int64_t W)
{
    memset(dst, 0, (size_t)plane * sizeof *dst);
    for (int64_t y = 0; y < H; y++)
        memcpy(dst + (y + pad) * Wp + pad, src + y * W, (size_t)W * sizeof *dst);
}

// dst (count, plane) = src (count, H, W) zero padded by pad on every side.
static void pad_planes(float *dst, const float *src, int64_t count, int64_t H, int64_t W, int64_t pad,
                       const DirGeom *g)
{
#pragma omp parallel for schedule(static) if (count * g->plane > CONV_PAR_MIN)
    for (int64_t i = 0; i < count; i++)
        copy_rows(dst + i * g->plane, g->plane, g->Wp, pad, src + i * H * W, H, W);
}

static void forward_run(float *out, const float *inp, const float *w, const float *bias, ConvAct act, int64_t N,
                        int64_t H, int64_t W, int64_t pad, const DirGeom *g, int64_t nb, float *inpad)
{
    for (int64_t n0 = 0; n0 < N; n0 += nb) {
        int64_t cnt = N - n0 < nb ? N - n0 : nb;
        pad_planes(inpad, inp + n0 * g->C * H * W, cnt * g->C, H, W, pad, g);
        conv_kernels()->direct_run(out + n0 * g->OC * g->OH * g->OW, inpad, w, bias, act, g, cnt);
    }
}

void conv_direct_forward(float *out, const float *inp, const float *weight, const float *bias, ConvAct act,
                         const ConvShape *s, float *ws)
{
    DirGeom g;
    pass_geom(&g, s, CONV_PASS_FORWARD);
    forward_run(out, inp, weight, bias, act, s->N, s->H, s->W, s->pad, &g, group_images(s, &g, CONV_PASS_FORWARD),
                ws);
}

void conv_direct_backward_input(float *dinp, const float *dout, const float *weight, const ConvShape *s,
                                float *ws)
{
    DirGeom g;
    pass_geom(&g, s, CONV_PASS_BACKWARD_INPUT);
    const int64_t K = s->KH, kk = K * K;
    float *wf = ws, *inpad = ws + s->OC * s->C * kk;
    // wf (C, OC, K, K): channel axes swapped, taps rotated by 180 degrees.
    for (int64_t c = 0; c < s->C; c++)
        for (int64_t oc = 0; oc < s->OC; oc++)
            for (int64_t t = 0; t < kk; t++)
                wf[(c * s->OC + oc) * kk + t] = weight[(oc * s->C + c) * kk + (kk - 1 - t)];
    forward_run(dinp, dout, wf, NULL, CONV_ACT_NONE_INIT, s->N, s->OH, s->OW, K - 1 - s->pad, &g,
                group_images(s, &g, CONV_PASS_BACKWARD_INPUT), inpad);
}

void conv_direct_backward_weight(float *dweight, float *dbias, const float *dout, const float *inp,
                                 const ConvShape *s, float *ws)
{
    DirGeom g;
    pass_geom(&g, s, CONV_PASS_BACKWARD_WEIGHT);
    const int64_t nb = group_images(s, &g, CONV_PASS_BACKWARD_WEIGHT), kk = s->KH * s->KW;
    const int64_t nw = s->OC * s->C * kk;
    double *acc = (double *)ws; // first: 8-byte aligned as the workspace is
    float *inpad = ws + 2 * nw, *dflat = inpad + nb * g.C * g.plane;
    memset(acc, 0, (size_t)nw * sizeof *acc);
    if (conv_plain_pointwise(s)) {
        // The planes need neither padding nor spare columns: read in place.
        g.plane = g.qstride = s->H * s->W;
        conv_kernels()->direct_wgrad_run(acc, dout, inp, &g, s->N);
    } else {
        const bool by_channel = conv_direct_channel_wgrad(s);
        const int64_t P = s->OH * s->OW;
        for (int64_t n0 = 0; n0 < s->N; n0 += nb) {
            int64_t cnt = s->N - n0 < nb ? s->N - n0 : nb;
            pad_planes(inpad, inp + n0 * s->C * s->H * s->W, cnt * s->C, s->H, s->W, s->pad, &g);
            if (by_channel) {
                // dout transposed to (image, pixel, channel), in the room
                // of the flat planes (P <= qstride).
#pragma omp parallel for schedule(static) if (cnt * s->OC * P > CONV_PAR_MIN)
                for (int64_t n = 0; n < cnt; n++) {
                    const float *src = dout + (n0 + n) * s->OC * P;
                    for (int64_t p = 0; p < P; p++)
                        for (int64_t oc = 0; oc < s->OC; oc++)
                            dflat[(n * P + p) * s->OC + oc] = src[oc * P + p];
                }
                conv_kernels()->direct_wgrad_channel_run(acc, dflat, inpad, &g, cnt);
                continue;
            }
            // dout planes with Wp columns, the last Wp - OW of them zero, so
            // the thrown-away outputs of the flat layout contribute nothing.
#pragma omp parallel for schedule(static) if (cnt * s->OC * g.qstride > CONV_PAR_MIN)
            for (int64_t i = 0; i < cnt * s->OC; i++)
                copy_rows(dflat + i * g.qstride, g.qstride, g.Wp, 0, dout + (n0 * s->OC + i) * P, s->OH, s->OW);
            conv_kernels()->direct_wgrad_run(acc, dflat, inpad, &g, cnt);
        }
    }
    for (int64_t i = 0; i < nw; i++)
        dweight[i] += (float)acc[i];
    if (dbias)
        conv_bias_grad(dbias, dout, s);
}
