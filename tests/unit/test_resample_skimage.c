/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of resample_skimage_rescale_u8: against a plain full-image
 * implementation of the same rule (every row and column filtered, mirror
 * indices computed directly), on random images of several sizes, factors
 * and channel counts; plus argument checks. The comparison with SciPy and
 * scikit-image themselves is in tests/cli/patch-rescale.sh.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resample.h"
#include "rng.h"

static int reflect(int i, int n)
{
    // d c b | a b c d | c b a, repeated for long extensions
    while (i < 0 || i >= n) {
        if (i < 0)
            i = -i;
        if (i >= n)
            i = 2 * (n - 1) - i;
    }
    return i;
}

/* Straightforward version: blur the whole image (axis 0 then 1, truncating),
 * then sample. The weights' sum follows numpy's np.sum (the first element
 * plus the pairwise sum of the rest: a plain loop below 8 elements, eight
 * lanes above). */
static void reference(uint8_t *dst, const uint8_t *src, int w, int h, int ch, int f)
{
    double sigma = (f - 1) / 2.0;
    int r = (int)(4 * sigma + 0.5);
    double full[129], wts[65];
    for (int x = -r; x <= r; x++)
        full[x + r] = exp(-0.5 / (sigma * sigma) * (double)(x * x));
    int n = 2 * r + 1;
    double sum;
    if (n - 1 < 8) {
        double rest = -0.0;
        for (int i = 1; i < n; i++)
            rest += full[i];
        sum = full[0] + rest;
    } else {
        double lane[8];
        for (int j = 0; j < 8; j++)
            lane[j] = full[1 + j];
        int i = 8, m = n - 1;
        for (; i < m - (m % 8); i += 8)
            for (int j = 0; j < 8; j++)
                lane[j] += full[1 + i + j];
        double rest = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
        for (; i < m; i++)
            rest += full[1 + i];
        sum = full[0] + rest;
    }
    for (int j = 0; j <= r; j++)
        wts[j] = full[r + j] / sum;
    uint8_t *a = malloc((size_t)w * h * ch), *b = malloc((size_t)w * h * ch);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ch; c++) {
                double v = src[((size_t)y * w + x) * ch + c] * wts[0];
                for (int j = r; j >= 1; j--)
                    v += ((double)src[((size_t)reflect(y - j, h) * w + x) * ch + c] +
                          (double)src[((size_t)reflect(y + j, h) * w + x) * ch + c]) * wts[j];
                a[((size_t)y * w + x) * ch + c] = (uint8_t)v;
            }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ch; c++) {
                double v = a[((size_t)y * w + x) * ch + c] * wts[0];
                for (int j = r; j >= 1; j--)
                    v += ((double)a[((size_t)y * w + reflect(x - j, w)) * ch + c] +
                          (double)a[((size_t)y * w + reflect(x + j, w)) * ch + c]) * wts[j];
                b[((size_t)y * w + x) * ch + c] = (uint8_t)v;
            }
    int ow = w / f, oh = h / f;
    for (int o = 0; o < oh; o++)
        for (int q = 0; q < ow; q++) {
            double cy = f * (o + 0.5) - 0.5, cx = f * (q + 0.5) - 0.5;
            int y0 = (int)floor(cy), y1 = (int)ceil(cy), x0 = (int)floor(cx), x1 = (int)ceil(cx);
            double dy = cy - y0, dx = cx - x0;
            for (int c = 0; c < ch; c++) {
                double tl = b[((size_t)y0 * w + x0) * ch + c] * (1.0 / 255.0);
                double tr = b[((size_t)y0 * w + x1) * ch + c] * (1.0 / 255.0);
                double bl = b[((size_t)y1 * w + x0) * ch + c] * (1.0 / 255.0);
                double br = b[((size_t)y1 * w + x1) * ch + c] * (1.0 / 255.0);
                double v = (1 - dy) * ((1 - dx) * tl + dx * tr) + dy * ((1 - dx) * bl + dx * br);
                v = rint(v * 255.0);
                dst[((size_t)o * ow + q) * ch + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    free(a);
    free(b);
}

static void test_matches_full_image_version(void **state)
{
    (void)state;
    static const int cases[][4] = {{24, 16, 3, 2}, {24, 16, 3, 4}, {30, 12, 1, 3}, {16, 16, 4, 8},
                                   {96, 48, 3, 4}, {6, 4, 2, 2},  {40, 40, 1, 5}, {10, 10, 3, 10}};
    Rng rng;
    rng_init(&rng, 1);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int w = cases[k][0], h = cases[k][1], ch = cases[k][2], f = cases[k][3];
        uint8_t *src = malloc((size_t)w * h * ch), *got = malloc((size_t)w * h * ch),
                *want = malloc((size_t)w * h * ch);
        for (size_t i = 0; i < (size_t)w * h * ch; i++) // smooth plus noise: exercises ties and edges
            src[i] = (uint8_t)((i * 7) % 200 + rng_below(&rng, 56));
        Err err = {0};
        assert_true(resample_skimage_rescale_u8(got, src, w, h, ch, f, &err));
        reference(want, src, w, h, ch, f);
        if (memcmp(got, want, (size_t)(w / f) * (h / f) * ch) != 0)
            fail_msg("case %zu (%dx%dx%d, factor %d) differs", k, w, h, ch, f);
        free(src);
        free(got);
        free(want);
    }
}

static void test_flat_image(void **state)
{
    (void)state;
    // A flat image stays flat, at v or v - 1 (truncation of the weighted sum).
    uint8_t src[32 * 32], dst[8 * 8];
    for (int v = 0; v < 256; v += 17) {
        memset(src, v, sizeof src);
        Err err = {0};
        assert_true(resample_skimage_rescale_u8(dst, src, 32, 32, 1, 4, &err));
        for (int i = 1; i < 64; i++)
            assert_int_equal(dst[i], dst[0]);
        assert_true(dst[0] == v || dst[0] == v - 1);
    }
}

static void test_rejects_bad_arguments(void **state)
{
    (void)state;
    uint8_t src[64] = {0}, dst[64];
    Err err = {0};
    assert_false(resample_skimage_rescale_u8(dst, src, 8, 8, 1, 1, &err));
    assert_non_null(strstr(err.msg, "factor"));
    err_clear(&err);
    assert_false(resample_skimage_rescale_u8(dst, src, 7, 8, 1, 2, &err));
    assert_non_null(strstr(err.msg, "multiples"));
    err_clear(&err);
    assert_false(resample_skimage_rescale_u8(dst, src, 8, 8, 5, 2, &err));
    assert_non_null(strstr(err.msg, "channels"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_full_image_version),
        cmocka_unit_test(test_flat_image),
        cmocka_unit_test(test_rejects_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
