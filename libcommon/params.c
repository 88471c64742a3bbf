/* SPDX-License-Identifier: Apache-2.0 */
/* params: one block of parameter values (and one of gradients) with named views. */
#include "params.h"

#include <stdlib.h>
#include <string.h>

// Views start on 16-float (64-byte) boundaries so kernels see aligned rows.
#define ALIGN_FLOATS 16

typedef struct ParamInfo {
    char *name;
    int ndim;
    int64_t shape[TENSOR_MAX_DIMS];
    int64_t offset; /* floats from the block start */
    int64_t numel;
} ParamInfo;

struct Params {
    const NNBackend *be;
    bool trainable;
    ParamInfo *info;  /* count entries */
    NNVar *vars;      /* count entries, after alloc */
    int count, cap;
    int64_t floats;   /* block size */
    float *values, *grads;
    bool allocated;
};

// Values versions: one counter for the process, so a (values pointer,
// version) pair never names two different contents, even across sets.
static uint64_t version_counter;

static void renew_version(Params *p, int i)
{
    if (p->vars)
        p->vars[i].version = __atomic_add_fetch(&version_counter, 1, __ATOMIC_RELAXED);
}

Params *params_new(const NNBackend *be, bool trainable, Err *err)
{
    Params *p = xcalloc_array(1, sizeof *p, err);
    if (p) {
        p->be = be;
        p->trainable = trainable;
    }
    return p;
}

void params_free(Params *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->count; i++)
        free(p->info[i].name);
    free(p->info);
    free(p->vars);
    p->be->free(p->values);
    p->be->free(p->grads);
    free(p);
}

int params_add(Params *p, const char *name, int ndim, const int64_t *shape, Err *err)
{
    if (p->allocated)
        return err_set(err, "parameter %s declared after allocation", name), -1;
    if (ndim < 0 || ndim > TENSOR_MAX_DIMS)
        return err_set(err, "parameter %s: %d dimensions", name, ndim), -1;
    for (int d = 0; d < ndim; d++)
        if (shape[d] <= 0)
            return err_set(err, "parameter %s: dimension %d is %lld", name, d, (long long)shape[d]), -1;
    if (strchr(name, '\n') || !*name)
        return err_set(err, "parameter name '%s' is empty or has a newline", name), -1;
    if (params_find(p, name) >= 0)
        return err_set(err, "parameter %s declared twice", name), -1;
    if (p->count == p->cap) {
        int cap = p->cap ? 2 * p->cap : 16;
        ParamInfo *n = xrealloc_array(p->info, (size_t)cap, sizeof *n, err);
        if (!n)
            return -1;
        p->info = n;
        p->cap = cap;
    }
    ParamInfo *pi = &p->info[p->count];
    memset(pi, 0, sizeof *pi);
    if (!(pi->name = xstrdup(name, err)))
        return -1;
    pi->ndim = ndim;
    for (int d = 0; d < TENSOR_MAX_DIMS; d++)
        pi->shape[d] = d < ndim ? shape[d] : 1;
    pi->numel = tensor_shape_numel(ndim, shape);
    pi->offset = p->floats;
    p->floats += (pi->numel + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
    return p->count++;
}

bool params_alloc(Params *p, Err *err)
{
    if (p->allocated)
        return err_set(err, "parameters allocated twice");
    const size_t bytes = (size_t)(p->floats ? p->floats : ALIGN_FLOATS) * sizeof(float);
    p->values = p->be->alloc(bytes);
    p->grads = p->trainable ? p->be->alloc(bytes) : NULL;
    p->vars = xcalloc_array((size_t)(p->count ? p->count : 1), sizeof *p->vars, err);
    if (!p->values || (p->trainable && !p->grads) || !p->vars)
        return err_set(err, "out of memory allocating %zu bytes of parameters", bytes);
    p->be->zero(p->values, (int64_t)(bytes / sizeof(float)));
    if (p->grads)
        p->be->zero(p->grads, (int64_t)(bytes / sizeof(float)));
    for (int i = 0; i < p->count; i++) {
        const ParamInfo *pi = &p->info[i];
        NNVar *v = &p->vars[i];
        tensor_init(&v->value, p->be->device, pi->ndim, pi->shape, p->values + pi->offset);
        v->grad = p->grads ? p->grads + pi->offset : NULL;
        v->id = -1;
        v->is_param = true;
        v->requires_grad = p->trainable;
        renew_version(p, i);
    }
    p->allocated = true;
    return true;
}

int params_count(const Params *p)
{
    return p->count;
}

int64_t params_block_floats(const Params *p)
{
    return p->floats;
}

int64_t params_elements(const Params *p)
{
    int64_t n = 0;
    for (int i = 0; i < p->count; i++)
        n += p->info[i].numel;
    return n;
}

int params_find(const Params *p, const char *name)
{
    for (int i = 0; i < p->count; i++)
        if (!strcmp(p->info[i].name, name))
            return i;
    return -1;
}

const char *params_name(const Params *p, int i)
{
    return p->info[i].name;
}

NNVar *params_var(Params *p, int i)
{
    return p->allocated && i >= 0 && i < p->count ? &p->vars[i] : NULL;
}

// A writable pointer may change the values: a new version, so that no
// cache keeps the old ones.
float *params_data(Params *p, int i)
{
    renew_version(p, i);
    return p->values + p->info[i].offset;
}

float *params_grad(Params *p, int i)
{
    return p->grads ? p->grads + p->info[i].offset : NULL;
}

float *params_values(Params *p)
{
    for (int i = 0; i < p->count && p->allocated; i++)
        renew_version(p, i);
    return p->values;
}

float *params_grads(Params *p)
{
    return p->grads;
}

const NNBackend *params_backend(const Params *p)
{
    return p->be;
}

void params_zero_grad(Params *p)
{
    if (p->grads)
        p->be->zero(p->grads, p->floats);
}

void params_scale_grad(Params *p, float s)
{
    if (p->grads)
        p->be->scale_acc(p->grads, s, p->grads, p->floats, false);
}

void params_upload(Params *p, int i, const float *host)
{
    p->be->upload(params_data(p, i), host, p->info[i].numel);
}

void params_download(const Params *p, int i, float *host)
{
    p->be->download(host, p->values + p->info[i].offset, p->info[i].numel);
}

bool params_save(const Params *p, TStreamWriter *w, Err *err)
{
    TRecord meta;
    trecord_init(&meta);
    bool ok = true;
    float *host = NULL;
    for (int i = 0; i < p->count && ok; i++) {
        const ParamInfo *pi = &p->info[i];
        // Device data is copied to the host first; on the CPU this is a memcpy.
        float *tmp = xrealloc_array(host, (size_t)(pi->numel ? pi->numel : 1), sizeof *host, err);
        ok = tmp != NULL;
        if (!ok)
            break;
        host = tmp;
        params_download(p, i, host);
        trecord_meta_clear(&meta);
        ok = trecord_meta_set(&meta, "name", pi->name, err) &&
             tstream_write_parts(w, TDTYPE_F32, pi->ndim, pi->shape, host, &meta, err);
    }
    free(host);
    trecord_fini(&meta);
    return ok;
}

int params_load_record(Params *p, const TRecord *rec, Err *err)
{
    const char *name = trecord_meta_get(rec, "name");
    int i = name ? params_find(p, name) : -1;
    if (i < 0)
        return 0;
    const ParamInfo *pi = &p->info[i];
    bool same = rec->dtype == TDTYPE_F32 && rec->ndim == pi->ndim;
    for (int d = 0; same && d < pi->ndim; d++)
        same = rec->dims[d] == pi->shape[d];
    if (!same) {
        Tensor want, have;
        char a[80], b[80];
        tensor_init(&want, TENSOR_CPU, pi->ndim, pi->shape, NULL);
        tensor_init(&have, TENSOR_CPU, rec->ndim, rec->dims, NULL);
        err_set(err, "%s: %s f32 expected, the file has %s %s", name, tensor_shape_str(&want, a, 80),
                tensor_shape_str(&have, b, 80), tdtype_name(rec->dtype));
        return -1;
    }
    params_upload(p, i, rec->data);
    return 1;
}

bool params_load(Params *p, TStreamReader *r, Err *err)
{
    TRecord rec;
    trecord_init(&rec);
    bool *seen = xcalloc_array((size_t)(p->count ? p->count : 1), 1, err);
    int got = seen ? 1 : -1;
    while (seen && (got = tstream_read(r, &rec, err)) == 1) {
        int k = params_load_record(p, &rec, err);
        if (k < 0) {
            err_prefix(err, "%s:record %lld", tstream_name(r), (long long)tstream_records_read(r));
            got = -1;
            break;
        }
        if (k == 1)
            seen[params_find(p, trecord_meta_get(&rec, "name"))] = true;
    }
    bool ok = got == 0;
    for (int i = 0; ok && i < p->count; i++)
        if (!seen[i])
            ok = err_set(err, "%s: parameter %s is missing", tstream_name(r), p->info[i].name);
    free(seen);
    trecord_fini(&rec);
    return ok;
}
