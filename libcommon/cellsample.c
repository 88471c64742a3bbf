/* SPDX-License-Identifier: Apache-2.0 */
/* cellsample: seeded per-slide choice of cells (see cellsample.h). */
#include "cellsample.h"

#include <stdlib.h>

#include "rng.h"

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int64_t cellsample_choose(int64_t *out, const uint8_t *cells, int64_t n, int64_t max, uint64_t seed,
                          const char *slide_name, Err *err)
{
    int64_t count = 0;
    for (int64_t i = 0; i < n; i++)
        count += cells[i] != 0;
    if (count == 0 || max <= 0)
        return 0;
    int64_t *cand = xmalloc_array((size_t)count, sizeof *cand, err);
    if (!cand)
        return -1;
    count = 0;
    for (int64_t i = 0; i < n; i++)
        if (cells[i])
            cand[count++] = i;
    Rng rng;
    rng_init_stream(&rng, seed, rng_hash_string(slide_name));
    rng_shuffle_i64(&rng, cand, (size_t)count);
    int64_t k = count < max ? count : max;
    qsort(cand, (size_t)k, sizeof *cand, cmp_i64);
    for (int64_t i = 0; i < k; i++)
        out[i] = cand[i];
    free(cand);
    return k;
}
