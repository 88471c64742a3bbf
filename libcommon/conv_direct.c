/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conv_direct: stride-1 convolutions of narrow layers (a few channels, as in
 * the DPA models' 4- and 16-channel blocks), where a GEMM has too short a
 * summed dimension to block on. The input planes of a group of images are
 * zero padded into a workspace; output pixel q = y * Wp + x then reads tap
 * (kh, kw) at q + kh * Wp + kw, so the kernel in conv_kernels.inc is a run
 * of contiguous vector loads and FMAs, up to 8 output channels at a time.
 * On narrow planes (conv_direct_channel_forward) the vectors run over 16
 * output channels instead, so no lanes go to the padding columns.
 *
 * Backward-input is the forward convolution of dout with the kernel flipped
 * and its channel axes swapped, padded by K - 1 - pad. Backward-weight goes
 * run by run (see WgradPlan): it correlates dout (laid out with Wp columns,
 * the extra ones zero) with the padded input, a block of output channels
 * against one input channel and kernel row per job (for 1x1 kernels, a
 * block of input channels); where conv_direct_channel_wgrad holds, dout is
 * transposed to (pixel, channel) and the sums run over output channels in
 * vectors. Plain 1x1 convolutions (conv_plain_pointwise) read dout and the
 * input in place.
 *
 * Groups of images, runs and partial sums have sizes that depend on the
 * shape only, so the summation order does not depend on the thread count.
 * The weight gradient's scratch is per thread.
 */
#include <omp.h>
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

// The weight gradient goes run by run: a run is a few hundred to a few
// thousand output pixels (whole images on small planes, a band of output
// rows of one image on large ones), padded (and dout transposed or laid
// out flat) by the thread that sums it, into scratch of its own that stays
// in its L1 or L2. Run i adds into partial sum i % slots; each partial is
// summed by one thread in run order, then the partials are added in slot
// order: the same bits whatever the thread count, with room for
// WGRAD_SLOTS threads to share them. Each weight's products over a run are
// float sums (in lanes, for the flat kernel), then added in double.
#define WGRAD_SLOTS 32
// Pixels per run: the channel kernel keeps one float chain per weight over
// the whole run; the flat one spreads a run over its lanes.
#define WGRAD_CHANNEL_RUN DIR_WGRAD_RUN
#define WGRAD_FLAT_RUN (8 * DIR_WGRAD_RUN)
typedef struct WgradPlan {
    bool by_channel;       // conv_direct_channel_wgrad
    bool in_place;         // conv_plain_pointwise: runs read the tensors themselves
    DirGeom run;           // one run's geometry: OH = its rows, planes of rows + K - 1 padded rows
    int64_t images, bands; // images per run; runs per image (bands of run.OH rows)
    int64_t runs, slots;
    int64_t partial;       // doubles per partial sum: the weights, then the bias
    int64_t scratch;       // floats per thread: padded input, then dout
    int threads;
} WgradPlan;

static void wgrad_plan(WgradPlan *pl, const ConvShape *s, const DirGeom *g)
{
    const int64_t P = g->OH * g->OW, K = g->K;
    pl->by_channel = conv_direct_channel_wgrad(s);
    pl->in_place = conv_plain_pointwise(s);
    const int64_t target = pl->by_channel ? WGRAD_CHANNEL_RUN : WGRAD_FLAT_RUN;
    pl->run = *g;
    if (pl->in_place)
        pl->run.plane = pl->run.qstride = s->H * s->W;
    if (P < target || pl->in_place) {
        pl->images = P < target ? target / P : 1;
        pl->bands = 1;
    } else {
        pl->images = 1;
        pl->run.OH = target / g->OW > 1 ? target / g->OW : 1;
        pl->run.plane = ((pl->run.OH + K - 1) * g->Wp + 2 * DIR_QALIGN + K + 15) / 16 * 16;
        pl->run.qstride = (pl->run.OH * g->Wp + DIR_QALIGN - 1) / DIR_QALIGN * DIR_QALIGN;
        pl->bands = (g->OH + pl->run.OH - 1) / pl->run.OH;
    }
    pl->runs = (s->N + pl->images - 1) / pl->images * pl->bands;
    pl->slots = pl->runs < WGRAD_SLOTS ? pl->runs : WGRAD_SLOTS;
    pl->partial = g->OC * g->C * K * K + g->OC;
    const int64_t dout_floats = pl->by_channel ? pl->run.OH * g->OW * g->OC : g->OC * pl->run.qstride;
    pl->scratch = pl->in_place ? 0 : pl->images * (g->C * pl->run.plane + dout_floats);
    pl->threads = omp_get_max_threads();
    if (pl->threads > pl->slots)
        pl->threads = (int)pl->slots;
}

static size_t wgrad_floats(const WgradPlan *pl)
{
    return (size_t)(2 * pl->slots * pl->partial + pl->threads * pl->scratch);
}

// Images per group of the forward and backward-input: as many as fit
// DIR_GROUP_FLOATS.
static int64_t group_images(const ConvShape *s, const DirGeom *g)
{
    int64_t nb = DIR_GROUP_FLOATS / (g->C * g->plane);
    return nb < 1 ? 1 : nb > s->N ? s->N : nb;
}

// Floats forward_run needs: the padded planes of a group of nb images, and
// the transposed weight where the kernel runs by channel.
static int64_t forward_floats(const DirGeom *g, int64_t nb)
{
    return nb * g->C * g->plane + (conv_direct_channel_forward(g) ? g->OC * g->C * g->K * g->K : 0);
}

static size_t pass_floats(const ConvShape *s, ConvPass pass)
{
    DirGeom g;
    pass_geom(&g, s, pass);
    int64_t nb = group_images(s, &g), kk = s->KH * s->KW;
    switch (pass) {
    case CONV_PASS_FORWARD:
        return (size_t)forward_floats(&g, nb);
    case CONV_PASS_BACKWARD_INPUT:
        return (size_t)(forward_floats(&g, nb) + s->OC * s->C * kk);
    default: {
        WgradPlan pl;
        wgrad_plan(&pl, s, &g);
        return wgrad_floats(&pl);
    }
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

// dst (plane floats) = rows y0 .. y0 + rows of src (H, W) zero padded by
// pad on every side, in rows of Wp floats, zeros everywhere else (rows
// outside the padded image too). One memset of the whole plane is faster
// than zeroing only the border on these small planes.
static void copy_band(float *dst, int64_t plane, int64_t Wp, int64_t pad, const float *src, int64_t H, int64_t W,
                      int64_t y0, int64_t rows)
{
    memset(dst, 0, (size_t)plane * sizeof *dst);
    for (int64_t r = 0; r < rows; r++) {
        const int64_t y = y0 + r - pad;
        if (y >= 0 && y < H)
            memcpy(dst + r * Wp + pad, src + y * W, (size_t)W * sizeof *dst);
    }
}

// The whole padded plane.
static void copy_rows(float *dst, int64_t plane, int64_t Wp, int64_t pad, const float *src, int64_t H, int64_t W)
{
    copy_band(dst, plane, Wp, pad, src, H, W, 0, H + 2 * pad);
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
                        int64_t H, int64_t W, int64_t pad, const DirGeom *g, int64_t nb, float *ws)
{
    const ConvKernels *kern = conv_kernels();
    const bool by_channel = conv_direct_channel_forward(g);
    const int64_t taps = g->C * g->K * g->K;
    float *wT = ws, *inpad = by_channel ? ws + g->OC * taps : ws;
    if (by_channel)
        for (int64_t oc = 0; oc < g->OC; oc++)
            for (int64_t t = 0; t < taps; t++)
                wT[t * g->OC + oc] = w[oc * taps + t];
    for (int64_t n0 = 0; n0 < N; n0 += nb) {
        int64_t cnt = N - n0 < nb ? N - n0 : nb;
        pad_planes(inpad, inp + n0 * g->C * H * W, cnt * g->C, H, W, pad, g);
        float *o = out + n0 * g->OC * g->OH * g->OW;
        if (by_channel)
            kern->direct_channel_run(o, inpad, wT, bias, act, g, cnt);
        else
            kern->direct_run(o, inpad, w, bias, act, g, cnt);
    }
}

void conv_direct_forward(float *out, const float *inp, const float *weight, const float *bias, ConvAct act,
                         const ConvShape *s, float *ws)
{
    DirGeom g;
    pass_geom(&g, s, CONV_PASS_FORWARD);
    forward_run(out, inp, weight, bias, act, s->N, s->H, s->W, s->pad, &g, group_images(s, &g),
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
                group_images(s, &g), inpad);
}

// The weight gradient, and the bias's where the channel kernel sums it,
// run by run (see WgradPlan).
static void wgrad_runs(float *dweight, float *dbias, const float *dout, const float *inp, const ConvShape *s,
                       const DirGeom *g, const WgradPlan *pl, float *ws)
{
    const int64_t nw = pl->partial - g->OC, P = g->OH * g->OW;
    double *partials = (double *)ws; // 8-byte aligned as the workspace is
    float *scratch = ws + 2 * pl->slots * pl->partial;
    const ConvKernels *kern = conv_kernels();
#pragma omp parallel num_threads(pl->threads) if (pl->threads > 1 && nw * s->N * P > CONV_PAR_MIN)
    {
        float *inpad = scratch + omp_get_thread_num() * pl->scratch;
        float *dbuf = inpad + pl->images * g->C * pl->run.plane;
#pragma omp for schedule(static)
        for (int64_t slot = 0; slot < pl->slots; slot++) {
            double *dw = partials + slot * pl->partial, *db = dw + nw;
            memset(dw, 0, (size_t)pl->partial * sizeof *dw);
            for (int64_t r = slot; r < pl->runs; r += pl->slots) {
                const int64_t n0 = r / pl->bands * pl->images, y0 = r % pl->bands * pl->run.OH;
                DirGeom run = pl->run;
                run.OH = g->OH - y0 < run.OH ? g->OH - y0 : run.OH;
                const int64_t images = s->N - n0 < pl->images ? s->N - n0 : pl->images;
                if (pl->in_place) {
                    kern->direct_wgrad_run(dw, dout + n0 * s->OC * P, inp + n0 * s->C * P, &run, images);
                    continue;
                }
                for (int64_t n = 0; n < images; n++) {
                    const float *x = inp + (n0 + n) * s->C * s->H * s->W, *d = dout + (n0 + n) * s->OC * P;
                    for (int64_t c = 0; c < s->C; c++)
                        copy_band(inpad + (n * s->C + c) * run.plane, run.plane, g->Wp, s->pad,
                                  x + c * s->H * s->W, s->H, s->W, y0, run.OH + g->K - 1);
                    if (pl->by_channel) {
                        // To (pixel, channel): the channels four at a time.
                        conv_transpose(dbuf + n * run.OH * g->OW * s->OC, s->OC, d + y0 * g->OW, P, s->OC,
                                       run.OH * g->OW);
                        continue;
                    }
                    // dout rows with Wp columns, the last Wp - OW of them
                    // zero, so the flat layout's thrown-away outputs add
                    // nothing.
                    for (int64_t oc = 0; oc < s->OC; oc++)
                        copy_band(dbuf + (n * s->OC + oc) * run.qstride, run.qstride, g->Wp, 0, d + oc * P, s->OH,
                                  s->OW, y0, run.OH);
                }
                if (pl->by_channel)
                    kern->direct_wgrad_channel_run(dw, db, dbuf, inpad, &run, images);
                else
                    kern->direct_wgrad_run(dw, dbuf, inpad, &run, images);
            }
        }
    }
#pragma omp parallel for schedule(static) if (pl->slots * pl->partial > CONV_PAR_MIN)
    for (int64_t i = 0; i < pl->partial; i++) {
        double sum = 0.0;
        for (int64_t slot = 0; slot < pl->slots; slot++)
            sum += partials[slot * pl->partial + i];
        if (i < nw)
            dweight[i] += (float)sum;
        else if (dbias && pl->by_channel)
            dbias[i - nw] += (float)sum;
    }
}

void conv_direct_backward_weight(float *dweight, float *dbias, const float *dout, const float *inp,
                                 const ConvShape *s, float *ws)
{
    DirGeom g;
    pass_geom(&g, s, CONV_PASS_BACKWARD_WEIGHT);
    WgradPlan pl;
    wgrad_plan(&pl, s, &g);
    wgrad_runs(dweight, dbias, dout, inp, s, &g, &pl, ws);
    if (dbias && !pl.by_channel)
        conv_bias_grad(dbias, dout, s);
}
