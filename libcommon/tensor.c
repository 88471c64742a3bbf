/* SPDX-License-Identifier: Apache-2.0 */
/* tensor: shape bookkeeping of the float32 tensor descriptor. */
#include "tensor.h"

#include <stdio.h>

int64_t tensor_shape_numel(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int d = 0; d < ndim; d++)
        n *= shape[d];
    return n;
}

void tensor_init(Tensor *t, TensorDevice device, int ndim, const int64_t *shape, float *data)
{
    t->data = data;
    t->device = device;
    t->ndim = ndim;
    for (int d = 0; d < TENSOR_MAX_DIMS; d++)
        t->shape[d] = d < ndim ? shape[d] : 1;
    t->numel = tensor_shape_numel(ndim, shape);
}

int64_t tensor_dim(const Tensor *t, int d)
{
    return d < t->ndim ? t->shape[d] : 1;
}

bool tensor_same_shape(const Tensor *a, const Tensor *b)
{
    if (a->ndim != b->ndim)
        return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d])
            return false;
    return true;
}

char *tensor_shape_str(const Tensor *t, char *buf, int bytes)
{
    int used = snprintf(buf, (size_t)bytes, "(");
    for (int d = 0; d < t->ndim && used < bytes; d++)
        used += snprintf(buf + used, (size_t)(bytes - used), "%s%lld", d ? ", " : "", (long long)t->shape[d]);
    if (used < bytes)
        snprintf(buf + used, (size_t)(bytes - used), ")");
    return buf;
}
