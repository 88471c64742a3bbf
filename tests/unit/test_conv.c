/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of conv: every algorithm on every pass it supports, against the
 * double-accumulating reference loops, over many shapes (kernel 1/3/4,
 * stride 1/2, padding 0..3, 1..64 channels, odd sizes, batch 1..4); plus
 * bit-for-bit repeatability across runs and thread counts, accumulation of
 * the parameter gradients, the precise switch, and shape validation.
 *
 * Error measure: max |fast - ref| / max |ref| over the tensor (normwise, as
 * elementwise relative error is meaningless at outputs that cancel to ~0).
 * A float32 dot product of K terms has a rounding error of a few units of
 * 2^-24 times sqrt(K) times the term size for random-signed data; with
 * K <= 64*16 = 1024 that is ~1e-6 of the largest output, so 1e-5 leaves
 * 10x margin yet catches any wrong tap, index or missing term (those give
 * errors of order 1e-2..1). Winograd F(4x4,3x3) multiplies the input by
 * transform matrices with entries up to 8 and 1/24 first, which costs about
 * one more decimal digit (measured worst: ~6e-6), so it gets 1e-4.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <omp.h>

#include "conv.h"
#include "rng.h"

typedef struct Case {
    int64_t N, C, H, W, OC, K, stride, pad;
} Case;

typedef struct Buffers {
    ConvShape s;
    float *inp, *weight, *bias, *out, *dout, *dinp, *dweight, *dbias;
    float *ref_out, *ref_dinp, *ref_dweight, *ref_dbias;
    void *ws;
} Buffers;

static size_t n_inp(const ConvShape *s) { return (size_t)(s->N * s->C * s->H * s->W); }
static size_t n_out(const ConvShape *s) { return (size_t)(s->N * s->OC * s->OH * s->OW); }
static size_t n_weight(const ConvShape *s) { return (size_t)(s->OC * s->C * s->KH * s->KW); }

static float *filled(size_t n, Rng *rng)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = 2.0f * rng_uniform_f32(rng) - 1.0f;
    return p;
}

static void buffers_init(Buffers *b, const Case *c, uint64_t seed)
{
    Err err = {0};
    assert_true(conv_shape_init(&b->s, c->N, c->C, c->H, c->W, c->OC, c->K, c->K, c->stride, c->pad, &err));
    Rng rng;
    rng_init(&rng, seed);
    const ConvShape *s = &b->s;
    b->inp = filled(n_inp(s), &rng);
    b->weight = filled(n_weight(s), &rng);
    b->bias = filled((size_t)s->OC, &rng);
    b->dout = filled(n_out(s), &rng);
    // Parameter gradients start non-zero: the kernels must add to them.
    b->ref_dweight = filled(n_weight(s), &rng);
    b->ref_dbias = filled((size_t)s->OC, &rng);
    b->dweight = malloc(n_weight(s) * sizeof(float));
    b->dbias = malloc((size_t)s->OC * sizeof(float));
    b->out = malloc(n_out(s) * sizeof(float));
    b->dinp = malloc(n_inp(s) * sizeof(float));
    b->ref_out = malloc(n_out(s) * sizeof(float));
    b->ref_dinp = malloc(n_inp(s) * sizeof(float));
    b->ws = malloc(conv_workspace_bytes(s) + 1);
    assert_true(b->dweight && b->dbias && b->out && b->dinp && b->ref_out && b->ref_dinp && b->ws);
    memcpy(b->dweight, b->ref_dweight, n_weight(s) * sizeof(float));
    memcpy(b->dbias, b->ref_dbias, (size_t)s->OC * sizeof(float));
    conv2d_forward_cpu_algo(b->ref_out, b->inp, b->weight, b->bias, s, NULL, CONV_ALGO_REF);
    conv2d_backward_input_cpu_algo(b->ref_dinp, b->dout, b->weight, s, NULL, CONV_ALGO_REF);
    conv2d_backward_weight_cpu_algo(b->ref_dweight, b->ref_dbias, b->dout, b->inp, s, NULL, CONV_ALGO_REF);
}

static void buffers_fini(Buffers *b)
{
    float *all[] = {b->inp, b->weight, b->bias, b->out, b->dout, b->dinp, b->dweight, b->dbias,
                    b->ref_out, b->ref_dinp, b->ref_dweight, b->ref_dbias};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
    free(b->ws);
}

static double rel_err(const float *a, const float *ref, size_t n)
{
    double max_err = 0.0, max_ref = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double e = a[i] > ref[i] ? (double)a[i] - ref[i] : (double)ref[i] - a[i];
        if (!(e <= max_err)) // also catches NaN
            max_err = e;
        double r = ref[i] < 0 ? -(double)ref[i] : ref[i];
        if (r > max_ref)
            max_ref = r;
    }
    return max_err / max_ref;
}

static double tolerance(ConvAlgo algo) { return algo == CONV_ALGO_WINOGRAD ? 1e-4 : 1e-5; }

static const char *case_str(const Case *c)
{
    static char buf[128];
    snprintf(buf, sizeof buf, "N=%lld C=%lld %lldx%lld OC=%lld k=%lld s=%lld p=%lld", (long long)c->N,
             (long long)c->C, (long long)c->H, (long long)c->W, (long long)c->OC, (long long)c->K,
             (long long)c->stride, (long long)c->pad);
    return buf;
}

// Checks every supported algorithm on every pass; returns how many
// (algorithm, pass) pairs ran besides GEMM, to prove the fast paths are hit.
static int check_case(const Case *c, uint64_t seed, double worst[CONV_ALGO_COUNT][CONV_PASS_COUNT])
{
    Buffers b;
    buffers_init(&b, c, seed);
    const ConvShape *s = &b.s;
    int special = 0;
    for (ConvAlgo algo = CONV_ALGO_AUTO; algo < CONV_ALGO_REF; algo++) {
        for (ConvPass pass = 0; pass < CONV_PASS_COUNT; pass++) {
            if (!conv_algo_supported(s, pass, algo))
                continue;
            if (algo > CONV_ALGO_GEMM)
                special++;
            double e;
            if (pass == CONV_PASS_FORWARD) {
                conv2d_forward_cpu_algo(b.out, b.inp, b.weight, b.bias, s, b.ws, algo);
                e = rel_err(b.out, b.ref_out, n_out(s));
            } else if (pass == CONV_PASS_BACKWARD_INPUT) {
                conv2d_backward_input_cpu_algo(b.dinp, b.dout, b.weight, s, b.ws, algo);
                e = rel_err(b.dinp, b.ref_dinp, n_inp(s));
            } else {
                float *w0 = malloc(n_weight(s) * sizeof(float)), *b0 = malloc((size_t)s->OC * sizeof(float));
                memcpy(w0, b.dweight, n_weight(s) * sizeof(float));
                memcpy(b0, b.dbias, (size_t)s->OC * sizeof(float));
                conv2d_backward_weight_cpu_algo(b.dweight, b.dbias, b.dout, b.inp, s, b.ws, algo);
                e = rel_err(b.dweight, b.ref_dweight, n_weight(s));
                double eb = rel_err(b.dbias, b.ref_dbias, (size_t)s->OC);
                e = e > eb ? e : eb;
                memcpy(b.dweight, w0, n_weight(s) * sizeof(float));
                memcpy(b.dbias, b0, (size_t)s->OC * sizeof(float));
                free(w0);
                free(b0);
            }
            ConvAlgo real = algo == CONV_ALGO_AUTO ? conv_algo_choose(s, pass) : algo;
            if (e > worst[real][pass])
                worst[real][pass] = e;
            if (!(e <= tolerance(real)))
                fail_msg("%s pass %d algo %s: relative error %.3g > %.1g", case_str(c), (int)pass,
                         conv_algo_name(real), e, tolerance(real));
        }
    }
    buffers_fini(&b);
    return special;
}

static void against_reference(void)
{
    double worst[CONV_ALGO_COUNT][CONV_PASS_COUNT] = {{0}};
    // The shapes the models use, at small sizes, and the edge cases of each
    // fast path (sizes not a multiple of the Winograd tile or vector width).
    static const Case fixed[] = {
        {2, 64, 16, 16, 64, 3, 1, 1}, {1, 64, 17, 13, 32, 3, 1, 1}, {3, 48, 6, 5, 40, 3, 1, 1},
        {2, 3, 12, 12, 64, 3, 1, 1},  {1, 64, 9, 9, 3, 3, 1, 1},    {2, 16, 6, 10, 16, 3, 1, 0},
        {4, 4, 16, 16, 4, 3, 1, 1},   {4, 3, 19, 21, 4, 3, 1, 1},   {3, 4, 8, 8, 3, 3, 1, 1},
        {2, 16, 33, 17, 16, 3, 1, 1}, {2, 1, 16, 16, 16, 3, 1, 1},  {2, 16, 16, 16, 1, 3, 1, 1},
        {2, 16, 4, 4, 16, 3, 1, 1},   {2, 4, 1, 1, 4, 3, 1, 1},     {2, 16, 8, 8, 4, 1, 1, 0},
        {2, 4, 8, 8, 16, 1, 1, 0},    {2, 1, 10, 10, 16, 4, 1, 0},  {2, 16, 4, 4, 1, 4, 1, 3},
        {1, 64, 8, 8, 64, 1, 1, 0},   {2, 16, 8, 8, 16, 4, 2, 1},   {2, 32, 7, 9, 16, 3, 2, 1},
        // The latent convs: from a 1x1 input, and a kernel as large as the input.
        {3, 32, 1, 1, 24, 4, 1, 3},   {2, 8, 1, 1, 5, 4, 2, 3},     {3, 17, 1, 1, 20, 3, 1, 1},
        {5, 24, 4, 4, 40, 4, 1, 0},   {2, 3, 3, 3, 17, 3, 1, 0},    {4, 20, 1, 1, 33, 1, 1, 0},
        // 1x1 convs on whole panels (read in place), channel counts off the
        // register blocks.
        {3, 22, 4, 8, 37, 1, 1, 0},   {2, 64, 8, 4, 1, 1, 1, 0},    {2, 1, 8, 8, 35, 1, 1, 0},
        // Winograd: groups of tiles that span tile rows and images; a kernel
        // wide enough for the threads to share each group.
        {3, 32, 18, 22, 40, 3, 1, 1}, {2, 256, 10, 10, 288, 3, 1, 1},
        // Direct weight gradients vectorised over output channels: two
        // channel blocks, taps not a multiple of the block, runs of rows,
        // more runs than partial sums (36 bands of 8 rows, a last short one).
        {3, 16, 7, 9, 32, 3, 1, 0},   {5, 5, 4, 4, 16, 3, 1, 1},    {2, 4, 20, 20, 16, 3, 1, 1},
        {9, 16, 30, 30, 16, 3, 1, 1},
        // The direct forward by channel: pixels not a multiple of the
        // block, more than one tile of pixels, a 4x4 kernel.
        {3, 16, 7, 9, 32, 3, 1, 1},   {2, 16, 20, 16, 16, 3, 1, 1}, {2, 16, 6, 6, 16, 4, 1, 2},
    };
    int special = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        special += check_case(&fixed[i], 100 + i, worst);
    // Random shapes over the whole grid the brief names.
    static const int64_t kernels[] = {1, 3, 4}, channels[] = {1, 2, 3, 4, 5, 8, 16, 17, 32, 64};
    Rng rng;
    rng_init(&rng, 7);
    for (int i = 0; i < 100; i++) {
        Case c;
        c.K = kernels[rng_below(&rng, 3)];
        c.stride = 1 + (int64_t)rng_below(&rng, 2);
        c.pad = (int64_t)rng_below(&rng, 4);
        c.C = channels[rng_below(&rng, 10)];
        c.OC = channels[rng_below(&rng, 10)];
        c.N = 1 + (int64_t)rng_below(&rng, 4);
        int64_t big = c.C * c.OC > 256 ? 6 : 14;
        c.H = 1 + (int64_t)rng_below(&rng, (uint64_t)big);
        c.W = 1 + (int64_t)rng_below(&rng, (uint64_t)big);
        if (c.H + 2 * c.pad < c.K || c.W + 2 * c.pad < c.K)
            c.H = c.W = c.K;
        special += check_case(&c, 1000 + (uint64_t)i, worst);
    }
    for (ConvAlgo a = CONV_ALGO_GEMM; a < CONV_ALGO_REF; a++)
        print_message("worst relative error %-8s forward %.2g  backward-input %.2g  backward-weight %.2g\n",
                      conv_algo_name(a), worst[a][0], worst[a][1], worst[a][2]);
    print_message("fast (non-GEMM) paths checked: %d, ISA %s\n", special, conv_isa_name());
    assert_true(special > 100);
}

// Every instruction set this CPU can run, not only the best one.
static void test_against_reference(void **state)
{
    (void)state;
    static const char *const isas[] = {"avx512", "avx2", "portable"};
    int ran = 0;
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        if (!conv_isa_select(isas[i]))
            continue;
        against_reference();
        ran++;
    }
    assert_true(ran >= 1);
    assert_true(conv_isa_select(isas[2]));
    assert_false(conv_isa_select("no-such-isa"));
    // Back to the best one for the tests that follow.
    for (size_t i = 0; i < sizeof isas / sizeof isas[0] && !conv_isa_select(isas[i]); i++)
        ;
}

// Same inputs, same bytes: twice in a row, and with 1 and 2 threads.
static void test_repeatable(void **state)
{
    (void)state;
    static const Case cases[] = {
        {4, 64, 20, 20, 64, 3, 1, 1}, {8, 4, 32, 32, 4, 3, 1, 1},  {8, 16, 16, 16, 16, 3, 1, 1},
        {4, 32, 11, 11, 16, 4, 2, 1}, {4, 64, 9, 9, 128, 1, 1, 0}, {4, 3, 24, 24, 64, 3, 1, 1},
        {6, 64, 16, 16, 64, 1, 1, 0}, {2, 256, 10, 10, 288, 3, 1, 1}, {40, 16, 8, 8, 16, 3, 1, 1},
        {6, 16, 40, 40, 32, 3, 1, 1}, // the channel weight gradient: 42 runs, 32 partial sums
    };
    int saved = omp_get_max_threads(), most = saved > 1 ? saved : 2;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Buffers b;
        omp_set_num_threads(most); // the workspace is sized for the most threads used
        buffers_init(&b, &cases[i], 50 + i);
        const ConvShape *s = &b.s;
        size_t no = n_out(s), ni = n_inp(s), nw = n_weight(s);
        float *first = malloc((no + ni + nw + (size_t)s->OC) * sizeof(float));
        for (int run = 0; run < 3; run++) {
            omp_set_num_threads(run == 2 ? 1 : most);
            memset(b.dweight, 0, nw * sizeof(float));
            memset(b.dbias, 0, (size_t)s->OC * sizeof(float));
            conv2d_forward_cpu(b.out, b.inp, b.weight, b.bias, s, b.ws);
            conv2d_backward_input_cpu(b.dinp, b.dout, b.weight, s, b.ws);
            conv2d_backward_weight_cpu(b.dweight, b.dbias, b.dout, b.inp, s, b.ws);
            float *parts[] = {b.out, b.dinp, b.dweight, b.dbias};
            size_t sizes[] = {no, ni, nw, (size_t)s->OC}, at = 0;
            for (int p = 0; p < 4; p++) {
                if (run == 0)
                    memcpy(first + at, parts[p], sizes[p] * sizeof(float));
                else if (memcmp(first + at, parts[p], sizes[p] * sizeof(float)) != 0)
                    fail_msg("%s: output %d differs in run %d (%s)", case_str(&cases[i]), p, run,
                             run == 2 ? "1 thread" : "same threads");
                at += sizes[p];
            }
        }
        free(first);
        buffers_fini(&b);
    }
    omp_set_num_threads(saved);
}

// A prepared weight gives the same bytes as the plain entry points, for a
// shape that prepares (Winograd, reused across batch and image sizes) and
// for ones that do not (direct, GEMM: conv_prepared_bytes is 0).
static void test_prepared(void **state)
{
    (void)state;
    static const Case cases[] = {
        {3, 32, 13, 13, 40, 3, 1, 1}, {2, 24, 9, 9, 20, 3, 1, 2},  {2, 4, 16, 16, 4, 3, 1, 1},
        {2, 32, 9, 9, 32, 4, 2, 1},   {2, 24, 6, 70, 20, 3, 1, 1}, {3, 16, 7, 9, 32, 3, 1, 1},
        {2, 16, 20, 16, 16, 3, 1, 1},
    };
    static const bool prepares[] = {true, true, false, false, true, false, false};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Buffers b;
        buffers_init(&b, &cases[i], 80 + i);
        const ConvShape *s = &b.s;
        size_t no = n_out(s), ni = n_inp(s);
        size_t fb = conv_prepared_bytes(s, CONV_PASS_FORWARD), bb = conv_prepared_bytes(s, CONV_PASS_BACKWARD_INPUT);
        assert_int_equal(fb != 0, prepares[i]);
        assert_int_equal(bb != 0, prepares[i]);
        assert_int_equal(conv_prepared_bytes(s, CONV_PASS_BACKWARD_WEIGHT), 0);
        void *pf = fb ? malloc(fb) : NULL, *pb = bb ? malloc(bb) : NULL;
        if (fb)
            conv_weights_prepare(pf, b.weight, s, CONV_PASS_FORWARD);
        if (bb)
            conv_weights_prepare(pb, b.weight, s, CONV_PASS_BACKWARD_INPUT);
        float *out2 = malloc(no * sizeof(float)), *dinp2 = malloc(ni * sizeof(float));
        conv2d_forward_cpu(b.out, b.inp, b.weight, b.bias, s, b.ws);
        conv2d_backward_input_cpu(b.dinp, b.dout, b.weight, s, b.ws);
        conv2d_forward_prepared_cpu(out2, b.inp, b.weight, pf, b.bias, CONV_ACT_NONE_INIT, s, b.ws);
        conv2d_backward_input_prepared_cpu(dinp2, b.dout, NULL, b.weight, pb, s, b.ws);
        if (memcmp(out2, b.out, no * sizeof(float)) != 0)
            fail_msg("%s: prepared forward differs", case_str(&cases[i]));
        if (memcmp(dinp2, b.dinp, ni * sizeof(float)) != 0)
            fail_msg("%s: prepared backward-input differs", case_str(&cases[i]));
        // The fused ReLU: the same bits as a separate x > 0 ? x : 0 pass.
        conv2d_forward_prepared_cpu(out2, b.inp, b.weight, pf, b.bias, (ConvAct){CONV_ACT_RELU, 0.0f}, s, b.ws);
        size_t positive = 0;
        for (size_t k = 0; k < no; k++) {
            float want = b.out[k] > 0.0f ? b.out[k] : 0.0f;
            if (memcmp(&out2[k], &want, sizeof want) != 0)
                fail_msg("%s: fused ReLU differs at %zu: %g, want %g", case_str(&cases[i]), k, out2[k], want);
            positive += want > 0.0f;
        }
        assert_true(positive > no / 4 && positive < no * 3 / 4);
        // The fused LeakyReLU: the same bits as x > 0 ? x : x * slope.
        const float slope = 0.2f;
        conv2d_forward_prepared_cpu(out2, b.inp, b.weight, pf, b.bias, (ConvAct){CONV_ACT_LEAKY_RELU, slope}, s,
                                    b.ws);
        for (size_t k = 0; k < no; k++) {
            float want = b.out[k] > 0.0f ? b.out[k] : b.out[k] * slope;
            if (memcmp(&out2[k], &want, sizeof want) != 0)
                fail_msg("%s: fused LeakyReLU differs at %zu: %g, want %g", case_str(&cases[i]), k, out2[k], want);
        }
        // The fused ReLU mask of the backward-input: the same bits as
        // masking dout first; b.out (about half positive) is the mask.
        assert_int_equal(conv_backward_input_masks(s), prepares[i]);
        if (conv_backward_input_masks(s)) {
            float *masked = malloc(no * sizeof(float)), *dinp3 = malloc(ni * sizeof(float));
            for (size_t k = 0; k < no; k++)
                masked[k] = b.out[k] > 0.0f ? b.dout[k] : 0.0f;
            conv2d_backward_input_prepared_cpu(dinp2, masked, NULL, b.weight, pb, s, b.ws);
            conv2d_backward_input_prepared_cpu(dinp3, b.dout, b.out, b.weight, pb, s, b.ws);
            if (memcmp(dinp2, dinp3, ni * sizeof(float)) != 0)
                fail_msg("%s: masked backward-input differs", case_str(&cases[i]));
            free(masked);
            free(dinp3);
        }
        if (fb) {
            // The same prepared form serves another batch and image size
            // with the same channels.
            Case other = cases[i];
            other.N = 1, other.H = 7, other.W = 11;
            Buffers o;
            buffers_init(&o, &other, 90 + i);
            memcpy(o.weight, b.weight, n_weight(s) * sizeof(float));
            assert_int_equal(conv_prepared_bytes(&o.s, CONV_PASS_FORWARD), fb);
            float *o2 = malloc(n_out(&o.s) * sizeof(float));
            conv2d_forward_cpu(o.out, o.inp, o.weight, o.bias, &o.s, o.ws);
            conv2d_forward_prepared_cpu(o2, o.inp, o.weight, pf, o.bias, CONV_ACT_NONE_INIT, &o.s, o.ws);
            if (memcmp(o2, o.out, n_out(&o.s) * sizeof(float)) != 0)
                fail_msg("%s: prepared forward differs at another size", case_str(&other));
            free(o2);
            buffers_fini(&o);
        }
        free(out2);
        free(dinp2);
        free(pf);
        free(pb);
        buffers_fini(&b);
    }
}

/* conv_set_precise: never Winograd, GEMM instead (bit for bit the forced
 * GEMM results), weights prepared before the switch are ignored, narrow
 * layers keep DIRECT, and switching back restores Winograd. */
static void test_precise(void **state)
{
    (void)state;
    static const Case wide = {3, 32, 13, 13, 40, 3, 1, 1}, narrow = {2, 4, 16, 16, 4, 3, 1, 1};
    Buffers b, n;
    buffers_init(&b, &wide, 70);
    buffers_init(&n, &narrow, 71);
    const ConvShape *s = &b.s;
    size_t no = n_out(s), ni = n_inp(s), fb = conv_prepared_bytes(s, CONV_PASS_FORWARD),
           bb = conv_prepared_bytes(s, CONV_PASS_BACKWARD_INPUT);
    assert_false(conv_precise());
    assert_int_equal(conv_algo_choose(s, CONV_PASS_FORWARD), CONV_ALGO_WINOGRAD);
    assert_int_equal(conv_algo_choose(s, CONV_PASS_BACKWARD_INPUT), CONV_ALGO_WINOGRAD);
    assert_true(fb > 0 && bb > 0);
    void *pf = malloc(fb), *pb = malloc(bb);
    float *gemm_out = malloc(no * sizeof(float)), *gemm_dinp = malloc(ni * sizeof(float));
    float *out2 = malloc(no * sizeof(float)), *dinp2 = malloc(ni * sizeof(float));
    assert_true(pf && pb && gemm_out && gemm_dinp && out2 && dinp2);
    conv_weights_prepare(pf, b.weight, s, CONV_PASS_FORWARD);
    conv_weights_prepare(pb, b.weight, s, CONV_PASS_BACKWARD_INPUT);
    conv2d_forward_cpu_algo(gemm_out, b.inp, b.weight, b.bias, s, b.ws, CONV_ALGO_GEMM);
    conv2d_backward_input_cpu_algo(gemm_dinp, b.dout, b.weight, s, b.ws, CONV_ALGO_GEMM);

    conv_set_precise(true);
    assert_true(conv_precise());
    for (int pass = 0; pass < CONV_PASS_COUNT; pass++)
        assert_int_equal(conv_algo_choose(s, (ConvPass)pass), CONV_ALGO_GEMM);
    assert_int_equal(conv_algo_choose(&n.s, CONV_PASS_FORWARD), CONV_ALGO_DIRECT);
    assert_int_equal(conv_prepared_bytes(s, CONV_PASS_FORWARD), 0);
    assert_int_equal(conv_prepared_bytes(s, CONV_PASS_BACKWARD_INPUT), 0);
    conv2d_forward_cpu(b.out, b.inp, b.weight, b.bias, s, b.ws);
    conv2d_forward_prepared_cpu(out2, b.inp, b.weight, pf, b.bias, CONV_ACT_NONE_INIT, s, b.ws);
    conv2d_backward_input_cpu(b.dinp, b.dout, b.weight, s, b.ws);
    conv2d_backward_input_prepared_cpu(dinp2, b.dout, NULL, b.weight, pb, s, b.ws);
    assert_false(conv_backward_input_masks(s));
    assert_memory_equal(b.out, gemm_out, no * sizeof(float));
    assert_memory_equal(out2, gemm_out, no * sizeof(float));
    assert_memory_equal(b.dinp, gemm_dinp, ni * sizeof(float));
    assert_memory_equal(dinp2, gemm_dinp, ni * sizeof(float));

    conv_set_precise(false);
    assert_int_equal(conv_algo_choose(s, CONV_PASS_FORWARD), CONV_ALGO_WINOGRAD);
    assert_int_equal(conv_prepared_bytes(s, CONV_PASS_FORWARD), fb);
    free(pf);
    free(pb);
    free(gemm_out);
    free(gemm_dinp);
    free(out2);
    free(dinp2);
    buffers_fini(&b);
    buffers_fini(&n);
}

static void test_shape_validation(void **state)
{
    (void)state;
    ConvShape s;
    Err err = {0};
    assert_true(conv_shape_init(&s, 32, 3, 64, 64, 64, 3, 3, 1, 1, &err));
    assert_int_equal(s.OH, 64);
    assert_int_equal(s.OW, 64);
    assert_true(conv_shape_init(&s, 1, 1, 64, 64, 16, 4, 4, 2, 1, &err));
    assert_int_equal(s.OH, 32);
    assert_true(conv_shape_init(&s, 1, 16, 1, 1, 1, 4, 4, 1, 3, &err));
    assert_int_equal(s.OH, 4);
    assert_false(conv_shape_init(&s, 0, 3, 8, 8, 4, 3, 3, 1, 1, &err));
    assert_non_null(strstr(err.msg, "positive"));
    err_clear(&err);
    assert_false(conv_shape_init(&s, 1, 3, 8, 8, 4, 3, 3, 0, 1, &err));
    assert_non_null(strstr(err.msg, "stride"));
    err_clear(&err);
    assert_false(conv_shape_init(&s, 1, 3, 2, 2, 4, 5, 5, 1, 1, &err));
    assert_non_null(strstr(err.msg, "does not fit"));
    err_clear(&err);
    assert_false(conv_shape_init(&s, 1, 1 << 20, 1 << 10, 1 << 10, 4, 3, 3, 1, 1, &err));
    assert_non_null(strstr(err.msg, "too large"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_validation),
        cmocka_unit_test(test_against_reference),
        cmocka_unit_test(test_repeatable),
        cmocka_unit_test(test_prepared),
        cmocka_unit_test(test_precise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
