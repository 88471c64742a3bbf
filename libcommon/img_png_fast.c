/* SPDX-License-Identifier: Apache-2.0 */
/*
 * img_png_fast: PNG decoding and encoding with libdeflate's whole-buffer
 * zlib, for the files nearly every dataset holds (see img_impl.h).
 *
 * Decoding takes only files it can decode exactly as libpng would: 8/16-bit
 * grey, grey+alpha, RGB or RGBA, not interlaced, no PLTE or tRNS, every chunk
 * CRC right, IDAT chunks consecutive, one zlib stream that inflates to
 * exactly the filtered image size, IEND present. Anything else (including
 * every corrupt file) is left to libpng, so messages and the acceptance of
 * damaged files stay libpng's. Ancillary chunks are skipped, as libpng's
 * default decode (no gamma or colour conversion) does.
 *
 * Encoding writes one zlib stream with the filter per row chosen as libpng
 * does (the smallest sum of absolute filtered bytes), in IDAT chunks.
 */
#include <libdeflate.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "img_impl.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

enum {
    FILTER_NONE,
    FILTER_SUB,
    FILTER_UP,
    FILTER_AVG,
    FILTER_PAETH,
    FILTER_COUNT,
};

// libpng's limits on what it reads (pnglibconf.h: PNG_USER_CHUNK_MALLOC_MAX,
// PNG_USER_CHUNK_CACHE_MAX): files near them are left to libpng, which
// decides whether they are errors or warnings.
#define LIBPNG_CHUNK_MAX_BYTES 8000000u
#define FAST_MAX_ANCILLARY_CHUNKS 500
// IDAT payload per chunk when encoding.
#define IDAT_CHUNK_BYTES ((size_t)1 << 20)

static uint32_t load_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static bool is_chunk_type(const unsigned char *t, const char *name)
{
    return memcmp(t, name, 4) == 0;
}

static bool is_letter(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool host_is_little_endian(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* ---- unfiltering (PNG spec 9.2-9.4); out = row, prev = the row above ---- */

// The spec's "a if pa <= pb and pa <= pc, else b if pb <= pc, else c",
// as two selects without branches (the choice is unpredictable on real
// images, and a mispredicted branch costs more than the whole byte).
static inline uint8_t paeth_predict(int a, int b, int c)
{
    int pa = abs(b - c), pb = abs(a - c), pc = abs(a + b - 2 * c);
    int near = pb < pa ? b : a, p_near = pb < pa ? pb : pa;
    return (uint8_t)(pc < p_near ? c : near);
}

static void unfilter_up(uint8_t *restrict out, const uint8_t *restrict in, const uint8_t *restrict prev,
                        size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(in[i] + prev[i]);
}

#if defined(__SSE2__)
/* Sub and Avg for 2..8 bytes per pixel, one pixel per step in an SSE2
 * register: the chain through the left neighbour is per pixel instead of
 * per byte (the bytes of a pixel are independent). While 8 bytes from the
 * pixel lie inside the row, each step loads and stores 8 (the bytes past
 * the pixel are rewritten by the next steps); the last pixels of a row go
 * through a small buffer, so nothing outside the row is touched. */
static inline __m128i load8(const uint8_t *p)
{
    return _mm_loadl_epi64((const __m128i *)p);
}

static inline __m128i load_pixel(const uint8_t *p, size_t bpp)
{
    uint8_t tmp[16] = {0};
    memcpy(tmp, p, bpp);
    return _mm_loadu_si128((const __m128i *)tmp);
}

static inline size_t store_pixels_tail(uint8_t *out, size_t i, __m128i v, size_t bpp)
{
    uint8_t tmp[16];
    _mm_storeu_si128((__m128i *)tmp, v);
    memcpy(out + i, tmp, bpp);
    return i + bpp;
}

static void unfilter_sub_pixels(uint8_t *restrict out, const uint8_t *restrict in, size_t n, size_t bpp)
{
    __m128i left = _mm_setzero_si128();
    size_t i = 0;
    for (; i + 8 <= n; i += bpp) {
        left = _mm_add_epi8(load8(in + i), left);
        _mm_storel_epi64((__m128i *)(out + i), left);
    }
    while (i + bpp <= n) {
        left = _mm_add_epi8(load_pixel(in + i, bpp), left);
        i = store_pixels_tail(out, i, left, bpp);
    }
}

static void unfilter_avg_pixels(uint8_t *restrict out, const uint8_t *restrict in, const uint8_t *restrict prev,
                                size_t n, size_t bpp)
{
    const __m128i one = _mm_set1_epi8(1);
    __m128i left = _mm_setzero_si128();
    size_t i = 0;
    // floor((left + up) / 2): pavgb rounds up, so take off the odd bit.
    for (; i + 8 <= n; i += bpp) {
        __m128i up = load8(prev + i);
        __m128i avg = _mm_sub_epi8(_mm_avg_epu8(left, up), _mm_and_si128(_mm_xor_si128(left, up), one));
        left = _mm_add_epi8(load8(in + i), avg);
        _mm_storel_epi64((__m128i *)(out + i), left);
    }
    while (i + bpp <= n) {
        __m128i up = load_pixel(prev + i, bpp);
        __m128i avg = _mm_sub_epi8(_mm_avg_epu8(left, up), _mm_and_si128(_mm_xor_si128(left, up), one));
        left = _mm_add_epi8(load_pixel(in + i, bpp), avg);
        i = store_pixels_tail(out, i, left, bpp);
    }
}
#endif

static void unfilter_sub(uint8_t *restrict out, const uint8_t *restrict in, size_t n, size_t bpp)
{
#if defined(__SSE2__)
    if (bpp > 1) { // n is a whole number of pixels
        unfilter_sub_pixels(out, in, n, bpp);
        return;
    }
#endif
    memcpy(out, in, bpp);
    for (size_t i = bpp; i < n; i++)
        out[i] = (uint8_t)(in[i] + out[i - bpp]);
}

static void unfilter_avg(uint8_t *restrict out, const uint8_t *restrict in, const uint8_t *restrict prev,
                         size_t n, size_t bpp)
{
#if defined(__SSE2__)
    if (bpp > 1) {
        unfilter_avg_pixels(out, in, prev, n, bpp);
        return;
    }
#endif
    for (size_t i = 0; i < bpp; i++)
        out[i] = (uint8_t)(in[i] + (prev[i] >> 1));
    if (bpp == 1) { // the left neighbour stays in a register, not a store-reload
        unsigned a = out[0];
        for (size_t i = 1; i < n; i++) {
            a = (uint8_t)(in[i] + ((a + prev[i]) >> 1));
            out[i] = (uint8_t)a;
        }
        return;
    }
    for (size_t i = bpp; i < n; i++)
        out[i] = (uint8_t)(in[i] + ((out[i - bpp] + prev[i]) >> 1));
}

static void unfilter_paeth(uint8_t *restrict out, const uint8_t *restrict in, const uint8_t *restrict prev,
                           size_t n, size_t bpp)
{
    // With a = c = 0 the predictor is b.
    for (size_t i = 0; i < bpp; i++)
        out[i] = (uint8_t)(in[i] + prev[i]);
    if (bpp == 1) { // as in unfilter_avg
        int a = out[0];
        for (size_t i = 1; i < n; i++) {
            a = (uint8_t)(in[i] + paeth_predict(a, prev[i], prev[i - 1]));
            out[i] = (uint8_t)a;
        }
        return;
    }
    for (size_t i = bpp; i < n; i++)
        out[i] = (uint8_t)(in[i] + paeth_predict(out[i - bpp], prev[i], prev[i - bpp]));
}

/* Grey 8-bit Avg and Paeth are one long dependency chain per row (each byte
 * needs its left neighbour). Runs of rows with the same filter are undone
 * together in a wavefront: byte i of row r needs only byte i of row r-1, so
 * the rows' chains overlap and a run of four goes nearly four times as
 * fast. in: the first row's filtered bytes (rows in_stride apart); out: the
 * rows' output (n apart); prev: the row above the first. */
static inline __attribute__((always_inline)) void unfilter_avg_rows(uint8_t *restrict out,
                                                                     const uint8_t *restrict in,
                                                                     const uint8_t *restrict prev, size_t n,
                                                                     size_t in_stride, int rows)
{
    unsigned a[4];
    unsigned up = prev[0];
#pragma GCC unroll 4
    for (int r = 0; r < rows; r++) {
        a[r] = (uint8_t)(in[r * in_stride] + (up >> 1));
        out[r * n] = (uint8_t)a[r];
        up = a[r];
    }
    for (size_t i = 1; i < n; i++) {
        up = prev[i];
#pragma GCC unroll 4
        for (int r = 0; r < rows; r++) {
            a[r] = (uint8_t)(in[r * in_stride + i] + ((a[r] + up) >> 1));
            out[r * n + i] = (uint8_t)a[r];
            up = a[r];
        }
    }
}

static inline __attribute__((always_inline)) void unfilter_paeth_rows(uint8_t *restrict out,
                                                                       const uint8_t *restrict in,
                                                                       const uint8_t *restrict prev, size_t n,
                                                                       size_t in_stride, int rows)
{
    int a[4];
    int up = prev[0];
#pragma GCC unroll 4
    for (int r = 0; r < rows; r++) { // left and upper left are 0: the predictor is up
        a[r] = (uint8_t)(in[r * in_stride] + up);
        out[r * n] = (uint8_t)a[r];
        up = a[r];
    }
    for (size_t i = 1; i < n; i++) {
        up = prev[i];
        int up_left = prev[i - 1];
#pragma GCC unroll 4
        for (int r = 0; r < rows; r++) {
            int left = a[r];
            a[r] = (uint8_t)(in[r * in_stride + i] + paeth_predict(left, up, up_left));
            out[r * n + i] = (uint8_t)a[r];
            up_left = left;
            up = a[r];
        }
    }
}

// Undoes the filters of `rows` (1, 2 or 4) grey 8-bit rows that all use
// filter (Avg or Paeth).
static void unfilter_grey_run(uint8_t *out, const uint8_t *in, const uint8_t *prev, size_t n, size_t in_stride,
                              unsigned filter, int rows)
{
    if (filter == FILTER_AVG) {
        if (rows == 4)
            unfilter_avg_rows(out, in, prev, n, in_stride, 4);
        else if (rows == 2)
            unfilter_avg_rows(out, in, prev, n, in_stride, 2);
        else
            unfilter_avg_rows(out, in, prev, n, in_stride, 1);
    } else {
        if (rows == 4)
            unfilter_paeth_rows(out, in, prev, n, in_stride, 4);
        else if (rows == 2)
            unfilter_paeth_rows(out, in, prev, n, in_stride, 2);
        else
            unfilter_paeth_rows(out, in, prev, n, in_stride, 1);
    }
}

// Undoes one row's filter; false for a filter type outside 0..4.
static bool unfilter_row(uint8_t *restrict out, const uint8_t *restrict in, const uint8_t *restrict prev,
                         size_t n, size_t bpp, unsigned filter)
{
    switch (filter) {
    case FILTER_NONE: memcpy(out, in, n); return true;
    case FILTER_SUB: unfilter_sub(out, in, n, bpp); return true;
    case FILTER_UP: unfilter_up(out, in, prev, n); return true;
    case FILTER_AVG: unfilter_avg(out, in, prev, n, bpp); return true;
    case FILTER_PAETH: unfilter_paeth(out, in, prev, n, bpp); return true;
    default: return false;
    }
}

/* ---- decoding ---- */

typedef struct PngLayout {
    uint32_t width, height;
    int channels, depth;
    const unsigned char *idat; /* the only IDAT chunk's data, or NULL when there are several */
    size_t idat_bytes;         /* all IDAT data together */
    size_t idat_chunks;
} PngLayout;

static int channels_of(unsigned color_type)
{
    switch (color_type) {
    case 0: return 1; // grey
    case 2: return 3; // RGB
    case 4: return 2; // grey + alpha
    case 6: return 4; // RGBA
    default: return 0; // palette (3) and invalid types are libpng's
    }
}

// Walks the chunks and checks everything that would make libpng's result
// differ from a plain inflate-and-unfilter; false = leave the file to libpng.
static bool scan_chunks(const unsigned char *buf, size_t n, size_t max_bytes, PngLayout *lay)
{
    if (n < 8 || memcmp(buf, png_signature, 8) != 0)
        return false;
    size_t pos = 8, raw_bytes = 0;
    int ancillary = 0;
    bool have_ihdr = false, idat_started = false, idat_ended = false;
    for (;;) {
        if (n - pos < 12)
            return false; // no IEND: libpng reports the truncation
        uint32_t len = load_be32(buf + pos);
        const unsigned char *type = buf + pos + 4, *data = buf + pos + 8;
        if (len > 0x7fffffffu || len > n - pos - 12)
            return false;
        for (int i = 0; i < 4; i++)
            if (!is_letter(type[i]))
                return false;
        if (libdeflate_crc32(0, type, (size_t)len + 4) != load_be32(data + len))
            return false;
        pos += 12 + (size_t)len;
        if (!have_ihdr) {
            if (!is_chunk_type(type, "IHDR") || len != 13)
                return false;
            lay->width = load_be32(data);
            lay->height = load_be32(data + 4);
            lay->depth = data[8];
            lay->channels = channels_of(data[9]);
            // compression 0, filter method 0 (64 is MNG's), no interlace
            if ((lay->depth != 8 && lay->depth != 16) || lay->channels == 0 || data[10] || data[11] || data[12])
                return false;
            Err ignored = {0};
            if (!img_check_geometry(lay->width, lay->height, lay->channels, lay->depth, max_bytes, &ignored))
                return false;
            raw_bytes = (size_t)lay->height *
                        (1 + (size_t)lay->width * (size_t)lay->channels * (size_t)(lay->depth / 8));
            have_ihdr = true;
        } else if (is_chunk_type(type, "IDAT")) {
            // libpng refuses IDAT chunks much longer than the image could need.
            if (idat_ended || len > raw_bytes + 64)
                return false;
            idat_started = true;
            lay->idat = lay->idat_chunks == 0 ? data : NULL;
            lay->idat_bytes += len;
            lay->idat_chunks++;
        } else if (is_chunk_type(type, "IEND")) {
            return len == 0 && idat_started;
        } else if (!(type[0] & 0x20)) {
            return false; // PLTE, a second IHDR, unknown critical chunks
        } else {
            // tRNS turns into alpha; other ancillary chunks do not change
            // the pixels libpng returns.
            if (is_chunk_type(type, "tRNS") || len > LIBPNG_CHUNK_MAX_BYTES || ++ancillary > FAST_MAX_ANCILLARY_CHUNKS)
                return false;
            idat_ended = idat_started;
        }
    }
}

// The IDAT data of several chunks, joined (malloc'd).
static unsigned char *join_idat(const unsigned char *buf, size_t n, size_t total)
{
    unsigned char *out = malloc(total ? total : 1);
    if (!out)
        return NULL;
    size_t pos = 8, got = 0;
    while (got < total && n - pos >= 12) {
        uint32_t len = load_be32(buf + pos);
        if (is_chunk_type(buf + pos + 4, "IDAT")) {
            memcpy(out + got, buf + pos + 8, len);
            got += len;
        }
        pos += 12 + (size_t)len;
    }
    return out;
}

static void swap16_in_place(uint8_t *p, size_t samples)
{
    for (size_t i = 0; i < samples; i++) {
        uint8_t t = p[2 * i];
        p[2 * i] = p[2 * i + 1];
        p[2 * i + 1] = t;
    }
}

bool img_png_fast_decode(const unsigned char *buf, size_t n, size_t max_bytes, Image *img)
{
    PngLayout lay = {0};
    if (!scan_chunks(buf, n, max_bytes, &lay))
        return false;
    const size_t bpp = (size_t)lay.channels * (size_t)(lay.depth / 8);
    const size_t row_bytes = (size_t)lay.width * bpp, raw_bytes = (size_t)lay.height * (1 + row_bytes);
    unsigned char *joined = lay.idat ? NULL : join_idat(buf, n, lay.idat_bytes);
    const unsigned char *z = lay.idat ? lay.idat : joined;
    uint8_t *raw = malloc(raw_bytes);
    uint8_t *zero_row = calloc(row_bytes, 1);
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    Err ignored = {0};
    size_t in_used = 0, out_got = 0;
    // The stream must end exactly at the end of the IDAT data and give
    // exactly the filtered image; libpng judges any other stream.
    bool ok = z && raw && zero_row && d &&
              libdeflate_zlib_decompress_ex(d, z, lay.idat_bytes, raw, raw_bytes, &in_used, &out_got) ==
                  LIBDEFLATE_SUCCESS &&
              in_used == lay.idat_bytes && out_got == raw_bytes &&
              image_alloc(img, (int)lay.width, (int)lay.height, lay.channels, lay.depth, &ignored);
    if (d)
        libdeflate_free_decompressor(d);
    free(joined);
    for (size_t y = 0; ok && y < lay.height;) {
        const uint8_t *in = raw + y * (1 + row_bytes);
        uint8_t *out = (uint8_t *)img->data + y * row_bytes;
        const uint8_t *prev = y ? out - row_bytes : zero_row;
        unsigned filter = in[0];
        int run = 1;
        if (bpp == 1 && (filter == FILTER_AVG || filter == FILTER_PAETH))
            while (run < 4 && y + (size_t)run < lay.height && in[(size_t)run * (1 + row_bytes)] == filter)
                run++;
        if (run > 1) {
            run = run == 4 ? 4 : 2;
            unfilter_grey_run(out, in + 1, prev, row_bytes, 1 + row_bytes, filter, run);
        } else {
            ok = unfilter_row(out, in + 1, prev, row_bytes, bpp, filter);
        }
        y += (size_t)run;
    }
    free(raw);
    free(zero_row);
    if (!ok) {
        image_fini(img);
        return false;
    }
    if (lay.depth == 16 && host_is_little_endian())
        swap16_in_place(img->data, (size_t)lay.height * row_bytes / 2);
    return true;
}

/* ---- encoding ---- */

// libpng's measure of a filtered byte: its value read as signed, made
// positive.
static inline uint32_t byte_cost(uint8_t v)
{
    return v < 128 ? v : 256u - v;
}

/* Filters one row (big-endian samples) with every filter type into
 * cand[FILTER_COUNT][n] and returns the type whose bytes have the smallest
 * sum of byte_cost (ties: the lower type), libpng's heuristic. Sums fit 32
 * bits: n <= 2^19 bytes. Built for AVX-512 and AVX2 as well, chosen when
 * the program starts; the results are the same on every path. */
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) static unsigned
filter_row_best(uint8_t *restrict cand, const uint8_t *restrict cur, const uint8_t *restrict prev, size_t n,
                size_t bpp)
{
    uint8_t *none = cand, *sub = cand + n, *up = cand + 2 * n, *avg = cand + 3 * n, *pae = cand + 4 * n;
    uint32_t cost[FILTER_COUNT] = {0};
    for (size_t i = 0; i < bpp; i++) {
        none[i] = sub[i] = cur[i];
        up[i] = (uint8_t)(cur[i] - prev[i]);
        avg[i] = (uint8_t)(cur[i] - (prev[i] >> 1));
        pae[i] = (uint8_t)(cur[i] - prev[i]);
        cost[FILTER_NONE] += byte_cost(none[i]), cost[FILTER_SUB] += byte_cost(sub[i]);
        cost[FILTER_UP] += byte_cost(up[i]), cost[FILTER_AVG] += byte_cost(avg[i]);
        cost[FILTER_PAETH] += byte_cost(pae[i]);
    }
    uint32_t c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0;
#pragma omp simd reduction(+ : c0, c1, c2, c3, c4)
    for (size_t i = bpp; i < n; i++) {
        int a = cur[i - bpp], b = prev[i], c = prev[i - bpp];
        int p = paeth_predict(a, b, c);
        uint8_t x = cur[i];
        uint8_t fs = (uint8_t)(x - a), fu = (uint8_t)(x - b), fa = (uint8_t)(x - ((a + b) >> 1)),
                fp = (uint8_t)(x - p);
        none[i] = x, sub[i] = fs, up[i] = fu, avg[i] = fa, pae[i] = fp;
        c0 += byte_cost(x), c1 += byte_cost(fs), c2 += byte_cost(fu), c3 += byte_cost(fa), c4 += byte_cost(fp);
    }
    cost[FILTER_NONE] += c0, cost[FILTER_SUB] += c1, cost[FILTER_UP] += c2, cost[FILTER_AVG] += c3;
    cost[FILTER_PAETH] += c4;
    unsigned best = FILTER_NONE;
    for (unsigned f = FILTER_SUB; f < FILTER_COUNT; f++)
        if (cost[f] < cost[best])
            best = f;
    return best;
}

// Row y of the image as PNG bytes (16-bit samples big-endian) in dst.
static const uint8_t *png_row(const Image *img, size_t y, size_t row_bytes, bool swap, uint8_t *dst)
{
    const uint8_t *src = (const uint8_t *)img->data + y * row_bytes;
    if (!swap)
        return src;
    for (size_t i = 0; i + 1 < row_bytes; i += 2) {
        dst[i] = src[i + 1];
        dst[i + 1] = src[i];
    }
    return dst;
}

static void put_chunk(unsigned char *p, const char *type, const unsigned char *data, size_t len)
{
    store_be32(p, (uint32_t)len);
    memcpy(p + 4, type, 4);
    if (len && data != p + 8)
        memcpy(p + 8, data, len);
    store_be32(p + 8 + len, libdeflate_crc32(0, p + 4, len + 4));
}

bool img_png_fast_encode(const Image *img, int level, unsigned char **out, size_t *out_bytes, Err *err)
{
    static const unsigned char color_types[5] = {0, 0, 4, 2, 6};
    const size_t bpp = (size_t)img->channels * (size_t)(img->depth / 8);
    const size_t row_bytes = (size_t)img->width * bpp, height = (size_t)img->height;
    const bool swap = img->depth == 16 && host_is_little_endian();
    // zlib's levels and libdeflate's mean nearly the same trade-off; -1 is
    // zlib's default, 6.
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(level < 0 ? 6 : level);
    uint8_t *filtered = xmalloc_array(height, 1 + row_bytes, err);
    uint8_t *cand = xmalloc_array(FILTER_COUNT, row_bytes, err);
    uint8_t *rows = swap ? xmalloc_array(2, row_bytes, err) : NULL;
    uint8_t *zero_row = calloc(row_bytes, 1);
    unsigned char *z = NULL, *png = NULL;
    bool ok = c && filtered && cand && zero_row && (!swap || rows);
    if (ok) {
        const uint8_t *prev = zero_row;
        for (size_t y = 0; y < height; y++) {
            const uint8_t *cur = png_row(img, y, row_bytes, swap, swap ? rows + (y & 1) * row_bytes : NULL);
            uint8_t *dst = filtered + y * (1 + row_bytes);
            // Level 0 stores the rows as they are, as libpng does.
            unsigned f = level == 0 ? FILTER_NONE : filter_row_best(cand, cur, prev, row_bytes, bpp);
            dst[0] = (uint8_t)f;
            memcpy(dst + 1, f == FILTER_NONE ? cur : cand + f * row_bytes, row_bytes);
            prev = cur;
        }
    }
    size_t raw_bytes = height * (1 + row_bytes), zbytes = 0;
    if (ok) {
        size_t bound = libdeflate_zlib_compress_bound(c, raw_bytes);
        z = xmalloc_array(bound, 1, err);
        zbytes = z ? libdeflate_zlib_compress(c, filtered, raw_bytes, z, bound) : 0;
        ok = zbytes > 0;
        if (z && !ok)
            err_set(err, "PNG compression failed");
    }
    size_t chunks = zbytes / IDAT_CHUNK_BYTES + 1;
    size_t total = 8 + 25 + zbytes + 12 * chunks + 12;
    if (ok)
        ok = (png = xmalloc_array(total, 1, err)) != NULL;
    if (ok) {
        memcpy(png, png_signature, 8);
        unsigned char ihdr[13];
        store_be32(ihdr, (uint32_t)img->width);
        store_be32(ihdr + 4, (uint32_t)img->height);
        ihdr[8] = (unsigned char)img->depth;
        ihdr[9] = color_types[img->channels];
        ihdr[10] = ihdr[11] = ihdr[12] = 0;
        put_chunk(png + 8, "IHDR", ihdr, 13);
        size_t pos = 8 + 25;
        for (size_t done = 0; done < zbytes;) {
            size_t len = zbytes - done < IDAT_CHUNK_BYTES ? zbytes - done : IDAT_CHUNK_BYTES;
            put_chunk(png + pos, "IDAT", z + done, len);
            pos += 12 + len;
            done += len;
        }
        put_chunk(png + pos, "IEND", NULL, 0);
        *out = png;
        *out_bytes = pos + 12;
    }
    if (!ok && !err_is_set(err))
        err_set(err, "out of memory encoding PNG");
    if (c)
        libdeflate_free_compressor(c);
    free(filtered);
    free(cand);
    free(rows);
    free(zero_row);
    free(z);
    return ok;
}
