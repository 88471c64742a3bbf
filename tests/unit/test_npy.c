/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of npy: numpy-identical writing, every accepted dtype and
 * version, and the errors for corrupt headers and payloads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "npy.h"

// Builds a .npy image: version, header dict text (padded as given), payload.
static size_t build(unsigned char *buf, int major, const char *dict, const void *payload, size_t pbytes)
{
    size_t dl = strlen(dict), at;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    if (major == 1) {
        buf[8] = (unsigned char)(dl & 0xff);
        buf[9] = (unsigned char)(dl >> 8);
        at = 10;
    } else {
        buf[8] = (unsigned char)(dl & 0xff);
        buf[9] = (unsigned char)(dl >> 8);
        buf[10] = buf[11] = 0;
        at = 12;
    }
    memcpy(buf + at, dict, dl);
    if (pbytes)
        memcpy(buf + at + dl, payload, pbytes);
    return at + dl + pbytes;
}

static void test_encode_matches_numpy(void **state)
{
    (void)state;
    int64_t v[3] = {5, -1, 1234567890123};
    unsigned char *b;
    size_t n;
    Err err = {0};
    assert_true(npy_encode_i64(v, 3, &b, &n, &err));
    // numpy.save(np.array([5, -1, 1234567890123])): 128-byte header.
    assert_int_equal(n, 128 + 24);
    const char *dict = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }";
    assert_memory_equal(b, "\x93NUMPY\x01\x00\x76\x00", 10);
    assert_memory_equal(b + 10, dict, strlen(dict));
    assert_int_equal(b[127], '\n');
    assert_int_equal(b[126], ' ');
    int64_t *back;
    size_t m;
    assert_true(npy_parse_i64(b, n, "t", &back, &m, &err));
    assert_int_equal(m, 3);
    assert_memory_equal(back, v, sizeof v);
    free(back);
    free(b);
}

static void test_shared_fold_roundtrip(void **state)
{
    (void)state;
    const char *shared = getenv("ADKIT_SHARED") ? getenv("ADKIT_SHARED") : "../shared";
    char path[4096];
    snprintf(path, sizeof path, "%s/folds/folds/cifar10/0/0/train.npy", shared);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        skip();
    static unsigned char orig[1 << 16];
    size_t on = fread(orig, 1, sizeof orig, fp);
    fclose(fp);
    Err err = {0};
    int64_t *v;
    size_t n;
    assert_true(npy_read_i64(path, &v, &n, &err));
    assert_int_equal(n, 2667);
    unsigned char *b;
    size_t bn;
    assert_true(npy_encode_i64(v, n, &b, &bn, &err));
    assert_int_equal(bn, on);
    assert_memory_equal(b, orig, on); // byte-identical to numpy.save
    free(b);
    free(v);
}

static void test_dtypes_and_versions(void **state)
{
    (void)state;
    unsigned char buf[512];
    Err err = {0};
    int64_t *v;
    size_t n;
    int32_t i4[2] = {-7, 70000};
    size_t len = build(buf, 2, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,)}\n", i4, 8);
    assert_true(npy_parse_i64(buf, len, "t", &v, &n, &err));
    assert_int_equal(n, 2);
    assert_int_equal(v[0], -7);
    assert_int_equal(v[1], 70000);
    free(v);
    unsigned char u1[3] = {0, 200, 255};
    len = build(buf, 1, "{\"descr\": \"|u1\", \"fortran_order\": True, \"shape\": (3, )}", u1, 3);
    assert_true(npy_parse_i64(buf, len, "t", &v, &n, &err));
    assert_int_equal(v[1], 200);
    assert_int_equal(v[2], 255);
    free(v);
    len = build(buf, 1, "{'descr': '|i1', 'fortran_order': False, 'shape': (3,), }", u1, 3);
    assert_true(npy_parse_i64(buf, len, "t", &v, &n, &err));
    assert_int_equal(v[2], -1);
    free(v);
    len = build(buf, 1, "{'shape': (0,), 'descr': '<i8', 'fortran_order': False}", NULL, 0);
    assert_true(npy_parse_i64(buf, len, "t", &v, &n, &err));
    assert_int_equal(n, 0);
    free(v);
}

static void expect_error(const unsigned char *buf, size_t len, const char *needle)
{
    Err err = {0};
    int64_t *v = NULL;
    size_t n = 99;
    assert_false(npy_parse_i64(buf, len, "bad.npy", &v, &n, &err));
    assert_null(v);
    assert_int_equal(n, 99);
    if (!strstr(err.msg, needle))
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

static void test_errors(void **state)
{
    (void)state;
    unsigned char buf[512];
    int64_t one = 1;
    expect_error((const unsigned char *)"PK\3\4 not npy", 13, "not a .npy file");
    size_t len = build(buf, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", &one, 8);
    expect_error(buf, len, "not an integer type");
    len = build(buf, 1, "{'descr': '>i8', 'fortran_order': False, 'shape': (1,), }", &one, 8);
    expect_error(buf, len, "big-endian");
    len = build(buf, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 1), }", &one, 8);
    expect_error(buf, len, "2 dimensions");
    len = build(buf, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", &one, 8);
    expect_error(buf, len, "payload is 8 bytes");
    len = build(buf, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", &one, 8);
    expect_error(buf, len - 20, "truncated .npy header"); // the file ends inside the header
    expect_error(buf, len - 3, "payload is 5 bytes");
    len = build(buf, 1, "{'descr': '<i8', 'shape': (1,), }", &one, 8);
    expect_error(buf, len, "lacks 'fortran_order'");
    len = build(buf, 1, "{'descr': '<i8', 'fortran_order': Maybe, 'shape': (1,), }", &one, 8);
    expect_error(buf, len, "fortran_order");
    len = build(buf, 4, "{}", NULL, 0);
    expect_error(buf, len, "version 4");
    len = build(buf, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (99999999999999999999999,), }", &one, 8);
    expect_error(buf, len, "shape");
    uint64_t huge = UINT64_MAX;
    len = build(buf, 1, "{'descr': '<u8', 'fortran_order': False, 'shape': (1,), }", &huge, 8);
    expect_error(buf, len, "does not fit");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_matches_numpy),
        cmocka_unit_test(test_shared_fold_roundtrip),
        cmocka_unit_test(test_dtypes_and_versions),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
