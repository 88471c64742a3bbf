/* SPDX-License-Identifier: Apache-2.0 */
/* heatmap: patch scores drawn over a slide thumbnail (see heatmap.h). */
#include "heatmap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patchid.h"
#include "tsv.h"

bool heatmap_read_scores(const char *path, const char *slide_name, HeatmapScores *out, Err *err)
{
    memset(out, 0, sizeof *out);
    HeatmapCell *cells = NULL;
    size_t n = 0, cap = 0;
    bool ok = false;
    TsvReader *r = tsv_open(path, err);
    if (!r)
        return false;
    const char *name = tsv_name(r);
    char **f;
    size_t nf;
    int rc = tsv_read_line(r, &f, &nf, err);
    if (rc <= 0) {
        if (rc == 0)
            err_set(err, "%s: empty file, expected a header with the columns id and score", name);
        goto done;
    }
    int id_col = tsv_find_column(f, nf, "id"), score_col = tsv_find_column(f, nf, "score");
    if (id_col < 0 || score_col < 0) {
        err_set(err, "%s:line 1: the header has no '%s' column", name, id_col < 0 ? "id" : "score");
        goto done;
    }
    size_t need = (size_t)(id_col > score_col ? id_col : score_col) + 1;
    while ((rc = tsv_read_line(r, &f, &nf, err)) == 1) {
        int64_t line = tsv_line_number(r);
        if (nf == 1 && f[0][0] == 0)
            continue; // a blank line, e.g. at the end of a hand-edited file
        if (nf < need) {
            err_set(err, "%s:line %lld: %zu fields, the score table needs %zu", name, (long long)line, nf, need);
            goto done;
        }
        PatchId id;
        if (!patchid_parse(f[id_col], &id, err) || id.width <= 0 || id.height <= 0) {
            if (!err->msg[0])
                err_set(err, "bad patch id '%s': empty patch size", f[id_col]);
            err_prefix(err, "%s:line %lld", name, (long long)line);
            goto done;
        }
        if (strcmp(id.slide, slide_name) != 0)
            continue;
        double score;
        if (!tsv_parse_double(f[score_col], &score) || !isfinite(score)) {
            err_set(err, "%s:line %lld: score '%s' is not a finite number", name, (long long)line, f[score_col]);
            goto done;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            HeatmapCell *grown = xrealloc_array(cells, ncap, sizeof *cells, err);
            if (!grown)
                goto done;
            cells = grown;
            cap = ncap;
        }
        cells[n++] = (HeatmapCell){id.level0_row, id.level0_col, id.height, id.width, score};
    }
    if (rc < 0)
        goto done;
    if (n == 0) {
        err_set(err, "%s: no scores for slide %s (ids must start with '%s_')", name, slide_name, slide_name);
        goto done;
    }
    out->cells = cells;
    out->n = n;
    cells = NULL;
    ok = true;
done:
    free(cells);
    tsv_close(r);
    return ok;
}

void heatmap_scores_fini(HeatmapScores *scores)
{
    free(scores->cells);
    scores->cells = NULL;
    scores->n = 0;
}

bool heatmap_read_thumbnail(Slide *slide, int level, int64_t max_side_px, Image *out, HeatmapGeometry *geo,
                            Err *err)
{
    memset(out, 0, sizeof *out);
    int levels = slide_level_count(slide);
    if (level >= 0) {
        if (!slide_require_level(slide, level, err))
            return false;
    } else {
        level = levels - 1;
        for (int l = 0; l < levels; l++)
            if (max_side_px <= 0 || (slide_width(slide, l) <= max_side_px && slide_height(slide, l) <= max_side_px)) {
                level = l;
                break;
            }
    }
    const int64_t lw = slide_width(slide, level), lh = slide_height(slide, level);
    int64_t shrink = 1;
    if (max_side_px > 0) {
        int64_t longest = lw > lh ? lw : lh;
        shrink = (longest + max_side_px - 1) / max_side_px;
        if (shrink < 1)
            shrink = 1;
    }
    const int64_t ow = (lw + shrink - 1) / shrink, oh = (lh + shrink - 1) / shrink;
    if (ow > IMG_MAX_SIDE || oh > IMG_MAX_SIDE)
        return err_set(err, "%s: level %d is %lldx%lld pixels, too large for a thumbnail (use --max-side)",
                       slide_path(slide), level, (long long)lw, (long long)lh);
    Image img = {0};
    uint8_t *band = NULL;
    uint32_t *acc = NULL;
    if (!image_alloc(&img, (int)ow, (int)oh, 3, 8, err))
        return false;
    // Bands of whole output rows (about 256 level rows, at least one output
    // row): memory is the thumbnail plus band_rows * lw * 3 bytes, however
    // large the level is, and each slide read covers many rows at once.
    const int64_t out_rows_per_band = shrink >= 256 ? 1 : 256 / shrink;
    const int64_t band_rows = out_rows_per_band * shrink;
    band = xmalloc_array((size_t)(band_rows * lw), 3, err);
    acc = xmalloc_array((size_t)ow, 3 * sizeof *acc, err);
    if (!band || !acc)
        goto fail;
    const double ds = slide_downsample(slide, level);
    uint8_t *dst = img.data;
    for (int64_t band_y = 0; band_y < oh; band_y += out_rows_per_band) {
        int64_t row0 = band_y * shrink, rows_read = lh - row0 < band_rows ? lh - row0 : band_rows;
        int64_t level0_y = (int64_t)llround((double)row0 * ds);
        if (!slide_read_rgb(slide, level, 0, level0_y, lw, rows_read, band, err))
            goto fail;
        for (int64_t oy = band_y; oy < oh && oy < band_y + out_rows_per_band; oy++) {
            int64_t first = (oy - band_y) * shrink;
            int64_t rows = rows_read - first < shrink ? rows_read - first : shrink;
            memset(acc, 0, (size_t)ow * 3 * sizeof *acc);
            for (int64_t y = first; y < first + rows; y++) {
                const uint8_t *src = band + (size_t)(y * lw * 3);
                for (int64_t x = 0; x < lw; x++)
                    for (int c = 0; c < 3; c++)
                        acc[(x / shrink) * 3 + c] += src[x * 3 + c];
            }
            for (int64_t ox = 0; ox < ow; ox++) {
                int64_t cols = lw - ox * shrink < shrink ? lw - ox * shrink : shrink;
                uint32_t count = (uint32_t)(cols * rows);
                for (int c = 0; c < 3; c++)
                    dst[(oy * ow + ox) * 3 + c] = (uint8_t)((acc[ox * 3 + c] + count / 2) / count);
            }
        }
    }
    free(band);
    free(acc);
    geo->level = level;
    geo->shrink = shrink;
    // From the level's own size rather than its nominal downsample: the
    // pyramid's rounding is then accounted for.
    geo->level0_per_px_x = (double)slide_width(slide, 0) / (double)lw * (double)shrink;
    geo->level0_per_px_y = (double)slide_height(slide, 0) / (double)lh * (double)shrink;
    *out = img;
    return true;
fail:
    free(band);
    free(acc);
    image_fini(&img);
    return false;
}

static const char *const colormap_names[] = {"viridis", "jet"};
_Static_assert(sizeof colormap_names / sizeof *colormap_names == HEATMAP_COLORMAP_COUNT, "colormap names");

bool heatmap_colormap_parse(const char *name, HeatmapColormap *out)
{
    for (int i = 0; i < HEATMAP_COLORMAP_COUNT; i++)
        if (strcmp(name, colormap_names[i]) == 0) {
            *out = (HeatmapColormap)i;
            return true;
        }
    return false;
}

// matplotlib's viridis sampled at t = 0, 1/8, ..., 1; linear in between.
static const uint8_t viridis[9][3] = {{68, 1, 84},    {71, 44, 122},  {59, 82, 139},  {44, 114, 142}, {33, 145, 140},
                                      {40, 174, 128}, {94, 201, 98},  {173, 220, 48}, {253, 231, 37}};

static uint8_t unit_to_byte(double v)
{
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    return (uint8_t)lrint(v * 255.0);
}

void heatmap_colour(HeatmapColormap map, double t, uint8_t rgb[3])
{
    if (!(t > 0))
        t = 0; // also NaN
    if (t > 1)
        t = 1;
    if (map == HEATMAP_JET) {
        rgb[0] = unit_to_byte(1.5 - fabs(4 * t - 3));
        rgb[1] = unit_to_byte(1.5 - fabs(4 * t - 2));
        rgb[2] = unit_to_byte(1.5 - fabs(4 * t - 1));
        return;
    }
    double pos = t * 8;
    int i = (int)pos;
    if (i >= 8)
        i = 7;
    double f = pos - i;
    for (int c = 0; c < 3; c++)
        rgb[c] = (uint8_t)lrint(viridis[i][c] + f * (viridis[i + 1][c] - viridis[i][c]));
}

HeatmapStyle heatmap_style_default(void)
{
    return (HeatmapStyle){.alpha = 0.5, .colormap = HEATMAP_VIRIDIS};
}

// A 3x5 pixel font for the legend's numbers, one row per byte (bit 2 = left).
static const char font_chars[] = "0123456789.-+e";
static const uint8_t font_rows[][5] = {
    {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
    {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7},
    {0, 0, 0, 0, 2}, {0, 0, 7, 0, 0}, {0, 2, 7, 2, 0}, {0, 7, 5, 6, 3},
};
_Static_assert(sizeof font_rows / sizeof *font_rows == sizeof font_chars - 1, "one glyph per character");

// Draws text in black with its top-left corner at (x, y), each font pixel
// scale x scale; returns the width drawn. Pixels outside the image are
// skipped.
static int64_t draw_text(Image *img, int64_t x, int64_t y, int scale, const char *text)
{
    uint8_t *px = img->data;
    int64_t x0 = x;
    for (const char *p = text; *p; p++) {
        const char *g = strchr(font_chars, *p);
        if (g && *g) {
            const uint8_t *rows = font_rows[g - font_chars];
            for (int r = 0; r < 5 * scale; r++)
                for (int c = 0; c < 3 * scale; c++) {
                    int64_t xx = x + c, yy = y + r;
                    if (!(rows[r / scale] & (4 >> (c / scale))) || xx < 0 || yy < 0 || xx >= img->width ||
                        yy >= img->height)
                        continue;
                    memset(px + (yy * img->width + xx) * 3, 0, 3);
                }
        }
        x += 4 * scale;
    }
    return x - x0;
}

static int64_t text_width(const char *text, int scale)
{
    return (int64_t)strlen(text) * 4 * scale;
}

// Grows img by a white strip holding a colour bar from lo to hi and the two
// numbers under its ends.
static bool add_legend(Image *img, HeatmapColormap map, double lo, double hi, Err *err)
{
    // Text about a fortieth of the width tall, as a plotting library would
    // size it against the figure.
    const int scale = img->width / 200 < 1 ? 1 : img->width / 200 > 8 ? 8 : img->width / 200;
    const int64_t margin = 4 * scale, bar_h = 6 * scale, text_h = 5 * scale;
    const int64_t strip = margin + bar_h + margin + text_h + margin;
    Image grown = {0};
    if (img->height + strip > IMG_MAX_SIDE)
        return err_set(err, "image too tall for a legend: %d rows", img->height);
    if (!image_alloc(&grown, img->width, (int)(img->height + strip), 3, 8, err))
        return false;
    const size_t row_bytes = (size_t)img->width * 3;
    memcpy(grown.data, img->data, row_bytes * (size_t)img->height);
    uint8_t *base = (uint8_t *)grown.data + row_bytes * (size_t)img->height;
    memset(base, 255, row_bytes * (size_t)strip);
    const int64_t bar_x0 = margin, bar_x1 = img->width - margin;
    for (int64_t x = bar_x0; x < bar_x1; x++) {
        uint8_t rgb[3];
        heatmap_colour(map, bar_x1 - bar_x0 > 1 ? (double)(x - bar_x0) / (double)(bar_x1 - bar_x0 - 1) : 0.5, rgb);
        for (int64_t y = margin; y < margin + bar_h; y++)
            memcpy(base + (y * img->width + x) * 3, rgb, 3);
    }
    char lo_text[32], hi_text[32];
    snprintf(lo_text, sizeof lo_text, "%.4g", lo);
    snprintf(hi_text, sizeof hi_text, "%.4g", hi);
    const int64_t text_y = img->height + margin + bar_h + margin;
    draw_text(&grown, bar_x0, text_y, scale, lo_text);
    draw_text(&grown, bar_x1 - text_width(hi_text, scale) + scale, text_y, scale, hi_text);
    image_fini(img);
    *img = grown;
    return true;
}

bool heatmap_draw(Image *img, const HeatmapGeometry *geo, const HeatmapCell *cells, size_t n,
                  const HeatmapStyle *style, Err *err)
{
    if (img->channels != 3 || img->depth != 8 || !img->data)
        return err_set(err, "heat map needs an 8-bit RGB image, not %d channels of %d bits", img->channels,
                       img->depth);
    if (!(style->alpha >= 0 && style->alpha <= 1))
        return err_set(err, "opacity %g is outside 0..1", style->alpha);
    if (!(geo->level0_per_px_x > 0 && geo->level0_per_px_y > 0))
        return err_set(err, "bad thumbnail geometry: %g x %g level-0 pixels per pixel", geo->level0_per_px_x,
                       geo->level0_per_px_y);
    double lo = style->lo, hi = style->hi;
    if (style->range_given) {
        if (!(isfinite(lo) && isfinite(hi) && lo < hi))
            return err_set(err, "bad score range %g,%g: needs finite LO < HI", lo, hi);
    } else {
        lo = INFINITY;
        hi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            lo = cells[i].score < lo ? cells[i].score : lo;
            hi = cells[i].score > hi ? cells[i].score : hi;
        }
    }
    const int64_t w = img->width, h = img->height;
    // Highest score per pixel first, then one blend per pixel: overlaps do
    // not darken, and the row order of the table does not matter.
    float *best = xmalloc_array((size_t)(w * h), sizeof *best, err);
    if (!best)
        return false;
    for (int64_t i = 0; i < w * h; i++)
        best[i] = NAN;
    for (size_t i = 0; i < n; i++) {
        const HeatmapCell *c = &cells[i];
        int64_t x0 = (int64_t)floor((double)c->level0_col / geo->level0_per_px_x);
        int64_t x1 = (int64_t)ceil((double)(c->level0_col + c->width) / geo->level0_per_px_x);
        int64_t y0 = (int64_t)floor((double)c->level0_row / geo->level0_per_px_y);
        int64_t y1 = (int64_t)ceil((double)(c->level0_row + c->height) / geo->level0_per_px_y);
        x0 = x0 < 0 ? 0 : x0;
        y0 = y0 < 0 ? 0 : y0;
        x1 = x1 > w ? w : x1;
        y1 = y1 > h ? h : y1;
        // t in [0, 1] as a float keeps the comparison exact per cell.
        float t = hi > lo ? (float)((c->score - lo) / (hi - lo)) : 0.5f;
        for (int64_t y = y0; y < y1; y++)
            for (int64_t x = x0; x < x1; x++) {
                float *b = &best[y * w + x];
                if (isnan(*b) || t > *b)
                    *b = t;
            }
    }
    uint8_t *px = img->data;
    const double a = style->alpha;
    for (int64_t i = 0; i < w * h; i++) {
        if (isnan(best[i]))
            continue;
        uint8_t rgb[3];
        heatmap_colour(style->colormap, best[i], rgb);
        for (int c = 0; c < 3; c++)
            px[i * 3 + c] = (uint8_t)lrint((1 - a) * px[i * 3 + c] + a * rgb[c]);
    }
    free(best);
    if (style->legend)
        return add_legend(img, style->colormap, lo, hi, err);
    return true;
}
