/* SPDX-License-Identifier: Apache-2.0 */
/* torchload: PyTorch checkpoints (legacy and zip) to named float32 arrays (see torchload.h). */
#include "torchload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "pickle.h"

// Most storages one checkpoint may reference (torchvision's VGG-19 has 32).
#define MAX_STORAGES 65536
// Deepest nesting of dicts, lists and tuples that is flattened.
#define MAX_NESTING 32
#define MAX_NAME_BYTES 1024

enum { TAG_STORAGE = 1, TAG_TENSOR = 2 };

typedef enum ScalarType { SCALAR_F32, SCALAR_F64, SCALAR_F16, SCALAR_BF16, SCALAR_INTEGER } ScalarType;

static const struct {
    const char *name; // torch.<name>
    ScalarType type;
    size_t elem_bytes;
} STORAGE_TYPES[] = {
    {"FloatStorage", SCALAR_F32, 4},     {"DoubleStorage", SCALAR_F64, 8},  {"HalfStorage", SCALAR_F16, 2},
    {"BFloat16Storage", SCALAR_BF16, 2}, {"LongStorage", SCALAR_INTEGER, 8}, {"IntStorage", SCALAR_INTEGER, 4},
    {"ShortStorage", SCALAR_INTEGER, 2}, {"CharStorage", SCALAR_INTEGER, 1}, {"ByteStorage", SCALAR_INTEGER, 1},
    {"BoolStorage", SCALAR_INTEGER, 1},
};
#define STORAGE_TYPE_COUNT (sizeof STORAGE_TYPES / sizeof STORAGE_TYPES[0])

// One storage: a flat run of elements that tensors view.
typedef struct Storage {
    const char *key;           // the checkpoint's key for it (arena-owned)
    ScalarType type;
    size_t elem_bytes;
    uint64_t numel;            // elements, from the persistent id
    const unsigned char *data; // numel * elem_bytes bytes once resolved, else NULL
    unsigned char *owned;      // data when it was copied out of a zip archive
    struct Storage *root;      // legacy views: the storage holding the bytes, else NULL
    uint64_t view_offset;      // legacy views: first element inside root
} Storage;

typedef struct TensorRef {
    Storage *storage;
    int64_t offset; // elements into the storage
    int ndim;
    int64_t size[TORCHLOAD_MAX_DIMS];
    int64_t stride[TORCHLOAD_MAX_DIMS];
} TensorRef;

typedef struct Loader {
    PickleArena *arena;
    PValue **storages; // opaque nodes holding Storage payloads
    size_t storage_count, storage_cap;
    bool zip_format;
} Loader;

static bool global_allowed(void *ctx, const char *module, const char *name)
{
    (void)ctx;
    if (!strcmp(module, "collections"))
        return !strcmp(name, "OrderedDict");
    if (!strcmp(module, "torch._utils"))
        return !strcmp(name, "_rebuild_tensor_v2") || !strcmp(name, "_rebuild_tensor") ||
               !strcmp(name, "_rebuild_parameter") || !strcmp(name, "_rebuild_parameter_with_state");
    if (!strcmp(module, "torch"))
        for (size_t i = 0; i < STORAGE_TYPE_COUNT; i++)
            if (!strcmp(name, STORAGE_TYPES[i].name))
                return true;
    return false;
}

static bool int_value(const PValue *v, int64_t *out)
{
    if (!v || v->kind != PV_INT)
        return false;
    *out = v->i;
    return true;
}

// A tuple of at most TORCHLOAD_MAX_DIMS non-negative ints.
static bool dims_value(const PValue *v, int64_t *out, int *count, const char *what, Err *err)
{
    if (!v || v->kind != PV_TUPLE)
        return err_set(err, "tensor %s is not a tuple", what);
    if (v->n > TORCHLOAD_MAX_DIMS)
        return err_set(err, "tensor has %zu dimensions, more than %d", v->n, TORCHLOAD_MAX_DIMS);
    for (size_t i = 0; i < v->n; i++)
        if (!int_value(v->items[i], &out[i]) || out[i] < 0)
            return err_set(err, "tensor %s[%zu] is not a non-negative integer", what, i);
    *count = (int)v->n;
    return true;
}

static PValue *rebuild_tensor(PickleArena *arena, const PValue *args, Err *err)
{
    if (args->n < 4)
        return err_set(err, "_rebuild_tensor needs 4 arguments, got %zu", args->n), NULL;
    const PValue *st = args->items[0];
    if (st->kind != PV_OPAQUE || st->tag != TAG_STORAGE)
        return err_set(err, "tensor without a storage"), NULL;
    TensorRef t = {.storage = st->payload};
    int stride_count;
    if (!int_value(args->items[1], &t.offset) || t.offset < 0)
        return err_set(err, "tensor storage offset is not a non-negative integer"), NULL;
    if (!dims_value(args->items[2], t.size, &t.ndim, "size", err) ||
        !dims_value(args->items[3], t.stride, &stride_count, "stride", err))
        return NULL;
    if (stride_count != t.ndim)
        return err_set(err, "tensor has %d sizes but %d strides", t.ndim, stride_count), NULL;
    PValue *v = pickle_new_value(arena, PV_OPAQUE, err);
    TensorRef *payload = v ? pickle_arena_alloc(arena, sizeof t, err) : NULL;
    if (!payload)
        return NULL;
    *payload = t;
    v->tag = TAG_TENSOR;
    v->payload = payload;
    return v;
}

static PValue *reduce(void *ctx, PickleArena *arena, const PValue *callable, const PValue *args, Err *err)
{
    (void)ctx;
    const char *name = callable->name;
    if (!strcmp(callable->module, "collections")) // OrderedDict(): items follow through SETITEMS
        return args->n ? (err_set(err, "OrderedDict with constructor arguments"), NULL)
                       : pickle_new_value(arena, PV_DICT, err);
    if (!strcmp(name, "_rebuild_tensor_v2") || !strcmp(name, "_rebuild_tensor"))
        return rebuild_tensor(arena, args, err);
    if (!strcmp(name, "_rebuild_parameter") || !strcmp(name, "_rebuild_parameter_with_state")) {
        // A Parameter is its data tensor; requires_grad and hooks do not matter here.
        if (args->n < 1 || args->items[0]->kind != PV_OPAQUE || args->items[0]->tag != TAG_TENSOR)
            return err_set(err, "%s without a tensor", name), NULL;
        return args->items[0];
    }
    return err_set(err, "%s.%s cannot be called", callable->module, name), NULL;
}

// The storage node with this key, or NULL. A linear scan: checkpoints hold
// tens to hundreds of storages and MAX_STORAGES bounds hostile files.
static PValue *storage_node(const Loader *ld, const char *key)
{
    for (size_t i = 0; i < ld->storage_count; i++)
        if (!strcmp(((Storage *)ld->storages[i]->payload)->key, key))
            return ld->storages[i];
    return NULL;
}

// Records a new storage node; the caller fills the payload.
static PValue *add_storage(Loader *ld, Err *err)
{
    if (ld->storage_count >= MAX_STORAGES)
        return err_set(err, "more than %d storages", MAX_STORAGES), NULL;
    if (ld->storage_count == ld->storage_cap) {
        size_t cap = ld->storage_cap ? ld->storage_cap * 2 : 16;
        PValue **s = xrealloc_array(ld->storages, cap, sizeof *s, err);
        if (!s)
            return NULL;
        ld->storages = s;
        ld->storage_cap = cap;
    }
    PValue *v = pickle_new_value(ld->arena, PV_OPAQUE, err);
    Storage *s = v ? pickle_arena_alloc(ld->arena, sizeof *s, err) : NULL;
    if (!s)
        return NULL;
    v->tag = TAG_STORAGE;
    v->payload = s;
    ld->storages[ld->storage_count++] = v;
    return v;
}

// ('storage', storage_type, key, location, numel[, view_metadata]).
static PValue *persistent_load(void *ctx, PickleArena *arena, const PValue *pid, Err *err)
{
    (void)arena;
    Loader *ld = ctx;
    if (pid->kind != PV_TUPLE || pid->n < 5 || !pickle_is_str(pid->items[0], "storage"))
        return err_set(err, "persistent id is not a storage reference"), NULL;
    const PValue *type = pid->items[1], *key = pid->items[2];
    int64_t numel;
    if (type->kind != PV_GLOBAL || strcmp(type->module, "torch"))
        return err_set(err, "storage type is not a torch storage class"), NULL;
    if (key->kind != PV_STR || !int_value(pid->items[4], &numel) || numel < 0)
        return err_set(err, "storage reference without a key or element count"), NULL;
    size_t t = 0;
    while (t < STORAGE_TYPE_COUNT && strcmp(type->name, STORAGE_TYPES[t].name))
        t++;
    if (t == STORAGE_TYPE_COUNT)
        return err_set(err, "unknown storage type torch.%.100s", type->name), NULL;
    if ((uint64_t)numel > TORCHLOAD_MAX_BYTES / STORAGE_TYPES[t].elem_bytes)
        return err_set(err, "storage %.100s of %lld elements is larger than %zu bytes", key->s, (long long)numel,
                       TORCHLOAD_MAX_BYTES), NULL;
    PValue *node = storage_node(ld, key->s);
    if (node) {
        Storage *s = node->payload;
        if (s->type != STORAGE_TYPES[t].type || s->elem_bytes != STORAGE_TYPES[t].elem_bytes ||
            s->numel != (uint64_t)numel)
            return err_set(err, "storage %.100s is referenced with two different types or sizes", key->s), NULL;
    } else {
        if (!(node = add_storage(ld, err)))
            return NULL;
        Storage *s = node->payload;
        s->key = key->s;
        s->type = STORAGE_TYPES[t].type;
        s->elem_bytes = STORAGE_TYPES[t].elem_bytes;
        s->numel = (uint64_t)numel;
    }
    const PValue *view = pid->n > 5 ? pid->items[5] : NULL;
    if (!view || view->kind == PV_NONE || ld->zip_format)
        return node;
    // Legacy view: (view_key, offset, view_size) inside the root storage just found.
    int64_t off, size;
    if (view->kind != PV_TUPLE || view->n != 3 || view->items[0]->kind != PV_STR ||
        !int_value(view->items[1], &off) || !int_value(view->items[2], &size) || off < 0 || size < 0 ||
        (uint64_t)off > (uint64_t)numel || (uint64_t)size > (uint64_t)numel - (uint64_t)off)
        return err_set(err, "malformed storage view of %.100s", key->s), NULL;
    const char *view_key = view->items[0]->s;
    PValue *vnode = storage_node(ld, view_key);
    if (vnode)
        return vnode;
    if (!(vnode = add_storage(ld, err)))
        return NULL;
    Storage *v = vnode->payload, *root = node->payload;
    *v = (Storage){.key = view_key, .type = root->type, .elem_bytes = root->elem_bytes, .numel = (uint64_t)size,
                   .root = root, .view_offset = (uint64_t)off};
    return vnode;
}

// ---- conversion to float32 ----

static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | mant << 13; // inf, nan
    } else if (exp) {
        bits = sign | (exp + 112) << 23 | mant << 13;
    } else if (mant) { // subnormal: normalise
        int e = -1;
        do {
            e++;
            mant <<= 1;
        } while (!(mant & 0x400));
        bits = sign | (uint32_t)(112 - e) << 23 | (mant & 0x3ff) << 13;
    } else {
        bits = sign;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static float element_as_float(const Storage *s, const unsigned char *p)
{
    switch (s->type) {
    case SCALAR_F32: {
        float f;
        memcpy(&f, p, 4);
        return f;
    }
    case SCALAR_F64: {
        double d;
        memcpy(&d, p, 8);
        return (float)d;
    }
    case SCALAR_F16:
        return half_to_float((uint16_t)(p[0] | p[1] << 8));
    case SCALAR_BF16: {
        uint32_t bits = (uint32_t)(p[0] | p[1] << 8) << 16;
        float f;
        memcpy(&f, &bits, sizeof f);
        return f;
    }
    case SCALAR_INTEGER:
        break;
    }
    return 0.0f;
}

// Copies a (possibly strided) tensor into a new contiguous float array.
static bool copy_tensor(const TensorRef *t, const char *name, NamedArray *out, Err *err)
{
    const Storage *s = t->storage;
    uint64_t first = (uint64_t)t->offset, numel = 1, last = (uint64_t)t->offset;
    for (int k = 0; k < t->ndim; k++) {
        uint64_t reach;
        if (__builtin_mul_overflow((uint64_t)t->size[k], numel, &numel) || numel > TORCHLOAD_MAX_BYTES / 4)
            return err_set(err, "tensor %.200s is larger than %zu bytes", name, TORCHLOAD_MAX_BYTES);
        if (t->size[k] > 0 &&
            (__builtin_mul_overflow((uint64_t)(t->size[k] - 1), (uint64_t)t->stride[k], &reach) ||
             __builtin_add_overflow(last, reach, &last)))
            return err_set(err, "tensor %.200s: stride overflows", name);
    }
    if (numel && (last >= s->numel || first > last))
        return err_set(err, "tensor %.200s reaches element %llu of a storage of %llu", name,
                       (unsigned long long)last, (unsigned long long)s->numel);
    float *data = xmalloc_array(numel ? numel : 1, sizeof(float), err);
    if (!data)
        return false;
    if (numel == 0)
        goto done;
    const unsigned char *base = s->data + (size_t)t->offset * s->elem_bytes;
    bool contiguous = true;
    int64_t expect = 1;
    for (int k = t->ndim - 1; k >= 0; k--) {
        if (t->size[k] != 1 && t->stride[k] != expect)
            contiguous = false;
        expect *= t->size[k];
    }
    if (contiguous && s->type == SCALAR_F32) {
        memcpy(data, base, numel * sizeof(float));
    } else if (contiguous) {
        for (uint64_t i = 0; i < numel; i++)
            data[i] = element_as_float(s, base + i * s->elem_bytes);
    } else {
        int64_t idx[TORCHLOAD_MAX_DIMS] = {0};
        uint64_t at = 0; // element offset from base
        for (uint64_t i = 0; i < numel; i++) {
            data[i] = element_as_float(s, base + at * s->elem_bytes);
            for (int k = t->ndim - 1; k >= 0; k--) { // odometer over the last dimension first
                at += (uint64_t)t->stride[k];
                if (++idx[k] < t->size[k])
                    break;
                at -= (uint64_t)t->stride[k] * (uint64_t)t->size[k];
                idx[k] = 0;
            }
        }
    }
done:
    out->ndim = t->ndim;
    for (int k = 0; k < t->ndim; k++)
        out->dims[k] = t->size[k];
    out->data = data;
    return true;
}

// ---- flattening ----

typedef struct Flattener {
    NamedArrays result;
    size_t cap;
    char name[MAX_NAME_BYTES];
} Flattener;

static bool emit_tensor(Flattener *f, const TensorRef *t, Err *err)
{
    if (t->storage->type == SCALAR_INTEGER)
        return true; // counters such as num_batches_tracked are not weights
    if (f->result.count == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 32;
        NamedArray *items = xrealloc_array(f->result.items, cap, sizeof *items, err);
        if (!items)
            return false;
        f->result.items = items;
        f->cap = cap;
    }
    NamedArray *a = &f->result.items[f->result.count];
    memset(a, 0, sizeof *a);
    if (!(a->name = xstrdup(f->name, err)))
        return false;
    if (!copy_tensor(t, f->name, a, err)) {
        free(a->name);
        return false;
    }
    f->result.count++;
    return true;
}

static bool flatten(Flattener *f, const PValue *v, size_t name_len, int depth, Err *err);

// Appends ".part" (or "part" at the top) to the name and flattens child.
static bool flatten_child(Flattener *f, const PValue *child, size_t name_len, const char *part, size_t part_len,
                          int depth, Err *err)
{
    size_t dot = name_len ? 1 : 0;
    if (name_len + dot + part_len + 1 > sizeof f->name)
        return err_set(err, "key longer than %d bytes", MAX_NAME_BYTES);
    if (memchr(part, 0, part_len))
        return err_set(err, "key with a NUL byte");
    if (dot)
        f->name[name_len] = '.';
    memcpy(f->name + name_len + dot, part, part_len);
    f->name[name_len + dot + part_len] = 0;
    return flatten(f, child, name_len + dot + part_len, depth + 1, err);
}

static bool flatten(Flattener *f, const PValue *v, size_t name_len, int depth, Err *err)
{
    if (depth > MAX_NESTING)
        return err_set(err, "containers nested deeper than %d", MAX_NESTING);
    char index[24];
    switch (v->kind) {
    case PV_OPAQUE:
        return v->tag == TAG_TENSOR ? emit_tensor(f, v->payload, err) : true;
    case PV_TUPLE:
    case PV_LIST:
        for (size_t i = 0; i < v->n; i++) {
            int len = snprintf(index, sizeof index, "%zu", i);
            if (!flatten_child(f, v->items[i], name_len, index, (size_t)len, depth, err))
                return false;
        }
        return true;
    case PV_DICT:
        for (size_t i = 0; i < v->n; i++) {
            const PValue *key = v->items[2 * i], *value = v->items[2 * i + 1];
            if (key->kind == PV_STR) {
                if (!flatten_child(f, value, name_len, key->s, key->len, depth, err))
                    return false;
            } else if (key->kind == PV_INT) {
                int len = snprintf(index, sizeof index, "%lld", (long long)key->i);
                if (!flatten_child(f, value, name_len, index, (size_t)len, depth, err))
                    return false;
            } // other keys hold no weights we could name
        }
        return true;
    default:
        return true;
    }
}

// ---- containers ----

static bool is_legacy_magic(const PValue *v)
{
    static const unsigned char magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
    return v->kind == PV_BIGINT && v->len == sizeof magic && !memcmp(v->s, magic, sizeof magic);
}

static const PValue *load_legacy(Loader *ld, const unsigned char *buf, size_t n, Err *err)
{
    PickleHooks plain = {0}, hooks = {.ctx = ld, .global_allowed = global_allowed, .reduce = reduce,
                                      .persistent_load = persistent_load};
    size_t pos = 0;
    const PValue *magic = pickle_load(ld->arena, buf, n, &pos, &plain, err);
    if (!magic)
        return NULL;
    if (!is_legacy_magic(magic))
        return err_set(err, "not a PyTorch checkpoint (bad magic number)"), NULL;
    const PValue *protocol = pickle_load(ld->arena, buf, n, &pos, &plain, err);
    if (!protocol)
        return NULL;
    if (protocol->kind != PV_INT || protocol->i != 1001)
        return err_set(err, "unsupported legacy checkpoint protocol (byte offset %zu)", pos), NULL;
    const PValue *sys_info = pickle_load(ld->arena, buf, n, &pos, &plain, err);
    if (!sys_info)
        return NULL;
    const PValue *little = pickle_dict_get(sys_info, "little_endian");
    if (little && (little->kind != PV_BOOL || !little->i))
        return err_set(err, "big-endian checkpoints are not supported"), NULL;
    const PValue *root = pickle_load(ld->arena, buf, n, &pos, &hooks, err);
    if (!root)
        return NULL;
    const PValue *keys = pickle_load(ld->arena, buf, n, &pos, &plain, err);
    if (!keys)
        return NULL;
    if (keys->kind != PV_LIST)
        return err_set(err, "storage key list is not a list (byte offset %zu)", pos), NULL;
    for (size_t i = 0; i < keys->n; i++) {
        const PValue *key = keys->items[i];
        const PValue *node = key->kind == PV_STR ? storage_node(ld, key->s) : NULL;
        Storage *s = node ? node->payload : NULL;
        if (!s || s->root)
            return err_set(err, "storage key %zu names no storage of the checkpoint", i), NULL;
        if (s->data)
            return err_set(err, "storage %.100s is listed twice", s->key), NULL;
        if (n - pos < 8)
            return err_set(err, "truncated storage %.100s (byte offset %zu)", s->key, pos), NULL;
        uint64_t count = 0;
        for (int b = 7; b >= 0; b--)
            count = count << 8 | buf[pos + (size_t)b];
        pos += 8;
        if (count != s->numel)
            return err_set(err, "storage %.100s holds %llu elements, the tensors expect %llu (byte offset %zu)",
                           s->key, (unsigned long long)count, (unsigned long long)s->numel, pos - 8),
                   NULL;
        size_t bytes = (size_t)count * s->elem_bytes; // bounded by TORCHLOAD_MAX_BYTES in persistent_load
        if (bytes > n - pos)
            return err_set(err, "truncated storage %.100s: %zu of %zu bytes (byte offset %zu)", s->key, n - pos,
                           bytes, pos),
                   NULL;
        s->data = buf + pos;
        pos += bytes;
    }
    return root;
}

// Reads one archive member whole; *bytes_out gets its size. The buffer is malloc-owned.
static unsigned char *zip_read_member(zip_t *z, const char *member, size_t max_bytes, size_t *bytes_out, Err *err)
{
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat(z, member, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
        return err_set(err, "archive has no member %.300s", member), NULL;
    if (st.size > max_bytes)
        return err_set(err, "member %.300s has %llu bytes, more than %zu", member, (unsigned long long)st.size,
                       max_bytes),
               NULL;
    zip_file_t *f = zip_fopen(z, member, 0);
    if (!f)
        return err_set(err, "cannot open member %.300s: %s", member, zip_strerror(z)), NULL;
    unsigned char *data = xmalloc_array(st.size ? st.size : 1, 1, err);
    zip_int64_t got = data ? zip_fread(f, data, st.size) : -1;
    if (data && (got < 0 || (zip_uint64_t)got != st.size))
        err_set(err, "cannot read member %.300s: %s", member, got < 0 ? zip_file_strerror(f) : "short read");
    zip_fclose(f);
    if (err_is_set(err)) {
        free(data);
        return NULL;
    }
    *bytes_out = (size_t)st.size;
    return data;
}

static const PValue *load_zip(Loader *ld, zip_t *z, Err *err)
{
    // The pickle is <dir>/data.pkl; <dir> is "archive" or the file's stem.
    char prefix[512] = "";
    zip_int64_t entries = zip_get_num_entries(z, 0);
    for (zip_int64_t i = 0; i < entries; i++) {
        const char *name = zip_get_name(z, (zip_uint64_t)i, 0);
        const char *slash = name ? strchr(name, '/') : NULL;
        if (slash && !strcmp(slash, "/data.pkl") && (size_t)(slash - name) + 1 < sizeof prefix) {
            memcpy(prefix, name, (size_t)(slash - name));
            prefix[slash - name] = 0;
            break;
        }
    }
    if (!prefix[0])
        return err_set(err, "zip archive without <dir>/data.pkl: not a PyTorch checkpoint"), NULL;
    char member[1024];
    snprintf(member, sizeof member, "%s/byteorder", prefix);
    zip_stat_t st;
    if (zip_stat(z, member, 0, &st) == 0) {
        size_t bytes;
        unsigned char *order = zip_read_member(z, member, 16, &bytes, err);
        if (!order)
            return NULL;
        bool little = bytes == 6 && !memcmp(order, "little", 6);
        free(order);
        if (!little)
            return err_set(err, "big-endian checkpoints are not supported"), NULL;
    }
    snprintf(member, sizeof member, "%s/data.pkl", prefix);
    size_t pkl_bytes, pos = 0;
    unsigned char *pkl = zip_read_member(z, member, TORCHLOAD_MAX_BYTES, &pkl_bytes, err);
    if (!pkl)
        return NULL;
    PickleHooks hooks = {.ctx = ld, .global_allowed = global_allowed, .reduce = reduce,
                         .persistent_load = persistent_load};
    const PValue *root = pickle_load(ld->arena, pkl, pkl_bytes, &pos, &hooks, err);
    free(pkl);
    if (!root) {
        err_prefix(err, "data.pkl");
        return NULL;
    }
    for (size_t i = 0; i < ld->storage_count; i++) {
        Storage *s = ld->storages[i]->payload;
        if (strlen(s->key) > 256)
            return err_set(err, "storage key longer than 256 bytes"), NULL;
        snprintf(member, sizeof member, "%s/data/%s", prefix, s->key);
        size_t bytes, want = (size_t)s->numel * s->elem_bytes;
        if (!(s->owned = zip_read_member(z, member, TORCHLOAD_MAX_BYTES, &bytes, err)))
            return NULL;
        if (bytes < want)
            return err_set(err, "member %.300s has %zu bytes, its tensors need %zu", member, bytes, want), NULL;
        s->data = s->owned;
    }
    return root;
}

static void free_storages(Loader *ld)
{
    for (size_t i = 0; i < ld->storage_count; i++)
        free(((Storage *)ld->storages[i]->payload)->owned);
    free(ld->storages);
}

bool torch_load_buffer(const void *buf, size_t n, const char *name, NamedArrays *out, Err *err)
{
    const unsigned char *bytes = buf;
    Loader ld = {0};
    Flattener f = {0};
    zip_t *z = NULL;
    bool ok = false;
    if (!(ld.arena = pickle_arena_new(err)))
        goto done;
    const PValue *root;
    if (n >= 4 && !memcmp(bytes, "PK\x03\x04", 4)) {
        ld.zip_format = true;
        zip_error_t zerr;
        zip_error_init(&zerr);
        zip_source_t *src = zip_source_buffer_create(buf, n, 0, &zerr);
        if (src && !(z = zip_open_from_source(src, ZIP_RDONLY, &zerr)))
            zip_source_free(src);
        if (!z) {
            err_set(err, "bad zip archive: %s", zip_error_strerror(&zerr));
            zip_error_fini(&zerr);
            goto done;
        }
        zip_error_fini(&zerr);
        root = load_zip(&ld, z, err);
    } else {
        root = load_legacy(&ld, bytes, n, err);
    }
    if (!root)
        goto done;
    // Legacy views read their bytes through their root storage.
    for (size_t i = 0; i < ld.storage_count; i++) {
        Storage *s = ld.storages[i]->payload;
        if (s->root)
            s->data = s->root->data ? s->root->data + s->view_offset * s->elem_bytes : NULL;
        if (!s->data && s->numel) {
            err_set(err, "storage %.100s has no data", s->key);
            goto done;
        }
    }
    if (!flatten(&f, root, 0, 0, err))
        goto done;
    named_arrays_fini(out);
    *out = f.result;
    f.result = (NamedArrays){0};
    ok = true;
done:
    named_arrays_fini(&f.result);
    if (z)
        zip_discard(z);
    free_storages(&ld);
    pickle_arena_free(ld.arena);
    if (!ok)
        err_prefix(err, "%s", name);
    return ok;
}

bool torch_load(const char *path, NamedArrays *out, Err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return err_set(err, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return err_set(err, "%s: empty file, not a PyTorch checkpoint", path);
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return err_set(err, "%s: cannot map: %s", path, strerror(errno));
    bool ok = torch_load_buffer(map, (size_t)st.st_size, path, out, err);
    munmap(map, (size_t)st.st_size);
    return ok;
}

const NamedArray *named_arrays_find(const NamedArrays *arrays, const char *name)
{
    for (size_t i = 0; i < arrays->count; i++)
        if (!strcmp(arrays->items[i].name, name))
            return &arrays->items[i];
    return NULL;
}

int64_t named_array_elements(const NamedArray *a)
{
    int64_t n = 1;
    for (int k = 0; k < a->ndim; k++)
        n *= a->dims[k];
    return n;
}

void named_arrays_fini(NamedArrays *arrays)
{
    if (!arrays)
        return;
    for (size_t i = 0; i < arrays->count; i++) {
        free(arrays->items[i].name);
        free(arrays->items[i].data);
    }
    free(arrays->items);
    arrays->items = NULL;
    arrays->count = 0;
}
