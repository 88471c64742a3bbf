/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of fileset: a new folder appears whole, an existing one gets
 * its files replaced, a failure leaves nothing, bad paths are refused. */
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

#include "fileset.h"

static char base[64];

static int setup(void **state)
{
    (void)state;
    snprintf(base, sizeof base, "/tmp/adkit-fileset-XXXXXX");
    return mkdtemp(base) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", base);
    return system(cmd);
}

static void read_file(const char *path, char *buf, size_t n)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t got = fread(buf, 1, n - 1, fp);
    buf[got] = 0;
    fclose(fp);
}

static void test_commit(void **state)
{
    (void)state;
    Err err = {0};
    FileSet *fs = fileset_new(&err);
    assert_true(fileset_addf(fs, "a/b/one.txt", &err, "one %d\n", 1));
    const char *lines[2] = {"x", "y"};
    assert_true(fileset_add_lines(fs, "a/two", lines, 2, &err));
    assert_true(fileset_add(fs, "a/two", "z\n", 2, &err)); // replaces
    assert_int_equal(fileset_count(fs), 2);
    assert_false(fileset_add(fs, "../evil", "", 0, &err));
    assert_false(fileset_add(fs, "/abs", "", 0, &err));
    char dir[128], path[256], buf[64];
    snprintf(dir, sizeof dir, "%s/out", base);
    assert_true(fileset_commit(fs, dir, &err));
    snprintf(path, sizeof path, "%s/a/b/one.txt", dir);
    read_file(path, buf, sizeof buf);
    assert_string_equal(buf, "one 1\n");
    snprintf(path, sizeof path, "%s/a/two", dir);
    read_file(path, buf, sizeof buf);
    assert_string_equal(buf, "z\n");
    // Committing again into the existing folder replaces the files.
    assert_true(fileset_add_lines(fs, "a/two", lines, 2, &err));
    assert_true(fileset_commit(fs, dir, &err));
    read_file(path, buf, sizeof buf);
    assert_string_equal(buf, "x\ny\n");
    fileset_free(fs);
}

static void test_failure_leaves_nothing(void **state)
{
    (void)state;
    Err err = {0};
    FileSet *fs = fileset_new(&err);
    assert_true(fileset_addf(fs, "f/ok.txt", &err, "fine\n"));
    assert_true(fileset_addf(fs, "f/ok.txt/child", &err, "a file cannot be a folder\n"));
    char dir[128];
    snprintf(dir, sizeof dir, "%s/failed", base);
    assert_false(fileset_commit(fs, dir, &err));
    struct stat st;
    assert_int_not_equal(stat(dir, &st), 0);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s | grep failed)\"", base); // no staging folder either
    assert_int_equal(system(cmd), 0);
    fileset_free(fs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_leaves_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
