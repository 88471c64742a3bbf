/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tissue: tissue and cell masks of the Camelyon16 preprocessing (see
 * tissue.h; spec camelyon16.md 2.2, 2.3, 6.2).
 */
#include "tissue.h"

#include <stdlib.h>
#include <string.h>

#define OTSU_BINS 256

int64_t tissue_cells(int64_t n) { return (n + 2) / 3; }

void tissue_gray(double *gray, const uint8_t *rgb, size_t n)
{
    // skimage img_as_float multiplies by 1/255 (not a division), then
    // rgb2gray takes the dot product with these coefficients.
    const double scale = 1.0 / 255.0;
    for (size_t i = 0; i < n; i++) {
        double r = rgb[3 * i] * scale, g = rgb[3 * i + 1] * scale, b = rgb[3 * i + 2] * scale;
        gray[i] = r * 0.2125 + g * 0.7154 + b * 0.0721;
    }
}

bool tissue_otsu(const double *values, size_t n, double *threshold)
{
    if (n == 0)
        return false;
    double lo = values[0], hi = values[0];
    for (size_t i = 1; i < n; i++) {
        if (values[i] < lo) lo = values[i];
        if (values[i] > hi) hi = values[i];
    }
    if (lo == hi)
        return false;
    // np.histogram(range=(lo, hi), bins=256): edges from np.linspace (i*step
    // + start, last edge exactly hi), index from (v - lo) * norm, then the
    // same one-step corrections NumPy applies against the edges.
    double edges[OTSU_BINS + 1];
    double step = (hi - lo) / OTSU_BINS;
    for (int i = 0; i < OTSU_BINS; i++)
        edges[i] = (double)i * step + lo;
    edges[OTSU_BINS] = hi;
    double norm = OTSU_BINS / (hi - lo);
    double hist[OTSU_BINS] = {0};
    for (size_t i = 0; i < n; i++) {
        double v = values[i];
        long k = (long)((v - lo) * norm);
        if (k >= OTSU_BINS) k = OTSU_BINS - 1;
        if (k < 0) k = 0;
        if (v < edges[k] && k > 0)
            k--;
        else if (k != OTSU_BINS - 1 && v >= edges[k + 1])
            k++;
        hist[k] += 1.0;
    }
    double centres[OTSU_BINS];
    for (int i = 0; i < OTSU_BINS; i++)
        centres[i] = (edges[i] + edges[i + 1]) / 2;
    // Cumulative sums from the left and from the right, in NumPy's
    // sequential order.
    double w1[OTSU_BINS], w2[OTSU_BINS], m1[OTSU_BINS], m2[OTSU_BINS];
    double acc_w = 0, acc_m = 0;
    for (int i = 0; i < OTSU_BINS; i++) {
        acc_w += hist[i];
        acc_m += hist[i] * centres[i];
        w1[i] = acc_w;
        m1[i] = acc_m / acc_w;
    }
    acc_w = acc_m = 0;
    for (int i = OTSU_BINS - 1; i >= 0; i--) {
        acc_w += hist[i];
        acc_m += hist[i] * centres[i];
        w2[i] = acc_w;
        m2[i] = acc_m / acc_w;
    }
    // The first and last bins hold the minimum and maximum, so no weight is
    // zero and no mean is NaN. argmax keeps the first maximum.
    int best = 0;
    double best_score = -1;
    for (int k = 0; k < OTSU_BINS - 1; k++) {
        double d = m1[k] - m2[k + 1];
        double score = w1[k] * w2[k + 1] * (d * d);
        if (score > best_score) {
            best_score = score;
            best = k;
        }
    }
    *threshold = centres[best];
    return true;
}

bool tissue_mask_from_rgb(uint8_t *mask, const uint8_t *rgb_hwc, int64_t w, int64_t h, bool *found, Err *err)
{
    size_t n = (size_t)(w * h);
    *found = false;
    memset(mask, 0, n);
    if (n == 0)
        return true;
    double *gray = xmalloc_array(n, sizeof *gray, err);
    if (!gray)
        return false;
    tissue_gray(gray, rgb_hwc, n);
    double t;
    if (tissue_otsu(gray, n, &t)) {
        *found = true;
        for (size_t i = 0; i < n; i++)
            mask[i] = gray[i] <= t;
    }
    free(gray);
    return true;
}

static void clear_rows(uint8_t *mask, int64_t w, int64_t h, int64_t from, int64_t to)
{
    from = from < 0 ? 0 : from;
    to = to > h ? h : to;
    if (to > from)
        memset(mask + from * w, 0, (size_t)((to - from) * w));
}

static void clear_cols(uint8_t *mask, int64_t w, int64_t h, int64_t from, int64_t to)
{
    from = from < 0 ? 0 : from;
    to = to > w ? w : to;
    for (int64_t y = 0; y < h && to > from; y++)
        memset(mask + y * w + from, 0, (size_t)(to - from));
}

void tissue_clear_border(uint8_t *mask, int64_t w, int64_t h)
{
    // Python slices: mask[:b] and mask[-b:] clear everything when h < b.
    if (h > TISSUE_TALL_H) {
        clear_rows(mask, w, h, 0, TISSUE_TALL_ROWS);
        clear_rows(mask, w, h, h - TISSUE_TALL_ROWS, h);
        // The original clears the left columns only; the right border of
        // tall slides is kept on purpose (spec 2.3).
        clear_cols(mask, w, h, 0, TISSUE_TALL_LEFT);
    } else {
        clear_rows(mask, w, h, 0, TISSUE_BORDER);
        clear_rows(mask, w, h, h - TISSUE_BORDER, h);
        clear_cols(mask, w, h, 0, TISSUE_BORDER);
        clear_cols(mask, w, h, w - TISSUE_BORDER, w);
    }
}

// One 3x3 min (erode) or max (dilate) pass from src to dst; neighbours
// outside the image are skipped, which equals OpenCV's default border values
// (+inf for erosion, -inf for dilation).
static void morph3(uint8_t *dst, const uint8_t *src, int64_t w, int64_t h, bool erode)
{
    for (int64_t y = 0; y < h; y++) {
        int64_t y0 = y > 0 ? y - 1 : 0, y1 = y + 1 < h ? y + 1 : h - 1;
        for (int64_t x = 0; x < w; x++) {
            int64_t x0 = x > 0 ? x - 1 : 0, x1 = x + 1 < w ? x + 1 : w - 1;
            uint8_t v = src[y * w + x];
            for (int64_t yy = y0; yy <= y1; yy++)
                for (int64_t xx = x0; xx <= x1; xx++) {
                    uint8_t s = src[yy * w + xx];
                    v = erode ? (s < v ? s : v) : (s > v ? s : v);
                }
            dst[y * w + x] = v;
        }
    }
}

bool tissue_open3(uint8_t *mask, int64_t w, int64_t h, Err *err)
{
    size_t n = (size_t)(w * h);
    if (n == 0)
        return true;
    uint8_t *tmp = xmalloc_array(n, 1, err);
    if (!tmp)
        return false;
    morph3(tmp, mask, w, h, true);
    morph3(mask, tmp, w, h, false);
    free(tmp);
    return true;
}

void tissue_full_blocks(uint8_t *cells, const uint8_t *mask, int64_t w, int64_t h)
{
    int64_t cw = tissue_cells(w), ch = tissue_cells(h);
    for (int64_t r = 0; r < ch; r++)
        for (int64_t c = 0; c < cw; c++) {
            bool all = 3 * r + 3 <= h && 3 * c + 3 <= w;
            for (int64_t y = 3 * r; all && y < 3 * r + 3; y++)
                for (int64_t x = 3 * c; x < 3 * c + 3; x++)
                    all = all && mask[y * w + x] == 1;
            cells[r * cw + c] = all;
        }
}

bool tissue_cell_mask(uint8_t *cells, uint8_t *mask, int64_t w, int64_t h, Err *err)
{
    tissue_clear_border(mask, w, h);
    if (!tissue_open3(mask, w, h, err))
        return false;
    tissue_full_blocks(cells, mask, w, h);
    return true;
}

void tissue_tumour_cells(uint8_t *cells, const uint8_t *labels, int64_t w, int64_t h)
{
    int64_t cw = tissue_cells(w), ch = tissue_cells(h);
    for (int64_t r = 0; r < ch; r++)
        for (int64_t c = 0; c < cw; c++) {
            int sum = 0;
            for (int64_t y = 3 * r; y < 3 * r + 3 && y < h; y++)
                for (int64_t x = 3 * c; x < 3 * c + 3 && x < w; x++)
                    sum += labels[y * w + x];
            // float mean cast to uint8 truncates: floor(sum / 9) == 127.
            cells[r * cw + c] = sum / 9 == 127;
        }
}
