/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of config: parsing, overrides, schema validation, messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

static const ConfigKey schema[] = {
    {"lr", CONFIG_DOUBLE, "0.001", "learning rate"},
    {"batch_size", CONFIG_INT, "128", "images per step"},
    {"smooth", CONFIG_BOOL, "false", "smooth PG loss"},
    {"dims", CONFIG_INT_LIST, NULL, "channels"},
    {"layers.*", CONFIG_STRING, NULL, "VGG taps per resolution"},
    {0},
};

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected '%s' in '%s'", needle, hay);
}

static void test_parse_and_get(void **state)
{
    (void)state;
    Err err = {0};
    Config *c = config_new(&err);
    const char *text = "# comment\nlr = 2e-3\n\nbatch_size=56  # trailing\ndims = 4, 4,8\nlayers.32 = r32\n";
    assert_true(config_load_text(c, text, strlen(text), "a.conf", &err));
    assert_true(config_validate(c, schema, &err));
    assert_true(config_apply_defaults(c, schema, &err));
    double lr;
    int64_t bs, dims[4];
    int n;
    bool smooth;
    assert_true(config_get_double(c, "lr", &lr, &err));
    assert_true(lr == 2e-3);
    assert_true(config_get_int(c, "batch_size", &bs, &err));
    assert_int_equal(bs, 56);
    assert_true(config_get_bool(c, "smooth", &smooth, &err));
    assert_false(smooth);
    assert_true(config_get_int_list(c, "dims", dims, 4, &n, &err));
    assert_int_equal(n, 3);
    assert_int_equal(dims[2], 8);
    assert_string_equal(config_get(c, "layers.32"), "r32");
    assert_string_equal(config_origin(c, "lr"), "a.conf:2");
    assert_true(config_set(c, "lr", "0.5", "--lr", &err));
    assert_string_equal(config_origin(c, "lr"), "--lr");
    size_t len;
    char *t = config_to_text(c, &len, &err);
    assert_string_equal(t, "batch_size=56\ndims=4, 4,8\nlayers.32=r32\nlr=0.5\nsmooth=false\n");
    free(t);
    config_free(c);
}

static void test_errors(void **state)
{
    (void)state;
    Err err = {0};
    Config *c = config_new(&err);
    const char *dup = "lr = 1\nlr = 2\n";
    assert_false(config_load_text(c, dup, strlen(dup), "d.conf", &err));
    assert_contains(err.msg, "d.conf:2: key 'lr' is set twice");
    config_free(c);

    err_clear(&err);
    c = config_new(&err);
    const char *unknown = "lr = 1\nlearning_rate = 2\n";
    assert_true(config_load_text(c, unknown, strlen(unknown), "u.conf", &err));
    assert_false(config_validate(c, schema, &err));
    assert_contains(err.msg, "u.conf:2: unknown key 'learning_rate'");
    config_free(c);

    err_clear(&err);
    c = config_new(&err);
    const char *badtype = "batch_size = many\n";
    assert_true(config_load_text(c, badtype, strlen(badtype), "t.conf", &err));
    assert_false(config_validate(c, schema, &err));
    assert_contains(err.msg, "t.conf:1: batch_size = 'many' is not a valid integer");
    config_free(c);

    err_clear(&err);
    c = config_new(&err);
    const char *noeq = "just words\n";
    assert_false(config_load_text(c, noeq, strlen(noeq), "n.conf", &err));
    assert_contains(err.msg, "n.conf:1: expected 'key = value'");
    assert_false(config_load_file(c, "/nonexistent/x.conf", &(Err){0}));
    const char *suffix = "layers.x = r1\n";
    err_clear(&err);
    assert_true(config_load_text(c, suffix, strlen(suffix), "s.conf", &err));
    assert_false(config_validate(c, schema, &err));
    config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_get),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
