/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of slide: ARGB conversion, names, and opening bad files. Reads
 * of real pyramids are covered by tests/cli/slide2patches.sh on generated
 * slides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "slide.h"

static void test_argb_rule(void **state)
{
    (void)state;
    // opaque, transparent, half alpha (premultiplied), alpha 1 with c = 1.
    const uint32_t argb[4] = {0xFF102030u, 0x00FFFFFFu, 0x80404040u, 0x01010000u};
    uint8_t rgb[12];
    slide_argb_to_rgb(rgb, argb, 4);
    const uint8_t want[12] = {0x10, 0x20, 0x30, 0, 0, 0,
                              (0x40 * 255 + 64) / 128, (0x40 * 255 + 64) / 128, (0x40 * 255 + 64) / 128,
                              255, 0, 0};
    assert_memory_equal(rgb, want, sizeof want);
}

static void test_names(void **state)
{
    (void)state;
    char name[16];
    assert_true(slide_name_from_path("/data/x/tumor_001.tif", name, sizeof name));
    assert_string_equal(name, "tumor_001");
    assert_true(slide_name_from_path("normal_002", name, sizeof name));
    assert_string_equal(name, "normal_002");
    assert_true(slide_name_from_path("a.b.tif", name, sizeof name));
    assert_string_equal(name, "a.b");
    assert_false(slide_name_from_path("dir/", name, sizeof name));
    assert_false(slide_name_from_path("a_very_long_slide_name.tif", name, sizeof name));
}

static void test_open_failures(void **state)
{
    (void)state;
    Err err = {0};
    assert_null(slide_open("/nonexistent/slide.tif", &err));
    assert_non_null(strstr(err.msg, "/nonexistent/slide.tif: No such file"));

    char path[] = "/tmp/adkit-slide-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not a slide\n", 12), 12);
    close(fd);
    err_clear(&err);
    assert_null(slide_open(path, &err));
    assert_non_null(strstr(err.msg, "not a slide OpenSlide can read"));
    assert_non_null(strstr(err.msg, path));
    remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argb_rule),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_open_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
