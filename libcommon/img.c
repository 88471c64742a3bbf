/* SPDX-License-Identifier: Apache-2.0 */
/* img: format sniffing, allocation, file I/O, codec dispatch and the bridge
 * between interleaved images and planar stream records (see img.h). */
#include "img.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "afile.h"
#include "img_impl.h"

static const char *const format_names[] = {"unknown", "png", "jpeg", "tiff", "bmp"};
_Static_assert(sizeof format_names / sizeof format_names[0] == IMAGE_FORMAT_COUNT, "one name per format");

ImageFormat image_sniff(const void *head, size_t n)
{
    const unsigned char *p = head;
    if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return IMAGE_FORMAT_PNG;
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return IMAGE_FORMAT_JPEG;
    // Classic TIFF (42) and BigTIFF (43), both byte orders.
    if (n >= 4 && ((p[0] == 'I' && p[1] == 'I' && (p[2] == 42 || p[2] == 43) && p[3] == 0) ||
                   (p[0] == 'M' && p[1] == 'M' && p[2] == 0 && (p[3] == 42 || p[3] == 43))))
        return IMAGE_FORMAT_TIFF;
    if (n >= 2 && p[0] == 'B' && p[1] == 'M')
        return IMAGE_FORMAT_BMP;
    return IMAGE_FORMAT_UNKNOWN;
}

ImageFormat image_format_from_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    if (!dot)
        return IMAGE_FORMAT_UNKNOWN;
    static const struct { const char *ext; ImageFormat f; } exts[] = {
        {".png", IMAGE_FORMAT_PNG},  {".jpg", IMAGE_FORMAT_JPEG}, {".jpeg", IMAGE_FORMAT_JPEG},
        {".tif", IMAGE_FORMAT_TIFF}, {".tiff", IMAGE_FORMAT_TIFF}, {".bmp", IMAGE_FORMAT_BMP},
    };
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(dot, exts[i].ext) == 0)
            return exts[i].f;
    return IMAGE_FORMAT_UNKNOWN;
}

const char *image_format_name(ImageFormat f)
{
    return (f > IMAGE_FORMAT_UNKNOWN && f < IMAGE_FORMAT_COUNT) ? format_names[f] : format_names[0];
}

bool img_check_geometry(int64_t width, int64_t height, int channels, int depth, size_t max_bytes, Err *err)
{
    if (width < 1 || height < 1 || width > IMG_MAX_SIDE || height > IMG_MAX_SIDE)
        return err_set(err, "image size %lldx%lld outside 1..%d", (long long)width, (long long)height,
                       IMG_MAX_SIDE);
    if (channels < 1 || channels > 4)
        return err_set(err, "%d channels (1..4 supported)", channels);
    if (depth != 8 && depth != 16)
        return err_set(err, "%d bits per sample (8 or 16 supported)", depth);
    // Both sides are at most 2^16, so the product cannot overflow 64 bits.
    uint64_t bytes = (uint64_t)width * (uint64_t)height * (uint64_t)channels * (uint64_t)(depth / 8);
    if (max_bytes > IMG_MAX_BYTES)
        max_bytes = IMG_MAX_BYTES;
    if (bytes > max_bytes)
        return err_set(err, "decoded image of %llu bytes exceeds the limit of %zu bytes",
                       (unsigned long long)bytes, max_bytes);
    return true;
}

bool image_alloc(Image *img, int width, int height, int channels, int depth, Err *err)
{
    if (!img_check_geometry(width, height, channels, depth, IMG_MAX_BYTES, err))
        return false;
    size_t bytes = (size_t)width * (size_t)height * (size_t)channels * (size_t)(depth / 8);
    void *data = xmalloc_array(bytes, 1, err);
    if (!data)
        return false;
    free(img->data);
    img->data = data;
    img->width = width;
    img->height = height;
    img->channels = channels;
    img->depth = depth;
    return true;
}

void image_fini(Image *img)
{
    if (!img)
        return;
    free(img->data);
    memset(img, 0, sizeof *img);
}

bool img_buf_append(ImgBuf *b, const void *p, size_t n)
{
    if (b->failed)
        return false;
    if (n > SIZE_MAX - b->len) {
        b->failed = true;
        return false;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap = cap > SIZE_MAX / 2 ? b->len + n : cap * 2;
        unsigned char *d = realloc(b->data, cap);
        if (!d) {
            b->failed = true;
            return false;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return true;
}

// Reads a whole file (or standard input for "-") into memory, refusing files
// larger than any image we accept could reasonably be.
static bool read_whole(const char *path, unsigned char **out, size_t *out_bytes, Err *err)
{
    const size_t limit = IMG_MAX_BYTES;
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(err, "%s", strerror(errno));
    struct stat st;
    size_t cap = 1 << 16;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if ((uint64_t)st.st_size > limit) {
            if (!is_stdin)
                close(fd);
            return err_set(err, "file of %lld bytes exceeds the limit of %zu bytes", (long long)st.st_size,
                           limit);
        }
        cap = (size_t)st.st_size + 1;
    }
    unsigned char *buf = xmalloc_array(cap, 1, err);
    size_t len = 0;
    bool ok = buf != NULL;
    while (ok) {
        if (len == cap) {
            if (cap > limit) {
                ok = err_set(err, "file exceeds the limit of %zu bytes", limit);
                break;
            }
            unsigned char *bigger = xrealloc_array(buf, cap, 2, err);
            if (!bigger) {
                ok = false;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + len, cap - len);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            ok = err_set(err, "read error: %s", strerror(errno));
        } else if (got == 0) {
            break;
        } else {
            len += (size_t)got;
        }
    }
    if (!is_stdin)
        close(fd);
    if (!ok) {
        free(buf);
        return false;
    }
    *out = buf;
    *out_bytes = len;
    return true;
}

bool image_decode(const void *buf, size_t n, const char *name, Image *img, Err *err)
{
    return image_decode_max(buf, n, name, IMG_MAX_BYTES, img, err);
}

bool image_decode_max(const void *buf, size_t n, const char *name, size_t max_bytes, Image *img, Err *err)
{
    Image local = {0};
    bool ok;
    switch (image_sniff(buf, n)) {
    case IMAGE_FORMAT_PNG: ok = img_png_decode(buf, n, max_bytes, &local, err); break;
    case IMAGE_FORMAT_JPEG: ok = img_jpeg_decode(buf, n, max_bytes, &local, err); break;
    case IMAGE_FORMAT_TIFF: ok = img_tiff_decode(buf, n, max_bytes, &local, err); break;
    case IMAGE_FORMAT_BMP: ok = img_bmp_decode(buf, n, max_bytes, &local, err); break;
    default:
        ok = err_set(err, n == 0 ? "empty file" : "not a PNG, JPEG, TIFF or BMP file");
        break;
    }
    if (!ok) {
        image_fini(&local);
        err_prefix(err, "%s", name);
        return false;
    }
    image_fini(img);
    *img = local;
    return true;
}

bool image_read(const char *path, Image *img, Err *err)
{
    unsigned char *buf = NULL;
    size_t n = 0;
    const char *name = strcmp(path, "-") == 0 ? "stdin" : path;
    if (!read_whole(path, &buf, &n, err)) {
        err_prefix(err, "%s", name);
        return false;
    }
    bool ok = image_decode(buf, n, name, img, err);
    free(buf);
    return ok;
}

bool image_encode(const Image *img, const ImageWriteOptions *opt, unsigned char **out, size_t *out_bytes,
                  Err *err)
{
    ImageWriteOptions defaults = {.format = IMAGE_FORMAT_PNG, .jpeg_quality = 0, .png_level = -1};
    if (!opt)
        opt = &defaults;
    if (!img->data || !img_check_geometry(img->width, img->height, img->channels, img->depth, IMG_MAX_BYTES, err))
        return err_set(err, "cannot encode an empty image");
    switch (opt->format) {
    case IMAGE_FORMAT_PNG:
        if (opt->png_level < -1 || opt->png_level > 9)
            return err_set(err, "PNG compression level %d outside 0..9", opt->png_level);
        return img_png_fast_encode(img, opt->png_level, out, out_bytes, err);
    case IMAGE_FORMAT_JPEG: {
        int q = opt->jpeg_quality ? opt->jpeg_quality : 75;
        if (q < 1 || q > 100)
            return err_set(err, "JPEG quality %d outside 1..100", q);
        return img_jpeg_encode(img, q, out, out_bytes, err);
    }
    case IMAGE_FORMAT_TIFF: return img_tiff_encode(img, out, out_bytes, err);
    case IMAGE_FORMAT_BMP: return img_bmp_encode(img, out, out_bytes, err);
    default: return err_set(err, "no image format given");
    }
}

bool image_write(const char *path, const Image *img, const ImageWriteOptions *opt, Err *err)
{
    ImageWriteOptions o = {.format = IMAGE_FORMAT_UNKNOWN, .jpeg_quality = 0, .png_level = -1};
    if (opt)
        o = *opt;
    if (o.format == IMAGE_FORMAT_UNKNOWN)
        o.format = image_format_from_name(path);
    if (o.format == IMAGE_FORMAT_UNKNOWN)
        return err_set(err, "%s: unknown image format (use .png, .jpg, .tif or .bmp)", path);
    unsigned char *buf = NULL;
    size_t n = 0;
    if (!image_encode(img, &o, &buf, &n, err)) {
        err_prefix(err, "%s", path);
        return false;
    }
    bool ok = afile_write_all(path, buf, n, err);
    free(buf);
    return ok;
}

bool image_to_record(const Image *img, TRecord *rec, Err *err)
{
    if (!img->data || !img_check_geometry(img->width, img->height, img->channels, img->depth, IMG_MAX_BYTES, err))
        return err_set(err, "empty image");
    const int64_t c = img->channels, h = img->height, w = img->width;
    int64_t dims[3] = {c, h, w};
    if (!trecord_set_shape(rec, img->depth == 16 ? TDTYPE_U16 : TDTYPE_U8, 3, dims, err))
        return false;
    const size_t plane = (size_t)(h * w);
    if (c == 1) {
        memcpy(rec->data, img->data, rec->data_bytes);
    } else if (img->depth == 8) {
        const uint8_t *src = img->data;
        uint8_t *dst = rec->data;
        for (size_t i = 0; i < plane; i++)
            for (int64_t k = 0; k < c; k++)
                dst[(size_t)k * plane + i] = src[i * (size_t)c + (size_t)k];
    } else {
        const uint16_t *src = img->data;
        uint16_t *dst = rec->data;
        for (size_t i = 0; i < plane; i++)
            for (int64_t k = 0; k < c; k++)
                dst[(size_t)k * plane + i] = src[i * (size_t)c + (size_t)k];
    }
    return true;
}

bool image_from_record(const TRecord *rec, Image *img, Err *err)
{
    int64_t c, h, w;
    if (rec->ndim == 2) {
        c = 1, h = rec->dims[0], w = rec->dims[1];
    } else if (rec->ndim == 3) {
        c = rec->dims[0], h = rec->dims[1], w = rec->dims[2];
    } else {
        return err_set(err, "record of %d dimensions is not an image (want (C, H, W) or (H, W))", rec->ndim);
    }
    if (rec->dtype != TDTYPE_U8 && rec->dtype != TDTYPE_U16)
        return err_set(err, "%s record is not an image (want u8 or u16)", tdtype_name(rec->dtype));
    if (c < 1 || c > 4)
        return err_set(err, "record with %lld channels is not an image (want 1..4)", (long long)c);
    int depth = rec->dtype == TDTYPE_U16 ? 16 : 8;
    Image local = {0};
    if (!image_alloc(&local, (int)(w > IMG_MAX_SIDE ? IMG_MAX_SIDE + 1 : w),
                     (int)(h > IMG_MAX_SIDE ? IMG_MAX_SIDE + 1 : h), (int)c, depth, err))
        return false;
    const size_t plane = (size_t)(h * w);
    if (c == 1) {
        memcpy(local.data, rec->data, rec->data_bytes);
    } else if (depth == 8) {
        const uint8_t *src = rec->data;
        uint8_t *dst = local.data;
        for (size_t i = 0; i < plane; i++)
            for (int64_t k = 0; k < c; k++)
                dst[i * (size_t)c + (size_t)k] = src[(size_t)k * plane + i];
    } else {
        const uint16_t *src = rec->data;
        uint16_t *dst = local.data;
        for (size_t i = 0; i < plane; i++)
            for (int64_t k = 0; k < c; k++)
                dst[i * (size_t)c + (size_t)k] = src[(size_t)k * plane + i];
    }
    image_fini(img);
    *img = local;
    return true;
}
