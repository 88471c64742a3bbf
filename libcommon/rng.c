/* SPDX-License-Identifier: Apache-2.0 */
/* rng: xoshiro256** with splitmix64 seeding (see rng.h). */
#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void rng_init(Rng *rng, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&x);
    rng->has_spare = 0;
    rng->spare_normal = 0;
}

void rng_init_stream(Rng *rng, uint64_t seed, uint64_t stream_id)
{
    uint64_t x = stream_id ^ 0x5851f42d4c957f2dULL;
    rng_init(rng, seed ^ splitmix64(&x));
}

uint64_t rng_next(Rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double rng_uniform(Rng *rng) { return (double)(rng_next(rng) >> 11) * 0x1.0p-53; }

float rng_uniform_f32(Rng *rng) { return (float)(rng_next(rng) >> 40) * 0x1.0p-24f; }

uint64_t rng_below(Rng *rng, uint64_t n)
{
    // Lemire's rejection on the top of a 128-bit product: unbiased.
    uint64_t x = rng_next(rng);
    __uint128_t m = (__uint128_t)x * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = -n % n;
        while (low < threshold) {
            x = rng_next(rng);
            m = (__uint128_t)x * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double rng_normal(Rng *rng)
{
    if (rng->has_spare) {
        rng->has_spare = 0;
        return rng->spare_normal;
    }
    double u1 = 1.0 - rng_uniform(rng); // (0, 1]: log is finite
    double u2 = rng_uniform(rng);
    double r = sqrt(-2.0 * log(u1));
    rng->spare_normal = r * sin(2.0 * M_PI * u2);
    rng->has_spare = 1;
    return r * cos(2.0 * M_PI * u2);
}

void rng_shuffle_i64(Rng *rng, int64_t *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)rng_below(rng, i);
        int64_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

uint64_t rng_hash_string(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return splitmix64(&h);
}
