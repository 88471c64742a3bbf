/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of transform: Pillow/torchvision equality over the cases of
 * tests/fixtures/transform/transform.tsv (checksums written by
 * make_fixtures.py beside it: convert('L') from 8- and 16-bit images,
 * ImageOps.equalize on degenerate and ordinary histograms, the composed NIH
 * transform to float, CenterCrop offsets), plus the random steps, padding,
 * the text form and errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "pillow_fixtures.h"
#include "transform.h"

#define FIXTURE_VERSION 1

// Interleaved (h, w, c) pattern (pillow_fixtures.h); fails on a bad name.
static uint8_t *make_hwc(const char *name, uint32_t seed, int w, int h, int c)
{
    uint8_t *p = pattern_image(name, seed, w, h, c);
    if (!p)
        fail_msg("unknown pattern %s", name);
    return p;
}

// Planar (c, h, w) copy of an interleaved image.
static uint8_t *to_chw(const uint8_t *hwc, int w, int h, int c)
{
    uint8_t *p = malloc((size_t)w * h * c);
    for (int k = 0; k < c; k++)
        for (size_t i = 0; i < (size_t)w * h; i++)
            p[(size_t)k * w * h + i] = hwc[i * c + k];
    return p;
}

static unsigned crc_of(const void *p, size_t n)
{
    return (unsigned)crc32(0L, p, (uInt)n);
}

static int check_case(const char *kind, const char *pat, unsigned seed, int w, int h, int c, const char *args,
                      const char *expect)
{
    unsigned want = 0, got = 0;
    sscanf(expect, "%x", &want);
    size_t px = (size_t)w * h;
    if (!strcmp(kind, "grey8")) {
        uint8_t *src = make_hwc(pat, seed, w, h, c), *dst = malloc(px);
        transform_grey_u8(dst, src, px, c, (size_t)c, 1);
        got = crc_of(dst, px);
        // The planar layout gives the same bytes.
        uint8_t *chw = to_chw(src, w, h, c), *dst2 = malloc(px);
        transform_grey_u8(dst2, chw, px, c, 1, px);
        assert_memory_equal(dst, dst2, px);
        free(src), free(dst), free(chw), free(dst2);
    } else if (!strcmp(kind, "grey16")) {
        uint16_t *src = malloc(px * c * sizeof *src);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int k = 0; k < c; k++) {
                    uint32_t v = noise32(seed, x, y, k);
                    src[((size_t)y * w + x) * c + k] = (uint16_t)((x + y) % 2 == 0 ? v & 0xFFFF : v & 0x1FF);
                }
        uint8_t *dst = malloc(px);
        transform_grey_u16(dst, src, px, c, (size_t)c, 1);
        got = crc_of(dst, px);
        free(src), free(dst);
    } else if (!strcmp(kind, "equalize")) {
        uint8_t *src = make_hwc(pat, seed, w, h, c), *chw = to_chw(src, w, h, c);
        for (int k = 0; k < c; k++)
            transform_equalize(chw + (size_t)k * px, px);
        for (int k = 0; k < c; k++)
            for (size_t i = 0; i < px; i++)
                src[i * c + k] = chw[(size_t)k * px + i];
        got = crc_of(src, px * c);
        free(src), free(chw);
    } else if (!strcmp(kind, "nih")) {
        int crop = 0, eq = 0;
        assert_int_equal(sscanf(args, "crop=%d,equalize=%d", &crop, &eq), 2);
        uint8_t *src = make_hwc(pat, seed, w, h, c), *chw = to_chw(src, w, h, c);
        TransformSpec spec = transform_spec_nih(crop, eq, 64);
        float out[64 * 64];
        Err err = {0};
        assert_true(transform_apply(&spec, out, chw, c, h, w, NULL, &err));
        got = crc_of(out, sizeof out);
        free(src), free(chw);
    } else if (!strcmp(kind, "center")) {
        int crop = 0, offset = 0;
        sscanf(args, "%d", &crop);
        sscanf(expect, "%d", &offset);
        assert_int_equal(transform_center_offset(w, crop), offset);
        return 0;
    } else {
        fail_msg("unknown fixture kind %s", kind);
    }
    if (got != want) {
        print_error("mismatch: %s %s %dx%dx%d %s: crc %08x, Pillow %08x\n", kind, pat, w, h, c, args, got, want);
        return 1;
    }
    return 0;
}

static void test_pillow_fixtures(void **state)
{
    (void)state;
    char why[4400];
    FILE *fp = fixture_open("transform/transform.tsv", FIXTURE_VERSION, why, sizeof why);
    if (!fp)
        fail_msg("%s", why);
    char line[512];
    int cases = 0, bad = 0;
    while (fgets(line, sizeof line, fp)) {
        if (line[0] == '#')
            continue;
        char kind[32], pat[32], args[64], expect[32];
        unsigned seed;
        int w, h, c;
        assert_int_equal(sscanf(line, "%31s %31s %u %d %d %d %63s %31s", kind, pat, &seed, &w, &h, &c, args, expect),
                         8);
        bad += check_case(kind, pat, seed, w, h, c, args, expect);
        cases++;
    }
    fclose(fp);
    assert_true(cases >= 50);
    assert_int_equal(bad, 0);
}

// Random crops and flips: offsets in range, every flip combination seen,
// the same Rng state gives the same output, and the result is a crop of
// the (flipped) input.
static void test_random_steps(void **state)
{
    (void)state;
    enum { H = 20, W = 24, C = 3, CH = 8, CW = 10 };
    uint8_t src[C * H * W];
    for (int k = 0; k < C; k++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                src[(k * H + y) * W + x] = (uint8_t)(k * 100 + y * 4 + x % 4); // unique per row block
    TransformSpec spec = transform_spec_camelyon16(CH, true, false, false);
    spec.crop_w = CW;
    int seen_top[H - CH + 1] = {0}, seen_left[W - CW + 1] = {0};
    Err err = {0};
    for (int i = 0; i < 400; i++) {
        Rng rng;
        rng_init_stream(&rng, 42, (uint64_t)i);
        uint8_t out[C * CH * CW];
        assert_true(transform_apply_u8(&spec, out, src, C, H, W, &rng, &err));
        // Find the offset from the first pixel and check the whole crop.
        Rng again;
        rng_init_stream(&again, 42, (uint64_t)i);
        int top = (int)rng_below(&again, H - CH + 1), left = (int)rng_below(&again, W - CW + 1);
        for (int k = 0; k < C; k++)
            for (int y = 0; y < CH; y++)
                assert_memory_equal(out + (k * CH + y) * CW, src + (k * H + top + y) * W + left, CW);
        seen_top[top]++;
        seen_left[left]++;
    }
    for (int t = 0; t <= H - CH; t++)
        assert_true(seen_top[t] > 0);
    for (int l = 0; l <= W - CW; l++)
        assert_true(seen_left[l] > 0);

    // Flips: each of the four combinations appears, each is a true mirror.
    TransformSpec flip = {.flip = true, .normalize = true};
    int combos[4] = {0};
    for (int i = 0; i < 200; i++) {
        Rng rng;
        rng_init_stream(&rng, 7, (uint64_t)i);
        uint8_t out[C * H * W];
        assert_true(transform_apply_u8(&flip, out, src, C, H, W, &rng, &err));
        Rng again;
        rng_init_stream(&again, 7, (uint64_t)i);
        bool fh = rng_uniform(&again) < 0.5, fv = rng_uniform(&again) < 0.5;
        combos[fh * 2 + fv]++;
        for (int k = 0; k < C; k++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    assert_int_equal(out[(k * H + y) * W + x],
                                     src[(k * H + (fv ? H - 1 - y : y)) * W + (fh ? W - 1 - x : x)]);
    }
    for (int i = 0; i < 4; i++)
        assert_true(combos[i] > 20);
    // A random step without an Rng is an error, not a crash.
    uint8_t out[C * H * W];
    assert_false(transform_apply_u8(&flip, out, src, C, H, W, NULL, &err));
}

static void test_pad_and_tensor(void **state)
{
    (void)state;
    uint8_t src[28 * 28];
    for (int i = 0; i < 28 * 28; i++)
        src[i] = (uint8_t)(i % 251 + 1);
    TransformSpec spec = transform_spec_fmnist();
    int c, h, w;
    Err err = {0};
    assert_true(transform_output_shape(&spec, 1, 28, 28, &c, &h, &w, &err));
    assert_int_equal(c, 1), assert_int_equal(h, 32), assert_int_equal(w, 32);
    float out[32 * 32];
    assert_true(transform_apply(&spec, out, src, 1, 28, 28, NULL, &err));
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 32; x++) {
            bool border = y < 2 || y >= 30 || x < 2 || x >= 30;
            float want = border ? -1.0f : ((float)src[(y - 2) * 28 + x - 2] / 255.0f - 0.5f) / 0.5f;
            assert_true(out[y * 32 + x] == want);
        }
    uint8_t ends[3] = {0, 128, 255};
    float t[3];
    transform_to_tensor(t, ends, 3, true);
    assert_true(t[0] == -1.0f && t[2] == 1.0f);
    transform_to_tensor(t, ends, 3, false);
    assert_true(t[0] == 0.0f && t[2] == 1.0f && t[1] == 128.0f / 255.0f);
}

static void test_records(void **state)
{
    (void)state;
    Err err = {0};
    TRecord rec;
    trecord_init(&rec);
    int64_t dims[3] = {1, 30, 40};
    assert_true(trecord_set_shape(&rec, TDTYPE_U16, 3, dims, &err));
    uint16_t *p = rec.data;
    for (int i = 0; i < 1200; i++)
        p[i] = (uint16_t)(i * 3);
    TransformSpec spec = transform_spec_nih(20, false, 10);
    int c, h, w;
    assert_true(transform_record_shape(&spec, &rec, &c, &h, &w, &err));
    assert_int_equal(c * h * w, 100);
    uint8_t out[100];
    assert_true(transform_record_u8(&spec, &rec, out, NULL, &err));
    // Same as converting first (Pillow's clip at 255), then the u8 path.
    uint8_t grey[1200], want[100];
    transform_grey_u16(grey, p, 1200, 1, 1, 1200);
    assert_int_equal(grey[100], 255);
    assert_int_equal(grey[50], 150);
    assert_true(transform_apply_u8(&spec, want, grey, 1, 30, 40, NULL, &err));
    assert_memory_equal(out, want, 100);
    // u16 without grey, floats, a bad shape: clear errors.
    TransformSpec plain = transform_spec_cifar10(false, false);
    assert_false(transform_record_shape(&plain, &rec, &c, &h, &w, &err));
    assert_non_null(strstr(err.msg, "u16"));
    err_clear(&err);
    assert_true(trecord_set_shape(&rec, TDTYPE_F32, 3, dims, &err));
    assert_false(transform_record_shape(&spec, &rec, &c, &h, &w, &err));
    assert_non_null(strstr(err.msg, "u8 or u16"));
    err_clear(&err);
    int64_t five[3] = {5, 4, 4};
    assert_true(trecord_set_shape(&rec, TDTYPE_U8, 3, five, &err));
    assert_false(transform_record_shape(&spec, &rec, &c, &h, &w, &err));
    assert_non_null(strstr(err.msg, "channels"));
    trecord_fini(&rec);
}

static void test_errors(void **state)
{
    (void)state;
    Err err = {0};
    int c, h, w;
    TransformSpec spec = transform_spec_nih(224, false, 64);
    assert_false(transform_output_shape(&spec, 1, 200, 300, &c, &h, &w, &err));
    assert_non_null(strstr(err.msg, "224x224 pixels is larger than the 200x300 image"));
    uint8_t src[4] = {1, 2, 3, 4}, dst[4] = {9, 9, 9, 9};
    assert_false(transform_apply_u8(&spec, dst, src, 1, 2, 2, NULL, &err));
    assert_int_equal(dst[0], 9);
}

static void test_text_form(void **state)
{
    (void)state;
    Err err = {0};
    TransformSpec s;
    assert_true(transform_spec_parse(&s, "nih,center-crop=300,equalize", &err));
    TransformSpec want = transform_spec_nih(300, true, 64);
    assert_memory_equal(&s, &want, sizeof s);
    char buf[TRANSFORM_SPEC_TEXT_BYTES];
    transform_spec_format(&s, buf, sizeof buf);
    assert_string_equal(buf, "grey,center-crop=300x300,equalize,resize=64x64");
    TransformSpec back;
    assert_true(transform_spec_parse(&back, buf, &err));
    assert_memory_equal(&back, &s, sizeof s);
    assert_true(transform_spec_parse(&s, "camelyon16-train", &err));
    transform_spec_format(&s, buf, sizeof buf);
    assert_string_equal(buf, "random-crop=64x64,flip");
    assert_true(transform_spec_parse(&s, "", &err));
    transform_spec_format(&s, buf, sizeof buf);
    assert_string_equal(buf, "identity");
    assert_true(transform_spec_parse(&s, "fmnist,unit", &err));
    transform_spec_format(&s, buf, sizeof buf);
    assert_string_equal(buf, "pad=2,unit");
    TransformSpec keep = s;
    assert_false(transform_spec_parse(&s, "grey,rotate=3", &err));
    assert_non_null(strstr(err.msg, "unknown step 'rotate=3'"));
    err_clear(&err);
    assert_false(transform_spec_parse(&s, "resize=0", &err));
    assert_non_null(strstr(err.msg, "wants a size"));
    err_clear(&err);
    assert_false(transform_spec_parse(&s, "center-crop=12x", &err));
    assert_memory_equal(&s, &keep, sizeof s);
}

// A batch equals the per-record calls with the same streams, for any
// thread count; a bad record is named.
static void test_batch(void **state)
{
    (void)state;
    enum { N = 9, H = 40, W = 36 };
    TRecord recs[N];
    const TRecord *ptrs[N];
    Err err = {0};
    for (int i = 0; i < N; i++) {
        trecord_init(&recs[i]);
        int64_t dims[3] = {3, H, W};
        assert_true(trecord_set_shape(&recs[i], TDTYPE_U8, 3, dims, &err));
        for (size_t k = 0; k < recs[i].data_bytes; k++)
            ((uint8_t *)recs[i].data)[k] = (uint8_t)(noise32(i, (uint32_t)k, 0, 0));
        assert_true(trecord_meta_setf(&recs[i], &err, "id", "img%d", i));
        ptrs[i] = &recs[i];
    }
    TransformSpec spec = transform_spec_camelyon16(16, true, true, true);
    uint64_t streams[N];
    for (int i = 0; i < N; i++)
        streams[i] = 1000 + (uint64_t)i * 7;
    size_t each = 3 * 16 * 16;
    float *one = malloc(N * each * sizeof *one), *b1 = malloc(N * each * sizeof *b1), *b2 = malloc(N * each * sizeof *b2);
    for (int i = 0; i < N; i++) {
        Rng rng;
        rng_init_stream(&rng, 5, streams[i]);
        assert_true(transform_record(&spec, &recs[i], one + i * each, &rng, &err));
    }
    assert_true(transform_batch(&spec, ptrs, N, b1, 5, streams, 1, &err));
    assert_true(transform_batch(&spec, ptrs, N, b2, 5, streams, 3, &err));
    assert_memory_equal(one, b1, N * each * sizeof *one);
    assert_memory_equal(b1, b2, N * each * sizeof *one);
    // A record too small for the crop: named by position and id, dst zeroed.
    int64_t small[3] = {3, 8, 8};
    assert_true(trecord_set_shape(&recs[6], TDTYPE_U8, 3, small, &err));
    assert_false(transform_batch(&spec, ptrs, N, b1, 5, NULL, 2, &err));
    assert_non_null(strstr(err.msg, "batch record 6, id img6"));
    for (size_t k = 0; k < N * each; k++)
        assert_true(b1[k] == 0.0f);
    for (int i = 0; i < N; i++)
        trecord_fini(&recs[i]);
    free(one), free(b1), free(b2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pillow_fixtures), cmocka_unit_test(test_random_steps),
        cmocka_unit_test(test_pad_and_tensor),  cmocka_unit_test(test_records),
        cmocka_unit_test(test_errors),          cmocka_unit_test(test_text_form),
        cmocka_unit_test(test_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
