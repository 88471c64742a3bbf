/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_ops_spatial: ops that move pixels: 2x2 pooling, nearest and bilinear
 * resizing, reflection padding, channel concatenation and expansion.
 * Average pooling and nearest up-sampling are each other's adjoints (up to
 * a factor 4), which gives both of them create_graph support.
 */
#include "nn_impl.h"

static bool check_4d(NNGraph *g, const char *op, NNVar *x)
{
    if (!nn_impl_inputs_ok(g, &x, 1))
        return false;
    if (x->value.ndim != 4) {
        nn_impl_fail(g, op, "input must be 4-D (N, C, H, W), got %d-D", x->value.ndim);
        return false;
    }
    return true;
}

#define NC_OF(t) ((t)->shape[0] * (t)->shape[1])

/* ---- nearest x2 up-sampling with a scale (scale 0.25 = avg-pool's adjoint) ---- */

static NNVar *upsample2_scaled(NNGraph *g, NNVar *x, float scale);
static NNVar *avgpool2_any(NNGraph *g, NNVar *x);

static void upsample2_backward(NNGraph *g, NNVar *v)
{
    bool acc;
    const Tensor *t = &v->in[0]->value;
    float *d = nn_impl_grad_target(g, v->in[0], &acc);
    if (d)
        g->be->upsample2_backward(d, v->grad, v->a.f[0], NC_OF(t), t->shape[2], t->shape[3], acc);
}

static void upsample2_grad_graph(NNGraph *g, NNVar *v, NNVar *gout, const bool *need, NNVar **gin)
{
    // sum of each 2x2 block times scale = avgpool * (4 * scale)
    if (need[0])
        gin[0] = nn_scale(g, avgpool2_any(g, gout), 4.0f * v->a.f[0]);
}

static const NNOpDef upsample2_def = {"upsample_nearest2", upsample2_backward, upsample2_grad_graph};

static NNVar *upsample2_scaled(NNGraph *g, NNVar *x, float scale)
{
    if (!check_4d(g, "upsample_nearest2", x))
        return NULL;
    const Tensor *t = &x->value;
    int64_t shape[4] = {t->shape[0], t->shape[1], 2 * t->shape[2], 2 * t->shape[3]};
    NNVar *v = nn_impl_node(g, &upsample2_def, 4, shape, &x, 1, NULL);
    if (!v)
        return NULL;
    v->a.f[0] = scale;
    g->be->upsample2_forward(v->value.data, t->data, scale, NC_OF(t), t->shape[2], t->shape[3]);
    return v;
}

NNVar *nn_upsample_nearest2(NNGraph *g, NNVar *x)
{
    return upsample2_scaled(g, x, 1.0f);
}

/* ---- average pooling ---- */

static void avgpool2_backward(NNGraph *g, NNVar *v)
{
    bool acc;
    const Tensor *t = &v->in[0]->value;
    float *d = nn_impl_grad_target(g, v->in[0], &acc);
    if (d)
        g->be->avgpool2_backward(d, v->grad, NC_OF(t), t->shape[2], t->shape[3], acc);
}

static void avgpool2_grad_graph(NNGraph *g, NNVar *v, NNVar *gout, const bool *need, NNVar **gin)
{
    (void)v;
    if (need[0])
        gin[0] = upsample2_scaled(g, gout, 0.25f);
}

static const NNOpDef avgpool2_def = {"avgpool2", avgpool2_backward, avgpool2_grad_graph};

static NNVar *pool_node(NNGraph *g, const NNOpDef *def, NNVar *x)
{
    if (!check_4d(g, def->name, x))
        return NULL;
    const Tensor *t = &x->value;
    if (t->shape[2] % 2 || t->shape[3] % 2)
        return nn_impl_fail(g, def->name, "height and width must be even, got %lld x %lld",
                            (long long)t->shape[2], (long long)t->shape[3]);
    int64_t shape[4] = {t->shape[0], t->shape[1], t->shape[2] / 2, t->shape[3] / 2};
    return nn_impl_node(g, def, 4, shape, &x, 1, NULL);
}

static NNVar *avgpool2_any(NNGraph *g, NNVar *x)
{
    NNVar *v = pool_node(g, &avgpool2_def, x);
    if (v)
        g->be->avgpool2_forward(v->value.data, x->value.data, NC_OF(&x->value), x->value.shape[2],
                                x->value.shape[3]);
    return v;
}

NNVar *nn_avgpool2(NNGraph *g, NNVar *x)
{
    return avgpool2_any(g, x);
}

/* ---- max pooling ---- */

static void maxpool2_backward(NNGraph *g, NNVar *v)
{
    bool acc;
    const Tensor *t = &v->in[0]->value;
    float *d = nn_impl_grad_target(g, v->in[0], &acc);
    if (d)
        g->be->maxpool2_backward(d, v->grad, t->data, NC_OF(t), t->shape[2], t->shape[3], acc);
}

static const NNOpDef maxpool2_def = {"maxpool2", maxpool2_backward, NULL};

NNVar *nn_maxpool2(NNGraph *g, NNVar *x)
{
    NNVar *v = pool_node(g, &maxpool2_def, x);
    if (v)
        g->be->maxpool2_forward(v->value.data, x->value.data, NC_OF(&x->value), x->value.shape[2],
                                x->value.shape[3]);
    return v;
}

/* ---- bilinear ---- */

static void bilinear_backward(NNGraph *g, NNVar *v)
{
    bool acc;
    const Tensor *t = &v->in[0]->value;
    float *d = nn_impl_grad_target(g, v->in[0], &acc);
    if (d)
        g->be->bilinear_backward(d, v->grad, NC_OF(t), t->shape[2], t->shape[3], v->value.shape[2],
                                 v->value.shape[3], acc);
}

static const NNOpDef bilinear_def = {"bilinear", bilinear_backward, NULL};

// The CPU kernel keeps its per-row taps on the stack.
#define BILINEAR_MAX_SIDE 4096

NNVar *nn_bilinear(NNGraph *g, NNVar *x, int64_t OH, int64_t OW)
{
    if (!check_4d(g, "bilinear", x))
        return NULL;
    if (OH < 1 || OW < 1 || OH > BILINEAR_MAX_SIDE || OW > BILINEAR_MAX_SIDE)
        return nn_impl_fail(g, "bilinear", "output size %lld x %lld outside 1..%d", (long long)OH, (long long)OW,
                            BILINEAR_MAX_SIDE);
    const Tensor *t = &x->value;
    int64_t shape[4] = {t->shape[0], t->shape[1], OH, OW};
    NNVar *v = nn_impl_node(g, &bilinear_def, 4, shape, &x, 1, NULL);
    if (v)
        g->be->bilinear_forward(v->value.data, t->data, NC_OF(t), t->shape[2], t->shape[3], OH, OW);
    return v;
}

NNVar *nn_downscale_bilinear(NNGraph *g, NNVar *x, int factor)
{
    if (!check_4d(g, "downscale_bilinear", x))
        return NULL;
    if (factor < 1 || x->value.shape[2] / factor < 1 || x->value.shape[3] / factor < 1)
        return nn_impl_fail(g, "downscale_bilinear", "factor %d does not fit %lld x %lld", factor,
                            (long long)x->value.shape[2], (long long)x->value.shape[3]);
    return nn_bilinear(g, x, x->value.shape[2] / factor, x->value.shape[3] / factor);
}

/* ---- reflection padding ---- */

static void reflect_pad_backward(NNGraph *g, NNVar *v)
{
    bool acc;
    const Tensor *t = &v->in[0]->value;
    float *d = nn_impl_grad_target(g, v->in[0], &acc);
    if (d)
        g->be->reflect_pad_backward(d, v->grad, NC_OF(t), t->shape[2], t->shape[3], v->a.k[0], acc);
}

static const NNOpDef reflect_pad_def = {"reflect_pad", reflect_pad_backward, NULL};

NNVar *nn_reflect_pad(NNGraph *g, NNVar *x, int pad)
{
    if (!check_4d(g, "reflect_pad", x))
        return NULL;
    const Tensor *t = &x->value;
    if (pad < 0 || pad >= t->shape[2] || pad >= t->shape[3])
        return nn_impl_fail(g, "reflect_pad", "padding %d must be below the height and width (%lld x %lld)", pad,
                            (long long)t->shape[2], (long long)t->shape[3]);
    int64_t shape[4] = {t->shape[0], t->shape[1], t->shape[2] + 2 * pad, t->shape[3] + 2 * pad};
    NNVar *v = nn_impl_node(g, &reflect_pad_def, 4, shape, &x, 1, NULL);
    if (!v)
        return NULL;
    v->a.k[0] = pad;
    g->be->reflect_pad_forward(v->value.data, t->data, NC_OF(t), t->shape[2], t->shape[3], pad);
    return v;
}

/* ---- channel concatenation and expansion ---- */

static void concat_backward(NNGraph *g, NNVar *v)
{
    const Tensor *t = &v->value;
    int64_t c0 = 0;
    for (int k = 0; k < 2; k++) {
        const int64_t C = v->in[k]->value.shape[1];
        if (nn_impl_needs(v->in[k])) {
            bool acc;
            float *d = nn_impl_grad_target(g, v->in[k], &acc);
            if (d)
                g->be->copy_channels(d, C, 0, v->grad, t->shape[1], c0, C, t->shape[0], t->shape[2] * t->shape[3],
                                     acc);
        }
        c0 += C;
    }
}

static const NNOpDef concat_def = {"concat", concat_backward, NULL};

NNVar *nn_concat(NNGraph *g, NNVar *a, NNVar *b)
{
    NNVar *in[2] = {a, b};
    if (!check_4d(g, "concat", a) || !check_4d(g, "concat", b))
        return NULL;
    const Tensor *ta = &a->value, *tb = &b->value;
    if (ta->shape[0] != tb->shape[0] || ta->shape[2] != tb->shape[2] || ta->shape[3] != tb->shape[3]) {
        char sa[64], sb[64];
        return nn_impl_fail(g, "concat", "shapes %s and %s differ outside the channels",
                            tensor_shape_str(ta, sa, 64), tensor_shape_str(tb, sb, 64));
    }
    int64_t shape[4] = {ta->shape[0], ta->shape[1] + tb->shape[1], ta->shape[2], ta->shape[3]};
    NNVar *v = nn_impl_node(g, &concat_def, 4, shape, in, 2, NULL);
    if (!v)
        return NULL;
    const int64_t N = shape[0], HW = shape[2] * shape[3];
    g->be->copy_channels(v->value.data, shape[1], 0, ta->data, ta->shape[1], 0, ta->shape[1], N, HW, false);
    g->be->copy_channels(v->value.data, shape[1], ta->shape[1], tb->data, tb->shape[1], 0, tb->shape[1], N, HW,
                         false);
    return v;
}

// Backward sums the C channel gradients into the single input channel
// (torch expand, spec 11.7), in channel order.
static void expand_backward(NNGraph *g, NNVar *v)
{
    const Tensor *t = &v->value;
    bool acc;
    float *d = nn_impl_grad_target(g, v->in[0], &acc);
    if (!d)
        return;
    for (int64_t c = 0; c < t->shape[1]; c++)
        g->be->copy_channels(d, 1, 0, v->grad, t->shape[1], c, 1, t->shape[0], t->shape[2] * t->shape[3],
                             acc || c > 0);
}

static const NNOpDef expand_def = {"expand_channels", expand_backward, NULL};

NNVar *nn_expand_channels(NNGraph *g, NNVar *x, int64_t C)
{
    if (!check_4d(g, "expand_channels", x))
        return NULL;
    const Tensor *t = &x->value;
    if (t->shape[1] != 1 || C < 1)
        return nn_impl_fail(g, "expand_channels", "can expand 1 channel to %lld, not %lld", (long long)C,
                            (long long)t->shape[1]);
    int64_t shape[4] = {t->shape[0], C, t->shape[2], t->shape[3]};
    NNVar *v = nn_impl_node(g, &expand_def, 4, shape, &x, 1, NULL);
    if (!v)
        return NULL;
    for (int64_t c = 0; c < C; c++)
        g->be->copy_channels(v->value.data, C, c, t->data, 1, 0, 1, t->shape[0], t->shape[2] * t->shape[3], false);
    return v;
}
