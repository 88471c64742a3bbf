/* SPDX-License-Identifier: Apache-2.0 */
/*
 * heatmap: patch scores drawn over a slide thumbnail.
 *
 * Three steps, each usable alone:
 *  1. heatmap_read_scores reads a scores table (TSV with a header naming
 *     the columns `id` and `score`, as ad-score writes it) and keeps the rows
 *     whose id is a Camelyon16 patch id of one slide
 *     (`<slide>_<type>_x_<row>_y_<col>_w_<W>_h_<H>`, patchid.h): each
 *     becomes a HeatmapCell, a level-0 rectangle with a score.
 *  2. heatmap_read_thumbnail reads a whole pyramid level of the slide, box-
 *     averaged by an integer factor so that neither side exceeds a limit;
 *     memory stays bounded by the thumbnail plus a band of about 256 rows
 *     of the level read, whatever the slide's size.
 *  3. heatmap_draw paints every cell onto the thumbnail as a semi-
 *     transparent colour (a colour map from the low to the high end of a
 *     score range) and can add a legend: a colour bar with the range's ends
 *     printed under it.
 * Where cells overlap (several scores for one patch, e.g. two runs in one
 * table), a pixel takes the highest score covering it, so the result does
 * not depend on the order of the rows.
 *
 * Not for: computing scores, or reading slides at full resolution.
 * Thread safety: no shared state; the functions are reentrant.
 * Ownership: HeatmapScores and Image results are caller-owned (fini them).
 * Errors: through Err, naming the file and line ("scores.tsv:line 7: ...").
 *
 *     Err err = {0};
 *     HeatmapScores sc = {0};
 *     Image thumb = {0};
 *     HeatmapGeometry geo;
 *     Slide *s = slide_open("tumor_001.tif", &err);
 *     if (!s || !heatmap_read_scores("scores.tsv", "tumor_001", &sc, &err) ||
 *         !heatmap_read_thumbnail(s, -1, 2048, &thumb, &geo, &err))
 *         return cli_report(&err);
 *     HeatmapStyle style = heatmap_style_default();
 *     if (!heatmap_draw(&thumb, &geo, sc.cells, sc.n, &style, &err)) ...
 *     image_write("tumor_001.png", &thumb, NULL, &err);
 */
#ifndef ADKIT_HEATMAP_H
#define ADKIT_HEATMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "img.h"
#include "slide.h"

/* One scored patch: a rectangle in the slide's level-0 frame. */
typedef struct HeatmapCell {
    int64_t level0_row, level0_col; /* top-left corner, level-0 pixels */
    int64_t height, width;          /* level-0 pixels */
    double score;                   /* finite; higher = more anomalous */
} HeatmapCell;

/* The scores of one slide. */
typedef struct HeatmapScores {
    HeatmapCell *cells; /* n cells in table order; owned */
    size_t n;
} HeatmapScores;

/* Reads path ("-" = standard input) and keeps the rows whose patch id names
 * slide_name; rows of other slides are skipped. Fails for a missing `id`
 * or `score` column, an id that is not a patch id or has an empty size
 * ("FILE:line N: bad patch id ..."), a score that is not a finite number, a
 * short row, or when no row names the slide ("FILE: no scores for slide
 * S"). On failure *out is left empty. */
bool heatmap_read_scores(const char *path, const char *slide_name, HeatmapScores *out, Err *err);

/* Frees the cells; the struct may be reused. */
void heatmap_scores_fini(HeatmapScores *scores);

/* How thumbnail pixels map to the slide's level-0 frame. */
typedef struct HeatmapGeometry {
    int level;                /* pyramid level read */
    int64_t shrink;           /* box factor applied to that level (>= 1) */
    double level0_per_px_x;   /* level-0 columns per thumbnail pixel */
    double level0_per_px_y;   /* level-0 rows per thumbnail pixel */
} HeatmapGeometry;

/* Reads a thumbnail as an 8-bit RGB Image. level >= 0 reads that level
 * (failing with the slide's message when it does not exist); level < 0
 * picks the finest level whose sides are both <= max_side_px, or the
 * coarsest level when none is that small. The level is then box-averaged
 * by the smallest integer factor that brings both sides to <= max_side_px
 * (max_side_px <= 0: no limit, factor 1; boxes at the right and bottom
 * edges average the pixels they have). On failure *out is left empty. */
bool heatmap_read_thumbnail(Slide *slide, int level, int64_t max_side_px, Image *out, HeatmapGeometry *geo,
                            Err *err);

typedef enum HeatmapColormap {
    HEATMAP_VIRIDIS, /* dark blue -> green -> yellow; perceptually uniform */
    HEATMAP_JET,     /* blue -> cyan -> yellow -> red */
    HEATMAP_COLORMAP_COUNT
} HeatmapColormap;

/* Parses "viridis" or "jet"; false for anything else. */
bool heatmap_colormap_parse(const char *name, HeatmapColormap *out);

/* The colour of t in [0, 1] (clamped; NaN gives 0). */
void heatmap_colour(HeatmapColormap map, double t, uint8_t rgb[3]);

typedef struct HeatmapStyle {
    double alpha;           /* opacity of the cells, 0..1 */
    bool range_given;       /* use [lo, hi]; else the cells' min and max */
    double lo, hi;          /* score range mapped to the colour map's ends; lo < hi */
    HeatmapColormap colormap;
    bool legend;            /* add a colour bar and the range under the map */
} HeatmapStyle;

/* alpha 0.5, the cells' own range, viridis, no legend. */
HeatmapStyle heatmap_style_default(void);

/* Paints the cells onto img (8-bit RGB, as heatmap_read_thumbnail made it)
 * in place; with style->legend the image grows by a strip at the bottom.
 * Cells outside the image are clipped (not an error). With the cells' own
 * range and all scores equal, every cell takes the colour map's middle.
 * Fails for a bad style (alpha outside 0..1, lo >= hi, NaN) before
 * touching img, or when memory runs out (img may then hold the painted cells
 * without the legend). */
bool heatmap_draw(Image *img, const HeatmapGeometry *geo, const HeatmapCell *cells, size_t n,
                  const HeatmapStyle *style, Err *err);

#endif
