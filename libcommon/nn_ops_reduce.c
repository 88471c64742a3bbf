/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_ops_reduce: reductions (sums and means over everything, per sample,
 * over channels), softmax cross-entropy and batch normalisation. Sums are
 * accumulated in double in index order and rounded once, so they do not
 * depend on the thread count (torch's float summation order is not
 * reproduced; the difference is far below the fixtures' tolerance).
 */
#include "nn_impl.h"

/* ---- sums and means per sample (N = 1 for the whole tensor) ---- */

// a.f[0] = 1/divisor, a.k[0] = samples
static void sum_backward(NNGraph *g, NNVar *v)
{
    NNVar *x = v->in[0];
    bool acc;
    float *d = nn_impl_grad_target(g, x, &acc);
    const int64_t N = v->a.k[0];
    if (d)
        g->be->broadcast_per_sample(d, v->grad, v->a.f[0], N, x->value.numel / N, acc);
}

static const NNOpDef sum_def = {"sum", sum_backward, NULL};

static NNVar *reduce(NNGraph *g, NNVar *x, bool per_sample, bool mean)
{
    if (!nn_impl_inputs_ok(g, &x, 1))
        return NULL;
    if (per_sample && x->value.ndim < 1)
        return nn_impl_fail(g, "sum", "a per-sample reduction needs a batch dimension");
    const int64_t N = per_sample ? x->value.shape[0] : 1, inner = x->value.numel / N;
    int64_t shape[1] = {N};
    NNVar *v = nn_impl_node(g, &sum_def, per_sample ? 1 : 0, shape, &x, 1, NULL);
    if (!v)
        return NULL;
    const double divisor = mean ? (double)inner : 1.0;
    v->a.k[0] = N;
    v->a.f[0] = (float)(1.0 / divisor);
    g->be->sum_per_sample(v->value.data, x->value.data, divisor, N, inner);
    return v;
}

NNVar *nn_sum(NNGraph *g, NNVar *x)
{
    return reduce(g, x, false, false);
}

NNVar *nn_mean(NNGraph *g, NNVar *x)
{
    return reduce(g, x, false, true);
}

NNVar *nn_sum_per_sample(NNGraph *g, NNVar *x)
{
    return reduce(g, x, true, false);
}

NNVar *nn_mean_per_sample(NNGraph *g, NNVar *x)
{
    return reduce(g, x, true, true);
}

/* ---- mean over channels ---- */

static void mean_channels_backward(NNGraph *g, NNVar *v)
{
    const Tensor *t = &v->in[0]->value;
    bool acc;
    float *d = nn_impl_grad_target(g, v->in[0], &acc);
    if (d)
        g->be->mean_channels_backward(d, v->grad, t->shape[0], t->shape[1], t->shape[2] * t->shape[3], acc);
}

static const NNOpDef mean_channels_def = {"mean_channels", mean_channels_backward, NULL};

NNVar *nn_mean_channels(NNGraph *g, NNVar *x)
{
    if (!nn_impl_inputs_ok(g, &x, 1))
        return NULL;
    const Tensor *t = &x->value;
    if (t->ndim != 4)
        return nn_impl_fail(g, "mean_channels", "input must be 4-D, got %d-D", t->ndim);
    int64_t shape[4] = {t->shape[0], 1, t->shape[2], t->shape[3]};
    NNVar *v = nn_impl_node(g, &mean_channels_def, 4, shape, &x, 1, NULL);
    if (v)
        g->be->mean_channels_forward(v->value.data, t->data, t->shape[0], t->shape[1], t->shape[2] * t->shape[3]);
    return v;
}

/* ---- softmax cross-entropy ---- */

static void softmax_ce_backward(NNGraph *g, NNVar *v)
{
    const Tensor *t = &v->in[0]->value;
    bool acc;
    float *d = nn_impl_grad_target(g, v->in[0], &acc);
    if (d)
        g->be->softmax_ce_backward(d, v->grad, v->a.s0, v->a.labels, t->shape[0], t->shape[1], acc);
}

static const NNOpDef softmax_ce_def = {"softmax_cross_entropy", softmax_ce_backward, NULL};

NNVar *nn_softmax_cross_entropy(NNGraph *g, NNVar *logits, const int32_t *labels)
{
    if (!nn_impl_inputs_ok(g, &logits, 1))
        return NULL;
    const Tensor *t = &logits->value;
    if (t->ndim != 2)
        return nn_impl_fail(g, "softmax_cross_entropy", "logits must be 2-D (N, K), got %d-D", t->ndim);
    const int64_t N = t->shape[0], K = t->shape[1];
    for (int64_t n = 0; n < N; n++)
        if (labels[n] < 0 || labels[n] >= K)
            return nn_impl_fail(g, "softmax_cross_entropy", "label %d of sample %lld is outside 0..%lld",
                                (int)labels[n], (long long)n, (long long)(K - 1));
    NNVar *v = nn_impl_node(g, &softmax_ce_def, 1, &N, &logits, 1, NULL);
    float *prob = nn_impl_scratch(g, (size_t)(N * K) * sizeof(float));
    int32_t *lab = nn_impl_scratch(g, (size_t)N * sizeof(int32_t));
    if (!v || !prob || !lab)
        return NULL;
    // Labels travel with the float upload: both are 4-byte words copied bit for bit.
    _Static_assert(sizeof(int32_t) == sizeof(float), "labels are uploaded as 4-byte words");
    g->be->upload((float *)lab, (const float *)labels, N);
    v->a.s0 = prob;
    v->a.labels = lab;
    g->be->softmax_ce_forward(v->value.data, prob, t->data, lab, N, K);
    return v;
}

/* ---- batch normalisation ---- */

static void batchnorm_backward(NNGraph *g, NNVar *v)
{
    NNVar *x = v->in[0], *w = v->a.k[1] >= 0 ? v->in[v->a.k[1]] : NULL, *b = v->a.k[2] >= 0 ? v->in[v->a.k[2]] : NULL;
    const Tensor *t = &x->value;
    bool acc = false;
    float *dx = nn_impl_needs(x) ? nn_impl_grad_target(g, x, &acc) : NULL;
    float *dw = NULL, *db = NULL;
    bool acc_w, acc_b;
    if (w && nn_impl_needs(w) && (dw = nn_impl_grad_target(g, w, &acc_w)) && !acc_w)
        g->be->zero(dw, w->value.numel);
    if (b && nn_impl_needs(b) && (db = nn_impl_grad_target(g, b, &acc_b)) && !acc_b)
        g->be->zero(db, b->value.numel);
    if (err_is_set(&g->err))
        return;
    g->be->batchnorm_backward(dx, dw, db, v->grad, t->data, v->a.s0, v->a.s1, w ? w->value.data : NULL, v->a.flag,
                              t->shape[0], t->shape[1], t->shape[2] * t->shape[3], acc);
}

static const NNOpDef batchnorm_def = {"batchnorm2d", batchnorm_backward, NULL};

NNVar *nn_batchnorm2d(NNGraph *g, NNVar *x, NNVar *weight, NNVar *bias, float *running_mean, float *running_var,
                      bool training, float momentum, float eps)
{
    if (!nn_impl_inputs_ok(g, &x, 1))
        return NULL;
    const Tensor *t = &x->value;
    if (t->ndim != 4)
        return nn_impl_fail(g, "batchnorm2d", "input must be 4-D, got %d-D", t->ndim);
    const int64_t C = t->shape[1];
    if ((weight && weight->value.numel != C) || (bias && bias->value.numel != C))
        return nn_impl_fail(g, "batchnorm2d", "weight/bias must have %lld elements", (long long)C);
    if (!training && (!running_mean || !running_var))
        return nn_impl_fail(g, "batchnorm2d", "eval mode needs running statistics");
    if (training && t->shape[0] * t->shape[2] * t->shape[3] < 2)
        return nn_impl_fail(g, "batchnorm2d", "training needs more than one value per channel");
    NNVar *in[3] = {x, NULL, NULL};
    int nin = 1, iw = -1, ib = -1;
    if (weight)
        iw = nin, in[nin++] = weight;
    if (bias)
        ib = nin, in[nin++] = bias;
    NNVar *v = nn_impl_node(g, &batchnorm_def, 4, t->shape, in, nin, NULL);
    float *mean = nn_impl_scratch(g, (size_t)C * sizeof(float));
    float *invstd = nn_impl_scratch(g, (size_t)C * sizeof(float));
    if (!v || !mean || !invstd)
        return NULL;
    v->a.k[1] = iw;
    v->a.k[2] = ib;
    v->a.s0 = mean;
    v->a.s1 = invstd;
    v->a.flag = training;
    g->be->batchnorm_forward(v->value.data, mean, invstd, running_mean, running_var, t->data,
                             weight ? weight->value.data : NULL, bias ? bias->value.data : NULL, training, momentum,
                             eps, t->shape[0], C, t->shape[2] * t->shape[3]);
    return v;
}
