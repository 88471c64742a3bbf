/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cellsample: the seeded choice of at most N candidate cells per slide
 * (spec camelyon16.md 2.4).
 *
 * The original shuffles the candidate cells (raster order) with NumPy's
 * unseeded global RNG and keeps the first min(50, N). Here the shuffle is a
 * Fisher-Yates shuffle driven by an Rng stream derived from the user's seed
 * and the slide's name, so a slide's choice does not depend on which other
 * slides are processed, in which order, or with how many threads; the same
 * seed gives the same cells. The chosen cells are returned in raster order.
 *
 * Not for: deciding which cells are candidates (tissue.h).
 * Thread safety: pure. Errors: allocation only.
 *
 *     int64_t chosen[50];
 *     int64_t n = cellsample_choose(chosen, cells, cw * ch, 50, seed, "tumor_001", &err);
 *     // n < 0: error; cell index i is row i / cw, column i % cw
 */
#ifndef ADKIT_CELLSAMPLE_H
#define ADKIT_CELLSAMPLE_H

#include <stdint.h>

#include "err.h"

/* Writes to out (capacity max) the indices of up to max cells with
 * cells[i] != 0 among n, chosen uniformly without replacement, ascending.
 * Returns how many (min(max, candidates)), or -1 on error. */
int64_t cellsample_choose(int64_t *out, const uint8_t *cells, int64_t n, int64_t max, uint64_t seed,
                          const char *slide_name, Err *err);

#endif
