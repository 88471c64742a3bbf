/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of libcommon/stain: the building blocks against independent
 * computations, and each method on synthetic H&E patches made from two
 * known optical-density vectors (spec camelyon16.md 16.6).
 */
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

#include "rng.h"
#include "stain.h"
#include "stain_impl.h"

static const double TRUE_H[3] = {0.65, 0.70, 0.29}, TRUE_E[3] = {0.07, 0.99, 0.11};

static void unit(double v[3], const double u[3])
{
    double n = sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
    for (int k = 0; k < 3; k++)
        v[k] = u[k] / n;
}

static double angle_deg(const double a[3], const double b[3])
{
    double ua[3], ub[3];
    unit(ua, a);
    unit(ub, b);
    double c = ua[0] * ub[0] + ua[1] * ub[1] + ua[2] * ub[2];
    return acos(c > 1 ? 1 : c) * 180.0 / M_PI;
}

/* A planar w x h H&E-like patch: 25% background, nuclei (mostly H), stroma
 * (mostly E), in blobs so that neighbouring pixels resemble each other. */
static uint8_t *make_patch_with(int w, int h, uint64_t seed, double h_scale, const double e_od[3])
{
    double H[3], E[3];
    unit(H, TRUE_H);
    unit(E, e_od);
    uint8_t *img = malloc((size_t)w * h * 3);
    Rng rng;
    rng_init(&rng, seed);
    int64_t n = (int64_t)w * h;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int cell = ((x / 16) * 7 + (y / 16) * 13) % 4;
            double ch = 0, ce = 0;
            if (cell == 1) {
                ch = 0.6 + 0.8 * rng_uniform(&rng);
                ce = 0.1 * rng_uniform(&rng);
            } else if (cell >= 2) {
                ch = 0.1 * rng_uniform(&rng);
                ce = 0.3 + 0.7 * rng_uniform(&rng);
            } else {
                ch = 0.01 * rng_uniform(&rng);
                ce = 0.01 * rng_uniform(&rng);
            }
            ch *= h_scale;
            for (int k = 0; k < 3; k++) {
                double v = 255.0 * exp(-(ch * H[k] + ce * E[k]));
                img[k * n + (int64_t)y * w + x] = (uint8_t)lrint(v);
            }
        }
    return img;
}

static uint8_t *make_patch(int w, int h, uint64_t seed, double h_scale)
{
    return make_patch_with(w, h, seed, h_scale, TRUE_E);
}

static void test_lasso2_matches_projected_gradient(void **state)
{
    (void)state;
    Rng rng;
    rng_init(&rng, 7);
    for (int trial = 0; trial < 500; trial++) {
        double d0[3], d1[3];
        for (int k = 0; k < 3; k++) {
            d0[k] = rng_uniform(&rng);
            d1[k] = rng_uniform(&rng);
        }
        unit(d0, d0);
        unit(d1, d1);
        double x[3] = {2 * rng_uniform(&rng), 2 * rng_uniform(&rng), 2 * rng_uniform(&rng)};
        double lam = 0.2 * rng_uniform(&rng);
        double g00 = 1, g11 = 1, g01 = d0[0] * d1[0] + d0[1] * d1[1] + d0[2] * d1[2];
        double c[2] = {d0[0] * x[0] + d0[1] * x[1] + d0[2] * x[2], d1[0] * x[0] + d1[1] * x[1] + d1[2] * x[2]};
        double a[2];
        stain_lasso2(a, c, g00, g01, g11, lam);
        // Independent: coordinate descent to convergence.
        double b[2] = {0, 0};
        for (int it = 0; it < 20000; it++) {
            b[0] = fmax(0, c[0] - g01 * b[1] - lam);
            b[1] = fmax(0, c[1] - g01 * b[0] - lam);
        }
        assert_true(a[0] >= 0 && a[1] >= 0);
        if (fabs(a[0] - b[0]) > 1e-6 || fabs(a[1] - b[1]) > 1e-6)
            fail_msg("trial %d: lasso (%g, %g) vs coordinate descent (%g, %g)", trial, a[0], a[1], b[0], b[1]);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_percentile_matches_sorted(void **state)
{
    (void)state;
    Rng rng;
    rng_init(&rng, 3);
    for (int n = 1; n < 300; n += 7) {
        double *a = malloc(n * sizeof *a), *s = malloc(n * sizeof *s);
        for (int i = 0; i < n; i++)
            a[i] = s[i] = floor(rng_uniform(&rng) * 50); // many ties
        qsort(s, n, sizeof *s, cmp_double);
        const double qs[] = {0, 1, 50, 90, 99, 100};
        for (int k = 0; k < 6; k++) {
            double pos = qs[k] / 100 * (n - 1);
            int lo = (int)floor(pos);
            double hi = lo + 1 < n ? s[lo + 1] : s[lo];
            double want = s[lo] + (hi - s[lo]) * (pos - lo);
            double got = stain_percentile(a, n, qs[k]);
            assert_true(fabs(got - want) < 1e-12);
        }
        free(a);
        free(s);
    }
}

static void test_brightness_standardisation(void **state)
{
    (void)state;
    // 10 bytes 0..9 scaled: p = value at 0.9*9 = 8.1 -> 8.1; v*255/8.1.
    uint8_t src[10], dst[10];
    for (int i = 0; i < 10; i++)
        src[i] = (uint8_t)i;
    stain_standardize_brightness(dst, src, 10);
    for (int i = 0; i < 10; i++) {
        double v = i * 255.0 / 8.1;
        assert_int_equal(dst[i], v >= 255 ? 255 : (int)v);
    }
    // An image whose 90th percentile is 255 is unchanged.
    uint8_t img[100];
    for (int i = 0; i < 100; i++)
        img[i] = i < 80 ? (uint8_t)(i * 3) : 255;
    stain_standardize_brightness(img, img, 100);
    for (int i = 0; i < 100; i++)
        assert_int_equal(img[i], i < 80 ? i * 3 : 255);
}

static void test_not_white_threshold(void **state)
{
    (void)state;
    assert_false(stain_not_white(255, 255, 255));
    assert_true(stain_not_white(0, 0, 0));
    assert_true(stain_not_white(120, 60, 150));
    // Grey levels: L* of grey v; the switch happens once, where the rounded
    // L8 passes 203 (L* 79.8, grey about 199).
    int first_white = -1;
    for (int v = 0; v < 256; v++)
        if (!stain_not_white((uint8_t)v, (uint8_t)v, (uint8_t)v)) {
            first_white = v;
            break;
        }
    for (int v = first_white; v < 256; v++)
        assert_false(stain_not_white((uint8_t)v, (uint8_t)v, (uint8_t)v));
    assert_in_range(first_white, 195, 205);
}

static void test_random_r_matches_global_random(void **state)
{
    (void)state;
    // The dictionary learning relies on random_r reproducing srandom(0).
    struct random_data rd;
    char buf[128];
    memset(&rd, 0, sizeof rd);
    initstate_r(0, buf, sizeof buf, &rd);
    srandom(0);
    for (int i = 0; i < 1000; i++) {
        int32_t v;
        random_r(&rd, &v);
        assert_int_equal(v, random());
    }
}

static void check_stain_rows(const double S[2][3], double max_angle)
{
    for (int r = 0; r < 2; r++) {
        double n = sqrt(S[r][0] * S[r][0] + S[r][1] * S[r][1] + S[r][2] * S[r][2]);
        assert_true(fabs(n - 1) < 1e-9);
        for (int c = 0; c < 3; c++)
            assert_true(S[r][c] >= -1e-12);
    }
    double ah = angle_deg(S[0], TRUE_H), ae = angle_deg(S[1], TRUE_E);
    if (ah > max_angle || ae > max_angle)
        fail_msg("stain rows off: H %.2f deg, E %.2f deg (limit %.1f)", ah, ae, max_angle);
}

static void test_vahadane_learns_true_stains(void **state)
{
    (void)state;
    int w = 256, h = 256;
    uint8_t *img = make_patch(w, h, 11, 1.0);
    uint8_t *std = malloc((size_t)w * h * 3);
    stain_standardize_brightness(std, img, (int64_t)w * h * 3);
    double S[2][3];
    Err err = {0};
    int64_t m = stain_vahadane_matrix(S, std, (int64_t)w * h, &err);
    assert_true(m > (int64_t)w * h / 2);
    check_stain_rows(S, 3.0);
    free(std);
    free(img);
}

/* Normalising a patch to a target fitted on itself gives it back. */
static void check_self_normalisation(StainMethod method, double max_mean, int max_abs)
{
    int w = 192, h = 192;
    int64_t n = (int64_t)w * h;
    uint8_t *img = make_patch(w, h, 5, 1.0), *out = malloc(n * 3);
    StainTarget t;
    Err err = {0};
    assert_true(stain_fit(&t, method, img, n, &err));
    assert_int_equal(t.method, method);
    bool copied = true;
    assert_true(stain_normalize(out, img, n, &t, &copied, &err));
    assert_false(copied);
    double sum = 0;
    int worst = 0;
    for (int64_t i = 0; i < n * 3; i++) {
        int d = abs((int)out[i] - (int)img[i]);
        sum += d;
        if (d > worst)
            worst = d;
    }
    double mean = sum / (double)(n * 3);
    if (mean > max_mean || worst > max_abs)
        fail_msg("%s: self-normalisation differs: mean %.3f, max %d", stain_method_name(method), mean, worst);
    // Same input, same bytes; dst == src allowed.
    uint8_t *again = malloc(n * 3);
    memcpy(again, img, n * 3);
    assert_true(stain_normalize(again, again, n, &t, &copied, &err));
    assert_memory_equal(again, out, n * 3);
    free(again);
    free(out);
    free(img);
}

static void test_vahadane_self(void **state)
{
    (void)state;
    // The lambda = 0.01 penalty shrinks concentrations a little and the
    // output is truncated: about one grey level on average.
    check_self_normalisation(STAIN_VAHADANE, 1.5, 12);
}

static void test_macenko_self(void **state)
{
    (void)state;
    // OD = -ln((I + 1) / Io) puts back I + 1, and its curvature for dark
    // pixels bends the pixels slightly out of the fitted stain plane.
    check_self_normalisation(STAIN_MACENKO, 4.0, 10);
}

static void test_reinhard_self(void **state)
{
    (void)state;
    check_self_normalisation(STAIN_REINHARD, 0.5, 2);
}

static void test_macenko_learns_true_stains(void **state)
{
    (void)state;
    // Eosin here has more red OD than TRUE_E: with TRUE_E (red OD 0.07)
    // pure-eosin pixels never pass Macenko's beta test on the red channel,
    // and both extreme angles land near haematoxylin.
    static const double red_e[3] = {0.30, 0.90, 0.30};
    int w = 256, h = 256;
    uint8_t *img = make_patch_with(w, h, 12, 2.0, red_e);
    StainTarget t;
    Err err = {0};
    assert_true(stain_fit(&t, STAIN_MACENKO, img, (int64_t)w * h, &err));
    // The 1st/99th percentile angles sit near, not on, the stain vectors.
    double ah = angle_deg(t.stain[0], TRUE_H), ae = angle_deg(t.stain[1], red_e);
    if (ah > 5 || ae > 5)
        fail_msg("Macenko stains off: H %.2f deg, E %.2f deg", ah, ae);
    assert_true(t.max_conc[0] > 0 && t.max_conc[1] > 0);
    free(img);
}

/* A patch normalised to a target with stronger haematoxylin gets darker
 * red channels in the nuclei (the method transfers colour, not identity). */
static void test_vahadane_transfers_target(void **state)
{
    (void)state;
    int w = 128, h = 128;
    int64_t n = (int64_t)w * h;
    uint8_t *src = make_patch(w, h, 21, 1.0), *out = malloc(n * 3);
    StainTarget t;
    Err err = {0};
    double purple[3] = {0.55, 0.80, 0.25}, pink[3] = {0.10, 0.95, 0.30};
    memset(&t, 0, sizeof t);
    t.method = STAIN_VAHADANE;
    unit(t.stain[0], purple);
    unit(t.stain[1], pink);
    bool copied;
    assert_true(stain_normalize(out, src, n, &t, &copied, &err));
    assert_false(copied);
    // Recover the concentrations of the output with the target's matrix:
    // mean OD direction changes towards the target's vectors.
    double od_src[3] = {0}, od_out[3] = {0};
    for (int64_t p = 0; p < n; p++)
        for (int k = 0; k < 3; k++) {
            od_src[k] += -log(fmax(src[k * n + p], 1) / 255.0);
            od_out[k] += -log(fmax(out[k * n + p], 1) / 255.0);
        }
    double mix[3];
    for (int k = 0; k < 3; k++)
        mix[k] = t.stain[0][k] + t.stain[1][k];
    assert_true(angle_deg(od_out, mix) < angle_deg(od_src, mix));
    free(src);
    free(out);
}

static void test_white_patch_is_copied(void **state)
{
    (void)state;
    int64_t n = 64 * 64;
    uint8_t *white = malloc(n * 3), *out = malloc(n * 3);
    for (int64_t i = 0; i < n * 3; i++)
        white[i] = (uint8_t)(250 + i % 6);
    uint8_t *img = make_patch(64, 64, 2, 1.0);
    for (int m = 0; m < 2; m++) {
        StainTarget t;
        Err err = {0};
        assert_true(stain_fit(&t, m == 0 ? STAIN_VAHADANE : STAIN_MACENKO, img, n, &err));
        bool copied = false;
        assert_true(stain_normalize(out, white, n, &t, &copied, &err));
        assert_true(copied);
        assert_memory_equal(out, white, n * 3);
        // A target without tissue cannot be fitted.
        Err e2 = {0};
        assert_false(stain_fit(&t, m == 0 ? STAIN_VAHADANE : STAIN_MACENKO, white, n, &e2));
        assert_non_null(strstr(e2.msg, "no tissue"));
    }
    free(img);
    free(white);
    free(out);
}

/* A patch of one colour: both initial atoms are the same sample, so SPAMS'
 * cleaning replaces an atom at every iteration; the result must still be
 * finite, deterministic and of unit (or zero) rows. */
static void test_uniform_patch(void **state)
{
    (void)state;
    int64_t n = 48 * 48;
    uint8_t *img = malloc(n * 3), *out1 = malloc(n * 3), *out2 = malloc(n * 3);
    for (int64_t p = 0; p < n; p++) {
        img[p] = 150;
        img[n + p] = 90;
        img[2 * n + p] = 170;
    }
    double S[2][3];
    Err err = {0};
    assert_true(stain_vahadane_matrix(S, img, n, &err) == n);
    for (int r = 0; r < 2; r++) {
        double norm = 0;
        for (int c = 0; c < 3; c++) {
            assert_true(isfinite(S[r][c]) && S[r][c] >= 0);
            norm += S[r][c] * S[r][c];
        }
        assert_true(fabs(norm - 1) < 1e-9 || norm == 0);
    }
    uint8_t *tgt = make_patch(64, 64, 4, 1.0);
    StainTarget t;
    assert_true(stain_fit(&t, STAIN_VAHADANE, tgt, 64 * 64, &err));
    bool copied;
    assert_true(stain_normalize(out1, img, n, &t, &copied, &err));
    assert_true(stain_normalize(out2, img, n, &t, &copied, &err));
    assert_memory_equal(out1, out2, n * 3);
    free(tgt);
    free(img);
    free(out1);
    free(out2);
}

static void test_target_file_round_trip(void **state)
{
    (void)state;
    char path[] = "/tmp/adkit-stain-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    uint8_t *img = make_patch(96, 96, 9, 1.0);
    for (int m = 0; m < STAIN_METHOD_COUNT; m++) {
        StainTarget t, back;
        Err err = {0};
        assert_true(stain_fit(&t, (StainMethod)m, img, 96 * 96, &err));
        assert_true(stain_target_save(&t, path, &err));
        memset(&back, 0xff, sizeof back);
        if (!stain_target_load(&back, path, &err))
            fail_msg("%s", err.msg);
        assert_int_equal(t.method, back.method);
        assert_memory_equal(t.stain, back.stain, sizeof t.stain);
        assert_memory_equal(t.max_conc, back.max_conc, sizeof t.max_conc);
        assert_memory_equal(t.lab_mean, back.lab_mean, sizeof t.lab_mean);
        assert_memory_equal(t.lab_std, back.lab_std, sizeof t.lab_std);
    }
    // Broken files name the file and the line.
    static const char *const bad[][2] = {
        {"not a target\n", ":1: not a stain target"},
        {"adkit-stain 1\nmethod vahadane\nstain_h 1 0\nstain_e 0 1 0\n", ":3: stain_h needs 3"},
        {"adkit-stain 1\nmethod foo\n", ":2: unknown method"},
        {"adkit-stain 1\nmethod macenko\nstain_h 1 0 0\nstain_e 0 1 0\n", "needs a 'max_conc'"},
        {"adkit-stain 1\nmethod vahadane\nstain_h 1 0 nan\nstain_e 0 1 0\n", "finite"},
        {"adkit-stain 1\nwhat 1\n", ":2: unknown key"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen(path, "w");
        fputs(bad[i][0], f);
        fclose(f);
        StainTarget t;
        Err err = {0};
        assert_false(stain_target_load(&t, path, &err));
        if (!strstr(err.msg, bad[i][1]))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, bad[i][1]);
    }
    unlink(path);
    free(img);
    // In memory: a NUL byte and a missing newline at the end.
    StainTarget t;
    Err err = {0};
    const char with_nul[] = "adkit-stain 1\nmethod vah\0adane\n";
    assert_false(stain_target_parse(&t, with_nul, sizeof with_nul - 1, "mem", &err));
    assert_non_null(strstr(err.msg, "mem:2: NUL byte"));
    const char no_newline[] = "adkit-stain 1\nmethod reinhard\nlab_mean 1 2 3\nlab_std 1 1 1";
    err_clear(&err);
    assert_true(stain_target_parse(&t, no_newline, sizeof no_newline - 1, "mem", &err));
    assert_int_equal(t.method, STAIN_REINHARD);
    assert_true(t.lab_mean[2] == 3);
}

static void test_method_names(void **state)
{
    (void)state;
    for (int m = 0; m < STAIN_METHOD_COUNT; m++) {
        StainMethod back;
        assert_true(stain_method_from_name(stain_method_name((StainMethod)m), &back));
        assert_int_equal(back, m);
    }
    StainMethod x;
    assert_false(stain_method_from_name("vahadan", &x));
}

static void test_lab_round_trip(void **state)
{
    (void)state;
    for (int r = 0; r < 256; r += 5)
        for (int g = 0; g < 256; g += 7)
            for (int b = 0; b < 256; b += 11) {
                double lab[3];
                uint8_t back[3];
                stain_rgb_to_lab(lab, (uint8_t)r, (uint8_t)g, (uint8_t)b);
                stain_lab_to_rgb(back, lab);
                assert_true(abs(back[0] - r) <= 1 && abs(back[1] - g) <= 1 && abs(back[2] - b) <= 1);
            }
    double lab[3];
    stain_rgb_to_lab(lab, 255, 255, 255);
    assert_true(fabs(lab[0] - 100) < 1e-3 && fabs(lab[1]) < 1e-2 && fabs(lab[2]) < 1e-2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lasso2_matches_projected_gradient),
        cmocka_unit_test(test_percentile_matches_sorted),
        cmocka_unit_test(test_brightness_standardisation),
        cmocka_unit_test(test_not_white_threshold),
        cmocka_unit_test(test_random_r_matches_global_random),
        cmocka_unit_test(test_vahadane_learns_true_stains),
        cmocka_unit_test(test_vahadane_self),
        cmocka_unit_test(test_macenko_self),
        cmocka_unit_test(test_reinhard_self),
        cmocka_unit_test(test_macenko_learns_true_stains),
        cmocka_unit_test(test_vahadane_transfers_target),
        cmocka_unit_test(test_white_patch_is_copied),
        cmocka_unit_test(test_uniform_patch),
        cmocka_unit_test(test_target_file_round_trip),
        cmocka_unit_test(test_method_names),
        cmocka_unit_test(test_lab_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
