/* SPDX-License-Identifier: Apache-2.0 */
/* The regular DPA encoder/decoder (spec dpa-piad.md 3.3) against PyTorch
 * (tests/fixtures/dpa_regular/make_fixtures.py): parameter counts and
 * state-dict names, stab and trns forwards with imported weights, for zero
 * and reflect padding, avg and max pooling, nearest and bilinear
 * upsampling, with and without WScale, instance and pixel norm, the
 * minibatch stddev layer and normalize_latents, batch norm in training and
 * evaluation mode; and residual9 with the options the residual families
 * take (norm, pad_type, upsample_mode). Then shapes and gradients across the
 * stages of progressive growing, and the ConvBlock initialisation. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture_stream.h"

#include "dpa_model.h"
#include "nn_init.h"
#include "tstream.h"

#define FIXTURE_VERSION 1

static DpaArch fixture_arch(const char *key, int *min_res)
{
    DpaArch a = {.enc_type = DPA_REGULAR, .dec_type = DPA_REGULAR, .max_res = 16};
    *min_res = 8;
    if (key[0] == 'a' || key[0] == 'c' || key[0] == 'e' || key[0] == 'g') {
        a.image_dim = 1, a.latent_res = 1, a.latent_dim = 8, a.n_enc = a.n_dec = 3;
        memcpy(a.enc_dims, (int64_t[]){4, 6, 8}, 3 * sizeof(int64_t));
        memcpy(a.dec_dims, (int64_t[]){8, 6, 4}, 3 * sizeof(int64_t));
    } else {
        a.image_dim = 3, a.latent_res = 4, a.latent_dim = 5, a.n_enc = a.n_dec = 3;
        memcpy(a.enc_dims, (int64_t[]){3, 4, 6}, 3 * sizeof(int64_t));
        memcpy(a.dec_dims, (int64_t[]){6, 4, 3}, 3 * sizeof(int64_t));
        a.pad_type = DPA_PAD_REFLECT, a.pool = DPA_POOL_MAX, a.upsample = DPA_UPSAMPLE_BILINEAR, a.use_wscale = true;
    }
    if (key[0] == 'c')
        a.latent_res = 4, a.norm = DPA_NORM_IN, a.use_mbstddev = a.normalize_latents = true;
    if (key[0] == 'd')
        a.norm = DPA_NORM_PIXEL, a.use_mbstddev = true;
    if (key[0] == 'e' || key[0] == 'g') { // residual9 with the options it takes
        a.enc_type = a.dec_type = DPA_RESIDUAL9;
        a.norm = DPA_NORM_IN, a.pad_type = DPA_PAD_REFLECT, a.upsample = DPA_UPSAMPLE_BILINEAR;
    }
    if (key[0] == 'f' || key[0] == 'g')
        a.norm = DPA_NORM_BN;
    return a;
}

static const TRecord *find_opt(const Fixture *f, const char *key, const char *kind)
{
    for (int i = 0; i < f->n; i++) {
        const char *k = trecord_meta_get(&f->recs[i], "kind"), *c = trecord_meta_get(&f->recs[i], "config");
        if (k && c && !strcmp(k, kind) && !strcmp(c, key))
            return &f->recs[i];
    }
    return NULL;
}

static const TRecord *find(const Fixture *f, const char *key, const char *kind)
{
    const TRecord *r = find_opt(f, key, kind);
    if (!r)
        fail_msg("no %s record of configuration %s in the fixture", kind, key);
    return r;
}

// Float32 forwards with another summation order: the difference is a few
// ulps of the largest activations, so compare against the output's scale.
static void expect_close(const NNGraph *g, const NNVar *v, const TRecord *want, const char *what)
{
    int64_t n = trecord_elements(want);
    assert_int_equal(v->value.numel, n);
    float *got = malloc((size_t)n * sizeof *got);
    assert_non_null(got);
    nn_var_download(g, v, got);
    const float *w = (const float *)want->data;
    double scale = 0, worst = 0;
    for (int64_t i = 0; i < n; i++)
        scale = fabs(w[i]) > scale ? fabs(w[i]) : scale;
    for (int64_t i = 0; i < n; i++)
        worst = fabs(got[i] - w[i]) > worst ? fabs(got[i] - w[i]) : worst;
    free(got);
    if (!(worst <= 1e-5 * (scale > 1 ? scale : 1)))
        fail_msg("%s: max difference %g (output scale %g)", what, worst, scale);
}

static void check_config(const Fixture *f, const char *key)
{
    int min_res;
    DpaArch a = fixture_arch(key, &min_res);
    Err err = {0};
    DpaModel *m = dpa_model_new(nn_backend_cpu(), &a, min_res, &err);
    if (!m)
        fail_msg("%s", err.msg);
    Params *p = dpa_model_params(m);
    const TRecord *count = find_opt(f, key, "count"); // regular configurations only
    if (count) {
        const float *c = (const float *)count->data;
        assert_int_equal(dpa_encoder_params(&a, a.max_res), (int64_t)c[0]);
        assert_int_equal(dpa_decoder_params(&a, a.max_res), (int64_t)c[1]);
        assert_int_equal(dpa_model_stab_params(m, true, a.max_res), (int64_t)c[0]);
        assert_int_equal(dpa_model_stab_params(m, false, a.max_res), (int64_t)c[1]);
    }
    // Every state-dict entry by name and shape, and nothing else.
    int loaded = 0;
    for (int i = 0; i < f->n; i++) {
        const char *k = trecord_meta_get(&f->recs[i], "kind"), *cf = trecord_meta_get(&f->recs[i], "config");
        if (strcmp(k, "param") != 0 || strcmp(cf, key) != 0)
            continue;
        int rc = params_load_record(p, &f->recs[i], &err);
        if (rc != 1)
            fail_msg("%s: %s", trecord_meta_get(&f->recs[i], "name"), rc < 0 ? err.msg : "not in the model");
        loaded++;
    }
    assert_int_equal(loaded, params_count(p));

    const TRecord *in = find(f, key, "input");
    NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
    assert_non_null(g);
    nn_graph_set_grad(g, false);
    NNVar *x = nn_input(g, 4, in->dims, (const float *)in->data);
    NNVar *z = dpa_encode(g, m, x, PG_STAB, a.max_res, 1.0f);
    NNVar *y = dpa_decode(g, m, z, PG_STAB, a.max_res, 1.0f);
    if (!nn_graph_ok(g, &err))
        fail_msg("%s", err.msg);
    expect_close(g, z, find(f, key, "code"), "code");
    expect_close(g, y, find(f, key, "output"), "stab output");
    if (a.norm == DPA_NORM_BN) {
        // The training-mode forward updated the running statistics; then
        // evaluation mode normalises with them.
        int after = 0;
        for (int i = 0; i < f->n; i++) {
            const TRecord *r = &f->recs[i];
            if (strcmp(trecord_meta_get(r, "kind"), "after") != 0 || strcmp(trecord_meta_get(r, "config"), key) != 0)
                continue;
            const float *want = (const float *)r->data, *got = params_data(p, params_find(p, trecord_meta_get(r, "name")));
            for (int64_t j = 0; j < trecord_elements(r); j++)
                if (!(fabs(got[j] - want[j]) <= 1e-5 * (1 + fabs(want[j]))))
                    fail_msg("%s[%lld]: %g, PyTorch %g", trecord_meta_get(r, "name"), (long long)j, got[j], want[j]);
            after++;
        }
        assert_true(after > 0);
        dpa_model_set_training(m, false);
        nn_graph_reset(g);
        x = nn_input(g, 4, in->dims, (const float *)in->data);
        y = dpa_decode(g, m, dpa_encode(g, m, x, PG_STAB, a.max_res, 1.0f), PG_STAB, a.max_res, 1.0f);
        if (!nn_graph_ok(g, &err))
            fail_msg("%s", err.msg);
        expect_close(g, y, find(f, key, "eval"), "evaluation-mode output");
    } else {
        NNVar *t = dpa_decode(g, m, dpa_encode(g, m, x, PG_TRNS, a.max_res, 0.3f), PG_TRNS, a.max_res, 0.3f);
        if (!nn_graph_ok(g, &err))
            fail_msg("%s", err.msg);
        expect_close(g, t, find(f, key, "trns"), "trns output");
    }
    nn_graph_free(g);
    dpa_model_free(m);
}

static void test_against_pytorch(void **state)
{
    (void)state;
    Fixture f;
    fixture_load(&f, "tests/fixtures/dpa_regular/regular.ts",
                 "/usr/bin/python3 tests/fixtures/dpa_regular/make_fixtures.py");
    int64_t version = 0;
    Err err = {0};
    assert_true(trecord_meta_get_int(find(&f, "a", "count"), "version", &version, &err));
    if (version != FIXTURE_VERSION)
        fail_msg("fixture version %lld, expected %d: rerun tests/fixtures/dpa_regular/make_fixtures.py",
                 (long long)version, FIXTURE_VERSION);
    check_config(&f, "a");
    check_config(&f, "b");
    check_config(&f, "c");
    check_config(&f, "d");
    check_config(&f, "e");
    check_config(&f, "f");
    check_config(&f, "g");
    fixture_fini(&f);
}

// Hand counts from spec 3.3 for an image 3x32x32, latent 16x1x1, 8 channels
// everywhere: encoder fromRGB 1x1 3->8 (32), res_32 and res_16 and res_8 two
// 3x3 8->8 each (6 x 584), last 3x3 8->8 (584), 4x4 8->8 (1032), 1x1 8->16
// (144); decoder 4x4 16->8 (2056), 3x3 (584), res_8/16/32 two 3x3 each
// (6 x 584), toRGB 1x1 8->3 (27).
static void test_hand_counts(void **state)
{
    (void)state;
    DpaArch a = {.enc_type = DPA_REGULAR, .dec_type = DPA_REGULAR, .image_dim = 3, .max_res = 32, .latent_res = 1,
                 .latent_dim = 16, .n_enc = 4, .n_dec = 4, .enc_dims = {8, 8, 8, 8}, .dec_dims = {8, 8, 8, 8}};
    Err err = {0};
    assert_true(dpa_arch_check(&a, &err));
    assert_int_equal(dpa_encoder_params(&a, 32), 32 + 6 * 584 + 584 + 1032 + 144);
    assert_int_equal(dpa_decoder_params(&a, 32), 2056 + 584 + 6 * 584 + 27);
    a.use_wscale = true; // one scale per conv: 10 in the encoder, 9 in the decoder
    assert_int_equal(dpa_encoder_params(&a, 32), 32 + 6 * 584 + 584 + 1032 + 144 + 10);
    assert_int_equal(dpa_decoder_params(&a, 32), 2056 + 584 + 6 * 584 + 27 + 9);
    DpaModel *m = dpa_model_new(nn_backend_cpu(), &a, 32, &err);
    assert_non_null(m);
    assert_int_equal(params_elements(dpa_model_params(m)), dpa_encoder_params(&a, 32) + dpa_decoder_params(&a, 32));
    dpa_model_free(m);
    // A regular encoder with a residual decoder, and the reverse.
    a.use_wscale = false;
    a.dec_type = DPA_RESIDUAL18;
    m = dpa_model_new(nn_backend_cpu(), &a, 32, &err);
    assert_non_null(m);
    assert_int_equal(params_elements(dpa_model_params(m)), dpa_encoder_params(&a, 32) + dpa_decoder_params(&a, 32));
    dpa_model_free(m);
}

static void test_refused_options(void **state)
{
    (void)state;
    DpaArch a = {.enc_type = DPA_REGULAR, .dec_type = DPA_REGULAR, .image_dim = 1, .max_res = 16, .latent_res = 1,
                 .latent_dim = 4, .n_enc = 3, .n_dec = 3, .enc_dims = {4, 4, 4}, .dec_dims = {4, 4, 4}};
    Err err = {0};
    assert_true(dpa_arch_check(&a, &err));
    DpaArch b = a;
    b.norm = DPA_NORM_IN; // the 4x4 conv's 1x1 maps would be zeroed
    assert_false(dpa_arch_check(&b, &err));
    err_clear(&err);
    b = a, b.enc_type = DPA_RESIDUAL18, b.use_mbstddev = true; // the original fails on it too
    assert_false(dpa_arch_check(&b, &err));
    err_clear(&err);
    b = a, b.norm = DPA_NORM_PIXEL, b.use_mbstddev = b.normalize_latents = true;
    assert_true(dpa_arch_check(&b, &err));
    b = a, b.pad_type = DPA_PAD_REFLECT; // 4x4 pad 3 on the 1x1 code
    assert_false(dpa_arch_check(&b, &err));
    assert_non_null(strstr(err.msg, "reflect"));
    err_clear(&err);
    b = a, b.max_res = 4; // no block above the last one
    assert_false(dpa_arch_check(&b, &err));
}

// Every stage of PG from 4 to 16 (latent 2x4x4 would make the first stage
// the last block alone; latent 1 starts at 4 too): shapes, and a backward
// that reaches exactly the stage's modules.
static void test_stage_shapes_and_gradients(void **state)
{
    (void)state;
    DpaArch a = {.enc_type = DPA_REGULAR, .dec_type = DPA_REGULAR, .image_dim = 3, .max_res = 16, .latent_res = 1,
                 .latent_dim = 6, .n_enc = 3, .n_dec = 3, .enc_dims = {4, 5, 6}, .dec_dims = {6, 5, 4},
                 .use_wscale = true, .pool = DPA_POOL_MAX, .upsample = DPA_UPSAMPLE_BILINEAR};
    Err err = {0};
    DpaModel *m = dpa_model_new(nn_backend_cpu(), &a, 4, &err);
    if (!m)
        fail_msg("%s", err.msg);
    dpa_model_init(m, 3);
    Params *p = dpa_model_params(m);
    NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
    int res[] = {4, 8, 8, 16, 16};
    PgStage stages[] = {PG_STAB, PG_TRNS, PG_STAB, PG_TRNS, PG_STAB};
    for (int i = 0; i < 5; i++) {
        nn_graph_reset(g);
        int r = res[i];
        float *xh = malloc((size_t)2 * 3 * r * r * sizeof *xh);
        for (int j = 0; j < 2 * 3 * r * r; j++)
            xh[j] = (float)((j * 29) % 17) / 8.0f - 1.0f;
        NNVar *x = nn_input(g, 4, (int64_t[]){2, 3, r, r}, xh);
        free(xh);
        NNVar *z = dpa_encode(g, m, x, stages[i], r, 0.4f);
        NNVar *y = dpa_decode(g, m, z, stages[i], r, 0.4f);
        NNVar *loss = nn_mean(g, nn_abs(g, nn_sub(g, y, x)));
        params_zero_grad(p);
        if (!nn_backward(g, loss, &err))
            fail_msg("stage %d: %s", i, err.msg);
        assert_int_equal(z->value.shape[1], 6);
        assert_int_equal(z->value.shape[2], 1);
        assert_int_equal(y->value.shape[1], 3);
        assert_int_equal(y->value.shape[2], r);
        // The stage's fromRGB gets a gradient; the next resolution's does not;
        // scales are constants (requires_grad=False in the original).
        char name[128];
        snprintf(name, sizeof name, "enc.preprocess_res_%d.model.0.weight", r);
        const float *gw = params_grad(p, params_find(p, name));
        assert_true(gw[0] != 0 || gw[1] != 0 || gw[2] != 0);
        if (r < 16) {
            snprintf(name, sizeof name, "dec.postprocess_res_%d.model.0.weight", 2 * r);
            assert_true(params_grad(p, params_find(p, name))[0] == 0);
        }
        snprintf(name, sizeof name, "enc.preprocess_res_%d.model.1.scale", r);
        assert_true(params_grad(p, params_find(p, name))[0] == 0);
    }
    nn_graph_free(g);
    dpa_model_free(m);
}

// The weight gradient through WScale carries the scale (conv(s x) = s conv(x)):
// compare one element with a central difference.
static double stab_loss(DpaModel *m, NNGraph *g, const float *xh)
{
    nn_graph_reset(g);
    NNVar *x = nn_input(g, 4, (int64_t[]){2, 1, 8, 8}, xh);
    NNVar *y = dpa_decode(g, m, dpa_encode(g, m, x, PG_STAB, 8, 1.0f), PG_STAB, 8, 1.0f);
    NNVar *loss = nn_mean(g, nn_square(g, nn_sub(g, y, x)));
    float v;
    nn_var_download(g, loss, &v);
    return v;
}

static void test_wscale_gradient(void **state)
{
    (void)state;
    DpaArch a = {.enc_type = DPA_REGULAR, .dec_type = DPA_REGULAR, .image_dim = 1, .max_res = 8, .latent_res = 4,
                 .latent_dim = 3, .n_enc = 2, .n_dec = 2, .enc_dims = {3, 3}, .dec_dims = {3, 3}, .use_wscale = true};
    Err err = {0};
    DpaModel *m = dpa_model_new(nn_backend_cpu(), &a, 8, &err);
    if (!m)
        fail_msg("%s", err.msg);
    dpa_model_init(m, 5);
    Params *p = dpa_model_params(m);
    int wi = params_find(p, "enc.res_8.1.model.0.weight"), si = params_find(p, "enc.res_8.1.model.1.scale");
    assert_true(wi >= 0 && si >= 0);
    // WScale normalises the initialised weight to an RMS of 1.
    const float *w = params_data(p, wi);
    double s2 = 0;
    for (int j = 0; j < 81; j++)
        s2 += (double)w[j] * w[j];
    assert_true(fabs(sqrt(s2 / 81) - 1) < 1e-5);
    float s = params_data(p, si)[0];
    double bound = nn_init_gain_leaky_relu(0.2) * sqrt(6.0 / (27 + 27));
    assert_true(s > 0.3 * bound && s < bound); // the RMS of U(-bound, bound) is bound / sqrt(3)

    float xh[2 * 64];
    for (int j = 0; j < 128; j++)
        xh[j] = (float)((j * 13) % 11) / 5.0f - 1.0f;
    NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
    nn_graph_reset(g);
    NNVar *x = nn_input(g, 4, (int64_t[]){2, 1, 8, 8}, xh);
    NNVar *y = dpa_decode(g, m, dpa_encode(g, m, x, PG_STAB, 8, 1.0f), PG_STAB, 8, 1.0f);
    NNVar *loss = nn_mean(g, nn_square(g, nn_sub(g, y, x)));
    params_zero_grad(p);
    assert_true(nn_backward(g, loss, &err));
    double analytic = params_grad(p, wi)[4];
    float *wv = params_data(p, wi);
    float w0 = wv[4], h = 1e-2f;
    wv[4] = w0 + h;
    double up = stab_loss(m, g, xh);
    wv = params_data(p, wi);
    wv[4] = w0 - h;
    double down = stab_loss(m, g, xh);
    params_data(p, wi)[4] = w0;
    double numeric = (up - down) / (2 * (double)h);
    if (!(fabs(numeric - analytic) <= 0.02 * fabs(analytic) + 1e-5))
        fail_msg("d loss / d w: analytic %g, central difference %g", analytic, numeric);
    nn_graph_free(g);
    dpa_model_free(m);
}

// ConvBlock init (1.1): xavier_uniform with the act's gain, no kaiming override.
static void test_xavier_init(void **state)
{
    (void)state;
    DpaArch a = {.enc_type = DPA_REGULAR, .dec_type = DPA_REGULAR, .image_dim = 1, .max_res = 16, .latent_res = 1,
                 .latent_dim = 32, .n_enc = 3, .n_dec = 3, .enc_dims = {32, 32, 32}, .dec_dims = {32, 32, 32}};
    Err err = {0};
    DpaModel *m = dpa_model_new(nn_backend_cpu(), &a, 16, &err);
    assert_non_null(m);
    dpa_model_init(m, 9);
    Params *p = dpa_model_params(m);
    struct {
        const char *name;
        double gain;
        int64_t n, fan_in, fan_out;
    } cases[] = {{"enc.res_16.1.model.0.weight", nn_init_gain_leaky_relu(0.2), 32 * 32 * 9, 288, 288},
                 {"enc.res_4.2.model.0.weight", 1.0, 32 * 32, 32, 32}};
    for (size_t c = 0; c < 2; c++) {
        const float *w = params_data(p, params_find(p, cases[c].name));
        double bound = cases[c].gain * sqrt(6.0 / (double)(cases[c].fan_in + cases[c].fan_out)), mx = 0, s2 = 0;
        for (int64_t j = 0; j < cases[c].n; j++) {
            mx = fabs(w[j]) > mx ? fabs(w[j]) : mx;
            s2 += (double)w[j] * w[j];
        }
        assert_true(mx <= bound && mx > 0.95 * bound);
        assert_true(fabs(sqrt(s2 / (double)cases[c].n) / (bound / sqrt(3.0)) - 1) < 0.05);
    }
    dpa_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_pytorch),   cmocka_unit_test(test_hand_counts),
        cmocka_unit_test(test_refused_options),   cmocka_unit_test(test_stage_shapes_and_gradients),
        cmocka_unit_test(test_wscale_gradient),   cmocka_unit_test(test_xavier_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
