/* SPDX-License-Identifier: Apache-2.0 */
/*
 * img: image files in and out (PNG via libpng, JPEG via libjpeg-turbo, TIFF
 * via libtiff, BMP), and the bridge between images and stream records.
 * Common PNGs (8/16-bit grey/GA/RGB/RGBA, not interlaced, no palette or
 * tRNS, intact) are decoded by a libdeflate fast path with exactly libpng's
 * result; every other PNG, corrupt ones included, goes to libpng. PNGs are
 * written with libdeflate (libpng's adaptive row filters, zlib levels).
 *
 * An Image holds interleaved (HWC) samples exactly as the file stores them
 * after expansion: palettes become RGB(A), 1/2/4-bit grey becomes 8-bit, but
 * 16-bit samples stay 16-bit (native byte order) and alpha is kept, so
 * callers that must mimic another library's conversion (Pillow's convert('L')
 * for NIH) see the raw values. Stream records hold images planar (C, H, W),
 * u8 or u16 (see tstream.h).
 *
 * Decoding is bounded: dimensions above IMG_MAX_SIDE or a decoded size above
 * IMG_MAX_BYTES are refused before allocation. Each codec library's errors
 * (libpng/libjpeg longjmp, libtiff handlers) are turned into Err messages
 * naming the file; nothing is printed.
 * JPEG decoding uses libjpeg's defaults (ISLOW IDCT, fancy upsampling), the
 * same as Pillow, so decoded pixels match Pillow's byte for byte.
 *
 * Thread safety: all functions are reentrant (one Image per thread).
 * Ownership: an Image owns its data; image_fini frees it.
 *
 *     Image im = {0};
 *     if (!image_read("cat.png", &im, &err)) return cli_report(&err);
 *     TRecord rec; trecord_init(&rec);
 *     image_to_record(&im, &rec, &err);      // u8 (3, H, W)
 *     image_fini(&im);
 */
#ifndef ADKIT_IMG_H
#define ADKIT_IMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "tstream.h"

#define IMG_MAX_SIDE 65536
#define IMG_MAX_BYTES ((size_t)1 << 31)

typedef enum ImageFormat {
    IMAGE_FORMAT_UNKNOWN,
    IMAGE_FORMAT_PNG,
    IMAGE_FORMAT_JPEG,
    IMAGE_FORMAT_TIFF,
    IMAGE_FORMAT_BMP,
    IMAGE_FORMAT_COUNT
} ImageFormat;

typedef struct Image {
    int width, height; /* pixels */
    int channels;      /* 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA */
    int depth;         /* bits per sample: 8 or 16 */
    void *data;        /* height rows of width*channels samples, packed; owned */
} Image;

typedef struct ImageWriteOptions {
    ImageFormat format; /* UNKNOWN: from the file name's extension */
    int jpeg_quality;   /* 1..100; 0 means 75 (Pillow's default) */
    int png_level;      /* zlib level 0..9; -1 means the library default */
} ImageWriteOptions;

/* Format from the first bytes of a file (magic numbers). */
ImageFormat image_sniff(const void *head, size_t n);

/* Format from a file name's extension (.png .jpg .jpeg .tif .tiff .bmp). */
ImageFormat image_format_from_name(const char *path);

/* "png", "jpeg", "tiff", "bmp". */
const char *image_format_name(ImageFormat f);

/* Allocates img->data for the given geometry (contents undefined). */
bool image_alloc(Image *img, int width, int height, int channels, int depth, Err *err);

/* Reads and decodes a file, detecting the format from its content. */
bool image_read(const char *path, Image *img, Err *err);

/* Decodes an in-memory file; name is used in messages. */
bool image_decode(const void *buf, size_t n, const char *name, Image *img, Err *err);

/* As image_decode, with a lower limit on the decoded size (and on what the
 * codec may allocate on the way): images above max_bytes are refused from
 * their header. For callers that know their images are small (fuzzing,
 * services); max_bytes above IMG_MAX_BYTES means IMG_MAX_BYTES. */
bool image_decode_max(const void *buf, size_t n, const char *name, size_t max_bytes, Image *img, Err *err);

/* Encodes and writes atomically (afile.h). JPEG takes 8-bit grey or RGB;
 * PNG and TIFF take 8/16-bit 1..4 channels; BMP 8-bit grey/RGB/RGBA. */
bool image_write(const char *path, const Image *img, const ImageWriteOptions *opt, Err *err);

/* Encodes into memory (*out malloc'd, owned by the caller). */
bool image_encode(const Image *img, const ImageWriteOptions *opt, unsigned char **out, size_t *out_bytes,
                  Err *err);

/* Frees the data; the struct may be reused. */
void image_fini(Image *img);

/* Image (HWC) -> record (C, H, W), u8 or u16 by depth. Metadata is kept. */
bool image_to_record(const Image *img, TRecord *rec, Err *err);

/* Record (C, H, W) or (H, W) u8/u16 -> Image. C must be 1..4. */
bool image_from_record(const TRecord *rec, Image *img, Err *err);

#endif
