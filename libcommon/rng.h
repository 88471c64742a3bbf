/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rng: the one seeded random number generator of the toolkit.
 *
 * xoshiro256** seeded through splitmix64: fast, 256 bits of state, and the
 * same sequence on every platform for the same seed, so "same seed, same
 * output" holds bit for bit. Streams for independent purposes (per slide,
 * per worker, per epoch) come from rng_init_stream(seed, stream_id), which
 * never overlap in practice. Not a cryptographic generator, and not torch's
 * mt19937 stream (see spec dpa-piad.md 6.4: matching torch's consumption
 * order is impractical; numerics are validated with imported weights).
 *
 * Thread safety: an Rng belongs to one thread. State is a plain struct that
 * can be saved in a checkpoint and restored.
 *
 *     Rng rng;
 *     rng_init(&rng, seed);
 *     double u = rng_uniform(&rng);          // [0, 1)
 *     uint64_t k = rng_below(&rng, 10);      // 0..9, unbiased
 *     rng_shuffle_i64(&rng, idx, n);         // Fisher-Yates
 */
#ifndef ADKIT_RNG_H
#define ADKIT_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct Rng {
    uint64_t s[4];       /* xoshiro256** state */
    double spare_normal; /* second value of the last Box-Muller pair */
    int has_spare;       /* 1 when spare_normal is valid */
} Rng;

/* Seeds the generator. */
void rng_init(Rng *rng, uint64_t seed);

/* Seeds an independent stream derived from (seed, stream_id). */
void rng_init_stream(Rng *rng, uint64_t seed, uint64_t stream_id);

/* Next 64 random bits. */
uint64_t rng_next(Rng *rng);

/* Uniform double in [0, 1) with 53 random bits. */
double rng_uniform(Rng *rng);

/* Uniform float in [0, 1) with 24 random bits. */
float rng_uniform_f32(Rng *rng);

/* Uniform integer in [0, n) without modulo bias; n > 0. */
uint64_t rng_below(Rng *rng, uint64_t n);

/* Standard normal (Box-Muller, polar form avoided for a fixed draw count). */
double rng_normal(Rng *rng);

/* In-place Fisher-Yates shuffle. */
void rng_shuffle_i64(Rng *rng, int64_t *a, size_t n);

/* A 64-bit hash of a string, for deriving per-item seeds from names
 * (FNV-1a followed by a splitmix64 finaliser). */
uint64_t rng_hash_string(const char *s);

#endif
