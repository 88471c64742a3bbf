/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sampler: the order in which training images are visited, as torch's
 * DataLoader(shuffle=True, drop_last=True) visits them (spec dpa-piad.md
 * 11.12): each epoch is a fresh random permutation of the n images, cut into
 * batches of a fixed size; the last incomplete batch is dropped; when an
 * epoch is used up the next one starts, forever.
 *
 * The state is a plain struct (epoch, position, RNG state and the current
 * permutation's seed), so a checkpoint stores it and --resume continues with
 * exactly the batches an uninterrupted run would have seen. The permutation
 * of epoch e is recomputed from (seed, e), never stored.
 *
 * Not for: test-time order (file order, last partial batch kept: a loop).
 * Thread safety: one Sampler per training run.
 *
 *     Sampler s;
 *     if (!sampler_init(&s, n_images, 128, seed, &err)) ...
 *     int64_t idx[128];
 *     sampler_next_batch(&s, idx);      // indices of the next batch
 *     sampler_fini(&s);
 */
#ifndef ADKIT_SAMPLER_H
#define ADKIT_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

typedef struct SamplerState {
    uint64_t seed;     /* permutation of epoch e comes from rng_init_stream(seed, e) */
    int64_t n;         /* images */
    int64_t batch;     /* images per batch */
    int64_t epoch;     /* current epoch, from 0 */
    int64_t position;  /* next unread position in the current permutation */
} SamplerState;

typedef struct Sampler {
    SamplerState state;
    int64_t *perm;     /* permutation of the current epoch, n entries, owned */
} Sampler;

/* batch must be between 1 and n (the original fails on an empty loader). */
bool sampler_init(Sampler *s, int64_t n, int64_t batch, uint64_t seed, Err *err);

/* Restores a saved state (from a checkpoint); n must match. */
bool sampler_restore(Sampler *s, const SamplerState *state, Err *err);

/* Changes the batch size (progressive growing may use one per resolution);
 * like the original, a change starts a new epoch. */
bool sampler_set_batch(Sampler *s, int64_t batch, Err *err);

/* Writes the next batch's image indices (state.batch entries). */
void sampler_next_batch(Sampler *s, int64_t *indices);

void sampler_fini(Sampler *s);

#endif
