/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ncnn: read a network in ncnn's format, a text .param file (the graph) and
 * a binary .bin file (the weights), as published for SqueezeNet 1.1.
 *
 * .param: a line "7767517", a line "<layers> <blobs>", then one line per
 * layer: "Type name n_in n_out in_blobs... out_blobs... k=v ...", where k is
 * a small integer id and v an integer or a float (array values, keys
 * -23300-id, are read and ignored). .bin: for each Convolution in layer
 * order, its weights (a uint32 tag 0x01306B47 then IEEE fp16 values padded to
 * 4 bytes, or a tag 0 then fp32 values) followed, when it has a bias, by
 * fp32 bias[out]. Every count is checked against the file: a weight count
 * that disagrees with the layer's shape, a short or over-long .bin, an
 * undefined blob or a blob produced twice are errors.
 *
 * Not for: running the network (squeezenet.h does), int8 or other quantised
 * weight encodings, layer types other than Input, Convolution, Pooling,
 * Split, Concat, Softmax (an unsupported type is an error naming it).
 * Errors: "file:line N: what is wrong" for .param, "file: what is wrong
 * (byte offset N)" for .bin. Thread safety: a loaded NcnnNet is read-only
 * and may be shared by threads. Ownership: ncnn_net_free frees everything.
 *
 *     NcnnNet *net = ncnn_net_load("squeezenet_v1.1.param", "squeezenet_v1.1.bin", &err);
 *     if (!net) return cli_report(&err);
 *     for (int i = 0; i < net->layer_count; i++)
 *         printf("%s %s\n", ncnn_layer_type_name(net->layers[i].type), net->layers[i].name);
 *     ncnn_net_free(net);
 */
#ifndef ADKIT_NCNN_H
#define ADKIT_NCNN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define NCNN_MAX_LAYERS 4096
#define NCNN_MAX_LAYER_IO 16    /* inputs or outputs of one layer */
#define NCNN_MAX_PARAM_ID 32    /* k of k=v must be below this */
#define NCNN_MAX_WEIGHTS ((int64_t)1 << 28)

typedef enum NcnnLayerType {
    NCNN_INPUT,
    NCNN_CONVOLUTION,
    NCNN_POOLING,
    NCNN_SPLIT,
    NCNN_CONCAT,
    NCNN_SOFTMAX,
    NCNN_LAYER_TYPE_COUNT
} NcnnLayerType;

typedef struct NcnnLayer {
    NcnnLayerType type;
    char *name;                         /* layer name, owned */
    int n_in, n_out;                    /* number of input and output blobs */
    int in[NCNN_MAX_LAYER_IO];          /* blob indices read */
    int out[NCNN_MAX_LAYER_IO];         /* blob indices written */
    bool has[NCNN_MAX_PARAM_ID];        /* whether k=v was given for id k */
    int ival[NCNN_MAX_PARAM_ID];        /* v as an integer (truncated if a float) */
    float fval[NCNN_MAX_PARAM_ID];      /* v as a float */
    /* Convolution only (NULL otherwise): weights (OC, IC, K, K) and bias
     * (OC) or NULL, converted to fp32, owned. weight_count = ival[6]. */
    float *weight, *bias;
    int64_t weight_count;
} NcnnLayer;

typedef struct NcnnNet {
    NcnnLayer *layers; /* layer_count entries in file order, owned */
    int layer_count;
    char **blob_names; /* blob_count names, owned; blob i is produced by exactly one layer */
    int blob_count;
} NcnnNet;

/* Parses param_path and loads bin_path. NULL with err set on failure. */
NcnnNet *ncnn_net_load(const char *param_path, const char *bin_path, Err *err);

/* The same from memory: param_text (param_bytes, not NUL-terminated) and
 * bin (bin_bytes); the names are used in messages. Nothing is borrowed. */
NcnnNet *ncnn_net_parse(const char *param_text, size_t param_bytes, const void *bin, size_t bin_bytes,
                        const char *param_name, const char *bin_name, Err *err);

/* Frees the net; NULL is fine. */
void ncnn_net_free(NcnnNet *net);

/* The value of parameter id of a layer, or fallback when the file omits it. */
int ncnn_layer_int(const NcnnLayer *layer, int id, int fallback);

/* "Convolution", "Pooling", ... */
const char *ncnn_layer_type_name(NcnnLayerType type);

/* Index of the blob called name, or -1. */
int ncnn_net_find_blob(const NcnnNet *net, const char *name);

/* Index of the layer called name, or -1. */
int ncnn_net_find_layer(const NcnnNet *net, const char *name);

#endif
