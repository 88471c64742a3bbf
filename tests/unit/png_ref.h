/* SPDX-License-Identifier: Apache-2.0 */
/*
 * png_ref: libpng alone as the reference for the PNG fast path
 * (img_png_fast.c), shared by tests/unit/test_png_fast.c and
 * tests/fuzz/fuzz_png_fast.c: a reader with exactly img_png.c's transforms
 * and a writer with a chosen filter set, zlib level and IDAT chunk size.
 * Test-only: static functions, included by one program each.
 */
#ifndef ADKIT_TESTS_PNG_REF_H
#define ADKIT_TESTS_PNG_REF_H

#include <png.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "img.h"

typedef struct PngRefIo {
    const unsigned char *buf;
    size_t n, pos;
    unsigned char *out; /* writer's output, malloc'd */
    size_t out_len, out_cap;
} PngRefIo;

static void png_ref_error(png_structp png, png_const_charp msg)
{
    (void)msg;
    png_longjmp(png, 1);
}

static void png_ref_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void png_ref_read(png_structp png, png_bytep dst, size_t n)
{
    PngRefIo *io = png_get_io_ptr(png);
    if (n > io->n - io->pos)
        png_error(png, "truncated");
    memcpy(dst, io->buf + io->pos, n);
    io->pos += n;
}

static void png_ref_write(png_structp png, png_bytep src, size_t n)
{
    PngRefIo *io = png_get_io_ptr(png);
    if (io->out_len + n > io->out_cap) {
        size_t cap = (io->out_len + n) * 2 + 4096;
        unsigned char *p = realloc(io->out, cap);
        if (!p)
            png_error(png, "out of memory");
        io->out = p;
        io->out_cap = cap;
    }
    memcpy(io->out + io->out_len, src, n);
    io->out_len += n;
}

static void png_ref_flush(png_structp png)
{
    (void)png;
}

/* Decodes with libpng only, as img_png.c does (palette -> RGB, low bit
 * depths -> 8, tRNS -> alpha, 16-bit native order). max_bytes bounds the
 * decoded size. True on success with *img filled (image_fini frees it). */
static bool png_ref_decode(const unsigned char *buf, size_t n, size_t max_bytes, Image *img)
{
    PngRefIo io = {.buf = buf, .n = n};
    png_bytep *volatile rows = NULL;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, png_ref_error, png_ref_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return false;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(rows);
        image_fini(img);
        return false;
    }
    png_set_read_fn(png, &io, png_ref_read);
    png_set_user_limits(png, IMG_MAX_SIDE, IMG_MAX_SIDE);
    png_read_info(png, info);
    png_uint_32 w, h;
    int depth, color, interlace;
    png_get_IHDR(png, info, &w, &h, &depth, &color, &interlace, NULL, NULL);
    if (color == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    const uint16_t one = 1;
    if (depth == 16 && *(const unsigned char *)&one == 1)
        png_set_swap(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int channels = png_get_channels(png, info), out_depth = png_get_bit_depth(png, info);
    Err err = {0};
    size_t bytes = (size_t)w * h * (size_t)channels * (size_t)(out_depth / 8);
    if (bytes > max_bytes || !image_alloc(img, (int)w, (int)h, channels, out_depth, &err))
        png_longjmp(png, 1);
    rows = malloc(sizeof *rows * h);
    if (!rows)
        png_longjmp(png, 1);
    for (png_uint_32 y = 0; y < h; y++)
        rows[y] = (png_bytep)img->data + (size_t)y * (bytes / h);
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    return true;
}

/* Encodes with libpng: filters is a PNG_FILTER_* set (or PNG_NO_FILTERS),
 * level the zlib level, idat_bytes the zlib buffer size and so the IDAT
 * chunk size, interlace PNG_INTERLACE_NONE or _ADAM7. *out malloc'd. */
static bool png_ref_encode(const Image *img, int filters, int level, size_t idat_bytes, int interlace,
                           unsigned char **out, size_t *out_bytes)
{
    static const int color_types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                       PNG_COLOR_TYPE_RGB_ALPHA};
    PngRefIo io = {0};
    png_bytep *volatile rows = NULL;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_ref_error, png_ref_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return false;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(rows);
        free(io.out);
        return false;
    }
    png_set_write_fn(png, &io, png_ref_write, png_ref_flush);
    png_set_compression_level(png, level);
    png_set_compression_buffer_size(png, idat_bytes);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, filters);
    png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height, img->depth,
                 color_types[img->channels], interlace, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    const uint16_t one = 1;
    if (img->depth == 16 && *(const unsigned char *)&one == 1)
        png_set_swap(png);
    png_set_interlace_handling(png);
    rows = malloc(sizeof *rows * (size_t)img->height);
    if (!rows)
        png_longjmp(png, 1);
    size_t stride = (size_t)img->width * (size_t)img->channels * (size_t)(img->depth / 8);
    for (int y = 0; y < img->height; y++)
        rows[y] = (png_bytep)img->data + (size_t)y * stride;
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    *out = io.out;
    *out_bytes = io.out_len;
    return true;
}

#endif
