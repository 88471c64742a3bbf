/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: image_decode (PNG, JPEG, TIFF, BMP) on arbitrary bytes,
 * then the record bridge and a re-encode of whatever decoded. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "img.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    Image im = {0};
    Err err = {0};
    // Keep each input cheap: small files may claim large images, which the
    // decoders must refuse from the header under a 16 MiB limit.
    if (!image_decode_max(data, size, "fuzz", (size_t)16 << 20, &im, &err))
        return 0;
    if ((size_t)im.width * (size_t)im.height * (size_t)im.channels * (size_t)(im.depth / 8) > ((size_t)16 << 20))
        __builtin_trap();
    TRecord rec;
    trecord_init(&rec);
    Image back = {0};
    if (image_to_record(&im, &rec, &err) && image_from_record(&rec, &back, &err)) {
        ImageWriteOptions opt = {.format = IMAGE_FORMAT_PNG, .png_level = 1};
        unsigned char *out;
        size_t n;
        if (image_encode(&back, &opt, &out, &n, &err))
            free(out);
    }
    image_fini(&back);
    trecord_fini(&rec);
    image_fini(&im);
    return 0;
}
