/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of torchload: the paper's checkpoints, generated fixtures in both
 * container formats, and truncated, corrupted and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "torchload.h"

static char *path_in(const char *env, const char *fallback, const char *rel)
{
    const char *dir = getenv(env);
    if (!dir || !*dir)
        dir = fallback;
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, rel);
    return p;
}

static char *shared_path(const char *rel) { return path_in("ADKIT_SHARED", "../shared", rel); }
static char *fixture_path(const char *rel) { return path_in("ADKIT_TOP", ".", rel); }

static bool exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)len);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return buf;
}

static const NamedArray *need(const NamedArrays *w, const char *name, int ndim, const int64_t *dims)
{
    const NamedArray *a = named_arrays_find(w, name);
    if (!a)
        fail_msg("missing %s", name);
    assert_int_equal(a->ndim, ndim);
    for (int k = 0; k < ndim; k++)
        assert_int_equal(a->dims[k], dims[k]);
    return a;
}

static double sum(const NamedArray *a)
{
    double s = 0;
    for (int64_t i = 0; i < named_array_elements(a); i++)
        s += a->data[i];
    return s;
}

static void test_vgg_normalised(void **state)
{
    (void)state;
    char *path = shared_path("weights/vgg19-normalised-conv3_1.pth");
    if (!exists(path)) {
        free(path);
        skip();
    }
    NamedArrays w = {0};
    Err err = {0};
    assert_true(torch_load(path, &w, &err));
    assert_int_equal(w.count, 12);
    static const struct {
        const char *layer;
        int64_t o, i, k;
    } layers[] = {{"0", 3, 3, 1}, {"2", 64, 3, 3}, {"5", 64, 64, 3}, {"9", 128, 64, 3},
                  {"12", 128, 128, 3}, {"16", 256, 128, 3}};
    int64_t params = 0;
    for (size_t l = 0; l < sizeof layers / sizeof layers[0]; l++) {
        char name[32];
        snprintf(name, sizeof name, "%s.weight", layers[l].layer);
        int64_t wd[4] = {layers[l].o, layers[l].i, layers[l].k, layers[l].k};
        params += named_array_elements(need(&w, name, 4, wd));
        snprintf(name, sizeof name, "%s.bias", layers[l].layer);
        params += named_array_elements(need(&w, name, 1, wd));
    }
    assert_int_equal(params, 555340); // 12 + 1792 + 36928 + 73856 + 147584 + 295168
    // Layer 0 maps RGB in [0,1] to Caffe BGR x 255 minus the mean.
    const NamedArray *b0 = named_arrays_find(&w, "0.bias");
    assert_float_equal(b0->data[0], -103.939, 1e-3);
    const NamedArray *w0 = named_arrays_find(&w, "0.weight");
    assert_float_equal(w0->data[2], 255.0, 1e-3); // output 0 (B) = 255 x input 2 (B of RGB)
    named_arrays_fini(&w);
    free(path);
}

static void test_mean_var(void **state)
{
    (void)state;
    char *path = shared_path("weights/vgg19_ILSVRC2012_object_detection_mean_var.pt");
    if (!exists(path)) {
        free(path);
        skip();
    }
    NamedArrays w = {0};
    Err err = {0};
    assert_true(torch_load(path, &w, &err));
    assert_int_equal(w.count, 74); // 37 layers x (mean, var)
    static const struct {
        const char *name;
        int64_t c;
        double mean_sum, var_sum;
    } fp[] = {{"r12", 64, 32.748970, 66.332838},
              {"r22", 128, 102.139644, 256.421315},
              {"r32", 256, 364.477431, 836.742741},
              {"r42", 512, 549.458897, 1701.598612}};
    for (size_t i = 0; i < 4; i++) {
        char name[16];
        int64_t dims[4] = {1, fp[i].c, 1, 1};
        snprintf(name, sizeof name, "%s.0", fp[i].name);
        assert_float_equal(sum(need(&w, name, 4, dims)), fp[i].mean_sum, 1e-4);
        snprintf(name, sizeof name, "%s.1", fp[i].name);
        assert_float_equal(sum(need(&w, name, 4, dims)), fp[i].var_sum, 1e-4);
    }
    const float r12[] = {0.4270507f, 0.06770784f, 0.9834161f, 0.1772798f};
    const float r32m[] = {0.7979131f, 1.284839f, 1.476543f, 0.7826931f};
    const float r32v[] = {3.147757f, 3.156774f, 3.565282f, 2.131666f};
    const float r42[] = {0.8526183f, 0.5790614f, 1.128905f, 1.002736f};
    for (int k = 0; k < 4; k++) {
        assert_float_equal(named_arrays_find(&w, "r12.0")->data[k], r12[k], 1e-6);
        assert_float_equal(named_arrays_find(&w, "r32.0")->data[k], r32m[k], 1e-6);
        assert_float_equal(named_arrays_find(&w, "r32.1")->data[k], r32v[k], 1e-6);
        assert_float_equal(named_arrays_find(&w, "r42.0")->data[k], r42[k], 1e-6);
    }
    assert_non_null(named_arrays_find(&w, "p5.1"));
    assert_non_null(named_arrays_find(&w, "c54.0"));
    named_arrays_fini(&w);
    free(path);
}

// Every element of the generated fixture (see make_fixtures.py).
static void check_fixture(const NamedArrays *w)
{
    const char *order[] = {"conv.weight", "conv.bias", "transposed",   "f64",
                           "f16",         "shared.0",  "shared.1", "nested.list.0"};
    assert_int_equal(w->count, 8); // "counter" is int64 and skipped
    for (size_t i = 0; i < 8; i++)
        assert_string_equal(w->items[i].name, order[i]);
    const NamedArray *a = need(w, "conv.weight", 4, (int64_t[]){2, 3, 3, 3});
    for (int i = 0; i < 54; i++)
        assert_true(a->data[i] == (float)i * 0.01f);
    a = need(w, "conv.bias", 1, (int64_t[]){2});
    assert_true(a->data[0] == -1.5f && a->data[1] == 2.25f);
    a = need(w, "transposed", 2, (int64_t[]){3, 2}); // arange(6).reshape(2,3).t()
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++)
            assert_true(a->data[i * 2 + j] == (float)(j * 3 + i));
    a = need(w, "f64", 1, (int64_t[]){5});
    for (int i = 0; i < 5; i++)
        assert_true(a->data[i] == (float)(i / 3.0));
    a = need(w, "f16", 1, (int64_t[]){5});
    assert_true(a->data[0] == 0.5f && a->data[1] == -2.0f && a->data[2] == 65504.0f);
    assert_true(a->data[3] == 0x1p-24f); // the smallest subnormal half
    assert_true(isinf(a->data[4]) && a->data[4] > 0);
    a = need(w, "shared.0", 1, (int64_t[]){3});
    for (int i = 0; i < 3; i++)
        assert_true(a->data[i] == (float)(2 + i));
    a = need(w, "shared.1", 2, (int64_t[]){2, 2});
    for (int i = 0; i < 4; i++)
        assert_true(a->data[i] == (float)(6 + i));
    a = need(w, "nested.list.0", 1, (int64_t[]){2});
    assert_true(a->data[0] == 7.0f && a->data[1] == 7.0f);
}

static void test_fixtures(void **state)
{
    (void)state;
    const char *files[] = {"tests/fixtures/torchload/state.pt", "tests/fixtures/torchload/state_legacy.pt"};
    for (int f = 0; f < 2; f++) {
        char *path = fixture_path(files[f]);
        NamedArrays w = {0};
        Err err = {0};
        if (!torch_load(path, &w, &err))
            fail_msg("%s", err.msg);
        check_fixture(&w);
        // Loading into a used struct replaces its contents.
        assert_true(torch_load(path, &w, &err));
        check_fixture(&w);
        named_arrays_fini(&w);
        free(path);
    }
}

static void expect_error(const void *buf, size_t n, const char *needle)
{
    NamedArrays w = {0};
    Err err = {0};
    assert_false(torch_load_buffer(buf, n, "x.pt", &w, &err));
    assert_int_equal(w.count, 0);
    assert_null(w.items);
    assert_true(strncmp(err.msg, "x.pt: ", 6) == 0);
    if (needle && !strstr(err.msg, needle))
        fail_msg("'%s' does not mention '%s'", err.msg, needle);
}

static void test_truncated(void **state)
{
    (void)state;
    const char *files[] = {"tests/fixtures/torchload/state.pt", "tests/fixtures/torchload/state_legacy.pt"};
    for (int f = 0; f < 2; f++) {
        char *path = fixture_path(files[f]);
        size_t n;
        unsigned char *buf = slurp(path, &n);
        for (size_t len = 0; len < n; len++) {
            unsigned char *part = malloc(len ? len : 1); // exact size, so ASan sees overreads
            memcpy(part, buf, len);
            expect_error(part, len, NULL);
            free(part);
        }
        free(buf);
        free(path);
    }
}

static void test_corrupted(void **state)
{
    (void)state;
    const char *files[] = {"tests/fixtures/torchload/state.pt", "tests/fixtures/torchload/state_legacy.pt"};
    for (int f = 0; f < 2; f++) {
        char *path = fixture_path(files[f]);
        size_t n;
        unsigned char *buf = slurp(path, &n);
        // Each byte flipped in turn: either a clean error or a well-formed result.
        for (size_t i = 0; i < n; i++) {
            for (int bit = 0; bit < 8; bit += 7) {
                buf[i] ^= (unsigned char)(1 << bit);
                NamedArrays w = {0};
                Err err = {0};
                if (torch_load_buffer(buf, n, "x.pt", &w, &err)) {
                    for (size_t k = 0; k < w.count; k++)
                        assert_non_null(w.items[k].data);
                } else {
                    assert_true(err.msg[0] != 0);
                }
                named_arrays_fini(&w);
                buf[i] ^= (unsigned char)(1 << bit);
            }
        }
        free(buf);
        free(path);
    }
}

static void test_legacy_errors(void **state)
{
    (void)state;
    char *path = fixture_path("tests/fixtures/torchload/state_legacy.pt");
    size_t n;
    unsigned char *buf = slurp(path, &n);
    // The first storage's element count follows the key list; double it.
    unsigned char *copy = malloc(n);
    memcpy(copy, buf, n);
    const unsigned char *keys_end = NULL;
    for (size_t i = 0; i + 1 < n; i++)
        if (buf[i] == 'e' && buf[i + 1] == '.') // APPENDS, STOP of the key list
            keys_end = buf + i + 2;
    assert_non_null(keys_end);
    copy[keys_end - buf] ^= 0x40;
    expect_error(copy, n, "elements");
    free(copy);
    free(buf);
    free(path);

    path = fixture_path("tests/fixtures/torchload/evil_global.pt");
    buf = slurp(path, &n);
    expect_error(buf, n, "refusing to load posix.system");
    free(buf);
    free(path);
}

static void test_hostile_pickles(void **state)
{
    (void)state;
    // Legacy container: the first pickle must be the magic number.
    expect_error("\x80\x02K\x05.", 5, "bad magic");
    expect_error("\x80\x02h\x05.", 5, "memo index not defined");
    expect_error("\x80\x02r\xff\xff\xff\x7f.", 8, "memo index too large");
    expect_error("\x80\x02\x30.", 4, "stack underflow");
    expect_error("\x80\x02\xff.", 4, "opcode 0xff");
    expect_error("\x80\x02X\xff\xff\xff\xff", 8, "truncated");
    expect_error("\x80\x02(K\x01K\x02.", 8, "malformed stack");
    expect_error("\x80\x02" "cos\nsystem\n.", 14, "refusing to load os.system");
    expect_error("\x80\x02}K\x01s.", 6, "stack underflow");
    expect_error("\x80\x02]K\x01K\x02s.", 8, "not a dict");
    expect_error("\x80\x02K\x01K\x02R.", 8, "REDUCE needs a GLOBAL");
    expect_error("PK\x03\x04garbage", 11, "zip");
    // Marks nested without end, and a stack that never stops growing.
    size_t n = 2 + 5000;
    unsigned char *deep = malloc(n);
    memcpy(deep, "\x80\x02", 2);
    memset(deep + 2, '(', 5000);
    expect_error(deep, n, "too many nested MARKs");
    free(deep);
}

static void test_missing_file(void **state)
{
    (void)state;
    NamedArrays w = {0};
    Err err = {0};
    assert_false(torch_load("/nonexistent/x.pth", &w, &err));
    assert_non_null(strstr(err.msg, "/nonexistent/x.pth: cannot open"));
    err_clear(&err);
    assert_false(torch_load("/dev/null", &w, &err));
    assert_non_null(strstr(err.msg, "/dev/null"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vgg_normalised), cmocka_unit_test(test_mean_var),
        cmocka_unit_test(test_fixtures),       cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_corrupted),      cmocka_unit_test(test_legacy_errors),
        cmocka_unit_test(test_hostile_pickles), cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
