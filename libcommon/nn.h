/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn: the neural-network engine: operations on float32 NCHW tensors, each
 * with a forward and a backward, recorded on a tape for reverse-mode
 * differentiation. Every model (DPA, PIAD, Deep GEO, Deep IF) and every
 * loss is written with these calls.
 *
 * How a training step works
 *   - An NNGraph is created once per model and thread. nn_graph_reset at
 *     the start of each step forgets the previous step: its activations,
 *     gradients and tape nodes come from arenas (nn_arena.h) that keep their
 *     memory, so from the second step on nothing is allocated.
 *   - Inputs enter through nn_input (copied into the arena). Parameters are
 *     persistent NNVars owned by a Params block (params.h): one allocation
 *     for all values, one for all gradients.
 *   - Each op (nn_conv2d, nn_leaky_relu, ...) computes its output at once
 *     and appends a node to the tape. nn_backward(g, loss) seeds d loss = 1
 *     and runs the nodes' backwards in reverse order. Parameter gradients
 *     ACCUMULATE into the Params gradient block (zero it with
 *     params_zero_grad before the backward, as torch's zero_grad); the
 *     gradients of intermediate values are arena buffers, readable with
 *     nn_var_grad_download until the next reset.
 *   - Only vars that depend on something with requires_grad (a trainable
 *     parameter, or an input marked with nn_set_requires_grad) get a
 *     gradient; frozen weights (VGG) pass gradients through to their input
 *     without computing their own. nn_graph_set_grad(g, false) records
 *     nothing for backward (evaluation, torch.no_grad).
 *   - Double backward (WGAN-GP): nn_grad computes d out / d wrt as new vars
 *     recorded on the same tape (create_graph=True), so a loss built from
 *     them can be differentiated again by nn_backward. Supported through
 *     conv2d, linear, leaky_relu, avgpool2, upsample_nearest2, add, axpby,
 *     scale/affine, fadein and reshape (what a WGAN-GP discriminator uses); any other
 *     op on the path is an error naming it.
 *
 * Errors are sticky, per graph: an op that fails (shape mismatch, out of
 * memory) records the message and returns NULL; every later op given a NULL
 * input or called on a failed graph returns NULL too. A model builds its
 * whole step and checks once (nn_backward fails on a failed graph, or call
 * nn_graph_ok). Messages name the op: "conv2d: input has 4 channels, weight
 * expects 3".
 *
 * Threading: a graph belongs to one thread; kernels use OpenMP inside
 * (omp_set_num_threads / -j), and give bit-identical results for any
 * thread count and run (no atomics, fixed reduction orders).
 *
 * Back ends: the graph calls kernels through its NNBackend table
 * (nn_backend.h); tensors carry their device. Models never see which back
 * end runs; nn_input/nn_var_download are the explicit host copies.
 *
 * A 2-layer conv net trained with Adam (declarations of params.h,
 * nn_optim.h, nn_loss.h; error checks shortened):
 *
 *     NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
 *     Params *p = params_new(nn_backend_cpu(), true, &err);
 *     int w1 = params_add(p, "conv1.weight", 4, (int64_t[]){8, 3, 3, 3}, &err);
 *     int b1 = params_add(p, "conv1.bias", 1, (int64_t[]){8}, &err);
 *     int w2 = params_add(p, "conv2.weight", 4, (int64_t[]){3, 8, 3, 3}, &err);
 *     int b2 = params_add(p, "conv2.bias", 1, (int64_t[]){3}, &err);
 *     params_alloc(p, &err);   // then nn_init_* into params_data(p, w1), ...
 *     NNAdam adam;
 *     nn_adam_init(&adam, p, 1e-3, 0.9, 0.999, 1e-8, &err);
 *     for (int step = 0; step < steps; step++) {
 *         nn_graph_reset(g);
 *         NNVar *x = nn_input(g, 4, (int64_t[]){B, 3, 32, 32}, batch[step]);
 *         NNVar *h = nn_conv2d(g, x, params_var(p, w1), params_var(p, b1), 1, 1);
 *         NNVar *y = nn_conv2d(g, nn_leaky_relu(g, h, 0.2f), params_var(p, w2), params_var(p, b2), 1, 1);
 *         NNVar *loss = nn_l1_loss(g, x, y, NN_REDUCE_MEAN);
 *         params_zero_grad(p);
 *         if (!nn_backward(g, loss, &err))   // also reports any failed op
 *             break;
 *         nn_adam_step(&adam);
 *     }
 */
#ifndef ADKIT_NN_H
#define ADKIT_NN_H

#include <stdbool.h>
#include <stdint.h>

#include "conv.h"
#include "err.h"
#include "nn_arena.h"
#include "nn_backend.h"
#include "tensor.h"

#define NN_MAX_INPUTS 4

typedef struct NNGraph NNGraph;
typedef struct NNVar NNVar;

/* How an op differentiates (one static instance per op; see nn_impl.h). */
typedef struct NNOpDef NNOpDef;

/* Attributes and saved buffers of a node; written by the op that made it. */
typedef struct NNAttrs {
    float f[4];            /* scalars (slope, alpha, a, b, ...) */
    int64_t k[8];          /* integers (pad, sizes, ...) */
    ConvShape conv;        /* convolutions */
    const float *c0, *c1;  /* borrowed constant device arrays (channel mean/div) */
    float *s0, *s1;        /* buffers saved for the backward (arena) */
    const int32_t *labels; /* class labels (arena) */
    bool flag;             /* op-specific switch (training mode) */
    float *running_mean, *running_var; /* batch-norm state, borrowed */
} NNAttrs;

/* A value in the graph: an op's output, an input, or a parameter. Read
 * `value` freely; the other fields belong to the engine. */
struct NNVar {
    Tensor value;            /* data on the graph's device */
    float *grad;             /* value.numel floats, or NULL before backward reaches it */
    const NNOpDef *op;       /* NULL for leaves (inputs, parameters) */
    NNVar *in[NN_MAX_INPUTS];/* inputs of the op; borrowed */
    int nin;
    int64_t id;              /* position on the tape; -1 for parameters */
    bool requires_grad;      /* a gradient flows to or through this var */
    bool is_param;           /* grad is a persistent block that accumulates */
    uint64_t version;        /* parameters: names the current values, process-unique, renewed by
                                params.h whenever they may change (caches of derived forms key
                                on it); 0 for other vars */
    NNAttrs a;
};

/* ---- graph ---- */

/* A new graph on a back end (borrowed; static tables live forever). */
NNGraph *nn_graph_new(const NNBackend *be, Err *err);
/* Frees the graph and its arenas. NULL does nothing. */
void nn_graph_free(NNGraph *g);
/* Forgets every var of the graph (start of a step) and clears the sticky
 * error. Vars made before are invalid afterwards; parameters are not. */
void nn_graph_reset(NNGraph *g);
/* Turns recording for backward on (default) or off (evaluation). */
void nn_graph_set_grad(NNGraph *g, bool enabled);
/* Off (default): every var's gradient stays readable after a backward.
 * On: the gradient of an op's output is given back to the arena as soon as
 * that op's backward has used it, as torch does for non-leaf tensors; only
 * parameters and leaves keep theirs. For training loops, whose peak memory
 * it lowers by about the size of the activations. */
void nn_graph_set_free_grads(NNGraph *g, bool on);

/* Forgetting part of a step: vars made after the mark, and their memory,
 * are gone after the rewind (the tape is cut back too). For intermediate
 * values nothing will differentiate through: compute, copy the results
 * into vars made before the mark, rewind. */
typedef struct NNGraphMark {
    NNArenaMark dev, host;
    int64_t ntape;
} NNGraphMark;
NNGraphMark nn_graph_mark(const NNGraph *g);
void nn_graph_rewind(NNGraph *g, NNGraphMark m);

/* The back end (borrowed). */
const NNBackend *nn_graph_backend(const NNGraph *g);
/* True while no op has failed; otherwise copies the message into err. */
bool nn_graph_ok(const NNGraph *g, Err *err);
/* Bytes of activation memory in use at the high-water mark. */
size_t nn_graph_arena_bytes(const NNGraph *g);
/* Number of nodes on the tape. */
int64_t nn_graph_tape_length(const NNGraph *g);

/* ---- leaves ---- */

/* A graph input of the given shape, copied from host memory (NULL: zeros). */
NNVar *nn_input(NNGraph *g, int ndim, const int64_t *shape, const float *host_data);
/* A constant filled with one value. */
NNVar *nn_full(NNGraph *g, int ndim, const int64_t *shape, float value);
/* Marks a leaf as needing its gradient (the x-hat of a gradient penalty). */
void nn_set_requires_grad(NNVar *v, bool on);
/* The same values, cut off from the tape (torch .detach()); shares data. */
NNVar *nn_detach(NNGraph *g, NNVar *x);

/* Copies a var's value / gradient to host memory (value.numel floats);
 * the gradient copy is zeros when no gradient reached the var. */
void nn_var_download(const NNGraph *g, const NNVar *v, float *host);
void nn_var_grad_download(const NNGraph *g, const NNVar *v, float *host);

/* ---- differentiation ---- */

/* Backward from a scalar (numel 1) loss: d loss = 1. Gradients of earlier
 * backwards on the same tape are forgotten first (parameter gradients are
 * not: they accumulate). False on a failed graph or a non-scalar loss. */
bool nn_backward(NNGraph *g, NNVar *loss, Err *err);

/* Backward from any var with a given output gradient (torch's
 * y.backward(seed)): seed_host holds out->value.numel floats. */
bool nn_backward_seeded(NNGraph *g, NNVar *out, const float *seed_host, Err *err);

/* create_graph: grads[i] = d(sum(out)) / d(wrt[i]) (grad_outputs = ones),
 * as vars on the tape that can be differentiated again. wrt must be vars of
 * this step (not parameters). A wrt that out does not depend on gets zeros. */
bool nn_grad(NNGraph *g, NNVar *out, NNVar *const *wrt, int nwrt, NNVar **grads, Err *err);

/* ---- operations ----
 * Every op returns its output var, or NULL (with the graph's sticky error)
 * when an input is NULL or invalid. Shapes are NCHW; "(N, ...)" means any
 * trailing shape. */

/* torch.nn.Conv2d: x (N, C, H, W), w (OC, C, KH, KW), b (OC) or NULL;
 * zero padding pad on every side. -> (N, OC, OH, OW) */
NNVar *nn_conv2d(NNGraph *g, NNVar *x, NNVar *w, NNVar *b, int stride, int pad);
/* nn_relu(nn_conv2d(...)) as one op, the same values and gradients bit for
 * bit, without keeping the pre-activation: half the activation memory and
 * two fewer passes over it (the VGG19 extractor's layers). No
 * create_graph (double) backward. */
NNVar *nn_conv2d_relu(NNGraph *g, NNVar *x, NNVar *w, NNVar *b, int stride, int pad);
/* nn_leaky_relu(nn_conv2d(...), slope) as one op, 0 < slope < 1: the same
 * values and gradients (create_graph included) bit for bit, without the
 * pre-activation or the separate passes (the DPA models' conv -> LReLU). */
NNVar *nn_conv2d_leaky_relu(NNGraph *g, NNVar *x, NNVar *w, NNVar *b, int stride, int pad, float slope);
/* torch.nn.Linear: x (N, K), w (O, K), b (O) or NULL -> (N, O). */
NNVar *nn_linear(NNGraph *g, NNVar *x, NNVar *w, NNVar *b);
/* ReflectionPad2d(pad): (N, C, H, W) -> (N, C, H+2pad, W+2pad); pad < H, W. */
NNVar *nn_reflect_pad(NNGraph *g, NNVar *x, int pad);

/* 2x2 stride-2 pooling (H, W even). Max-pool's gradient goes to the first
 * maximal element in row-major order (spec 11.4). */
NNVar *nn_avgpool2(NNGraph *g, NNVar *x);
NNVar *nn_maxpool2(NNGraph *g, NNVar *x);
/* Nearest x2 up-sampling: out[y][x] = in[y/2][x/2]. */
NNVar *nn_upsample_nearest2(NNGraph *g, NNVar *x);
/* Bilinear resize to (OH, OW), torch interpolate align_corners=False. */
NNVar *nn_bilinear(NNGraph *g, NNVar *x, int64_t OH, int64_t OW);
/* Bilinear down-scaling by an integer factor s to floor(H/s) x floor(W/s),
 * as the progressive growing's MixResolution (spec 4.3). */
NNVar *nn_downscale_bilinear(NNGraph *g, NNVar *x, int factor);

NNVar *nn_leaky_relu(NNGraph *g, NNVar *x, float slope);
NNVar *nn_relu(NNGraph *g, NNVar *x);
NNVar *nn_tanh(NNGraph *g, NNVar *x);
NNVar *nn_sigmoid(NNGraph *g, NNVar *x);
/* |x| with d|x|/dx = sign(x), sign(0) = 0. */
NNVar *nn_abs(NNGraph *g, NNVar *x);
NNVar *nn_square(NNGraph *g, NNVar *x);
NNVar *nn_sqrt(NNGraph *g, NNVar *x);

/* BatchNorm2d: x (N, C, H, W), weight/bias (C) or NULL; running_mean/var
 * (C floats on the device, borrowed, updated in training mode with
 * momentum, unbiased variance). Eval mode uses the running statistics. */
NNVar *nn_batchnorm2d(NNGraph *g, NNVar *x, NNVar *weight, NNVar *bias, float *running_mean,
                      float *running_var, bool training, float momentum, float eps);

/* Normalisations of the progressive-GAN family (spec dpa-piad.md 1.1, 1.3),
 * x (N, C, H, W): PixelNormLayer x / sqrt(mean over C of x^2 + 1e-8);
 * InstanceNorm2d without affine parameters (biased variance, eps);
 * MinibatchStdDevLayer, which appends one channel filled with the mean over
 * (C, H, W) of the batch standard deviation sqrt(var over N + 1e-8)
 * -> (N, C+1, H, W). */
NNVar *nn_pixel_norm(NNGraph *g, NNVar *x);
NNVar *nn_instance_norm(NNGraph *g, NNVar *x, float eps);
NNVar *nn_minibatch_stddev(NNGraph *g, NNVar *x);

/* a + b, a - b, alpha*x + beta*y (same shapes). */
NNVar *nn_add(NNGraph *g, NNVar *a, NNVar *b);
NNVar *nn_sub(NNGraph *g, NNVar *a, NNVar *b);
NNVar *nn_axpby(NNGraph *g, float alpha, NNVar *x, float beta, NNVar *y);
/* s*x, and a*x + b. */
NNVar *nn_scale(NNGraph *g, NNVar *x, float s);
NNVar *nn_affine(NNGraph *g, NNVar *x, float a, float b);
/* Fadein (spec 1.3): low*(1-alpha) + high*alpha in float32. */
NNVar *nn_fadein(NNGraph *g, NNVar *low, NNVar *high, float alpha);
/* Concatenation along channels: (N, C1, H, W), (N, C2, H, W) -> (N, C1+C2, H, W). */
NNVar *nn_concat(NNGraph *g, NNVar *a, NNVar *b);
/* Same data, another shape with the same element count. */
NNVar *nn_reshape(NNGraph *g, NNVar *x, int ndim, const int64_t *shape);
/* (N, 1, H, W) -> (N, C, H, W) by copying (torch expand); backward sums. */
NNVar *nn_expand_channels(NNGraph *g, NNVar *x, int64_t C);
/* (x - mean[c]) / div[c] per channel; mean, div: C floats on the device,
 * borrowed (must live until the next reset), no gradient. */
NNVar *nn_channel_norm(NNGraph *g, NNVar *x, const float *mean, const float *div);
/* x (N, ...) divided by den[n] (N); den is treated as a constant (detached). */
NNVar *nn_div_per_sample(NNGraph *g, NNVar *x, NNVar *den);

/* Reductions, accumulated in double in a fixed order, rounded once:
 * sum/mean of everything -> scalar (shape ()); per sample (N, ...) -> (N);
 * mean over channels (N, C, H, W) -> (N, 1, H, W). */
NNVar *nn_sum(NNGraph *g, NNVar *x);
NNVar *nn_mean(NNGraph *g, NNVar *x);
NNVar *nn_sum_per_sample(NNGraph *g, NNVar *x);
NNVar *nn_mean_per_sample(NNGraph *g, NNVar *x);
NNVar *nn_mean_channels(NNGraph *g, NNVar *x);

/* Softmax cross-entropy: logits (N, K), labels[N] in [0, K) (host memory,
 * copied) -> per-sample loss (N). */
NNVar *nn_softmax_cross_entropy(NNGraph *g, NNVar *logits, const int32_t *labels);

#endif
