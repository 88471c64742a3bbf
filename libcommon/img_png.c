/* SPDX-License-Identifier: Apache-2.0 */
/* img_png: PNG decoding and encoding with libpng. libpng reports errors by
 * longjmp; each direction keeps setjmp and every libpng call inside one
 * function, and the message libpng gives becomes the Err message. */
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "img_impl.h"

typedef struct PngState {
    const unsigned char *buf; /* input (decode) */
    size_t n, pos;
    ImgBuf out;                /* output (encode) */
    char msg[256];             /* libpng's error message */
} PngState;

static void on_error(png_structp png, png_const_charp msg)
{
    PngState *s = png_get_error_ptr(png);
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    png_longjmp(png, 1);
}

// Warnings (bad CRC in an ancillary chunk, unknown profiles) do not stop
// decoding, as in Pillow; they are not shown.
static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void read_mem(png_structp png, png_bytep dst, size_t n)
{
    PngState *s = png_get_io_ptr(png);
    if (n > s->n - s->pos)
        png_error(png, "truncated PNG data");
    memcpy(dst, s->buf + s->pos, n);
    s->pos += n;
}

static void write_mem(png_structp png, png_bytep src, size_t n)
{
    PngState *s = png_get_io_ptr(png);
    if (!img_buf_append(&s->out, src, n))
        png_error(png, "out of memory writing PNG");
}

static void flush_mem(png_structp png)
{
    (void)png;
}

static bool host_is_little_endian(void)
{
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

bool img_png_decode(const unsigned char *buf, size_t n, size_t max_bytes, Image *img, Err *err)
{
    // Common, intact files take the fast path; libpng handles the rest.
    if (img_png_fast_decode(buf, n, max_bytes, img))
        return true;
    PngState s = {.buf = buf, .n = n};
    // Locals changed after setjmp and read after a longjmp must be volatile.
    png_bytep *volatile rows = NULL;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &s, on_error, on_warning);
    if (!png)
        return err_set(err, "cannot create a PNG reader");
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return err_set(err, "cannot create a PNG reader");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(rows);
        image_fini(img);
        return err_set(err, "%s", s.msg[0] ? s.msg : "invalid PNG data");
    }
    png_set_read_fn(png, &s, read_mem);
    png_set_user_limits(png, IMG_MAX_SIDE, IMG_MAX_SIDE);
    png_read_info(png, info);
    png_uint_32 width, height;
    int bit_depth, color_type, interlace;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    // Palettes become RGB, 1/2/4-bit grey becomes 8-bit, tRNS becomes alpha;
    // no gamma or colour-profile conversion, as in Pillow.
    if (color_type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    if (bit_depth == 16 && host_is_little_endian())
        png_set_swap(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int channels = png_get_channels(png, info);
    int depth = png_get_bit_depth(png, info);
    // A failure here is recorded in err first; the first message wins, so
    // the handler's generic one below is dropped.
    if (!img_check_geometry(width, height, channels, depth, max_bytes, err) ||
        !image_alloc(img, (int)width, (int)height, channels, depth, err))
        png_longjmp(png, 1);
    rows = malloc(sizeof *rows * height);
    if (!rows) {
        snprintf(s.msg, sizeof s.msg, "out of memory");
        png_longjmp(png, 1);
    }
    size_t stride = (size_t)width * (size_t)channels * (size_t)(depth / 8);
    for (png_uint_32 y = 0; y < height; y++)
        rows[y] = (png_bytep)img->data + y * stride;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    return true;
}

bool img_png_encode(const Image *img, int level, unsigned char **out, size_t *out_bytes, Err *err)
{
    static const int color_types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                       PNG_COLOR_TYPE_RGB_ALPHA};
    PngState s = {0};
    png_bytep *volatile rows = NULL;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &s, on_error, on_warning);
    if (!png)
        return err_set(err, "cannot create a PNG writer");
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return err_set(err, "cannot create a PNG writer");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(rows);
        free(s.out.data);
        return err_set(err, "%s", s.msg[0] ? s.msg : "PNG encoding failed");
    }
    png_set_write_fn(png, &s, write_mem, flush_mem);
    if (level >= 0)
        png_set_compression_level(png, level);
    png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height, img->depth,
                 color_types[img->channels], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    if (img->depth == 16 && host_is_little_endian())
        png_set_swap(png);
    rows = malloc(sizeof *rows * (size_t)img->height);
    if (!rows) {
        snprintf(s.msg, sizeof s.msg, "out of memory");
        png_longjmp(png, 1);
    }
    size_t stride = (size_t)img->width * (size_t)img->channels * (size_t)(img->depth / 8);
    for (int y = 0; y < img->height; y++)
        rows[y] = (png_bytep)img->data + (size_t)y * stride;
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    *out = s.out.data;
    *out_bytes = s.out.len;
    return true;
}
