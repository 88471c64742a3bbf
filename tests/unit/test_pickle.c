/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of pickle: values made by Python's pickle (protocol 2), memo
 * aliasing, hooks, several pickles in one buffer, and malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pickle.h"

// pickle.dumps({'a': [1, -2, 300, -70000, 2**40, -2**63, True, False, None],
//               'b': (1.5, 'héllo', 'xy'), 'c': ()}, protocol=2)
static const char VALUES[] =
    "\x80\x02\x7d\x71\x00\x28\x58\x01\x00\x00\x00\x61\x71\x01\x5d\x71\x02\x28\x4b\x01\x4a\xfe\xff\xff\xff\x4d\x2c"
    "\x01\x4a\x90\xee\xfe\xff\x8a\x06\x00\x00\x00\x00\x00\x01\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80\x88\x89\x4e"
    "\x65\x58\x01\x00\x00\x00\x62\x71\x03\x47\x3f\xf8\x00\x00\x00\x00\x00\x00\x58\x06\x00\x00\x00\x68\xc3\xa9\x6c"
    "\x6c\x6f\x71\x04\x58\x02\x00\x00\x00\x78\x79\x71\x05\x87\x71\x06\x58\x01\x00\x00\x00\x63\x71\x07\x29\x75\x2e";

static void test_values(void **state)
{
    (void)state;
    Err err = {0};
    PickleArena *a = pickle_arena_new(&err);
    size_t pos = 0;
    const PValue *v = pickle_load(a, VALUES, sizeof VALUES - 1, &pos, NULL, &err);
    if (!v)
        fail_msg("%s", err.msg);
    assert_int_equal(pos, sizeof VALUES - 1);
    assert_int_equal(v->kind, PV_DICT);
    assert_int_equal(v->n, 3);
    const PValue *list = pickle_dict_get(v, "a");
    assert_non_null(list);
    assert_int_equal(list->kind, PV_LIST);
    assert_int_equal(list->n, 9);
    const int64_t ints[] = {1, -2, 300, -70000, (int64_t)1 << 40, INT64_MIN};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(list->items[i]->kind, PV_INT);
        assert_true(list->items[i]->i == ints[i]);
    }
    assert_true(list->items[6]->kind == PV_BOOL && list->items[6]->i == 1);
    assert_true(list->items[7]->kind == PV_BOOL && list->items[7]->i == 0);
    assert_int_equal(list->items[8]->kind, PV_NONE);
    const PValue *tuple = pickle_dict_get(v, "b");
    assert_true(tuple->kind == PV_TUPLE && tuple->n == 3);
    assert_true(tuple->items[0]->kind == PV_FLOAT && tuple->items[0]->f == 1.5);
    assert_true(pickle_is_str(tuple->items[1], "h\xc3\xa9llo"));
    assert_true(pickle_is_str(tuple->items[2], "xy"));
    const PValue *empty = pickle_dict_get(v, "c");
    assert_true(empty->kind == PV_TUPLE && empty->n == 0);
    assert_null(pickle_dict_get(v, "d"));
    pickle_arena_free(a);
}

static void test_memo_alias_and_sequence(void **state)
{
    (void)state;
    // l = [[]]; l.append(l[0]), then a second pickle: the int 7.
    static const char two[] = "\x80\x02\x5d\x71\x00\x28\x5d\x71\x01\x68\x01\x65\x2e"
                              "\x80\x02K\x07.";
    Err err = {0};
    PickleArena *a = pickle_arena_new(&err);
    size_t pos = 0;
    const PValue *l = pickle_load(a, two, sizeof two - 1, &pos, NULL, &err);
    assert_non_null(l);
    assert_int_equal(pos, 13);
    assert_true(l->kind == PV_LIST && l->n == 2 && l->items[0] == l->items[1]); // one object, twice
    const PValue *seven = pickle_load(a, two, sizeof two - 1, &pos, NULL, &err);
    assert_true(seven && seven->kind == PV_INT && seven->i == 7);
    assert_int_equal(pos, sizeof two - 1);
    pickle_arena_free(a);
}

static bool allow_point(void *ctx, const char *module, const char *name)
{
    (void)ctx;
    return !strcmp(module, "geo") && !strcmp(name, "Point");
}

// geo.Point(x, y) -> an opaque node holding x + y.
static PValue *make_point(void *ctx, PickleArena *arena, const PValue *callable, const PValue *args, Err *err)
{
    (void)ctx;
    (void)callable;
    if (args->n != 2)
        return err_set(err, "Point takes 2 arguments"), NULL;
    PValue *v = pickle_new_value(arena, PV_OPAQUE, err);
    int64_t *sum = v ? pickle_arena_alloc(arena, sizeof *sum, err) : NULL;
    if (!sum)
        return NULL;
    *sum = args->items[0]->i + args->items[1]->i;
    v->tag = 42;
    v->payload = sum;
    return v;
}

static void test_hooks(void **state)
{
    (void)state;
    PickleHooks hooks = {.global_allowed = allow_point, .reduce = make_point};
    static const char point[] = "\x80\x02" "cgeo\nPoint\nK\x02K\x03\x86R.";
    static const char bad_args[] = "\x80\x02" "cgeo\nPoint\nK\x02\x85R.";
    static const char other[] = "\x80\x02" "cgeo\nLine\n.";
    Err err = {0};
    PickleArena *a = pickle_arena_new(&err);
    size_t pos = 0;
    const PValue *v = pickle_load(a, point, sizeof point - 1, &pos, &hooks, &err);
    if (!v)
        fail_msg("%s", err.msg);
    assert_true(v->kind == PV_OPAQUE && v->tag == 42 && *(int64_t *)v->payload == 5);
    pos = 0;
    assert_null(pickle_load(a, bad_args, sizeof bad_args - 1, &pos, &hooks, &err));
    assert_string_equal(err.msg, "Point takes 2 arguments (byte offset 16)");
    assert_int_equal(pos, 0);
    err_clear(&err);
    assert_null(pickle_load(a, other, sizeof other - 1, &pos, &hooks, &err));
    assert_non_null(strstr(err.msg, "refusing to load geo.Line"));
    err_clear(&err);
    assert_null(pickle_load(a, point, sizeof point - 1, &pos, NULL, &err)); // no hooks: nothing is allowed
    assert_non_null(strstr(err.msg, "refusing to load geo.Point"));
    pickle_arena_free(a);
}

static void test_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t n;
        const char *needle;
    } cases[] = {
        {"", 0, "truncated pickle (byte offset 0)"},
        {"\x80\x05.", 3, "unsupported pickle protocol"},
        {"\x80\x02(K\x01\x31\x30.", 7, "stack underflow"},          // POP_MARK then POP on empty
        {"\x80\x02K\x01K\x02u.", 8, "needs a MARK"},
        {"\x80\x02}(K\x01u.", 7, "odd number"},
        {"\x80\x02(K\x01K\x02\x87.", 8, "stack underflow"},          // TUPLE3 across a MARK
        {"\x80\x02" "cgeo\nPoint", 11, "GLOBAL name too long or truncated"},
        {"\x80\x02K\x01Q.", 5, "persistent id without a loader"},
        {"\x80\x02\x8a\x05\x01\x02", 6, "truncated"},
        {"\x80\x02T\x00\x00\x00\x80.", 8, "negative string length"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Err err = {0};
        PickleArena *a = pickle_arena_new(&err);
        size_t pos = 0;
        assert_null(pickle_load(a, cases[i].bytes, cases[i].n, &pos, NULL, &err));
        if (!strstr(err.msg, cases[i].needle))
            fail_msg("case %zu: '%s' does not mention '%s'", i, err.msg, cases[i].needle);
        pickle_arena_free(a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_memo_alias_and_sequence),
        cmocka_unit_test(test_hooks),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
