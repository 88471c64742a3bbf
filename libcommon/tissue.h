/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tissue: the low-resolution masks that decide where Camelyon16 patches may
 * come from (spec camelyon16.md 2.2, 2.3, 6.2).
 *
 * The model: the slide is read at a "mask level" (8 in the paper: one mask
 * pixel = 256 x 256 level-0 pixels). A tissue mask marks the dark pixels of
 * that image (Otsu on scikit-image's grey, dark = tissue); the cell mask
 * clears the borders, opens the mask with a 3x3 square and keeps the 3x3
 * blocks ("cells", one patch each) whose nine pixels are all tissue. For
 * tumour patches a label mask (0 background, 127 tumour, 255 exclusion, see
 * labelmask.h) selects the cells whose truncated block mean is 127.
 * All masks are row-major, one byte per pixel; cell grids have
 * ceil(h / 3) x ceil(w / 3) entries, 1 = kept.
 *
 * Not for: reading slides (slide.h), polygons (labelmask.h), sampling
 * (cellsample.h).
 * Thread safety: pure functions on caller buffers; call from any thread.
 * Errors: none can fail except through allocation (Err).
 *
 *     uint8_t *tissue = ..., *cells = ...;        // h*w, cells_h*cells_w
 *     bool found = tissue_mask_from_rgb(tissue, l8_rgb, w, h, &err);
 *     if (!tissue_cell_mask(cells, tissue, w, h, &err)) ...
 *     // found == false: uniform image, the mask is all zero (no patches)
 */
#ifndef ADKIT_TISSUE_H
#define ADKIT_TISSUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Number of cells along a side of n mask pixels: ceil(n / 3). */
int64_t tissue_cells(int64_t n);

/* scikit-image rgb2gray of n interleaved RGB pixels: grey[i] =
 * 0.2125 R + 0.7154 G + 0.0721 B with each byte scaled by 1/255 (float64). */
void tissue_gray(double *gray, const uint8_t *rgb, size_t n);

/* scikit-image threshold_otsu with 256 bins over [min, max] of the n values
 * (spec 2.2, NumPy's binning and summation order reproduced). Returns false
 * when all values are equal (the original raises; callers treat it as "no
 * tissue"), true with *threshold set otherwise. */
bool tissue_otsu(const double *values, size_t n, double *threshold);

/* Tissue mask of an h x w RGB image (HWC): 1 where grey <= Otsu threshold.
 * Returns true on success; *found is false (and the mask all zero) for a
 * uniform image. Fails only when out of memory. */
bool tissue_mask_from_rgb(uint8_t *mask, const uint8_t *rgb_hwc, int64_t w, int64_t h, bool *found, Err *err);

/* Border constants of the original (spec 2.3): tall masks (h > 700) lose 100
 * rows top and bottom and 50 columns on the left only; others lose 30 on
 * every side. */
#define TISSUE_TALL_H 700
#define TISSUE_TALL_ROWS 100
#define TISSUE_TALL_LEFT 50
#define TISSUE_BORDER 30

/* Clears the border of an h x w 0/1 mask in place, by the rule above. */
void tissue_clear_border(uint8_t *mask, int64_t w, int64_t h);

/* Morphological opening with a 3x3 square, in place, with OpenCV's default
 * borders (outside = 1 for the erosion, 0 for the dilation). */
bool tissue_open3(uint8_t *mask, int64_t w, int64_t h, Err *err);

/* cells[r * cw + c] = 1 when the 3x3 block (rows 3r.., columns 3c..) of the
 * 0/1 mask is entirely 1; blocks cut by the bottom/right edge count their
 * missing pixels as 0 and are never kept. cw = tissue_cells(w). */
void tissue_full_blocks(uint8_t *cells, const uint8_t *mask, int64_t w, int64_t h);

/* The whole cell-mask step of the original: clear the border (in place on
 * mask), open, keep full blocks. */
bool tissue_cell_mask(uint8_t *cells, uint8_t *mask, int64_t w, int64_t h, Err *err);

/* Tumour cells of an h x w label mask: the block sum over 9 (zero-padded),
 * truncated, equals 127 (spec 6.2). */
void tissue_tumour_cells(uint8_t *cells, const uint8_t *labels, int64_t w, int64_t h);

#endif
