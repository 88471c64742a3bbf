/* SPDX-License-Identifier: Apache-2.0 */
/*
 * img_impl: what the codec files of the img module share (not for tools).
 *
 * Each codec decodes from memory into a caller-initialised Image and encodes
 * an Image into a malloc'd buffer. Messages do not name the file; image_decode
 * puts the name in front. Geometry is always checked with img_check_geometry
 * before anything is allocated.
 */
#ifndef ADKIT_IMG_IMPL_H
#define ADKIT_IMG_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "img.h"

/* Checks width/height (1..IMG_MAX_SIDE), channels (1..4), depth (8 or 16) and
 * the decoded size against max_bytes (at most IMG_MAX_BYTES). */
bool img_check_geometry(int64_t width, int64_t height, int channels, int depth, size_t max_bytes, Err *err);

/* A growable output buffer for the encoders. */
typedef struct ImgBuf {
    unsigned char *data; /* malloc'd; handed to the caller on success */
    size_t len, cap;
    bool failed; /* an allocation failed; the contents are incomplete */
} ImgBuf;

/* Appends n bytes; on allocation failure sets failed and returns false. */
bool img_buf_append(ImgBuf *b, const void *p, size_t n);

bool img_png_decode(const unsigned char *buf, size_t n, size_t max_bytes, Image *img, Err *err);
/* libpng's encoder: the reference the fast encoder is tested against. */
bool img_png_encode(const Image *img, int level, unsigned char **out, size_t *out_bytes, Err *err);
bool img_jpeg_decode(const unsigned char *buf, size_t n, size_t max_bytes, Image *img, Err *err);
bool img_jpeg_encode(const Image *img, int quality, unsigned char **out, size_t *out_bytes, Err *err);
bool img_tiff_decode(const unsigned char *buf, size_t n, size_t max_bytes, Image *img, Err *err);
bool img_tiff_encode(const Image *img, unsigned char **out, size_t *out_bytes, Err *err);
bool img_bmp_decode(const unsigned char *buf, size_t n, size_t max_bytes, Image *img, Err *err);
bool img_bmp_encode(const Image *img, unsigned char **out, size_t *out_bytes, Err *err);

/* The fast PNG paths (img_png_fast.c, libdeflate). img_png_fast_decode
 * decodes the common files (8/16-bit grey/GA/RGB/RGBA, not interlaced, no
 * palette or tRNS, intact) into img with exactly libpng's result and returns
 * true; for any other file, corrupt ones included, it returns false with img
 * empty, and img_png_decode goes on with libpng. img_png_fast_encode encodes
 * any Image as image_encode's PNG writer (level: zlib's scale, -1 = 6). */
bool img_png_fast_decode(const unsigned char *buf, size_t n, size_t max_bytes, Image *img);
bool img_png_fast_encode(const Image *img, int level, unsigned char **out, size_t *out_bytes, Err *err);

#endif
