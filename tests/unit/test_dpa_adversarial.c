/* SPDX-License-Identifier: Apache-2.0 */
/* The WGAN-GP discriminator of the DPA adversarial ablations against PyTorch
 * (tests/fixtures/dpa/make_adversarial.py): a tiny residual18 discriminator
 * (3x16x16 images, inner dims 3, 5, 6, one output) with the reference's
 * weights, a real and a fake batch of 3 and fixed interpolation weights; one
 * discriminator step in stab(16) and one in trns(16) (fade-in 0.3, so the
 * double backward passes the fade-in). The loss and its terms must agree
 * within 1e-5 relative, every parameter gradient within 1e-4 (norm of the
 * difference over the norm); gradients the reference leaves at zero (the
 * unused fromRGB of 8 in stab) must be exactly zero. The batch is also
 * processed in parts of 2 and 1 images (accumulated gradients), with the
 * same tolerance. Then: the generator term against the fixture's wasserstein
 * term, and a checkpoint that carries the discriminator and its Adam. */
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

#include "fixture_stream.h"

#include "dpa_adversarial.h"
#include "dpa_file.h"
#include "nn_optim.h"
#include "tstream.h"

#define BATCH 3
#define RES 16
#define LOSS_TOLERANCE 1e-5
#define GRAD_TOLERANCE 1e-4

static bool meta_is(const TRecord *r, const char *key, const char *value)
{
    const char *v = trecord_meta_get(r, key);
    return value ? v && strcmp(v, value) == 0 : v == NULL;
}

// The record of a kind, name (or NULL) and step (or NULL).
static const TRecord *find(const Fixture *f, const char *kind, const char *name, const char *step)
{
    for (int i = 0; i < f->n; i++)
        if (meta_is(&f->recs[i], "kind", kind) && (!name || meta_is(&f->recs[i], "name", name)) &&
            meta_is(&f->recs[i], "step", step))
            return &f->recs[i];
    fail_msg("the fixture has no %s %s %s", kind, name ? name : "", step ? step : "");
    return NULL;
}

static DpaModel *tiny_ddis(const Fixture *f)
{
    DpaArch a = {.enc_type = DPA_RESIDUAL18, .dec_type = DPA_RESIDUAL18, .image_dim = 3, .max_res = RES,
                 .latent_res = 1, .latent_dim = 1, .enc_dims = {3, 5, 6}, .n_enc = 3, .dec_dims = {3, 5, 6},
                 .n_dec = 3};
    Err err = {0};
    DpaModel *m = dpa_model_new_encoder(nn_backend_cpu(), &a, 8, "ddis", &err);
    if (!m)
        fail_msg("%s", err.msg);
    Params *p = dpa_model_params(m);
    int found = 0;
    for (int i = 0; i < f->n; i++) {
        if (!meta_is(&f->recs[i], "kind", "param"))
            continue;
        const char *name = trecord_meta_get(&f->recs[i], "name");
        int k = params_find(p, name);
        if (k < 0)
            fail_msg("the model has no parameter %s", name);
        assert_int_equal(trecord_elements(&f->recs[i]), params_var(p, k)->value.numel);
        params_upload(p, k, f->recs[i].data);
        found++;
    }
    assert_int_equal(found, params_count(p));
    return m;
}

static double rel(double got, double ref) { return fabs(got - ref) / fmax(fabs(ref), 1e-30); }

// One discriminator step (stage, fade) in parts of `micro` images against
// fixture step `step`.
static void check_step(const Fixture *f, DpaModel *m, const char *step, PgStage stage, float fade, int64_t micro)
{
    Err err = {0};
    NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
    assert_non_null(g);
    const DpaWgan w = {.lambd = 1, .gradient_penalty = 10, .norm_penalty = 0.001, .gamma = 1};
    DpaDisTerms t;
    if (!dpa_dis_gradients(g, m, &w, find(f, "input", "real", NULL)->data, find(f, "input", "fake", NULL)->data,
                           find(f, "input", "alpha", NULL)->data, BATCH, stage, RES, fade, micro, &t, &err))
        fail_msg("%s", err.msg);
    const double ref = *(const float *)find(f, "loss", NULL, step)->data;
    const double terms[3] = {t.wass, t.norm, t.gp};
    const char *names[3] = {"wass", "norm", "gp"};
    printf("  step %s, parts of %lld: loss %.8g (reference %.8g), wass %.6g, norm %.6g, gp %.6g\n", step,
           (long long)micro, t.loss, ref, t.wass, t.norm, t.gp);
    if (rel(t.loss, ref) > LOSS_TOLERANCE)
        fail_msg("step %s: loss %.9g, reference %.9g", step, t.loss, ref);
    for (int i = 0; i < 3; i++) {
        double r = *(const float *)find(f, "term", names[i], step)->data;
        if (rel(terms[i], r) > LOSS_TOLERANCE)
            fail_msg("step %s: %s %.9g, reference %.9g", step, names[i], terms[i], r);
    }
    Params *p = dpa_model_params(m);
    double worst = 0;
    int checked = 0;
    for (int i = 0; i < f->n; i++) {
        const TRecord *rec = &f->recs[i];
        if (!meta_is(rec, "kind", "grad") || !meta_is(rec, "step", step))
            continue;
        const char *name = trecord_meta_get(rec, "name");
        int k = params_find(p, name);
        assert_true(k >= 0);
        const float *ref_g = rec->data, *got = params_grad(p, k);
        double d2 = 0, r2 = 0;
        for (int64_t j = 0; j < trecord_elements(rec); j++) {
            d2 += ((double)got[j] - ref_g[j]) * ((double)got[j] - ref_g[j]);
            r2 += (double)ref_g[j] * ref_g[j];
        }
        if (r2 == 0) {
            if (d2 != 0)
                fail_msg("step %s: %s should have no gradient", step, name);
        } else {
            double e = sqrt(d2 / r2);
            if (e > GRAD_TOLERANCE)
                fail_msg("step %s: gradient of %s off by %.3g relative", step, name, e);
            worst = fmax(worst, e);
        }
        checked++;
    }
    assert_int_equal(checked, params_count(p));
    printf("  step %s: %d parameter gradients, worst relative error %.3g\n", step, checked, worst);
    nn_graph_free(g);
}

static void test_discriminator_step(void **state)
{
    (void)state;
    Fixture f;
    fixture_load(&f, "tests/fixtures/dpa/ddis_step.ts",
                 "/usr/bin/python3 tests/fixtures/dpa/make_adversarial.py");
    DpaModel *m = tiny_ddis(&f);
    check_step(&f, m, "0", PG_STAB, 1.0f, BATCH);
    check_step(&f, m, "0", PG_STAB, 1.0f, 2);
    check_step(&f, m, "1", PG_TRNS, 0.3f, BATCH);
    check_step(&f, m, "1", PG_TRNS, 0.3f, 1);
    dpa_model_free(m);
    fixture_fini(&f);
}

// -mean D(fake) - (-mean D(real)) = mean D(real) - mean D(fake) = W, and
// the fixture's wass term is -lambd W with lambd 1.
static void test_generator_term(void **state)
{
    (void)state;
    Fixture f;
    fixture_load(&f, "tests/fixtures/dpa/ddis_step.ts",
                 "/usr/bin/python3 tests/fixtures/dpa/make_adversarial.py");
    DpaModel *m = tiny_ddis(&f);
    Err err = {0};
    NNGraph *g = nn_graph_new(nn_backend_cpu(), &err);
    assert_non_null(g);
    const int64_t shape[4] = {BATCH, 3, RES, RES};
    nn_graph_reset(g);
    NNVar *fake = nn_input(g, 4, shape, find(&f, "input", "fake", NULL)->data);
    NNVar *real = nn_input(g, 4, shape, find(&f, "input", "real", NULL)->data);
    nn_set_requires_grad(fake, true);
    NNVar *gf = dpa_gen_adv_loss(g, m, fake, PG_STAB, RES, 1.0f);
    NNVar *gr = dpa_gen_adv_loss(g, m, real, PG_STAB, RES, 1.0f);
    assert_true(nn_backward(g, gf, &err));
    float a, b;
    nn_var_download(g, gf, &a);
    nn_var_download(g, gr, &b);
    const double wass = *(const float *)find(&f, "term", "wass", "0")->data;
    if (fabs(((double)a - b) + wass) > 1e-5 * fmax(1.0, fabs(wass)))
        fail_msg("generator terms %.9g, %.9g do not differ by W = %.9g", a, b, -wass);
    // The gradient reaches the reconstruction.
    float *dx = malloc(BATCH * 3 * RES * RES * sizeof *dx);
    assert_non_null(dx);
    nn_var_grad_download(g, fake, dx);
    double n2 = 0;
    for (int i = 0; i < BATCH * 3 * RES * RES; i++)
        n2 += (double)dx[i] * dx[i];
    assert_true(n2 > 0);
    free(dx);
    nn_graph_free(g);
    dpa_model_free(m);
    fixture_fini(&f);
}

// A checkpoint with DpaTrainState.ddis holds the discriminator and its Adam;
// loading it without asking for them ignores them; asking a checkpoint
// without them fails plainly.
static void test_checkpoint_with_discriminator(void **state)
{
    (void)state;
    Err err = {0};
    DpaArch ae = {.enc_type = DPA_RESIDUAL18, .dec_type = DPA_RESIDUAL18, .image_dim = 1, .max_res = 8,
                  .latent_res = 1, .latent_dim = 4, .enc_dims = {4, 4}, .n_enc = 2, .dec_dims = {4, 4}, .n_dec = 2};
    DpaArch da = ae;
    da.latent_dim = 1;
    DpaModel *m = dpa_model_new(nn_backend_cpu(), &ae, 8, &err), *m2 = dpa_model_new(nn_backend_cpu(), &ae, 8, &err);
    DpaModel *d = dpa_model_new_encoder(nn_backend_cpu(), &da, 8, "ddis", &err);
    DpaModel *d2 = dpa_model_new_encoder(nn_backend_cpu(), &da, 8, "ddis", &err);
    assert_true(m && m2 && d && d2);
    dpa_model_init(m, 1);
    dpa_model_init(d, 2);
    NNAdam adam, adam2, dadam, dadam2;
    assert_true(nn_adam_init(&adam, dpa_model_params(m), 1e-3, 0.9, 0.999, 1e-8, &err));
    assert_true(nn_adam_init(&adam2, dpa_model_params(m2), 1e-3, 0.9, 0.999, 1e-8, &err));
    assert_true(nn_adam_init(&dadam, dpa_model_params(d), 1e-3, 0.9, 0.999, 1e-8, &err));
    assert_true(nn_adam_init(&dadam2, dpa_model_params(d2), 1e-3, 0.9, 0.999, 1e-8, &err));
    int64_t nd = params_block_floats(dpa_model_params(d));
    for (int64_t i = 0; i < nd; i++)
        dadam.m[i] = (float)i * 1e-3f, dadam.v[i] = (float)i * 1e-7f;
    adam.t = 9;
    dadam.t = 18;
    DpaTrainState st = {.pg = {.stage = PG_STAB, .res = 8, .progress = 0.5, .delta = 0.25, .stage_iter = 2,
                               .global_iter = 2},
                        .sampler = {.seed = 1, .n = 10, .batch = 2, .epoch = 0, .position = 6},
                        .adam_t = 9, .n_images = 10, .data_hash = 7, .ddis = d, .ddis_adam = &dadam};
    Config *c = config_new(&err);
    assert_true(config_set(c, "model", "dpa", "test", &err));
    char path[] = "/tmp/adkit-ddis-ckpt-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_true(dpa_file_save(path, c, m, &st, &adam, &err));
    DpaTrainState back = {.ddis = d2, .ddis_adam = &dadam2};
    if (!dpa_file_load(path, m2, &back, &adam2, &err))
        fail_msg("%s", err.msg);
    assert_memory_equal(params_values(dpa_model_params(d)), params_values(dpa_model_params(d2)),
                        (size_t)nd * sizeof(float));
    assert_memory_equal(dadam.m, dadam2.m, (size_t)nd * sizeof(float));
    assert_memory_equal(dadam.v, dadam2.v, (size_t)nd * sizeof(float));
    assert_int_equal(dadam2.t, 18);
    assert_int_equal(adam2.t, 9);
    // Without asking for the discriminator: the autoencoder alone loads.
    DpaTrainState plain = {0};
    assert_true(dpa_file_load(path, m2, &plain, &adam2, &err));
    assert_true(dpa_file_load(path, m2, NULL, NULL, &err));
    // A model file has no discriminator.
    assert_true(dpa_file_save(path, c, m, NULL, NULL, &err));
    assert_false(dpa_file_load(path, m2, &back, &adam2, &err));
    // A checkpoint without one, asked for one.
    st.ddis = NULL;
    st.ddis_adam = NULL;
    assert_true(dpa_file_save(path, c, m, &st, &adam, &err));
    err_clear(&err);
    assert_false(dpa_file_load(path, m2, &back, &adam2, &err));
    assert_non_null(strstr(err.msg, "no discriminator"));
    unlink(path);
    config_free(c);
    nn_adam_fini(&adam);
    nn_adam_fini(&adam2);
    nn_adam_fini(&dadam);
    nn_adam_fini(&dadam2);
    dpa_model_free(m);
    dpa_model_free(m2);
    dpa_model_free(d);
    dpa_model_free(d2);
}

// The discriminator's parameter names and count (spec 3.1, 3.7).
static void test_names(void **state)
{
    (void)state;
    Err err = {0};
    DpaArch a = {.enc_type = DPA_RESIDUAL18, .dec_type = DPA_RESIDUAL18, .image_dim = 3, .max_res = 64,
                 .latent_res = 1, .latent_dim = 1, .enc_dims = {4, 4, 4, 4, 4, 4, 4}, .n_enc = 7,
                 .dec_dims = {4, 4, 4, 4, 4, 4, 4}, .n_dec = 7};
    DpaModel *m = dpa_model_new_encoder(nn_backend_cpu(), &a, 64, "ddis", &err);
    assert_non_null(m);
    Params *p = dpa_model_params(m);
    assert_int_equal(params_elements(p), 3137); // camelyon16's discriminator, test_dpa_config.c
    assert_int_equal(dpa_model_stab_params(m, true, 64), 3137);
    assert_true(params_find(p, "ddis.res_64.0.model.2.model.0.weight") >= 0);
    assert_true(params_find(p, "ddis.res_4.1.model.0.bias") >= 0);
    for (int i = 0; i < params_count(p); i++)
        assert_int_equal(strncmp(params_name(p, i), "ddis.", 5), 0);
    dpa_model_free(m);
    assert_null(dpa_model_new_encoder(nn_backend_cpu(), &a, 64, "dec", &err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_discriminator_step),
        cmocka_unit_test(test_generator_term),
        cmocka_unit_test(test_checkpoint_with_discriminator),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
