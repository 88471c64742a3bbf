/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_ops_eltwise: element-wise ops of the engine: activations, abs, square,
 * sqrt, linear combinations, fade-in, channel normalisation and per-sample
 * division. Linear ops (add, axpby, affine, fade-in) and leaky ReLU also
 * build their gradients as vars for create_graph.
 */
#include "nn_impl.h"

static NNVar *same_shape_node(NNGraph *g, const NNOpDef *def, NNVar *const *in, int nin)
{
    if (!nn_impl_inputs_ok(g, in, nin))
        return NULL;
    for (int i = 1; i < nin; i++)
        if (!tensor_same_shape(&in[0]->value, &in[i]->value)) {
            char a[64], b[64];
            return nn_impl_fail(g, def->name, "shapes differ: %s and %s", tensor_shape_str(&in[0]->value, a, 64),
                                tensor_shape_str(&in[i]->value, b, 64));
        }
    return nn_impl_node(g, def, in[0]->value.ndim, in[0]->value.shape, in, nin, NULL);
}

/* ---- leaky ReLU (with create_graph support) ---- */

static void lrelu_backward(NNGraph *g, NNVar *v)
{
    bool acc;
    float *d = nn_impl_grad_target(g, v->in[0], &acc);
    if (d)
        g->be->lrelu_backward(d, v->grad, v->in[0]->value.data, v->a.f[0], v->value.numel, acc);
}

static void lrelu_grad_graph(NNGraph *g, NNVar *v, NNVar *gout, const bool *need, NNVar **gin)
{
    if (need[0])
        gin[0] = nn_impl_lrelu_backward(g, gout, v->in[0], v->a.f[0]);
}

static const NNOpDef lrelu_def = {"leaky_relu", lrelu_backward, lrelu_grad_graph};

NNVar *nn_leaky_relu(NNGraph *g, NNVar *x, float slope)
{
    NNVar *v = same_shape_node(g, &lrelu_def, &x, 1);
    if (!v)
        return NULL;
    v->a.f[0] = slope;
    g->be->lrelu_forward(v->value.data, x->value.data, slope, v->value.numel);
    return v;
}

// v = dout * slope_mask(x): linear in dout; the mask is piecewise constant
// in x, so x gets no gradient (torch's leaky_relu_backward does the same).
static void lrelu_bwd_backward(NNGraph *g, NNVar *v)
{
    NNVar *dout = v->in[0];
    if (!nn_impl_needs(dout))
        return;
    bool acc;
    float *d = nn_impl_grad_target(g, dout, &acc);
    if (d)
        g->be->lrelu_backward(d, v->grad, v->in[1]->value.data, v->a.f[0], v->value.numel, acc);
}

static void lrelu_bwd_grad_graph(NNGraph *g, NNVar *v, NNVar *gout, const bool *need, NNVar **gin)
{
    if (need[0])
        gin[0] = nn_impl_lrelu_backward(g, gout, v->in[1], v->a.f[0]);
}

static const NNOpDef lrelu_bwd_def = {"leaky_relu_backward", lrelu_bwd_backward, lrelu_bwd_grad_graph};

NNVar *nn_impl_lrelu_backward(NNGraph *g, NNVar *dout, NNVar *x, float slope)
{
    NNVar *in[2] = {dout, x};
    NNVar *v = same_shape_node(g, &lrelu_bwd_def, in, 2);
    if (!v)
        return NULL;
    v->a.f[0] = slope;
    g->be->lrelu_backward(v->value.data, dout->value.data, x->value.data, slope, v->value.numel, false);
    return v;
}

/* ---- activations whose backward reads the output ---- */

#define OUTPUT_BACKWARD(stem)                                                                     \
    static void stem##_backward(NNGraph *g, NNVar *v)                                             \
    {                                                                                             \
        bool acc;                                                                                 \
        float *d = nn_impl_grad_target(g, v->in[0], &acc);                                        \
        if (d)                                                                                    \
            g->be->stem##_backward(d, v->grad, v->value.data, v->value.numel, acc);               \
    }

#define INPUT_BACKWARD(stem)                                                                      \
    static void stem##_backward(NNGraph *g, NNVar *v)                                             \
    {                                                                                             \
        bool acc;                                                                                 \
        float *d = nn_impl_grad_target(g, v->in[0], &acc);                                        \
        if (d)                                                                                    \
            g->be->stem##_backward(d, v->grad, v->in[0]->value.data, v->value.numel, acc);        \
    }

#define UNARY_OP(stem, public_name)                                                               \
    static const NNOpDef stem##_def = {#stem, stem##_backward, NULL};                             \
    NNVar *public_name(NNGraph *g, NNVar *x)                                                      \
    {                                                                                             \
        NNVar *v = same_shape_node(g, &stem##_def, &x, 1);                                        \
        if (v)                                                                                    \
            g->be->stem##_forward(v->value.data, x->value.data, v->value.numel);                  \
        return v;                                                                                 \
    }

OUTPUT_BACKWARD(relu)
UNARY_OP(relu, nn_relu)
OUTPUT_BACKWARD(tanh)
UNARY_OP(tanh, nn_tanh)
OUTPUT_BACKWARD(sigmoid)
UNARY_OP(sigmoid, nn_sigmoid)
OUTPUT_BACKWARD(sqrt)
UNARY_OP(sqrt, nn_sqrt)
INPUT_BACKWARD(abs)
UNARY_OP(abs, nn_abs)
INPUT_BACKWARD(square)
UNARY_OP(square, nn_square)

/* ---- linear combinations ---- */

// v = f0*x + f1*y (y optional) or v = f0*x + f1 (affine, f[2] = 1 marks it).
static void axpby_backward(NNGraph *g, NNVar *v)
{
    for (int k = 0; k < v->nin; k++) {
        if (!nn_impl_needs(v->in[k]))
            continue;
        bool acc;
        float *d = nn_impl_grad_target(g, v->in[k], &acc);
        if (d)
            g->be->scale_acc(d, v->a.f[k], v->grad, v->value.numel, acc);
    }
}

static void axpby_grad_graph(NNGraph *g, NNVar *v, NNVar *gout, const bool *need, NNVar **gin)
{
    for (int k = 0; k < v->nin; k++)
        if (need[k])
            gin[k] = v->a.f[k] == 1.0f ? gout : nn_scale(g, gout, v->a.f[k]);
}

static const NNOpDef axpby_def = {"axpby", axpby_backward, axpby_grad_graph};

NNVar *nn_axpby(NNGraph *g, float alpha, NNVar *x, float beta, NNVar *y)
{
    NNVar *in[2] = {x, y};
    NNVar *v = same_shape_node(g, &axpby_def, in, 2);
    if (!v)
        return NULL;
    v->a.f[0] = alpha;
    v->a.f[1] = beta;
    g->be->axpby(v->value.data, alpha, x->value.data, beta, y->value.data, v->value.numel);
    return v;
}

NNVar *nn_add(NNGraph *g, NNVar *a, NNVar *b)
{
    return nn_axpby(g, 1.0f, a, 1.0f, b);
}

NNVar *nn_sub(NNGraph *g, NNVar *a, NNVar *b)
{
    return nn_axpby(g, 1.0f, a, -1.0f, b);
}

NNVar *nn_affine(NNGraph *g, NNVar *x, float a, float b)
{
    NNVar *v = same_shape_node(g, &axpby_def, &x, 1);
    if (!v)
        return NULL;
    v->a.f[0] = a;
    g->be->axpby(v->value.data, a, x->value.data, b, NULL, v->value.numel);
    return v;
}

NNVar *nn_scale(NNGraph *g, NNVar *x, float s)
{
    return nn_affine(g, x, s, 0.0f);
}

/* ---- fade-in ---- */

static void fadein_backward(NNGraph *g, NNVar *v)
{
    const float alpha = v->a.f[0], w[2] = {1.0f - alpha, alpha};
    for (int k = 0; k < 2; k++) {
        if (!nn_impl_needs(v->in[k]))
            continue;
        bool acc;
        float *d = nn_impl_grad_target(g, v->in[k], &acc);
        if (d)
            g->be->scale_acc(d, w[k], v->grad, v->value.numel, acc);
    }
}

// Linear in both inputs: the gradients are gout scaled by the same float32
// weights as the first-order backward (a progressive-growing discriminator's
// gradient penalty differentiates through the fade-in twice).
static void fadein_grad_graph(NNGraph *g, NNVar *v, NNVar *gout, const bool *need, NNVar **gin)
{
    const float alpha = v->a.f[0], w[2] = {1.0f - alpha, alpha};
    for (int k = 0; k < 2; k++)
        if (need[k])
            gin[k] = nn_scale(g, gout, w[k]);
}

static const NNOpDef fadein_def = {"fadein", fadein_backward, fadein_grad_graph};

NNVar *nn_fadein(NNGraph *g, NNVar *low, NNVar *high, float alpha)
{
    NNVar *in[2] = {low, high};
    NNVar *v = same_shape_node(g, &fadein_def, in, 2);
    if (!v)
        return NULL;
    v->a.f[0] = alpha;
    g->be->fadein_forward(v->value.data, low->value.data, high->value.data, alpha, v->value.numel);
    return v;
}

/* ---- channel normalisation and per-sample division ---- */

static void channel_norm_backward(NNGraph *g, NNVar *v)
{
    bool acc;
    float *d = nn_impl_grad_target(g, v->in[0], &acc);
    const Tensor *t = &v->value;
    if (d)
        g->be->channel_norm_backward(d, v->grad, v->a.c1, t->shape[0], t->shape[1], t->shape[2] * t->shape[3],
                                     acc);
}

static const NNOpDef channel_norm_def = {"channel_norm", channel_norm_backward, NULL};

NNVar *nn_channel_norm(NNGraph *g, NNVar *x, const float *mean, const float *div)
{
    if (!nn_impl_inputs_ok(g, &x, 1))
        return NULL;
    if (x->value.ndim != 4)
        return nn_impl_fail(g, "channel_norm", "input must be 4-D, got %d-D", x->value.ndim);
    NNVar *v = nn_impl_node(g, &channel_norm_def, 4, x->value.shape, &x, 1, NULL);
    if (!v)
        return NULL;
    v->a.c0 = mean;
    v->a.c1 = div;
    const Tensor *t = &v->value;
    g->be->channel_norm_forward(t->data, x->value.data, mean, div, t->shape[0], t->shape[1],
                                t->shape[2] * t->shape[3]);
    return v;
}

static void div_per_sample_backward(NNGraph *g, NNVar *v)
{
    NNVar *x = v->in[0];
    if (!nn_impl_needs(x))
        return;
    bool acc;
    float *d = nn_impl_grad_target(g, x, &acc);
    const int64_t N = x->value.shape[0];
    if (d)
        g->be->div_per_sample(d, v->grad, v->in[1]->value.data, N, x->value.numel / N, acc);
}

static const NNOpDef div_per_sample_def = {"div_per_sample", div_per_sample_backward, NULL};

NNVar *nn_div_per_sample(NNGraph *g, NNVar *x, NNVar *den)
{
    NNVar *in[2] = {x, den};
    if (!nn_impl_inputs_ok(g, in, 2))
        return NULL;
    if (x->value.ndim < 1 || den->value.numel != x->value.shape[0])
        return nn_impl_fail(g, "div_per_sample", "%lld divisors for a batch of %lld", (long long)den->value.numel,
                            (long long)(x->value.ndim ? x->value.shape[0] : 0));
    // The divisor is a constant: only x is recorded as an input.
    NNVar *v = nn_impl_node(g, &div_per_sample_def, x->value.ndim, x->value.shape, in, 1, NULL);
    if (!v)
        return NULL;
    v->in[1] = den;
    const int64_t N = x->value.shape[0];
    g->be->div_per_sample(v->value.data, x->value.data, den->value.data, N, x->value.numel / N, false);
    return v;
}
