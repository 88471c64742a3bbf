/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of folds: sklearn KFold blocks, Python's int(0.2 n), and the
 * class-wise folds (disjoint, complete, seeded). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <unistd.h>

#include "folds.h"
#include "npy.h"

static void test_kfold_blocks(void **state)
{
    (void)state;
    // sklearn: KFold(3) over 10 -> test blocks [0,4) [4,7) [7,10).
    size_t s, e;
    folds_kfold_block(10, 3, 0, &s, &e);
    assert_int_equal(s, 0);
    assert_int_equal(e, 4);
    folds_kfold_block(10, 3, 1, &s, &e);
    assert_int_equal(s, 4);
    assert_int_equal(e, 7);
    folds_kfold_block(10, 3, 2, &s, &e);
    assert_int_equal(s, 7);
    assert_int_equal(e, 10);
    // CIFAR-10: 5000 per class -> 1667, 1667, 1666 (spec §4.2).
    folds_kfold_block(5000, 3, 2, &s, &e);
    assert_int_equal(e - s, 1666);
    // int(0.2 * 3333) = 666, int(0.2 * 3334) = 666, int(0.2 * 5) = 1.
    assert_int_equal(folds_val_count(3333), 666);
    assert_int_equal(folds_val_count(3334), 666);
    assert_int_equal(folds_val_count(5), 1);
    assert_int_equal(folds_val_count(0), 0);
}


static void test_classwise(void **state)
{
    (void)state;
    enum { N = 600 };
    FoldsLabels l = {0};
    l.index = malloc(N * sizeof *l.index);
    l.label = malloc(N * sizeof *l.label);
    l.n = N;
    for (int i = 0; i < N; i++) {
        l.index[i] = N - 1 - i; // given in reverse: the folds must sort by index
        l.label[i] = (N - 1 - i) % 3;
    }
    Err err = {0};
    FileSet *a = fileset_new(&err), *b = fileset_new(&err);
    FoldsClasswise spec = {"cifar10", 3, 5, NULL};
    assert_true(folds_make_classwise(&l, &spec, a, &err));
    assert_true(folds_make_classwise(&l, &spec, b, &err));
    assert_int_equal(fileset_count(a), 3 * 3 * 4 + 1);
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/adkit-folds-%d", (int)getpid());
    assert_true(fileset_commit(a, dir, &err));
    char dir_b[80], cmd[256];
    snprintf(dir_b, sizeof dir_b, "%s-b", dir);
    assert_true(fileset_commit(b, dir_b, &err));
    snprintf(cmd, sizeof cmd, "diff -r %s %s >/dev/null", dir, dir_b); // same seed, same bytes
    assert_int_equal(system(cmd), 0);
    // Class 1, fold 1: every member of the class exactly once across parts.
    int seen[N] = {0};
    const char *parts[3] = {"train", "val", "test_normal"};
    size_t sizes[3];
    for (int p = 0; p < 3; p++) {
        char path[256];
        snprintf(path, sizeof path, "%s/folds/cifar10/1/1/%s.npy", dir, parts[p]);
        int64_t *v;
        size_t n;
        assert_true(npy_read_i64(path, &v, &n, &err));
        sizes[p] = n;
        for (size_t i = 0; i < n; i++) {
            assert_true(v[i] >= 0 && v[i] < N);
            assert_int_equal(v[i] % 3, 1);
            seen[v[i]]++;
        }
        if (p == 2) // the test block: contiguous, ascending, the second third
            for (size_t i = 0; i < n; i++)
                assert_int_equal(v[i], 1 + 3 * (67 + (int64_t)i));
        free(v);
    }
    for (int i = 1; i < N; i += 3)
        assert_int_equal(seen[i], 1);
    assert_int_equal(sizes[2], 67);  // KFold(3) over 200: 67, 67, 66
    assert_int_equal(sizes[1], 26);  // int(0.2 * 133)
    assert_int_equal(sizes[0], 107);
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", dir, dir_b);
    assert_int_equal(system(cmd), 0);
    fileset_free(a);
    fileset_free(b);
    // One class only: a clear error.
    for (int i = 0; i < N; i++)
        l.label[i] = 4;
    FileSet *c = fileset_new(&err);
    assert_false(folds_make_classwise(&l, &spec, c, &err));
    assert_non_null(strstr(err.msg, "at least 2"));
    fileset_free(c);
    folds_labels_fini(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kfold_blocks),
        cmocka_unit_test(test_classwise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
