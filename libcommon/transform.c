/* SPDX-License-Identifier: Apache-2.0 */
/* transform: the original's per-image transforms on 8-bit planar images
 * (see transform.h for the steps, their order and their references). */
#include "transform.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resample.h"

// Largest side a spec may ask for; keeps every size product in range.
#define TRANSFORM_MAX_SIDE 65536

TransformSpec transform_spec_nih(int crop, bool equalize, int resize)
{
    return (TransformSpec){.grey = true, .crop = TRANSFORM_CROP_CENTER, .crop_h = crop, .crop_w = crop,
                           .equalize = equalize, .resize_h = resize, .resize_w = resize, .normalize = true};
}

TransformSpec transform_spec_camelyon16(int crop, bool random_crop, bool random_flip, bool equalize)
{
    return (TransformSpec){.crop = random_crop ? TRANSFORM_CROP_RANDOM : TRANSFORM_CROP_CENTER,
                           .crop_h = crop, .crop_w = crop, .equalize = equalize, .flip = random_flip,
                           .normalize = true};
}

TransformSpec transform_spec_cifar10(bool grey, bool equalize)
{
    return (TransformSpec){.grey = grey, .equalize = equalize, .normalize = true};
}

TransformSpec transform_spec_fmnist(void)
{
    return (TransformSpec){.pad = 2, .normalize = true};
}

/* ---- steps ---- */

void transform_grey_u8(uint8_t *dst, const uint8_t *src, size_t pixels, int channels, size_t step, size_t plane)
{
    if (channels < 3) { // L, or LA whose first channel is L
        for (size_t i = 0; i < pixels; i++)
            dst[i] = src[i * step];
        return;
    }
    for (size_t i = 0; i < pixels; i++) {
        const uint8_t *p = src + i * step;
        // Pillow's L24 macro (Convert.c), integer exact.
        uint32_t l = p[0] * 19595u + p[plane] * 38470u + p[2 * plane] * 7471u + 0x8000u;
        dst[i] = (uint8_t)(l >> 16);
    }
}

void transform_grey_u16(uint8_t *dst, const uint16_t *src, size_t pixels, int channels, size_t step,
                        size_t plane)
{
    if (channels == 1) { // mode "I", Convert.c i2l: clip to 0..255
        for (size_t i = 0; i < pixels; i++)
            dst[i] = (uint8_t)(src[i * step] > 255 ? 255 : src[i * step]);
        return;
    }
    if (channels == 2) { // "LA;16B" unpacks the high bytes into RGBA, R = G = B
        for (size_t i = 0; i < pixels; i++)
            dst[i] = (uint8_t)(src[i * step] >> 8);
        return;
    }
    for (size_t i = 0; i < pixels; i++) {
        const uint16_t *p = src + i * step;
        uint32_t l = (uint32_t)(p[0] >> 8) * 19595u + (uint32_t)(p[plane] >> 8) * 38470u +
                     (uint32_t)(p[2 * plane] >> 8) * 7471u + 0x8000u;
        dst[i] = (uint8_t)(l >> 16);
    }
}

int transform_center_offset(int size, int crop)
{
    int d = size - crop;
    // round(d / 2) with ties to even: for odd d the two candidates are
    // d/2 and d/2 + 1 (d >= 0); pick the even one.
    if (d % 2 == 0)
        return d / 2;
    int lo = d / 2;
    return lo % 2 == 0 ? lo : lo + 1;
}

void transform_equalize(uint8_t *plane, size_t n)
{
    // PIL.ImageOps.equalize (spec dpa-piad.md 10), Python integers -> int64.
    int64_t h[256] = {0};
    for (size_t i = 0; i < n; i++)
        h[plane[i]]++;
    int nonzero = 0, last = -1;
    int64_t total = 0;
    for (int v = 0; v < 256; v++)
        if (h[v]) {
            nonzero++;
            last = v;
            total += h[v];
        }
    if (nonzero <= 1)
        return;
    int64_t step = (total - h[last]) / 255;
    if (step == 0)
        return;
    uint8_t lut[256];
    int64_t acc = step / 2;
    for (int v = 0; v < 256; v++) {
        int64_t q = acc / step;
        lut[v] = (uint8_t)(q > 255 ? 255 : q); // Image.point clips to 0..255
        acc += h[v];
    }
    for (size_t i = 0; i < n; i++)
        plane[i] = lut[plane[i]];
}

void transform_to_tensor(float *dst, const uint8_t *src, size_t n, bool normalize)
{
    // A table of the 256 possible results, each computed with torch's float32
    // operations: ToTensor's div(255), Normalize's sub(0.5) then div(0.5).
    float table[256];
    for (int v = 0; v < 256; v++) {
        float x = (float)v / 255.0f;
        table[v] = normalize ? (x - 0.5f) / 0.5f : x;
    }
    for (size_t i = 0; i < n; i++)
        dst[i] = table[src[i]];
}

static void crop_planes(uint8_t *dst, const uint8_t *src, int c, int h, int w, int top, int left, int ch, int cw)
{
    for (int k = 0; k < c; k++)
        for (int y = 0; y < ch; y++)
            memcpy(dst + ((size_t)k * ch + y) * cw, src + ((size_t)k * h + top + y) * w + left, (size_t)cw);
}

static void flip_horizontal(uint8_t *img, int c, int h, int w)
{
    for (size_t r = 0; r < (size_t)c * h; r++) {
        uint8_t *row = img + r * w;
        for (int a = 0, b = w - 1; a < b; a++, b--) {
            uint8_t t = row[a];
            row[a] = row[b];
            row[b] = t;
        }
    }
}

static void flip_vertical(uint8_t *img, int c, int h, int w)
{
    for (int k = 0; k < c; k++) {
        uint8_t *p = img + (size_t)k * h * w;
        for (int a = 0, b = h - 1; a < b; a++, b--)
            for (int x = 0; x < w; x++) {
                uint8_t t = p[(size_t)a * w + x];
                p[(size_t)a * w + x] = p[(size_t)b * w + x];
                p[(size_t)b * w + x] = t;
            }
    }
}

/* ---- the pipeline ---- */

bool transform_output_shape(const TransformSpec *spec, int c, int h, int w, int *out_c, int *out_h, int *out_w,
                            Err *err)
{
    if (c < 1 || c > 4 || h < 1 || w < 1 || h > TRANSFORM_MAX_SIDE || w > TRANSFORM_MAX_SIDE)
        return err_set(err, "cannot transform a %dx%dx%d image: want 1..4 channels and sides 1..%d", c, h, w,
                       TRANSFORM_MAX_SIDE);
    if ((int)spec->crop < 0 || spec->crop >= TRANSFORM_CROP_COUNT)
        return err_set(err, "unknown crop kind %d", (int)spec->crop);
    int oc = spec->grey ? 1 : c, oh = h, ow = w;
    if (spec->crop != TRANSFORM_CROP_NONE) {
        if (spec->crop_h < 1 || spec->crop_w < 1)
            return err_set(err, "crop of %dx%d pixels: sides must be positive", spec->crop_h, spec->crop_w);
        if (spec->crop_h > h || spec->crop_w > w)
            return err_set(err, "crop of %dx%d pixels is larger than the %dx%d image", spec->crop_h, spec->crop_w,
                           h, w);
        oh = spec->crop_h;
        ow = spec->crop_w;
    }
    if (spec->resize_h || spec->resize_w) {
        if (spec->resize_h < 1 || spec->resize_w < 1 || spec->resize_h > TRANSFORM_MAX_SIDE ||
            spec->resize_w > TRANSFORM_MAX_SIDE)
            return err_set(err, "resize to %dx%d: sides must be 1..%d", spec->resize_h, spec->resize_w,
                           TRANSFORM_MAX_SIDE);
        oh = spec->resize_h;
        ow = spec->resize_w;
    }
    if (spec->pad < 0 || spec->pad > TRANSFORM_MAX_SIDE)
        return err_set(err, "padding of %d pixels: must be 0..%d", spec->pad, TRANSFORM_MAX_SIDE);
    *out_c = oc;
    *out_h = oh + 2 * spec->pad;
    *out_w = ow + 2 * spec->pad;
    return true;
}

/* The u8 pipeline. `grey_src` is the image after the grey step when the
 * caller has done it already (16-bit records); otherwise src is used. */
static bool apply_u8(const TransformSpec *spec, uint8_t *dst, const uint8_t *src, int c, int h, int w,
                     bool src_is_grey, Rng *rng, Err *err)
{
    int oc, oh, ow;
    if (!transform_output_shape(spec, c, h, w, &oc, &oh, &ow, err))
        return false;
    if ((spec->crop == TRANSFORM_CROP_RANDOM || spec->flip) && !rng)
        return err_set(err, "a random crop or flip needs a random number generator");
    size_t plane = (size_t)h * w;
    // Two work buffers of the largest intermediate size; steps ping-pong.
    size_t work_px = plane;
    if (spec->resize_h && (size_t)spec->resize_h * spec->resize_w > work_px)
        work_px = (size_t)spec->resize_h * spec->resize_w;
    uint8_t *a = xmalloc_array(work_px, (size_t)oc, err);
    uint8_t *b = a ? xmalloc_array(work_px, (size_t)oc, err) : NULL;
    if (!b) {
        free(a);
        return false;
    }
    int cc = oc, ch = h, cw = w;
    if (spec->grey && !src_is_grey)
        transform_grey_u8(a, src, plane, c, 1, plane);
    else
        memcpy(a, src, plane * (size_t)cc);
    if (spec->crop != TRANSFORM_CROP_NONE) {
        int top, left;
        if (spec->crop == TRANSFORM_CROP_CENTER) {
            top = transform_center_offset(h, spec->crop_h);
            left = transform_center_offset(w, spec->crop_w);
        } else { // torchvision RandomCrop.get_params: randint(0, h - th), then randint(0, w - tw)
            top = (int)rng_below(rng, (uint64_t)(h - spec->crop_h) + 1);
            left = (int)rng_below(rng, (uint64_t)(w - spec->crop_w) + 1);
        }
        crop_planes(b, a, cc, ch, cw, top, left, spec->crop_h, spec->crop_w);
        ch = spec->crop_h;
        cw = spec->crop_w;
        uint8_t *t = a;
        a = b;
        b = t;
    }
    if (spec->equalize)
        for (int k = 0; k < cc; k++)
            transform_equalize(a + (size_t)k * ch * cw, (size_t)ch * cw);
    if (spec->flip) {
        if (rng_uniform(rng) < 0.5)
            flip_horizontal(a, cc, ch, cw);
        if (rng_uniform(rng) < 0.5)
            flip_vertical(a, cc, ch, cw);
    }
    bool ok = true;
    if (spec->resize_h) {
        for (int k = 0; k < cc && ok; k++)
            ok = resample_pillow_u8(b + (size_t)k * spec->resize_h * spec->resize_w, spec->resize_w,
                                    spec->resize_h, a + (size_t)k * ch * cw, cw, ch, 1, RESAMPLE_BILINEAR, err);
        ch = spec->resize_h;
        cw = spec->resize_w;
        uint8_t *t = a;
        a = b;
        b = t;
    }
    if (ok) {
        int p = spec->pad;
        if (p == 0) {
            memcpy(dst, a, (size_t)cc * ch * cw);
        } else {
            memset(dst, 0, (size_t)oc * oh * ow);
            for (int k = 0; k < cc; k++)
                for (int y = 0; y < ch; y++)
                    memcpy(dst + ((size_t)k * oh + y + p) * ow + p, a + ((size_t)k * ch + y) * cw, (size_t)cw);
        }
    }
    free(a);
    free(b);
    return ok;
}

bool transform_apply_u8(const TransformSpec *spec, uint8_t *dst, const uint8_t *src, int c, int h, int w,
                        Rng *rng, Err *err)
{
    return apply_u8(spec, dst, src, c, h, w, false, rng, err);
}

bool transform_apply(const TransformSpec *spec, float *dst, const uint8_t *src, int c, int h, int w, Rng *rng,
                     Err *err)
{
    int oc, oh, ow;
    if (!transform_output_shape(spec, c, h, w, &oc, &oh, &ow, err))
        return false;
    size_t n = (size_t)oc * oh * ow;
    uint8_t *tmp = xmalloc_array(n, 1, err);
    if (!tmp)
        return false;
    bool ok = apply_u8(spec, tmp, src, c, h, w, false, rng, err);
    if (ok)
        transform_to_tensor(dst, tmp, n, spec->normalize);
    free(tmp);
    return ok;
}

/* (C, H, W) or (H, W) of a u8 or u16 record. */
static bool record_geometry(const TransformSpec *spec, const TRecord *rec, int *c, int *h, int *w, Err *err)
{
    if (rec->dtype != TDTYPE_U8 && rec->dtype != TDTYPE_U16)
        return err_set(err, "image records must be u8 or u16, not %s", tdtype_name(rec->dtype));
    if (rec->dtype == TDTYPE_U16 && !spec->grey)
        return err_set(err, "a u16 image needs the grey step (Pillow's 16-bit conversion) to become 8-bit");
    if (rec->ndim != 2 && rec->ndim != 3)
        return err_set(err, "image records must have shape (C, H, W) or (H, W), not %d dimensions", rec->ndim);
    int64_t cc = rec->ndim == 3 ? rec->dims[0] : 1, hh = rec->dims[rec->ndim - 2], ww = rec->dims[rec->ndim - 1];
    if (cc < 1 || cc > 4 || hh < 1 || ww < 1 || hh > TRANSFORM_MAX_SIDE || ww > TRANSFORM_MAX_SIDE)
        return err_set(err, "cannot transform a %lldx%lldx%lld image: want 1..4 channels and sides 1..%d",
                       (long long)cc, (long long)hh, (long long)ww, TRANSFORM_MAX_SIDE);
    *c = (int)cc;
    *h = (int)hh;
    *w = (int)ww;
    return true;
}

bool transform_record_shape(const TransformSpec *spec, const TRecord *rec, int *out_c, int *out_h, int *out_w,
                            Err *err)
{
    int c, h, w;
    return record_geometry(spec, rec, &c, &h, &w, err) &&
           transform_output_shape(spec, c, h, w, out_c, out_h, out_w, err);
}

bool transform_record_u8(const TransformSpec *spec, const TRecord *rec, uint8_t *dst, Rng *rng, Err *err)
{
    int c, h, w;
    if (!record_geometry(spec, rec, &c, &h, &w, err))
        return false;
    if (rec->dtype == TDTYPE_U8)
        return apply_u8(spec, dst, rec->data, c, h, w, false, rng, err);
    size_t plane = (size_t)h * w;
    uint8_t *grey = xmalloc_array(plane, 1, err);
    if (!grey)
        return false;
    transform_grey_u16(grey, rec->data, plane, c, 1, plane);
    bool ok = apply_u8(spec, dst, grey, 1, h, w, true, rng, err);
    free(grey);
    return ok;
}

bool transform_record(const TransformSpec *spec, const TRecord *rec, float *dst, Rng *rng, Err *err)
{
    int oc, oh, ow;
    if (!transform_record_shape(spec, rec, &oc, &oh, &ow, err))
        return false;
    size_t n = (size_t)oc * oh * ow;
    uint8_t *tmp = xmalloc_array(n, 1, err);
    if (!tmp)
        return false;
    bool ok = transform_record_u8(spec, rec, tmp, rng, err);
    if (ok)
        transform_to_tensor(dst, tmp, n, spec->normalize);
    free(tmp);
    return ok;
}

bool transform_batch(const TransformSpec *spec, const TRecord *const *recs, size_t n, float *dst, uint64_t seed,
                     const uint64_t *streams, int jobs, Err *err)
{
    if (n == 0)
        return true;
    int oc, oh, ow;
    if (!transform_record_shape(spec, recs[0], &oc, &oh, &ow, err)) {
        err_context(err, "batch record 0");
        return false;
    }
    size_t each = (size_t)oc * oh * ow;
    // One failure is kept: the lowest record index, whatever thread hit it.
    size_t first_bad = n;
    Err bad = {0};
#pragma omp parallel for schedule(dynamic, 1) num_threads(jobs > 0 ? jobs : omp_get_max_threads())
    for (size_t i = 0; i < n; i++) {
        Err e = {0};
        int c, h, w;
        bool ok = transform_record_shape(spec, recs[i], &c, &h, &w, &e);
        if (ok && (size_t)c * h * w != each)
            ok = err_set(&e, "gives %dx%dx%d, not %dx%dx%d like record 0", c, h, w, oc, oh, ow);
        if (ok) {
            Rng rng;
            rng_init_stream(&rng, seed, streams ? streams[i] : (uint64_t)i);
            ok = transform_record(spec, recs[i], dst + i * each, &rng, &e);
        }
        if (!ok) {
#pragma omp critical(transform_batch_error)
            if (i < first_bad) {
                first_bad = i;
                bad = e;
            }
        }
    }
    if (first_bad == n)
        return true;
    memset(dst, 0, n * each * sizeof *dst);
    const char *id = trecord_meta_get(recs[first_bad], "id");
    err_set(err, "%s", bad.msg);
    err_context(err, "batch record %zu%s%s", first_bad, id ? ", id " : "", id ? id : "");
    return false;
}

/* ---- text form ---- */

// A decimal 1..TRANSFORM_MAX_SIDE (0 allowed when allow_zero) filling
// [s, end).
static bool parse_side(const char *s, const char *end, bool allow_zero, int *out)
{
    if (s == end)
        return false;
    int64_t v = 0;
    for (const char *p = s; p < end; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
        if (v > TRANSFORM_MAX_SIDE)
            return false;
    }
    if (v == 0 && !allow_zero)
        return false;
    *out = (int)v;
    return true;
}

// "N" (square) or "HxW".
static bool parse_size(const char *s, const char *end, int *h, int *w)
{
    const char *x = memchr(s, 'x', (size_t)(end - s));
    if (!x) {
        if (!parse_side(s, end, false, h))
            return false;
        *w = *h;
        return true;
    }
    return parse_side(s, x, false, h) && parse_side(x + 1, end, false, w);
}

static bool word_is(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

bool transform_spec_parse(TransformSpec *spec, const char *text, Err *err)
{
    TransformSpec t = {.normalize = true};
    const char *s = text;
    while (*s) {
        const char *end = strchr(s, ',');
        if (!end)
            end = s + strlen(s);
        const char *eq = memchr(s, '=', (size_t)(end - s));
        size_t key_len = (size_t)((eq ? eq : end) - s);
        const char *val = eq ? eq + 1 : NULL;
        bool ok = true;
        if (word_is(s, key_len, "grey") || word_is(s, key_len, "gray"))
            t.grey = true;
        else if (word_is(s, key_len, "center-crop") && val)
            t.crop = TRANSFORM_CROP_CENTER, ok = parse_size(val, end, &t.crop_h, &t.crop_w);
        else if (word_is(s, key_len, "random-crop") && val)
            t.crop = TRANSFORM_CROP_RANDOM, ok = parse_size(val, end, &t.crop_h, &t.crop_w);
        else if (word_is(s, key_len, "no-crop"))
            t.crop = TRANSFORM_CROP_NONE, t.crop_h = t.crop_w = 0;
        else if (word_is(s, key_len, "equalize"))
            t.equalize = true;
        else if (word_is(s, key_len, "no-equalize"))
            t.equalize = false;
        else if (word_is(s, key_len, "flip"))
            t.flip = true;
        else if (word_is(s, key_len, "no-flip"))
            t.flip = false;
        else if (word_is(s, key_len, "resize") && val)
            ok = parse_size(val, end, &t.resize_h, &t.resize_w);
        else if (word_is(s, key_len, "pad") && val)
            ok = parse_side(val, end, true, &t.pad);
        else if (word_is(s, key_len, "unit"))
            t.normalize = false;
        else if (word_is(s, key_len, "identity"))
            ;
        else if (word_is(s, key_len, "nih"))
            t = transform_spec_nih(224, false, 64);
        else if (word_is(s, key_len, "camelyon16"))
            t = transform_spec_camelyon16(64, false, false, false);
        else if (word_is(s, key_len, "camelyon16-train"))
            t = transform_spec_camelyon16(64, true, true, false);
        else if (word_is(s, key_len, "cifar10"))
            t = transform_spec_cifar10(false, false);
        else if (word_is(s, key_len, "svhn-grey"))
            t = transform_spec_cifar10(true, false);
        else if (word_is(s, key_len, "fmnist"))
            t = transform_spec_fmnist();
        else
            return err_set(err, "bad transform '%s': unknown step '%.*s' (steps: grey, center-crop=N, "
                                "random-crop=N, equalize, flip, resize=N, pad=N, unit; presets: nih, camelyon16, "
                                "camelyon16-train, cifar10, svhn-grey, fmnist)",
                           text, (int)(end - s), s);
        if (!ok)
            return err_set(err, "bad transform '%s': '%.*s' wants a size N or HxW (1..%d)", text, (int)(end - s),
                           s, TRANSFORM_MAX_SIDE);
        s = *end ? end + 1 : end;
    }
    *spec = t;
    return true;
}

void transform_spec_format(const TransformSpec *spec, char *buf, size_t bytes)
{
    if (bytes == 0)
        return;
    size_t at = 0;
    buf[0] = 0;
#define ADD(...)                                                                                        \
    do {                                                                                                \
        if (at < bytes) {                                                                               \
            int n_ = snprintf(buf + at, bytes - at, "%s", at ? "," : "");                               \
            at += n_ > 0 ? (size_t)n_ : 0;                                                              \
        }                                                                                               \
        if (at < bytes) {                                                                               \
            int n_ = snprintf(buf + at, bytes - at, __VA_ARGS__);                                       \
            at += n_ > 0 ? (size_t)n_ : 0;                                                              \
        }                                                                                               \
    } while (0)
    if (spec->grey)
        ADD("grey");
    if (spec->crop == TRANSFORM_CROP_CENTER)
        ADD("center-crop=%dx%d", spec->crop_h, spec->crop_w);
    else if (spec->crop == TRANSFORM_CROP_RANDOM)
        ADD("random-crop=%dx%d", spec->crop_h, spec->crop_w);
    if (spec->equalize)
        ADD("equalize");
    if (spec->flip)
        ADD("flip");
    if (spec->resize_h)
        ADD("resize=%dx%d", spec->resize_h, spec->resize_w);
    if (spec->pad)
        ADD("pad=%d", spec->pad);
    if (!spec->normalize)
        ADD("unit");
    if (at == 0)
        ADD("identity");
#undef ADD
}
