/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tensor: a float32 array of up to 4 dimensions (NCHW) that knows its device.
 *
 * A Tensor is a plain descriptor: shape, element count, data pointer and the
 * device the data lives on. It does not own its data: the memory belongs to
 * whoever made it (a graph's arena for activations, a Params block for
 * weights, the caller for inputs). Only nn_<backend> code may dereference the
 * data of a non-CPU tensor.
 *
 * Not for: strides, views with offsets, other element types (the engine is
 * float32 throughout, as the spec's models are).
 * Thread safety: plain data.
 *
 *     Tensor t;
 *     int64_t shape[4] = {8, 3, 64, 64};
 *     tensor_init(&t, TENSOR_CPU, 4, shape, buf);   // buf holds 8*3*64*64 floats
 *     int64_t hw = tensor_dim(&t, 2) * tensor_dim(&t, 3);
 */
#ifndef ADKIT_TENSOR_H
#define ADKIT_TENSOR_H

#include <stdbool.h>
#include <stdint.h>

#define TENSOR_MAX_DIMS 4

/* Where a tensor's data lives. */
typedef enum TensorDevice {
    TENSOR_CPU = 0,  /* host memory */
    TENSOR_CUDA = 1, /* CUDA device memory (no back end built yet) */
    TENSOR_DEVICE_COUNT
} TensorDevice;

typedef struct Tensor {
    float *data;                     /* numel floats on `device`, borrowed */
    int64_t shape[TENSOR_MAX_DIMS];  /* shape[0..ndim-1]; the rest are 1 */
    int64_t numel;                   /* product of the shape (1 for ndim 0) */
    int ndim;                        /* 0..4 */
    TensorDevice device;
} Tensor;

/* Fills a descriptor; dims beyond ndim are set to 1. */
void tensor_init(Tensor *t, TensorDevice device, int ndim, const int64_t *shape, float *data);

/* Element count of a shape (1 for ndim 0). */
int64_t tensor_shape_numel(int ndim, const int64_t *shape);

/* Size of dimension d (1 for d >= ndim). */
int64_t tensor_dim(const Tensor *t, int d);

/* True when both tensors have the same ndim and shape. */
bool tensor_same_shape(const Tensor *a, const Tensor *b);

/* Writes "(2, 3, 4)" into buf (always NUL-terminated); returns buf. */
char *tensor_shape_str(const Tensor *t, char *buf, int bytes);

#endif
