/* SPDX-License-Identifier: Apache-2.0 */
/* sampler: shuffled epochs with dropped last batches (see sampler.h). */
#include "sampler.h"

#include <stdlib.h>

#include "rng.h"

static void make_perm(Sampler *s)
{
    for (int64_t i = 0; i < s->state.n; i++)
        s->perm[i] = i;
    Rng rng;
    rng_init_stream(&rng, s->state.seed, (uint64_t)s->state.epoch);
    rng_shuffle_i64(&rng, s->perm, (size_t)s->state.n);
}

bool sampler_init(Sampler *s, int64_t n, int64_t batch, uint64_t seed, Err *err)
{
    s->perm = NULL;
    if (n < 1)
        return err_set(err, "no training images");
    if (batch < 1 || batch > n)
        return err_set(err, "batch size %lld is not between 1 and the %lld training images", (long long)batch,
                       (long long)n);
    s->perm = xmalloc_array((size_t)n, sizeof *s->perm, err);
    if (!s->perm)
        return false;
    s->state = (SamplerState){.seed = seed, .n = n, .batch = batch, .epoch = 0, .position = 0};
    make_perm(s);
    return true;
}

bool sampler_restore(Sampler *s, const SamplerState *state, Err *err)
{
    if (state->n != s->state.n)
        return err_set(err, "the checkpoint was trained on %lld images, but %lld are given", (long long)state->n,
                       (long long)s->state.n);
    if (state->batch < 1 || state->batch > state->n || state->position < 0 || state->position > state->n ||
        state->epoch < 0)
        return err_set(err, "the checkpoint's sampler state is invalid");
    s->state = *state;
    make_perm(s);
    return true;
}

bool sampler_set_batch(Sampler *s, int64_t batch, Err *err)
{
    if (batch == s->state.batch)
        return true;
    if (batch < 1 || batch > s->state.n)
        return err_set(err, "batch size %lld is not between 1 and the %lld training images", (long long)batch,
                       (long long)s->state.n);
    s->state.batch = batch;
    s->state.epoch++;
    s->state.position = 0;
    make_perm(s);
    return true;
}

void sampler_next_batch(Sampler *s, int64_t *indices)
{
    if (s->state.position + s->state.batch > s->state.n) { // drop_last: start a new epoch
        s->state.epoch++;
        s->state.position = 0;
        make_perm(s);
    }
    for (int64_t i = 0; i < s->state.batch; i++)
        indices[i] = s->perm[s->state.position + i];
    s->state.position += s->state.batch;
}

void sampler_fini(Sampler *s)
{
    free(s->perm);
    s->perm = NULL;
}
