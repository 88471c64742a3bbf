/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_arena: a bump allocator for the memory of one training step.
 *
 * Activations, gradients and tape nodes of a step are taken from an arena
 * and released all at once by nn_arena_reset. The first step grows the
 * arena chunk by chunk; reset then merges the chunks into one block as
 * large as the step's high-water mark, so later steps of the same shape
 * allocate nothing and touch memory that is already mapped (PyTorch loses
 * time re-faulting fresh pages every step).
 *
 * Within a step, memory can come back early: a block released with
 * nn_arena_release serves the next request of the same size, and a rewind
 * to a mark forgets everything allocated after it (a forward pass whose
 * intermediates are not needed). The merged block is sized by the largest
 * span of the chunks a step used, so reused memory lowers it.
 *
 * Memory comes from the alloc/free pair given at creation (a back end's
 * device memory, or host malloc for tape nodes). Not thread-safe.
 * Allocations are 64-byte aligned and not initialised.
 *
 *     NNArena *a = nn_arena_new(be->alloc, be->free, &err);
 *     float *buf = nn_arena_alloc(a, n * sizeof(float), &err);
 *     nn_arena_reset(a);   // buf is gone
 *     nn_arena_free(a);
 */
#ifndef ADKIT_NN_ARENA_H
#define ADKIT_NN_ARENA_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

typedef struct NNArena NNArena;

/* A new, empty arena. alloc must return 64-byte aligned memory. */
NNArena *nn_arena_new(void *(*alloc)(size_t bytes), void (*free_fn)(void *p), Err *err);

/* bytes of uninitialised memory, 64-byte aligned, valid until the next
 * reset. NULL with "out of memory allocating N bytes" on failure. */
void *nn_arena_alloc(NNArena *a, size_t bytes, Err *err);

/* Gives back one allocation of bytes (the size it was asked with) for
 * reuse by a later request of the same size in this step. */
void nn_arena_release(NNArena *a, void *p, size_t bytes);

/* A position to rewind to: allocations made after it are forgotten (and
 * blocks released before the rewind stay unused until the reset). */
typedef struct NNArenaMark {
    int chunk;
    size_t used, bumped, in_use;
} NNArenaMark;
NNArenaMark nn_arena_mark(const NNArena *a);
void nn_arena_rewind(NNArena *a, NNArenaMark m);

/* Releases every allocation (and merges chunks, see above). */
void nn_arena_reset(NNArena *a);

/* The largest number of bytes in use at once since creation (released and
 * rewound blocks not counted). */
size_t nn_arena_high_water(const NNArena *a);

/* Number of chunks held (1 in steady state). */
int nn_arena_chunks(const NNArena *a);

/* Frees all memory. NULL does nothing. */
void nn_arena_free(NNArena *a);

#endif
