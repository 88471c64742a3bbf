/* SPDX-License-Identifier: Apache-2.0 */
/* The channel mapping reproduces the parameter counts of the paper's final
 * networks (spec dpa-piad.md table 3.6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dpa_arch.h"

static DpaArch arch(int image_dim, int latent_res, int latent_dim, const int64_t *enc, int ne, const int64_t *dec,
                    int nd)
{
    DpaArch a = {.enc_type = DPA_RESIDUAL18, .dec_type = DPA_RESIDUAL18, .image_dim = image_dim,
                 .max_res = 64, .latent_res = latent_res, .latent_dim = latent_dim, .n_enc = ne, .n_dec = nd};
    memcpy(a.enc_dims, enc, (size_t)ne * sizeof *enc);
    memcpy(a.dec_dims, dec, (size_t)nd * sizeof *dec);
    return a;
}

static void expect(const DpaArch *a, int64_t enc, int64_t dec)
{
    Err err = {0};
    if (!dpa_arch_check(a, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(dpa_encoder_params(a, a->max_res), enc);
    assert_int_equal(dpa_decoder_params(a, a->max_res), dec);
}

static void test_paper_networks(void **state)
{
    (void)state;
    const int64_t four[7] = {4, 4, 4, 4, 4, 4, 4}, six4[7] = {64, 64, 64, 64, 64, 64, 64},
                  sixteen[7] = {16, 16, 16, 16, 16, 16, 16}, th2[7] = {32, 32, 32, 32, 32, 32, 32};
    DpaArch c16 = arch(3, 8, 4, four, 7, four, 7);
    expect(&c16, 2776, 2183);
    DpaArch c16u = arch(3, 16, 64, six4, 7, six4, 7);
    expect(&c16u, 518784, 371011);
    DpaArch c16l1 = arch(3, 16, 32, th2, 7, th2, 7);
    expect(&c16l1, 130368, 93347);
    const int64_t ap_enc[7] = {32, 32, 64, 64, 64, 64, 64}, ap_dec[7] = {64, 64, 64, 64, 64, 32, 32};
    DpaArch ap = arch(1, 1, 64, ap_enc, 7, ap_dec, 7);
    expect(&ap, 804800, 657025);
    const int64_t pg_enc[5] = {32, 32, 64, 64, 64}, pg_dec[5] = {64, 64, 64, 32, 32};
    DpaArch appg = arch(1, 1, 64, pg_enc, 5, pg_dec, 5);
    expect(&appg, 566720, 446593);
    DpaArch pa = arch(1, 1, 16, sixteen, 7, sixteen, 7);
    expect(&pa, 50672, 41377);
    DpaArch u = arch(1, 4, 64, six4, 7, six4, 7);
    expect(&u, 813056, 665281);
    const int64_t eight[4] = {8, 8, 8, 8};
    DpaArch cifar = arch(3, 1, 8, eight, 4, eight, 4);
    cifar.max_res = 32;
    expect(&cifar, 10600, 8259);
}

static void test_mapping_and_errors(void **state)
{
    (void)state;
    const int64_t enc[5] = {32, 32, 64, 64, 64}, dec[5] = {64, 64, 64, 32, 32};
    DpaArch a = arch(1, 1, 64, enc, 5, dec, 5);
    assert_int_equal(dpa_enc_channels(&a, 64), 32);
    assert_int_equal(dpa_enc_channels(&a, 16), 64);
    assert_int_equal(dpa_enc_channels(&a, 4), 64);
    assert_int_equal(dpa_dec_channels(&a, 4), 64);
    assert_int_equal(dpa_dec_channels(&a, 64), 32);
    a.n_enc = 3; // too short for 64..4
    Err err = {0};
    assert_false(dpa_arch_check(&a, &err));
    const int64_t four[4] = {4, 4, 4, 4};
    DpaArch b = arch(3, 8, 5, four, 4, four, 4); // latent_dim must equal nf_dec(8)
    err_clear(&err);
    assert_false(dpa_arch_check(&b, &err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paper_networks),
        cmocka_unit_test(test_mapping_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
