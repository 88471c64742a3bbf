/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the atomic writer: nothing appears before commit, abort
 * leaves nothing, devices and FIFOs are written in place (never replaced),
 * and a symbolic link keeps pointing at the file it names. */
#include <fcntl.h>
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

#include "afile.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/adkit-afile.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_commit_and_abort(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    Err err = {0};
    AFile *f = afile_open(path, &err);
    assert_non_null(f);
    fputs("hello\n", afile_stream(f));
    assert_int_equal(access(path, F_OK), -1);
    afile_abort(f);
    assert_int_equal(access(path, F_OK), -1);
    assert_true(afile_write_all(path, "hi\n", 3, &err));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 3);
}

static void test_device_is_not_replaced(void **state)
{
    (void)state;
    Err err = {0};
    assert_true(afile_write_all("/dev/null", "data", 4, &err));
    struct stat st;
    assert_int_equal(stat("/dev/null", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
}

static void test_symlink_target_is_written(void **state)
{
    (void)state;
    char target[128], link[128];
    snprintf(target, sizeof target, "%s/target.txt", dir);
    snprintf(link, sizeof link, "%s/link.txt", dir);
    Err err = {0};
    assert_true(afile_write_all(target, "old\n", 4, &err));
    assert_int_equal(symlink(target, link), 0);
    assert_true(afile_write_all(link, "new data\n", 9, &err));
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(stat(target, &st), 0);
    assert_int_equal(st.st_size, 9);
}

static void test_directory_is_refused(void **state)
{
    (void)state;
    Err err = {0};
    assert_null(afile_open(dir, &err));
    assert_non_null(strstr(err.msg, "is a directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_and_abort),
        cmocka_unit_test(test_device_is_not_replaced),
        cmocka_unit_test(test_symlink_target_is_written),
        cmocka_unit_test(test_directory_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
