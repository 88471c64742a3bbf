/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of csv: RFC 4180 quoting, line breaks inside fields, CRLF,
 * byte-order mark, and the errors for malformed quoting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "csv.h"

static char *write_temp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/adkit-csv-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_quoting(void **state)
{
    (void)state;
    char *path = write_temp("\xEF\xBB\xBF" "a,b,c\r\n"
                            "\"x,y\",\"say \"\"hi\"\"\",plain\r\n"
                            "\n"
                            "\"two\nlines\",,\"\"\n"
                            "last,row,\"end\"");
    Err err = {0};
    CsvReader *r = csv_open(path, &err);
    assert_non_null(r);
    char **f;
    size_t n;
    assert_int_equal(csv_read_record(r, &f, &n, &err), 1);
    assert_int_equal(n, 3);
    assert_string_equal(f[0], "a"); // the byte-order mark is skipped
    assert_string_equal(f[2], "c"); // CR dropped
    assert_int_equal(csv_read_record(r, &f, &n, &err), 1);
    assert_string_equal(f[0], "x,y");
    assert_string_equal(f[1], "say \"hi\"");
    assert_string_equal(f[2], "plain");
    assert_int_equal(csv_read_record(r, &f, &n, &err), 1); // the blank line is skipped
    assert_int_equal(csv_line_number(r), 4);
    assert_int_equal(n, 3);
    assert_string_equal(f[0], "two\nlines");
    assert_string_equal(f[1], "");
    assert_string_equal(f[2], "");
    assert_int_equal(csv_read_record(r, &f, &n, &err), 1);
    assert_int_equal(csv_line_number(r), 6);
    assert_string_equal(f[2], "end"); // no newline at the end of the file
    assert_int_equal(csv_read_record(r, &f, &n, &err), 0);
    csv_close(r);
    unlink(path);
}

static void expect_error(const char *text, const char *needle)
{
    char *path = write_temp(text);
    Err err = {0};
    CsvReader *r = csv_open(path, &err);
    assert_non_null(r);
    char **f;
    size_t n;
    int got;
    while ((got = csv_read_record(r, &f, &n, &err)) == 1)
        ;
    assert_int_equal(got, -1);
    if (!strstr(err.msg, needle))
        fail_msg("'%s' lacks '%s'", err.msg, needle);
    csv_close(r);
    unlink(path);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("a,b\n\"open,b\nc,d\n", "unterminated quoted field (started on line 2)");
    expect_error("a,b\n\"x\"y,b\n", "line 2: text after the closing quote");
    Err err = {0};
    assert_null(csv_open("/nonexistent/x.csv", &err));
    assert_non_null(strstr(err.msg, "/nonexistent/x.csv"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
