/* SPDX-License-Identifier: Apache-2.0 */
/* idset: string -> int64 hash map (see idset.h). */
#include "idset.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct Slot {
    char *key;    /* owned, NUL-terminated; NULL = empty slot */
    size_t len;
    uint64_t hash;
    int64_t value;
} Slot;

struct IdSet {
    Slot *slots;
    size_t cap;   /* power of two */
    size_t count;
};

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

IdSet *idset_new(Err *err)
{
    IdSet *s = xcalloc_array(1, sizeof *s, err);
    if (!s)
        return NULL;
    s->cap = 64;
    s->slots = xcalloc_array(s->cap, sizeof *s->slots, err);
    if (!s->slots) {
        free(s);
        return NULL;
    }
    return s;
}

void idset_free(IdSet *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->cap; i++)
        free(s->slots[i].key);
    free(s->slots);
    free(s);
}

static Slot *find(const IdSet *s, const char *key, size_t len, uint64_t h)
{
    size_t mask = s->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        Slot *sl = &s->slots[i];
        if (!sl->key || (sl->hash == h && sl->len == len && memcmp(sl->key, key, len) == 0))
            return sl;
    }
}

static bool grow(IdSet *s, Err *err)
{
    size_t cap = s->cap * 2;
    Slot *slots = xcalloc_array(cap, sizeof *slots, err);
    if (!slots)
        return false;
    for (size_t i = 0; i < s->cap; i++) {
        Slot *o = &s->slots[i];
        if (!o->key)
            continue;
        size_t j = (size_t)o->hash & (cap - 1);
        while (slots[j].key)
            j = (j + 1) & (cap - 1);
        slots[j] = *o;
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return true;
}

int idset_put(IdSet *s, const char *key, size_t len, int64_t value, int64_t *existing, Err *err)
{
    // Keep the load below one half so probes stay short.
    if (2 * (s->count + 1) > s->cap && !grow(s, err))
        return -1;
    uint64_t h = hash_bytes(key, len);
    Slot *sl = find(s, key, len, h);
    if (sl->key) {
        if (existing)
            *existing = sl->value;
        return 0;
    }
    char *k = xmalloc_array(len + 1, 1, err);
    if (!k)
        return -1;
    memcpy(k, key, len);
    k[len] = 0;
    *sl = (Slot){k, len, h, value};
    s->count++;
    return 1;
}

int64_t *idset_get(const IdSet *s, const char *key, size_t len)
{
    Slot *sl = find(s, key, len, hash_bytes(key, len));
    return sl->key ? &sl->value : NULL;
}

size_t idset_count(const IdSet *s)
{
    return s->count;
}

size_t idset_strip_image_ext(const char *name)
{
    static const char *const exts[] = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".pgm", ".ppm"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t e = strlen(exts[i]);
        if (n > e && strcasecmp(name + n - e, exts[i]) == 0)
            return n - e;
    }
    return n;
}
