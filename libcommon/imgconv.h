/* SPDX-License-Identifier: Apache-2.0 */
/*
 * imgconv: pixel conversions between the forms images take in the toolkit:
 * colour to grey with Pillow's formula, grey to RGB, 16-bit to 8-bit, and
 * floating-point maps (reconstructions, anomaly maps) to viewable 8-bit images.
 *
 * Not for: resampling (resample.h) or file formats (img.h).
 * Thread safety: reentrant. Ownership: conversions replace img->data in place
 * (the old buffer is freed); on failure the image is unchanged.
 * Errors: allocation failures and unsupported inputs, through Err.
 *
 *     Image im = {0};
 *     if (!image_read("xray.png", &im, &err) ||
 *         !imgconv_to_grey(&im, &err) || !imgconv_to_8bit(&im, &err))
 *         return cli_report(&err);
 */
#ifndef ADKIT_IMGCONV_H
#define ADKIT_IMGCONV_H

#include <stdbool.h>

#include "err.h"
#include "img.h"
#include "tstream.h"

/* Makes img one channel. RGB(A) uses Pillow's convert('L') in integer form,
 * L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16 (ITU-R 601-2 luma,
 * rounded), at 8 or 16 bits; alpha is dropped; grey+alpha keeps the grey.
 * A grey image is left as it is. */
bool imgconv_to_grey(Image *img, Err *err);

/* Makes img three channels: grey is replicated, alpha dropped (no
 * compositing: Pillow's convert('RGB')). An RGB image is left as it is. */
bool imgconv_to_rgb(Image *img, Err *err);

/* Makes a 16-bit image 8-bit with v8 = round(v16 * 255 / 65535), the
 * nearest 8-bit value (libpng's png_set_scale_16); 0 and 65535 map to 0 and
 * 255. An 8-bit image is left as it is. */
bool imgconv_to_8bit(Image *img, Err *err);

/* Samples of a u8/u16/i32/f32/f64 record, shape (C, H, W) with C 1..4 or
 * (H, W), mapped linearly from [lo, hi] to 0..255 (rounded to nearest,
 * clipped; NaN becomes 0) into an 8-bit image. lo must differ from hi
 * (hi < lo inverts). Metadata is ignored. */
bool imgconv_from_record_range(const TRecord *rec, double lo, double hi, Image *img, Err *err);

#endif
