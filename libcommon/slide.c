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

#include "slide_impl.h"

/* Largest number of pixels read by one openslide_read_region call: 4 Mpx
 * = 16 MiB of ARGB scratch per reading thread. */
#define SLIDE_BAND_PIXELS ((int64_t)1 << 22)

struct Slide {
    openslide_t *osr;  /* owned */
    char *path;        /* owned copy */
    int levels;
    SlideTiff *direct; /* level-0 tile reader for generic TIFF, or NULL; owned */
    bool use_direct;   /* slide_set_direct_reads */
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
    const char *detected = openslide_detect_vendor(path);
    openslide_t *osr = openslide_open(path);
    if (!osr) {
        err_set(err, "%s: not a slide OpenSlide can read (%s)", path,
                detected ? "recognised format, but opening failed" : "unknown format, or a TIFF that is not tiled");
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
    const char *vendor = openslide_get_property_value(osr, OPENSLIDE_PROPERTY_NAME_VENDOR);
    if (vendor && strcmp(vendor, "generic-tiff") == 0) {
        int64_t w, h;
        openslide_get_level_dimensions(osr, 0, &w, &h);
        s->direct = slide_tiff_open(path, w, h);
        s->use_direct = s->direct != NULL;
    }
    return s;
}

void slide_close(Slide *slide)
{
    if (!slide)
        return;
    slide_tiff_close(slide->direct);
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

// Un-premultiplies one pixel by the rule of slide.h.
static inline void unpremultiply(uint32_t p, uint8_t *r, uint8_t *g, uint8_t *b)
{
    uint32_t a = p >> 24, rr = (p >> 16) & 255, gg = (p >> 8) & 255, bb = p & 255;
    if (a != 255) {
        if (a == 0) {
            rr = gg = bb = 0;
        } else {
            rr = (rr * 255 + a / 2) / a;
            gg = (gg * 255 + a / 2) / a;
            bb = (bb * 255 + a / 2) / a;
            rr = rr > 255 ? 255 : rr;
            gg = gg > 255 ? 255 : gg;
            bb = bb > 255 ? 255 : bb;
        }
    }
    *r = (uint8_t)rr;
    *g = (uint8_t)gg;
    *b = (uint8_t)bb;
}

void slide_argb_to_rgb(uint8_t *rgb, const uint32_t *argb, int64_t n)
{
    // Premultiplied data has c <= a; the clamp in unpremultiply only guards
    // corrupt input. Un-premultiplying follows openslide-python.
    for (int64_t i = 0; i < n; i++)
        unpremultiply(argb[i], &rgb[3 * i], &rgb[3 * i + 1], &rgb[3 * i + 2]);
}

// Reads the region band by band and converts each band into dst: HWC when
// planar is false, else three planes of w * h bytes.
static bool read_region(Slide *slide, int level, int64_t level0_x, int64_t level0_y, int64_t w, int64_t h,
                        uint8_t *dst, bool planar, Err *err)
{
    if (w < 0 || h < 0)
        return err_set(err, "%s: bad region size %lldx%lld", slide->path, (long long)w, (long long)h);
    if (!slide_require_level(slide, level, err))
        return false;
    if (w == 0 || h == 0)
        return true;
    if (level == 0 && slide->use_direct)
        return slide_tiff_read(slide->direct, level0_x, level0_y, w, h, dst, planar, err);
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
    size_t plane = (size_t)(w * h);
    uint32_t *argb = xmalloc_array((size_t)(w * band), sizeof *argb, err);
    if (!argb) {
        memset(dst, 0, 3 * plane);
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
        if (!planar) {
            slide_argb_to_rgb(dst + (size_t)(y * w * 3), argb, w * bh);
            continue;
        }
        size_t at = (size_t)(y * w), n = (size_t)(w * bh);
        uint8_t *r = dst + at, *g = dst + plane + at, *b = dst + 2 * plane + at;
        for (size_t i = 0; i < n; i++)
            unpremultiply(argb[i], &r[i], &g[i], &b[i]);
    }
    free(argb);
    if (!ok)
        memset(dst, 0, 3 * plane);
    return ok;
}

bool slide_read_rgb(Slide *slide, int level, int64_t level0_x, int64_t level0_y, int64_t w, int64_t h,
                    uint8_t *rgb_hwc, Err *err)
{
    return read_region(slide, level, level0_x, level0_y, w, h, rgb_hwc, false, err);
}

bool slide_read_planar(Slide *slide, int level, int64_t level0_x, int64_t level0_y, int64_t w, int64_t h,
                       uint8_t *rgb_chw, Err *err)
{
    return read_region(slide, level, level0_x, level0_y, w, h, rgb_chw, true, err);
}

bool slide_set_direct_reads(Slide *slide, bool enable)
{
    slide->use_direct = enable && slide->direct != NULL;
    return slide->use_direct;
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
