/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slide_impl: shared between slide.c and slide_tiff.c; not for tools.
 *
 * slide_tiff is a direct reader of level-0 tiles for the slides OpenSlide
 * itself reads as "generic-tiff" (Camelyon16's format): libtiff decodes the
 * tiles straight into RGB, skipping OpenSlide's ARGB compositing, which costs
 * several times the decoding. It accepts only layouts whose pixels are
 * proven identical to OpenSlide's (tests/cli/slide2patches.sh compares both
 * readers): 8-bit, 3 samples, contiguous, tiled, and either Photometric RGB
 * with a lossless codec, or JPEG with Photometric YCbCr or RGB (decoded by
 * libjpeg with its defaults, as OpenSlide does). Anything else stays with
 * OpenSlide.
 *
 * Thread safety: reads from several threads share a pool of libtiff handles
 * (a libtiff handle serves one thread at a time).
 */
#ifndef ADKIT_SLIDE_IMPL_H
#define ADKIT_SLIDE_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

typedef struct SlideTiff SlideTiff;

/* Opens the direct reader when the file's first directory is a level 0 of
 * width x height in an accepted layout; NULL (and no error) otherwise. */
SlideTiff *slide_tiff_open(const char *path, int64_t width, int64_t height);

/* Reads a level-0 region into dst: interleaved RGB (planar false) or three
 * planes. Pixels outside the image are black. On failure dst is zeroed. */
bool slide_tiff_read(SlideTiff *st, int64_t x, int64_t y, int64_t w, int64_t h, uint8_t *dst, bool planar,
                     Err *err);

/* Closes every handle. NULL does nothing. */
void slide_tiff_close(SlideTiff *st);

#endif
