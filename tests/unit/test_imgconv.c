/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of imgconv: grey (against values Pillow's convert('L') gives),
 * RGB, 16 -> 8 bits, and range mapping of float records. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imgconv.h"

static void test_grey_matches_pillow(void **state)
{
    (void)state;
    // Pixel and the value Pillow 9's Image.convert('L') returns for it.
    static const uint8_t cases[][4] = {{255, 0, 0, 76},      {0, 255, 0, 150},     {0, 0, 255, 29},
                                       {10, 200, 30, 124},   {128, 128, 128, 128}, {255, 255, 255, 255},
                                       {1, 2, 3, 2},         {37, 99, 201, 92}};
    const int n = sizeof cases / sizeof cases[0];
    for (int c = 3; c <= 4; c++) {
        Image im = {0};
        Err err = {0};
        assert_true(image_alloc(&im, n, 1, c, 8, &err));
        uint8_t *p = im.data;
        for (int i = 0; i < n; i++, p += c) {
            memcpy(p, cases[i], 3);
            if (c == 4)
                p[3] = (uint8_t)(i * 30); // alpha is ignored
        }
        assert_true(imgconv_to_grey(&im, &err));
        assert_int_equal(im.channels, 1);
        for (int i = 0; i < n; i++)
            assert_int_equal(((uint8_t *)im.data)[i], cases[i][3]);
        image_fini(&im);
    }
}

static void test_grey_alpha_and_16bit(void **state)
{
    (void)state;
    Image im = {0};
    Err err = {0};
    assert_true(image_alloc(&im, 2, 1, 2, 8, &err));
    memcpy(im.data, (uint8_t[]){7, 255, 9, 0}, 4);
    assert_true(imgconv_to_grey(&im, &err));
    assert_memory_equal(im.data, ((uint8_t[]){7, 9}), 2);
    assert_true(image_alloc(&im, 1, 1, 3, 16, &err));
    memcpy(im.data, (uint16_t[]){65535, 65535, 65535}, 6);
    assert_true(imgconv_to_grey(&im, &err));
    assert_int_equal(((uint16_t *)im.data)[0], 65535);
    image_fini(&im);
}

static void test_rgb(void **state)
{
    (void)state;
    Image im = {0};
    Err err = {0};
    assert_true(image_alloc(&im, 2, 1, 1, 16, &err));
    memcpy(im.data, (uint16_t[]){300, 60000}, 4);
    assert_true(imgconv_to_rgb(&im, &err));
    assert_int_equal(im.channels, 3);
    assert_memory_equal(im.data, ((uint16_t[]){300, 300, 300, 60000, 60000, 60000}), 12);
    assert_true(image_alloc(&im, 1, 1, 4, 8, &err));
    memcpy(im.data, (uint8_t[]){1, 2, 3, 4}, 4);
    assert_true(imgconv_to_rgb(&im, &err));
    assert_memory_equal(im.data, ((uint8_t[]){1, 2, 3}), 3);
    image_fini(&im);
}

static void test_8bit(void **state)
{
    (void)state;
    Image im = {0};
    Err err = {0};
    static const uint16_t in[] = {0, 128, 129, 257, 32767, 32768, 65534, 65535};
    const int n = sizeof in / sizeof in[0];
    assert_true(image_alloc(&im, n, 1, 1, 16, &err));
    memcpy(im.data, in, sizeof in);
    assert_true(imgconv_to_8bit(&im, &err));
    assert_int_equal(im.depth, 8);
    for (int i = 0; i < n; i++) // nearest 8-bit value of v / 257
        assert_int_equal(((uint8_t *)im.data)[i], (int)floor(in[i] / 257.0 + 0.5));
    image_fini(&im);
}

static void test_range(void **state)
{
    (void)state;
    TRecord rec;
    trecord_init(&rec);
    Err err = {0};
    int64_t dims[3] = {2, 1, 3};
    assert_true(trecord_set_shape(&rec, TDTYPE_F32, 3, dims, &err));
    memcpy(rec.data, (float[]){-1.0f, 0.0f, 1.0f, -5.0f, NAN, 0.5f}, 6 * sizeof(float));
    Image im = {0};
    assert_true(imgconv_from_record_range(&rec, -1, 1, &im, &err));
    assert_int_equal(im.channels, 2);
    assert_int_equal(im.width, 3);
    // Interleaved (x, c): channel 0 = -1, 0, 1; channel 1 = -5 (clipped), NaN, 0.5.
    assert_memory_equal(im.data, ((uint8_t[]){0, 0, 128, 0, 255, 191}), 6);
    assert_false(imgconv_from_record_range(&rec, 1, 1, &im, &err));
    assert_non_null(strstr(err.msg, "empty"));
    err_clear(&err);
    // hi < lo inverts.
    assert_true(imgconv_from_record_range(&rec, 1, -1, &im, &err));
    assert_int_equal(((uint8_t *)im.data)[0], 255);
    int64_t five[3] = {5, 1, 1};
    assert_true(trecord_set_shape(&rec, TDTYPE_F32, 3, five, &err));
    assert_false(imgconv_from_record_range(&rec, 0, 1, &im, &err));
    assert_non_null(strstr(err.msg, "channels"));
    trecord_fini(&rec);
    image_fini(&im);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grey_matches_pillow), cmocka_unit_test(test_grey_alpha_and_16bit),
        cmocka_unit_test(test_rgb),                 cmocka_unit_test(test_8bit),
        cmocka_unit_test(test_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
