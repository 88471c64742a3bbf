/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_optim: optimisers over a Params block: Adam with torch 1.4's formula
 * (spec 11.10: bias corrections, eps added outside the corrected sqrt, no
 * weight decay, no amsgrad) and SGD with optional momentum.
 *
 * The moments mirror the parameter block, so a step is one flat loop on
 * the back end. A fresh optimiser (or nn_adam_reset) starts from zero
 * moments and t = 0, as DPA does at every progressive-growing stage.
 * Thread safety: one thread at a time. Ownership: the optimiser borrows the
 * Params (which must outlive it) and owns its moments.
 *
 *     NNAdam adam;
 *     if (!nn_adam_init(&adam, params, 1e-3, 0.9, 0.999, 1e-8, &err)) ...
 *     params_zero_grad(params); nn_backward(g, loss, &err); nn_adam_step(&adam);
 *     nn_adam_fini(&adam);
 */
#ifndef ADKIT_NN_OPTIM_H
#define ADKIT_NN_OPTIM_H

#include <stdbool.h>
#include <stdint.h>

#include "params.h"

typedef struct NNAdam {
    Params *params;     /* borrowed */
    double lr, beta1, beta2, eps;
    int64_t t;          /* steps taken */
    float *m, *v;       /* first and second moments, params_block_floats floats, device */
} NNAdam;

/* Zero moments, t = 0. */
bool nn_adam_init(NNAdam *a, Params *params, double lr, double beta1, double beta2, double eps, Err *err);
/* One step from the gradients in the Params block. */
void nn_adam_step(NNAdam *a);
/* Back to zero moments and t = 0. */
void nn_adam_reset(NNAdam *a);
void nn_adam_fini(NNAdam *a);

typedef struct NNSgd {
    Params *params;   /* borrowed */
    double lr, momentum;
    int64_t t;
    float *buf;       /* momentum buffer, NULL without momentum */
} NNSgd;

/* torch.optim.SGD(lr, momentum, dampening 0, no Nesterov, no decay). */
bool nn_sgd_init(NNSgd *s, Params *params, double lr, double momentum, Err *err);
void nn_sgd_step(NNSgd *s);
void nn_sgd_fini(NNSgd *s);

#endif
