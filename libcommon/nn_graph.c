/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_graph: the tape, its arenas, leaves, and the two ways of running it
 * backward (nn_backward: gradients into buffers; nn_grad: gradients as new
 * vars, create_graph).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_impl.h"

static void *host_alloc(size_t bytes)
{
    return aligned_alloc(64, (bytes + 63) & ~(size_t)63);
}

NNGraph *nn_graph_new(const NNBackend *be, Err *err)
{
    NNGraph *g = xcalloc_array(1, sizeof *g, err);
    if (!g)
        return NULL;
    g->be = be;
    g->grad_enabled = true;
    g->dev = nn_arena_new(be->alloc, be->free, err);
    g->host = g->dev ? nn_arena_new(host_alloc, free, err) : NULL;
    if (!g->host) {
        nn_graph_free(g);
        return NULL;
    }
    return g;
}

void nn_graph_free(NNGraph *g)
{
    if (!g)
        return;
    nn_arena_free(g->dev);
    nn_arena_free(g->host);
    if (g->workspace)
        g->be->free(g->workspace);
    for (int i = 0; i < g->nprepared; i++)
        g->be->free(g->prepared[i].data);
    free(g->prepared);
    free(g->tape);
    free(g);
}

void nn_graph_reset(NNGraph *g)
{
    nn_arena_reset(g->dev);
    nn_arena_reset(g->host);
    g->ntape = 0;
    err_clear(&g->err);
}

void nn_graph_set_grad(NNGraph *g, bool enabled)
{
    g->grad_enabled = enabled;
}

void nn_graph_set_free_grads(NNGraph *g, bool on)
{
    g->free_grads = on;
}

NNGraphMark nn_graph_mark(const NNGraph *g)
{
    return (NNGraphMark){nn_arena_mark(g->dev), nn_arena_mark(g->host), g->ntape};
}

void nn_graph_rewind(NNGraph *g, NNGraphMark m)
{
    nn_arena_rewind(g->dev, m.dev);
    nn_arena_rewind(g->host, m.host);
    g->ntape = m.ntape;
}

const NNBackend *nn_graph_backend(const NNGraph *g)
{
    return g->be;
}

bool nn_graph_ok(const NNGraph *g, Err *err)
{
    if (!err_is_set(&g->err))
        return true;
    err_set(err, "%s", g->err.msg);
    return false;
}

size_t nn_graph_arena_bytes(const NNGraph *g)
{
    return nn_arena_high_water(g->dev);
}

int64_t nn_graph_tape_length(const NNGraph *g)
{
    return g->ntape;
}

NNVar *nn_impl_fail(NNGraph *g, const char *op, const char *fmt, ...)
{
    if (err_is_set(&g->err))
        return NULL;
    char msg[ERR_MSG_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    err_set(&g->err, "%s: %s", op, msg);
    return NULL;
}

bool nn_impl_inputs_ok(NNGraph *g, NNVar *const *in, int nin)
{
    if (err_is_set(&g->err))
        return false;
    for (int i = 0; i < nin; i++)
        if (!in[i]) {
            // Only reachable when a caller ignored an earlier failure of its own.
            nn_impl_fail(g, "nn", "an input var is NULL");
            return false;
        }
    return true;
}

void *nn_impl_scratch(NNGraph *g, size_t bytes)
{
    if (err_is_set(&g->err))
        return NULL;
    return nn_arena_alloc(g->dev, bytes, &g->err);
}

void nn_impl_scratch_release(NNGraph *g, void *p, size_t bytes)
{
    nn_arena_release(g->dev, p, bytes);
}

void *nn_impl_workspace(NNGraph *g, size_t bytes)
{
    if (bytes <= g->workspace_bytes)
        return g->workspace;
    if (g->workspace)
        g->be->free(g->workspace);
    g->workspace = g->be->alloc(bytes);
    g->workspace_bytes = g->workspace ? bytes : 0;
    if (!g->workspace)
        nn_impl_fail(g, "conv2d", "out of memory allocating %zu bytes of workspace", bytes);
    return g->workspace;
}

const void *nn_impl_prepared_weight(NNGraph *g, const NNVar *w, const ConvShape *s, ConvPass pass)
{
    if (!w->is_param || w->requires_grad || w->version == 0)
        return NULL;
    size_t bytes = g->be->conv_prepared_bytes(s, pass);
    if (bytes == 0)
        return NULL;
    NNPrepared *e = NULL;
    for (int i = 0; i < g->nprepared && !e; i++) {
        NNPrepared *p = &g->prepared[i];
        if (p->weight == w->value.data && p->pass == pass && p->C == s->C && p->OC == s->OC)
            e = p;
    }
    if (e && e->version == w->version && e->bytes == bytes)
        return e->data;
    if (!e) {
        if (g->nprepared == g->prepared_cap) {
            int cap = g->prepared_cap ? 2 * g->prepared_cap : 16;
            NNPrepared *grown = realloc(g->prepared, (size_t)cap * sizeof *grown);
            if (!grown)
                return NULL;
            g->prepared = grown;
            g->prepared_cap = cap;
        }
        e = &g->prepared[g->nprepared++];
        *e = (NNPrepared){.weight = w->value.data, .pass = pass, .C = s->C, .OC = s->OC};
    }
    if (e->bytes != bytes) {
        g->be->free(e->data);
        e->data = g->be->alloc(bytes);
        e->bytes = e->data ? bytes : 0;
        if (!e->data)
            return NULL;
    }
    g->be->conv_weights_prepare(e->data, w->value.data, s, pass);
    e->version = w->version;
    return e->data;
}

static bool tape_push(NNGraph *g, NNVar *v)
{
    if (g->ntape == g->tape_cap) {
        int64_t cap = g->tape_cap ? 2 * g->tape_cap : 256;
        NNVar **t = xrealloc_array(g->tape, (size_t)cap, sizeof *t, &g->err);
        if (!t)
            return false;
        g->tape = t;
        g->tape_cap = cap;
    }
    v->id = g->ntape;
    g->tape[g->ntape++] = v;
    return true;
}

NNVar *nn_impl_node(NNGraph *g, const NNOpDef *def, int ndim, const int64_t *shape, NNVar *const *in, int nin,
                    float *data)
{
    if (err_is_set(&g->err))
        return NULL;
    NNVar *v = nn_arena_alloc(g->host, sizeof *v, &g->err);
    if (!v)
        return NULL;
    memset(v, 0, sizeof *v);
    const int64_t numel = tensor_shape_numel(ndim, shape);
    if (!data) {
        data = nn_arena_alloc(g->dev, (size_t)numel * sizeof(float), &g->err);
        if (!data)
            return NULL;
    }
    tensor_init(&v->value, g->be->device, ndim, shape, data);
    v->op = def;
    v->nin = nin;
    bool rg = false;
    for (int i = 0; i < nin; i++) {
        v->in[i] = in[i];
        rg = rg || in[i]->requires_grad;
    }
    v->requires_grad = g->grad_enabled && rg && def && def->backward;
    if (!tape_push(g, v))
        return NULL;
    return v;
}

float *nn_impl_grad_target(NNGraph *g, NNVar *v, bool *acc)
{
    if (v->is_param) {
        *acc = true;
        return v->grad;
    }
    if (v->grad) {
        *acc = true;
        return v->grad;
    }
    *acc = false;
    v->grad = nn_impl_scratch(g, (size_t)v->value.numel * sizeof(float));
    return v->grad;
}

/* ---- leaves ---- */

NNVar *nn_input(NNGraph *g, int ndim, const int64_t *shape, const float *host_data)
{
    if (ndim < 0 || ndim > TENSOR_MAX_DIMS)
        return nn_impl_fail(g, "input", "%d dimensions (at most %d)", ndim, TENSOR_MAX_DIMS);
    for (int d = 0; d < ndim; d++)
        if (shape[d] <= 0)
            return nn_impl_fail(g, "input", "dimension %d is %lld", d, (long long)shape[d]);
    NNVar *v = nn_impl_node(g, NULL, ndim, shape, NULL, 0, NULL);
    if (!v)
        return NULL;
    if (host_data)
        g->be->upload(v->value.data, host_data, v->value.numel);
    else
        g->be->zero(v->value.data, v->value.numel);
    return v;
}

NNVar *nn_full(NNGraph *g, int ndim, const int64_t *shape, float value)
{
    NNVar *v = nn_input(g, ndim, shape, NULL);
    if (v && value != 0.0f)
        g->be->axpby(v->value.data, 0.0f, v->value.data, value, NULL, v->value.numel);
    return v;
}

void nn_set_requires_grad(NNVar *v, bool on)
{
    if (v)
        v->requires_grad = on;
}

NNVar *nn_detach(NNGraph *g, NNVar *x)
{
    if (!nn_impl_inputs_ok(g, &x, 1))
        return NULL;
    return nn_impl_node(g, NULL, x->value.ndim, x->value.shape, NULL, 0, x->value.data);
}

void nn_var_download(const NNGraph *g, const NNVar *v, float *host)
{
    g->be->download(host, v->value.data, v->value.numel);
}

void nn_var_grad_download(const NNGraph *g, const NNVar *v, float *host)
{
    if (v->grad)
        g->be->download(host, v->grad, v->value.numel);
    else
        memset(host, 0, (size_t)v->value.numel * sizeof *host);
}

/* ---- backward ---- */

static bool run_backward(NNGraph *g, NNVar *out, const float *seed_host, Err *err)
{
    if (!nn_graph_ok(g, err))
        return false;
    if (!out || out->id < 0)
        return err_set(err, "backward: the output is not a var of this step");
    for (int64_t i = 0; i < g->ntape; i++)
        g->tape[i]->grad = NULL;
    if (!out->requires_grad)
        return true; // nothing trainable contributes: every gradient is zero
    bool acc;
    float *seed = nn_impl_grad_target(g, out, &acc);
    if (!seed)
        return nn_graph_ok(g, err);
    const float one = 1.0f;
    g->be->upload(seed, seed_host ? seed_host : &one, seed_host ? out->value.numel : 1);
    for (int64_t i = out->id; i >= 0; i--) {
        NNVar *v = g->tape[i];
        if (v->grad && v->requires_grad && v->op && v->op->backward) {
            v->op->backward(g, v);
            if (g->free_grads && !v->is_param) {
                nn_arena_release(g->dev, v->grad, (size_t)v->value.numel * sizeof(float));
                v->grad = NULL;
            }
        }
        if (err_is_set(&g->err))
            break;
    }
    return nn_graph_ok(g, err);
}

bool nn_backward(NNGraph *g, NNVar *loss, Err *err)
{
    if (loss && loss->value.numel != 1)
        return err_set(err, "backward: the loss has %lld elements, not 1", (long long)loss->value.numel);
    return run_backward(g, loss, NULL, err);
}

bool nn_backward_seeded(NNGraph *g, NNVar *out, const float *seed_host, Err *err)
{
    return run_backward(g, out, seed_host, err);
}

bool nn_grad(NNGraph *g, NNVar *out, NNVar *const *wrt, int nwrt, NNVar **grads, Err *err)
{
    if (!nn_graph_ok(g, err))
        return false;
    if (!out || out->id < 0)
        return err_set(err, "grad: the output is not a var of this step");
    const int64_t n = out->id + 1;
    NNVar **gv = nn_impl_scratch(g, (size_t)n * sizeof *gv);
    bool *dep = nn_impl_scratch(g, (size_t)n);
    if (!gv || !dep)
        return nn_graph_ok(g, err);
    memset(gv, 0, (size_t)n * sizeof *gv);
    memset(dep, 0, (size_t)n);
    for (int w = 0; w < nwrt; w++) {
        if (!wrt[w] || wrt[w]->id < 0 || wrt[w]->id >= g->ntape || g->tape[wrt[w]->id] != wrt[w])
            return err_set(err, "grad: wrt[%d] is not a var of this step", w);
        if (wrt[w]->id < n)
            dep[wrt[w]->id] = true;
    }
    // Which nodes depend on a wrt: only their gradients are built.
    for (int64_t i = 0; i < n; i++) {
        NNVar *v = g->tape[i];
        for (int k = 0; k < v->nin && !dep[i]; k++)
            dep[i] = v->in[k]->id >= 0 && dep[v->in[k]->id];
    }
    gv[out->id] = nn_full(g, out->value.ndim, out->value.shape, 1.0f);
    for (int64_t i = out->id; i >= 0 && err_is_set(&g->err) == false; i--) {
        NNVar *v = g->tape[i];
        if (!gv[i] || !dep[i] || !v->op)
            continue;
        if (!v->op->grad_graph)
            return err_set(err, "grad: %s does not support create_graph (double backward)", v->op->name);
        bool need[NN_MAX_INPUTS] = {false};
        NNVar *gin[NN_MAX_INPUTS] = {NULL};
        for (int k = 0; k < v->nin; k++)
            need[k] = v->in[k]->id >= 0 && dep[v->in[k]->id];
        v->op->grad_graph(g, v, gv[i], need, gin);
        for (int k = 0; k < v->nin; k++) {
            if (!need[k] || !gin[k])
                continue;
            int64_t j = v->in[k]->id;
            gv[j] = gv[j] ? nn_add(g, gv[j], gin[k]) : gin[k];
        }
    }
    for (int w = 0; w < nwrt; w++) {
        NNVar *gw = wrt[w]->id < n ? gv[wrt[w]->id] : NULL;
        grads[w] = gw ? gw : nn_full(g, wrt[w]->value.ndim, wrt[w]->value.shape, 0.0f);
    }
    return nn_graph_ok(g, err);
}
