/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stain_reinhard: Reinhard et al. 2001 ("Color transfer between images",
 * IEEE CG&A) colour transfer for H&E, as StainTools and most pathology code
 * apply it: per-channel mean and standard deviation (population) of every
 * pixel in CIE L*a*b*, then lab' = (lab - mean_src) * std_tgt / std_src +
 * mean_tgt, back to sRGB rounded and clipped. The Lab conversion is the
 * float one of stain_rgb_to_lab (OpenCV's sRGB/D65 constants), without
 * OpenCV's 8-bit quantisation of L, a, b. A source channel with zero spread
 * is only shifted.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stain.h"
#include "stain_impl.h"

/* Mean and population standard deviation of L*, a*, b* (two passes). */
static bool lab_stats(double mean[3], double sd[3], double *lab, const uint8_t *rgb, int64_t npix)
{
    if (npix <= 0)
        return false;
    double sum[3] = {0};
    for (int64_t p = 0; p < npix; p++) {
        stain_rgb_to_lab(lab + 3 * p, rgb[p], rgb[npix + p], rgb[2 * npix + p]);
        for (int k = 0; k < 3; k++)
            sum[k] += lab[3 * p + k];
    }
    double ss[3] = {0};
    for (int k = 0; k < 3; k++)
        mean[k] = sum[k] / (double)npix;
    for (int64_t p = 0; p < npix; p++)
        for (int k = 0; k < 3; k++) {
            double d = lab[3 * p + k] - mean[k];
            ss[k] += d * d;
        }
    for (int k = 0; k < 3; k++)
        sd[k] = sqrt(ss[k] / (double)npix);
    return true;
}

bool stain_reinhard_fit(StainTarget *t, const uint8_t *rgb, int64_t npix, Err *err)
{
    if (npix <= 0)
        return err_set(err, "target image is empty");
    double *lab = xmalloc_array((size_t)npix, 3 * sizeof *lab, err);
    if (!lab)
        return false;
    lab_stats(t->lab_mean, t->lab_std, lab, rgb, npix);
    free(lab);
    return true;
}

bool stain_reinhard_normalize(uint8_t *dst, const uint8_t *src, int64_t npix, const StainTarget *t, bool *copied,
                              Err *err)
{
    if (npix <= 0)
        return true;
    double *lab = xmalloc_array((size_t)npix, 3 * sizeof *lab, err);
    if (!lab)
        return false;
    double mean[3], sd[3], gain[3];
    lab_stats(mean, sd, lab, src, npix);
    for (int k = 0; k < 3; k++)
        gain[k] = sd[k] > 0 ? t->lab_std[k] / sd[k] : 1.0;
    StainCache cache;
    stain_cache_init(&cache);
    for (int64_t p = 0; p < npix; p++) {
        uint32_t color = stain_pack(src[p], src[npix + p], src[2 * npix + p]);
        uint8_t out[3];
        if (!stain_cache_get(&cache, color, out)) {
            double v[3];
            for (int k = 0; k < 3; k++)
                v[k] = (lab[3 * p + k] - mean[k]) * gain[k] + t->lab_mean[k];
            stain_lab_to_rgb(out, v);
            stain_cache_put(&cache, color, out);
        }
        for (int k = 0; k < 3; k++)
            dst[k * npix + p] = out[k];
    }
    stain_cache_fini(&cache);
    free(lab);
    *copied = false;
    return true;
}
