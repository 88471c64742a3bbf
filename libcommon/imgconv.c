/* SPDX-License-Identifier: Apache-2.0 */
/* imgconv: grey, RGB, 8-bit and range conversions of images (see imgconv.h). */
#include "imgconv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

// Replaces img's samples by a new buffer of the given geometry; returns the
// new image in *out (img untouched) so a failure leaves img as it was.
static bool alloc_like(const Image *img, int channels, int depth, Image *out, Err *err)
{
    *out = (Image){0};
    return image_alloc(out, img->width, img->height, channels, depth, err);
}

static void replace(Image *img, Image *by)
{
    free(img->data);
    *img = *by;
}

bool imgconv_to_grey(Image *img, Err *err)
{
    const int c = img->channels;
    if (c == 1)
        return true;
    Image out;
    if (!alloc_like(img, 1, img->depth, &out, err))
        return false;
    const size_t n = (size_t)img->width * (size_t)img->height;
    if (img->depth == 8) {
        const uint8_t *s = img->data;
        uint8_t *d = out.data;
        if (c == 2)
            for (size_t i = 0; i < n; i++)
                d[i] = s[2 * i];
        else
            for (size_t i = 0; i < n; i++, s += c)
                d[i] = (uint8_t)((19595u * s[0] + 38470u * s[1] + 7471u * s[2] + 0x8000u) >> 16);
    } else {
        const uint16_t *s = img->data;
        uint16_t *d = out.data;
        if (c == 2)
            for (size_t i = 0; i < n; i++)
                d[i] = s[2 * i];
        else
            for (size_t i = 0; i < n; i++, s += c)
                d[i] = (uint16_t)((19595ull * s[0] + 38470ull * s[1] + 7471ull * s[2] + 0x8000ull) >> 16);
    }
    replace(img, &out);
    return true;
}

bool imgconv_to_rgb(Image *img, Err *err)
{
    const int c = img->channels;
    if (c == 3)
        return true;
    Image out;
    if (!alloc_like(img, 3, img->depth, &out, err))
        return false;
    const size_t n = (size_t)img->width * (size_t)img->height;
    const size_t sample = (size_t)img->depth / 8;
    const unsigned char *s = img->data;
    unsigned char *d = out.data;
    for (size_t i = 0; i < n; i++, s += (size_t)c * sample, d += 3 * sample) {
        if (c <= 2) {
            memcpy(d, s, sample);
            memcpy(d + sample, s, sample);
            memcpy(d + 2 * sample, s, sample);
        } else {
            memcpy(d, s, 3 * sample);
        }
    }
    replace(img, &out);
    return true;
}

bool imgconv_to_8bit(Image *img, Err *err)
{
    if (img->depth == 8)
        return true;
    Image out;
    if (!alloc_like(img, img->channels, 8, &out, err))
        return false;
    const size_t n = (size_t)img->width * (size_t)img->height * (size_t)img->channels;
    const uint16_t *s = img->data;
    uint8_t *d = out.data;
    for (size_t i = 0; i < n; i++)
        d[i] = (uint8_t)((s[i] * 255u + 32767u) / 65535u);
    replace(img, &out);
    return true;
}

static double sample_at(const TRecord *rec, size_t i)
{
    switch (rec->dtype) {
    case TDTYPE_U8: return ((const uint8_t *)rec->data)[i];
    case TDTYPE_U16: return ((const uint16_t *)rec->data)[i];
    case TDTYPE_I32: return ((const int32_t *)rec->data)[i];
    case TDTYPE_F32: return ((const float *)rec->data)[i];
    case TDTYPE_F64: return ((const double *)rec->data)[i];
    default: return NAN;
    }
}

bool imgconv_from_record_range(const TRecord *rec, double lo, double hi, Image *img, Err *err)
{
    if (!(lo != hi) || !isfinite(lo) || !isfinite(hi))
        return err_set(err, "range %g,%g is empty", lo, hi);
    if (rec->dtype != TDTYPE_U8 && rec->dtype != TDTYPE_U16 && rec->dtype != TDTYPE_I32 &&
        rec->dtype != TDTYPE_F32 && rec->dtype != TDTYPE_F64)
        return err_set(err, "%s record cannot be shown as an image", tdtype_name(rec->dtype));
    int64_t c, h, w;
    if (rec->ndim == 2)
        c = 1, h = rec->dims[0], w = rec->dims[1];
    else if (rec->ndim == 3)
        c = rec->dims[0], h = rec->dims[1], w = rec->dims[2];
    else
        return err_set(err, "record of %d dimensions is not an image (want (C, H, W) or (H, W))", rec->ndim);
    if (c < 1 || c > 4)
        return err_set(err, "record with %lld channels is not an image (want 1..4)", (long long)c);
    Image out = {0};
    if (!image_alloc(&out, (int)(w > IMG_MAX_SIDE ? IMG_MAX_SIDE + 1 : w),
                     (int)(h > IMG_MAX_SIDE ? IMG_MAX_SIDE + 1 : h), (int)c, 8, err))
        return false;
    const size_t plane = (size_t)(h * w);
    const double scale = 255.0 / (hi - lo);
    uint8_t *d = out.data;
    for (int64_t k = 0; k < c; k++)
        for (size_t i = 0; i < plane; i++) {
            double v = (sample_at(rec, (size_t)k * plane + i) - lo) * scale;
            // !(v > 0) also catches NaN.
            uint8_t q = !(v > 0) ? 0 : v >= 255 ? 255 : (uint8_t)lround(v);
            d[i * (size_t)c + (size_t)k] = q;
        }
    image_fini(img);
    *img = out;
    return true;
}
