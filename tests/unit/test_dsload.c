/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of dsload: IDX (gzip), CIFAR-10 batches and SVHN .mat files
 * written here, read back; cut, mislabelled and missized inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <matio.h>
#include <zlib.h>

#include "dsload.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/adkit-dsload.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

// Writes gzip file dir/name holding header + body, optionally cut in half.
static void write_gz(const char *name, const unsigned char *head, size_t nh, const unsigned char *body, size_t nb,
                     bool cut)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, head, (unsigned)nh), (int)nh);
    assert_int_equal(gzwrite(g, body, (unsigned)nb), (int)nb);
    assert_int_equal(gzclose(g), Z_OK);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fclose(fp);
    if (cut)
        assert_int_equal(truncate(path, size / 2), 0);
}

static void write_mnist(int n, int bad_label_at, bool cut_images)
{
    unsigned char ih[16], lh[8];
    put_be32(ih, 0x803), put_be32(ih + 4, (uint32_t)n), put_be32(ih + 8, 28), put_be32(ih + 12, 28);
    put_be32(lh, 0x801), put_be32(lh + 4, (uint32_t)n);
    unsigned char *px = malloc((size_t)n * 784), *lab = malloc((size_t)n);
    for (int i = 0; i < n * 784; i++)
        px[i] = (unsigned char)(i * 31 + i / 784);
    for (int i = 0; i < n; i++)
        lab[i] = (unsigned char)(i == bad_label_at ? 10 : i % 10);
    write_gz("train-images-idx3-ubyte.gz", ih, 16, px, (size_t)n * 784, cut_images);
    write_gz("train-labels-idx1-ubyte.gz", lh, 8, lab, (size_t)n, false);
    free(px);
    free(lab);
}

static void test_mnist(void **state)
{
    (void)state;
    write_mnist(13, -1, false);
    DsImages set = {0};
    Err err = {0};
    if (!dsload_mnist(dir, "train", &set, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(set.count, 13);
    assert_int_equal(set.channels, 1);
    assert_int_equal(set.height, 28);
    assert_int_equal(set.pixels[784 * 5 + 100], (unsigned char)((784 * 5 + 100) * 31 + 5));
    assert_int_equal(set.labels[12], 2);
    // The records: id, label, index.
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    TStreamWriter *w = tstream_create_stream(fp, "mem", &err);
    assert_true(dsload_write(&set, "mnist", "train", w, NULL, &err));
    assert_true(tstream_writer_commit(w, &err));
    fclose(fp);
    FILE *in = fmemopen(buf, len, "r");
    TStreamReader *r = tstream_open_stream(in, "mem", &err);
    TRecord rec;
    trecord_init(&rec);
    for (int i = 0; i < 13; i++) {
        assert_int_equal(tstream_read(r, &rec, &err), 1);
        char id[32];
        snprintf(id, sizeof id, "mnist-train-%d", i);
        assert_string_equal(trecord_meta_get(&rec, "id"), id);
        int64_t v;
        assert_true(trecord_meta_get_int(&rec, "label", &v, &err) && v == i % 10);
        assert_true(trecord_meta_get_int(&rec, "index", &v, &err) && v == i);
        assert_memory_equal(rec.data, set.pixels + (size_t)i * 784, 784);
    }
    assert_int_equal(tstream_read(r, &rec, &err), 0);
    trecord_fini(&rec);
    tstream_close(r);
    fclose(in);
    free(buf);
    dsload_fini(&set);

    write_mnist(13, 6, false);
    assert_false(dsload_mnist(dir, "train", &set, &err));
    assert_non_null(strstr(err.msg, "train-labels-idx1-ubyte.gz: label 10 out of range 0..9 at index 6"));
    err_clear(&err);
    write_mnist(13, -1, true);
    assert_false(dsload_mnist(dir, "train", &set, &err));
    assert_non_null(strstr(err.msg, "train-images-idx3-ubyte.gz: truncated"));
    assert_null(set.pixels);
    err_clear(&err);
    assert_false(dsload_mnist(dir, "valid", &set, &err));
    assert_non_null(strstr(err.msg, "unknown split"));
}

static void test_cifar(void **state)
{
    (void)state;
    unsigned char rec[3073 * 2];
    for (int i = 0; i < (int)sizeof rec; i++)
        rec[i] = (unsigned char)(i % 251);
    rec[0] = 3, rec[3073] = 9;
    char path[256];
    snprintf(path, sizeof path, "%s/test_batch.bin", dir);
    FILE *fp = fopen(path, "wb");
    assert_int_equal(fwrite(rec, 1, sizeof rec, fp), sizeof rec);
    fclose(fp);
    DsImages set = {0};
    Err err = {0};
    if (!dsload_cifar10(dir, "test", &set, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(set.count, 2);
    assert_int_equal(set.labels[0], 3);
    assert_int_equal(set.labels[1], 9);
    assert_memory_equal(set.pixels, rec + 1, 3072);
    assert_memory_equal(set.pixels + 3072, rec + 3074, 3072);
    dsload_fini(&set);
    assert_int_equal(truncate(path, 3073 + 5), 0);
    assert_false(dsload_cifar10(dir, "test", &set, &err));
    assert_non_null(strstr(err.msg, "test_batch.bin: size 3078 bytes"));
    err_clear(&err);
    assert_false(dsload_cifar10(dir, "train", &set, &err));
    assert_non_null(strstr(err.msg, "data_batch_1.bin"));
}

static void test_svhn(void **state)
{
    (void)state;
    const size_t n = 3;
    uint8_t *x = malloc(n * 3072);
    double y[3] = {10, 1, 4};
    // Column-major X(row, col, c, i) = row + 2 col + 70 c + 5 i (mod 256).
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            for (int col = 0; col < 32; col++)
                for (int row = 0; row < 32; row++)
                    x[row + 32 * col + 1024 * c + 3072 * i] = (uint8_t)(row + 2 * col + 70 * c + 5 * i);
    char path[256];
    snprintf(path, sizeof path, "%s/train_32x32.mat", dir);
    mat_t *mat = Mat_CreateVer(path, NULL, MAT_FT_MAT5);
    size_t xd[4] = {32, 32, 3, n}, yd[2] = {n, 1};
    matvar_t *vx = Mat_VarCreate("X", MAT_C_UINT8, MAT_T_UINT8, 4, xd, x, 0);
    matvar_t *vy = Mat_VarCreate("y", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, yd, y, 0);
    assert_int_equal(Mat_VarWrite(mat, vx, MAT_COMPRESSION_NONE), 0);
    assert_int_equal(Mat_VarWrite(mat, vy, MAT_COMPRESSION_NONE), 0);
    Mat_VarFree(vx);
    Mat_VarFree(vy);
    Mat_Close(mat);
    free(x);
    DsImages set = {0};
    Err err = {0};
    if (!dsload_svhn(dir, "train", &set, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(set.count, 3);
    assert_memory_equal(set.labels, ((uint8_t[]){0, 1, 4}), 3);
    // Record 2, channel 1, row 4, column 9.
    assert_int_equal(set.pixels[2 * 3072 + 1 * 1024 + 4 * 32 + 9], (uint8_t)(4 + 2 * 9 + 70 + 10));
    dsload_fini(&set);
    assert_false(dsload_svhn(dir, "test", &set, &err));
    assert_non_null(strstr(err.msg, "test_32x32.mat"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mnist),
        cmocka_unit_test(test_cifar),
        cmocka_unit_test(test_svhn),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
