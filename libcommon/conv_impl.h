/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conv_impl: what the conv_*.c files share; not for use outside them.
 * Each algorithm states its workspace need in floats and exposes the passes
 * it supports; conv.c dispatches.
 */
#ifndef ADKIT_CONV_IMPL_H
#define ADKIT_CONV_IMPL_H

#include "conv.h"

#ifdef __SSE__
#include <xmmintrin.h>
#endif

/* Loops over fewer elements (or multiply-adds) than these run on one
 * thread: waking the team costs more than the work. The jobs and their sum
 * order are the same either way. */
#define CONV_PAR_MIN ((int64_t)1 << 15)
#define CONV_PAR_MIN_FLOPS ((int64_t)1 << 18)

/* act(x) for one value (ConvAct in conv.h); the kernels' vector forms give
 * the same bits. */
static inline float conv_act_apply(float x, ConvAct act)
{
    if (act.kind == CONV_ACT_RELU)
        return x > 0.0f ? x : 0.0f;
    if (act.kind == CONV_ACT_LEAKY_RELU)
        return x > 0.0f ? x : x * act.slope;
    return x;
}

/* dst[j * ldd + i] = src[i * lds + j] for i < rows, j < cols: plain data
 * movement, in SSE 4x4 transposes where there are (x86-64 has SSE in every
 * build), rows four at a time in the outer loop. Callers keep one side to
 * four rows or columns where its lines lie a multiple of 1 KB apart (such
 * streams, side by side, share a few L1 sets). */
static inline void conv_transpose(float *restrict dst, int64_t ldd, const float *restrict src, int64_t lds,
                                  int64_t rows, int64_t cols)
{
    int64_t i = 0;
#ifdef __SSE__
    for (; i + 4 <= rows; i += 4) {
        const float *s0 = src + i * lds, *s1 = s0 + lds, *s2 = s1 + lds, *s3 = s2 + lds;
        int64_t j = 0;
        for (; j + 4 <= cols; j += 4) {
            __m128 a0 = _mm_loadu_ps(s0 + j), a1 = _mm_loadu_ps(s1 + j), a2 = _mm_loadu_ps(s2 + j),
                   a3 = _mm_loadu_ps(s3 + j);
            _MM_TRANSPOSE4_PS(a0, a1, a2, a3);
            float *d = dst + j * ldd + i;
            _mm_storeu_ps(d, a0);
            _mm_storeu_ps(d + ldd, a1);
            _mm_storeu_ps(d + 2 * ldd, a2);
            _mm_storeu_ps(d + 3 * ldd, a3);
        }
        for (; j < cols; j++)
            for (int k = 0; k < 4; k++)
                dst[j * ldd + i + k] = src[(i + k) * lds + j];
    }
#endif
    for (; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            dst[j * ldd + i] = src[i * lds + j];
}

/* Scratch floats the GEMM algorithm needs (all three passes). */
size_t conv_gemm_workspace_floats(const ConvShape *s);
void conv_gemm_forward(float *out, const float *inp, const float *weight, const float *bias, const ConvShape *s,
                       float *ws);
void conv_gemm_backward_input(float *dinp, const float *dout, const float *weight, const ConvShape *s, float *ws);
void conv_gemm_backward_weight(float *dweight, float *dbias, const float *dout, const float *inp,
                               const ConvShape *s, float *ws);

/* The reference loops (conv_ref.c): need no workspace. */
void conv_ref_forward(float *out, const float *inp, const float *weight, const float *bias, const ConvShape *s);
void conv_ref_backward_input(float *dinp, const float *dout, const float *weight, const ConvShape *s);
void conv_ref_backward_weight(float *dweight, float *dbias, const float *dout, const float *inp,
                              const ConvShape *s);

/* ---- Winograd F(4x4, 3x3) (conv_winograd.c, kernels in conv_kernels.inc) ----
 * Layouts (floats), for a convolution of Cin channels into OC:
 *   U  (36, OCp, Cin) with OCp = OC rounded up to WG_OCB, and within each
 *      block of WG_OCB output channels stored (Cin, WG_OCB): transformed
 *      kernel, zero rows beyond OC;
 *   V  (36, group / WG_PANEL, Cin, WG_PANEL): transformed input tiles of
 *      one group of tiles, each panel of WG_PANEL tiles a contiguous
 *      (Cin, WG_PANEL) block that the products stream through;
 *   M  (36, OCp, group): their products, before the output transform.
 * Tiles are numbered row-major over (image, tile row, tile column) and
 * taken in groups of `group` consecutive tiles (a multiple of WG_PANEL)
 * through three steps: input transform, products, output transform.
 * Normally each thread carries its own groups through all three in a V and
 * an M of its own, so a group's data stays in that core's cache and the
 * threads meet once per convolution: the workspace holds U and `slots`
 * (V, M) pairs, one per thread. Where U is too large for every thread to
 * stream it once per group (`shared`: 512-channel layers), the threads
 * share each group instead, splitting every step between them (by channel,
 * position, output channel), and there is one (V, M) pair. */
#define WG_OCB 12
#define WG_PANEL 32
#define WG_MAX_W 1024
#define WG_MAX_XP (4 * (WG_MAX_W / 4 + 1) + 8)

/* A 1x1 stride-1 unpadded convolution whose planes are a whole number of
 * GEMM panels (and direct-kernel runs): the tensors themselves serve as the
 * operands, with no unrolling, padding or copying. */
static inline bool conv_plain_pointwise(const ConvShape *s)
{
    return s->KH == 1 && s->KW == 1 && s->stride == 1 && s->pad == 0 && (s->H * s->W) % WG_PANEL == 0;
}

typedef struct WgGeom {
    int64_t N, C, H, W, OC, pad; /* the convolution run (input C, output OC) */
    int64_t OH, OW, OCp;
    int64_t th, tw;           /* tiles per image, vertically and horizontally */
    int64_t xp;               /* padded row length: 4 * tw + 2 */
    int64_t tiles;            /* N * th * tw */
    int64_t group;            /* tiles per group: a multiple of WG_PANEL */
    int slots;                /* threads to run on */
    bool shared;              /* the threads share each group (one V and M) */
} WgGeom;

/* ---- Direct kernels (conv_direct.c, kernels in conv_kernels.inc) ----
 * Input planes are zero padded into (Hp, Wp) = (H + 2 pad, W + 2 pad),
 * `plane` floats apart (with slack for vector over-reads); outputs are
 * computed at q = y * Wp + x. qstride: floats per flattened output plane
 * (OH * Wp rounded up to DIR_QALIGN) in the weight-gradient layout. */
#define DIR_MAX_Q 2112
#define DIR_QALIGN 32
#define DIR_MAX_WP 2048
#define DIR_WGRAD_RUN 256

typedef struct DirGeom {
    int64_t C, OC, K;       /* input, output channels, kernel size */
    int64_t OH, OW, Wp;
    int64_t plane, qstride; /* floats per padded input plane, per flat output plane */
    int64_t rows_per_block; /* output rows per job */
} DirGeom;

/* The direct weight gradient runs vectorised over output channels instead
 * of pixels, from dout transposed to (n, OH * OW, OC), when OC is a multiple
 * of DIR_CWG_OCB and there are taps (C * K * K) enough to share out: no
 * lanes go to the padding columns of the flat layout (a tenth of them at
 * 16x16, a fifth at 8x8, a third at 4x4), and each input value, broadcast
 * once, feeds DIR_CWG_OCB products. */
#define DIR_CWG_OCB 16
static inline bool conv_direct_channel_wgrad(const ConvShape *s)
{
    return s->OC % DIR_CWG_OCB == 0 && s->C * s->KH * s->KW >= 36 && !conv_plain_pointwise(s);
}

/* The direct forward (and so backward-input) runs vectorised over output
 * channels, from the weight transposed to (C * K * K, OC), on planes of up
 * to DIR_CFW_MAX_OW columns, where the flat layout's padding columns would
 * take a ninth of the lanes or more (a third at 4x4). Same bits as the flat
 * kernel. g: the pass's geometry (for backward-input, OC is the input's
 * channel count). */
#define DIR_CFW_MAX_OW 16
static inline bool conv_direct_channel_forward(const DirGeom *g)
{
    return g->OC % DIR_CWG_OCB == 0 && g->C * g->K * g->K >= 36 && g->OW <= DIR_CFW_MAX_OW;
}

/* A matrix product C (M, N) = A (M, K) . B (K, N), or C += it.
 * A is packed in blocks of WG_OCB rows: element (i, k) at
 * a[(i / WG_OCB * K + k) * WG_OCB + i % WG_OCB], zero rows past M.
 * B is row-major with ldb >= N rounded up to WG_PANEL (the columns past N
 * are read, so they must hold finite values). Column j of C lands at
 * c + i * ldc + (j / cols_per_img) * img_stride + j % cols_per_img, which
 * scatters a product over several images back to (N, OC, OH, OW).
 * row_bias (M floats, or NULL; not with accumulate) is added to each row's
 * finished sums as they are written: the bits of a separate pass after. */
typedef struct GemmJob {
    const float *a;
    const float *b;
    float *c;
    int64_t M, N, K, ldb, ldc, cols_per_img, img_stride;
    bool accumulate;
    const float *row_bias;
} GemmJob;

/* One set of kernels per instruction set. */
typedef struct ConvKernels {
    const char *isa;
    /* out (N, OC, OH, OW) from inp (N, C, H, W), U and bias (OC or NULL),
     * then the activation act; with in_mask (N, C, H, W) non-NULL the
     * input is read as inp * (in_mask > 0) (a ReLU's backward fused into
     * the backward-input); vm: room for the V and M pairs (above). Runs on
     * at most g->slots threads. */
    void (*winograd_run)(float *out, const float *inp, const float *in_mask, const float *u, const float *bias,
                         ConvAct act, const WgGeom *g, float *vm);
    /* out (n_images, OC, OH, OW) from padded planes (n_images, C) and
     * weight (OC, C, K, K), then the activation act. */
    void (*direct_run)(float *out, const float *inpad, const float *w, const float *bias, ConvAct act,
                       const DirGeom *g, int64_t n_images);
    /* The same by channel (conv_direct_channel_forward), from wT
     * (C, K, K, OC). */
    void (*direct_channel_run)(float *out, const float *inpad, const float *wT, const float *bias, ConvAct act,
                               const DirGeom *g, int64_t n_images);
    /* dw_acc (OC, C, K, K) += correlation of flat dout planes (n_images, OC)
     * with padded input planes (n_images, C), for one run of pixels, on the
     * calling thread. */
    void (*direct_wgrad_run)(double *dw_acc, const float *dflat, const float *inpad, const DirGeom *g,
                             int64_t n_images);
    /* The same from dout transposed (n_images, OH * OW, OC)
     * (conv_direct_channel_wgrad), for one run of pixels, and db_acc (OC)
     * += the sums of dout: each weight's products and each bias's terms
     * over the run are one float chain. On the calling thread. */
    void (*direct_wgrad_channel_run)(double *dw_acc, double *db_acc, const float *dT, const float *inpad,
                                     const DirGeom *g, int64_t n_images);
    void (*gemm_run)(const GemmJob *g);
} ConvKernels;

extern const ConvKernels conv_kernels_avx512, conv_kernels_avx2, conv_kernels_portable;

/* The kernels in use (conv.c): the best the CPU supports, or the one
 * conv_isa_select chose. */
const ConvKernels *conv_kernels(void);

bool conv_winograd_supported(const ConvShape *s, ConvPass pass);
size_t conv_winograd_workspace_floats(const ConvShape *s);
/* Floats of the transformed kernel U of a pass; conv_winograd_prepare
 * fills it. The forward and backward-input take U ready-made (u non-NULL)
 * or transform the weight into the workspace first (u NULL). */
size_t conv_winograd_prepared_floats(const ConvShape *s, ConvPass pass);
void conv_winograd_prepare(float *u, const float *weight, const ConvShape *s, ConvPass pass);
void conv_winograd_forward(float *out, const float *inp, const float *weight, const float *u, const float *bias,
                           ConvAct act, const ConvShape *s, float *ws);
void conv_winograd_backward_input(float *dinp, const float *dout, const float *dout_mask, const float *weight,
                                  const float *u, const ConvShape *s, float *ws);

bool conv_direct_supported(const ConvShape *s, ConvPass pass);
size_t conv_direct_workspace_floats(const ConvShape *s);
void conv_direct_forward(float *out, const float *inp, const float *weight, const float *bias, ConvAct act,
                         const ConvShape *s,
                         float *ws);
void conv_direct_backward_input(float *dinp, const float *dout, const float *weight, const ConvShape *s,
                                float *ws);
void conv_direct_backward_weight(float *dweight, float *dbias, const float *dout, const float *inp,
                                 const ConvShape *s, float *ws);

/* dbias (OC) += sum of dout (N, OC, OH, OW) over N, OH, OW, in a fixed
 * order with a double accumulator per channel. Shared by every algorithm. */
void conv_bias_grad(float *dbias, const float *dout, const ConvShape *s);

#endif
