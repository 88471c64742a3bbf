/* SPDX-License-Identifier: Apache-2.0 */
/*
 * idset: a hash map from strings (image ids, file names, slide names) to an
 * int64 value, for selecting records by name and checking lists for overlap.
 *
 * Open addressing with linear probing, FNV-1a hashing; keys are copied into
 * the set, so callers may free theirs. Lookups take an explicit length so a
 * key can be matched without its file extension (see idset_strip_image_ext).
 *
 * Not for: ordered iteration (entries come back in no particular order) or
 * deletion. Thread safety: concurrent lookups are safe; insertion is not.
 * Ownership: idset_new's caller frees with idset_free.
 * Errors: only allocation failures, through Err.
 *
 *     Err err = {0};
 *     IdSet *s = idset_new(&err);
 *     int64_t prev;
 *     idset_put(s, "normal_001", 4, 0, &prev, &err);   // 1 = added, 0 = present
 *     const int64_t *v = idset_get(s, "normal_001", 10); // NULL when absent
 *     idset_free(s);
 */
#ifndef ADKIT_IDSET_H
#define ADKIT_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct IdSet IdSet;

IdSet *idset_new(Err *err);
void idset_free(IdSet *s);

/* Inserts key[0..len) with value. Returns 1 when added, 0 when the key was
 * already present (its value is stored in *existing if not NULL and left
 * unchanged), -1 when out of memory. */
int idset_put(IdSet *s, const char *key, size_t len, int64_t value, int64_t *existing, Err *err);

/* The value stored for key[0..len), or NULL. The pointer is borrowed until
 * the next insertion; the value may be changed through it. */
int64_t *idset_get(const IdSet *s, const char *key, size_t len);

/* Number of keys. */
size_t idset_count(const IdSet *s);

/* Length of name without a trailing image file extension (.png .jpg .jpeg
 * .tif .tiff .bmp .pgm .ppm, any case): the paper's lists name files, our
 * streams name images. */
size_t idset_strip_image_ext(const char *name);

#endif
