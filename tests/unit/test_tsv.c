/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of tsv: the checked number parsers (the fast decimal path must
 * give strtod's double bit for bit), line splitting and text lists. */
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
#include "tsv.h"

static void test_parse_double_matches_strtod(void **state)
{
    (void)state;
    Rng rng;
    rng_init(&rng, 1);
    char buf[64];
    for (int i = 0; i < 200000; i++) {
        double x = (rng_uniform(&rng) - 0.5) * 2000.0 * rng_uniform(&rng);
        int digits = (int)rng_below(&rng, 20);
        snprintf(buf, sizeof buf, "%.*f", digits, x);
        double got, want = strtod(buf, NULL); // lint-allow: the reference
        assert_true(tsv_parse_double(buf, &got));
        if (memcmp(&got, &want, sizeof got) != 0)
            fail_msg("'%s': %.17g != strtod's %.17g", buf, got, want);
    }
    const char *ok[] = {"0", "-0", "+1.5", ".5", "5.", "1e-3", "-2.5E+10", "0.30000000000000004",
                        "123456789012345678901234567890", "inf", "nan"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        double got, want = strtod(ok[i], NULL); // lint-allow: the reference
        assert_true(tsv_parse_double(ok[i], &got));
        if (!(got != got && want != want))
            assert_memory_equal(&got, &want, sizeof got);
    }
    const char *bad[] = {"", " 1", "1 ", "1.2.3", "-", ".", "abc", "1,5", "0x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = 42;
        assert_false(tsv_parse_double(bad[i], &v));
        assert_true(v == 42);
    }
}

static void test_parse_int64(void **state)
{
    (void)state;
    int64_t v;
    assert_true(tsv_parse_int64("-12", &v));
    assert_int_equal(v, -12);
    assert_true(tsv_parse_int64("9223372036854775807", &v));
    assert_false(tsv_parse_int64("9223372036854775808", &v));
    assert_false(tsv_parse_int64("1.0", &v));
    assert_false(tsv_parse_int64("", &v));
    assert_false(tsv_parse_int64(" 3", &v));
}

static void test_reader_and_list(void **state)
{
    (void)state;
    char path[] = "/tmp/adkit-tsv-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "id\tlabel\tscore\r\na\t1\t0.5\n\nb\t0\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    Err err = {0};
    TsvReader *r = tsv_open(path, &err);
    assert_non_null(r);
    char **f;
    size_t n;
    assert_int_equal(tsv_read_line(r, &f, &n, &err), 1);
    assert_int_equal(n, 3);
    assert_string_equal(f[2], "score"); // "\r" dropped
    assert_int_equal(tsv_find_column(f, n, "label"), 1);
    assert_int_equal(tsv_read_line(r, &f, &n, &err), 1);
    assert_string_equal(f[0], "a");
    assert_int_equal(tsv_read_line(r, &f, &n, &err), 1);
    assert_int_equal(n, 1); // the blank line: one empty field
    assert_string_equal(f[0], "");
    assert_int_equal(tsv_read_line(r, &f, &n, &err), 1);
    assert_int_equal(n, 2);
    assert_int_equal(tsv_line_number(r), 4);
    assert_int_equal(tsv_read_line(r, &f, &n, &err), 0);
    tsv_close(r);

    TextList l;
    assert_true(textlist_read(path, &l, &err));
    assert_int_equal(l.n, 3); // the blank line is skipped
    assert_string_equal(l.items[0], "id\tlabel\tscore");
    assert_int_equal(l.line[2], 4);
    assert_string_equal(l.name, path);
    textlist_fini(&l);
    unlink(path);
    assert_false(textlist_read("/nonexistent/list", &l, &err));
    assert_non_null(strstr(err.msg, "/nonexistent/list"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_double_matches_strtod),
        cmocka_unit_test(test_parse_int64),
        cmocka_unit_test(test_reader_and_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
