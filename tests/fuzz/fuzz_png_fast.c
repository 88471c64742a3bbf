/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the PNG fast path (img_png_fast.c) on arbitrary bytes,
 * checked against libpng alone: whenever the fast path decodes a file,
 * libpng must decode it to the same pixels. Then a fast re-encode must
 * round-trip through libpng. Each input is tried as it is and with its
 * chunk CRCs repaired, so that mutations reach the zlib stream and the row
 * filters instead of stopping at the first CRC check. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../unit/png_ref.h"
#include "img_impl.h"

#define FUZZ_MAX_BYTES ((size_t)16 << 20)

static size_t bytes_of(const Image *im)
{
    return (size_t)im->width * (size_t)im->height * (size_t)im->channels * (size_t)(im->depth / 8);
}

static bool same_image(const Image *a, const Image *b)
{
    return a->width == b->width && a->height == b->height && a->channels == b->channels && a->depth == b->depth &&
           memcmp(a->data, b->data, bytes_of(a)) == 0;
}

static void repair_crcs(uint8_t *p, size_t n)
{
    for (size_t pos = 8; pos <= n && n - pos >= 12;) {
        uint32_t len = (uint32_t)p[pos] << 24 | (uint32_t)p[pos + 1] << 16 | (uint32_t)p[pos + 2] << 8 | p[pos + 3];
        if (len > n - pos - 12)
            return;
        uLong crc = crc32(0, p + pos + 4, len + 4);
        uint8_t *c = p + pos + 8 + len;
        c[0] = (uint8_t)(crc >> 24), c[1] = (uint8_t)(crc >> 16), c[2] = (uint8_t)(crc >> 8), c[3] = (uint8_t)crc;
        pos += 12 + (size_t)len;
    }
}

static void check(const uint8_t *data, size_t size)
{
    Image fast = {0}, ref = {0}, back = {0};
    if (!img_png_fast_decode(data, size, FUZZ_MAX_BYTES, &fast)) {
        if (fast.data)
            __builtin_trap(); // declining leaves the image empty
        return;
    }
    if (bytes_of(&fast) > FUZZ_MAX_BYTES || !png_ref_decode(data, size, FUZZ_MAX_BYTES, &ref) ||
        !same_image(&fast, &ref))
        __builtin_trap();
    unsigned char *out;
    size_t n;
    Err err = {0};
    if (img_png_fast_encode(&fast, 1, &out, &n, &err)) {
        if (!png_ref_decode(out, n, FUZZ_MAX_BYTES, &back) || !same_image(&back, &fast))
            __builtin_trap();
        free(out);
    }
    image_fini(&fast);
    image_fini(&ref);
    image_fini(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    check(data, size);
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    repair_crcs(copy, size);
    check(copy, size);
    free(copy);
    return 0;
}
