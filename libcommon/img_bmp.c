/* SPDX-License-Identifier: Apache-2.0 */
/* img_bmp: Windows BMP decoding (uncompressed 24- and 32-bit, 8-bit with a
 * palette, bottom-up or top-down; 32-bit with bit-field masks) and encoding
 * (8-bit grey with a grey palette, 24-bit RGB, 32-bit RGBA with a V4 header).
 *
 * Decoding follows Pillow's reading of the format: a 32-bit BI_RGB file is
 * RGB with the fourth byte ignored; a 32-bit BI_BITFIELDS file with an alpha
 * mask is RGBA; an 8-bit file whose palette holds only greys is grey (the
 * palette values, which for the usual grey ramp are the indices), otherwise
 * RGB. RLE-compressed and 1/4/16-bit files are refused with a message. */
#include <stdlib.h>
#include <string.h>

#include "img_impl.h"

enum { BI_RGB = 0, BI_BITFIELDS = 3, FILE_HEADER_BYTES = 14 };

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8), p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
}

// A bit-field mask as shift and width; only masks of 8 contiguous bits (or
// none) are accepted, which covers every 32-bit BMP writer in practice.
static bool mask_shift(uint32_t mask, int *shift)
{
    if (mask == 0) {
        *shift = -1;
        return true;
    }
    int s = 0;
    while (!(mask & 1u))
        mask >>= 1, s++;
    *shift = s;
    return mask == 0xFFu;
}

bool img_bmp_decode(const unsigned char *buf, size_t n, size_t max_bytes, Image *img, Err *err)
{
    if (n < FILE_HEADER_BYTES + 12)
        return err_set(err, "truncated BMP header (%zu bytes)", n);
    uint32_t pixel_offset = le32(buf + 10);
    uint32_t info_bytes = le32(buf + 14);
    const unsigned char *info = buf + FILE_HEADER_BYTES;
    int64_t width, height;
    uint16_t bpp;
    uint32_t compression = BI_RGB, colours = 0;
    size_t palette_entry = 4;
    if (info_bytes == 12) { // OS/2 BITMAPCOREHEADER: 16-bit sizes, 3-byte palette entries
        width = le16(info + 4);
        height = (int16_t)le16(info + 6);
        bpp = le16(info + 10);
        palette_entry = 3;
    } else if (info_bytes >= 40 && info_bytes <= 124) {
        if (n < FILE_HEADER_BYTES + (size_t)info_bytes)
            return err_set(err, "truncated BMP header (%zu bytes)", n);
        width = (int32_t)le32(info + 4);
        height = (int32_t)le32(info + 8);
        bpp = le16(info + 14);
        compression = le32(info + 16);
        colours = le32(info + 32);
    } else {
        return err_set(err, "unsupported BMP header size %u", info_bytes);
    }
    bool top_down = height < 0;
    if (top_down)
        height = -height;
    if (bpp != 8 && bpp != 24 && bpp != 32)
        return err_set(err, "%u-bit BMP not supported (8, 24 and 32 are)", bpp);
    if (!(compression == BI_RGB || (compression == BI_BITFIELDS && bpp == 32)))
        return err_set(err, "compressed BMP (method %u) not supported", compression);
    if (!img_check_geometry(width, height, 4, 8, max_bytes, err))
        return false;

    int shifts[4] = {16, 8, 0, -1}; // R, G, B, A of a BGRX pixel
    if (compression == BI_BITFIELDS) {
        // Masks sit in the V4/V5 header, or right after a 40-byte header.
        size_t at = FILE_HEADER_BYTES + 40;
        int count = info_bytes >= 56 ? 4 : 3;
        if (n < at + 4 * (size_t)count)
            return err_set(err, "truncated BMP bit-field masks");
        for (int k = 0; k < 4; k++)
            if (!mask_shift(k < count ? le32(buf + at + 4 * (size_t)k) : 0, &shifts[k]) ||
                (k < 3 && shifts[k] < 0))
                return err_set(err, "unsupported BMP bit-field masks");
    }

    unsigned char palette[256][3];
    bool grey_palette = true;
    if (bpp == 8) {
        if (colours == 0 || colours > 256)
            colours = 256;
        size_t at = FILE_HEADER_BYTES + info_bytes;
        if (n < at + colours * palette_entry || at + colours * palette_entry > pixel_offset)
            return err_set(err, "truncated BMP palette");
        memset(palette, 0, sizeof palette);
        for (uint32_t i = 0; i < colours; i++) {
            const unsigned char *e = buf + at + i * palette_entry;
            palette[i][0] = e[2], palette[i][1] = e[1], palette[i][2] = e[0];
            grey_palette &= e[0] == e[1] && e[1] == e[2];
        }
    }

    const size_t stride = (((size_t)width * bpp + 31) / 32) * 4;
    if (pixel_offset > n || (n - pixel_offset) / stride < (size_t)height)
        return err_set(err, "truncated BMP pixel data: %zu bytes for %lld rows of %zu",
                       pixel_offset > n ? (size_t)0 : n - pixel_offset, (long long)height, stride);
    int channels = bpp == 8 ? (grey_palette ? 1 : 3) : (shifts[3] >= 0 ? 4 : 3);
    if (!image_alloc(img, (int)width, (int)height, channels, 8, err))
        return false;
    for (int64_t y = 0; y < height; y++) {
        const unsigned char *src = buf + pixel_offset + (size_t)(top_down ? y : height - 1 - y) * stride;
        uint8_t *dst = (uint8_t *)img->data + (size_t)y * (size_t)width * (size_t)channels;
        if (bpp == 8) {
            for (int64_t x = 0; x < width; x++) {
                const unsigned char *rgb = palette[src[x]];
                if (channels == 1)
                    *dst++ = rgb[0];
                else
                    *dst++ = rgb[0], *dst++ = rgb[1], *dst++ = rgb[2];
            }
        } else if (bpp == 24) {
            for (int64_t x = 0; x < width; x++, src += 3)
                *dst++ = src[2], *dst++ = src[1], *dst++ = src[0];
        } else {
            for (int64_t x = 0; x < width; x++, src += 4) {
                uint32_t p = le32(src);
                for (int k = 0; k < channels; k++)
                    *dst++ = (uint8_t)(p >> shifts[k]);
            }
        }
    }
    return true;
}

bool img_bmp_encode(const Image *img, unsigned char **out, size_t *out_bytes, Err *err)
{
    const int c = img->channels;
    if (img->depth != 8 || c == 2)
        return err_set(err, "BMP takes 8-bit grey, RGB or RGBA images, not %d-bit with %d channels", img->depth,
                       c);
    const int bpp = c == 1 ? 8 : c == 3 ? 24 : 32;
    const uint32_t info_bytes = c == 4 ? 108 : 40;
    const uint32_t palette_bytes = c == 1 ? 256 * 4 : 0;
    const size_t stride = (((size_t)img->width * (size_t)bpp + 31) / 32) * 4;
    const size_t offset = FILE_HEADER_BYTES + info_bytes + palette_bytes;
    const size_t total = offset + stride * (size_t)img->height;
    if (total > UINT32_MAX)
        return err_set(err, "image too large for BMP (%zu bytes)", total);
    unsigned char *f = xcalloc_array(total, 1, err);
    if (!f)
        return false;
    f[0] = 'B', f[1] = 'M';
    put32(f + 2, (uint32_t)total);
    put32(f + 10, (uint32_t)offset);
    unsigned char *info = f + FILE_HEADER_BYTES;
    put32(info, info_bytes);
    put32(info + 4, (uint32_t)img->width);
    put32(info + 8, (uint32_t)img->height); // positive: bottom-up rows
    put16(info + 12, 1);
    put16(info + 14, (uint16_t)bpp);
    put32(info + 16, c == 4 ? BI_BITFIELDS : BI_RGB);
    put32(info + 20, (uint32_t)(stride * (size_t)img->height));
    put32(info + 24, 2835); // 72 dpi, in pixels per metre
    put32(info + 28, 2835);
    put32(info + 32, c == 1 ? 256 : 0);
    if (c == 4) {
        put32(info + 40, 0x00FF0000u);
        put32(info + 44, 0x0000FF00u);
        put32(info + 48, 0x000000FFu);
        put32(info + 52, 0xFF000000u);
        put32(info + 56, 0x73524742u); // LCS_sRGB
    }
    for (uint32_t i = 0; i < palette_bytes / 4; i++) {
        unsigned char *e = f + FILE_HEADER_BYTES + info_bytes + 4 * i;
        e[0] = e[1] = e[2] = (unsigned char)i;
    }
    for (int y = 0; y < img->height; y++) {
        const uint8_t *src = (const uint8_t *)img->data + (size_t)y * (size_t)img->width * (size_t)c;
        unsigned char *dst = f + offset + (size_t)(img->height - 1 - y) * stride;
        for (int x = 0; x < img->width; x++, src += c) {
            if (c == 1) {
                *dst++ = src[0];
            } else {
                *dst++ = src[2], *dst++ = src[1], *dst++ = src[0];
                if (c == 4)
                    *dst++ = src[3];
            }
        }
    }
    *out = f;
    *out_bytes = total;
    return true;
}
