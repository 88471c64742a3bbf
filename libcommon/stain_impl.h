/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stain_impl: helpers shared by the stain_*.c files (not for tools).
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
