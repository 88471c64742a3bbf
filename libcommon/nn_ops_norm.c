/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_ops_norm: the normalisation ops of the progressive-GAN family (spec
 * dpa-piad.md 1.1, 1.3): PixelNormLayer, InstanceNorm2d without affine
 * parameters, and MinibatchStdDevLayer. None supports double backward.
 */
#include "nn_impl.h"

static bool four_d(NNGraph *g, const char *op, NNVar *x)
{
    if (x->value.ndim == 4)
        return true;
    nn_impl_fail(g, op, "input must be 4-D, got %d-D", x->value.ndim);
    return false;
}

/* ---- pixel norm ---- */

static void pixel_norm_backward(NNGraph *g, NNVar *v)
{
    const Tensor *t = &v->in[0]->value;
    bool acc;
    float *d = nn_impl_grad_target(g, v->in[0], &acc);
    if (d)
        g->be->pixel_norm_backward(d, v->grad, t->data, t->shape[0], t->shape[1], t->shape[2] * t->shape[3], acc);
}

static const NNOpDef pixel_norm_def = {"pixel_norm", pixel_norm_backward, NULL};

NNVar *nn_pixel_norm(NNGraph *g, NNVar *x)
{
    if (!nn_impl_inputs_ok(g, &x, 1) || !four_d(g, "pixel_norm", x))
        return NULL;
    const Tensor *t = &x->value;
    NNVar *v = nn_impl_node(g, &pixel_norm_def, 4, t->shape, &x, 1, NULL);
    if (v)
        g->be->pixel_norm_forward(v->value.data, t->data, t->shape[0], t->shape[1], t->shape[2] * t->shape[3]);
    return v;
}

/* ---- instance norm ---- */

// a.f[0] = eps
static void instance_norm_backward(NNGraph *g, NNVar *v)
{
    const Tensor *t = &v->in[0]->value;
    bool acc;
    float *d = nn_impl_grad_target(g, v->in[0], &acc);
    if (d)
        g->be->instance_norm_backward(d, v->grad, t->data, v->a.f[0], t->shape[0] * t->shape[1],
                                      t->shape[2] * t->shape[3], acc);
}

static const NNOpDef instance_norm_def = {"instance_norm", instance_norm_backward, NULL};

NNVar *nn_instance_norm(NNGraph *g, NNVar *x, float eps)
{
    if (!nn_impl_inputs_ok(g, &x, 1) || !four_d(g, "instance_norm", x))
        return NULL;
    const Tensor *t = &x->value;
    NNVar *v = nn_impl_node(g, &instance_norm_def, 4, t->shape, &x, 1, NULL);
    if (!v)
        return NULL;
    v->a.f[0] = eps;
    g->be->instance_norm_forward(v->value.data, t->data, eps, t->shape[0] * t->shape[1], t->shape[2] * t->shape[3]);
    return v;
}

/* ---- minibatch standard deviation ---- */

// a.s0 = sigma (C, HW)
static void mbstd_backward(NNGraph *g, NNVar *v)
{
    const Tensor *t = &v->in[0]->value;
    bool acc;
    float *d = nn_impl_grad_target(g, v->in[0], &acc);
    if (d)
        g->be->mbstd_backward(d, v->grad, t->data, v->a.s0, t->shape[0], t->shape[1], t->shape[2] * t->shape[3],
                              acc);
}

static const NNOpDef mbstd_def = {"minibatch_stddev", mbstd_backward, NULL};

NNVar *nn_minibatch_stddev(NNGraph *g, NNVar *x)
{
    if (!nn_impl_inputs_ok(g, &x, 1) || !four_d(g, "minibatch_stddev", x))
        return NULL;
    const Tensor *t = &x->value;
    int64_t shape[4] = {t->shape[0], t->shape[1] + 1, t->shape[2], t->shape[3]};
    NNVar *v = nn_impl_node(g, &mbstd_def, 4, shape, &x, 1, NULL);
    if (!v)
        return NULL;
    const int64_t HW = t->shape[2] * t->shape[3];
    float *sigma = nn_impl_scratch(g, (size_t)(t->shape[1] * HW) * sizeof(float));
    if (!sigma)
        return NULL;
    v->a.s0 = sigma;
    g->be->mbstd_forward(v->value.data, sigma, t->data, t->shape[0], t->shape[1], HW);
    return v;
}
