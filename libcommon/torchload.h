/* SPDX-License-Identifier: Apache-2.0 */
/*
 * torchload: read PyTorch checkpoint files (torch.save) without Python.
 *
 * Both container formats are supported: the legacy format (a run of pickles
 * followed by raw storages, torch < 1.6 and the paper's files) and the zip
 * format of torch >= 1.6 (archive/data.pkl plus archive/data/<key>). A
 * minimal unpickler implements exactly the opcodes torch.save emits
 * (protocol 2), rebuilding tensors through torch._utils._rebuild_tensor_v2
 * with their storage, offset, size and stride.
 *
 * The result is flattened into named float32 arrays: nested dicts, lists and
 * tuples are joined with '.', so a state dict gives "features.0.weight", and
 * the paper's mean/var file gives "r12.0" (mean) and "r12.1" (var). Float64
 * float16 and bfloat16 storages are converted to float32; integer tensors
 * (counters such as BatchNorm's num_batches_tracked) are skipped. A file
 * holding one bare tensor gives one array with the empty name. Only
 * collections.OrderedDict, torch._utils._rebuild_tensor(_v2),
 * torch._utils._rebuild_parameter(_with_state) and torch.*Storage may appear
 * in the pickle: any other global is refused by name and nothing is run.
 *
 * Hostile files: every size, offset and stride is checked against the
 * storage it indexes and against TORCHLOAD_MAX_BYTES before allocation;
 * malformed pickles give "file: what is wrong (byte offset N)".
 * Thread safety: reentrant. Ownership: NamedArrays owns every array.
 *
 *     NamedArrays w = {0};
 *     if (!torch_load("vgg19-normalised-conv3_1.pth", &w, &err)) ...
 *     const NamedArray *a = named_arrays_find(&w, "2.weight");   // (64,3,3,3)
 *     named_arrays_fini(&w);
 */
#ifndef ADKIT_TORCHLOAD_H
#define ADKIT_TORCHLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define TORCHLOAD_MAX_DIMS 8
#define TORCHLOAD_MAX_BYTES ((size_t)4 << 30)

typedef struct NamedArray {
    char *name;                        /* flattened key, owned */
    int ndim;                          /* 0..TORCHLOAD_MAX_DIMS */
    int64_t dims[TORCHLOAD_MAX_DIMS];  /* the tensor's size() */
    float *data;                       /* contiguous row-major copy, owned */
} NamedArray;

typedef struct NamedArrays {
    NamedArray *items; /* count entries, in the file's order */
    size_t count;
} NamedArrays;

/* Loads every floating-point tensor of a checkpoint. */
bool torch_load(const char *path, NamedArrays *out, Err *err);

/* The same from memory (name is used in messages). */
bool torch_load_buffer(const void *buf, size_t n, const char *name, NamedArrays *out, Err *err);

/* The array called name, or NULL. Borrowed from arrays. */
const NamedArray *named_arrays_find(const NamedArrays *arrays, const char *name);

/* Number of elements of one array. */
int64_t named_array_elements(const NamedArray *a);

/* Frees everything; the struct may be reused. */
void named_arrays_fini(NamedArrays *arrays);

#endif
