/* SPDX-License-Identifier: Apache-2.0 */
/* nn_arena: chunked bump allocation, merged into one block on reset, with
 * a free list of exact sizes and marks to rewind to. */
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

typedef struct FreeBlock {
    void *p;
    size_t bytes; /* aligned size */
} FreeBlock;

struct NNArena {
    void *(*alloc)(size_t);
    void (*free_fn)(void *);
    Chunk *chunks;  /* nchunks entries; allocation happens in chunks[cur] */
    int nchunks, cap, cur;
    size_t in_use;      /* bytes handed out and not released since the last reset */
    size_t high_water;  /* max of in_use */
    size_t bumped;      /* bytes taken from chunks since the last reset */
    size_t bump_high;   /* max of bumped: the size of the merged block */
    FreeBlock *free_list; /* released blocks, reused by exact size, last first */
    int nfree, free_cap;
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

static size_t aligned_size(size_t bytes)
{
    size_t need = (bytes + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    return need == 0 && bytes == 0 ? ALIGN : need;
}

static void count_in_use(NNArena *a, size_t need)
{
    a->in_use += need;
    if (a->in_use > a->high_water)
        a->high_water = a->in_use;
}

void *nn_arena_alloc(NNArena *a, size_t bytes, Err *err)
{
    size_t need = aligned_size(bytes);
    if (need < bytes)
        return err_set(err, "arena request of %zu bytes overflows", bytes), NULL;
    for (int i = a->nfree - 1; i >= 0; i--)
        if (a->free_list[i].bytes == need) {
            void *p = a->free_list[i].p;
            a->free_list[i] = a->free_list[--a->nfree];
            count_in_use(a, need);
            return p;
        }
    Chunk *c = a->nchunks ? &a->chunks[a->cur] : NULL;
    // After a rewind the chunks past cur are empty: take the next that fits.
    while (c && c->size - c->used < need && a->cur + 1 < a->nchunks) {
        c = &a->chunks[++a->cur];
        c->used = 0;
    }
    if (!c || c->size - c->used < need) {
        size_t size = need > MIN_CHUNK_BYTES ? need : MIN_CHUNK_BYTES;
        // Grow geometrically so the first step makes few chunks.
        if (c && size < c->size)
            size = c->size;
        if (!add_chunk(a, size, err))
            return NULL;
        a->cur = a->nchunks - 1;
        c = &a->chunks[a->cur];
    }
    void *p = c->base + c->used;
    c->used += need;
    a->bumped += need;
    if (a->bumped > a->bump_high)
        a->bump_high = a->bumped;
    count_in_use(a, need);
    return p;
}

void nn_arena_release(NNArena *a, void *p, size_t bytes)
{
    if (!p)
        return;
    if (a->nfree == a->free_cap) {
        int cap = a->free_cap ? 2 * a->free_cap : 64;
        FreeBlock *f = realloc(a->free_list, (size_t)cap * sizeof *f);
        if (!f)
            return; // the block stays unused until the reset: no harm
        a->free_list = f;
        a->free_cap = cap;
    }
    size_t need = aligned_size(bytes);
    a->free_list[a->nfree++] = (FreeBlock){p, need};
    a->in_use -= need;
}

NNArenaMark nn_arena_mark(const NNArena *a)
{
    return (NNArenaMark){a->cur, a->nchunks ? a->chunks[a->cur].used : 0, a->bumped, a->in_use};
}

void nn_arena_rewind(NNArena *a, NNArenaMark m)
{
    if (a->nchunks == 0)
        return;
    for (int i = m.chunk + 1; i < a->nchunks; i++)
        a->chunks[i].used = 0;
    a->cur = m.chunk;
    a->chunks[a->cur].used = m.used;
    a->bumped = m.bumped;
    a->in_use = m.in_use;
    // Blocks released since the mark may lie past it; blocks released
    // before it stay unused until the reset.
    a->nfree = 0;
}

void nn_arena_reset(NNArena *a)
{
    if (a->nchunks > 1) {
        // Replace the chunks by one block of the largest span a step used;
        // if that allocation fails keep nothing (the next step regrows).
        size_t want = a->bump_high;
        for (int i = 0; i < a->nchunks; i++)
            a->free_fn(a->chunks[i].base);
        a->nchunks = 0;
        unsigned char *base = a->alloc(want);
        if (base)
            a->chunks[a->nchunks++] = (Chunk){base, want, 0};
    }
    if (a->nchunks == 1)
        a->chunks[0].used = 0;
    a->cur = 0;
    a->in_use = 0;
    a->bumped = 0;
    a->nfree = 0;
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
    free(a->free_list);
    free(a);
}
