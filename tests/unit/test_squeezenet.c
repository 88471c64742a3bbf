/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of ncnn + squeezenet: the published SqueezeNet 1.1 classifies
 * four photographs correctly; taps, shapes and malformed files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "img.h"
#include "ncnn.h"
#include "squeezenet.h"

static char *shared_path(const char *rel)
{
    const char *dir = getenv("ADKIT_SHARED");
    if (!dir || !*dir)
        dir = "../shared";
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, rel);
    return p;
}

static SqueezeNet *load_shared(void)
{
    char *param = shared_path("weights/squeezenet_v1.1.param"), *bin = shared_path("weights/squeezenet_v1.1.bin");
    SqueezeNet *net = NULL;
    if (access(param, R_OK) == 0 && access(bin, R_OK) == 0) {
        Err err = {0};
        net = squeezenet_load(param, bin, &err);
        if (!net)
            fail_msg("%s", err.msg);
    }
    free(param);
    free(bin);
    return net;
}

// Line `line` (1-based) of the labels file, without the newline.
static void label_line(int line, char *out, size_t size)
{
    char *path = shared_path("images/imagenet_labels.txt");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    for (int i = 1; i <= line; i++)
        assert_non_null(fgets(out, (int)size, f));
    out[strcspn(out, "\r\n")] = 0;
    fclose(f);
    free(path);
}

static void test_classify(void **state)
{
    (void)state;
    SqueezeNet *net = load_shared();
    if (!net)
        skip();
    static const struct {
        const char *file, *label;
    } cases[] = {{"cat", "Egyptian cat"}, {"bird", "chickadee"}, {"grace_hopper", "bow tie"},
                 {"dragonfly", "dragonfly"}};
    int side = squeezenet_input_side(net);
    assert_int_equal(side, 227);
    float *x = malloc(4 * 3 * (size_t)side * side * sizeof *x);
    for (int i = 0; i < 4; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "images/%s.bmp", cases[i].file);
        char *path = shared_path(rel);
        Image im = {0};
        TRecord rec;
        trecord_init(&rec);
        Err err = {0};
        if (!image_read(path, &im, &err) || !image_to_record(&im, &rec, &err))
            fail_msg("%s", err.msg);
        assert_true(squeezenet_preprocess(x + (size_t)i * 3 * side * side, side, rec.data, (int)rec.dims[0],
                                          (int)rec.dims[1], (int)rec.dims[2], &err));
        trecord_fini(&rec);
        image_fini(&im);
        free(path);
    }
    // One batch of four: each image's result must not depend on its neighbours.
    float prob[4000], single[1000];
    Err err = {0};
    assert_true(squeezenet_forward(net, prob, x, 4, "prob", &err));
    for (int i = 0; i < 4; i++) {
        int best = 0;
        double total = 0;
        for (int c = 0; c < 1000; c++) {
            total += prob[i * 1000 + c];
            if (prob[i * 1000 + c] > prob[i * 1000 + best])
                best = c;
        }
        assert_float_equal(total, 1.0, 1e-4);
        char label[256];
        label_line(best + 2, label, sizeof label);
        if (!strstr(label, cases[i].label))
            fail_msg("%s: top-1 is class %d '%s' (p=%.3f), expected '%s'", cases[i].file, best, label,
                     prob[i * 1000 + best], cases[i].label);
        assert_true(squeezenet_forward(net, single, x + (size_t)i * 3 * side * side, 1, "prob", &err));
        assert_memory_equal(single, prob + i * 1000, sizeof single);
    }
    // Taps: by layer name and by blob name, with the shapes of SqueezeNet 1.1.
    int64_t chw[3];
    assert_true(squeezenet_tap_shape(net, "fire9/concat", chw, &err));
    assert_true(chw[0] == 512 && chw[1] == 14 && chw[2] == 14);
    assert_true(squeezenet_tap_shape(net, "pool3", chw, &err));
    assert_true(chw[0] == 128 && chw[1] == 28 && chw[2] == 28); // Caffe rounds up: 56 -> 28
    assert_true(squeezenet_tap_shape(net, "fire9/concat_drop9", chw, &err));
    assert_true(squeezenet_tap_shape(net, "pool10", chw, &err));
    assert_true(chw[0] == 1000 && chw[1] == 1 && chw[2] == 1);
    // pool10 is the mean of conv10: check one channel from the conv10 tap.
    assert_true(squeezenet_tap_shape(net, "conv10", chw, &err));
    size_t area = (size_t)(chw[1] * chw[2]);
    float *conv10 = malloc(1000 * area * sizeof *conv10), pool10[1000];
    assert_true(squeezenet_forward(net, conv10, x, 1, "conv10", &err));
    assert_true(squeezenet_forward(net, pool10, x, 1, "pool10", &err));
    double mean = 0;
    for (size_t i = 0; i < area; i++)
        mean += conv10[281 * area + i];
    assert_float_equal(mean / (double)area, pool10[281], 1e-4);
    assert_false(squeezenet_tap_shape(net, "fire99", chw, &err));
    assert_non_null(strstr(err.msg, "unknown tap fire99 (taps: conv1 pool1"));
    free(conv10);
    free(x);
    squeezenet_free(net);
}

static void test_preprocess(void **state)
{
    (void)state;
    // A 2x2 RGB image at the net's size is copied, reordered and mean-subtracted.
    uint8_t chw[12] = {10, 20, 30, 40, 100, 110, 120, 130, 200, 210, 220, 230};
    float out[12];
    Err err = {0};
    assert_true(squeezenet_preprocess(out, 2, chw, 3, 2, 2, &err));
    assert_true(out[0] == 200 - 104 && out[4] == 100 - 117 && out[8] == 10 - 123 && out[11] == 40 - 123);
    uint8_t grey[4] = {0, 50, 100, 255};
    assert_true(squeezenet_preprocess(out, 2, grey, 1, 2, 2, &err));
    assert_true(out[3] == 255 - 104 && out[7] == 255 - 117 && out[11] == 255 - 123);
    assert_false(squeezenet_preprocess(out, 2, grey, 2, 2, 1, &err));
    assert_non_null(strstr(err.msg, "2 channels"));
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

// A tiny hand-written net: 1x1 conv (2 -> 1 outputs from 3 channels), fp16 weights.
static void test_bad_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/adkit-ncnn.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char param[64], bin[64];
    snprintf(param, sizeof param, "%s/n.param", dir);
    snprintf(bin, sizeof bin, "%s/n.bin", dir);
    const char *good = "7767517\n3 3\nInput in 0 1 data 0=4 1=4 2=3\n"
                       "Convolution c 1 1 data c 0=1 1=1 5=1 6=3 9=1\nPooling g 1 1 c g 0=1 4=1\n";
    // tag, three fp16 weights (1.0, 2.0, -1.0) padded to 8 bytes, fp32 bias 0.5
    unsigned char w[4 + 8 + 4] = {0x47, 0x6B, 0x30, 0x01, 0x00, 0x3c, 0x00, 0x40, 0x00, 0xbc, 0, 0};
    float bias = 0.5f;
    memcpy(w + 12, &bias, 4);
    write_text(param, good);
    write_bytes(bin, w, sizeof w);
    Err err = {0};
    SqueezeNet *net = squeezenet_load(param, bin, &err);
    if (!net)
        fail_msg("%s", err.msg);
    float x[48], y[1];
    for (int i = 0; i < 48; i++)
        x[i] = i < 16 ? 1.0f : i < 32 ? 2.0f : 3.0f; // 1 + 4 - 3 + 0.5 = 2.5 everywhere
    assert_true(squeezenet_forward(net, y, x, 1, "g", &err));
    assert_float_equal(y[0], 2.5, 1e-6);
    squeezenet_free(net);

    static const struct {
        const char *param, *needle;
    } bad[] = {
        {"7767518\n", "expected 7767517"},
        {"7767517\n3 3\nInput in 0 1 data 0=4 1=4 2=3\nDeconvolution c 1 1 data c\nPooling g 1 1 c g 0=1 4=1\n",
         "line 4: unsupported layer type Deconvolution"},
        {"7767517\n3 3\nInput in 0 1 data 0=4 1=4 2=3\nConvolution c 1 1 nope c 0=1 1=1 5=1 6=3\n"
         "Pooling g 1 1 c g 0=1 4=1\n",
         "blob nope is used before"},
        {"7767517\n3 3\nInput in 0 1 data 0=4 1=4 2=3\nConvolution c 1 1 data c 0=1 1=1 5=1 6=6\n"
         "Pooling g 1 1 c g 0=1 4=1\n",
         "truncated"},
        {"7767517\n3 3\nInput in 0 1 data 0=4 1=4 2=3\nConvolution c 1 1 data c 0=1 1=1 5=1 6=3 99=1\n"
         "Pooling g 1 1 c g 0=1 4=1\n",
         "parameter id 99 out of range"},
        {"7767517\n4 3\nInput in 0 1 data 0=4 1=4 2=3\nConvolution c 1 1 data c 0=1 1=1 5=1 6=3\n"
         "Pooling g 1 1 c g 0=1 4=1\n",
         "4 layers declared, 3 found"},
        {"7767517\n3 3\nInput in 0 1 data 0=4 1=4 2=3\nConvolution c 1 1 data c 0=1 1=1 5=1 6=3 9=x\n"
         "Pooling g 1 1 c g 0=1 4=1\n",
         "bad value 'x'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_text(param, bad[i].param);
        err_clear(&err);
        assert_null(squeezenet_load(param, bin, &err));
        if (!strstr(err.msg, bad[i].needle))
            fail_msg("case %zu: '%s' does not mention '%s'", i, err.msg, bad[i].needle);
    }
    // Weights that do not match the input channels, an unknown encoding, leftover bytes.
    write_text(param, good);
    write_bytes(bin, w, sizeof w - 1);
    err_clear(&err);
    assert_null(squeezenet_load(param, bin, &err));
    assert_non_null(strstr(err.msg, "truncated: bias of layer c"));
    unsigned char longer[sizeof w + 4] = {0};
    memcpy(longer, w, sizeof w);
    write_bytes(bin, longer, sizeof longer);
    err_clear(&err);
    assert_null(squeezenet_load(param, bin, &err));
    assert_non_null(strstr(err.msg, "4 bytes left over"));
    w[0] = 0x12;
    write_bytes(bin, w, sizeof w);
    err_clear(&err);
    assert_null(squeezenet_load(param, bin, &err));
    assert_non_null(strstr(err.msg, "unsupported weight encoding 0x01306b12"));
    unlink(param);
    unlink(bin);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preprocess),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_classify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
