/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the PNG fast path (img_png_fast.c) against libpng alone
 * (png_ref.h): files written by libpng with every filter, level and IDAT
 * size, by the fast encoder, and by Pillow; the files left to libpng
 * (interlaced, tRNS, unknown critical chunks); and corrupt and truncated
 * files, which must decode as libpng decodes them or fail as libpng does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "img_impl.h"
#include "png_ref.h"

static const int widths[] = {1, 2, 7, 33, 130};
static const int heights[] = {1, 3, 5, 17, 9};
#define NSIZES (sizeof widths / sizeof widths[0])

// Smooth ramps with noise: every filter type wins on some rows.
static void make_image(Image *im, int w, int h, int c, int depth, uint32_t seed)
{
    Err err = {0};
    assert_true(image_alloc(im, w, h, c, depth, &err));
    uint32_t s = seed * 2654435761u + 1;
    size_t i = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++, i++) {
                s = s * 1664525u + 1013904223u;
                uint32_t noise = (s >> 24) & ((y + seed) % 3 == 0 ? 0xFF : 0x07);
                uint32_t v = (uint32_t)(x * 5 + y * 3 + k * 50) + noise;
                if (depth == 8)
                    ((uint8_t *)im->data)[i] = (uint8_t)v;
                else
                    ((uint16_t *)im->data)[i] = (uint16_t)(v * 257u + (s >> 20));
            }
}

static size_t image_bytes(const Image *im)
{
    return (size_t)im->width * im->height * im->channels * (im->depth / 8);
}

static void assert_same_image(const Image *a, const Image *b)
{
    assert_int_equal(a->width, b->width);
    assert_int_equal(a->height, b->height);
    assert_int_equal(a->channels, b->channels);
    assert_int_equal(a->depth, b->depth);
    assert_memory_equal(a->data, b->data, image_bytes(a));
}

// The fast path must take the file and give the source pixels, and
// image_decode (fast path first) must agree.
static void assert_fast_decodes(const unsigned char *buf, size_t n, const Image *src)
{
    Image fast = {0}, via_api = {0};
    assert_true(img_png_fast_decode(buf, n, IMG_MAX_BYTES, &fast));
    assert_same_image(&fast, src);
    Err err = {0};
    assert_true(image_decode(buf, n, "mem", &via_api, &err));
    assert_same_image(&via_api, src);
    image_fini(&fast);
    image_fini(&via_api);
}

static void test_libpng_files(void **state)
{
    (void)state;
    static const int filters[] = {PNG_FILTER_NONE, PNG_FILTER_SUB, PNG_FILTER_UP,
                                  PNG_FILTER_AVG,  PNG_FILTER_PAETH, PNG_ALL_FILTERS};
    static const int levels[] = {0, 1, 9};
    for (int c = 1; c <= 4; c++)
        for (int depth = 8; depth <= 16; depth += 8)
            for (size_t s = 0; s < NSIZES; s++) {
                Image src = {0};
                make_image(&src, widths[s], heights[s], c, depth, (uint32_t)(c * 31 + depth + (int)s));
                for (size_t f = 0; f < sizeof filters / sizeof filters[0]; f++)
                    for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++) {
                        unsigned char *buf;
                        size_t n;
                        // 64-byte IDAT chunks: the stream spans many chunks.
                        assert_true(png_ref_encode(&src, filters[f], levels[l], l == 1 ? 64 : 8192,
                                                   PNG_INTERLACE_NONE, &buf, &n));
                        assert_fast_decodes(buf, n, &src);
                        free(buf);
                    }
                image_fini(&src);
            }
}

static void test_fast_encoder_round_trip(void **state)
{
    (void)state;
    static const int levels[] = {-1, 0, 1, 6, 9};
    for (int c = 1; c <= 4; c++)
        for (int depth = 8; depth <= 16; depth += 8)
            for (size_t s = 0; s < NSIZES; s++) {
                Image src = {0};
                make_image(&src, widths[s], heights[s], c, depth, (uint32_t)(c + depth * 7 + (int)s));
                for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++) {
                    unsigned char *buf;
                    size_t n;
                    Err err = {0};
                    assert_true(img_png_fast_encode(&src, levels[l], &buf, &n, &err));
                    Image ref = {0};
                    assert_true(png_ref_decode(buf, n, IMG_MAX_BYTES, &ref));
                    assert_same_image(&ref, &src);
                    image_fini(&ref);
                    assert_fast_decodes(buf, n, &src);
                    free(buf);
                }
                image_fini(&src);
            }
}

// An X-ray-like 300x300 grey image: the fast encoder at level 1 must come
// close to libpng's level 1 with its adaptive filters.
static void test_fast_encoder_size(void **state)
{
    (void)state;
    Image src = {0};
    Err err = {0};
    assert_true(image_alloc(&src, 300, 300, 1, 8, &err));
    uint32_t s = 7;
    for (int y = 0; y < 300; y++)
        for (int x = 0; x < 300; x++) {
            s = s * 1664525u + 1013904223u;
            int dx = x - 150, dy = y - 140;
            int v = 200 - (dx * dx + dy * dy) / 300 + (int)(s >> 29);
            ((uint8_t *)src.data)[y * 300 + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    unsigned char *fast, *ref;
    size_t nfast, nref;
    assert_true(img_png_fast_encode(&src, 1, &fast, &nfast, &err));
    assert_true(png_ref_encode(&src, PNG_ALL_FILTERS, 1, 8192, PNG_INTERLACE_NONE, &ref, &nref));
    assert_true(nfast * 100 <= nref * 110);
    free(fast);
    free(ref);
    image_fini(&src);
}

// buf with a chunk inserted after IHDR (offset 33); malloc'd.
static unsigned char *insert_chunk(const unsigned char *buf, size_t n, const char *type, const void *data,
                                   uint32_t len, size_t *out_n)
{
    unsigned char *out = malloc(n + 12 + len);
    assert_non_null(out);
    memcpy(out, buf, 33);
    unsigned char *p = out + 33;
    p[0] = (unsigned char)(len >> 24), p[1] = (unsigned char)(len >> 16), p[2] = (unsigned char)(len >> 8),
    p[3] = (unsigned char)len;
    memcpy(p + 4, type, 4);
    if (len)
        memcpy(p + 8, data, len);
    uLong crc = crc32(0, p + 4, len + 4);
    p[8 + len] = (unsigned char)(crc >> 24), p[9 + len] = (unsigned char)(crc >> 16),
            p[10 + len] = (unsigned char)(crc >> 8), p[11 + len] = (unsigned char)crc;
    memcpy(p + 12 + len, buf + 33, n - 33);
    *out_n = n + 12 + len;
    return out;
}

static void test_files_left_to_libpng(void **state)
{
    (void)state;
    Image src = {0}, got = {0}, ref = {0};
    Err err = {0};
    make_image(&src, 33, 17, 1, 8, 3);
    unsigned char *buf, *edited;
    size_t n, edited_n;

    // Interlaced: libpng decodes it.
    assert_true(png_ref_encode(&src, PNG_ALL_FILTERS, 6, 8192, PNG_INTERLACE_ADAM7, &buf, &n));
    assert_false(img_png_fast_decode(buf, n, IMG_MAX_BYTES, &got));
    assert_null(got.data);
    assert_true(image_decode(buf, n, "mem", &got, &err));
    assert_same_image(&got, &src);
    image_fini(&got);
    free(buf);

    assert_true(img_png_fast_encode(&src, 1, &buf, &n, &err));
    // tRNS makes an alpha channel: libpng's job.
    static const unsigned char trns[2] = {0, 17};
    edited = insert_chunk(buf, n, "tRNS", trns, 2, &edited_n);
    assert_false(img_png_fast_decode(edited, edited_n, IMG_MAX_BYTES, &got));
    assert_true(image_decode(edited, edited_n, "mem", &got, &err));
    assert_true(png_ref_decode(edited, edited_n, IMG_MAX_BYTES, &ref));
    assert_int_equal(got.channels, 2);
    assert_same_image(&got, &ref);
    image_fini(&got);
    image_fini(&ref);
    free(edited);

    // A text chunk changes nothing: the fast path skips it.
    edited = insert_chunk(buf, n, "tEXt", "Comment\0x", 9, &edited_n);
    assert_fast_decodes(edited, edited_n, &src);
    free(edited);

    // An unknown critical chunk: libpng's error.
    edited = insert_chunk(buf, n, "CRIT", "x", 1, &edited_n);
    assert_false(img_png_fast_decode(edited, edited_n, IMG_MAX_BYTES, &got));
    assert_false(image_decode(edited, edited_n, "crit.png", &got, &err));
    assert_non_null(strstr(err.msg, "crit.png: "));
    free(edited);

    // Over the caller's size limit: refused by the header, as libpng's path.
    assert_false(img_png_fast_decode(buf, n, 100, &got));
    Err err2 = {0};
    assert_false(image_decode_max(buf, n, "big.png", 100, &got, &err2));
    assert_non_null(strstr(err2.msg, "big.png: "));
    assert_non_null(strstr(err2.msg, "exceeds the limit"));
    free(buf);
    image_fini(&src);
}

// Whatever the damage, the fast path either declines or gives libpng's
// pixels, and image_decode succeeds exactly when libpng does.
static void check_against_libpng(const unsigned char *buf, size_t n)
{
    Image fast = {0}, ref = {0}, api = {0};
    Err err = {0};
    bool ref_ok = png_ref_decode(buf, n, IMG_MAX_BYTES, &ref);
    if (img_png_fast_decode(buf, n, IMG_MAX_BYTES, &fast)) {
        assert_true(ref_ok);
        assert_same_image(&fast, &ref);
    } else {
        assert_null(fast.data);
    }
    bool api_ok = image_decode(buf, n, "bad.png", &api, &err);
    assert_int_equal(api_ok, ref_ok);
    if (api_ok)
        assert_same_image(&api, &ref);
    else
        assert_non_null(strstr(err.msg, "bad.png: "));
    image_fini(&fast);
    image_fini(&ref);
    image_fini(&api);
}

static void test_corrupt_and_truncated(void **state)
{
    (void)state;
    Image src = {0};
    make_image(&src, 40, 12, 3, 8, 9);
    unsigned char *buf;
    size_t n;
    assert_true(png_ref_encode(&src, PNG_ALL_FILTERS, 6, 256, PNG_INTERLACE_NONE, &buf, &n));
    for (size_t cut = 0; cut < n; cut += (cut < 64 || n - cut < 64) ? 1 : 7)
        check_against_libpng(buf, cut);
    unsigned char *bad = malloc(n);
    assert_non_null(bad);
    uint32_t s = 12345;
    for (int trial = 0; trial < 600; trial++) {
        memcpy(bad, buf, n);
        for (int k = 0; k <= trial % 3; k++) {
            s = s * 1664525u + 1013904223u;
            bad[(s >> 8) % n] ^= (unsigned char)(1u << (s >> 29));
        }
        check_against_libpng(bad, n);
    }
    // Damage with the CRCs repaired, so that it reaches the zlib stream and
    // the filter bytes: the fast path's own checks must catch it.
    for (int trial = 0; trial < 300; trial++) {
        memcpy(bad, buf, n);
        s = s * 1664525u + 1013904223u;
        size_t at = 41 + (s >> 8) % (n - 41 - 12); // past IHDR and the first IDAT header
        bad[at] ^= (unsigned char)(1u << (s >> 29));
        for (size_t pos = 8; pos + 12 <= n;) {
            uint32_t len = (uint32_t)bad[pos] << 24 | (uint32_t)bad[pos + 1] << 16 | (uint32_t)bad[pos + 2] << 8 |
                           bad[pos + 3];
            if (len > n - pos - 12)
                break;
            uLong crc = crc32(0, bad + pos + 4, len + 4);
            unsigned char *p = bad + pos + 8 + len;
            p[0] = (unsigned char)(crc >> 24), p[1] = (unsigned char)(crc >> 16), p[2] = (unsigned char)(crc >> 8),
            p[3] = (unsigned char)crc;
            pos += 12 + len;
        }
        check_against_libpng(bad, n);
    }
    free(bad);
    free(buf);
    image_fini(&src);
}

// Files written by Pillow (its own zlib writer, not libpng) in every mode
// NIH and the other datasets use.
static void test_pillow_files(void **state)
{
    (void)state;
    if (access("/usr/bin/python3", X_OK) != 0 || system("/usr/bin/python3 -c 'import PIL, numpy' 2>/dev/null") != 0)
        skip();
    char dir[] = "/tmp/adkit-png-fast.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 - '%s' <<'EOF'\n"
             "import sys, numpy as np\n"
             "from PIL import Image\n"
             "d = sys.argv[1]; rng = np.random.default_rng(4); i = 0\n"
             "for mode, c, dt in [('L', 1, 'u1'), ('LA', 2, 'u1'), ('RGB', 3, 'u1'), ('RGBA', 4, 'u1'),\n"
             "                    ('I;16', 1, '<u2')]:\n"
             "  for w, h in [(1, 1), (37, 11), (256, 64)]:\n"
             "    for opt in [dict(compress_level=0), dict(compress_level=1), dict(optimize=True)]:\n"
             "      y, x = np.mgrid[0:h, 0:w]\n"
             "      base = (x * 3 + y * 5)[..., None] + np.arange(c) * 40 + rng.integers(0, 9, (h, w, c))\n"
             "      a = (base * (257 if dt == '<u2' else 1) %% (65536 if dt == '<u2' else 256)).astype(dt)\n"
             "      im = Image.fromarray(a[..., 0] if c == 1 else a, mode)\n"
             "      im.save('%%s/%%03d.png' %% (d, i), **opt); i += 1\n"
             "EOF",
             dir);
    assert_int_equal(system(cmd), 0);
    int count = 0;
    for (int i = 0;; i++, count++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%03d.png", dir, i);
        FILE *fp = fopen(path, "rb");
        if (!fp)
            break;
        static unsigned char buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        unlink(path);
        Image ref = {0};
        assert_true(png_ref_decode(buf, n, IMG_MAX_BYTES, &ref));
        assert_fast_decodes(buf, n, &ref);
        image_fini(&ref);
    }
    rmdir(dir);
    assert_int_equal(count, 5 * 3 * 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libpng_files),
        cmocka_unit_test(test_fast_encoder_round_trip),
        cmocka_unit_test(test_fast_encoder_size),
        cmocka_unit_test(test_files_left_to_libpng),
        cmocka_unit_test(test_corrupt_and_truncated),
        cmocka_unit_test(test_pillow_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
