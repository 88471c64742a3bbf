/* SPDX-License-Identifier: Apache-2.0 */
/*
 * labelmask: the original's tumour annotation mask at the mask level,
 * without ever holding a level-0 mask (spec camelyon16.md 4).
 *
 * The original fills tumour polygons with 127 and then exclusion polygons
 * with 255 on a full-resolution mask (0 elsewhere) and resizes it to
 * (floor(W / 2^L), floor(H / 2^L)) with Pillow's default filter. Two
 * readings of that filter are offered:
 *
 * - LABELMASK_BICUBIC (default; AMBIGUOUS: Pillow >= 7, most likely in the
 *   original's 2020 image): polygons are rasterised on a grid of
 *   grid_px x grid_px level-0 pixels (16 samples per mask pixel per axis at
 *   level 8, i.e. level-4 resolution, ~84 MB for the largest Camelyon16
 *   slide), then reduced with Pillow's bicubic resampler: the integer
 *   weights Pillow would give each level-0 pixel are summed per grid cell,
 *   so the arithmetic (22-bit fixed point, rounding, clipping after the
 *   horizontal and then the vertical pass) is Pillow's exactly whenever a
 *   grid cell is uniform. Differences from the original are confined to
 *   mask pixels within two pixels of a polygon edge.
 * - LABELMASK_NEAREST (Pillow < 7): mask pixel (i, j) takes the label of
 *   level-0 pixel (floor((i + 0.5) W / w), floor((j + 0.5) H / h)),
 *   evaluated exactly on the polygons.
 *
 * Polygons are filled with the even-odd rule per polygon, sampled at grid
 * cell centres (Pillow's one-pixel outline is below the grid's resolution).
 *
 * Not for: reading XML (annotation.h) or choosing cells (tissue.h).
 * Thread safety: pure; uses OpenMP inside (results do not depend on the
 * number of threads).
 * Errors: allocation failures and bad sizes only.
 *
 *     uint8_t *labels = xmalloc_array(w8 * h8, 1, &err);
 *     if (!labelmask_render(labels, &ann, W, H, w8, h8, 16, LABELMASK_BICUBIC, &err)) ...
 *     tissue_tumour_cells(cells, labels, w8, h8);
 */
#ifndef ADKIT_LABELMASK_H
#define ADKIT_LABELMASK_H

#include <stdbool.h>
#include <stdint.h>

#include "annotation.h"
#include "err.h"

#define LABELMASK_BACKGROUND 0
#define LABELMASK_TUMOUR 127
#define LABELMASK_EXCLUSION 255

typedef enum LabelFilter {
    LABELMASK_BICUBIC,
    LABELMASK_NEAREST,
    LABELMASK_FILTER_COUNT
} LabelFilter;

/* "bicubic" / "nearest"; NULL for a bad value. */
const char *labelmask_filter_name(LabelFilter f);
/* Parses a name as above; returns LABELMASK_FILTER_COUNT when unknown. */
LabelFilter labelmask_filter_from_name(const char *name);

/* Renders the h x w label mask (row-major, one byte per pixel, values 0,
 * 127, 255 and, with BICUBIC, intermediate values along edges) of a
 * width0 x height0 level-0 slide. grid_px (>= 1) is the rasterisation grid
 * spacing in level-0 pixels for BICUBIC (ignored by NEAREST). */
bool labelmask_render(uint8_t *labels, const Annotations *ann, int64_t width0, int64_t height0, int64_t w,
                      int64_t h, int64_t grid_px, LabelFilter filter, Err *err);

#endif
