/* SPDX-License-Identifier: Apache-2.0 */
/* DPA training steps against PyTorch (tests/fixtures/dpa/make_fixtures.py,
 * whose header explains the fixtures and the measurements behind the bounds
 * here): camelyon16 wo_pg (residual18, 3x64x64, latent 4x8x8, relative
 * perceptual L1 on r42, Adam lr 1e-3) and one progressive-growing transition
 * step (trns(32), alpha 0.3, smooth PG loss on r32).
 *
 * Teacher forcing: every step starts from the parameters of PyTorch's
 * float32 run and is compared with the float64 reference of that step (the
 * exact answer, to float32 precision): the loss; d loss / d reconstruction;
 * every parameter gradient; and every parameter gradient of a backward
 * through the DPA networks seeded with the reference's d loss / d
 * reconstruction, which isolates the networks' backward from the perceptual
 * network's. Adam on its own, fed the gradients PyTorch's Adam consumed:
 * the parameters after each step must be PyTorch's. Free running: 5 steps
 * on the C engine's own gradients, losses against PyTorch float32's.
 *
 * The teacher-forced steps run twice: with the engine's default
 * convolutions (Winograd on the perceptual network's wide layers) and with
 * conv_set_precise(true). Every bound is stated below with the numbers
 * that justify it. Errors are relative: |got - ref| / |ref| for a loss, the
 * norm of the difference over the norm of the reference for a tensor.
 *
 * The VGG19-shaped perceptual network, its feature statistics and the input
 * batches come from the integer hash formula of make_fixtures.py, reproduced
 * here bit for bit (each batch's CRC-32 is checked). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "fixture_stream.h"

#include "conv.h"
#include "dpa_losses.h"
#include "dpa_model.h"
#include "dpa_train.h"
#include "nn_optim.h"
#include "tstream.h"

#define BATCH 2
#define STEPS 5

/* Measured C values below are the worst over the steps, on AVX2 and
 * portable kernels (DPA_FIDELITY_ISA), "torch" PyTorch float32's worst on
 * the same quantity (in the fixture). */

/* The loss of a step: the requirement's 1e-5 with precise convolutions
 * (measured 3.3e-6, torch 2.7e-6). The default engine's Winograd layers
 * round ~5x coarser: 5.6e-6 on AVX2 but 9e-6 with the portable kernels, too
 * close to 1e-5 to be a bound, hence 2e-5 there. The loss is a mean of
 * ~65536 positive terms: rounding only. */
#define LOSS_BOUND_PRECISE 1e-5
#define LOSS_BOUND_DEFAULT 2e-5

/* Parameter gradients of the networks' backward seeded with the reference's
 * d loss / d rec: the requirement asks 1e-4; measured 4.6e-6 (both modes),
 * torch 4.8e-6. A flipped leaky-ReLU gate in the DPA networks would cost
 * ~2% of a bias gradient, a cancelling sum (one flips, for PyTorch float32
 * and the C engine alike, at step 2 with make_fixtures.py's pure noise()
 * batches); in these fixtures neither flips one. */
#define SEEDED_GRAD_BOUND 2e-5

/* d loss / d rec and the unseeded parameter gradients cannot meet 1e-4 in
 * float32, PyTorch's included: they switch with ~2.4 million ReLU gates and
 * max-pool choices of the perceptual network, some of whose inputs lie
 * within float32 rounding of the switching point (down to 1.3e-7 of the
 * layer's largest value in the transition step), and each flipped one moves
 * d loss / d rec by ~0.1-1% of its norm (a sum of ~65536 signed r42 terms).
 * torch: drec 6.5e-3, gradients 1.9e-2, and 7e-7 / 5e-6 on the 2 of 5 steps
 * where it flips none. Measured C: drec 1.1e-2, gradients 4.7e-2 (default;
 * precise 8.4e-3, 2.6e-2); on its flip-free steps drec 7.3e-7. The bounds
 * leave room for a few more flips and still catch an error of a term, sign
 * or scale, which moves d loss / d rec by tens of percent. */
#define DREC_BOUND 3e-2
#define GRAD_BOUND 1e-1

/* Adam fed PyTorch's gradients: elementwise, the same operations in the
 * same order, rounding only. Measured 2.2e-8. */
#define ADAM_BOUND 1e-7

/* Free running: after the first Adam step every parameter has moved by
 * ~lr = 1e-3 whatever the size of its gradient, so a gradient component
 * whose sign a flipped gate decides (see DREC_BOUND) moves its parameter by
 * 2 lr the other way, and the runs separate. PyTorch float32 against
 * float64: 7.9e-7, 1e-3, 3.2e-2, 1.6e-2, 5.8e-2 at steps 0..4; on 2 threads
 * against 1: 0, 1.2e-6, 1.5e-7, 1.2e-4, 9.2e-3. So the requirement's 1e-3
 * over 5 steps is not met by PyTorch float32 against float64 on this
 * fixture (nor on the pure-noise one, where 1 against 2 threads reaches
 * 0.25); step 0 is a forward pass (the loss bound), the later bounds are the
 * drift measured for the C engine with margin: 4.2e-3 at step 1, 0.087,
 * 0.14, 0.2 at steps 2..4 (worst of modes and kernels). */
static const double free_bounds_late[STEPS] = {0, 1e-2, 3e-1, 3e-1, 3e-1};

static void hashed(double *out, int64_t n, uint64_t salt)
{
    for (int64_t i = 0; i < n; i++) {
        uint64_t h = ((uint64_t)i * 2654435761ULL + salt * 97531ULL) % 4294967296ULL;
        out[i] = (double)((int64_t)(h % 2001) - 1000) / 1000.0;
    }
}

static const int vgg_convs[][3] = {{0, 3, 64},     {2, 64, 64},    {5, 64, 128},   {7, 128, 128},  {10, 128, 256},
                                   {12, 256, 256}, {14, 256, 256}, {16, 256, 256}, {19, 256, 512}, {21, 512, 512}};

static void add_array(NamedArrays *a, const char *name, int ndim, const int64_t *dims, const double *v, double scale,
                      double offset)
{
    NamedArray *it = &a->items[a->count++];
    it->name = strdup(name);
    it->ndim = ndim;
    int64_t n = 1;
    for (int d = 0; d < ndim; d++)
        n *= (it->dims[d] = dims[d]);
    it->data = malloc((size_t)n * sizeof(float));
    assert_non_null(it->data);
    for (int64_t i = 0; i < n; i++)
        it->data[i] = (float)(v[i] * scale + offset);
}

// The formula weights of make_fixtures.py in torchvision's layout, and the
// feature statistics of r32 and r42.
static void formula_vgg(NamedArrays *w, NamedArrays *stats)
{
    w->items = calloc(20, sizeof *w->items);
    stats->items = calloc(4, sizeof *stats->items);
    double *buf = malloc((size_t)512 * 512 * 9 * sizeof *buf);
    assert_non_null(buf);
    char name[64];
    for (int i = 0; i < 10; i++) {
        int idx = vgg_convs[i][0], cin = vgg_convs[i][1], cout = vgg_convs[i][2];
        hashed(buf, (int64_t)cout * cin * 9, (uint64_t)idx);
        snprintf(name, sizeof name, "features.%d.weight", idx);
        add_array(w, name, 4, (int64_t[]){cout, cin, 3, 3}, buf, sqrt(6.0 / (cin * 9)), 0);
        hashed(buf, cout, 1000 + (uint64_t)idx);
        snprintf(name, sizeof name, "features.%d.bias", idx);
        add_array(w, name, 1, (int64_t[]){cout}, buf, 0.01, 0);
    }
    const struct { const char *tap; int c; uint64_t salt; } st[] = {{"r32", 256, 7000}, {"r42", 512, 7100}};
    for (int i = 0; i < 2; i++) {
        hashed(buf, st[i].c, st[i].salt);
        snprintf(name, sizeof name, "%s.0", st[i].tap);
        add_array(stats, name, 4, (int64_t[]){1, st[i].c, 1, 1}, buf, 0.5, 0.6);
        hashed(buf, st[i].c, st[i].salt + 1);
        snprintf(name, sizeof name, "%s.1", st[i].tap);
        add_array(stats, name, 4, (int64_t[]){1, st[i].c, 1, 1}, buf, 0.5, 1.5);
    }
    free(buf);
}

/* make_fixtures.py batch(): 0.75 smooth(step) + 0.25 noise(step + 100) in
 * float32, smooth = hashed knots every 8 pixels (9x9 per channel),
 * bilinear at the pixel centres in float64, one axis after the other. */
static float *batch(int step)
{
    enum { RES = 64, CELL = 8, K = RES / CELL + 1, PLANES = BATCH * 3 };
    const int64_t n = (int64_t)PLANES * RES * RES;
    double *knots = malloc((size_t)PLANES * K * K * sizeof *knots), *rows = malloc((size_t)RES * K * sizeof *rows),
           *noise = malloc((size_t)n * sizeof *noise);
    float *x = malloc((size_t)n * sizeof *x);
    assert_true(knots && rows && noise && x);
    hashed(knots, (int64_t)PLANES * K * K, 5000 + (uint64_t)step);
    hashed(noise, n, 5100 + (uint64_t)step);
    int i0[RES];
    double f[RES];
    for (int i = 0; i < RES; i++) {
        double t = (i + 0.5) / CELL;
        i0[i] = (int)floor(t);
        f[i] = t - i0[i];
    }
    for (int p = 0; p < PLANES; p++) {
        const double *g = knots + (int64_t)p * K * K;
        for (int y = 0; y < RES; y++)
            for (int k = 0; k < K; k++)
                rows[y * K + k] = g[i0[y] * K + k] * (1 - f[y]) + g[(i0[y] + 1) * K + k] * f[y];
        for (int y = 0; y < RES; y++)
            for (int xx = 0; xx < RES; xx++) {
                int64_t at = ((int64_t)p * RES + y) * RES + xx;
                float smooth = (float)(rows[y * K + i0[xx]] * (1 - f[xx]) + rows[y * K + i0[xx] + 1] * f[xx]);
                float a = smooth * 0.75f, b = (float)noise[at] * 0.25f;
                x[at] = a + b;
            }
    }
    free(knots);
    free(rows);
    free(noise);
    return x;
}

static bool is(const TRecord *r, const char *kind, int step)
{
    const char *k = trecord_meta_get(r, "kind"), *s = trecord_meta_get(r, "step");
    return k && s && !strcmp(k, kind) && atoi(s) == step;
}

static const TRecord *find(const Fixture *f, const char *kind, int step)
{
    for (int i = 0; i < f->n; i++)
        if (is(&f->recs[i], kind, step))
            return &f->recs[i];
    fail_msg("no %s of step %d in the fixture", kind, step);
    return NULL;
}

static float scalar(const Fixture *f, const char *kind, int step)
{
    return *(const float *)find(f, kind, step)->data;
}

// A record of kind with one more metadata key equal to value.
static float scalar_where(const Fixture *f, const char *kind, int step, const char *key, const char *value)
{
    for (int i = 0; i < f->n; i++) {
        const char *v = trecord_meta_get(&f->recs[i], key);
        if (is(&f->recs[i], kind, step) && v && !strcmp(v, value))
            return *(const float *)f->recs[i].data;
    }
    fail_msg("no %s %s=%s of step %d in the fixture", kind, key, value, step);
    return 0;
}

static float torch_error(const Fixture *f, int step, const char *quantity)
{
    return scalar_where(f, "torch_error", step, "quantity", quantity);
}

// The step's batch, checked bit for bit against the one PyTorch used.
static float *checked_batch(const Fixture *f, int step)
{
    float *x = batch(step);
    const char *want = trecord_meta_get(find(f, "loss", step), "batch_crc");
    assert_non_null(want);
    uLong crc = crc32(0L, (const Bytef *)x, (uInt)((size_t)BATCH * 3 * 64 * 64 * sizeof *x));
    assert_int_equal(crc, strtoul(want, NULL, 10));
    return x;
}

// Norm of the difference over the norm of ref (the norm of the difference
// where ref is 0).
static double rel_error(const float *got, const float *ref, int64_t n)
{
    double d2 = 0, r2 = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)got[i] - ref[i];
        d2 += d * d;
        r2 += (double)ref[i] * ref[i];
    }
    return r2 > 0 ? sqrt(d2 / r2) : sqrt(d2);
}

// Uploads the parameters of a kind ("param") and step; every parameter of
// the model must be there.
static void set_params(DpaModel *m, const Fixture *f, int step)
{
    Params *p = dpa_model_params(m);
    int found = 0;
    for (int i = 0; i < f->n; i++) {
        if (!is(&f->recs[i], "param", step))
            continue;
        int k = params_find(p, trecord_meta_get(&f->recs[i], "name"));
        assert_true(k >= 0);
        assert_int_equal(trecord_elements(&f->recs[i]), params_var(p, k)->value.numel);
        params_upload(p, k, f->recs[i].data);
        found++;
    }
    assert_int_equal(found, params_count(p));
}

/* Worst relative error over the model's tensors of one kind and step
 * ("grad64": the gradients; "param": the values), every tensor present. */
static double worst_error(DpaModel *m, const Fixture *f, const char *kind, int step, const char **worst)
{
    Params *p = dpa_model_params(m);
    double maxerr = 0;
    int found = 0;
    for (int i = 0; i < f->n; i++) {
        if (!is(&f->recs[i], kind, step))
            continue;
        const char *name = trecord_meta_get(&f->recs[i], "name");
        int k = params_find(p, name);
        assert_true(k >= 0);
        assert_int_equal(trecord_elements(&f->recs[i]), params_var(p, k)->value.numel);
        const float *got = strcmp(kind, "param") ? params_grad(p, k) : params_data(p, k);
        double e = rel_error(got, f->recs[i].data, trecord_elements(&f->recs[i]));
        if (getenv("DPA_FIDELITY_VERBOSE"))
            printf("  %-48s err %.3g\n", name, e);
        if (e >= maxerr)
            maxerr = e, *worst = name;
        found++;
    }
    assert_int_equal(found, params_count(p));
    return maxerr;
}

typedef struct Setup {
    DpaConfig dc;
    DpaModel *m;
    DpaLosses L;
    NNGraph *g;
} Setup;

static void setup_camelyon(Setup *s, int initial, const char *layer_hi, const char *layer_lo)
{
    Err err = {0};
    memset(s, 0, sizeof *s);
    DpaConfig *dc = &s->dc;
    DpaArch a = {.enc_type = DPA_RESIDUAL18, .dec_type = DPA_RESIDUAL18, .image_dim = 3, .max_res = 64,
                 .latent_res = 8, .latent_dim = 4, .enc_dims = {4, 4, 4, 4}, .n_enc = 4, .dec_dims = {4, 4, 4, 4},
                 .n_dec = 4};
    dc->arch = a;
    dc->plan.initial_res = initial;
    dc->plan.max_res = 64;
    dc->loss = DPA_LOSS_RELATIVE_PERCEPTUAL;
    dc->use_smooth_pg = initial < 64;
    s->m = dpa_model_new(nn_backend_cpu(), &a, initial, &err);
    assert_non_null(s->m);
    NamedArrays w = {0}, stats = {0};
    formula_vgg(&w, &stats);
    s->L.cfg = *dc;
    s->L.vgg = vgg_new(nn_backend_cpu(), &w, "formula VGG19", &err);
    assert_non_null(s->L.vgg);
    for (int k = 0; (initial << k) <= 64; k++) {
        VggTap t;
        const char *tap = (initial << k) == 32 && layer_lo ? layer_lo : layer_hi;
        assert_true(vgg_tap_parse(tap, &t));
        NNLossLayer l = {t, 1.0f};
        assert_true(nn_perceptual_init(&s->L.pl[k], s->L.vgg, &stats, &l, 1, 0.0f, NN_RELATIVE_PERCEPTUAL_L1, &err));
        s->L.have[k] = true;
    }
    named_arrays_fini(&w);
    named_arrays_fini(&stats);
    s->g = nn_graph_new(nn_backend_cpu(), &err);
    assert_non_null(s->g);
}

static void setup_fini(Setup *s)
{
    nn_graph_free(s->g);
    dpa_losses_fini(&s->L);
    dpa_model_free(s->m);
}

/* A training step's forward and backward; returns the loss. With drec64
 * non-NULL: *drec_err is the relative error of d loss / d rec against it,
 * *grad_err (and *grad_worst) the worst parameter gradient error against
 * grad64, and the parameter gradients are then those of a backward through
 * the networks seeded with drec64. */
typedef struct StepCheck {
    const Fixture *f;
    int step;
    double drec_err, grad_err;
    const char *grad_worst;
} StepCheck;

static float train_step(Setup *s, const float *x, PgStage stage, int res, double progress, StepCheck *c)
{
    Err err = {0};
    NNGraph *g = s->g;
    DpaModel *m = s->m;
    nn_graph_reset(g);
    NNVar *in = nn_input(g, 4, (int64_t[]){BATCH, 3, 64, 64}, x);
    float alpha = (float)progress;
    NNVar *real = dpa_mix_resolution(g, in, 64, stage, res, alpha);
    NNVar *rec = dpa_decode(g, m, dpa_encode(g, m, real, stage, res, alpha), stage, res, alpha);
    NNVar *loss = dpa_losses_stage(g, &s->L, stage, res, progress, real, rec);
    params_zero_grad(dpa_model_params(m));
    if (!nn_backward(g, loss, &err))
        fail_msg("%s", err.msg);
    float v;
    nn_var_download(g, loss, &v);
    if (c) {
        const TRecord *ref = find(c->f, "drec64", c->step);
        int64_t n = rec->value.numel;
        assert_int_equal(trecord_elements(ref), n);
        float *got = malloc((size_t)n * sizeof *got);
        assert_non_null(got);
        nn_var_grad_download(g, rec, got);
        c->drec_err = rel_error(got, ref->data, n);
        free(got);
        c->grad_err = worst_error(m, c->f, "grad64", c->step, &c->grad_worst);
        params_zero_grad(dpa_model_params(m));
        if (!nn_backward_seeded(g, rec, ref->data, &err))
            fail_msg("%s", err.msg);
    }
    return v;
}

static const char *mode_name(bool precise)
{
    return precise ? "precise" : "default";
}

static double loss_bound(bool precise)
{
    return precise ? LOSS_BOUND_PRECISE : LOSS_BOUND_DEFAULT;
}

static void wo_pg_teacher_forced(bool precise)
{
    conv_set_precise(precise);
    Fixture f;
    fixture_load(&f, "tests/fixtures/dpa/wo_pg.ts",
                 "/usr/bin/python3 tests/fixtures/dpa/make_fixtures.py");
    Setup s;
    setup_camelyon(&s, 64, "r42", NULL);
    for (int k = 0; k < STEPS; k++) {
        set_params(s.m, &f, k);
        float *x = checked_batch(&f, k);
        StepCheck c = {.f = &f, .step = k};
        float got = train_step(&s, x, PG_STAB, 64, 1.0, &c), ref = scalar(&f, "loss64", k);
        const char *worst = "";
        double lerr = fabs(got - ref) / fabs(ref), serr = worst_error(s.m, &f, "grad64", k, &worst);
        printf("wo_pg %s step %d (C | torch float32, against float64): loss %.2g | %.2g; d loss/d rec %.2g | %.2g; "
               "gradients %.2g | %.2g (%s); seeded gradients %.2g | %.2g (%s)\n",
               mode_name(precise), k, lerr, torch_error(&f, k, "loss"), c.drec_err, torch_error(&f, k, "drec"),
               c.grad_err, torch_error(&f, k, "grad"), c.grad_worst, serr, torch_error(&f, k, "seeded_grad"), worst);
        assert_true(lerr <= loss_bound(precise));
        assert_true(c.drec_err <= DREC_BOUND);
        assert_true(c.grad_err <= GRAD_BOUND);
        assert_true(serr <= SEEDED_GRAD_BOUND);
        free(x);
    }
    setup_fini(&s);
    fixture_fini(&f);
    conv_set_precise(false);
}

static void test_wo_pg_teacher_forced(void **state)
{
    (void)state;
    wo_pg_teacher_forced(false);
}

/* The precise variants run the same code as the default ones but for GEMM
 * on the wide layers, which test_conv covers under the sanitizers: there
 * they would only add minutes. */
static void skip_under_sanitizers(void)
{
#ifdef __SANITIZE_ADDRESS__
    skip();
#endif
}

static void test_wo_pg_teacher_forced_precise(void **state)
{
    (void)state;
    skip_under_sanitizers();
    wo_pg_teacher_forced(true);
}

/* Adam alone: from PyTorch's initial parameters, fed the gradients
 * PyTorch's Adam consumed at each step, the parameters after each step
 * must be PyTorch's. */
static void test_adam_teacher_forced(void **state)
{
    (void)state;
    Fixture f;
    fixture_load(&f, "tests/fixtures/dpa/wo_pg.ts",
                 "/usr/bin/python3 tests/fixtures/dpa/make_fixtures.py");
    Err err = {0};
    DpaArch a = {.enc_type = DPA_RESIDUAL18, .dec_type = DPA_RESIDUAL18, .image_dim = 3, .max_res = 64,
                 .latent_res = 8, .latent_dim = 4, .enc_dims = {4, 4, 4, 4}, .n_enc = 4, .dec_dims = {4, 4, 4, 4},
                 .n_dec = 4};
    DpaModel *m = dpa_model_new(nn_backend_cpu(), &a, 64, &err);
    assert_non_null(m);
    Params *p = dpa_model_params(m);
    set_params(m, &f, 0);
    NNAdam adam;
    assert_true(nn_adam_init(&adam, p, 1e-3, 0.9, 0.999, 1e-8, &err));
    for (int k = 0; k < STEPS; k++) {
        params_zero_grad(p);
        int found = 0;
        for (int i = 0; i < f.n; i++) {
            if (!is(&f.recs[i], "grad", k))
                continue;
            int j = params_find(p, trecord_meta_get(&f.recs[i], "name"));
            assert_true(j >= 0);
            assert_int_equal(trecord_elements(&f.recs[i]), params_var(p, j)->value.numel);
            memcpy(params_grad(p, j), f.recs[i].data, f.recs[i].data_bytes);
            found++;
        }
        assert_int_equal(found, params_count(p));
        nn_adam_step(&adam);
        const char *worst = "";
        double e = worst_error(m, &f, "param", k + 1, &worst);
        printf("Adam step %d: parameters against PyTorch's %.2g (%s)\n", k, e, worst);
        assert_true(e <= ADAM_BOUND);
    }
    nn_adam_fini(&adam);
    dpa_model_free(m);
    fixture_fini(&f);
}

static void wo_pg_free_running(bool precise)
{
    conv_set_precise(precise);
    Fixture f;
    fixture_load(&f, "tests/fixtures/dpa/wo_pg.ts",
                 "/usr/bin/python3 tests/fixtures/dpa/make_fixtures.py");
    Setup s;
    setup_camelyon(&s, 64, "r42", NULL);
    set_params(s.m, &f, 0);
    Err err = {0};
    NNAdam adam;
    assert_true(nn_adam_init(&adam, dpa_model_params(s.m), 1e-3, 0.9, 0.999, 1e-8, &err));
    for (int k = 0; k < STEPS; k++) {
        float *x = checked_batch(&f, k);
        float got = train_step(&s, x, PG_STAB, 64, 1.0, NULL), ref = scalar(&f, "loss", k);
        double rel = fabs(got - ref) / fabs(ref);
        double f64 = scalar_where(&f, "free_loss", k, "variant", "float64"),
               t2 = scalar_where(&f, "free_loss", k, "variant", "threads2");
        printf("free running %s step %d: loss %.8g, PyTorch float32 %.8g: %.2g (PyTorch float64 %.2g, 2 threads "
               "%.2g)\n", mode_name(precise), k, got, ref, rel, fabs(f64 - ref) / fabs(ref), fabs(t2 - ref) / fabs(ref));
        assert_true(rel <= (k == 0 ? loss_bound(precise) : free_bounds_late[k]));
        nn_adam_step(&adam);
        free(x);
    }
    nn_adam_fini(&adam);
    setup_fini(&s);
    fixture_fini(&f);
    conv_set_precise(false);
}

/* With the default convolutions only: free_bounds_late covers both modes
 * (measured), and the precise run would add 5 steps of test time without a
 * tighter bound. */
static void test_wo_pg_free_running(void **state)
{
    (void)state;
    wo_pg_free_running(false);
}

/* The transition step (the bounds of the wo_pg steps). 32x32 images and r32
 * only: ~8x fewer gates than wo_pg. PyTorch float32 flips none (drec 5.7e-7
 * from float64); the C engine flips one or two, or none, depending on the
 * kernels: drec 5.9e-6 (default, portable), 1.2e-3 (default, AVX2), 3.4e-3
 * (precise); gradients up to 1.3e-2; seeded gradients 1.1e-6. The
 * difference is confined to one of the two images, as a flip's is. */
static void transition_step(bool precise)
{
    conv_set_precise(precise);
    Fixture f;
    fixture_load(&f, "tests/fixtures/dpa/trns.ts",
                 "/usr/bin/python3 tests/fixtures/dpa/make_fixtures.py");
    Setup s;
    setup_camelyon(&s, 16, "r32", "r32");
    set_params(s.m, &f, 0);
    float *x = checked_batch(&f, 0);
    StepCheck c = {.f = &f, .step = 0};
    float got = train_step(&s, x, PG_TRNS, 32, 0.3, &c), ref = scalar(&f, "loss64", 0);
    const char *worst = "";
    double lerr = fabs(got - ref) / fabs(ref), serr = worst_error(s.m, &f, "grad64", 0, &worst);
    printf("trns32 %s (C | torch float32, against float64): loss %.2g | %.2g; d loss/d rec %.2g | %.2g; gradients "
           "%.2g | %.2g (%s); seeded gradients %.2g | %.2g (%s)\n",
           mode_name(precise), lerr, torch_error(&f, 0, "loss"), c.drec_err, torch_error(&f, 0, "drec"), c.grad_err,
           torch_error(&f, 0, "grad"), c.grad_worst, serr, torch_error(&f, 0, "seeded_grad"), worst);
    assert_true(lerr <= loss_bound(precise));
    assert_true(c.drec_err <= DREC_BOUND);
    assert_true(c.grad_err <= GRAD_BOUND);
    assert_true(serr <= SEEDED_GRAD_BOUND);
    free(x);
    setup_fini(&s);
    fixture_fini(&f);
    conv_set_precise(false);
}

static void test_transition_step(void **state)
{
    (void)state;
    transition_step(false);
}

static void test_transition_step_precise(void **state)
{
    (void)state;
    skip_under_sanitizers();
    transition_step(true);
}

int main(void)
{
    // DPA_FIDELITY_ISA=avx2|portable runs the convolutions' other kernels
    // (they round differently); DPA_FIDELITY_ONLY=PATTERN picks tests.
    const char *isa = getenv("DPA_FIDELITY_ISA"), *only = getenv("DPA_FIDELITY_ONLY");
    if (isa && !conv_isa_select(isa)) {
        fprintf(stderr, "test_dpa_fidelity: DPA_FIDELITY_ISA=%s: not available on this CPU\n", isa);
        return 1;
    }
    if (only)
        cmocka_set_test_filter(only);
    printf("convolution kernels: %s\n", conv_isa_name());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wo_pg_teacher_forced),
        cmocka_unit_test(test_wo_pg_teacher_forced_precise),
        cmocka_unit_test(test_adam_teacher_forced),
        cmocka_unit_test(test_wo_pg_free_running),
        cmocka_unit_test(test_transition_step),
        cmocka_unit_test(test_transition_step_precise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
