/* SPDX-License-Identifier: Apache-2.0 */
/* img_tiff: TIFF decoding and encoding with libtiff on memory buffers.
 *
 * libtiff's errors reach the Err through per-handle handlers (TIFFOpenOptions),
 * so decoding in several threads at once is safe and nothing is printed.
 * Native path: 8/16-bit unsigned, contiguous (chunky) grey, grey+alpha, RGB
 * and RGBA, in strips or tiles. 8-bit images with other photometric
 * interpretations (palette, YCbCr, min-is-white, 1-bit, separate planes) go
 * through TIFFReadRGBAImage. The first directory (page) only. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tiffio.h>

#include "img_impl.h"

typedef struct TiffMem {
    const unsigned char *in; /* decode: the file */
    size_t in_len;
    ImgBuf out;              /* encode: the file being written */
    size_t pos;
    char msg[512];           /* first libtiff error */
} TiffMem;

static int on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif;
    (void)module;
    TiffMem *m = user;
    if (!m->msg[0])
        vsnprintf(m->msg, sizeof m->msg, fmt, ap);
    return 1;
}

static int on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif, (void)user, (void)module, (void)fmt, (void)ap;
    return 1;
}

static size_t mem_size_now(const TiffMem *m)
{
    return m->in ? m->in_len : m->out.len;
}

static tmsize_t mem_read(thandle_t h, void *dst, tmsize_t n)
{
    TiffMem *m = (TiffMem *)h;
    size_t size = mem_size_now(m);
    const unsigned char *src = m->in ? m->in : m->out.data;
    if (n < 0 || m->pos >= size)
        return 0;
    size_t k = (size_t)n < size - m->pos ? (size_t)n : size - m->pos;
    memcpy(dst, src + m->pos, k);
    m->pos += k;
    return (tmsize_t)k;
}

static tmsize_t mem_write(thandle_t h, void *src, tmsize_t n)
{
    TiffMem *m = (TiffMem *)h;
    if (m->in || n < 0)
        return -1;
    // Writes may land anywhere (libtiff rewrites the directory offset), so
    // grow to pos + n and copy in place.
    size_t end = m->pos + (size_t)n;
    if (end > m->out.len) {
        size_t grow = end - m->out.len;
        unsigned char zeros[256] = {0};
        while (grow > 0) {
            size_t k = grow < sizeof zeros ? grow : sizeof zeros;
            if (!img_buf_append(&m->out, zeros, k))
                return -1;
            grow -= k;
        }
    }
    memcpy(m->out.data + m->pos, src, (size_t)n);
    m->pos = end;
    return n;
}

static toff_t mem_seek(thandle_t h, toff_t off, int whence)
{
    TiffMem *m = (TiffMem *)h;
    size_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? mem_size_now(m) : 0;
    if (off > (toff_t)(SIZE_MAX / 2) || base > SIZE_MAX / 2)
        return (toff_t)-1;
    m->pos = base + (size_t)off;
    return (toff_t)m->pos;
}

static int mem_close(thandle_t h)
{
    (void)h;
    return 0;
}

static toff_t mem_size(thandle_t h)
{
    return (toff_t)mem_size_now((TiffMem *)h);
}

static TIFF *open_mem(TiffMem *m, const char *mode, size_t max_bytes)
{
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (!opts)
        return NULL;
    TIFFOpenOptionsSetErrorHandlerExtR(opts, on_error, m);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, on_warning, m);
    // A cap on any single allocation libtiff makes for us (strip buffers,
    // tag arrays): hostile files cannot ask for more than an image may hold.
    TIFFOpenOptionsSetMaxSingleMemAlloc(opts, (tmsize_t)max_bytes);
    // "m" disables memory mapping: our procs serve the buffer directly.
    char full_mode[8];
    snprintf(full_mode, sizeof full_mode, "%sm", mode);
    TIFF *tif = TIFFClientOpenExt("memory", full_mode, (thandle_t)m, mem_read, mem_write, mem_seek, mem_close,
                                  mem_size, NULL, NULL, opts);
    TIFFOpenOptionsFree(opts);
    return tif;
}

static bool fail(Err *err, const TiffMem *m, const char *what)
{
    if (m->msg[0])
        return err_set(err, "%s: %s", what, m->msg);
    return err_set(err, "%s", what);
}

// Copies decoded chunks (strips or tiles) of a contiguous image into img.
static bool read_native(TIFF *tif, TiffMem *m, Image *img, Err *err)
{
    const size_t px_bytes = (size_t)img->channels * (size_t)(img->depth / 8);
    const size_t stride = (size_t)img->width * px_bytes;
    tmsize_t chunk_bytes = TIFFIsTiled(tif) ? TIFFTileSize(tif) : TIFFStripSize(tif);
    if (chunk_bytes <= 0)
        return fail(err, m, "invalid TIFF strip or tile size");
    unsigned char *chunk = xmalloc_array((size_t)chunk_bytes, 1, err);
    if (!chunk)
        return false;
    bool ok = true;
    if (TIFFIsTiled(tif)) {
        uint32_t tw = 0, th = 0;
        TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
        TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
        if (tw == 0 || th == 0 || (uint64_t)tw * th * px_bytes > (uint64_t)chunk_bytes) {
            free(chunk);
            return fail(err, m, "invalid TIFF tile size");
        }
        for (uint32_t y0 = 0; ok && y0 < (uint32_t)img->height; y0 += th)
            for (uint32_t x0 = 0; ok && x0 < (uint32_t)img->width; x0 += tw) {
                if (TIFFReadTile(tif, chunk, x0, y0, 0, 0) < 0) {
                    ok = fail(err, m, "cannot read TIFF tile");
                    break;
                }
                uint32_t rows = (uint32_t)img->height - y0 < th ? (uint32_t)img->height - y0 : th;
                uint32_t cols = (uint32_t)img->width - x0 < tw ? (uint32_t)img->width - x0 : tw;
                for (uint32_t r = 0; r < rows; r++)
                    memcpy((unsigned char *)img->data + (y0 + r) * stride + x0 * px_bytes,
                           chunk + (size_t)r * tw * px_bytes, cols * px_bytes);
            }
    } else {
        uint32_t rps = 0;
        if (!TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rps) || rps == 0)
            rps = (uint32_t)img->height;
        if (rps > (uint32_t)img->height)
            rps = (uint32_t)img->height;
        for (uint32_t y0 = 0; y0 < (uint32_t)img->height; y0 += rps) {
            uint32_t rows = (uint32_t)img->height - y0 < rps ? (uint32_t)img->height - y0 : rps;
            tmsize_t want = (tmsize_t)(rows * stride);
            if (want > chunk_bytes) {
                ok = fail(err, m, "invalid TIFF strip size");
                break;
            }
            tmsize_t got = TIFFReadEncodedStrip(tif, TIFFComputeStrip(tif, y0, 0), chunk, want);
            if (got < want) {
                ok = fail(err, m, "cannot read TIFF strip");
                break;
            }
            memcpy((unsigned char *)img->data + y0 * stride, chunk, (size_t)want);
        }
    }
    free(chunk);
    return ok;
}

// The libtiff RGBA interface for 8-bit photometrics we do not read natively.
static bool read_rgba(TIFF *tif, TiffMem *m, uint32_t w, uint32_t h, bool grey, bool alpha, Image *img,
                      Err *err)
{
    char why[1024];
    if (!TIFFRGBAImageOK(tif, why))
        return err_set(err, "unsupported TIFF: %s", why);
    int channels = grey ? (alpha ? 2 : 1) : (alpha ? 4 : 3);
    if (!image_alloc(img, (int)w, (int)h, channels, 8, err))
        return false;
    uint32_t *raster = xmalloc_array((size_t)w * h, sizeof *raster, err);
    if (!raster)
        return false;
    if (!TIFFReadRGBAImageOriented(tif, w, h, raster, ORIENTATION_TOPLEFT, 0)) {
        free(raster);
        return fail(err, m, "cannot decode TIFF image");
    }
    uint8_t *dst = img->data;
    for (size_t i = 0; i < (size_t)w * h; i++) {
        uint32_t p = raster[i];
        uint8_t r = (uint8_t)TIFFGetR(p), g = (uint8_t)TIFFGetG(p), b = (uint8_t)TIFFGetB(p),
                a = (uint8_t)TIFFGetA(p);
        if (grey) {
            *dst++ = r;
        } else {
            *dst++ = r;
            *dst++ = g;
            *dst++ = b;
        }
        if (alpha)
            *dst++ = a;
    }
    free(raster);
    return true;
}

// Every strip or tile must have data inside the file. libtiff reads a strip
// without bytes as zeros (sparse files), so without this check a 100-byte
// file could make us allocate and write out a gigabyte of nothing.
static bool check_chunks(TIFF *tif, size_t file_bytes, Err *err)
{
    const bool tiled = TIFFIsTiled(tif);
    const uint32_t count = tiled ? TIFFNumberOfTiles(tif) : TIFFNumberOfStrips(tif);
    if (count == 0)
        return err_set(err, "TIFF without strips or tiles");
    for (uint32_t i = 0; i < count; i++) {
        uint64_t offset = TIFFGetStrileOffset(tif, i), bytes = TIFFGetStrileByteCount(tif, i);
        if (bytes == 0 || offset > file_bytes || bytes > file_bytes - offset)
            return err_set(err, "TIFF %s %u %s", tiled ? "tile" : "strip", i,
                           bytes == 0 ? "has no data" : "lies outside the file (truncated file?)");
    }
    return true;
}

bool img_tiff_decode(const unsigned char *buf, size_t n, size_t max_bytes, Image *img, Err *err)
{
    TiffMem m = {.in = buf, .in_len = n};
    TIFF *tif = open_mem(&m, "r", max_bytes);
    if (!tif)
        return fail(err, &m, "invalid TIFF file");
    uint32_t w = 0, h = 0;
    uint16_t spp = 1, bps = 1, photometric = 0, planar = PLANARCONFIG_CONTIG, format = SAMPLEFORMAT_UINT;
    uint16_t n_extra = 0, *extra = NULL;
    bool ok = true;
    if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h))
        ok = fail(err, &m, "TIFF without image size");
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
    TIFFGetFieldDefaulted(tif, TIFFTAG_EXTRASAMPLES, &n_extra, &extra);
    if (ok && !TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric))
        photometric = spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
    // Geometry first, before anything is allocated.
    if (ok && !img_check_geometry(w, h, 1, 8, max_bytes, err))
        ok = false;
    if (ok)
        ok = check_chunks(tif, n, err);
    if (ok && format != SAMPLEFORMAT_UINT)
        ok = err_set(err, "TIFF sample format %u not supported (unsigned integers only)", format);
    bool colour = photometric == PHOTOMETRIC_RGB;
    bool native = ok && planar == PLANARCONFIG_CONTIG && (bps == 8 || bps == 16) &&
                  ((photometric == PHOTOMETRIC_MINISBLACK && (spp == 1 || spp == 2)) ||
                   (colour && (spp == 3 || spp == 4)));
    if (ok && native) {
        ok = img_check_geometry(w, h, spp, bps, max_bytes, err) && image_alloc(img, (int)w, (int)h, spp, bps, err) &&
             read_native(tif, &m, img, err);
    } else if (ok && bps <= 8) {
        bool grey = photometric == PHOTOMETRIC_MINISBLACK || photometric == PHOTOMETRIC_MINISWHITE;
        bool alpha = n_extra > 0;
        ok = img_check_geometry(w, h, 4, 8, max_bytes, err) && read_rgba(tif, &m, w, h, grey, alpha, img, err);
    } else if (ok) {
        ok = err_set(err, "%u-bit TIFF with photometric %u, %u samples per pixel and planar configuration %u "
                          "not supported", bps, photometric, spp, planar);
    }
    TIFFClose(tif);
    return ok;
}

bool img_tiff_encode(const Image *img, unsigned char **out, size_t *out_bytes, Err *err)
{
    TiffMem m = {0};
    TIFF *tif = open_mem(&m, "w", IMG_MAX_BYTES);
    if (!tif) {
        free(m.out.data);
        return fail(err, &m, "cannot create a TIFF writer");
    }
    const int c = img->channels;
    bool ok = true;
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t)img->width);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t)img->height);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)c);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, (uint16_t)img->depth);
    TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_UINT);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, c >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
    if (c == 2 || c == 4) {
        uint16_t unassociated = EXTRASAMPLE_UNASSALPHA;
        TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, 1, &unassociated);
    }
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(tif, 0));
    const size_t stride = (size_t)img->width * (size_t)c * (size_t)(img->depth / 8);
    for (int y = 0; ok && y < img->height; y++)
        if (TIFFWriteScanline(tif, (unsigned char *)img->data + (size_t)y * stride, (uint32_t)y, 0) < 0)
            ok = fail(err, &m, "cannot write TIFF scanline");
    if (ok && !TIFFWriteDirectory(tif))
        ok = fail(err, &m, "cannot write TIFF directory");
    TIFFClose(tif);
    if (ok && m.out.failed)
        ok = err_set(err, "out of memory writing TIFF");
    if (!ok) {
        free(m.out.data);
        return false;
    }
    *out = m.out.data;
    *out_bytes = m.out.len;
    return true;
}
