/* SPDX-License-Identifier: Apache-2.0 */
/* nn_arena (release, marks, merging) and the graph features built on it:
 * rewinding a step and freeing intermediate gradients. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nn.h"
#include "nn_arena.h"
#include "params.h"

static void test_release_reuses_same_size(void **state)
{
    (void)state;
    Err err = {0};
    NNArena *a = nn_arena_new(malloc, free, &err);
    assert_non_null(a);
    void *p = nn_arena_alloc(a, 1000, &err), *q = nn_arena_alloc(a, 5000, &err);
    assert_non_null(p);
    assert_non_null(q);
    size_t peak = nn_arena_high_water(a);
    nn_arena_release(a, p, 1000);
    // Another size does not take the block; the same (aligned) size does.
    void *r = nn_arena_alloc(a, 3000, &err);
    assert_true(r != p);
    assert_ptr_equal(nn_arena_alloc(a, 1000 - 10, &err), p);
    assert_true(nn_arena_high_water(a) < peak + 3000 + 64 + 1000);
    nn_arena_free(a);
}

static void test_rewind_and_merge(void **state)
{
    (void)state;
    Err err = {0};
    NNArena *a = nn_arena_new(malloc, free, &err);
    for (int step = 0; step < 3; step++) {
        unsigned char *keep = nn_arena_alloc(a, 100, &err);
        memset(keep, 7, 100);
        NNArenaMark m = nn_arena_mark(a);
        // Enough to need new chunks in the first step.
        for (int i = 0; i < 6; i++)
            assert_non_null(nn_arena_alloc(a, (size_t)1 << 20, &err));
        nn_arena_rewind(a, m);
        unsigned char *after = nn_arena_alloc(a, 100, &err);
        assert_true(after > keep && after < keep + 200); // right after keep, in its chunk
        for (int i = 0; i < 100; i++)
            assert_int_equal(keep[i], 7);
        // After the rewind the chunks already there are used again.
        int chunks = nn_arena_chunks(a);
        for (int i = 0; i < 6; i++)
            assert_non_null(nn_arena_alloc(a, (size_t)1 << 20, &err));
        assert_int_equal(nn_arena_chunks(a), chunks);
        nn_arena_reset(a);
        // One block, large enough for the whole step from then on.
        assert_int_equal(nn_arena_chunks(a), 1);
    }
    nn_arena_free(a);
}

// Parameter gradients are the same bits with and without freeing the
// intermediate ones, and the peak is lower.
static void test_free_grads(void **state)
{
    (void)state;
    Err err = {0};
    const NNBackend *be = nn_backend_cpu();
    float grads[2][8 * 8 * 9 + 8];
    size_t peak[2];
    for (int mode = 0; mode < 2; mode++) {
        Params *p = params_new(be, true, &err);
        int w = params_add(p, "w", 4, (int64_t[]){8, 8, 3, 3}, &err), b = params_add(p, "b", 1, (int64_t[]){8}, &err);
        assert_true(params_alloc(p, &err));
        float *host = malloc(sizeof grads[0]);
        for (size_t i = 0; i < sizeof grads[0] / sizeof(float); i++)
            host[i] = (float)((int)(i * 37 % 101) - 50) / 400.0f;
        params_upload(p, w, host);
        params_upload(p, b, host + 8 * 8 * 9);
        NNGraph *g = nn_graph_new(be, &err);
        nn_graph_set_free_grads(g, mode == 1);
        float x[2 * 8 * 12 * 12];
        for (size_t i = 0; i < sizeof x / sizeof *x; i++)
            x[i] = (float)((int)(i * 53 % 97) - 48) / 50.0f;
        params_zero_grad(p);
        NNVar *h = nn_input(g, 4, (int64_t[]){2, 8, 12, 12}, x);
        for (int layer = 0; layer < 4; layer++)
            h = nn_leaky_relu(g, nn_conv2d(g, h, params_var(p, w), params_var(p, b), 1, 1), 0.2f);
        NNVar *loss = nn_mean(g, nn_square(g, h));
        assert_true(nn_backward(g, loss, &err));
        if (mode == 1)
            assert_null(h->grad); // given back
        memcpy(grads[mode], params_grads(p), sizeof grads[mode]);
        peak[mode] = nn_graph_arena_bytes(g);
        nn_graph_free(g);
        params_free(p);
        free(host);
    }
    assert_memory_equal(grads[0], grads[1], sizeof grads[0]);
    assert_true(peak[1] < peak[0]);
}

// A rewound forward leaves the tape and the values made before it intact.
static void test_graph_rewind(void **state)
{
    (void)state;
    Err err = {0};
    NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
    float x[64];
    for (int i = 0; i < 64; i++)
        x[i] = (float)i - 31.5f;
    NNVar *a = nn_input(g, 2, (int64_t[]){8, 8}, x);
    int64_t len = nn_graph_tape_length(g);
    NNGraphMark m = nn_graph_mark(g);
    NNVar *t = nn_relu(g, nn_scale(g, a, 2.0f));
    assert_non_null(t);
    nn_graph_rewind(g, m);
    assert_int_equal(nn_graph_tape_length(g), len);
    NNVar *b = nn_relu(g, a);
    float got[64];
    nn_var_download(g, b, got);
    for (int i = 0; i < 64; i++)
        assert_true(got[i] == (x[i] > 0 ? x[i] : 0.0f));
    nn_var_download(g, a, got);
    assert_memory_equal(got, x, sizeof x);
    assert_true(nn_graph_ok(g, &err));
    nn_graph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_release_reuses_same_size),
        cmocka_unit_test(test_rewind_and_merge),
        cmocka_unit_test(test_free_grads),
        cmocka_unit_test(test_graph_rewind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
