/* SPDX-License-Identifier: Apache-2.0 */
/* Every experiment configuration in pipelines/configs parses, validates, and
 * builds the paper's network sizes and schedules (spec dpa-piad.md 3.6, 9). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dpa_config.h"

static bool load(const char *path, Config **c, DpaConfig *dc, Err *err)
{
    *c = config_new(err);
    return *c && config_load_file(*c, path, err) && dpa_config_from(*c, dc, err);
}

static int check_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".conf") == 0) {
            Config *c;
            DpaConfig dc;
            Err err = {0};
            if (!load(path, &c, &dc, &err))
                fail_msg("%s", err.msg);
            config_free(c);
            n++;
        } else {
            n += check_dir(path);
        }
    }
    closedir(d);
    return n;
}

static void test_all_configs_load(void **state)
{
    (void)state;
    int n = check_dir("pipelines/configs");
    if (n == 0)
        skip(); // run from the project's top folder
    assert_true(n >= 40);
}

static void expect(const char *path, int64_t enc, int64_t dec, int64_t total_iters)
{
    Config *c;
    DpaConfig dc;
    Err err = {0};
    if (!load(path, &c, &dc, &err)) {
        if (strstr(err.msg, "cannot open"))
            skip();
        fail_msg("%s", err.msg);
    }
    assert_int_equal(dpa_encoder_params(&dc.arch, dc.arch.max_res), enc);
    assert_int_equal(dpa_decoder_params(&dc.arch, dc.arch.max_res), dec);
    assert_int_equal(pg_total_iterations(&dc.plan), total_iters);
    config_free(c);
}

static void test_paper_values(void **state)
{
    (void)state;
    expect("pipelines/configs/camelyon16/dpa-wo_pg.conf", 2776, 2183, 34666);
    expect("pipelines/configs/camelyon16/dpa-pg.conf", 2776, 2183, 80000 + 8666);
    expect("pipelines/configs/nih/AP/dpa-wo_pg.conf", 804800, 657025, 27000);
    expect("pipelines/configs/nih/AP/dpa-pg.conf", 566720, 446593, 6 * 20000 + 7001);
    expect("pipelines/configs/nih/PA/dpa-wo_pg.conf", 50672, 41377, 33000);
    expect("pipelines/configs/nih/subset/dpa-wo_pg_unsupervised.conf", 813056, 665281, 24334);
    expect("pipelines/configs/camelyon16/dpa-wo_pg_unsupervised.conf", 518784, 371011, 77000);
    expect("pipelines/configs/cifar10/dpa-class1.conf", 10600, 8259, 7333);
}

static void test_layers_per_resolution(void **state)
{
    (void)state;
    Config *c;
    DpaConfig dc;
    Err err = {0};
    if (!load("pipelines/configs/nih/subset/dpa-pg.conf", &c, &dc, &err))
        skip();
    assert_int_equal(dc.plan.initial_res, 8);
    assert_string_equal(dc.layers[0].names[0], "r12");
    assert_string_equal(dc.layers[3].names[0], "r42");
    assert_true(dc.use_smooth_pg);
    assert_int_equal(dc.batch_size[3], 128);
    config_free(c);
    if (!load("pipelines/configs/svhn/dpa-class1.conf", &c, &dc, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(dc.layers[0].count, 2);
    assert_string_equal(dc.layers[0].names[1], "r42");
    assert_true(dc.grey);
    config_free(c);
}

static void test_bad_values(void **state)
{
    (void)state;
    Config *c = config_new(NULL);
    Err err = {0};
    const char *text = "latent_dim = 4\nenc_inner_dims = 4,4\ndec_inner_dims = 4,4,4,4\nlatent_res = 8\n"
                       "stab_iters = 10\nimage_dim = 3\n";
    assert_true(config_load_text(c, text, strlen(text), "x.conf", &err));
    DpaConfig dc;
    assert_false(dpa_config_from(c, &dc, &err));
    assert_non_null(strstr(err.msg, "enc_inner_dims has 2 entries"));
    config_free(c);
    c = config_new(NULL);
    err_clear(&err);
    const char *typo = "latent_dim = 4\nlearning_rate = 1\n";
    assert_true(config_load_text(c, typo, strlen(typo), "y.conf", &err));
    assert_false(dpa_config_from(c, &dc, &err));
    assert_non_null(strstr(err.msg, "y.conf:2: unknown key 'learning_rate'"));
    config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_configs_load),
        cmocka_unit_test(test_paper_values),
        cmocka_unit_test(test_layers_per_resolution),
        cmocka_unit_test(test_bad_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
