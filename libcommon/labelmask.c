/* SPDX-License-Identifier: Apache-2.0 */
/*
 * labelmask: polygon rasterisation and Pillow-exact reduction (see
 * labelmask.h; spec camelyon16.md 4).
 */
#include "labelmask.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Pillow's fixed point for 8-bit images: 32 - 8 - 2 bits. */
#define PILLOW_PRECISION_BITS 22

static const char *const filter_names[] = {"bicubic", "nearest"};
_Static_assert(sizeof filter_names / sizeof filter_names[0] == LABELMASK_FILTER_COUNT, "filter_names");

const char *labelmask_filter_name(LabelFilter f)
{
    return (unsigned)f < LABELMASK_FILTER_COUNT ? filter_names[f] : NULL;
}

LabelFilter labelmask_filter_from_name(const char *name)
{
    for (int f = 0; f < LABELMASK_FILTER_COUNT; f++)
        if (strcmp(name, filter_names[f]) == 0)
            return (LabelFilter)f;
    return LABELMASK_FILTER_COUNT;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// Fills row[k] = value for the sample positions xs[k] (ascending) that lie
// inside polygon p on the horizontal line y = ys (even-odd rule; an edge
// counts when it crosses ys half-open, spans are closed). cross is scratch
// of p->n doubles.
static void fill_polygon_row(uint8_t *row, const double *xs, int64_t n, const Polygon *p, double ys, uint8_t value,
                             double *cross)
{
    size_t m = 0;
    for (size_t i = 0; i < p->n; i++) {
        size_t j = i + 1 == p->n ? 0 : i + 1;
        double x0 = (double)p->x[i], y0 = (double)p->y[i], x1 = (double)p->x[j], y1 = (double)p->y[j];
        if ((y0 <= ys) != (y1 <= ys))
            cross[m++] = x0 + (ys - y0) * (x1 - x0) / (y1 - y0);
    }
    if (m < 2)
        return;
    qsort(cross, m, sizeof *cross, cmp_double);
    for (size_t s = 0; s + 1 < m; s += 2) {
        // first sample >= cross[s]
        int64_t lo = 0, hi = n;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            if (xs[mid] < cross[s]) lo = mid + 1; else hi = mid;
        }
        for (int64_t k = lo; k < n && xs[k] <= cross[s + 1]; k++)
            row[k] = value;
    }
}

// One row of labels: tumour polygons (127) first, exclusions (255) on top.
static void label_row(uint8_t *row, const double *xs, int64_t n, const Annotations *ann, double ys, double *cross,
                      const int64_t *bbox)
{
    memset(row, LABELMASK_BACKGROUND, (size_t)n);
    for (size_t i = 0; i < ann->count; i++) {
        if (ys < (double)bbox[2 * i] || ys > (double)bbox[2 * i + 1])
            continue;
        const Polygon *p = &ann->polygons[i];
        fill_polygon_row(row, xs, n, p, ys, p->cls == ANNOTATION_TUMOUR ? LABELMASK_TUMOUR : LABELMASK_EXCLUSION,
                         cross);
    }
}

// Rasterises the label grid: out[j * nx + i] = label at (xs[i], ys[j]).
static bool raster(uint8_t *out, const double *xs, int64_t nx, const double *ys, int64_t ny, const Annotations *ann,
                   Err *err)
{
    size_t max_n = 1;
    for (size_t i = 0; i < ann->count; i++)
        max_n = ann->polygons[i].n > max_n ? ann->polygons[i].n : max_n;
    // Row extent of each polygon, to skip the polygons a row cannot meet.
    int64_t *bbox = xmalloc_array(2 * (ann->count ? ann->count : 1), sizeof *bbox, err);
    if (!bbox)
        return false;
    for (size_t i = 0; i < ann->count; i++) {
        const Polygon *p = &ann->polygons[i];
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (size_t k = 0; k < p->n; k++) {
            lo = p->y[k] < lo ? p->y[k] : lo;
            hi = p->y[k] > hi ? p->y[k] : hi;
        }
        bbox[2 * i] = lo;
        bbox[2 * i + 1] = hi;
    }
    bool ok = true;
#pragma omp parallel
    {
        double *cross = malloc(max_n * sizeof *cross);
        if (!cross) {
#pragma omp atomic write
            ok = false;
        }
#pragma omp for schedule(static)
        for (int64_t j = 0; j < ny; j++)
            if (cross)
                label_row(out + j * nx, xs, nx, ann, ys[j], cross, bbox);
        free(cross);
    }
    free(bbox);
    if (!ok)
        return err_set(err, "out of memory rasterising %s", ann->path);
    return true;
}

static double bicubic(double x)
{
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

// Pillow's precompute_coeffs + normalize_coeffs_8bpc for in_size -> out_size
// (bicubic, support 2), with each level-0 pixel's integer weight summed
// into its grid cell (p / grid). For output o, taps cover cells
// first[o] .. first[o] + count[o] - 1 with weights w[o * kmax + t].
typedef struct Taps {
    int64_t *first, *count;
    int32_t *w;
    int64_t kmax;
} Taps;

static void taps_free(Taps *t)
{
    free(t->first);
    free(t->count);
    free(t->w);
}

static bool taps_make(Taps *t, int64_t in_size, int64_t out_size, int64_t grid, Err *err)
{
    memset(t, 0, sizeof *t);
    double scale = (double)in_size / (double)out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 2.0 * filterscale;
    int64_t ksize = (int64_t)ceil(support) * 2 + 1;
    t->kmax = ksize / grid + 2;
    t->first = xmalloc_array((size_t)out_size, sizeof *t->first, err);
    t->count = t->first ? xmalloc_array((size_t)out_size, sizeof *t->count, err) : NULL;
    t->w = t->count ? xcalloc_array((size_t)(out_size * t->kmax), sizeof *t->w, err) : NULL;
    double *k = t->w ? xmalloc_array((size_t)ksize, sizeof *k, err) : NULL;
    if (!k) {
        taps_free(t);
        return false;
    }
    for (int64_t xx = 0; xx < out_size; xx++) {
        double center = (xx + 0.5) * scale;
        double ww = 0.0, ss = 1.0 / filterscale;
        int64_t xmin = (int64_t)(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int64_t xmax = (int64_t)(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        for (int64_t x = 0; x < xmax; x++) {
            k[x] = bicubic((double)(x + xmin - center + 0.5) * ss);
            ww += k[x];
        }
        int64_t c0 = xmin / grid;
        t->first[xx] = c0;
        t->count[xx] = xmax > 0 ? (xmin + xmax - 1) / grid - c0 + 1 : 0;
        for (int64_t x = 0; x < xmax; x++) {
            double v = ww != 0.0 ? k[x] / ww : k[x];
            int32_t q = v < 0 ? (int32_t)(-0.5 + v * (1 << PILLOW_PRECISION_BITS))
                              : (int32_t)(0.5 + v * (1 << PILLOW_PRECISION_BITS));
            t->w[xx * t->kmax + (xmin + x) / grid - c0] += q;
        }
    }
    free(k);
    return true;
}

static uint8_t clip8(int64_t in)
{
    if (in >= ((int64_t)1 << PILLOW_PRECISION_BITS << 8)) return 255;
    if (in <= 0) return 0;
    return (uint8_t)(in >> PILLOW_PRECISION_BITS);
}

static bool render_bicubic(uint8_t *labels, const Annotations *ann, int64_t W, int64_t H, int64_t w, int64_t h,
                           int64_t grid, Err *err)
{
    int64_t gw = (W + grid - 1) / grid, gh = (H + grid - 1) / grid;
    double *xs = xmalloc_array((size_t)gw, sizeof *xs, err);
    double *ys = xs ? xmalloc_array((size_t)gh, sizeof *ys, err) : NULL;
    uint8_t *g = ys ? xmalloc_array((size_t)gw, (size_t)gh, err) : NULL;
    uint8_t *tmp = g ? xmalloc_array((size_t)w, (size_t)gh, err) : NULL;
    Taps tx = {0}, ty = {0};
    bool ok = tmp && taps_make(&tx, W, w, grid, err) && taps_make(&ty, H, h, grid, err);
    if (ok) {
        // Sample each cell at the centre of its level-0 pixel indices.
        for (int64_t i = 0; i < gw; i++) xs[i] = (double)(i * grid) + (double)(grid - 1) / 2;
        for (int64_t j = 0; j < gh; j++) ys[j] = (double)(j * grid) + (double)(grid - 1) / 2;
        ok = raster(g, xs, gw, ys, gh, ann, err);
    }
    if (ok) {
        const int64_t half = (int64_t)1 << (PILLOW_PRECISION_BITS - 1);
        // Horizontal pass (Pillow runs it first), one grid row at a time.
#pragma omp parallel for schedule(static)
        for (int64_t j = 0; j < gh; j++)
            for (int64_t o = 0; o < w; o++) {
                int64_t ss = half;
                const uint8_t *src = g + j * gw + tx.first[o];
                const int32_t *wt = tx.w + o * tx.kmax;
                for (int64_t t = 0; t < tx.count[o]; t++) ss += (int64_t)src[t] * wt[t];
                tmp[j * w + o] = clip8(ss);
            }
#pragma omp parallel for schedule(static)
        for (int64_t o = 0; o < h; o++)
            for (int64_t x = 0; x < w; x++) {
                int64_t ss = half;
                const int32_t *wt = ty.w + o * ty.kmax;
                for (int64_t t = 0; t < ty.count[o]; t++) ss += (int64_t)tmp[(ty.first[o] + t) * w + x] * wt[t];
                labels[o * w + x] = clip8(ss);
            }
    }
    taps_free(&tx);
    taps_free(&ty);
    free(tmp);
    free(g);
    free(ys);
    free(xs);
    return ok;
}

static bool render_nearest(uint8_t *labels, const Annotations *ann, int64_t W, int64_t H, int64_t w, int64_t h,
                           Err *err)
{
    double *xs = xmalloc_array((size_t)w, sizeof *xs, err);
    double *ys = xs ? xmalloc_array((size_t)h, sizeof *ys, err) : NULL;
    bool ok = ys != NULL;
    if (ok) {
        for (int64_t i = 0; i < w; i++) xs[i] = floor((i + 0.5) * (double)W / (double)w);
        for (int64_t j = 0; j < h; j++) ys[j] = floor((j + 0.5) * (double)H / (double)h);
        ok = raster(labels, xs, w, ys, h, ann, err);
    }
    free(ys);
    free(xs);
    return ok;
}

bool labelmask_render(uint8_t *labels, const Annotations *ann, int64_t width0, int64_t height0, int64_t w,
                      int64_t h, int64_t grid_px, LabelFilter filter, Err *err)
{
    if (w <= 0 || h <= 0 || width0 < w || height0 < h || grid_px < 1)
        return err_set(err, "bad label mask geometry: %lldx%lld from %lldx%lld, grid %lld", (long long)w,
                       (long long)h, (long long)width0, (long long)height0, (long long)grid_px);
    if (filter == LABELMASK_NEAREST)
        return render_nearest(labels, ann, width0, height0, w, h, err);
    return render_bicubic(labels, ann, width0, height0, w, h, grid_px, err);
}
