/* SPDX-License-Identifier: Apache-2.0 */
/* nn_arena: chunked bump allocation, merged into one block on reset. */
#include "nn_arena.h"

#include <stdint.h>
#include <stdlib.h>

// The smallest chunk: small steps (tests, tiny models) need one chunk only.
#define MIN_CHUNK_BYTES ((size_t)1 << 20)
#define ALIGN 64

typedef struct Chunk {
    unsigned char *base;
    size_t size, used;
} Chunk;

struct NNArena {
    void *(*alloc)(size_t);
    void (*free_fn)(void *);
    Chunk *chunks;  /* nchunks entries; allocation happens in the last */
    int nchunks, cap;
    size_t in_use;      /* bytes handed out since the last reset */
    size_t high_water;  /* max of in_use */
};

NNArena *nn_arena_new(void *(*alloc)(size_t bytes), void (*free_fn)(void *p), Err *err)
{
    NNArena *a = xcalloc_array(1, sizeof *a, err);
    if (!a)
        return NULL;
    a->alloc = alloc;
    a->free_fn = free_fn;
    return a;
}

static bool add_chunk(NNArena *a, size_t bytes, Err *err)
{
    if (a->nchunks == a->cap) {
        int cap = a->cap ? 2 * a->cap : 4;
        Chunk *c = xrealloc_array(a->chunks, (size_t)cap, sizeof *c, err);
        if (!c)
            return false;
        a->chunks = c;
        a->cap = cap;
    }
    unsigned char *base = a->alloc(bytes);
    if (!base)
        return err_set(err, "out of memory allocating %zu bytes for activations", bytes);
    a->chunks[a->nchunks++] = (Chunk){base, bytes, 0};
    return true;
}

void *nn_arena_alloc(NNArena *a, size_t bytes, Err *err)
{
    size_t need = (bytes + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need < bytes)
        return err_set(err, "arena request of %zu bytes overflows", bytes), NULL;
    if (need == 0)
        need = ALIGN;
    Chunk *c = a->nchunks ? &a->chunks[a->nchunks - 1] : NULL;
    if (!c || c->size - c->used < need) {
        size_t size = need > MIN_CHUNK_BYTES ? need : MIN_CHUNK_BYTES;
        // Grow geometrically so the first step makes few chunks.
        if (c && size < c->size)
            size = c->size;
        if (!add_chunk(a, size, err))
            return NULL;
        c = &a->chunks[a->nchunks - 1];
    }
    void *p = c->base + c->used;
    c->used += need;
    a->in_use += need;
    if (a->in_use > a->high_water)
        a->high_water = a->in_use;
    return p;
}

void nn_arena_reset(NNArena *a)
{
    if (a->nchunks > 1) {
        // Replace the chunks by one block of the high-water size; if that
        // allocation fails keep the largest chunk, which stays usable.
        size_t want = a->high_water;
        for (int i = 0; i < a->nchunks; i++)
            a->free_fn(a->chunks[i].base);
        a->nchunks = 0;
        unsigned char *base = a->alloc(want);
        if (base)
            a->chunks[a->nchunks++] = (Chunk){base, want, 0};
    }
    if (a->nchunks == 1)
        a->chunks[0].used = 0;
    a->in_use = 0;
}

size_t nn_arena_high_water(const NNArena *a)
{
    return a->high_water;
}

int nn_arena_chunks(const NNArena *a)
{
    return a->nchunks;
}

void nn_arena_free(NNArena *a)
{
    if (!a)
        return;
    for (int i = 0; i < a->nchunks; i++)
        a->free_fn(a->chunks[i].base);
    free(a->chunks);
    free(a);
}
