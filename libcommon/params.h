/* SPDX-License-Identifier: Apache-2.0 */
/*
 * params: a model's parameters in one allocation, with named views.
 *
 * A model declares its parameters (name and shape) with params_add, then
 * params_alloc makes one block of values and, for trainable sets, one
 * mirror block of gradients; each parameter is a 64-byte aligned view into
 * both and is used in graphs through its persistent NNVar (params_var).
 * Zeroing gradients, the optimiser step (nn_optim.h) and checkpoints are
 * flat loops over the blocks. Frozen sets (trainable = false, e.g. VGG19)
 * have no gradient block; gradients flow through them without being stored.
 *
 * Files: params_save writes one f32 record per parameter, in declaration
 * order, with metadata `name`; params_load reads a stream back, matching
 * records by name (other records, such as a model configuration, are
 * skipped) and checking shapes.
 *
 * Thread safety: one thread at a time. Ownership: the Params owns its
 * blocks and NNVars; pointers from getters live until params_free.
 * Errors: Err; declaring after params_alloc, duplicate names and bad shapes
 * are errors.
 *
 *     Params *p = params_new(nn_backend_cpu(), true, &err);
 *     int w = params_add(p, "conv1.weight", 4, (int64_t[]){8, 3, 3, 3}, &err);
 *     int b = params_add(p, "conv1.bias", 1, (int64_t[]){8}, &err);
 *     if (w < 0 || b < 0 || !params_alloc(p, &err)) ...
 *     NNVar *y = nn_conv2d(g, x, params_var(p, w), params_var(p, b), 1, 1);
 *     params_zero_grad(p);  nn_backward(g, loss, &err);
 *     params_free(p);
 */
#ifndef ADKIT_PARAMS_H
#define ADKIT_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "nn.h"
#include "tstream.h"

typedef struct Params Params;

/* An empty set on a back end (borrowed). trainable: keep gradients. */
Params *params_new(const NNBackend *be, bool trainable, Err *err);

/* Frees the set. NULL does nothing. */
void params_free(Params *p);

/* Declares a parameter (before params_alloc); returns its index, or -1.
 * name: unique, a tensor-stream metadata value (no newline). */
int params_add(Params *p, const char *name, int ndim, const int64_t *shape, Err *err);

/* Allocates the blocks (values zeroed) and makes the NNVars. */
bool params_alloc(Params *p, Err *err);

/* Number of parameters; total floats of the block (views plus alignment
 * padding, which stays zero). */
int params_count(const Params *p);
int64_t params_block_floats(const Params *p);
/* Sum of the parameters' element counts. */
int64_t params_elements(const Params *p);

/* Index of a name, or -1. */
int params_find(const Params *p, const char *name);
/* The name of parameter i (borrowed). */
const char *params_name(const Params *p, int i);
/* The graph var of parameter i (borrowed; persistent across graph resets). */
NNVar *params_var(Params *p, int i);
/* Device pointers: parameter i's values / gradient (NULL if frozen).
 * Values change only through the pointers these return (params_data,
 * params_values), params_upload and params_load*: each of those renews the
 * parameters' NNVar version (nn.h), which tells caches of derived forms
 * (the engine's prepared convolution weights) that the values may have
 * changed. Write through a pointer before the next graph uses the
 * parameter, not after, and get it anew for each change. */
float *params_data(Params *p, int i);
float *params_grad(Params *p, int i);
/* The whole blocks, params_block_floats(p) floats each. */
float *params_values(Params *p);
float *params_grads(Params *p);
/* The back end (borrowed). */
const NNBackend *params_backend(const Params *p);

/* Sets all gradients to 0 (torch zero_grad). */
void params_zero_grad(Params *p);

/* Multiplies all gradients by s (PIAD's adaptive reconstruction weights
 * scale one network's gradients between two backward passes, spec 8.4). */
void params_scale_grad(Params *p, float s);

/* Copies parameter i from / to host memory (its element count of floats). */
void params_upload(Params *p, int i, const float *host);
void params_download(const Params *p, int i, float *host);

/* Appends one f32 record per parameter (metadata name=...). */
bool params_save(const Params *p, TStreamWriter *w, Err *err);

/* Applies one record: returns 1 when it was a parameter of this set (shape
 * checked), 0 when it has no `name` or an unknown one, -1 on a shape or
 * dtype mismatch ("conv1.weight: shape (8, 3, 3, 3) expected, file has ..."). */
int params_load_record(Params *p, const TRecord *rec, Err *err);

/* Reads a whole stream with params_load_record; every parameter must be
 * found. */
bool params_load(Params *p, TStreamReader *r, Err *err);

#endif
