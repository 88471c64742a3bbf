/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stain_impl: building blocks shared by the stain_*.c files (not for tools).
 *
 * The percentile of numpy (linear interpolation), the sRGB <-> CIE L*a*b*
 * conversion, and the per-method entry points that stain.c dispatches to.
 */
#ifndef ADKIT_STAIN_IMPL_H
#define ADKIT_STAIN_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "stain.h"

/* numpy.percentile(a, q) with the default linear interpolation (position
 * q/100*(n-1), numpy's lerp). Reorders a (selection, O(n)); n >= 1. */
double stain_percentile(double *a, int64_t n, double q);

/* sRGB byte -> linear intensity in [0, 1] (the sRGB companding curve). */
double stain_srgb_to_linear(uint8_t v);

/* sRGB bytes -> CIE L*a*b* (D65 white, OpenCV's matrix and constants). */
void stain_rgb_to_lab(double lab[3], uint8_t r, uint8_t g, uint8_t b);

/* CIE L*a*b* -> sRGB bytes, rounded to nearest and clipped. */
void stain_lab_to_rgb(uint8_t rgb[3], const double lab[3]);

/* A direct-mapped cache of output colours by input colour, for the
 * per-pixel transforms that depend on the colour alone (tissue repeats
 * colours, so most of the work is saved; results are identical either
 * way). A cache whose allocation failed is simply always empty. */
typedef struct StainCache {
    uint32_t *key;       /* (STAIN_CACHE_SLOTS) colour | 1 << 24, 0 = empty; owned */
    uint8_t (*value)[3]; /* (STAIN_CACHE_SLOTS) output colour; owned */
} StainCache;

#define STAIN_CACHE_BITS 16
#define STAIN_CACHE_SLOTS (1u << STAIN_CACHE_BITS)

void stain_cache_init(StainCache *c);
void stain_cache_fini(StainCache *c);

/* Packs a colour as r | g << 8 | b << 16. */
static inline uint32_t stain_pack(uint8_t r, uint8_t g, uint8_t b)
{
    return (uint32_t)r | (uint32_t)g << 8 | (uint32_t)b << 16;
}

static inline uint32_t stain_cache_slot(uint32_t color)
{
    return (color * 2654435761u) >> (32 - STAIN_CACHE_BITS);
}

/* True (and out filled) when color's result is cached. */
static inline bool stain_cache_get(const StainCache *c, uint32_t color, uint8_t out[3])
{
    uint32_t s = stain_cache_slot(color);
    if (!c->key || c->key[s] != (color | 1u << 24))
        return false;
    out[0] = c->value[s][0];
    out[1] = c->value[s][1];
    out[2] = c->value[s][2];
    return true;
}

static inline void stain_cache_put(StainCache *c, uint32_t color, const uint8_t out[3])
{
    if (!c->key)
        return;
    uint32_t s = stain_cache_slot(color);
    c->key[s] = color | 1u << 24;
    c->value[s][0] = out[0];
    c->value[s][1] = out[1];
    c->value[s][2] = out[2];
}

/* Per-method fit and normalise (see stain.h for the contracts). */
bool stain_vahadane_fit(StainTarget *t, const uint8_t *rgb, int64_t npix, Err *err);
bool stain_vahadane_normalize(uint8_t *dst, const uint8_t *src, int64_t npix, const StainTarget *t, bool *copied,
                              Err *err);
bool stain_macenko_fit(StainTarget *t, const uint8_t *rgb, int64_t npix, Err *err);
bool stain_macenko_normalize(uint8_t *dst, const uint8_t *src, int64_t npix, const StainTarget *t, bool *copied,
                             Err *err);
bool stain_reinhard_fit(StainTarget *t, const uint8_t *rgb, int64_t npix, Err *err);
bool stain_reinhard_normalize(uint8_t *dst, const uint8_t *src, int64_t npix, const StainTarget *t, bool *copied,
                              Err *err);

#endif
