/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of resample_pillow_u8: bit equality with Pillow's Image.resize
 * over the cases of tests/fixtures/resample/pillow.tsv (CRC-32 of Pillow's
 * output, written by make_fixtures.py beside it), hand-checked values, and
 * argument errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "resample.h"
#include "pillow_fixtures.h"

#define FIXTURE_VERSION 1

static ResampleFilter filter_from_name(const char *s)
{
    if (strcmp(s, "nearest") == 0) return RESAMPLE_NEAREST;
    if (strcmp(s, "bilinear") == 0) return RESAMPLE_BILINEAR;
    if (strcmp(s, "bicubic") == 0) return RESAMPLE_BICUBIC;
    if (strcmp(s, "lanczos") == 0) return RESAMPLE_LANCZOS;
    fail_msg("unknown filter %s in the fixture", s);
    return RESAMPLE_FILTER_COUNT;
}

static void test_pillow_fixtures(void **state)
{
    (void)state;
    char why[4400];
    FILE *fp = fixture_open("resample/pillow.tsv", FIXTURE_VERSION, why, sizeof why);
    if (!fp)
        fail_msg("%s", why);
    char line[512];
    int cases = 0, bad = 0;
    while (fgets(line, sizeof line, fp)) {
        if (line[0] == '#')
            continue;
        char fname[32], pat[32];
        int c, sw, sh, dw, dh;
        unsigned seed, crc;
        assert_int_equal(sscanf(line, "%31s %d %31s %u %d %d %d %d %x", fname, &c, pat, &seed, &sw, &sh, &dw,
                                &dh, &crc),
                         9);
        uint8_t *src = pattern_image(pat, seed, sw, sh, c);
        assert_non_null(src);
        uint8_t *dst = malloc((size_t)dw * dh * c);
        Err err = {0};
        assert_true(resample_pillow_u8(dst, dw, dh, src, sw, sh, c, filter_from_name(fname), &err));
        unsigned got = (unsigned)crc32(0L, dst, (uInt)((size_t)dw * dh * c));
        if (got != crc) {
            print_error("mismatch: %s %d-channel %s %dx%d -> %dx%d: crc %08x, Pillow %08x\n", fname, c, pat, sw,
                        sh, dw, dh, got, crc);
            bad++;
        }
        cases++;
        free(src);
        free(dst);
    }
    fclose(fp);
    assert_true(cases > 300);
    assert_int_equal(bad, 0);
}

// Hand-computed: 2 -> 1 bilinear averages with weights 1/2 each:
// (2^21 + 255 * 2^21) >> 22 = 128 (Pillow rounds half up).
static void test_bilinear_by_hand(void **state)
{
    (void)state;
    uint8_t src[2] = {0, 255}, dst[1] = {0};
    Err err = {0};
    assert_true(resample_pillow_u8(dst, 1, 1, src, 2, 1, 1, RESAMPLE_BILINEAR, &err));
    assert_int_equal(dst[0], 128);
    // A constant image stays constant under every filter.
    uint8_t flat[9 * 7], out[4 * 13];
    memset(flat, 77, sizeof flat);
    for (int f = 0; f < RESAMPLE_FILTER_COUNT; f++) {
        assert_true(resample_pillow_u8(out, 4, 13, flat, 9, 7, 1, (ResampleFilter)f, &err));
        for (size_t i = 0; i < sizeof out; i++)
            assert_int_equal(out[i], 77);
    }
}

// Channels are resampled independently: RGB equals three grey planes.
static void test_channels_independent(void **state)
{
    (void)state;
    int sw = 45, sh = 33, dw = 17, dh = 50;
    uint8_t *rgb = pattern_image("noise", 5, sw, sh, 3);
    uint8_t *out = malloc((size_t)dw * dh * 3), *plane = malloc((size_t)sw * sh), *pout = malloc((size_t)dw * dh);
    Err err = {0};
    assert_true(resample_pillow_u8(out, dw, dh, rgb, sw, sh, 3, RESAMPLE_BICUBIC, &err));
    for (int c = 0; c < 3; c++) {
        for (int i = 0; i < sw * sh; i++)
            plane[i] = rgb[i * 3 + c];
        assert_true(resample_pillow_u8(pout, dw, dh, plane, sw, sh, 1, RESAMPLE_BICUBIC, &err));
        for (int i = 0; i < dw * dh; i++)
            assert_int_equal(pout[i], out[i * 3 + c]);
    }
    free(rgb);
    free(out);
    free(plane);
    free(pout);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    uint8_t src[16] = {1}, dst[16];
    memset(dst, 0xAB, sizeof dst);
    Err err = {0};
    assert_false(resample_pillow_u8(dst, 0, 4, src, 4, 4, 1, RESAMPLE_BILINEAR, &err));
    assert_non_null(strstr(err.msg, "sides must be"));
    err_clear(&err);
    assert_false(resample_pillow_u8(dst, 2, 2, src, 2, 2, 5, RESAMPLE_BILINEAR, &err));
    assert_non_null(strstr(err.msg, "5 channels"));
    err_clear(&err);
    assert_false(resample_pillow_u8(dst, 2, 2, src, 4, 4, 1, RESAMPLE_FILTER_COUNT, &err));
    assert_non_null(strstr(err.msg, "filter"));
    for (size_t i = 0; i < sizeof dst; i++)
        assert_int_equal(dst[i], 0xAB);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pillow_fixtures),
        cmocka_unit_test(test_bilinear_by_hand),
        cmocka_unit_test(test_channels_independent),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
