/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of roc: hand-computed AUROC, AP, F1 and TPR at 5% FPR with
 * ties, the score direction, bootstrap determinism, and bad inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <math.h>

#include "rng.h"
#include "roc.h"

// cmocka before 1.1.6 has no assert_double_equal.
#define assert_near(a, b, tol) near_check((a), (b), (tol), #a, __LINE__)
static void near_check(double a, double b, double tol, const char *what, int line)
{
    if (!(fabs(a - b) <= tol))
        fail_msg("line %d: %s = %.17g, expected %.17g (tolerance %g)", line, what, a, b, tol);
}

static RocStats stats_of(const double *s, const uint8_t *y, size_t n, bool higher_is_normal)
{
    Err err = {0};
    RocData *d = roc_new(s, y, n, higher_is_normal, &err);
    assert_non_null(d);
    RocStats st;
    assert_true(roc_compute(d, &st, &err));
    roc_free(d);
    return st;
}

// Anomalies {0.9, 0.5}, normals {0.5, 0.1, 0.2}: one tie across classes.
// U = 3 (0.9 beats all) + 2 + 0.5 (0.5 beats 0.1, 0.2, ties 0.5) = 5.5 of 6.
// AP: at 0.9 R=1/2 P=1; at 0.5 R=1 P=2/3 -> 1/2 + 1/3 = 5/6.
// F1: 2/3 at 0.9, 4/5 at 0.5 (best), 2/3 at 0.2, 4/7 at 0.1.
// ROC: (0,0) (0,1/2) (1/3,1) ...; at FPR 0.05: 1/2 + 1/2 * 0.05 / (1/3) = 0.575.
static void test_ties_by_hand(void **state)
{
    (void)state;
    double s[5] = {0.9, 0.5, 0.5, 0.1, 0.2};
    uint8_t y[5] = {1, 1, 0, 0, 0};
    RocStats st = stats_of(s, y, 5, false);
    assert_int_equal(st.n_anomaly, 2);
    assert_int_equal(st.n_normal, 3);
    assert_near(st.auroc, 11.0 / 12.0, 1e-15);
    assert_near(st.aupr, 5.0 / 6.0, 1e-15);
    assert_near(st.best_f1, 0.8, 1e-15);
    assert_near(st.best_f1_threshold, 0.5, 0);
    assert_near(st.tpr_at_fpr5, 0.575, 1e-15);
    // The same data as normality scores: identical metrics, threshold in the
    // caller's units (predicted anomalous when score <= -0.5).
    double ns[5] = {-0.9, -0.5, -0.5, -0.1, -0.2};
    RocStats nt = stats_of(ns, y, 5, true);
    assert_near(nt.auroc, st.auroc, 0);
    assert_near(nt.aupr, st.aupr, 0);
    assert_near(nt.best_f1_threshold, -0.5, 0);
}

static void test_all_tied(void **state)
{
    (void)state;
    double s[7] = {1, 1, 1, 1, 1, 1, 1};
    uint8_t y[7] = {1, 0, 0, 1, 0, 0, 1};
    RocStats st = stats_of(s, y, 7, false);
    assert_near(st.auroc, 0.5, 0);
    assert_near(st.aupr, 3.0 / 7.0, 1e-15);
    assert_near(st.tpr_at_fpr5, 0.05, 1e-15); // the diagonal
    // -0.0 and +0.0 are the same score.
    double z[2] = {-0.0, 0.0};
    uint8_t zy[2] = {1, 0};
    assert_near(stats_of(z, zy, 2, false).auroc, 0.5, 0);
}

// 20 normals, so one false positive is exactly FPR 0.05; two points lie
// there, (0.05, 1/2) and (0.05, 1): the larger TPR is taken.
static void test_exact_five_percent(void **state)
{
    (void)state;
    double s[22];
    uint8_t y[22];
    s[0] = 10, y[0] = 1;
    s[1] = 9, y[1] = 0;
    s[2] = 5, y[2] = 1;
    for (int i = 3; i < 22; i++)
        s[i] = 1, y[i] = 0;
    RocStats st = stats_of(s, y, 22, false);
    assert_near(st.tpr_at_fpr5, 1.0, 0);
    assert_near(st.auroc, (20 + 19) / 40.0, 1e-15);
}

// Perfect separation and perfect inversion.
static void test_extremes(void **state)
{
    (void)state;
    double s[4] = {3, 4, 1, 2};
    uint8_t y[4] = {1, 1, 0, 0};
    RocStats st = stats_of(s, y, 4, false);
    assert_near(st.auroc, 1, 0);
    assert_near(st.aupr, 1, 0);
    assert_near(st.best_f1, 1, 0);
    assert_near(st.best_f1_threshold, 3, 0);
    st = stats_of(s, y, 4, true);
    assert_near(st.auroc, 0, 0);
}

// Brute-force O(n^2) Mann-Whitney on random tied data.
static void test_against_brute_force(void **state)
{
    (void)state;
    enum { N = 3000 };
    static double s[N];
    static uint8_t y[N];
    Rng rng;
    rng_init(&rng, 11);
    for (int i = 0; i < N; i++) {
        y[i] = rng_uniform(&rng) < 0.25;
        s[i] = (double)(int64_t)(rng_below(&rng, 50)) + (y[i] ? 7 : 0) - 20; // negatives too
    }
    double u = 0, np = 0, nn = 0;
    for (int i = 0; i < N; i++) {
        if (!y[i])
            continue;
        np++;
        for (int j = 0; j < N; j++)
            if (!y[j])
                u += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
    }
    nn = N - np;
    RocStats st = stats_of(s, y, N, false);
    assert_near(st.auroc, u / (np * nn), 1e-12);
}

static void test_bootstrap(void **state)
{
    (void)state;
    enum { N = 500 };
    static double s[N];
    static uint8_t y[N];
    Rng rng;
    rng_init(&rng, 2);
    for (int i = 0; i < N; i++) {
        y[i] = i % 3 == 0;
        s[i] = rng_normal(&rng) + y[i];
    }
    Err err = {0};
    RocData *d = roc_new(s, y, N, false, &err);
    assert_non_null(d);
    RocStats st;
    assert_true(roc_compute(d, &st, &err));
    double lo1, hi1, lo2, hi2;
    assert_true(roc_bootstrap(d, 200, 0.95, 9, 1, &lo1, &hi1, &err));
    assert_true(roc_bootstrap(d, 200, 0.95, 9, 3, &lo2, &hi2, &err));
    assert_near(lo1, lo2, 0);
    assert_near(hi1, hi2, 0);
    assert_true(lo1 < st.auroc && st.auroc < hi1);
    assert_true(hi1 - lo1 < 0.2);
    assert_true(roc_bootstrap(d, 200, 0.95, 10, 2, &lo2, &hi2, &err));
    assert_true(lo1 != lo2 || hi1 != hi2); // another seed, another interval
    assert_false(roc_bootstrap(d, 0, 0.95, 9, 1, &lo1, &hi1, &err));
    roc_free(d);
}

static void test_bad_input(void **state)
{
    (void)state;
    Err err = {0};
    double s[3] = {1, 2, 0.0 / 0.0};
    uint8_t y[3] = {1, 0, 0};
    assert_null(roc_new(s, y, 3, false, &err));
    assert_non_null(strstr(err.msg, "NaN"));
    err_clear(&err);
    uint8_t one[2] = {1, 1};
    assert_null(roc_new(s, one, 2, false, &err));
    assert_non_null(strstr(err.msg, "only one class"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ties_by_hand),     cmocka_unit_test(test_all_tied),
        cmocka_unit_test(test_exact_five_percent), cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_against_brute_force), cmocka_unit_test(test_bootstrap),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
