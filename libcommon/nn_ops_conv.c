/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_ops_conv: convolution, linear and reshape ops of the engine, with
 * their backward and create_graph (double backward) rules. The kernels are
 * conv.h's, reached through the back-end table.
 *
 * Double backward: with y = conv(x, W), dx = Bi(dy, W) and dW = Bw(dy, x)
 * are bilinear, so the gradient of a loss on dx (given G = d loss/d dx) is
 * d/d dy = conv(G, W) and d/dW = Bw(dy, G): conv2d_backward_input is an op
 * of its own whose backward uses the forward and weight kernels.
 */
#include <string.h>

#include "nn_impl.h"

static void conv_backward(NNGraph *g, NNVar *v);
static void conv_grad_graph(NNGraph *g, NNVar *v, NNVar *gout, const bool *need, NNVar **gin);
static void conv_bi_backward(NNGraph *g, NNVar *v);
static void reshape_backward(NNGraph *g, NNVar *v);
static void reshape_grad_graph(NNGraph *g, NNVar *v, NNVar *gout, const bool *need, NNVar **gin);

static void conv_relu_backward(NNGraph *g, NNVar *v);
static void conv_lrelu_backward(NNGraph *g, NNVar *v);
static void conv_lrelu_grad_graph(NNGraph *g, NNVar *v, NNVar *gout, const bool *need, NNVar **gin);

static const NNOpDef conv_def = {"conv2d", conv_backward, conv_grad_graph};
static const NNOpDef conv_relu_def = {"conv2d_relu", conv_relu_backward, NULL};
static const NNOpDef conv_lrelu_def = {"conv2d_leaky_relu", conv_lrelu_backward, conv_lrelu_grad_graph};
static const NNOpDef conv_bi_def = {"conv2d_backward_input", conv_bi_backward, NULL};
static const NNOpDef reshape_def = {"reshape", reshape_backward, reshape_grad_graph};

static NNVar *conv_node(NNGraph *g, const NNOpDef *def, NNVar *x, NNVar *w, NNVar *b, int stride, int pad,
                        ConvAct act);

NNVar *nn_conv2d(NNGraph *g, NNVar *x, NNVar *w, NNVar *b, int stride, int pad)
{
    return conv_node(g, &conv_def, x, w, b, stride, pad, CONV_ACT_NONE_INIT);
}

NNVar *nn_conv2d_relu(NNGraph *g, NNVar *x, NNVar *w, NNVar *b, int stride, int pad)
{
    return conv_node(g, &conv_relu_def, x, w, b, stride, pad, (ConvAct){CONV_ACT_RELU, 0.0f});
}

NNVar *nn_conv2d_leaky_relu(NNGraph *g, NNVar *x, NNVar *w, NNVar *b, int stride, int pad, float slope)
{
    // The backward's mask reads the output's sign, and the kernels take
    // max(x, slope x): both need 0 < slope < 1.
    if (!(slope > 0.0f && slope < 1.0f))
        return nn_impl_fail(g, "conv2d_leaky_relu", "slope %g is not in (0, 1)", (double)slope);
    NNVar *v = conv_node(g, &conv_lrelu_def, x, w, b, stride, pad, (ConvAct){CONV_ACT_LEAKY_RELU, slope});
    if (v)
        v->a.f[0] = slope;
    return v;
}

static NNVar *conv_node(NNGraph *g, const NNOpDef *def, NNVar *x, NNVar *w, NNVar *b, int stride, int pad,
                        ConvAct act)
{
    NNVar *in[3] = {x, w, b};
    if (!nn_impl_inputs_ok(g, in, b ? 3 : 2))
        return NULL;
    const Tensor *tx = &x->value, *tw = &w->value;
    if (tx->ndim != 4 || tw->ndim != 4)
        return nn_impl_fail(g, "conv2d", "input and weight must be 4-D, got %d-D and %d-D", tx->ndim, tw->ndim);
    if (tx->shape[1] != tw->shape[1])
        return nn_impl_fail(g, "conv2d", "input has %lld channels, weight expects %lld", (long long)tx->shape[1],
                            (long long)tw->shape[1]);
    if (b && b->value.numel != tw->shape[0])
        return nn_impl_fail(g, "conv2d", "bias has %lld elements for %lld output channels",
                            (long long)b->value.numel, (long long)tw->shape[0]);
    ConvShape s;
    Err e = {0};
    if (!conv_shape_init(&s, tx->shape[0], tx->shape[1], tx->shape[2], tx->shape[3], tw->shape[0], tw->shape[2],
                         tw->shape[3], stride, pad, &e))
        return nn_impl_fail(g, "conv2d", "%s", e.msg);
    int64_t shape[4] = {s.N, s.OC, s.OH, s.OW};
    NNVar *v = nn_impl_node(g, def, 4, shape, in, b ? 3 : 2, NULL);
    if (!v)
        return NULL;
    v->a.conv = s;
    void *ws = nn_impl_workspace(g, g->be->conv_workspace_bytes(&s));
    if (!ws && g->workspace_bytes == 0 && err_is_set(&g->err))
        return NULL;
    const void *pw = nn_impl_prepared_weight(g, w, &s, CONV_PASS_FORWARD);
    g->be->conv2d_forward_prepared(v->value.data, tx->data, tw->data, pw, b ? b->value.data : NULL, act, &s, ws);
    return v;
}

// dinp of a convolution into target, assigning or adding; dout_mask: see
// conv2d_backward_input_prepared.
static void backward_input_into(NNGraph *g, NNVar *target, const float *dout, const float *dout_mask,
                                const NNVar *w, const ConvShape *s)
{
    bool acc;
    float *d = nn_impl_grad_target(g, target, &acc);
    if (!d)
        return;
    float *dst = d;
    if (acc && !(dst = nn_impl_scratch(g, (size_t)target->value.numel * sizeof(float))))
        return;
    void *ws = nn_impl_workspace(g, g->be->conv_workspace_bytes(s));
    if (err_is_set(&g->err))
        return;
    const void *pw = nn_impl_prepared_weight(g, w, s, CONV_PASS_BACKWARD_INPUT);
    g->be->conv2d_backward_input_prepared(dst, dout, dout_mask, w->value.data, pw, s, ws);
    if (acc) {
        g->be->scale_acc(d, 1.0f, dst, target->value.numel, true);
        nn_impl_scratch_release(g, dst, (size_t)target->value.numel * sizeof(float));
    }
}

// The weight kernel accumulates; a fresh (non-parameter) buffer is zeroed first.
static float *accumulating_target(NNGraph *g, NNVar *v)
{
    bool acc;
    float *d = nn_impl_grad_target(g, v, &acc);
    if (d && !acc)
        g->be->zero(d, v->value.numel);
    return d;
}

static void conv_backward(NNGraph *g, NNVar *v)
{
    NNVar *x = v->in[0], *w = v->in[1], *b = v->nin > 2 ? v->in[2] : NULL;
    const ConvShape *s = &v->a.conv;
    if (nn_impl_needs(x))
        backward_input_into(g, x, v->grad, NULL, w, s);
    const bool need_w = nn_impl_needs(w), need_b = b && nn_impl_needs(b);
    if (!need_w && !need_b)
        return;
    float *dw = need_w ? accumulating_target(g, w) : nn_impl_scratch(g, (size_t)w->value.numel * sizeof(float));
    float *db = need_b ? accumulating_target(g, b) : NULL;
    void *ws = nn_impl_workspace(g, g->be->conv_workspace_bytes(s));
    if (!dw || err_is_set(&g->err))
        return;
    g->be->conv2d_backward_weight(dw, db, v->grad, x->value.data, s, ws);
    if (!need_w)
        nn_impl_scratch_release(g, dw, (size_t)w->value.numel * sizeof(float));
}

// v = relu(conv): the ReLU's mask (v > 0) goes into the backward-input's
// reading of v->grad where the back end fuses it, else v->grad (this node's
// own buffer, read by nothing else) is masked in place first.
static void conv_relu_backward(NNGraph *g, NNVar *v)
{
    NNVar *x = v->in[0], *w = v->in[1], *b = v->nin > 2 ? v->in[2] : NULL;
    const bool params = nn_impl_needs(w) || (b && nn_impl_needs(b));
    if (!params && nn_impl_needs(x) && g->be->conv_backward_input_masks(&v->a.conv)) {
        backward_input_into(g, x, v->grad, v->value.data, w, &v->a.conv);
        return;
    }
    g->be->relu_mask(v->grad, v->value.data, v->value.numel);
    conv_backward(g, v);
}

// v = leaky_relu(conv): v->grad (this node's own buffer) takes the
// LeakyReLU's factor in place, from the output's sign, then the
// convolution's backward runs on it.
static void conv_lrelu_backward(NNGraph *g, NNVar *v)
{
    g->be->lrelu_mask(v->grad, v->value.data, v->a.f[0], v->value.numel);
    conv_backward(g, v);
}

// The same as a graph: the LeakyReLU's backward op (its mask from the
// output, equal to the one from the pre-activation) into the convolution's.
static void conv_lrelu_grad_graph(NNGraph *g, NNVar *v, NNVar *gout, const bool *need, NNVar **gin)
{
    conv_grad_graph(g, v, nn_impl_lrelu_backward(g, gout, v, v->a.f[0]), need, gin);
}

static void conv_grad_graph(NNGraph *g, NNVar *v, NNVar *gout, const bool *need, NNVar **gin)
{
    if (need[0])
        gin[0] = nn_impl_conv2d_backward_input(g, gout, v->in[1], &v->a.conv);
    if (need[1] || (v->nin > 2 && need[2]))
        nn_impl_fail(g, "grad", "conv2d: create_graph gradients w.r.t. weights are not supported");
}

NNVar *nn_impl_conv2d_backward_input(NNGraph *g, NNVar *dout, NNVar *w, const ConvShape *s)
{
    NNVar *in[2] = {dout, w};
    if (!nn_impl_inputs_ok(g, in, 2))
        return NULL;
    int64_t shape[4] = {s->N, s->C, s->H, s->W};
    NNVar *v = nn_impl_node(g, &conv_bi_def, 4, shape, in, 2, NULL);
    if (!v)
        return NULL;
    v->a.conv = *s;
    void *ws = nn_impl_workspace(g, g->be->conv_workspace_bytes(s));
    if (err_is_set(&g->err))
        return NULL;
    const void *pw = nn_impl_prepared_weight(g, w, s, CONV_PASS_BACKWARD_INPUT);
    g->be->conv2d_backward_input_prepared(v->value.data, dout->value.data, NULL, w->value.data, pw, s, ws);
    return v;
}

// v = Bi(dout, W); with G = v->grad: d dout = conv(G, W), dW += Bw(dout, G).
static void conv_bi_backward(NNGraph *g, NNVar *v)
{
    NNVar *dout = v->in[0], *w = v->in[1];
    const ConvShape *s = &v->a.conv;
    if (nn_impl_needs(dout)) {
        bool acc;
        float *d = nn_impl_grad_target(g, dout, &acc);
        float *dst = d;
        if (d && acc)
            dst = nn_impl_scratch(g, (size_t)dout->value.numel * sizeof(float));
        void *ws = nn_impl_workspace(g, g->be->conv_workspace_bytes(s));
        if (!dst || err_is_set(&g->err))
            return;
        const void *pw = nn_impl_prepared_weight(g, w, s, CONV_PASS_FORWARD);
        g->be->conv2d_forward_prepared(dst, v->grad, w->value.data, pw, NULL, CONV_ACT_NONE_INIT, s, ws);
        if (acc) {
            g->be->scale_acc(d, 1.0f, dst, dout->value.numel, true);
            nn_impl_scratch_release(g, dst, (size_t)dout->value.numel * sizeof(float));
        }
    }
    if (nn_impl_needs(w)) {
        float *dw = accumulating_target(g, w);
        void *ws = nn_impl_workspace(g, g->be->conv_workspace_bytes(s));
        if (!dw || err_is_set(&g->err))
            return;
        g->be->conv2d_backward_weight(dw, NULL, dout->value.data, v->grad, s, ws);
    }
}

NNVar *nn_reshape(NNGraph *g, NNVar *x, int ndim, const int64_t *shape)
{
    if (!nn_impl_inputs_ok(g, &x, 1))
        return NULL;
    if (ndim < 0 || ndim > TENSOR_MAX_DIMS || tensor_shape_numel(ndim, shape) != x->value.numel)
        return nn_impl_fail(g, "reshape", "cannot view %lld elements as a %d-D shape of %lld",
                            (long long)x->value.numel, ndim,
                            (long long)(ndim >= 0 && ndim <= TENSOR_MAX_DIMS ? tensor_shape_numel(ndim, shape) : -1));
    return nn_impl_node(g, &reshape_def, ndim, shape, &x, 1, x->value.data);
}

static void reshape_backward(NNGraph *g, NNVar *v)
{
    bool acc;
    float *d = nn_impl_grad_target(g, v->in[0], &acc);
    if (d)
        g->be->scale_acc(d, 1.0f, v->grad, v->value.numel, acc);
}

static void reshape_grad_graph(NNGraph *g, NNVar *v, NNVar *gout, const bool *need, NNVar **gin)
{
    if (need[0])
        gin[0] = nn_reshape(g, gout, v->in[0]->value.ndim, v->in[0]->value.shape);
}

// torch.nn.Linear as a 1x1 convolution of (N, K, 1, 1): one code path, and
// double backward for free (PIAD's latent discriminator is made of these).
NNVar *nn_linear(NNGraph *g, NNVar *x, NNVar *w, NNVar *b)
{
    NNVar *in[3] = {x, w, b};
    if (!nn_impl_inputs_ok(g, in, b ? 3 : 2))
        return NULL;
    if (x->value.ndim != 2 || w->value.ndim != 2)
        return nn_impl_fail(g, "linear", "input and weight must be 2-D, got %d-D and %d-D", x->value.ndim,
                            w->value.ndim);
    if (x->value.shape[1] != w->value.shape[1])
        return nn_impl_fail(g, "linear", "input has %lld features, weight expects %lld",
                            (long long)x->value.shape[1], (long long)w->value.shape[1]);
    const int64_t N = x->value.shape[0], K = x->value.shape[1], O = w->value.shape[0];
    NNVar *x4 = nn_reshape(g, x, 4, (int64_t[]){N, K, 1, 1});
    NNVar *w4 = nn_reshape(g, w, 4, (int64_t[]){O, K, 1, 1});
    NNVar *y = nn_conv2d(g, x4, w4, b, 1, 0);
    return nn_reshape(g, y, 2, (int64_t[]){N, O});
}
