/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conv: CPU kernels of 2-D convolution (cross-correlation, as torch.nn.Conv2d)
 * in float32 NCHW, forward and both backward passes. These are the hot path
 * of every model; the engine's conv op calls them, and so do the tests that
 * compare the fast algorithms (GEMM-based, Winograd, narrow-channel direct)
 * against the plain reference loops.
 *
 * Padding here is zero padding, the same on all four sides; reflect padding
 * is an explicit op before a pad-0 convolution. Kernels cannot fail: shapes
 * are validated once by conv_shape_init, and scratch memory comes from the
 * caller (conv_workspace_bytes).
 *
 * Determinism: for a given shape the summation order is fixed and does not
 * depend on the number of threads, so results are bit-for-bit repeatable,
 * with any OMP_NUM_THREADS. No BLAS library is involved.
 * Threads: kernels parallelise internally with OpenMP (omp_get_max_threads);
 * tiny shapes run on the calling thread. Not thread-safe to call
 * concurrently with the same workspace. The workspace (8-15 MB for the
 * models' layers, more for wider ones) holds a transformed kernel and
 * per-thread scratch: its size depends on the shape and on
 * omp_get_max_threads(), so size it under the thread count the kernels
 * then run with (a kernel never uses more threads than that).
 *
 * Algorithms (chosen per shape and pass by conv_algo_choose, never by the
 * data or the thread count):
 *   GEMM      im2col / col2im around a register-tiled matrix product, over
 *             groups of images; any shape. A 1x1 input and a kernel
 *             covering the whole input (the latent convs) skip im2col.
 *   WINOGRAD  F(4x4, 3x3) for 3x3 stride-1 convolutions with more than 16
 *             channels on both sides (forward, and backward-input as the
 *             forward of the flipped, transposed kernel); 4x fewer
 *             multiplications than GEMM. Relative error (max |err| /
 *             max |out|) up to ~6e-6 on uniform random data with up to 64
 *             channels, where GEMM and DIRECT give ~1e-6.
 *   DIRECT    stride-1 kernels up to 4x4 vectorised over the flattened
 *             padded image, for narrow layers (16 channels or fewer on one
 *             side), where GEMM has too little to block on.
 *   REF       the reference: textbook loops with double accumulators,
 *             single-threaded; for tests only.
 * The fast kernels use AVX-512 or AVX2+FMA when the CPU has it (chosen at
 * run time) and portable C otherwise; which one ran changes the last bits of
 * the results, so bit-for-bit repeatability holds on one machine, not
 * across CPUs.
 *
 *     ConvShape s;
 *     if (!conv_shape_init(&s, N, C, H, W, OC, 3, 3, 1, 1, &err)) ...
 *     void *ws = malloc(conv_workspace_bytes(&s));
 *     conv2d_forward_cpu(out, inp, weight, bias, &s, ws);
 */
#ifndef ADKIT_CONV_H
#define ADKIT_CONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct ConvShape {
    int64_t N, C, H, W; /* input batch, channels, height, width */
    int64_t OC, KH, KW; /* output channels, kernel height and width */
    int64_t stride;     /* same in both axes, >= 1 */
    int64_t pad;        /* zero padding on every side, >= 0 */
    int64_t OH, OW;     /* output size: (H + 2*pad - KH) / stride + 1 */
} ConvShape;

/* An activation a forward applies in its epilogue, bit for bit what the
 * separate op gives, without a second pass over the output:
 *   CONV_ACT_RELU        x > 0 ? x : 0 (NaN -> 0);
 *   CONV_ACT_LEAKY_RELU  x > 0 ? x : x * slope, for 0 < slope < 1. */
typedef enum ConvActKind { CONV_ACT_NONE, CONV_ACT_RELU, CONV_ACT_LEAKY_RELU } ConvActKind;
typedef struct ConvAct {
    ConvActKind kind;
    float slope; /* CONV_ACT_LEAKY_RELU */
} ConvAct;
#define CONV_ACT_NONE_INIT ((ConvAct){CONV_ACT_NONE, 0.0f})

/* Validates and fills a shape (output size included). */
bool conv_shape_init(ConvShape *s, int64_t N, int64_t C, int64_t H, int64_t W, int64_t OC, int64_t KH,
                     int64_t KW, int64_t stride, int64_t pad, Err *err);

/* Bytes of scratch memory the three kernels below need for this shape
 * (the maximum over the three, so one workspace serves all). */
size_t conv_workspace_bytes(const ConvShape *s);

/* out (N, OC, OH, OW) = conv(inp (N, C, H, W), weight (OC, C, KH, KW)) + bias
 * (OC, or NULL for none). out is assigned. */
void conv2d_forward_cpu(float *out, const float *inp, const float *weight, const float *bias,
                        const ConvShape *s, void *workspace);

/* dinp (N, C, H, W) = gradient of the loss w.r.t. the input, given dout
 * (N, OC, OH, OW). dinp is assigned (not accumulated). */
void conv2d_backward_input_cpu(float *dinp, const float *dout, const float *weight, const ConvShape *s,
                               void *workspace);

/* dweight (OC, C, KH, KW) += gradient w.r.t. the weight; dbias (OC) +=
 * gradient w.r.t. the bias (skipped when NULL). Parameter gradients
 * accumulate, as in torch. */
void conv2d_backward_weight_cpu(float *dweight, float *dbias, const float *dout, const float *inp,
                                const ConvShape *s, void *workspace);

/* ---- Algorithm selection (for tests, benchmarks and diagnostics) ---- */

typedef enum ConvPass {
    CONV_PASS_FORWARD,
    CONV_PASS_BACKWARD_INPUT,
    CONV_PASS_BACKWARD_WEIGHT,
    CONV_PASS_COUNT
} ConvPass;

typedef enum ConvAlgo {
    CONV_ALGO_AUTO, /* whatever conv_algo_choose picks */
    CONV_ALGO_GEMM,
    CONV_ALGO_WINOGRAD,
    CONV_ALGO_DIRECT,
    CONV_ALGO_REF,
    CONV_ALGO_COUNT
} ConvAlgo;

/* "auto", "gemm", "winograd", "direct", "ref". */
const char *conv_algo_name(ConvAlgo algo);

/* True when algo can run this pass of this shape (AUTO, GEMM and REF
 * always can). */
bool conv_algo_supported(const ConvShape *s, ConvPass pass, ConvAlgo algo);

/* The algorithm the plain entry points above use for this pass and shape
 * (never AUTO or REF). */
ConvAlgo conv_algo_choose(const ConvShape *s, ConvPass pass);

/* Precise convolutions, for the whole process: with on, conv_algo_choose
 * never picks WINOGRAD (GEMM instead: ~1e-6 relative error instead of
 * ~6e-6, and more multiplications on the wide 3x3 layers). Off by
 * default. Weights
 * prepared while it was off are ignored while it is on (conv_prepared_bytes
 * is 0 then). Set it before running kernels: not synchronised with running
 * ones. */
void conv_set_precise(bool on);
bool conv_precise(void);

/* The entry points above with the algorithm forced; algo must be supported
 * (conv_algo_supported), else the call falls back to GEMM. The workspace of
 * conv_workspace_bytes serves every algorithm. */
void conv2d_forward_cpu_algo(float *out, const float *inp, const float *weight, const float *bias,
                             const ConvShape *s, void *workspace, ConvAlgo algo);
void conv2d_backward_input_cpu_algo(float *dinp, const float *dout, const float *weight, const ConvShape *s,
                                    void *workspace, ConvAlgo algo);
void conv2d_backward_weight_cpu_algo(float *dweight, float *dbias, const float *dout, const float *inp,
                                     const ConvShape *s, void *workspace, ConvAlgo algo);

/* ---- Prepared weights ----
 * Winograd transforms the 3x3 kernel of every (output, input) channel pair
 * before its products; for weights that do not change between calls (a
 * frozen VGG19) that transform is done once with conv_weights_prepare and
 * reused. The prepared form of a pass depends on the weight values, the
 * pass, C and OC only: it serves every shape with the same channels for
 * which conv_prepared_bytes is non-zero. The results are bit-for-bit those
 * of the plain entry points (same arithmetic, done earlier).
 *
 *     size_t nb = conv_prepared_bytes(&s, CONV_PASS_FORWARD);
 *     void *pw = nb ? malloc(nb) : NULL;
 *     if (pw) conv_weights_prepare(pw, weight, &s, CONV_PASS_FORWARD);
 *     conv2d_forward_prepared_cpu(out, inp, weight, pw, bias, CONV_ACT_NONE_INIT, &s, ws);
 */

/* Bytes of the prepared form of weight (OC, C, KH, KW) for this pass (the
 * forward or backward-input) of this shape; 0 when the algorithm
 * conv_algo_choose picks has none (the weight is then used as it is). */
size_t conv_prepared_bytes(const ConvShape *s, ConvPass pass);

/* prepared (conv_prepared_bytes, 64-byte aligned) = the weight transformed
 * for pass; only when conv_prepared_bytes(s, pass) > 0. */
void conv_weights_prepare(void *prepared, const float *weight, const ConvShape *s, ConvPass pass);

/* conv2d_forward_cpu and conv2d_backward_input_cpu with the weight's
 * prepared form for this pass (NULL: prepare nothing, transform on the fly,
 * as the plain entry points), and fused activation steps:
 *   act        the forward writes act(conv + bias) (ConvAct above);
 *   dout_mask  NULL, or (N, OC, OH, OW): the backward-input takes dout *
 *              (dout_mask > 0), the gradient through a ReLU whose output is
 *              dout_mask, without materialising it. Only where
 *              conv_backward_input_masks(s) is true. */
void conv2d_forward_prepared_cpu(float *out, const float *inp, const float *weight, const void *prepared,
                                 const float *bias, ConvAct act, const ConvShape *s, void *workspace);
bool conv_backward_input_masks(const ConvShape *s);
void conv2d_backward_input_prepared_cpu(float *dinp, const float *dout, const float *dout_mask, const float *weight,
                                        const void *prepared, const ConvShape *s, void *workspace);

/* Name of the vector instruction set the fast kernels use: "avx512",
 * "avx2" (with FMA) or "portable" (plain C); by default the best the CPU
 * has. */
const char *conv_isa_name(void);

/* Makes the fast kernels use the named instruction set, which the CPU must
 * support; false (and no change) otherwise. For tests and benchmarks that
 * compare the variants: not thread-safe with running kernels. */
bool conv_isa_select(const char *name);

#endif
