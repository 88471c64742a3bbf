/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pickle: a minimal, safe reader of Python pickles (protocol 2, binary).
 *
 * It implements the opcodes torch.save emits and builds a tree of PValue
 * nodes (None, bool, int, float, string, tuple, list, dict, global). Nothing
 * is ever executed: GLOBAL, REDUCE, NEWOBJ and BINPERSID are handed to the
 * caller's hooks, which decide what a callable may be and what calling it
 * produces (an "opaque" node carrying the caller's own payload). Without a
 * hook, those opcodes are errors.
 *
 * Not for: text protocol 0/1 opcodes other than those above, protocol 4
 * framing, pickles that rely on object state (BUILD is accepted and its state
 * handed to the hook or ignored for dicts).
 *
 * Memory: every node, string and payload lives in a PickleArena and is freed
 * with it. Bounds: the memo (PICKLE_MAX_MEMO entries), the stack
 * (PICKLE_MAX_STACK values), the mark stack (PICKLE_MAX_MARKS) and the node
 * count (PICKLE_MAX_NODES) are bounded; lengths read from the input are
 * checked against the bytes that remain before anything is copied.
 * Errors: "what is wrong (byte offset N)", offset into the buffer given.
 * Thread safety: an arena belongs to one thread at a time.
 *
 *     PickleArena *a = pickle_arena_new(&err);
 *     size_t pos = 0;
 *     const PValue *v = pickle_load(a, buf, n, &pos, &hooks, &err);
 *     if (v && v->kind == PV_DICT) ...   // v->items[2*i] key, [2*i+1] value
 *     pickle_arena_free(a);
 */
#ifndef ADKIT_PICKLE_H
#define ADKIT_PICKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define PICKLE_MAX_MEMO ((size_t)1 << 20)
#define PICKLE_MAX_STACK ((size_t)1 << 20)
#define PICKLE_MAX_MARKS ((size_t)1 << 12)
#define PICKLE_MAX_NODES ((size_t)1 << 22)

typedef enum PValueKind {
    PV_NONE,
    PV_BOOL,
    PV_INT,    /* fits in int64: i */
    PV_BIGINT, /* LONG1 of more than 8 bytes: s/len hold the little-endian two's complement bytes */
    PV_FLOAT,  /* f */
    PV_STR,    /* s/len: UTF-8 or byte string, NUL-terminated copy */
    PV_TUPLE,  /* items[0..n) */
    PV_LIST,   /* items[0..n) */
    PV_DICT,   /* n pairs: items[2k] key, items[2k+1] value, in insertion order */
    PV_GLOBAL, /* module/name: a reference to a callable or class, never resolved */
    PV_OPAQUE, /* made by a hook: tag and payload are the hook's */
} PValueKind;

typedef struct PValue {
    PValueKind kind;
    int64_t i;              /* PV_BOOL (0/1), PV_INT */
    double f;               /* PV_FLOAT */
    char *s;                /* PV_STR, PV_BIGINT; arena-owned */
    size_t len;             /* bytes of s */
    struct PValue **items;  /* PV_TUPLE, PV_LIST, PV_DICT; arena-owned */
    size_t n;               /* elements (pairs for PV_DICT) */
    size_t cap;             /* allocated slots of items */
    char *module, *name;    /* PV_GLOBAL; arena-owned */
    int tag;                /* PV_OPAQUE: the hook's type tag */
    void *payload;          /* PV_OPAQUE: the hook's data, arena-owned */
    struct PValue *next;    /* arena bookkeeping */
} PValue;

typedef struct PickleArena PickleArena;

/* Hooks for the opcodes that would run code in Python. Each may be NULL, in
 * which case the opcode is an error. Hooks report failure by returning
 * NULL/false with err set. */
typedef struct PickleHooks {
    void *ctx;
    /* GLOBAL module name: true if the reference may appear in the pickle. */
    bool (*global_allowed)(void *ctx, const char *module, const char *name);
    /* REDUCE / NEWOBJ: callable (a PV_GLOBAL) applied to args (a PV_TUPLE). */
    PValue *(*reduce)(void *ctx, PickleArena *arena, const PValue *callable, const PValue *args, Err *err);
    /* BINPERSID: the persistent id (any value) turned into a value. */
    PValue *(*persistent_load)(void *ctx, PickleArena *arena, const PValue *pid, Err *err);
} PickleHooks;

/* A new empty arena; NULL with err set when out of memory. */
PickleArena *pickle_arena_new(Err *err);

/* Frees the arena and every node, string and payload in it. NULL is fine. */
void pickle_arena_free(PickleArena *arena);

/* A new node of kind in the arena (zeroed otherwise); NULL with err set when
 * out of memory or past PICKLE_MAX_NODES. */
PValue *pickle_new_value(PickleArena *arena, PValueKind kind, Err *err);

/* size bytes of zeroed memory owned by the arena; NULL with err on failure. */
void *pickle_arena_alloc(PickleArena *arena, size_t size, Err *err);

/* Reads one pickle of buf[0..n) starting at buf[*pos] (up to and including
 * STOP) and advances *pos past it. Returns the top value (arena-owned) or
 * NULL with err set ("... (byte offset N)", N counted from buf[0]); *pos is
 * then unchanged. hooks may be NULL. */
const PValue *pickle_load(PickleArena *arena, const void *buf, size_t n, size_t *pos, const PickleHooks *hooks,
                          Err *err);

/* The value for the string key in a PV_DICT, or NULL. Borrowed. */
const PValue *pickle_dict_get(const PValue *dict, const char *key);

/* True if v is a PV_STR equal to s. */
bool pickle_is_str(const PValue *v, const char *s);

#endif
