/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of img: round trips per format and depth, decoding of files
 * written by Pillow against the pixels Pillow decodes (tests/fixtures/img),
 * the record bridge, and corrupt, truncated and oversized files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "img.h"

static void make_image(Image *im, int w, int h, int c, int depth)
{
    Err err = {0};
    assert_true(image_alloc(im, w, h, c, depth, &err));
    size_t n = (size_t)w * h * c;
    for (size_t i = 0; i < n; i++) {
        if (depth == 8)
            ((uint8_t *)im->data)[i] = (uint8_t)(i * 37 + i / 7);
        else
            ((uint16_t *)im->data)[i] = (uint16_t)(i * 2654435761u >> 7);
    }
}

static size_t image_bytes(const Image *im)
{
    return (size_t)im->width * im->height * im->channels * (im->depth / 8);
}

static void round_trip(ImageFormat f, int c, int depth)
{
    Image a = {0}, b = {0};
    make_image(&a, 13, 7, c, depth);
    ImageWriteOptions opt = {.format = f, .png_level = -1};
    unsigned char *buf;
    size_t n;
    Err err = {0};
    assert_true(image_encode(&a, &opt, &buf, &n, &err));
    assert_int_equal(image_sniff(buf, n), f);
    assert_true(image_decode(buf, n, "mem", &b, &err));
    assert_int_equal(b.width, 13);
    assert_int_equal(b.height, 7);
    assert_int_equal(b.channels, c);
    assert_int_equal(b.depth, depth);
    assert_memory_equal(a.data, b.data, image_bytes(&a));
    // Every truncation of the file is an error, never a partial image.
    for (size_t cut = 0; cut < n; cut += 1 + n / 23) {
        Err e = {0};
        Image t = {0};
        assert_false(image_decode(buf, cut, "cut.img", &t, &e));
        assert_non_null(strstr(e.msg, "cut.img"));
        assert_null(t.data);
    }
    free(buf);
    image_fini(&a);
    image_fini(&b);
}

static void test_png_round_trip(void **state)
{
    (void)state;
    for (int c = 1; c <= 4; c++) {
        round_trip(IMAGE_FORMAT_PNG, c, 8);
        round_trip(IMAGE_FORMAT_PNG, c, 16);
    }
}

static void test_tiff_round_trip(void **state)
{
    (void)state;
    for (int c = 1; c <= 4; c++) {
        round_trip(IMAGE_FORMAT_TIFF, c, 8);
        round_trip(IMAGE_FORMAT_TIFF, c, 16);
    }
}

static void test_bmp_round_trip(void **state)
{
    (void)state;
    round_trip(IMAGE_FORMAT_BMP, 1, 8);
    round_trip(IMAGE_FORMAT_BMP, 3, 8);
    round_trip(IMAGE_FORMAT_BMP, 4, 8);
}

// JPEG is lossy: a smooth image comes back within a few levels.
static void test_jpeg_round_trip(void **state)
{
    (void)state;
    for (int c = 1; c <= 3; c += 2) {
        Image a = {0}, b = {0};
        Err err = {0};
        assert_true(image_alloc(&a, 40, 24, c, 8, &err));
        uint8_t *p = a.data;
        for (int y = 0; y < 24; y++)
            for (int x = 0; x < 40; x++)
                for (int k = 0; k < c; k++)
                    *p++ = (uint8_t)(40 + 2 * x + 2 * y + 20 * k);
        ImageWriteOptions opt = {.format = IMAGE_FORMAT_JPEG, .jpeg_quality = 95};
        unsigned char *buf;
        size_t n;
        assert_true(image_encode(&a, &opt, &buf, &n, &err));
        assert_true(image_decode(buf, n, "mem.jpg", &b, &err));
        assert_int_equal(b.channels, c);
        int worst = 0;
        for (size_t i = 0; i < image_bytes(&a); i++) {
            int d = abs((int)((uint8_t *)a.data)[i] - (int)((uint8_t *)b.data)[i]);
            worst = d > worst ? d : worst;
        }
        if (worst > 4)
            fail_msg("JPEG round trip off by %d", worst);
        Image t = {0};
        Err e = {0};
        assert_false(image_decode(buf, n / 2, "half.jpg", &t, &e));
        assert_non_null(strstr(e.msg, "half.jpg"));
        free(buf);
        image_fini(&a);
        image_fini(&b);
    }
}

static void test_encode_refusals(void **state)
{
    (void)state;
    Image a = {0};
    make_image(&a, 4, 4, 2, 8);
    unsigned char *buf;
    size_t n;
    Err err = {0};
    ImageWriteOptions jpeg = {.format = IMAGE_FORMAT_JPEG};
    assert_false(image_encode(&a, &jpeg, &buf, &n, &err));
    assert_non_null(strstr(err.msg, "JPEG"));
    err_clear(&err);
    ImageWriteOptions bmp = {.format = IMAGE_FORMAT_BMP};
    assert_false(image_encode(&a, &bmp, &buf, &n, &err));
    err_clear(&err);
    jpeg.jpeg_quality = 101;
    image_fini(&a);
    make_image(&a, 4, 4, 3, 8);
    assert_false(image_encode(&a, &jpeg, &buf, &n, &err));
    assert_non_null(strstr(err.msg, "quality"));
    image_fini(&a);
}

// Files written by Pillow decode to exactly the pixels Pillow decodes.
static void test_pillow_fixtures(void **state)
{
    (void)state;
    static const struct { const char *name; int w, h, c, depth; } cases[] = {
        {"pal_trns.png", 7, 5, 4, 8}, {"grey1.png", 9, 3, 1, 8},   {"grey16.png", 5, 4, 1, 16},
        {"rgb.jpg", 17, 13, 3, 8},    {"grey.jpg", 10, 11, 1, 8},  {"pal.bmp", 7, 5, 3, 8},
        {"rgba.bmp", 5, 3, 3, 8},     {"pal.tif", 7, 5, 3, 8},     {"rgb_strips.tif", 6, 9, 3, 8},
        {"rgb_tiled.tif", 6, 9, 3, 8}, {"rgb_lzw.tif", 6, 9, 3, 8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[256], raw[256];
        snprintf(path, sizeof path, "tests/fixtures/img/%s", cases[i].name);
        snprintf(raw, sizeof raw, "tests/fixtures/img/%.*s.raw", (int)(strrchr(cases[i].name, '.') - cases[i].name),
                 cases[i].name);
        Image im = {0};
        Err err = {0};
        if (!image_read(path, &im, &err))
            fail_msg("%s", err.msg);
        assert_int_equal(im.width, cases[i].w);
        assert_int_equal(im.height, cases[i].h);
        assert_int_equal(im.channels, cases[i].c);
        assert_int_equal(im.depth, cases[i].depth);
        FILE *fp = fopen(raw, "rb");
        assert_non_null(fp);
        size_t n = image_bytes(&im);
        unsigned char *want = malloc(n + 1);
        assert_int_equal(fread(want, 1, n + 1, fp), n);
        fclose(fp);
        if (memcmp(want, im.data, n) != 0)
            fail_msg("%s: pixels differ from Pillow's", cases[i].name);
        free(want);
        image_fini(&im);
    }
}

static void test_shared_bmps(void **state)
{
    (void)state;
    const char *shared = getenv("ADKIT_SHARED") ? getenv("ADKIT_SHARED") : "../shared";
    static const struct { const char *name; int w, h; } cases[] = {
        {"cat.bmp", 512, 341}, {"bird.bmp", 512, 343}, {"grace_hopper.bmp", 512, 600}, {"dragonfly.bmp", 512, 418}};
    char path[1024];
    snprintf(path, sizeof path, "%s/images/cat.bmp", shared);
    if (access(path, R_OK) != 0)
        skip();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(path, sizeof path, "%s/images/%s", shared, cases[i].name);
        Image im = {0};
        Err err = {0};
        if (!image_read(path, &im, &err))
            fail_msg("%s", err.msg);
        assert_int_equal(im.width, cases[i].w);
        assert_int_equal(im.height, cases[i].h);
        assert_int_equal(im.channels, 3);
        // A photograph: not one flat colour.
        const uint8_t *p = im.data;
        size_t differ = 0;
        for (size_t k = 3; k < image_bytes(&im); k++)
            differ += p[k] != p[k - 3];
        assert_true(differ > image_bytes(&im) / 10);
        image_fini(&im);
    }
}

static void test_bad_files(void **state)
{
    (void)state;
    Image im = {0};
    Err err = {0};
    assert_false(image_decode("", 0, "empty.png", &im, &err));
    assert_string_equal(err.msg, "empty.png: empty file");
    err_clear(&err);
    assert_false(image_decode("hello world", 11, "x.txt", &im, &err));
    assert_non_null(strstr(err.msg, "not a PNG"));
    err_clear(&err);
    // A PNG signature followed by garbage.
    unsigned char png[64] = "\x89PNG\r\n\x1a\nXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX";
    assert_false(image_decode(png, sizeof png, "bad.png", &im, &err));
    assert_non_null(strstr(err.msg, "bad.png: "));
    err_clear(&err);
    assert_false(image_read("/nonexistent/x.png", &im, &err));
    assert_non_null(strstr(err.msg, "/nonexistent/x.png: "));
    assert_null(im.data);
}

// Sizes above the limits are refused from the header, before allocating.
static void test_oversized(void **state)
{
    (void)state;
    Image a = {0};
    make_image(&a, 2, 2, 3, 8);
    unsigned char *buf;
    size_t n;
    Err err = {0};
    ImageWriteOptions bmp = {.format = IMAGE_FORMAT_BMP};
    assert_true(image_encode(&a, &bmp, &buf, &n, &err));
    buf[18] = 0x00, buf[19] = 0x00, buf[20] = 0x02, buf[21] = 0x00; // width 131072
    Image b = {0};
    assert_false(image_decode(buf, n, "huge.bmp", &b, &err));
    assert_non_null(strstr(err.msg, "outside"));
    free(buf);
    err_clear(&err);
    ImageWriteOptions png = {.format = IMAGE_FORMAT_PNG};
    assert_true(image_encode(&a, &png, &buf, &n, &err));
    buf[16] = 0x7f; // IHDR width 0x7f000002 (the CRC no longer matches either)
    assert_false(image_decode(buf, n, "huge.png", &b, &err));
    assert_non_null(strstr(err.msg, "huge.png: "));
    free(buf);
    err_clear(&err);
    assert_false(image_alloc(&b, 65536, 65536, 4, 16, &err));
    assert_non_null(strstr(err.msg, "exceeds"));
    image_fini(&a);
    // A caller's lower limit is enforced by every decoder.
    make_image(&a, 64, 32, 1, 8);
    for (int f = IMAGE_FORMAT_PNG; f < IMAGE_FORMAT_COUNT; f++) {
        ImageWriteOptions o = {.format = (ImageFormat)f, .png_level = -1};
        assert_true(image_encode(&a, &o, &buf, &n, &err));
        err_clear(&err);
        assert_false(image_decode_max(buf, n, "small", 64 * 32 - 1, &b, &err));
        assert_non_null(strstr(err.msg, "exceeds the limit of 2047 bytes"));
        err_clear(&err);
        assert_true(image_decode_max(buf, n, "small", 64 * 32 * 4, &b, &err));
        free(buf);
    }
    image_fini(&a);
    image_fini(&b);
}

// A tiny TIFF whose strips hold no bytes: libtiff would read zeros, we refuse.
static void test_sparse_tiff(void **state)
{
    (void)state;
    Image im = {0};
    Err err = {0};
    assert_false(image_read("tests/fixtures/img/sparse.tif", &im, &err));
    assert_non_null(strstr(err.msg, "sparse.tif: TIFF strip 1 has no data"));
    assert_null(im.data);
}

static void test_records(void **state)
{
    (void)state;
    Image a = {0}, b = {0};
    make_image(&a, 5, 3, 3, 16);
    TRecord rec;
    trecord_init(&rec);
    Err err = {0};
    assert_true(trecord_meta_set(&rec, "id", "x", &err));
    assert_true(image_to_record(&a, &rec, &err));
    assert_int_equal(rec.dtype, TDTYPE_U16);
    assert_int_equal(rec.ndim, 3);
    assert_int_equal(rec.dims[0], 3);
    assert_int_equal(rec.dims[1], 3);
    assert_int_equal(rec.dims[2], 5);
    assert_string_equal(trecord_meta_get(&rec, "id"), "x");
    // Planar: channel 1 of pixel (y=2, x=4) sits at plane 1, offset 2*5+4.
    assert_int_equal(((uint16_t *)rec.data)[15 + 14], ((uint16_t *)a.data)[(2 * 5 + 4) * 3 + 1]);
    assert_true(image_from_record(&rec, &b, &err));
    assert_memory_equal(a.data, b.data, image_bytes(&a));
    int64_t dims2[2] = {3, 5};
    assert_true(trecord_set_shape(&rec, TDTYPE_U8, 2, dims2, &err));
    assert_true(image_from_record(&rec, &b, &err));
    assert_int_equal(b.channels, 1);
    int64_t dims3[3] = {5, 3, 5};
    assert_true(trecord_set_shape(&rec, TDTYPE_U8, 3, dims3, &err));
    assert_false(image_from_record(&rec, &b, &err));
    assert_non_null(strstr(err.msg, "channels"));
    err_clear(&err);
    assert_true(trecord_set_shape(&rec, TDTYPE_F32, 2, dims2, &err));
    assert_false(image_from_record(&rec, &b, &err));
    trecord_fini(&rec);
    image_fini(&a);
    image_fini(&b);
}

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(image_format_from_name("a/b.PNG"), IMAGE_FORMAT_PNG);
    assert_int_equal(image_format_from_name("x.jpeg"), IMAGE_FORMAT_JPEG);
    assert_int_equal(image_format_from_name("x.jpg"), IMAGE_FORMAT_JPEG);
    assert_int_equal(image_format_from_name("x.tif"), IMAGE_FORMAT_TIFF);
    assert_int_equal(image_format_from_name("x.bmp"), IMAGE_FORMAT_BMP);
    assert_int_equal(image_format_from_name("dir.png/x"), IMAGE_FORMAT_UNKNOWN);
    assert_string_equal(image_format_name(IMAGE_FORMAT_TIFF), "tiff");
    assert_int_equal(image_sniff("MM\0*", 4), IMAGE_FORMAT_TIFF);
    assert_int_equal(image_sniff("BM", 1), IMAGE_FORMAT_UNKNOWN);
}

static void test_write_atomic(void **state)
{
    (void)state;
    char dir[] = "/tmp/adkit-img.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/a.tiff", dir);
    Image a = {0}, b = {0};
    make_image(&a, 3, 3, 1, 16);
    Err err = {0};
    assert_true(image_write(path, &a, NULL, &err));
    assert_true(image_read(path, &b, &err));
    assert_memory_equal(a.data, b.data, image_bytes(&a));
    unlink(path);
    snprintf(path, sizeof path, "%s/a.jpg", dir);
    assert_false(image_write(path, &a, NULL, &err)); // 16-bit JPEG: refused, nothing written
    assert_int_equal(access(path, F_OK), -1);
    rmdir(dir);
    image_fini(&a);
    image_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png_round_trip),   cmocka_unit_test(test_tiff_round_trip),
        cmocka_unit_test(test_bmp_round_trip),   cmocka_unit_test(test_jpeg_round_trip),
        cmocka_unit_test(test_encode_refusals),  cmocka_unit_test(test_pillow_fixtures),
        cmocka_unit_test(test_shared_bmps),      cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_oversized),        cmocka_unit_test(test_sparse_tiff),
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_names),            cmocka_unit_test(test_write_atomic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
