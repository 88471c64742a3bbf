/* SPDX-License-Identifier: Apache-2.0 */
/* nn_optim: Adam (torch 1.4) and SGD as flat loops over the parameter block. */
#include "nn_optim.h"

#include <math.h>
#include <string.h>

static float *zeroed_mirror(Params *p, Err *err)
{
    const NNBackend *be = params_backend(p);
    const int64_t n = params_block_floats(p);
    float *m = be->alloc((size_t)(n ? n : 1) * sizeof(float));
    if (!m)
        err_set(err, "out of memory allocating %lld floats of optimiser state", (long long)n);
    else
        be->zero(m, n);
    return m;
}

bool nn_adam_init(NNAdam *a, Params *params, double lr, double beta1, double beta2, double eps, Err *err)
{
    memset(a, 0, sizeof *a);
    if (!params_grads(params))
        return err_set(err, "adam: the parameters are frozen (no gradients)");
    a->params = params;
    a->lr = lr;
    a->beta1 = beta1;
    a->beta2 = beta2;
    a->eps = eps;
    a->m = zeroed_mirror(params, err);
    a->v = a->m ? zeroed_mirror(params, err) : NULL;
    if (!a->v) {
        nn_adam_fini(a);
        return false;
    }
    return true;
}

void nn_adam_step(NNAdam *a)
{
    const NNBackend *be = params_backend(a->params);
    a->t++;
    // Scalars as torch 1.4 computes them in Python (double), then used as
    // float32 by the tensor kernels.
    const double bc1 = 1.0 - pow(a->beta1, (double)a->t);
    const double bc2 = 1.0 - pow(a->beta2, (double)a->t);
    be->adam_step(params_values(a->params), a->m, a->v, params_grads(a->params), (float)a->beta1,
                  (float)(1.0 - a->beta1), (float)a->beta2, (float)(1.0 - a->beta2), (float)a->eps,
                  (float)(a->lr / bc1), (float)sqrt(bc2), params_block_floats(a->params));
}

void nn_adam_reset(NNAdam *a)
{
    const NNBackend *be = params_backend(a->params);
    be->zero(a->m, params_block_floats(a->params));
    be->zero(a->v, params_block_floats(a->params));
    a->t = 0;
}

void nn_adam_fini(NNAdam *a)
{
    if (a->params) {
        params_backend(a->params)->free(a->m);
        params_backend(a->params)->free(a->v);
    }
    memset(a, 0, sizeof *a);
}

bool nn_sgd_init(NNSgd *s, Params *params, double lr, double momentum, Err *err)
{
    memset(s, 0, sizeof *s);
    if (!params_grads(params))
        return err_set(err, "sgd: the parameters are frozen (no gradients)");
    s->params = params;
    s->lr = lr;
    s->momentum = momentum;
    if (momentum != 0.0 && !(s->buf = zeroed_mirror(params, err)))
        return false;
    return true;
}

void nn_sgd_step(NNSgd *s)
{
    const NNBackend *be = params_backend(s->params);
    be->sgd_step(params_values(s->params), s->buf, params_grads(s->params), (float)s->lr, (float)s->momentum,
                 s->t == 0, params_block_floats(s->params));
    s->t++;
}

void nn_sgd_fini(NNSgd *s)
{
    if (s->params)
        params_backend(s->params)->free(s->buf);
    memset(s, 0, sizeof *s);
}
