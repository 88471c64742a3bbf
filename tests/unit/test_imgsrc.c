/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of imgsrc: ids from paths, list parsing, folders and class
 * folders (labels), and conversion with bad files, strict and skipping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "img.h"
#include "imgsrc.h"

static char dir[64];

static void touch(const char *rel)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
}

static void sub(const char *rel)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    assert_int_equal(mkdir(path, 0777), 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/adkit-imgsrc.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_ids(void **state)
{
    (void)state;
    char id[16];
    imgsrc_id_from_path("a/b/cat.01.png", id, sizeof id);
    assert_string_equal(id, "cat.01");
    imgsrc_id_from_path("noext", id, sizeof id);
    assert_string_equal(id, "noext");
    imgsrc_id_from_path("x/.hidden", id, sizeof id);
    assert_string_equal(id, ".hidden");
    imgsrc_id_from_path("a_very_long_file_name.png", id, sizeof id);
    assert_string_equal(id, "a_very_long_fil");
}

static void test_list(void **state)
{
    (void)state;
    char text[] = "a.png\r\n\n/abs/b.png\t7\nc d.png\n";
    FILE *fp = fmemopen(text, strlen(text), "r");
    ImgSrcList l;
    imgsrc_init(&l);
    Err err = {0};
    assert_true(imgsrc_add_list(&l, fp, "l.txt", "root", &err));
    fclose(fp);
    assert_int_equal(l.count, 3);
    assert_string_equal(l.items[0].path, "root/a.png");
    assert_false(l.items[0].has_label);
    assert_string_equal(l.items[1].path, "/abs/b.png");
    assert_true(l.items[1].has_label);
    assert_int_equal(l.items[1].label, 7);
    assert_string_equal(l.items[2].path, "root/c d.png");
    char bad[] = "a.png\nb.png\tseven\n";
    fp = fmemopen(bad, strlen(bad), "r");
    assert_false(imgsrc_add_list(&l, fp, "l.txt", NULL, &err));
    fclose(fp);
    assert_string_equal(err.msg, "l.txt:2: bad label 'seven' (want an integer after the tab)");
    imgsrc_fini(&l);
}

static void test_folders(void **state)
{
    (void)state;
    sub("plain");
    touch("plain/b.png"), touch("plain/a.JPG"), touch("plain/.x.png"), touch("plain/notes.txt");
    sub("cls"), sub("cls/tumor"), sub("cls/normal"), sub("cls/other");
    touch("cls/tumor/t.png"), touch("cls/normal/n1.png"), touch("cls/normal/n0.png"), touch("cls/other/o.bmp");
    sub("num"), sub("num/3"), sub("num/10");
    touch("num/3/x.png"), touch("num/10/y.png");
    sub("empty");
    char path[256];
    ImgSrcList l;
    imgsrc_init(&l);
    Err err = {0};
    bool classes;
    snprintf(path, sizeof path, "%s/plain", dir);
    assert_true(imgsrc_add_classes(&l, path, &classes, &err));
    assert_false(classes);
    assert_int_equal(l.count, 2); // sorted by name, hidden and non-image files skipped
    assert_non_null(strstr(l.items[0].path, "plain/a.JPG"));
    assert_non_null(strstr(l.items[1].path, "plain/b.png"));
    imgsrc_fini(&l);

    snprintf(path, sizeof path, "%s/cls", dir);
    assert_true(imgsrc_add_classes(&l, path, &classes, &err));
    assert_true(classes);
    assert_int_equal(l.count, 4);
    // normal first (0), then other (1), tumor (2).
    static const char *const want[][2] = {{"normal", "n0.png"}, {"normal", "n1.png"}, {"other", "o.bmp"},
                                          {"tumor", "t.png"}};
    static const int labels[] = {0, 0, 1, 2};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(l.items[i].class_name, want[i][0]);
        assert_non_null(strstr(l.items[i].path, want[i][1]));
        assert_int_equal(l.items[i].label, labels[i]);
    }
    imgsrc_fini(&l);

    snprintf(path, sizeof path, "%s/num", dir);
    assert_true(imgsrc_add_classes(&l, path, &classes, &err));
    assert_int_equal(l.count, 2); // "10" sorts before "3"; labels are the numbers
    assert_int_equal(l.items[0].label, 10);
    assert_int_equal(l.items[1].label, 3);
    imgsrc_fini(&l);

    snprintf(path, sizeof path, "%s/empty", dir);
    assert_false(imgsrc_add(&l, path, &err));
    assert_non_null(strstr(err.msg, "no image files"));
    imgsrc_fini(&l);
}

static void test_convert(void **state)
{
    (void)state;
    char good[256], bad[256];
    snprintf(good, sizeof good, "%s/good.png", dir);
    snprintf(bad, sizeof bad, "%s/bad.png", dir);
    Image im = {0};
    Err err = {0};
    assert_true(image_alloc(&im, 3, 2, 3, 8, &err));
    memset(im.data, 200, 18);
    assert_true(image_write(good, &im, NULL, &err));
    image_fini(&im);
    touch("bad.png");
    ImgSrcList l;
    imgsrc_init(&l);
    assert_true(imgsrc_add(&l, good, &err) && imgsrc_add(&l, bad, &err) && imgsrc_add(&l, good, &err));
    for (int skip = 0; skip <= 1; skip++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *fp = open_memstream(&buf, &len);
        TStreamWriter *w = tstream_create_stream(fp, "mem", &err);
        ImgSrcOptions o = {.channels = 1, .has_label = true, .label = 4, .with_index = true, .skip_bad = skip,
                           .jobs = 2};
        size_t nbad = 0;
        bool ok = imgsrc_convert(&l, &o, w, &nbad, &err);
        assert_int_equal(nbad, 1);
        assert_true(ok == (skip == 1));
        if (!ok) {
            assert_string_equal(err.msg, "1 of 3 images could not be read");
            err_clear(&err);
        }
        assert_true(tstream_writer_commit(w, &err));
        fclose(fp);
        // Strict: the first good record only (writing stops at the bad file);
        // skipping: both good records, index 0 and 2.
        FILE *in = fmemopen(buf, len ? len : 1, "r");
        TStreamReader *r = tstream_open_stream(in, "mem", &err);
        TRecord rec;
        trecord_init(&rec);
        int count = 0;
        while (len && tstream_read(r, &rec, &err) == 1) {
            assert_int_equal(rec.dims[0], 1);
            assert_string_equal(trecord_meta_get(&rec, "label"), "4");
            assert_string_equal(trecord_meta_get(&rec, "id"), "good");
            assert_string_equal(trecord_meta_get(&rec, "index"), count == 0 ? "0" : "2");
            count++;
        }
        assert_int_equal(count, skip ? 2 : 1);
        trecord_fini(&rec);
        tstream_close(r);
        fclose(in);
        free(buf);
    }
    imgsrc_fini(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_folders),
        cmocka_unit_test(test_convert),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
