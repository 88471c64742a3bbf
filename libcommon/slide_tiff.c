/* SPDX-License-Identifier: Apache-2.0 */
/* slide_tiff: direct level-0 tile reads of generic TIFF slides (see
 * slide_impl.h). The only file of the slide module that calls libtiff. */
#include "slide_impl.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tiffio.h>

/* One libtiff handle with its own message buffer and tile buffer. */
typedef struct TiffHandle {
    TIFF *tif;
    char msg[256];           /* last libtiff error on this handle */
    uint8_t *tile;           /* [tile_h][tile_w][3] */
    struct TiffHandle *next; /* idle list */
} TiffHandle;

struct SlideTiff {
    char *path;
    int64_t width, height;
    uint32_t tile_w, tile_h;
    bool jpeg_ycbcr;         /* ask libtiff for RGB out of YCbCr JPEG */
    pthread_mutex_t lock;    /* guards idle */
    TiffHandle *idle;
};

static int on_message(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif;
    TiffHandle *h = user;
    int n = snprintf(h->msg, sizeof h->msg, "%s: ", module ? module : "libtiff");
    if (n > 0 && (size_t)n < sizeof h->msg)
        vsnprintf(h->msg + n, sizeof h->msg - (size_t)n, fmt, ap);
    return 1; // handled: nothing reaches stderr
}

static int on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif, (void)user, (void)module, (void)fmt, (void)ap;
    return 1;
}

static void handle_free(TiffHandle *h)
{
    if (!h)
        return;
    if (h->tif)
        TIFFClose(h->tif);
    free(h->tile);
    free(h);
}

static TiffHandle *handle_open(const char *path, bool jpeg_ycbcr, size_t tile_bytes)
{
    TiffHandle *h = calloc(1, sizeof *h);
    TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
    if (!h || !o) {
        free(h);
        TIFFOpenOptionsFree(o);
        return NULL;
    }
    TIFFOpenOptionsSetErrorHandlerExtR(o, on_message, h);
    TIFFOpenOptionsSetWarningHandlerExtR(o, on_warning, h);
    h->tif = TIFFOpenExt(path, "r", o);
    TIFFOpenOptionsFree(o);
    h->tile = tile_bytes ? malloc(tile_bytes) : NULL;
    if (!h->tif || (tile_bytes && !h->tile)) {
        handle_free(h);
        return NULL;
    }
    if (jpeg_ycbcr)
        TIFFSetField(h->tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
    return h;
}

SlideTiff *slide_tiff_open(const char *path, int64_t width, int64_t height)
{
    TiffHandle *probe = handle_open(path, false, 0);
    if (!probe)
        return NULL;
    TIFF *t = probe->tif;
    uint32_t w = 0, h = 0, tw = 0, th = 0;
    uint16_t bits = 0, spp = 0, planar = 0, photo = 0, comp = 0;
    bool ok = TIFFIsTiled(t) && TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w) && TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h) &&
              TIFFGetField(t, TIFFTAG_TILEWIDTH, &tw) && TIFFGetField(t, TIFFTAG_TILELENGTH, &th) &&
              TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bits) &&
              TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp) &&
              TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &planar) && TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photo) &&
              TIFFGetFieldDefaulted(t, TIFFTAG_COMPRESSION, &comp);
    bool lossless = comp == COMPRESSION_NONE || comp == COMPRESSION_LZW || comp == COMPRESSION_ADOBE_DEFLATE ||
                    comp == COMPRESSION_DEFLATE || comp == COMPRESSION_PACKBITS || comp == COMPRESSION_ZSTD ||
                    comp == COMPRESSION_LZMA;
    bool jpeg_ycbcr = comp == COMPRESSION_JPEG && photo == PHOTOMETRIC_YCBCR;
    bool jpeg_rgb = comp == COMPRESSION_JPEG && photo == PHOTOMETRIC_RGB;
    ok = ok && w == width && h == height && bits == 8 && spp == 3 && planar == PLANARCONFIG_CONTIG && tw > 0 &&
         th > 0 && tw <= 8192 && th <= 8192 && ((photo == PHOTOMETRIC_RGB && lossless) || jpeg_ycbcr || jpeg_rgb) &&
         TIFFIsCODECConfigured(comp);
    // libtiff gives wrong pixels for lossless levels smaller than a tile
    // (spec camelyon16.md 16.2); OpenSlide shares that path, but stay away.
    ok = ok && (comp == COMPRESSION_JPEG || (w >= tw && h >= th));
    handle_free(probe);
    if (!ok)
        return NULL;
    SlideTiff *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path))) {
        free(st);
        return NULL;
    }
    st->width = width;
    st->height = height;
    st->tile_w = tw;
    st->tile_h = th;
    st->jpeg_ycbcr = jpeg_ycbcr;
    pthread_mutex_init(&st->lock, NULL);
    return st;
}

void slide_tiff_close(SlideTiff *st)
{
    if (!st)
        return;
    while (st->idle) {
        TiffHandle *h = st->idle;
        st->idle = h->next;
        handle_free(h);
    }
    pthread_mutex_destroy(&st->lock);
    free(st->path);
    free(st);
}

static TiffHandle *acquire(SlideTiff *st, Err *err)
{
    pthread_mutex_lock(&st->lock);
    TiffHandle *h = st->idle;
    if (h)
        st->idle = h->next;
    pthread_mutex_unlock(&st->lock);
    if (!h)
        h = handle_open(st->path, st->jpeg_ycbcr, (size_t)st->tile_w * st->tile_h * 3);
    if (!h)
        err_set(err, "%s: cannot open for reading tiles", st->path);
    return h;
}

static void release(SlideTiff *st, TiffHandle *h)
{
    pthread_mutex_lock(&st->lock);
    h->next = st->idle;
    st->idle = h;
    pthread_mutex_unlock(&st->lock);
}

bool slide_tiff_read(SlideTiff *st, int64_t x, int64_t y, int64_t w, int64_t h, uint8_t *dst, bool planar,
                     Err *err)
{
    size_t plane = (size_t)(w * h);
    memset(dst, 0, 3 * plane); // black outside the image, as OpenSlide's transparent pixels become
    int64_t x0 = x > 0 ? x : 0, y0 = y > 0 ? y : 0;
    int64_t x1 = x + w < st->width ? x + w : st->width, y1 = y + h < st->height ? y + h : st->height;
    if (x0 >= x1 || y0 >= y1)
        return true;
    TiffHandle *th = acquire(st, err);
    if (!th)
        return false;
    bool ok = true;
    int64_t tw = st->tile_w, tl = st->tile_h;
    tmsize_t tile_bytes = (tmsize_t)(tw * tl * 3);
    for (int64_t ty = y0 / tl * tl; ty < y1 && ok; ty += tl)
        for (int64_t tx = x0 / tw * tw; tx < x1 && ok; tx += tw) {
            uint32_t tile = TIFFComputeTile(th->tif, (uint32_t)tx, (uint32_t)ty, 0, 0);
            th->msg[0] = 0;
            if (TIFFReadEncodedTile(th->tif, tile, th->tile, tile_bytes) < 0) {
                ok = err_set(err, "%s: tile %u: %s", st->path, tile, th->msg[0] ? th->msg : "read failed");
                break;
            }
            // The part of this tile inside both the region and the image.
            int64_t cx0 = tx > x0 ? tx : x0, cx1 = tx + tw < x1 ? tx + tw : x1;
            int64_t cy0 = ty > y0 ? ty : y0, cy1 = ty + tl < y1 ? ty + tl : y1;
            int64_t n = cx1 - cx0;
            for (int64_t yy = cy0; yy < cy1; yy++) {
                const uint8_t *src = th->tile + ((yy - ty) * tw + (cx0 - tx)) * 3;
                size_t at = (size_t)((yy - y) * w + (cx0 - x));
                if (!planar) {
                    memcpy(dst + 3 * at, src, (size_t)n * 3);
                    continue;
                }
                uint8_t *r = dst + at, *g = dst + plane + at, *b = dst + 2 * plane + at;
                for (int64_t i = 0; i < n; i++) {
                    r[i] = src[3 * i];
                    g[i] = src[3 * i + 1];
                    b[i] = src[3 * i + 2];
                }
            }
        }
    release(st, th);
    if (!ok)
        memset(dst, 0, 3 * plane);
    return ok;
}
