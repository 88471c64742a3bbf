/* SPDX-License-Identifier: Apache-2.0 */
/* img_jpeg: JPEG decoding and encoding with libjpeg-turbo. libjpeg reports
 * errors through error_exit, which we turn into a longjmp kept inside each
 * function. Decoding uses libjpeg's defaults (ISLOW IDCT, fancy upsampling),
 * as Pillow does, so decoded pixels match Pillow's. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "img_impl.h"

typedef struct JpegError {
    struct jpeg_error_mgr mgr; /* first, so the library's pointer casts to ours */
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
} JpegError;

static void on_error_exit(j_common_ptr cinfo)
{
    JpegError *e = (JpegError *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->msg);
    longjmp(e->jump, 1);
}

// Warnings are silent, except that data ending early is an error: Pillow
// refuses truncated JPEG files by default, and libjpeg would otherwise pad
// the image with grey.
static void on_emit_message(j_common_ptr cinfo, int level)
{
    if (level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        JpegError *e = (JpegError *)cinfo->err;
        snprintf(e->msg, sizeof e->msg, "truncated JPEG data");
        longjmp(e->jump, 1);
    }
}

static void on_output_message(j_common_ptr cinfo)
{
    (void)cinfo;
}

static void setup_errors(JpegError *e)
{
    jpeg_std_error(&e->mgr);
    e->mgr.error_exit = on_error_exit;
    e->mgr.emit_message = on_emit_message;
    e->mgr.output_message = on_output_message;
    e->msg[0] = 0;
}

bool img_jpeg_decode(const unsigned char *buf, size_t n, size_t max_bytes, Image *img, Err *err)
{
    struct jpeg_decompress_struct cinfo;
    JpegError jerr;
    setup_errors(&jerr);
    cinfo.err = &jerr.mgr;
    if (setjmp(jerr.jump)) {
        jpeg_destroy_decompress(&cinfo);
        image_fini(img);
        return err_set(err, "%s", jerr.msg[0] ? jerr.msg : "invalid JPEG data");
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, buf, (unsigned long)n);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        snprintf(jerr.msg, sizeof jerr.msg, "CMYK JPEG images are not supported");
        longjmp(jerr.jump, 1);
    }
    cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    int channels = cinfo.num_components == 1 ? 1 : 3;
    // A failure here is recorded in err first; the first message wins.
    if (!img_check_geometry(cinfo.image_width, cinfo.image_height, channels, 8, max_bytes, err) ||
        !image_alloc(img, (int)cinfo.image_width, (int)cinfo.image_height, channels, 8, err))
        longjmp(jerr.jump, 1);
    // Progressive and multi-scan files keep every DCT coefficient (2 bytes
    // each) in memory, allocated and zeroed at the start: bound that by the
    // image limit so a small hostile file cannot claim gigabytes. Past the
    // bound libjpeg fails ("Backing store not supported").
    cinfo.mem->max_memory_to_use = (long)(3 * (max_bytes < IMG_MAX_BYTES ? max_bytes : IMG_MAX_BYTES)) + (16L << 20);
    jpeg_start_decompress(&cinfo);
    if ((int)cinfo.output_width != img->width || (int)cinfo.output_height != img->height ||
        cinfo.output_components != channels) {
        snprintf(jerr.msg, sizeof jerr.msg, "unexpected JPEG output geometry");
        longjmp(jerr.jump, 1);
    }
    size_t stride = (size_t)img->width * (size_t)channels;
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = (JSAMPROW)img->data + (size_t)cinfo.output_scanline * stride;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return true;
}

bool img_jpeg_encode(const Image *img, int quality, unsigned char **out, size_t *out_bytes, Err *err)
{
    if (img->depth != 8 || (img->channels != 1 && img->channels != 3))
        return err_set(err, "JPEG takes 8-bit grey or RGB images, not %d-bit with %d channels", img->depth,
                       img->channels);
    struct jpeg_compress_struct cinfo;
    JpegError jerr;
    setup_errors(&jerr);
    cinfo.err = &jerr.mgr;
    // libjpeg owns and may reallocate the output buffer; volatile because a
    // longjmp may come after it changed.
    unsigned char *volatile mem = NULL;
    unsigned long mem_bytes = 0;
    if (setjmp(jerr.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(mem);
        return err_set(err, "%s", jerr.msg[0] ? jerr.msg : "JPEG encoding failed");
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, (unsigned char **)&mem, &mem_bytes);
    cinfo.image_width = (JDIMENSION)img->width;
    cinfo.image_height = (JDIMENSION)img->height;
    cinfo.input_components = img->channels;
    cinfo.in_color_space = img->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    // Pillow's defaults: libjpeg's defaults (4:2:0 chroma subsampling for
    // colour, baseline Huffman tables) with quality 75.
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    size_t stride = (size_t)img->width * (size_t)img->channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)img->data + (size_t)cinfo.next_scanline * stride;
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = mem;
    *out_bytes = mem_bytes;
    return true;
}
