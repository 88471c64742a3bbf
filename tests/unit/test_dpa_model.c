/* SPDX-License-Identifier: Apache-2.0 */
/* dpa_model: parameter counts and names of the paper's networks (spec
 * dpa-piad.md 3.6, 3.7), initialisation statistics (3.4), stab/trns shapes
 * (3.5), MixResolution values (4.3), and the checkpoint round trip. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dpa_file.h"
#include "dpa_model.h"
#include "nn_optim.h"

static DpaArch arch(int dim, int latent_res, int latent_dim, const int64_t *enc, int nenc, const int64_t *dec, int ndec)
{
    DpaArch a = {.enc_type = DPA_RESIDUAL18, .dec_type = DPA_RESIDUAL18, .image_dim = dim, .max_res = 64,
                 .latent_res = latent_res, .latent_dim = latent_dim, .n_enc = nenc, .n_dec = ndec};
    memcpy(a.enc_dims, enc, (size_t)nenc * sizeof *enc);
    memcpy(a.dec_dims, dec, (size_t)ndec * sizeof *dec);
    return a;
}

static void check_counts(const DpaArch *a, int min_res, int64_t enc_expected, int64_t dec_expected)
{
    Err err = {0};
    DpaModel *m = dpa_model_new(nn_backend_cpu(), a, min_res, &err);
    assert_non_null(m);
    for (int r = a->max_res; r >= min_res; r /= 2) {
        assert_int_equal(dpa_model_stab_params(m, true, r), dpa_encoder_params(a, r));
        assert_int_equal(dpa_model_stab_params(m, false, r), dpa_decoder_params(a, r));
    }
    assert_int_equal(dpa_model_stab_params(m, true, a->max_res), enc_expected);
    assert_int_equal(dpa_model_stab_params(m, false, a->max_res), dec_expected);
    if (min_res == a->max_res) // wo_pg: the model holds exactly the stab networks
        assert_int_equal(params_elements(dpa_model_params(m)), enc_expected + dec_expected);
    dpa_model_free(m);
}

static void test_param_counts(void **state)
{
    (void)state;
    int64_t four[] = {4, 4, 4, 4}, w64[] = {64, 64, 64, 64, 64}, w16[] = {16, 16, 16, 16, 16};
    DpaArch cam = arch(3, 8, 4, four, 4, four, 4);
    check_counts(&cam, 64, 2776, 2183);  // camelyon16 wo_pg
    check_counts(&cam, 16, 2776, 2183);  // camelyon16 pg
    DpaArch ap = arch(1, 1, 64, w64, 5, w64, 5);
    check_counts(&ap, 64, 804800, 657025); // nih AP wo_pg
    int64_t apenc[] = {32, 32, 64, 64, 64}, apdec[] = {64, 64, 64, 32, 32};
    DpaArch appg = arch(1, 1, 64, apenc, 5, apdec, 5);
    check_counts(&appg, 8, 566720, 446593); // nih AP pg, stab64
    DpaArch pa = arch(1, 1, 16, w16, 5, w16, 5);
    check_counts(&pa, 64, 50672, 41377); // nih PA
    DpaArch uns = arch(1, 4, 64, w64, 5, w64, 5);
    check_counts(&uns, 64, 813056, 665281); // nih unsupervised
    DpaArch r9 = ap;
    r9.enc_type = r9.dec_type = DPA_RESIDUAL9;
    check_counts(&r9, 64, dpa_encoder_params(&r9, 64), dpa_decoder_params(&r9, 64));
    DpaArch reg = ap; // the regular family (3.3): counts in test_dpa_regular.c
    reg.enc_type = reg.dec_type = DPA_REGULAR;
    check_counts(&reg, 16, dpa_encoder_params(&reg, 64), dpa_decoder_params(&reg, 64));
}

static void test_names(void **state)
{
    (void)state;
    int64_t four[] = {4, 4, 4, 4}, w64[] = {64, 64, 64, 64, 64};
    Err err = {0};
    DpaArch cam = arch(3, 8, 4, four, 4, four, 4);
    DpaModel *m = dpa_model_new(nn_backend_cpu(), &cam, 16, &err);
    assert_non_null(m);
    Params *p = dpa_model_params(m);
    const char *names[] = {"enc.res_64.0.model.2.model.0.weight", "enc.res_64.1.model.1.model.0.bias",
                           "enc.preprocess_res_64.0.model.0.weight", "enc.preprocess_res_16.2.model.2.model.0.weight",
                           "enc.res_8.model.1.model.0.weight", "dec.res_8.model.2.model.0.bias",
                           "dec.res_64.0.model.3.model.0.weight", "dec.postprocess_res_32.1.model.0.weight"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_true(params_find(p, names[i]) >= 0);
    assert_true(params_find(p, "enc.preprocess_res_8.0.model.0.weight") < 0); // below initial_image_res
    dpa_model_free(m);
    DpaArch ap = arch(1, 1, 64, w64, 5, w64, 5);
    int64_t enc8[] = {8, 8, 8, 16, 16};
    memcpy(ap.enc_dims, enc8, sizeof enc8);
    m = dpa_model_new(nn_backend_cpu(), &ap, 64, &err);
    assert_non_null(m);
    p = dpa_model_params(m);
    assert_true(params_find(p, "enc.res_4.1.model.0.weight") >= 0);
    assert_true(params_find(p, "dec.res_4.1.model.0.weight") >= 0);
    assert_true(params_find(p, "enc.res_16.0.skipcon.1.model.0.weight") >= 0); // 8 -> 16 channels at 16 -> 8
    dpa_model_free(m);
}

static void test_init_statistics(void **state)
{
    (void)state;
    int64_t w64[] = {64, 64, 64, 64, 64};
    Err err = {0};
    DpaArch ap = arch(1, 1, 64, w64, 5, w64, 5);
    DpaModel *m = dpa_model_new(nn_backend_cpu(), &ap, 64, &err);
    assert_non_null(m);
    dpa_model_init(m, 7);
    Params *p = dpa_model_params(m);
    int w = params_find(p, "enc.res_32.1.model.1.model.0.weight"), b = params_find(p, "enc.res_32.1.model.1.model.0.bias");
    const float *wv = params_data(p, w), *bv = params_data(p, b);
    int64_t n = 64 * 64 * 9;
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++)
        s += wv[i], s2 += (double)wv[i] * wv[i];
    double sd = sqrt(s2 / n - (s / n) * (s / n)), expect = 1.3867504905630728 / sqrt(64.0 * 9);
    assert_true(fabs(s / n) < 4 * expect / sqrt((double)n));
    assert_true(fabs(sd / expect - 1) < 0.03);
    double bound = 1 / sqrt(64.0 * 9), bmax = 0;
    for (int i = 0; i < 64; i++)
        bmax = fabs(bv[i]) > bmax ? fabs(bv[i]) : bmax;
    assert_true(bmax <= bound && bmax > 0.5 * bound);
    // Same seed, same weights; another seed, others.
    float first = wv[0];
    dpa_model_init(m, 7);
    assert_true(params_data(p, w)[0] == first);
    dpa_model_init(m, 8);
    assert_true(params_data(p, w)[0] != first);
    dpa_model_free(m);
}

static void test_stage_shapes(void **state)
{
    (void)state;
    int64_t four[] = {4, 4, 4, 4};
    Err err = {0};
    DpaArch cam = arch(3, 8, 4, four, 4, four, 4);
    DpaModel *m = dpa_model_new(nn_backend_cpu(), &cam, 16, &err);
    dpa_model_init(m, 1);
    NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
    assert_non_null(g);
    int res[] = {16, 32, 32, 64, 64};
    PgStage stages[] = {PG_STAB, PG_TRNS, PG_STAB, PG_TRNS, PG_STAB};
    for (int i = 0; i < 5; i++) {
        nn_graph_reset(g);
        NNVar *x = nn_input(g, 4, (int64_t[]){2, 3, res[i], res[i]}, NULL);
        NNVar *z = dpa_encode(g, m, x, stages[i], res[i], 0.25f);
        NNVar *y = dpa_decode(g, m, z, stages[i], res[i], 0.25f);
        assert_true(nn_graph_ok(g, &err));
        assert_int_equal(z->value.ndim, 4);
        assert_int_equal(z->value.shape[1], 4);
        assert_int_equal(z->value.shape[2], 8);
        assert_int_equal(y->value.shape[1], 3);
        assert_int_equal(y->value.shape[2], res[i]);
        assert_int_equal(y->value.shape[3], res[i]);
    }
    nn_graph_free(g);
    dpa_model_free(m);
}

// 4.3: downscale by s blends the two middle pixels of each s-block.
static void test_mix_resolution(void **state)
{
    (void)state;
    Err err = {0};
    NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
    float x[16 * 16];
    for (int i = 0; i < 256; i++)
        x[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
    NNVar *in = nn_input(g, 4, (int64_t[]){1, 1, 16, 16}, x);
    NNVar *s4 = dpa_mix_resolution(g, in, 16, PG_STAB, 4, 1.0f);
    NNVar *t8 = dpa_mix_resolution(g, in, 16, PG_TRNS, 8, 0.25f);
    assert_true(nn_graph_ok(g, &err));
    float a[16], b[64];
    nn_var_download(g, s4, a);
    nn_var_download(g, t8, b);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            const float *p = x + (4 * i + 1) * 16 + 4 * j + 1;
            float e = 0.5f * (0.5f * p[0] + 0.5f * p[1]) + 0.5f * (0.5f * p[16] + 0.5f * p[17]);
            assert_true(a[i * 4 + j] == e);
        }
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) {
            const float *p = x + 2 * i * 16 + 2 * j;
            float high = 0.5f * (0.5f * p[0] + 0.5f * p[1]) + 0.5f * (0.5f * p[16] + 0.5f * p[17]);
            float low = a[(i / 2) * 4 + j / 2];
            float e = low * (1.0f - 0.25f) + high * 0.25f;
            assert_true(fabsf(b[i * 8 + j] - e) <= 1e-6f);
        }
    nn_graph_free(g);
}

static void test_checkpoint_round_trip(void **state)
{
    (void)state;
    int64_t four[] = {4, 4, 4, 4};
    Err err = {0};
    DpaArch cam = arch(3, 8, 4, four, 4, four, 4);
    DpaModel *m = dpa_model_new(nn_backend_cpu(), &cam, 32, &err), *m2 = dpa_model_new(nn_backend_cpu(), &cam, 32, &err);
    assert_non_null(m2);
    dpa_model_init(m, 3);
    NNAdam adam, adam2;
    assert_true(nn_adam_init(&adam, dpa_model_params(m), 1e-3, 0.9, 0.999, 1e-8, &err));
    assert_true(nn_adam_init(&adam2, dpa_model_params(m2), 1e-3, 0.9, 0.999, 1e-8, &err));
    int64_t nb = params_block_floats(dpa_model_params(m));
    for (int64_t i = 0; i < nb; i++)
        adam.m[i] = (float)i * 1e-3f, adam.v[i] = (float)i * 1e-6f;
    adam.t = 17;
    DpaTrainState st = {.pg = {.stage = PG_TRNS, .res = 64, .progress = 0.1 + 0.2, .delta = 1.0 / 3,
                               .stage_iter = 5, .global_iter = 12345},
                        .sampler = {.seed = 99, .n = 500, .batch = 32, .epoch = 3, .position = 64},
                        .adam_t = 17, .n_images = 500, .data_hash = 0xfedcba9876543210ULL,
                        .display = {4, 3, 2, 1}, .ndisplay = 4};
    double log[2 * DPA_LOG_COLUMNS] = {10, 0, 16, 1.0 / 3, 0.125, 99.5, 20, 1, 32, 0.1, 0.0625, 101.25};
    st.log = log;
    st.nlog = 2;
    Config *c = config_new(&err);
    assert_true(config_set(c, "model", "dpa", "test", &err));
    char path[] = "/tmp/adkit-dpa-ckpt-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_true(dpa_file_save(path, c, m, &st, &adam, &err));
    DpaTrainState back = {0};
    assert_true(dpa_file_load(path, m2, &back, &adam2, &err));
    Params *p = dpa_model_params(m), *p2 = dpa_model_params(m2);
    assert_memory_equal(params_values(p), params_values(p2), (size_t)nb * sizeof(float));
    assert_memory_equal(adam.m, adam2.m, (size_t)nb * sizeof(float));
    assert_memory_equal(adam.v, adam2.v, (size_t)nb * sizeof(float));
    assert_int_equal(adam2.t, 17);
    assert_true(back.pg.progress == st.pg.progress && back.pg.delta == st.pg.delta);
    assert_int_equal(back.pg.stage, PG_TRNS);
    assert_int_equal(back.pg.global_iter, 12345);
    assert_int_equal(back.sampler.position, 64);
    assert_int_equal(back.sampler.seed, 99);
    assert_true(back.data_hash == st.data_hash);
    assert_int_equal(back.ndisplay, 4);
    assert_int_equal(back.display[3], 1);
    assert_int_equal(back.nlog, 2);
    assert_memory_equal(back.log, log, sizeof log); // the loss log, bit for bit
    free(back.log);
    // A model file (no state) is not a checkpoint.
    assert_true(dpa_file_save(path, c, m, NULL, NULL, &err));
    assert_false(dpa_file_load(path, m2, &back, &adam2, &err));
    assert_non_null(strstr(err.msg, "not a checkpoint"));
    unlink(path);
    config_free(c);
    nn_adam_fini(&adam);
    nn_adam_fini(&adam2);
    dpa_model_free(m);
    dpa_model_free(m2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_param_counts),     cmocka_unit_test(test_names),
        cmocka_unit_test(test_init_statistics),  cmocka_unit_test(test_stage_shapes),
        cmocka_unit_test(test_mix_resolution),   cmocka_unit_test(test_checkpoint_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
