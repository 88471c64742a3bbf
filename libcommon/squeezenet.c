/* SPDX-License-Identifier: Apache-2.0 */
/* squeezenet: forward pass of an ncnn graph of conv/pool/concat/softmax layers (see squeezenet.h). */
#include "squeezenet.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "ncnn.h"

// Largest input side accepted by the Input layer.
#define MAX_SIDE 4096

typedef struct BlobShape {
    int64_t c, h, w;
} BlobShape;

// What a layer does, with every parameter checked at load time.
typedef struct LayerPlan {
    int kernel, stride, pad; // Convolution, Pooling
    bool relu;               // Convolution: fused ReLU (9=1)
    bool global_avg;         // Pooling: global average instead of max
} LayerPlan;

struct SqueezeNet {
    NcnnNet *ncnn;
    BlobShape *shapes; // per blob, for one image
    LayerPlan *plans;  // per layer
    int input_blob;
    int side;
};

static bool layer_error(const NcnnLayer *l, const char *what, Err *err)
{
    return err_set(err, "layer %s (%s): %s", l->name, ncnn_layer_type_name(l->type), what);
}

// Caffe's pooled size: round up, then drop a window that would start in the padding.
static int64_t caffe_pool_size(int64_t in, int kernel, int stride, int pad)
{
    int64_t out = (in + 2 * pad - kernel + stride - 1) / stride + 1;
    if (pad > 0 && (out - 1) * stride >= in + pad)
        out--;
    return out;
}

static bool plan_conv(const NcnnLayer *l, LayerPlan *p, const BlobShape *in, BlobShape *out, Err *err)
{
    int oc = ncnn_layer_int(l, 0, 0), k = ncnn_layer_int(l, 1, 0), stride = ncnn_layer_int(l, 3, 1);
    int pad = ncnn_layer_int(l, 4, 0), act = ncnn_layer_int(l, 9, 0);
    if (ncnn_layer_int(l, 11, k) != k || ncnn_layer_int(l, 13, stride) != stride ||
        ncnn_layer_int(l, 14, pad) != pad || ncnn_layer_int(l, 15, pad) != pad || ncnn_layer_int(l, 16, pad) != pad)
        return layer_error(l, "only square kernels, strides and paddings are supported", err);
    if (ncnn_layer_int(l, 2, 1) != 1 || ncnn_layer_int(l, 12, 1) != 1)
        return layer_error(l, "dilation is not supported", err);
    if (ncnn_layer_int(l, 8, 0) != 0)
        return layer_error(l, "int8 convolution is not supported", err);
    if (act != 0 && act != 1)
        return layer_error(l, "only ReLU (9=1) or no activation is supported", err);
    if (oc < 1 || k < 1 || stride < 1 || pad < 0 || in->h + 2 * pad < k || in->w + 2 * pad < k)
        return layer_error(l, "kernel, stride or padding does not fit its input", err);
    if (l->weight_count != (int64_t)oc * in->c * k * k) {
        err_set(err, "layer %s (Convolution): %lld weights, expected %d x %lld x %d x %d", l->name,
                (long long)l->weight_count, oc, (long long)in->c, k, k);
        return false;
    }
    *p = (LayerPlan){.kernel = k, .stride = stride, .pad = pad, .relu = act == 1};
    *out = (BlobShape){oc, (in->h + 2 * pad - k) / stride + 1, (in->w + 2 * pad - k) / stride + 1};
    return true;
}

static bool plan_pool(const NcnnLayer *l, LayerPlan *p, const BlobShape *in, BlobShape *out, Err *err)
{
    int type = ncnn_layer_int(l, 0, 0), k = ncnn_layer_int(l, 1, 0), stride = ncnn_layer_int(l, 2, 1);
    int pad = ncnn_layer_int(l, 3, 0);
    if (ncnn_layer_int(l, 4, 0)) { // global pooling
        if (type != 1)
            return layer_error(l, "only global average pooling is supported", err);
        *p = (LayerPlan){.global_avg = true};
        *out = (BlobShape){in->c, 1, 1};
        return true;
    }
    if (type != 0)
        return layer_error(l, "only max pooling is supported for windows", err);
    if (ncnn_layer_int(l, 5, 0) != 0)
        return layer_error(l, "only Caffe-style (pad_mode 0) pooling is supported", err);
    if (ncnn_layer_int(l, 11, k) != k || ncnn_layer_int(l, 12, stride) != stride ||
        ncnn_layer_int(l, 13, pad) != pad || ncnn_layer_int(l, 14, pad) != pad || ncnn_layer_int(l, 15, pad) != pad)
        return layer_error(l, "only square windows, strides and paddings are supported", err);
    if (k < 1 || stride < 1 || pad < 0 || pad >= k || in->h + 2 * pad < k || in->w + 2 * pad < k)
        return layer_error(l, "window, stride or padding does not fit its input", err);
    *p = (LayerPlan){.kernel = k, .stride = stride, .pad = pad};
    *out = (BlobShape){in->c, caffe_pool_size(in->h, k, stride, pad), caffe_pool_size(in->w, k, stride, pad)};
    return true;
}

// Infers every blob's shape from the Input layer and checks each layer against it.
static bool plan_net(SqueezeNet *net, Err *err)
{
    const NcnnNet *g = net->ncnn;
    net->input_blob = -1;
    for (int i = 0; i < g->layer_count; i++) {
        const NcnnLayer *l = &g->layers[i];
        LayerPlan *p = &net->plans[i];
        BlobShape *in = l->n_in ? &net->shapes[l->in[0]] : NULL;
        int want_in = l->type == NCNN_INPUT ? 0 : l->type == NCNN_CONCAT ? -1 : 1;
        int want_out = l->type == NCNN_SPLIT ? -1 : 1;
        if ((want_in >= 0 && l->n_in != want_in) || (want_in < 0 && l->n_in < 1) ||
            (want_out >= 0 && l->n_out != want_out) || (want_out < 0 && l->n_out < 1))
            return layer_error(l, "wrong number of input or output blobs", err);
        BlobShape out;
        switch (l->type) {
        case NCNN_INPUT: {
            int w = ncnn_layer_int(l, 0, 0), h = ncnn_layer_int(l, 1, 0), c = ncnn_layer_int(l, 2, 0);
            if (net->input_blob >= 0)
                return layer_error(l, "a second Input layer", err);
            if (w != h || w < 1 || w > MAX_SIDE || c != 3)
                return layer_error(l, "the input must be 3 x S x S", err);
            net->input_blob = l->out[0];
            net->side = w;
            out = (BlobShape){c, h, w};
            break;
        }
        case NCNN_CONVOLUTION:
            if (!plan_conv(l, p, in, &out, err))
                return false;
            break;
        case NCNN_POOLING:
            if (!plan_pool(l, p, in, &out, err))
                return false;
            break;
        case NCNN_CONCAT:
            if (ncnn_layer_int(l, 0, 0) != 0)
                return layer_error(l, "only channel concatenation is supported", err);
            out = (BlobShape){0, in->h, in->w};
            for (int k = 0; k < l->n_in; k++) {
                const BlobShape *s = &net->shapes[l->in[k]];
                if (s->h != in->h || s->w != in->w)
                    return layer_error(l, "inputs differ in height or width", err);
                out.c += s->c;
            }
            break;
        case NCNN_SOFTMAX:
            if (ncnn_layer_int(l, 0, 0) != 0)
                return layer_error(l, "only channel softmax is supported", err);
            out = *in;
            break;
        default: // NCNN_SPLIT
            out = *in;
            break;
        }
        for (int k = 0; k < l->n_out; k++)
            net->shapes[l->out[k]] = out;
    }
    if (net->input_blob < 0)
        return err_set(err, "the network has no Input layer");
    return true;
}

SqueezeNet *squeezenet_new(NcnnNet *ncnn, Err *err)
{
    SqueezeNet *net = xcalloc_array(1, sizeof *net, err);
    if (!net) {
        ncnn_net_free(ncnn);
        return NULL;
    }
    net->ncnn = ncnn;
    if (!(net->shapes = xcalloc_array((size_t)ncnn->blob_count, sizeof *net->shapes, err)) ||
        !(net->plans = xcalloc_array((size_t)ncnn->layer_count, sizeof *net->plans, err)) || !plan_net(net, err)) {
        squeezenet_free(net);
        return NULL;
    }
    return net;
}

SqueezeNet *squeezenet_load(const char *param_path, const char *bin_path, Err *err)
{
    NcnnNet *ncnn = ncnn_net_load(param_path, bin_path, err);
    SqueezeNet *net = ncnn ? squeezenet_new(ncnn, err) : NULL;
    if (ncnn && !net)
        err_prefix(err, "%s", param_path);
    return net;
}

void squeezenet_free(SqueezeNet *net)
{
    if (!net)
        return;
    ncnn_net_free(net->ncnn);
    free(net->shapes);
    free(net->plans);
    free(net);
}

int squeezenet_input_side(const SqueezeNet *net) { return net->side; }

// The blob a tap names: a layer's (first) output, else a blob of that name.
static int tap_blob(const SqueezeNet *net, const char *tap)
{
    int layer = ncnn_net_find_layer(net->ncnn, tap);
    if (layer >= 0 && net->ncnn->layers[layer].n_out > 0)
        return net->ncnn->layers[layer].out[0];
    return ncnn_net_find_blob(net->ncnn, tap);
}

void squeezenet_tap_names(const SqueezeNet *net, char *buf, size_t size)
{
    size_t used = 0;
    if (size)
        buf[0] = 0;
    for (int i = 0; i < net->ncnn->layer_count; i++) {
        const NcnnLayer *l = &net->ncnn->layers[i];
        if (l->type == NCNN_SPLIT || l->type == NCNN_INPUT)
            continue;
        size_t len = strlen(l->name);
        if (used + len + 2 > size)
            break;
        if (used)
            buf[used++] = ' ';
        memcpy(buf + used, l->name, len + 1);
        used += len;
    }
}

static bool unknown_tap(const SqueezeNet *net, const char *tap, Err *err)
{
    char names[2048];
    squeezenet_tap_names(net, names, sizeof names);
    return err_set(err, "unknown tap %.100s (taps: %s)", tap, names);
}

bool squeezenet_tap_shape(const SqueezeNet *net, const char *tap, int64_t chw[3], Err *err)
{
    int b = tap_blob(net, tap);
    if (b < 0)
        return unknown_tap(net, tap, err);
    chw[0] = net->shapes[b].c;
    chw[1] = net->shapes[b].h;
    chw[2] = net->shapes[b].w;
    return true;
}

// Source position and weight of output index d along one axis (ncnn's
// resize_bilinear: half-pixel centres, clamped at both edges).
static void bilinear_tap(int d, int src, int dst, int *i0, int *i1, float *frac)
{
    double scale = (double)src / dst;
    float f = (float)((d + 0.5) * scale - 0.5);
    int i = (int)floorf(f);
    f -= (float)i;
    if (i < 0) {
        i = 0;
        f = 0.0f;
    }
    if (i >= src - 1) {
        i = src > 1 ? src - 2 : 0;
        f = src > 1 ? 1.0f : 0.0f;
    }
    *i0 = i;
    *i1 = src > 1 ? i + 1 : i;
    *frac = f;
}

// Plain bilinear resize of an interleaved 8-bit image, rounded to 8 bits,
// as ncnn::Mat::from_pixels_resize does before SqueezeNet.
static void bilinear_resize_u8(uint8_t *dst, int dw, int dh, const uint8_t *src, int sw, int sh, int channels)
{
#pragma omp parallel for schedule(static)
    for (int y = 0; y < dh; y++) {
        int y0, y1;
        float fy;
        bilinear_tap(y, sh, dh, &y0, &y1, &fy);
        for (int x = 0; x < dw; x++) {
            int x0, x1;
            float fx;
            bilinear_tap(x, sw, dw, &x0, &x1, &fx);
            for (int c = 0; c < channels; c++) {
                float a = src[((size_t)y0 * (size_t)sw + (size_t)x0) * (size_t)channels + (size_t)c];
                float b = src[((size_t)y0 * (size_t)sw + (size_t)x1) * (size_t)channels + (size_t)c];
                float d = src[((size_t)y1 * (size_t)sw + (size_t)x0) * (size_t)channels + (size_t)c];
                float e = src[((size_t)y1 * (size_t)sw + (size_t)x1) * (size_t)channels + (size_t)c];
                float v = (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * d + fx * e);
                dst[((size_t)y * (size_t)dw + (size_t)x) * (size_t)channels + (size_t)c] = (uint8_t)lrintf(v);
            }
        }
    }
}

bool squeezenet_preprocess(float *out, int side, const uint8_t *chw, int channels, int height, int width,
                           Err *err)
{
    if (channels != 1 && channels != 3 && channels != 4)
        return err_set(err, "image has %d channels; 1 (grey), 3 (RGB) or 4 (RGBA) expected", channels);
    if (side < 1 || height < 1 || width < 1)
        return err_set(err, "empty image (%dx%d)", width, height);
    int keep = channels == 1 ? 1 : 3;
    size_t plane = (size_t)height * (size_t)width, out_plane = (size_t)side * (size_t)side;
    uint8_t *hwc = xmalloc_array(plane, (size_t)keep, err);
    uint8_t *small = hwc ? xmalloc_array(out_plane, (size_t)keep, err) : NULL;
    if (!small) {
        free(hwc);
        return false;
    }
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < keep; c++)
            hwc[i * (size_t)keep + (size_t)c] = chw[(size_t)c * plane + i];
    // AMBIGUOUS: the published model's reference pipeline (ncnn's squeezenet
    // example) resizes with plain bilinear interpolation, no antialiasing;
    // an antialiased resize (Pillow) turns the dragonfly photo's top-1 into
    // "tarantula", so the plain rule is the faithful one.
    if (height == side && width == side)
        memcpy(small, hwc, out_plane * (size_t)keep);
    else
        bilinear_resize_u8(small, side, side, hwc, width, height, keep);
    {
        static const float mean_bgr[3] = {104.0f, 117.0f, 123.0f};
        for (int c = 0; c < 3; c++) { // c is the BGR channel; RGB source channel is 2 - c
            int src = keep == 1 ? 0 : 2 - c;
            for (size_t i = 0; i < out_plane; i++)
                out[(size_t)c * out_plane + i] = (float)small[i * (size_t)keep + (size_t)src] - mean_bgr[c];
        }
    }
    free(small);
    free(hwc);
    return true;
}

// ---- layers ----

static bool run_conv(const NcnnLayer *l, const LayerPlan *p, float *out, const float *in, const BlobShape *s,
                     int64_t n, Err *err)
{
    ConvShape cs;
    if (!conv_shape_init(&cs, n, s->c, s->h, s->w, ncnn_layer_int(l, 0, 0), p->kernel, p->kernel, p->stride,
                         p->pad, err))
        return false;
    void *ws = xmalloc_array(conv_workspace_bytes(&cs) + 1, 1, err);
    if (!ws)
        return false;
    conv2d_forward_cpu(out, in, l->weight, l->bias, &cs, ws);
    free(ws);
    if (p->relu) {
        int64_t count = n * cs.OC * cs.OH * cs.OW;
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < count; i++)
            out[i] = out[i] > 0.0f ? out[i] : 0.0f;
    }
    return true;
}

static void run_max_pool(const LayerPlan *p, float *out, const float *in, const BlobShape *s, const BlobShape *o,
                         int64_t n)
{
    int64_t planes = n * s->c;
#pragma omp parallel for schedule(static)
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *src = in + pl * s->h * s->w;
        float *dst = out + pl * o->h * o->w;
        for (int64_t oy = 0; oy < o->h; oy++) {
            int64_t y0 = oy * p->stride - p->pad, y1 = y0 + p->kernel;
            y0 = y0 < 0 ? 0 : y0;
            y1 = y1 > s->h ? s->h : y1;
            for (int64_t ox = 0; ox < o->w; ox++) {
                int64_t x0 = ox * p->stride - p->pad, x1 = x0 + p->kernel;
                x0 = x0 < 0 ? 0 : x0;
                x1 = x1 > s->w ? s->w : x1;
                float m = -FLT_MAX;
                for (int64_t y = y0; y < y1; y++)
                    for (int64_t x = x0; x < x1; x++)
                        m = src[y * s->w + x] > m ? src[y * s->w + x] : m;
                dst[oy * o->w + ox] = m;
            }
        }
    }
}

static void run_global_avg(float *out, const float *in, const BlobShape *s, int64_t n)
{
    int64_t planes = n * s->c, area = s->h * s->w;
#pragma omp parallel for schedule(static)
    for (int64_t pl = 0; pl < planes; pl++) {
        double sum = 0; // double: the mean of up to millions of values stays exact enough
        for (int64_t i = 0; i < area; i++)
            sum += in[pl * area + i];
        out[pl] = (float)(sum / (double)area);
    }
}

static void run_softmax(float *out, const float *in, const BlobShape *s, int64_t n)
{
    int64_t area = s->h * s->w;
#pragma omp parallel for schedule(static)
    for (int64_t img = 0; img < n; img++) {
        for (int64_t i = 0; i < area; i++) {
            const float *src = in + img * s->c * area + i;
            float *dst = out + img * s->c * area + i;
            float m = -FLT_MAX;
            for (int64_t c = 0; c < s->c; c++)
                m = src[c * area] > m ? src[c * area] : m;
            double sum = 0;
            for (int64_t c = 0; c < s->c; c++) {
                dst[c * area] = expf(src[c * area] - m);
                sum += dst[c * area];
            }
            for (int64_t c = 0; c < s->c; c++)
                dst[c * area] = (float)(dst[c * area] / sum);
        }
    }
}

static int64_t blob_floats(const SqueezeNet *net, int b, int64_t n)
{
    const BlobShape *s = &net->shapes[b];
    return n * s->c * s->h * s->w;
}

// Runs one layer; its outputs are allocated here (Split outputs share their input).
static bool run_layer(const SqueezeNet *net, int i, float **blobs, int64_t n, Err *err)
{
    const NcnnLayer *l = &net->ncnn->layers[i];
    const LayerPlan *p = &net->plans[i];
    if (l->type == NCNN_SPLIT) {
        for (int k = 0; k < l->n_out; k++)
            blobs[l->out[k]] = blobs[l->in[0]];
        return true;
    }
    int ob = l->out[0];
    float *out = xmalloc_array((size_t)blob_floats(net, ob, n), sizeof(float), err);
    if (!out)
        return false;
    blobs[ob] = out;
    const BlobShape *s = &net->shapes[l->in[0]];
    switch (l->type) {
    case NCNN_CONVOLUTION:
        return run_conv(l, p, out, blobs[l->in[0]], s, n, err);
    case NCNN_POOLING:
        if (p->global_avg)
            run_global_avg(out, blobs[l->in[0]], s, n);
        else
            run_max_pool(p, out, blobs[l->in[0]], s, &net->shapes[ob], n);
        return true;
    case NCNN_CONCAT: {
        int64_t at = 0, per_image = net->shapes[ob].c * s->h * s->w;
        for (int k = 0; k < l->n_in; k++) {
            int64_t part = blob_floats(net, l->in[k], 1);
            for (int64_t img = 0; img < n; img++)
                memcpy(out + img * per_image + at, blobs[l->in[k]] + img * part, (size_t)part * sizeof(float));
            at += part;
        }
        return true;
    }
    case NCNN_SOFTMAX:
        run_softmax(out, blobs[l->in[0]], s, n);
        return true;
    default:
        return err_set(err, "layer %s cannot run", l->name);
    }
}

bool squeezenet_forward(const SqueezeNet *net, float *out, const float *inp, int64_t n, const char *tap,
                        Err *err)
{
    const NcnnNet *g = net->ncnn;
    int target = tap_blob(net, tap);
    if (target < 0)
        return unknown_tap(net, tap, err);
    if (n < 1)
        return err_set(err, "batch of %lld images", (long long)n);
    size_t out_floats = (size_t)blob_floats(net, target, n);
    bool *needed = xcalloc_array((size_t)g->layer_count, sizeof *needed, err);
    bool *wanted = xcalloc_array((size_t)g->blob_count, sizeof *wanted, err);
    int *owner = xcalloc_array((size_t)g->blob_count, sizeof *owner, err);
    int *readers = xcalloc_array((size_t)g->blob_count, sizeof *readers, err);
    float **blobs = xcalloc_array((size_t)g->blob_count, sizeof *blobs, err);
    bool ok = false;
    if (!needed || !wanted || !owner || !readers || !blobs)
        goto done;
    // A Split's outputs share their input's memory: owner[b] is the blob whose buffer b uses.
    for (int i = 0; i < g->layer_count; i++) {
        const NcnnLayer *l = &g->layers[i];
        for (int k = 0; k < l->n_out; k++)
            owner[l->out[k]] = l->type == NCNN_SPLIT ? owner[l->in[0]] : l->out[k];
    }
    // Only the layers the tap depends on run; a buffer is freed after its last reader.
    wanted[target] = true;
    for (int i = g->layer_count - 1; i >= 0; i--) {
        const NcnnLayer *l = &g->layers[i];
        for (int k = 0; k < l->n_out; k++)
            needed[i] |= wanted[l->out[k]];
        for (int k = 0; needed[i] && k < l->n_in; k++) {
            wanted[l->in[k]] = true;
            if (l->type != NCNN_SPLIT)
                readers[owner[l->in[k]]]++;
        }
    }
    blobs[net->input_blob] = (float *)inp;
    for (int i = 0; i < g->layer_count; i++) {
        const NcnnLayer *l = &g->layers[i];
        if (!needed[i] || l->type == NCNN_INPUT)
            continue;
        if (!run_layer(net, i, blobs, n, err))
            goto done;
        if (l->type == NCNN_SPLIT)
            continue;
        for (int k = 0; k < l->n_in; k++) {
            int b = owner[l->in[k]];
            if (--readers[b] == 0 && b != owner[target] && b != net->input_blob) {
                free(blobs[b]);
                blobs[b] = NULL;
            }
        }
    }
    memcpy(out, blobs[target], out_floats * sizeof(float));
    ok = true;
done:
    if (!ok)
        memset(out, 0, out_floats * sizeof(float));
    for (int b = 0; blobs && b < g->blob_count; b++)
        if (owner[b] == b && b != net->input_blob)
            free(blobs[b]);
    free(needed);
    free(wanted);
    free(owner);
    free(readers);
    free(blobs);
    return ok;
}
