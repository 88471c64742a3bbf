/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conv: shape checks, workspace sizing and the choice of algorithm for each
 * pass; the algorithms live in conv_gemm.c, conv_winograd.c, conv_direct.c
 * and conv_ref.c.
 */
#include <assert.h>
#include <string.h>

#include "conv_impl.h"

// Every dimension product handed to BLAS must fit an int; this bound keeps
// each one (and C*KH*KW*OH*OW, the im2col buffer) well inside.
#define CONV_MAX_ELEMS ((int64_t)1 << 31)

bool conv_shape_init(ConvShape *s, int64_t N, int64_t C, int64_t H, int64_t W, int64_t OC, int64_t KH,
                     int64_t KW, int64_t stride, int64_t pad, Err *err)
{
    if (N < 1 || C < 1 || H < 1 || W < 1 || OC < 1 || KH < 1 || KW < 1)
        return err_set(err, "conv shape: sizes must be positive (N=%lld C=%lld H=%lld W=%lld OC=%lld KH=%lld KW=%lld)",
                       (long long)N, (long long)C, (long long)H, (long long)W, (long long)OC, (long long)KH,
                       (long long)KW);
    if (stride < 1 || pad < 0 || stride > CONV_MAX_ELEMS || pad > CONV_MAX_ELEMS)
        return err_set(err, "conv shape: stride %lld must be >= 1 and padding %lld >= 0", (long long)stride,
                       (long long)pad);
    if (H > CONV_MAX_ELEMS || W > CONV_MAX_ELEMS || KH > CONV_MAX_ELEMS || KW > CONV_MAX_ELEMS ||
        H + 2 * pad < KH || W + 2 * pad < KW)
        return err_set(err, "conv shape: kernel %lldx%lld does not fit the padded input %lldx%lld",
                       (long long)KH, (long long)KW, (long long)(H + 2 * pad), (long long)(W + 2 * pad));
    int64_t OH = (H + 2 * pad - KH) / stride + 1, OW = (W + 2 * pad - KW) / stride + 1;
    int64_t ckk = C * KH * KW;
    if (C > CONV_MAX_ELEMS || OC > CONV_MAX_ELEMS || KH * KW > CONV_MAX_ELEMS || ckk > CONV_MAX_ELEMS ||
        C * H * W > CONV_MAX_ELEMS || OC * OH * OW > CONV_MAX_ELEMS || OC * ckk > CONV_MAX_ELEMS ||
        ckk > CONV_MAX_ELEMS / (OH * OW))
        return err_set(err, "conv shape: too large (C=%lld H=%lld W=%lld OC=%lld kernel %lldx%lld)", (long long)C,
                       (long long)H, (long long)W, (long long)OC, (long long)KH, (long long)KW);
    *s = (ConvShape){N, C, H, W, OC, KH, KW, stride, pad, OH, OW};
    return true;
}

size_t conv_workspace_bytes(const ConvShape *s)
{
    size_t most = conv_gemm_workspace_floats(s), w = conv_winograd_workspace_floats(s),
           d = conv_direct_workspace_floats(s);
    most = w > most ? w : most;
    most = d > most ? d : most;
    return most * sizeof(float);
}

const char *conv_algo_name(ConvAlgo algo)
{
    static const char *const names[] = {"auto", "gemm", "winograd", "direct", "ref"};
    static_assert(sizeof names / sizeof names[0] == CONV_ALGO_COUNT, "one name per algorithm");
    return (unsigned)algo < CONV_ALGO_COUNT ? names[algo] : "?";
}

bool conv_algo_supported(const ConvShape *s, ConvPass pass, ConvAlgo algo)
{
    switch (algo) {
    case CONV_ALGO_AUTO:
    case CONV_ALGO_GEMM:
    case CONV_ALGO_REF:
        return true;
    case CONV_ALGO_WINOGRAD:
        return conv_winograd_supported(s, pass);
    case CONV_ALGO_DIRECT:
        return conv_direct_supported(s, pass);
    default:
        return false;
    }
}

// Set by conv_set_precise; read on every choice, so atomic.
static bool precise;

void conv_set_precise(bool on)
{
    __atomic_store_n(&precise, on, __ATOMIC_RELEASE);
}

bool conv_precise(void)
{
    return __atomic_load_n(&precise, __ATOMIC_ACQUIRE);
}

// Narrow layers (16 channels or fewer on either side of the pass) go direct:
// a GEMM summing over so few channels is bound by memory, not arithmetic.
// Wide 3x3 stride-1 layers go Winograd unless conv_set_precise(true);
// everything else GEMM.
ConvAlgo conv_algo_choose(const ConvShape *s, ConvPass pass)
{
    bool narrow = s->C <= 16 || s->OC <= 16;
    // A plain 1x1 weight gradient is dot products of whole planes: the direct
    // kernel reads them in place where GEMM would transpose one side.
    bool pointwise_weight = pass == CONV_PASS_BACKWARD_WEIGHT && conv_plain_pointwise(s);
    if ((narrow || pointwise_weight) && conv_direct_supported(s, pass))
        return CONV_ALGO_DIRECT;
    if (!narrow && !conv_precise() && conv_winograd_supported(s, pass))
        return CONV_ALGO_WINOGRAD;
    return CONV_ALGO_GEMM;
}

static ConvAlgo resolve(const ConvShape *s, ConvPass pass, ConvAlgo algo)
{
    if (algo == CONV_ALGO_AUTO)
        return conv_algo_choose(s, pass);
    return conv_algo_supported(s, pass, algo) ? algo : CONV_ALGO_GEMM;
}

// The activation in place, for the algorithms without a fused epilogue.
static void act_inplace(float *x, int64_t n, ConvAct act)
{
    if (act.kind == CONV_ACT_NONE)
        return;
#pragma omp parallel for schedule(static) if (n > CONV_PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        x[i] = conv_act_apply(x[i], act);
}

// The plain and prepared entry points share these; prepared is only
// passed with the algorithm conv_algo_choose picks, which it was made for.
static void forward_dispatch(float *out, const float *inp, const float *weight, const float *prepared,
                             const float *bias, ConvAct act, const ConvShape *s, void *workspace, ConvAlgo algo)
{
    switch (resolve(s, CONV_PASS_FORWARD, algo)) {
    case CONV_ALGO_REF:
        conv_ref_forward(out, inp, weight, bias, s);
        break;
    case CONV_ALGO_WINOGRAD:
        conv_winograd_forward(out, inp, weight, prepared, bias, act, s, workspace);
        return;
    case CONV_ALGO_DIRECT:
        conv_direct_forward(out, inp, weight, bias, act, s, workspace);
        return;
    default:
        conv_gemm_forward(out, inp, weight, bias, s, workspace);
        break;
    }
    act_inplace(out, s->N * s->OC * s->OH * s->OW, act);
}

static void backward_input_dispatch(float *dinp, const float *dout, const float *dout_mask, const float *weight,
                                    const float *prepared, const ConvShape *s, void *workspace, ConvAlgo algo)
{
    switch (resolve(s, CONV_PASS_BACKWARD_INPUT, algo)) {
    case CONV_ALGO_REF:
        conv_ref_backward_input(dinp, dout, weight, s);
        break;
    case CONV_ALGO_WINOGRAD:
        conv_winograd_backward_input(dinp, dout, dout_mask, weight, prepared, s, workspace);
        break;
    case CONV_ALGO_DIRECT:
        conv_direct_backward_input(dinp, dout, weight, s, workspace);
        break;
    default:
        conv_gemm_backward_input(dinp, dout, weight, s, workspace);
        break;
    }
}

void conv2d_forward_cpu_algo(float *out, const float *inp, const float *weight, const float *bias,
                             const ConvShape *s, void *workspace, ConvAlgo algo)
{
    forward_dispatch(out, inp, weight, NULL, bias, CONV_ACT_NONE_INIT, s, workspace, algo);
}

void conv2d_backward_input_cpu_algo(float *dinp, const float *dout, const float *weight, const ConvShape *s,
                                    void *workspace, ConvAlgo algo)
{
    backward_input_dispatch(dinp, dout, NULL, weight, NULL, s, workspace, algo);
}

size_t conv_prepared_bytes(const ConvShape *s, ConvPass pass)
{
    if (pass == CONV_PASS_BACKWARD_WEIGHT || conv_algo_choose(s, pass) != CONV_ALGO_WINOGRAD)
        return 0;
    return conv_winograd_prepared_floats(s, pass) * sizeof(float);
}

void conv_weights_prepare(void *prepared, const float *weight, const ConvShape *s, ConvPass pass)
{
    if (conv_prepared_bytes(s, pass))
        conv_winograd_prepare(prepared, weight, s, pass);
}

void conv2d_forward_prepared_cpu(float *out, const float *inp, const float *weight, const void *prepared,
                                 const float *bias, ConvAct act, const ConvShape *s, void *workspace)
{
    forward_dispatch(out, inp, weight, conv_prepared_bytes(s, CONV_PASS_FORWARD) ? prepared : NULL, bias, act, s,
                     workspace, CONV_ALGO_AUTO);
}

bool conv_backward_input_masks(const ConvShape *s)
{
    return conv_algo_choose(s, CONV_PASS_BACKWARD_INPUT) == CONV_ALGO_WINOGRAD;
}

void conv2d_backward_input_prepared_cpu(float *dinp, const float *dout, const float *dout_mask, const float *weight,
                                        const void *prepared, const ConvShape *s, void *workspace)
{
    backward_input_dispatch(dinp, dout, dout_mask, weight,
                            conv_prepared_bytes(s, CONV_PASS_BACKWARD_INPUT) ? prepared : NULL, s, workspace,
                            CONV_ALGO_AUTO);
}

void conv2d_backward_weight_cpu_algo(float *dweight, float *dbias, const float *dout, const float *inp,
                                     const ConvShape *s, void *workspace, ConvAlgo algo)
{
    switch (resolve(s, CONV_PASS_BACKWARD_WEIGHT, algo)) {
    case CONV_ALGO_REF:
        conv_ref_backward_weight(dweight, dbias, dout, inp, s);
        break;
    case CONV_ALGO_DIRECT:
        conv_direct_backward_weight(dweight, dbias, dout, inp, s, workspace);
        break;
    default:
        conv_gemm_backward_weight(dweight, dbias, dout, inp, s, workspace);
        break;
    }
}

void conv2d_forward_cpu(float *out, const float *inp, const float *weight, const float *bias,
                        const ConvShape *s, void *workspace)
{
    conv2d_forward_cpu_algo(out, inp, weight, bias, s, workspace, CONV_ALGO_AUTO);
}

void conv2d_backward_input_cpu(float *dinp, const float *dout, const float *weight, const ConvShape *s,
                               void *workspace)
{
    conv2d_backward_input_cpu_algo(dinp, dout, weight, s, workspace, CONV_ALGO_AUTO);
}

void conv2d_backward_weight_cpu(float *dweight, float *dbias, const float *dout, const float *inp,
                                const ConvShape *s, void *workspace)
{
    conv2d_backward_weight_cpu_algo(dweight, dbias, dout, inp, s, workspace, CONV_ALGO_AUTO);
}

// Per channel and image, eight interleaved double sums (pixel i into sum
// i % 8) added up in a fixed tree: the same order every time, and eight
// independent chains instead of one long one, whose latency bounded it.
#define BIAS_LANES 8
void conv_bias_grad(float *dbias, const float *dout, const ConvShape *s)
{
    const int64_t ohw = s->OH * s->OW;
#pragma omp parallel for schedule(static) if (s->N * s->OC * ohw > CONV_PAR_MIN)
    for (int64_t oc = 0; oc < s->OC; oc++) {
        double acc = 0.0;
        for (int64_t n = 0; n < s->N; n++) {
            const float *p = dout + (n * s->OC + oc) * ohw;
            double part[BIAS_LANES] = {0.0};
            int64_t i = 0;
            for (; i + BIAS_LANES <= ohw; i += BIAS_LANES)
                for (int k = 0; k < BIAS_LANES; k++)
                    part[k] += p[i + k];
            for (int k = 0; i < ohw; i++, k++)
                part[k] += p[i];
            acc += ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
        }
        dbias[oc] += (float)acc;
    }
}

// The kernels in use: chosen once from the CPU's features, or by
// conv_isa_select.
static const ConvKernels *selected;

static const ConvKernels *best_kernels(void)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return &conv_kernels_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return &conv_kernels_avx2;
    return &conv_kernels_portable;
}

const ConvKernels *conv_kernels(void)
{
    const ConvKernels *k = __atomic_load_n(&selected, __ATOMIC_ACQUIRE);
    if (!k) {
        k = best_kernels();
        __atomic_store_n(&selected, k, __ATOMIC_RELEASE);
    }
    return k;
}

const char *conv_isa_name(void)
{
    return conv_kernels()->isa;
}

bool conv_isa_select(const char *name)
{
    static const ConvKernels *const all[] = {&conv_kernels_avx512, &conv_kernels_avx2, &conv_kernels_portable};
    const ConvKernels *best = best_kernels();
    bool allowed = false; // only the best and the ones below it in `all`
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (all[i] == best)
            allowed = true;
        if (allowed && strcmp(all[i]->isa, name) == 0) {
            __atomic_store_n(&selected, all[i], __ATOMIC_RELEASE);
            return true;
        }
    }
    return false;
}
