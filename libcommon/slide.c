/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slide: OpenSlide wrapper (see slide.h). The only file that calls OpenSlide.
 */
#include "slide.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openslide/openslide.h>

/* Largest number of pixels read by one openslide_read_region call: 4 Mpx
 * = 16 MiB of ARGB scratch per reading thread. */
#define SLIDE_BAND_PIXELS ((int64_t)1 << 22)

struct Slide {
    openslide_t *osr; /* owned */
    char *path;       /* owned copy */
    int levels;
};

Slide *slide_open(const char *path, Err *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        err_set(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        err_set(err, "%s: is a directory, not a slide", path);
        return NULL;
    }
    const char *vendor = openslide_detect_vendor(path);
    openslide_t *osr = openslide_open(path);
    if (!osr) {
        err_set(err, "%s: not a slide OpenSlide can read (%s)", path,
                vendor ? "recognised format, but opening failed" : "unknown format, or a TIFF that is not tiled");
        return NULL;
    }
    const char *oerr = openslide_get_error(osr);
    if (oerr) {
        err_set(err, "%s: %s", path, oerr);
        openslide_close(osr);
        return NULL;
    }
    int32_t levels = openslide_get_level_count(osr);
    if (levels < 1) {
        err_set(err, "%s: slide has no levels", path);
        openslide_close(osr);
        return NULL;
    }
    Slide *s = xcalloc_array(1, sizeof *s, err);
    char *copy = s ? xstrdup(path, err) : NULL;
    if (!copy) {
        free(s);
        openslide_close(osr);
        return NULL;
    }
    s->osr = osr;
    s->path = copy;
    s->levels = levels;
    return s;
}

void slide_close(Slide *slide)
{
    if (!slide)
        return;
    openslide_close(slide->osr);
    free(slide->path);
    free(slide);
}

const char *slide_path(const Slide *slide) { return slide->path; }

int slide_level_count(const Slide *slide) { return slide->levels; }

static void level_size(const Slide *slide, int level, int64_t *w, int64_t *h)
{
    *w = 0;
    *h = 0;
    if (level < 0 || level >= slide->levels)
        return;
    openslide_get_level_dimensions(slide->osr, level, w, h);
    if (*w < 0 || *h < 0)
        *w = *h = 0;
}

int64_t slide_width(const Slide *slide, int level)
{
    int64_t w, h;
    level_size(slide, level, &w, &h);
    return w;
}

int64_t slide_height(const Slide *slide, int level)
{
    int64_t w, h;
    level_size(slide, level, &w, &h);
    return h;
}

double slide_downsample(const Slide *slide, int level)
{
    if (level < 0 || level >= slide->levels)
        return 0;
    double d = openslide_get_level_downsample(slide->osr, level);
    return d > 0 ? d : 0;
}

bool slide_require_level(const Slide *slide, int level, Err *err)
{
    if (level >= 0 && level < slide->levels)
        return true;
    return err_set(err, "%s: has %d level%s, level %d is needed", slide->path, slide->levels,
                   slide->levels == 1 ? "" : "s", level);
}

void slide_argb_to_rgb(uint8_t *rgb, const uint32_t *argb, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        uint32_t p = argb[i];
        uint32_t a = p >> 24, r = (p >> 16) & 255, g = (p >> 8) & 255, b = p & 255;
        if (a != 255) {
            if (a == 0) {
                r = g = b = 0;
            } else {
                // Un-premultiply as openslide-python does; premultiplied
                // data has c <= a, the clamp only guards corrupt input.
                r = (r * 255 + a / 2) / a;
                g = (g * 255 + a / 2) / a;
                b = (b * 255 + a / 2) / a;
                r = r > 255 ? 255 : r;
                g = g > 255 ? 255 : g;
                b = b > 255 ? 255 : b;
            }
        }
        rgb[3 * i] = (uint8_t)r;
        rgb[3 * i + 1] = (uint8_t)g;
        rgb[3 * i + 2] = (uint8_t)b;
    }
}

bool slide_read_rgb(Slide *slide, int level, int64_t level0_x, int64_t level0_y, int64_t w, int64_t h,
                    uint8_t *rgb_hwc, Err *err)
{
    if (w < 0 || h < 0)
        return err_set(err, "%s: bad region size %lldx%lld", slide->path, (long long)w, (long long)h);
    if (!slide_require_level(slide, level, err))
        return false;
    if (w == 0 || h == 0)
        return true;
    double ds = slide_downsample(slide, level);
    // Band offsets are converted to the level-0 frame; that is exact only for
    // an integral downsample, so other levels are read in one piece.
    bool integral = ds == floor(ds) && ds >= 1;
    int64_t band = h;
    if (integral && w * h > SLIDE_BAND_PIXELS) {
        band = SLIDE_BAND_PIXELS / w;
        if (band < 1)
            band = 1;
    }
    if ((uint64_t)w > (uint64_t)INT64_MAX / (uint64_t)band)
        return err_set(err, "%s: region %lldx%lld is too large", slide->path, (long long)w, (long long)h);
    uint32_t *argb = xmalloc_array((size_t)(w * band), sizeof *argb, err);
    if (!argb) {
        memset(rgb_hwc, 0, (size_t)(w * h * 3));
        return false;
    }
    bool ok = true;
    for (int64_t y = 0; y < h && ok; y += band) {
        int64_t bh = h - y < band ? h - y : band;
        int64_t y0 = level0_y + (int64_t)((double)y * ds);
        openslide_read_region(slide->osr, argb, level0_x, y0, level, w, bh);
        const char *oerr = openslide_get_error(slide->osr);
        if (oerr) {
            ok = err_set(err, "%s: %s", slide->path, oerr);
            break;
        }
        slide_argb_to_rgb(rgb_hwc + (size_t)(y * w * 3), argb, w * bh);
    }
    free(argb);
    if (!ok)
        memset(rgb_hwc, 0, (size_t)(w * h * 3));
    return ok;
}

bool slide_name_from_path(const char *path, char *out, size_t out_bytes)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (n == 0 || n + 1 > out_bytes)
        return false;
    memcpy(out, base, n);
    out[n] = 0;
    return true;
}
