/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the progressive-growing schedule against the iteration
 * counts the spec lists (dpa-piad.md 4.2): the final stage runs N+1 or N
 * iterations depending on float64 rounding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pg.h"

static int64_t final_stage_length(int64_t n)
{
    PgPlan plan = {.initial_res = 64, .max_res = 64};
    plan.iters[0][PG_STAB] = n;
    return pg_total_iterations(&plan);
}

static void test_final_stage_n_or_n_plus_1(void **state)
{
    (void)state;
    const int64_t plus_one[] = {20000, 16000, 7000, 10000, 5000, 4666, 6666, 16666,
                                10333, 12000, 31000, 32333, 64333, 24333, 100000};
    const int64_t exact[] = {34666, 8666, 27000, 33000, 3500, 5666, 7333, 3666, 7666, 8000,
                             25333, 15333, 9666, 8333, 18000, 46000, 77000, 28333, 57666};
    for (size_t i = 0; i < sizeof plus_one / sizeof plus_one[0]; i++)
        assert_int_equal(final_stage_length(plus_one[i]), plus_one[i] + 1);
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        assert_int_equal(final_stage_length(exact[i]), exact[i]);
}

static void test_camelyon16_pg_sequence(void **state)
{
    (void)state;
    // stab16 20000, trns32 20000, stab32 20000, trns64 20000, stab64 8666
    PgPlan plan = {.initial_res = 16, .max_res = 64};
    plan.iters[0][PG_STAB] = 20000;
    plan.iters[1][PG_TRNS] = 20000;
    plan.iters[1][PG_STAB] = 20000;
    plan.iters[2][PG_TRNS] = 20000;
    plan.iters[2][PG_STAB] = 8666;
    PgSchedule pg;
    Err err = {0};
    assert_true(pg_init(&pg, &plan, &err));
    int switches = 0;
    PgStage stages[5] = {PG_STAB};
    int res[5] = {16};
    while (!pg_finished(&pg)) {
        pg_begin_iteration(&pg);
        if (pg.stage == PG_TRNS && pg.stage_iter == 0) // alpha at the first trns step is 1/N
            assert_true(pg_alpha(&pg) == (float)(1.0 / 20000));
        if (pg_end_iteration(&pg) == PG_STAGE_DONE) {
            switches++;
            stages[switches] = pg.stage;
            res[switches] = pg.res;
            assert_int_equal(pg.global_iter, 20000 * switches);
        }
    }
    assert_int_equal(switches, 4);
    assert_int_equal(stages[1], PG_TRNS);
    assert_int_equal(res[1], 32);
    assert_int_equal(stages[2], PG_STAB);
    assert_int_equal(res[2], 32);
    assert_int_equal(stages[3], PG_TRNS);
    assert_int_equal(res[4], 64);
    assert_int_equal(pg.global_iter, 80000 + 8666);
}

static void test_bad_plans(void **state)
{
    (void)state;
    PgSchedule pg;
    Err err = {0};
    PgPlan plan = {.initial_res = 24, .max_res = 64};
    plan.iters[0][PG_STAB] = 1;
    assert_false(pg_init(&pg, &plan, &err));
    err_clear(&err);
    PgPlan p2 = {.initial_res = 16, .max_res = 32};
    p2.iters[0][PG_STAB] = 10;
    p2.iters[1][PG_STAB] = 10; // trns count missing
    assert_false(pg_init(&pg, &p2, &err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_final_stage_n_or_n_plus_1),
        cmocka_unit_test(test_camelyon16_pg_sequence),
        cmocka_unit_test(test_bad_plans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
