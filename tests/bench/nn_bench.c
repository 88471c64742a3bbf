/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_bench: timings of the nn engine for tests/bench/bench_nn.sh.
 *   perceptual N ITERS: relative perceptual L1 at r42 (torchvision-layout
 *     VGG19, synthetic weights) on N x 3 x 64 x 64 images, forward and
 *     backward to the reconstruction - the part that dominates DPA
 *     training; prints images per second.
 *   overhead ITERS: a tiny 2-layer conv net step (2 x 3 x 8 x 8) with Adam,
 *     where the engine's own per-step cost dominates; prints microseconds
 *     per step and the arena chunks held (1 = no allocation in steady state).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn.h"
#include "nn_init.h"
#include "nn_loss.h"
#include "nn_optim.h"
#include "params.h"
#include "vgg.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int perceptual(int N, int iters)
{
    static const int convs[10][2] = {{3, 64},    {64, 64},   {64, 128},  {128, 128}, {128, 256},
                                     {256, 256}, {256, 256}, {256, 256}, {256, 512}, {512, 512}};
    static const int index[10] = {0, 2, 5, 7, 10, 12, 14, 16, 19, 21};
    NamedArrays w = {0}, stats = {0};
    w.items = calloc(22, sizeof *w.items);
    stats.items = calloc(2, sizeof *stats.items);
    Rng rng;
    rng_init(&rng, 1);
    for (int k = 0; k < 10; k++) {
        NamedArray *a = &w.items[w.count++], *b = &w.items[w.count++];
        const int ic = convs[k][0], oc = convs[k][1];
        a->name = malloc(32);
        b->name = malloc(32);
        snprintf(a->name, 32, "features.%d.weight", index[k]);
        snprintf(b->name, 32, "features.%d.bias", index[k]);
        a->ndim = 4;
        a->dims[0] = oc, a->dims[1] = ic, a->dims[2] = a->dims[3] = 3;
        b->ndim = 1;
        b->dims[0] = oc;
        a->data = malloc((size_t)oc * ic * 9 * sizeof(float));
        b->data = calloc((size_t)oc, sizeof(float));
        nn_init_kaiming_normal(a->data, (int64_t)oc * ic * 9, sqrt(2.0), ic * 9, &rng);
    }
    for (int k = 0; k < 2; k++) {
        NamedArray *a = &stats.items[stats.count++];
        a->name = malloc(8);
        snprintf(a->name, 8, "r42.%d", k);
        a->ndim = 1;
        a->dims[0] = 512;
        a->data = malloc(512 * sizeof(float));
        nn_init_constant(a->data, 512, k ? 2.0f : 0.5f);
    }
    Err err = {0};
    Vgg *vgg = vgg_new(nn_backend_cpu(), &w, "synthetic", &err);
    NNPerceptualLoss pl;
    NNLossLayer layer = {VGG_R42, 1.0f};
    NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
    if (!vgg || !g || !nn_perceptual_init(&pl, vgg, &stats, &layer, 1, 0.0f, NN_RELATIVE_PERCEPTUAL_L1, &err)) {
        fprintf(stderr, "nn_bench: %s\n", err.msg);
        return 1;
    }
    const int64_t shape[4] = {N, 3, 64, 64}, n = (int64_t)N * 3 * 64 * 64;
    float *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    for (int64_t i = 0; i < n; i++)
        x[i] = 2 * rng_uniform_f32(&rng) - 1, y[i] = 2 * rng_uniform_f32(&rng) - 1;
    double t0 = 0;
    // Two warm-up steps: the first grows the arena, the second faults in the
    // merged block; from the third on a step allocates nothing.
    for (int it = 0; it < iters + 2; it++) {
        if (it == 2)
            t0 = now();
        nn_graph_reset(g);
        NNVar *real = nn_input(g, 4, shape, x), *rec = nn_input(g, 4, shape, y);
        nn_set_requires_grad(rec, true);
        if (!nn_backward(g, nn_perceptual_loss(g, &pl, real, rec, NN_REDUCE_MEAN), &err)) {
            fprintf(stderr, "nn_bench: %s\n", err.msg);
            return 1;
        }
    }
    const double dt = now() - t0;
    printf("perceptual r42 fwd+bwd  batch %3d  %8.1f images/s  (%.3f s/step, arena %.0f MiB)\n", N,
           N * iters / dt, dt / iters, (double)nn_graph_arena_bytes(g) / (1 << 20));
    nn_perceptual_fini(&pl);
    nn_graph_free(g);
    vgg_free(vgg);
    named_arrays_fini(&w);
    named_arrays_fini(&stats);
    free(x);
    free(y);
    return 0;
}

static int overhead(int iters)
{
    Err err = {0};
    NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
    Params *p = params_new(nn_backend_cpu(), true, &err);
    int w1 = params_add(p, "w1", 4, (int64_t[]){4, 3, 3, 3}, &err), b1 = params_add(p, "b1", 1, (int64_t[]){4}, &err);
    int w2 = params_add(p, "w2", 4, (int64_t[]){3, 4, 3, 3}, &err), b2 = params_add(p, "b2", 1, (int64_t[]){3}, &err);
    if (!params_alloc(p, &err))
        return 1;
    Rng rng;
    rng_init(&rng, 2);
    nn_init_kaiming_normal(params_data(p, w1), 108, 1.0, 27, &rng);
    nn_init_kaiming_normal(params_data(p, w2), 108, 1.0, 36, &rng);
    NNAdam adam;
    nn_adam_init(&adam, p, 1e-3, 0.9, 0.999, 1e-8, &err);
    float x[2 * 3 * 8 * 8];
    for (int i = 0; i < 2 * 3 * 8 * 8; i++)
        x[i] = 2 * rng_uniform_f32(&rng) - 1;
    double t0 = 0;
    for (int it = 0; it < iters + 2; it++) {
        if (it == 2)
            t0 = now();
        nn_graph_reset(g);
        NNVar *in = nn_input(g, 4, (int64_t[]){2, 3, 8, 8}, x);
        NNVar *h = nn_leaky_relu(g, nn_conv2d(g, in, params_var(p, w1), params_var(p, b1), 1, 1), 0.2f);
        NNVar *y = nn_conv2d(g, h, params_var(p, w2), params_var(p, b2), 1, 1);
        params_zero_grad(p);
        if (!nn_backward(g, nn_l1_loss(g, in, y, NN_REDUCE_MEAN), &err))
            return 1;
        nn_adam_step(&adam);
    }
    const double dt = now() - t0;
    printf("tiny conv net step      %8.1f us/step  (tape %lld nodes)\n", 1e6 * dt / iters,
           (long long)nn_graph_tape_length(g));
    nn_adam_fini(&adam);
    params_free(p);
    nn_graph_free(g);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "perceptual"))
        return perceptual(atoi(argv[2]), atoi(argv[3])); // lint-allow: bench arguments from the script
    if (argc >= 3 && !strcmp(argv[1], "overhead"))
        return overhead(atoi(argv[2])); // lint-allow: bench arguments from the script
    fprintf(stderr, "usage: nn_bench perceptual N ITERS | overhead ITERS\n");
    return 2;
}
