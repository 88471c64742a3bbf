/* SPDX-License-Identifier: Apache-2.0 */
/* pickle: a minimal, safe protocol-2 unpickler (see pickle.h). */
#include "pickle.h"

#include <stdlib.h>
#include <string.h>

// Longest module or class name accepted in a GLOBAL opcode.
#define GLOBAL_NAME_MAX 256

struct PickleArena {
    PValue *values;     // every node, linked through next
    size_t node_count;
    void **blocks;      // strings, item arrays and payloads
    size_t block_count, block_cap;
};

PickleArena *pickle_arena_new(Err *err) { return xcalloc_array(1, sizeof(PickleArena), err); }

void pickle_arena_free(PickleArena *arena)
{
    if (!arena)
        return;
    for (PValue *v = arena->values; v;) {
        PValue *next = v->next;
        free(v->items);
        free(v);
        v = next;
    }
    for (size_t i = 0; i < arena->block_count; i++)
        free(arena->blocks[i]);
    free(arena->blocks);
    free(arena);
}

PValue *pickle_new_value(PickleArena *arena, PValueKind kind, Err *err)
{
    if (arena->node_count >= PICKLE_MAX_NODES) {
        err_set(err, "more than %zu pickle values", PICKLE_MAX_NODES);
        return NULL;
    }
    PValue *v = xcalloc_array(1, sizeof *v, err);
    if (!v)
        return NULL;
    v->kind = kind;
    v->next = arena->values;
    arena->values = v;
    arena->node_count++;
    return v;
}

void *pickle_arena_alloc(PickleArena *arena, size_t size, Err *err)
{
    if (arena->block_count == arena->block_cap) {
        size_t cap = arena->block_cap ? arena->block_cap * 2 : 64;
        void **blocks = xrealloc_array(arena->blocks, cap, sizeof *blocks, err);
        if (!blocks)
            return NULL;
        arena->blocks = blocks;
        arena->block_cap = cap;
    }
    void *p = xcalloc_array(1, size ? size : 1, err);
    if (!p)
        return NULL;
    arena->blocks[arena->block_count++] = p;
    return p;
}

// Appends one element to a tuple or list node (items are malloc-owned by the node).
static bool push_item(PValue *v, PValue *item, Err *err)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        PValue **items = xrealloc_array(v->items, cap, sizeof *items, err);
        if (!items)
            return false;
        v->items = items;
        v->cap = cap;
    }
    v->items[v->n] = item;
    return true;
}

// Appends the pair (key, value) to a dict node.
static bool dict_add(PValue *dict, PValue *key, PValue *value, Err *err)
{
    if (2 * dict->n + 2 > dict->cap) {
        size_t cap = dict->cap ? dict->cap * 2 : 8;
        PValue **items = xrealloc_array(dict->items, cap, sizeof *items, err);
        if (!items)
            return false;
        dict->items = items;
        dict->cap = cap;
    }
    dict->items[2 * dict->n] = key;
    dict->items[2 * dict->n + 1] = value;
    dict->n++;
    return true;
}

typedef struct Unpickler {
    PickleArena *arena;
    const PickleHooks *hooks;
    const unsigned char *buf;
    size_t n, pos;
    size_t op_pos; // offset of the opcode being executed, for messages
    PValue **stack;
    size_t depth, stack_cap;
    size_t *marks;
    size_t mark_count, mark_cap;
    PValue **memo;
    size_t memo_cap;
    Err *err;
} Unpickler;

static bool fail(Unpickler *u, const char *what)
{
    err_set(u->err, "%s (byte offset %zu)", what, u->op_pos);
    return false;
}

// Adds the opcode's offset to a message set by a hook or an allocator.
static bool fail_here(Unpickler *u)
{
    err_context(u->err, "byte offset %zu", u->op_pos);
    return false;
}

static bool take(Unpickler *u, size_t count, const unsigned char **p)
{
    if (count > u->n - u->pos)
        return fail(u, "truncated pickle");
    *p = u->buf + u->pos;
    u->pos += count;
    return true;
}

static bool read_uint(Unpickler *u, int bytes, uint64_t *out)
{
    const unsigned char *p;
    if (!take(u, (size_t)bytes, &p))
        return false;
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    *out = v;
    return true;
}

static bool push(Unpickler *u, PValue *v)
{
    if (!v)
        return fail_here(u);
    if (u->depth == u->stack_cap) {
        if (u->stack_cap >= PICKLE_MAX_STACK)
            return fail(u, "pickle stack too deep");
        size_t cap = u->stack_cap ? u->stack_cap * 2 : 64;
        PValue **s = xrealloc_array(u->stack, cap, sizeof *s, u->err);
        if (!s)
            return fail_here(u);
        u->stack = s;
        u->stack_cap = cap;
    }
    u->stack[u->depth++] = v;
    return true;
}

// True when at least n values lie above the topmost mark (the part of the
// stack an opcode may consume); otherwise fails with "stack underflow".
static bool have_values(Unpickler *u, size_t n)
{
    size_t floor = u->mark_count ? u->marks[u->mark_count - 1] : 0;
    if (u->depth < floor + n)
        return fail(u, "pickle stack underflow");
    return true;
}

static PValue *pop(Unpickler *u) { return have_values(u, 1) ? u->stack[--u->depth] : NULL; }

static PValue *top(Unpickler *u) { return have_values(u, 1) ? u->stack[u->depth - 1] : NULL; }

// Pops the topmost mark; *first gets the stack index where the marked run begins.
static bool pop_mark(Unpickler *u, size_t *first)
{
    if (!u->mark_count)
        return fail(u, "pickle opcode needs a MARK");
    *first = u->marks[--u->mark_count];
    return true;
}

static PValue *new_value(Unpickler *u, PValueKind kind)
{
    PValue *v = pickle_new_value(u->arena, kind, u->err);
    if (!v)
        fail_here(u);
    return v;
}

static PValue *new_string(Unpickler *u, const unsigned char *p, size_t len, PValueKind kind)
{
    PValue *v = new_value(u, kind);
    if (!v)
        return NULL;
    if (len == SIZE_MAX || !(v->s = pickle_arena_alloc(u->arena, len + 1, u->err))) {
        fail_here(u);
        return NULL;
    }
    memcpy(v->s, p, len);
    v->len = len;
    return v;
}

static bool op_string(Unpickler *u, int len_bytes, bool is_signed)
{
    uint64_t len;
    if (!read_uint(u, len_bytes, &len))
        return false;
    if (is_signed && len_bytes == 4 && (len & 0x80000000u))
        return fail(u, "negative string length");
    const unsigned char *p;
    if (!take(u, (size_t)len, &p))
        return false;
    return push(u, new_string(u, p, (size_t)len, PV_STR));
}

static bool op_long1(Unpickler *u)
{
    uint64_t len;
    const unsigned char *p;
    if (!read_uint(u, 1, &len) || !take(u, (size_t)len, &p))
        return false;
    if (len > 8)
        return push(u, new_string(u, p, (size_t)len, PV_BIGINT));
    PValue *v = new_value(u, PV_INT);
    if (!v)
        return false;
    uint64_t bits = 0;
    for (size_t i = len; i-- > 0;)
        bits = bits << 8 | p[i];
    if (len > 0 && len < 8 && (p[len - 1] & 0x80))
        bits |= ~(uint64_t)0 << (8 * len); // sign-extend
    v->i = (int64_t)bits;
    return push(u, v);
}

static bool op_global(Unpickler *u)
{
    char *parts[2];
    for (int k = 0; k < 2; k++) {
        const unsigned char *start = u->buf + u->pos;
        size_t room = u->n - u->pos;
        const unsigned char *nl = memchr(start, '\n', room < GLOBAL_NAME_MAX ? room : GLOBAL_NAME_MAX);
        if (!nl)
            return fail(u, "GLOBAL name too long or truncated");
        size_t len = (size_t)(nl - start);
        if (!(parts[k] = pickle_arena_alloc(u->arena, len + 1, u->err)))
            return fail_here(u);
        memcpy(parts[k], start, len);
        if (memchr(parts[k], 0, len))
            return fail(u, "NUL byte in a GLOBAL name");
        u->pos += len + 1;
    }
    if (!u->hooks || !u->hooks->global_allowed || !u->hooks->global_allowed(u->hooks->ctx, parts[0], parts[1])) {
        err_set(u->err, "refusing to load %.100s.%.100s: not a known tensor or container type (byte offset %zu)",
                parts[0], parts[1], u->op_pos);
        return false;
    }
    PValue *v = new_value(u, PV_GLOBAL);
    if (!v)
        return false;
    v->module = parts[0];
    v->name = parts[1];
    return push(u, v);
}

// Collects stack[first..depth) into a new tuple or list node and pops them.
static PValue *collect(Unpickler *u, size_t first, PValueKind kind)
{
    PValue *v = new_value(u, kind);
    if (!v)
        return NULL;
    for (size_t i = first; i < u->depth; i++) {
        if (!push_item(v, u->stack[i], u->err)) {
            fail_here(u);
            return NULL;
        }
        v->n++;
    }
    u->depth = first;
    return v;
}

static bool op_tuple_n(Unpickler *u, size_t count)
{
    if (!have_values(u, count))
        return false;
    return push(u, collect(u, u->depth - count, PV_TUPLE));
}

static bool op_appends(Unpickler *u, bool marked)
{
    size_t first;
    if (marked) {
        if (!pop_mark(u, &first))
            return false;
    } else {
        if (!have_values(u, 2))
            return false;
        first = u->depth - 1;
    }
    if (first == 0)
        return fail(u, "APPEND without a list");
    PValue *list = u->stack[first - 1];
    if (list->kind != PV_LIST)
        return fail(u, "APPEND to something that is not a list");
    for (size_t i = first; i < u->depth; i++) {
        if (!push_item(list, u->stack[i], u->err))
            return fail_here(u);
        list->n++;
    }
    u->depth = first;
    return true;
}

// AMBIGUOUS: Python replaces the value of a repeated key; torch.save never
// writes one, so repeated keys are kept and pickle_dict_get returns the first.
static bool op_setitems(Unpickler *u, bool marked)
{
    size_t first;
    if (marked) {
        if (!pop_mark(u, &first))
            return false;
    } else {
        if (!have_values(u, 3))
            return false;
        first = u->depth - 2;
    }
    if ((u->depth - first) % 2)
        return fail(u, "SETITEMS with an odd number of values");
    if (first == 0)
        return fail(u, "SETITEM without a dict");
    PValue *dict = u->stack[first - 1];
    if (dict->kind != PV_DICT)
        return fail(u, "SETITEM on something that is not a dict");
    for (size_t i = first; i < u->depth; i += 2)
        if (!dict_add(dict, u->stack[i], u->stack[i + 1], u->err))
            return fail_here(u);
    u->depth = first;
    return true;
}

static bool op_reduce(Unpickler *u)
{
    PValue *args = pop(u);
    if (!args)
        return false;
    PValue *callable = pop(u);
    if (!callable)
        return false;
    if (callable->kind != PV_GLOBAL || args->kind != PV_TUPLE)
        return fail(u, "REDUCE needs a GLOBAL and an argument tuple");
    if (!u->hooks || !u->hooks->reduce)
        return fail(u, "REDUCE is not allowed here");
    PValue *v = u->hooks->reduce(u->hooks->ctx, u->arena, callable, args, u->err);
    if (!v)
        return fail_here(u);
    return push(u, v);
}

static bool op_binpersid(Unpickler *u)
{
    PValue *pid = pop(u);
    if (!pid)
        return false;
    if (!u->hooks || !u->hooks->persistent_load)
        return fail(u, "persistent id without a loader");
    PValue *v = u->hooks->persistent_load(u->hooks->ctx, u->arena, pid, u->err);
    if (!v)
        return fail_here(u);
    return push(u, v);
}

static bool memo_put(Unpickler *u, uint64_t index)
{
    if (index >= PICKLE_MAX_MEMO)
        return fail(u, "memo index too large");
    PValue *v = top(u);
    if (!v)
        return false;
    if (index >= u->memo_cap) {
        size_t cap = u->memo_cap ? u->memo_cap : 64;
        while (cap <= index)
            cap *= 2;
        PValue **m = xrealloc_array(u->memo, cap, sizeof *m, u->err);
        if (!m)
            return fail_here(u);
        memset(m + u->memo_cap, 0, (cap - u->memo_cap) * sizeof *m);
        u->memo = m;
        u->memo_cap = cap;
    }
    u->memo[index] = v;
    return true;
}

static bool memo_get(Unpickler *u, uint64_t index)
{
    if (index >= u->memo_cap || !u->memo[index])
        return fail(u, "memo index not defined");
    return push(u, u->memo[index]);
}

static double read_be_double(const unsigned char *p)
{
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++)
        bits = bits << 8 | p[i];
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

// Executes one opcode; *stop is set by STOP.
static bool step(Unpickler *u, bool *stop)
{
    const unsigned char *p;
    uint64_t x;
    PValue *v;
    size_t first;
    u->op_pos = u->pos;
    if (!take(u, 1, &p))
        return false;
    switch (*p) {
    case 0x80: // PROTO
        if (!read_uint(u, 1, &x))
            return false;
        if (x > 4)
            return fail(u, "unsupported pickle protocol");
        return true;
    case '.': // STOP
        *stop = true;
        return true;
    case '(': // MARK
        if (u->mark_count == u->mark_cap) {
            if (u->mark_cap >= PICKLE_MAX_MARKS)
                return fail(u, "too many nested MARKs");
            size_t cap = u->mark_cap ? u->mark_cap * 2 : 16;
            size_t *m = xrealloc_array(u->marks, cap, sizeof *m, u->err);
            if (!m)
                return fail_here(u);
            u->marks = m;
            u->mark_cap = cap;
        }
        u->marks[u->mark_count++] = u->depth;
        return true;
    case '0': // POP
        return pop(u) != NULL;
    case '1': // POP_MARK
        if (!pop_mark(u, &first))
            return false;
        u->depth = first;
        return true;
    case '2': // DUP
        return (v = top(u)) && push(u, v);
    case 'N':
        return push(u, new_value(u, PV_NONE));
    case 0x88: // NEWTRUE
    case 0x89: // NEWFALSE
        if (!(v = new_value(u, PV_BOOL)))
            return false;
        v->i = *p == 0x88;
        return push(u, v);
    case 'J': // BININT
    case 'K': // BININT1
    case 'M': // BININT2
        if (!read_uint(u, *p == 'J' ? 4 : *p == 'K' ? 1 : 2, &x) || !(v = new_value(u, PV_INT)))
            return false;
        v->i = *p == 'J' ? (int64_t)(int32_t)(uint32_t)x : (int64_t)x;
        return push(u, v);
    case 0x8a: // LONG1
        return op_long1(u);
    case 'G': // BINFLOAT
        if (!take(u, 8, &p) || !(v = new_value(u, PV_FLOAT)))
            return false;
        v->f = read_be_double(p);
        return push(u, v);
    case 'X': // BINUNICODE
        return op_string(u, 4, false);
    case 0x8c: // SHORT_BINUNICODE
        return op_string(u, 1, false);
    case 'T': // BINSTRING
        return op_string(u, 4, true);
    case 'U': // SHORT_BINSTRING
        return op_string(u, 1, false);
    case 'B': // BINBYTES
        return op_string(u, 4, false);
    case 'C': // SHORT_BINBYTES
        return op_string(u, 1, false);
    case ']': // EMPTY_LIST
        return push(u, new_value(u, PV_LIST));
    case ')': // EMPTY_TUPLE
        return push(u, new_value(u, PV_TUPLE));
    case '}': // EMPTY_DICT
        return push(u, new_value(u, PV_DICT));
    case 't': // TUPLE
        return pop_mark(u, &first) && push(u, collect(u, first, PV_TUPLE));
    case 'l': // LIST
        return pop_mark(u, &first) && push(u, collect(u, first, PV_LIST));
    case 0x85: // TUPLE1
    case 0x86: // TUPLE2
    case 0x87: // TUPLE3
        return op_tuple_n(u, (size_t)(*p - 0x84));
    case 'a':
        return op_appends(u, false);
    case 'e':
        return op_appends(u, true);
    case 's':
        return op_setitems(u, false);
    case 'u':
        return op_setitems(u, true);
    case 'c':
        return op_global(u);
    case 'R':
    case 0x81: // NEWOBJ: cls.__new__(cls, *args), handled like a call of cls
        return op_reduce(u);
    case 'b': // BUILD: object state (attributes such as a state dict's _metadata) is not modelled
        return pop(u) && top(u);
    case 'Q':
        return op_binpersid(u);
    case 'h': // BINGET
    case 'j': // LONG_BINGET
        return read_uint(u, *p == 'h' ? 1 : 4, &x) && memo_get(u, x);
    case 'q': // BINPUT
    case 'r': // LONG_BINPUT
        return read_uint(u, *p == 'q' ? 1 : 4, &x) && memo_put(u, x);
    default:
        err_set(u->err, "unsupported pickle opcode 0x%02x (byte offset %zu)", *p, u->op_pos);
        return false;
    }
}

const PValue *pickle_load(PickleArena *arena, const void *buf, size_t n, size_t *pos, const PickleHooks *hooks,
                          Err *err)
{
    if (*pos > n) {
        err_set(err, "pickle starts past the end of the data (byte offset %zu)", *pos);
        return NULL;
    }
    Unpickler u = {.arena = arena, .hooks = hooks, .buf = buf, .n = n, .pos = *pos, .err = err};
    const PValue *result = NULL;
    bool stop = false;
    while (!stop)
        if (!step(&u, &stop))
            goto done;
    if (u.mark_count || u.depth != 1) {
        fail(&u, "pickle ends with a malformed stack");
        goto done;
    }
    result = u.stack[0];
    *pos = u.pos;
done:
    free(u.stack);
    free(u.marks);
    free(u.memo);
    return result;
}

const PValue *pickle_dict_get(const PValue *dict, const char *key)
{
    if (!dict || dict->kind != PV_DICT)
        return NULL;
    for (size_t i = 0; i < dict->n; i++)
        if (pickle_is_str(dict->items[2 * i], key))
            return dict->items[2 * i + 1];
    return NULL;
}

bool pickle_is_str(const PValue *v, const char *s)
{
    return v && v->kind == PV_STR && v->len == strlen(s) && memcmp(v->s, s, v->len) == 0;
}
