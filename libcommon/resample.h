/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resample: the image resampling rules of the original pipelines, reproduced
 * exactly on 8-bit images, shared by nih-resize, the NIH/Camelyon16
 * transforms of ad-train, and the Camelyon16 x20/x10 stage.
 *
 * Two families, because the original used two libraries:
 * - Pillow's Image.resize (spec baselines-data.md 3.6, dpa-piad.md 10):
 *   separable convolution with antialiasing (support scaled by the
 *   down-sampling factor), horizontal pass first, 22-bit fixed-point
 *   coefficients, each pass rounded and clipped to uint8.
 * - scikit-image's rescale with anti-aliasing (spec camelyon16.md 11):
 *   a truncating Gaussian blur on uint8, then bilinear sampling, rint.
 *
 * Images are interleaved (HWC) uint8 with `channels` samples per pixel and
 * rows packed without padding; channels are resampled independently.
 * Not for: float tensors (the engine's bilinear ops live in the nn modules).
 * Thread safety: functions are reentrant; callers parallelise over images.
 * Errors: false with a message for invalid sizes or allocation failure; dst
 * is untouched on failure.
 *
 *     uint8_t small[64 * 64];
 *     if (!resample_pillow_u8(small, 64, 64, crop, 224, 224, 1, RESAMPLE_BILINEAR, &err)) ...
 */
#ifndef ADKIT_RESAMPLE_H
#define ADKIT_RESAMPLE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

/* Pillow resampling filters (Image.NEAREST, BILINEAR, BICUBIC, ...). */
typedef enum ResampleFilter {
    RESAMPLE_NEAREST,
    RESAMPLE_BILINEAR, /* triangle, support 1 */
    RESAMPLE_BICUBIC,  /* a = -0.5, support 2 */
    RESAMPLE_LANCZOS,  /* support 3 */
    RESAMPLE_FILTER_COUNT
} ResampleFilter;

/* Pillow Image.resize((dst_w, dst_h), filter) of an 8-bit image with
 * 1..4 interleaved channels, bit-exact with Pillow's integer code path. */
bool resample_pillow_u8(uint8_t *dst, int dst_w, int dst_h, const uint8_t *src, int src_w, int src_h,
                        int channels, ResampleFilter filter, Err *err);

/* scikit-image rescale(img, 1/factor, anti_aliasing=True, order=1) of an
 * 8-bit image as the Camelyon16 script 9 ran it: Gaussian sigma
 * (factor-1)/2 on uint8 with truncation after each 1-D pass (mirror
 * boundary), then bilinear sampling at factor*(o+0.5)-0.5, rint, clip.
 * factor is an integer >= 2; dst is (w/factor) x (h/factor). */
bool resample_skimage_rescale_u8(uint8_t *dst, const uint8_t *src, int w, int h, int channels, int factor,
                                 Err *err);

#endif
