/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of nih_entries: the real header (with its unquoted brackets),
 * quoted fields, label-set matching, and the errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nih_entries.h"

#define HEADER "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position," \
               "OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],\n"

static char *write_temp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/adkit-nih-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_read(void **state)
{
    (void)state;
    char *path = write_temp(HEADER "00000001_000.png,Cardiomegaly,0,1,58,M,PA,2682,2749,0.143,0.143,\n"
                                   "\"00000001_001.png\",\"Cardiomegaly|Emphysema\",1,\"1\",58,M,AP,2894,2729,0.1,0.1,\n"
                                   "00030805_000.png,No Finding,0,30805,39,\"M, \"\"x\"\"\",PA,2048,2500,0.168,0.168,\n");
    NihEntries t;
    Err err = {0};
    assert_true(nih_entries_read(path, &t, &err));
    assert_int_equal(t.n, 3);
    assert_string_equal(t.rows[1].image, "00000001_001.png");
    assert_string_equal(t.rows[1].labels, "Cardiomegaly|Emphysema");
    assert_string_equal(t.rows[1].view, "AP");
    assert_int_equal(t.rows[2].patient, 30805);
    assert_string_equal(t.rows[2].view, "PA"); // after a quoted field holding a comma
    nih_entries_fini(&t);
    unlink(path);
}

static void test_labels_only(void **state)
{
    (void)state;
    assert_true(nih_labels_only("Infiltration", "Infiltration"));
    assert_true(nih_labels_only("No Finding", "No Finding"));
    assert_false(nih_labels_only("Infiltration|Mass", "Infiltration"));
    assert_false(nih_labels_only("Mass|Infiltration", "Infiltration"));
    assert_false(nih_labels_only("", "Infiltration"));
    assert_false(nih_labels_only("Infiltrations", "Infiltration"));
}

static void expect_error(const char *text, const char *needle)
{
    char *path = write_temp(text);
    NihEntries t;
    Err err = {0};
    assert_false(nih_entries_read(path, &t, &err));
    assert_int_equal(t.n, 0);
    if (!strstr(err.msg, needle))
        fail_msg("'%s' lacks '%s'", err.msg, needle);
    unlink(path);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("Image Index,Finding Labels,Patient ID\n", "line 1: no column 'View Position'");
    expect_error(HEADER "a.png,No Finding,0,x1,5,M,PA\n", "line 2: Patient ID 'x1' is not an integer");
    expect_error(HEADER "a.png,No Finding,0\n", "line 2: 3 fields");
    expect_error(HEADER "a.png,No Finding,0,1,5,M,PA\na.png,No Finding,0,1,5,M,PA\n",
                 "line 3: image 'a.png' already listed on line 2");
    expect_error("", "empty file");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read),
        cmocka_unit_test(test_labels_only),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
