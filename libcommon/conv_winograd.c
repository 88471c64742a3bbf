/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conv_winograd: 3x3 stride-1 convolution by Winograd's minimal filtering
 * algorithm F(4x4, 3x3) (Lavin and Gray, "Fast Algorithms for Convolutional
 * Neural Networks", 2016): each 4x4 output tile comes from a 6x6 input patch
 * d and the 3x3 kernel g as  Y = A^T [ (G g G^T) .* (B^T d B) ] A,
 * 36 multiplications per tile and channel pair instead of 144. The 36
 * element-wise products summed over channels are 36 matrix products, done by
 * the register-tiled kernel of conv_kernels.inc.
 *
 * Backward to the input of a stride-1 convolution is the forward
 * convolution of dout with the kernel flipped in both axes and its channel
 * axes swapped, padded by 2 - pad: the same code, another kernel transform.
 *
 * Precision: the transforms scale values by up to 8 (A) and 5 (B) before
 * they cancel, so rounding errors grow about 10x over a direct sum: measured
 * max |err| / max |out| ~1e-6 for VGG-sized channel counts (unit test), where
 * GEMM gives ~1e-7. F(6x6, 3x3) would save another 1.8x multiplications but
 * loses about two more digits, too many for training; not used.
 */
#include <omp.h>

#include "conv_impl.h"

// Transform matrices of F(4x4, 3x3), points 0, +-1, +-2 and infinity.
static const double wg_g[6][3] = {
    {1.0 / 4, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6},
    {1.0 / 24, -1.0 / 12, 1.0 / 6},
    {0, 0, 1},
};

// Tiles per group. Private groups: one panel keeps a group's V and M
// (36 * (C + OCp) * WG_PANEL floats, 627 KB at 64 channels) within a core's
// L2; each group streams all of U (36 * OCp * C floats, 9.7 MB at 256
// channels) through the products. Beyond WG_SHARED_U_FLOATS (the 512-channel
// layers: 19-38 MB, more than the last-level cache) U would come from
// memory once per group and thread, so the threads share groups of at
// least WG_SHARED_TILES tiles (as many as WG_SHARED_FLOATS of V and M
// hold), each reading its part of U once per group.
#define WG_SHARED_U_FLOATS ((int64_t)36 * 264 * 256)
#define WG_SHARED_FLOATS ((int64_t)1 << 20)
#define WG_SHARED_TILES 128

static void geom_init(WgGeom *g, int64_t N, int64_t C, int64_t H, int64_t W, int64_t OC, int64_t pad)
{
    g->N = N;
    g->C = C;
    g->H = H;
    g->W = W;
    g->OC = OC;
    g->pad = pad;
    g->OH = H + 2 * pad - 2;
    g->OW = W + 2 * pad - 2;
    g->OCp = (OC + WG_OCB - 1) / WG_OCB * WG_OCB;
    g->th = (g->OH + 3) / 4;
    g->tw = (g->OW + 3) / 4;
    g->xp = 4 * g->tw + 2;
    g->tiles = N * g->th * g->tw;
    g->slots = omp_get_max_threads();
    g->shared = 36 * g->OCp * C > WG_SHARED_U_FLOATS;
    int64_t group = WG_PANEL;
    if (g->shared) {
        group = WG_SHARED_FLOATS / (36 * (C + g->OCp));
        if (group < WG_SHARED_TILES)
            group = WG_SHARED_TILES;
        if (group > g->tiles)
            group = g->tiles;
    }
    g->group = (group + WG_PANEL - 1) / WG_PANEL * WG_PANEL;
}

// The convolution Winograd runs for a pass: the forward itself, or for
// backward-input the forward over dout with the flipped kernel.
static void pass_geom(WgGeom *g, const ConvShape *s, ConvPass pass)
{
    if (pass == CONV_PASS_FORWARD)
        geom_init(g, s->N, s->C, s->H, s->W, s->OC, s->pad);
    else
        geom_init(g, s->N, s->OC, s->OH, s->OW, s->C, 2 - s->pad);
}

bool conv_winograd_supported(const ConvShape *s, ConvPass pass)
{
    if (s->KH != 3 || s->KW != 3 || s->stride != 1 || s->pad > 2 || pass == CONV_PASS_BACKWARD_WEIGHT)
        return false;
    return s->W <= WG_MAX_W && s->OW <= WG_MAX_W;
}

// U, then the V and M pairs: one per thread, or one the threads share.
static size_t geom_floats(const WgGeom *g)
{
    const int64_t pairs = g->shared ? 1 : g->slots;
    return (size_t)(36 * g->OCp * g->C + pairs * 36 * (g->C + g->OCp) * g->group);
}

size_t conv_winograd_workspace_floats(const ConvShape *s)
{
    if (!conv_winograd_supported(s, CONV_PASS_FORWARD))
        return 0;
    WgGeom f, b;
    pass_geom(&f, s, CONV_PASS_FORWARD);
    pass_geom(&b, s, CONV_PASS_BACKWARD_INPUT);
    size_t nf = geom_floats(&f), nb = geom_floats(&b);
    return nf > nb ? nf : nb;
}

// U (layout in conv_impl.h) = G g G^T for every kernel g of the run; with
// flip, g[co][ci] = weight[ci][co] rotated by 180 degrees (backward-input).
static void transform_kernel(float *u, const float *weight, const WgGeom *g, bool flip)
{
    const int64_t Cin = g->C, Cout = g->OC;
#pragma omp parallel for schedule(static) if (g->OCp * Cin * 64 > CONV_PAR_MIN)
    for (int64_t co = 0; co < g->OCp; co++) {
        int64_t ob = co / WG_OCB * WG_OCB, r = co % WG_OCB;
        for (int64_t ci = 0; ci < Cin; ci++) {
            double k[3][3] = {{0}};
            if (co < Cout)
                for (int a = 0; a < 3; a++)
                    for (int b = 0; b < 3; b++)
                        k[a][b] = flip ? weight[((ci * Cout + co) * 3 + 2 - a) * 3 + 2 - b]
                                       : weight[((co * Cin + ci) * 3 + a) * 3 + b];
            double gk[6][3];
            for (int i = 0; i < 6; i++)
                for (int b = 0; b < 3; b++)
                    gk[i][b] = wg_g[i][0] * k[0][b] + wg_g[i][1] * k[1][b] + wg_g[i][2] * k[2][b];
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 6; j++) {
                    double val = gk[i][0] * wg_g[j][0] + gk[i][1] * wg_g[j][1] + gk[i][2] * wg_g[j][2];
                    u[((i * 6 + j) * g->OCp + ob) * Cin + ci * WG_OCB + r] = (float)val;
                }
        }
    }
}

size_t conv_winograd_prepared_floats(const ConvShape *s, ConvPass pass)
{
    WgGeom g;
    pass_geom(&g, s, pass);
    return (size_t)(36 * g.OCp * g.C);
}

void conv_winograd_prepare(float *u, const float *weight, const ConvShape *s, ConvPass pass)
{
    WgGeom g;
    pass_geom(&g, s, pass);
    transform_kernel(u, weight, &g, pass == CONV_PASS_BACKWARD_INPUT);
}

// The workspace keeps room for U at its start either way, so its layout
// (and the V, M buffers' alignment) is the same with a prepared U.
static void run(float *out, const float *inp, const float *in_mask, const float *weight, const float *u_ready,
                const float *bias, ConvAct act, const WgGeom *g, bool flip, float *ws)
{
    float *u = ws, *vm = u + 36 * g->OCp * g->C;
    if (u_ready)
        u = (float *)u_ready;
    else
        transform_kernel(u, weight, g, flip);
    conv_kernels()->winograd_run(out, inp, in_mask, u, bias, act, g, vm);
}

void conv_winograd_forward(float *out, const float *inp, const float *weight, const float *u, const float *bias,
                           ConvAct act, const ConvShape *s, float *ws)
{
    WgGeom g;
    pass_geom(&g, s, CONV_PASS_FORWARD);
    run(out, inp, NULL, weight, u, bias, act, &g, false, ws);
}

void conv_winograd_backward_input(float *dinp, const float *dout, const float *dout_mask, const float *weight,
                                  const float *u, const ConvShape *s, float *ws)
{
    WgGeom g;
    pass_geom(&g, s, CONV_PASS_BACKWARD_INPUT);
    run(dinp, dout, dout_mask, weight, u, NULL, CONV_ACT_NONE_INIT, &g, true, ws);
}
