/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of idset: insertion, lookup by length, growth, extensions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "idset.h"

static void test_put_get_grow(void **state)
{
    (void)state;
    Err err = {0};
    IdSet *s = idset_new(&err);
    assert_non_null(s);
    char key[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof key, "img_%d", i);
        assert_int_equal(idset_put(s, key, strlen(key), i, NULL, &err), 1);
    }
    assert_int_equal(idset_count(s), 100000);
    int64_t prev = -1;
    assert_int_equal(idset_put(s, "img_77", 6, 5, &prev, &err), 0);
    assert_int_equal(prev, 77);
    for (int i = 0; i < 100000; i += 997) {
        snprintf(key, sizeof key, "img_%d", i);
        int64_t *v = idset_get(s, key, strlen(key));
        assert_non_null(v);
        assert_int_equal(*v, i);
    }
    assert_null(idset_get(s, "img_100000", 10));
    // Lookup by length: "img_12" is a prefix of "img_123".
    assert_int_equal(*idset_get(s, "img_123", 6), 12);
    idset_free(s);
}

static void test_strip_ext(void **state)
{
    (void)state;
    assert_int_equal(idset_strip_image_ext("00000001_000.png"), 12);
    assert_int_equal(idset_strip_image_ext("normal_001_normal_x_1_y_2_w_768_h_768.JPG"), 37);
    assert_int_equal(idset_strip_image_ext("a.tiff"), 1);
    assert_int_equal(idset_strip_image_ext("img3"), 4);
    assert_int_equal(idset_strip_image_ext(".png"), 4); // nothing left: kept whole
    assert_int_equal(idset_strip_image_ext("x.txt"), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_grow),
        cmocka_unit_test(test_strip_ext),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
