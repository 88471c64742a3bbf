/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of tstream: round trips, metadata, and every class of bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tstream.h"

static void make_record(TRecord *rec, int64_t h, int64_t w)
{
    Err err = {0};
    int64_t dims[3] = {1, h, w};
    assert_true(trecord_set_shape(rec, TDTYPE_U8, 3, dims, &err));
    for (size_t i = 0; i < rec->data_bytes; i++)
        ((unsigned char *)rec->data)[i] = (unsigned char)(i * 7 + 1);
    assert_true(trecord_meta_set(rec, "id", "img_0001", &err));
    assert_true(trecord_meta_setf(rec, &err, "label", "%d", 3));
}

// Encodes n records into one memory buffer.
static unsigned char *encode_n(int n, size_t *bytes)
{
    unsigned char *all = NULL;
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        TRecord rec;
        trecord_init(&rec);
        make_record(&rec, 4 + i, 5);
        unsigned char *one;
        size_t nb;
        Err err = {0};
        assert_true(tstream_encode(&rec, &one, &nb, &err));
        all = realloc(all, total + nb);
        memcpy(all + total, one, nb);
        total += nb;
        free(one);
        trecord_fini(&rec);
    }
    *bytes = total;
    return all;
}

// Reads all records of a buffer; returns the last tstream_read result and the
// count of good records.
static int read_all(const unsigned char *buf, size_t n, int *records, Err *err)
{
    FILE *fp = fmemopen((void *)buf, n ? n : 1, "rb");
    if (n == 0) {
        fclose(fp);
        fp = fopen("/dev/null", "rb");
    }
    TStreamReader *r = tstream_open_stream(fp, "mem.ts", err);
    TRecord rec;
    trecord_init(&rec);
    int got;
    *records = 0;
    while ((got = tstream_read(r, &rec, err)) == 1)
        (*records)++;
    trecord_fini(&rec);
    tstream_close(r);
    fclose(fp);
    return got;
}

static void test_round_trip(void **state)
{
    (void)state;
    size_t n;
    unsigned char *buf = encode_n(3, &n);
    FILE *fp = fmemopen(buf, n, "rb");
    Err err = {0};
    TStreamReader *r = tstream_open_stream(fp, "mem.ts", &err);
    TRecord rec;
    trecord_init(&rec);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tstream_read(r, &rec, &err), 1);
        assert_int_equal(rec.ndim, 3);
        assert_int_equal(rec.dims[1], 4 + i);
        assert_int_equal(rec.dims[2], 5);
        assert_int_equal(rec.data_bytes, (size_t)(4 + i) * 5);
        assert_string_equal(trecord_meta_get(&rec, "id"), "img_0001");
        int64_t label;
        assert_true(trecord_meta_get_int(&rec, "label", &label, &err));
        assert_int_equal(label, 3);
        assert_int_equal(((unsigned char *)rec.data)[2], 15);
    }
    assert_int_equal(tstream_read(r, &rec, &err), 0);
    assert_false(err_is_set(&err));
    trecord_fini(&rec);
    tstream_close(r);
    fclose(fp);
    free(buf);
}

static void test_meta_edit(void **state)
{
    (void)state;
    TRecord rec;
    trecord_init(&rec);
    Err err = {0};
    assert_true(trecord_meta_set(&rec, "a", "1", &err));
    assert_true(trecord_meta_set(&rec, "b", "two words", &err));
    assert_true(trecord_meta_set(&rec, "a", "3", &err));
    assert_string_equal(trecord_meta_get(&rec, "a"), "3");
    assert_string_equal(trecord_meta_get(&rec, "b"), "two words");
    trecord_meta_remove(&rec, "b");
    assert_null(trecord_meta_get(&rec, "b"));
    assert_false(trecord_meta_set(&rec, "bad key", "x", &err));
    err_clear(&err);
    assert_false(trecord_meta_set(&rec, "k", "line\nbreak", &err));
    err_clear(&err);
    int64_t v;
    assert_true(trecord_meta_get_int(&rec, "a", &v, &err));
    assert_int_equal(v, 3);
    assert_true(trecord_meta_set(&rec, "c", "12x", &err));
    assert_false(trecord_meta_get_int(&rec, "c", &v, &err));
    assert_non_null(strstr(err.msg, "not an integer"));
    trecord_fini(&rec);
}

static void expect_error(unsigned char *buf, size_t n, const char *needle, int good_records)
{
    Err err = {0};
    int records;
    int got = read_all(buf, n, &records, &err);
    assert_int_equal(got, -1);
    assert_int_equal(records, good_records);
    if (!strstr(err.msg, needle))
        fail_msg("expected '%s' in '%s'", needle, err.msg);
}

static void test_truncations(void **state)
{
    (void)state;
    size_t n;
    unsigned char *buf = encode_n(2, &n);
    // Every prefix that is not a record boundary must fail, never succeed.
    size_t rec1 = 56 + 20 + 20 + 4; // header + meta("id=img_0001\nlabel=3\n") + 4x5 payload + crc
    for (size_t cut = 1; cut < n; cut++) {
        if (cut == rec1)
            continue;
        Err err = {0};
        int records;
        int got = read_all(buf, cut, &records, &err);
        if (got != -1)
            fail_msg("prefix of %zu bytes read cleanly", cut);
        assert_non_null(strstr(err.msg, "truncated"));
        assert_non_null(strstr(err.msg, "mem.ts:record "));
    }
    Err err = {0};
    int records;
    assert_int_equal(read_all(buf, rec1, &records, &err), 0);
    assert_int_equal(records, 1);
    free(buf);
}

static void test_bad_magic_and_checksums(void **state)
{
    (void)state;
    size_t n;
    unsigned char *buf = encode_n(2, &n);
    unsigned char *copy = malloc(n);

    memcpy(copy, buf, n);
    copy[0] = 'X';
    expect_error(copy, n, "record 1: wrong magic", 0);

    memcpy(copy, buf, n);
    copy[60] ^= 0x40; // a metadata byte
    expect_error(copy, n, "bad checksum", 0);

    memcpy(copy, buf, n);
    copy[n - 6] ^= 1; // payload of record 2
    expect_error(copy, n, "record 2: bad checksum", 1);

    memcpy(copy, buf, n);
    copy[16] = 9; // dims[1] changed without fixing the header CRC
    expect_error(copy, n, "bad header checksum", 0);
    free(copy);
    free(buf);
}

// Re-signs a modified header so that only the semantic check can fail.
static void fix_header_crc(unsigned char *h)
{
    extern unsigned long crc32(unsigned long, const unsigned char *, unsigned);
    uint32_t c = (uint32_t)crc32(0, h, 52);
    for (int i = 0; i < 4; i++)
        h[52 + i] = (unsigned char)(c >> (8 * i));
}

static void test_absurd_sizes(void **state)
{
    (void)state;
    size_t n;
    unsigned char *buf = encode_n(1, &n);
    unsigned char *copy = malloc(n);

    memcpy(copy, buf, n);
    for (int i = 0; i < 8; i++) // dims[1] = 2^40
        copy[16 + i] = i == 5 ? 1 : 0;
    fix_header_crc(copy);
    expect_error(copy, n, "dimension 1", 0);

    memcpy(copy, buf, n);
    copy[48] = 0xff, copy[49] = 0xff, copy[50] = 0xff, copy[51] = 0x7f; // 2 GiB metadata
    fix_header_crc(copy);
    expect_error(copy, n, "metadata of", 0);

    memcpy(copy, buf, n);
    copy[40] += 1; // payload bytes disagree with the shape
    fix_header_crc(copy);
    expect_error(copy, n, "needs 20 payload bytes but the header says 21", 0);

    memcpy(copy, buf, n);
    copy[6] = 5; // five dimensions
    fix_header_crc(copy);
    expect_error(copy, n, "5 dimensions", 0);

    memcpy(copy, buf, n);
    copy[5] = 42; // unknown dtype
    fix_header_crc(copy);
    expect_error(copy, n, "unknown dtype", 0);

    // A huge but self-consistent shape, then nothing: must fail as truncated
    // without allocating the promised size up front.
    memcpy(copy, buf, n);
    uint64_t dims[3] = {1024, 1024, 1024}; // 1 GiB of u8
    for (int d = 0; d < 3; d++)
        for (int i = 0; i < 8; i++)
            copy[8 + 8 * d + i] = (unsigned char)(dims[d] >> (8 * i));
    uint64_t payload = (uint64_t)1 << 30;
    for (int i = 0; i < 8; i++)
        copy[40 + i] = (unsigned char)(payload >> (8 * i));
    fix_header_crc(copy);
    expect_error(copy, n, "truncated payload", 0);
    free(copy);
    free(buf);
}

static void test_file_writer_atomic(void **state)
{
    (void)state;
    char dir[] = "/tmp/adkit-ut.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/out.ts", dir);
    Err err = {0};
    TStreamWriter *w = tstream_create(path, &err);
    assert_non_null(w);
    TRecord rec;
    trecord_init(&rec);
    make_record(&rec, 2, 2);
    assert_true(tstream_write(w, &rec, &err));
    FILE *probe = fopen(path, "rb");
    assert_null(probe); // nothing at the target before commit
    tstream_writer_abort(w);
    assert_null(fopen(path, "rb"));
    w = tstream_create(path, &err);
    assert_true(tstream_write(w, &rec, &err));
    assert_true(tstream_writer_commit(w, &err));
    TStreamReader *r = tstream_open(path, &err);
    assert_non_null(r);
    assert_int_equal(tstream_read(r, &rec, &err), 1);
    assert_int_equal(tstream_read(r, &rec, &err), 0);
    tstream_close(r);
    trecord_fini(&rec);
    remove(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_meta_edit),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_bad_magic_and_checksums),
        cmocka_unit_test(test_absurd_sizes),
        cmocka_unit_test(test_file_writer_atomic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
