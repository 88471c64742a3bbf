/* SPDX-License-Identifier: Apache-2.0 */
/* dpa_data: training images and transforms of a DPA run (see dpa_data.h). */
#include "dpa_data.h"

#include <stdlib.h>
#include <string.h>

#include "tstream.h"

TransformSpec dpa_transform_spec(const DpaConfig *cfg, bool train)
{
    TransformSpec s = {.grey = cfg->grey, .equalize = cfg->equalize, .pad = cfg->pad, .normalize = true};
    if (cfg->center_crop > 0) {
        // NIH: a centre crop before the resize.
        s.crop = TRANSFORM_CROP_CENTER;
        s.crop_h = s.crop_w = cfg->center_crop;
    } else if (cfg->crop != DPA_CROP_NONE) {
        s.crop = train && cfg->crop == DPA_CROP_RANDOM ? TRANSFORM_CROP_RANDOM : TRANSFORM_CROP_CENTER;
        s.crop_h = s.crop_w = cfg->crop_size;
    }
    s.flip = train && cfg->flip;
    s.resize_h = s.resize_w = cfg->resize;
    return s;
}

bool dpa_check_image_shape(const DpaConfig *cfg, int c, int h, int w, const char *where, Err *err)
{
    TransformSpec s = dpa_transform_spec(cfg, true);
    int oc, oh, ow;
    Err e = {0};
    if (c != 1 && c != 3)
        return err_set(err, "%s: image has %d channels; images must have 1 (grey) or 3 (RGB)", where, c);
    if (!transform_output_shape(&s, c, h, w, &oc, &oh, &ow, &e))
        return err_set(err, "%s: image %dx%dx%d: %s", where, c, h, w, e.msg);
    int R = cfg->arch.max_res;
    if (oc != cfg->arch.image_dim || oh != R || ow != R)
        return err_set(err,
                       "%s: image %dx%dx%d becomes %dx%dx%d after the transforms, but the model takes %dx%dx%d "
                       "(image_dim, max_image_res; set grey, crop, resize or pad to match)",
                       where, c, h, w, oc, oh, ow, cfg->arch.image_dim, R, R);
    return true;
}

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

bool dpa_images_load(DpaImages *im, const char *path, const DpaConfig *cfg, Err *err)
{
    memset(im, 0, sizeof *im);
    TStreamReader *r = tstream_open(path, err);
    if (!r)
        return false;
    TRecord rec;
    trecord_init(&rec);
    size_t cap = 0, each = 0;
    bool ok = false;
    im->hash = 0xcbf29ce484222325ULL;
    for (;;) {
        int rc = tstream_read(r, &rec, err);
        if (rc < 0)
            goto done;
        if (rc == 0)
            break;
        const char *id = trecord_meta_get(&rec, "id");
        char where[512];
        snprintf(where, sizeof where, "%s: record %lld%s%s%s", tstream_name(r), (long long)im->n + 1,
                 id ? " (id " : "", id ? id : "", id ? ")" : "");
        if (rec.dtype != TDTYPE_U8 || rec.ndim != 3) {
            err_set(err, "%s: %s record of %d dimensions; training images must be u8 (C, H, W)", where,
                    tdtype_name(rec.dtype), rec.ndim);
            goto done;
        }
        int c = (int)rec.dims[0], h = (int)rec.dims[1], w = (int)rec.dims[2];
        if (im->n == 0) {
            if (!dpa_check_image_shape(cfg, c, h, w, where, err))
                goto done;
            im->c = c, im->h = h, im->w = w;
            each = (size_t)c * h * w;
        } else if (c != im->c || h != im->h || w != im->w) {
            err_set(err, "%s: image %dx%dx%d, but the first was %dx%dx%d; all training images must have one size",
                    where, c, h, w, im->c, im->h, im->w);
            goto done;
        }
        if ((size_t)im->n * each + each > cap) {
            size_t ncap = cap ? cap * 2 : each * 1024;
            uint8_t *p = xrealloc_array(im->pixels, ncap, 1, err);
            if (!p)
                goto done;
            im->pixels = p;
            cap = ncap;
        }
        memcpy(im->pixels + (size_t)im->n * each, rec.data, each);
        im->n++;
    }
    if (im->n == 0) {
        err_set(err, "%s: no images", tstream_name(r));
        goto done;
    }
    int64_t shape[4] = {im->n, im->c, im->h, im->w};
    im->hash = fnv(fnv(im->hash, shape, sizeof shape), im->pixels, (size_t)im->n * each);
    ok = true;
done:
    trecord_fini(&rec);
    tstream_close(r);
    if (!ok)
        dpa_images_fini(im);
    return ok;
}

void dpa_images_fini(DpaImages *im)
{
    free(im->pixels);
    memset(im, 0, sizeof *im);
}

bool dpa_images_batch(const DpaImages *im, const TransformSpec *spec, const int64_t *idx, int64_t n, float *out,
                      uint64_t seed, uint64_t stream0, Err *err)
{
    int oc, oh, ow;
    if (!transform_output_shape(spec, im->c, im->h, im->w, &oc, &oh, &ow, err))
        return false;
    size_t each = (size_t)im->c * im->h * im->w, out_each = (size_t)oc * oh * ow;
    bool ok = true;
    Err first = {0};
#pragma omp parallel for schedule(static) if (n > 8)
    for (int64_t j = 0; j < n; j++) {
        Rng rng;
        rng_init_stream(&rng, seed, stream0 + (uint64_t)j);
        Err e = {0};
        if (!transform_apply(spec, out + (size_t)j * out_each, im->pixels + (size_t)idx[j] * each, im->c, im->h,
                             im->w, &rng, &e)) {
#pragma omp critical(dpa_batch_err)
            {
                if (ok)
                    first = e;
                ok = false;
            }
        }
    }
    if (!ok)
        *err = first;
    return ok;
}
