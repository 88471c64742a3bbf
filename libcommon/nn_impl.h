/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_impl: what the engine's files (nn_graph.c, nn_ops_*.c, nn_loss.c)
 * share and users of nn.h do not see: the graph struct, op definitions and
 * the functions an op uses to make its node and reach gradient buffers.
 *
 * How to add an op: write its forward (validate shapes with nn_impl_fail,
 * make the node with nn_impl_node, call a back-end kernel), a backward that
 * reads v->grad and adds into each input that requires_grad through
 * nn_impl_grad_target, optionally a grad_graph (create_graph support) that
 * expresses the input gradients with other ops; a static NNOpDef ties them.
 * Then a finite-difference check in tests/unit/test_nn_ops.c.
 */
#ifndef ADKIT_NN_IMPL_H
#define ADKIT_NN_IMPL_H

#include "nn.h"
#include "nn_arena.h"

struct NNOpDef {
    const char *name; /* used in messages */
    /* Adds v->grad's contribution into the inputs' gradients. NULL: the op
     * passes no gradient (constants, detached values). */
    void (*backward)(NNGraph *g, NNVar *v);
    /* create_graph: gin[k] = the gradient of input k as a new var, for the
     * inputs with need[k]. NULL: double backward is not supported. */
    void (*grad_graph)(NNGraph *g, NNVar *v, NNVar *gout, const bool *need, NNVar **gin);
};

/* A weight's prepared convolution form (conv.h), kept across steps. */
typedef struct NNPrepared {
    const float *weight; /* the parameter's values */
    uint64_t version;    /* ... at this NNVar version */
    ConvPass pass;
    int64_t C, OC;       /* the channels the form was made for */
    void *data;          /* bytes, device memory */
    size_t bytes;
} NNPrepared;

struct NNGraph {
    const NNBackend *be;
    NNArena *dev;        /* activations and gradients */
    NNArena *host;       /* NNVar structs */
    NNVar **tape;        /* ntape nodes in creation order; capacity kept across steps */
    int64_t ntape, tape_cap;
    bool grad_enabled;
    bool free_grads;     /* release intermediate gradients once used (nn_graph_set_free_grads) */
    Err err;             /* sticky: the first failure of this step */
    void *workspace;     /* shared convolution scratch, workspace_bytes, device */
    size_t workspace_bytes;
    NNPrepared *prepared; /* nprepared entries, one per (weight, pass) */
    int nprepared, prepared_cap;
};

/* Records a failure "op: message" (first one wins); returns NULL. */
NNVar *nn_impl_fail(NNGraph *g, const char *op, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* True when the graph has not failed and every input is non-NULL. */
bool nn_impl_inputs_ok(NNGraph *g, NNVar *const *in, int nin);

/* A new tape node of the given output shape with arena memory for its value
 * (data NULL: allocate; else alias that device memory). Inputs must be
 * non-NULL (checked by nn_impl_inputs_ok). NULL on out-of-memory. */
NNVar *nn_impl_node(NNGraph *g, const NNOpDef *def, int ndim, const int64_t *shape, NNVar *const *in, int nin,
                    float *data);

/* The gradient buffer of v for an op's backward to add into. *acc is false
 * when the buffer is new (assign instead of adding); parameters always
 * accumulate. NULL on out-of-memory (sticky error set). */
float *nn_impl_grad_target(NNGraph *g, NNVar *v, bool *acc);

/* Arena memory on the device for the current step. NULL on failure. */
void *nn_impl_scratch(NNGraph *g, size_t bytes);
/* Gives a scratch block (of bytes, as asked) back for reuse in this step. */
void nn_impl_scratch_release(NNGraph *g, void *p, size_t bytes);

/* The graph's shared convolution scratch, grown to at least bytes. */
void *nn_impl_workspace(NNGraph *g, size_t bytes);

/* The prepared form of weight w for this pass of shape s, made or renewed
 * here when w's values changed; NULL when there is none to use (w is not
 * a frozen parameter, the algorithm prepares nothing, or no memory: the
 * kernels then transform on the fly, with the same results). Frozen
 * parameters only: their values change rarely, so the transform is paid
 * once instead of on every call. */
const void *nn_impl_prepared_weight(NNGraph *g, const NNVar *w, const ConvShape *s, ConvPass pass);

/* Inputs that need a gradient: requires_grad and a backward to run. */
static inline bool nn_impl_needs(const NNVar *v)
{
    return v->requires_grad;
}

/* Ops used to build gradients in create_graph mode (nn_ops_conv.c,
 * nn_ops_eltwise.c): dx = conv2d backward w.r.t. the input, and the leaky
 * ReLU mask applied to a gradient. */
NNVar *nn_impl_conv2d_backward_input(NNGraph *g, NNVar *dout, NNVar *w, const ConvShape *s);
NNVar *nn_impl_lrelu_backward(NNGraph *g, NNVar *dout, NNVar *x, float slope);

#endif
