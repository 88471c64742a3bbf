/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the training sampler: epochs are permutations, the last
 * partial batch is dropped, restoring a state continues identically. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sampler.h"

static void test_epochs(void **state)
{
    (void)state;
    Sampler s;
    Err err = {0};
    assert_true(sampler_init(&s, 10, 3, 42, &err));
    int seen[10] = {0};
    int64_t b[3];
    for (int k = 0; k < 3; k++) { // one epoch: 3 batches of 3, one image left out
        sampler_next_batch(&s, b);
        for (int i = 0; i < 3; i++)
            seen[b[i]]++;
    }
    int total = 0;
    for (int i = 0; i < 10; i++) {
        assert_true(seen[i] <= 1);
        total += seen[i];
    }
    assert_int_equal(total, 9);
    assert_int_equal(s.state.epoch, 0);
    sampler_next_batch(&s, b);
    assert_int_equal(s.state.epoch, 1);
    assert_int_equal(s.state.position, 3);
    sampler_fini(&s);
}

static void test_restore_continues(void **state)
{
    (void)state;
    Sampler a, b;
    Err err = {0};
    assert_true(sampler_init(&a, 100, 7, 5, &err));
    int64_t x[7], y[7];
    for (int k = 0; k < 30; k++)
        sampler_next_batch(&a, x);
    SamplerState saved = a.state;
    assert_true(sampler_init(&b, 100, 7, 999, &err));
    assert_true(sampler_restore(&b, &saved, &err));
    for (int k = 0; k < 40; k++) {
        sampler_next_batch(&a, x);
        sampler_next_batch(&b, y);
        assert_memory_equal(x, y, sizeof x);
    }
    saved.n = 99;
    assert_false(sampler_restore(&b, &saved, &err));
    sampler_fini(&a);
    sampler_fini(&b);
}

static void test_bad_sizes(void **state)
{
    (void)state;
    Sampler s;
    Err err = {0};
    assert_false(sampler_init(&s, 5, 6, 1, &err));
    err_clear(&err);
    assert_false(sampler_init(&s, 0, 1, 1, &err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_epochs),
        cmocka_unit_test(test_restore_continues),
        cmocka_unit_test(test_bad_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
