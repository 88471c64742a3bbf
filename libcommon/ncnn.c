/* SPDX-License-Identifier: Apache-2.0 */
/* ncnn: .param/.bin network files (see ncnn.h). */
#include "ncnn.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "half.h"

#define PARAM_MAGIC 7767517
#define TAG_FP16 0x01306B47u
#define MAX_PARAM_BYTES ((long)16 << 20)
#define MAX_BIN_BYTES ((long)2 << 30)
#define MAX_NAME_BYTES 256

static const char *const TYPE_NAMES[] = {"Input", "Convolution", "Pooling", "Split", "Concat", "Softmax"};
_Static_assert(sizeof TYPE_NAMES / sizeof TYPE_NAMES[0] == NCNN_LAYER_TYPE_COUNT, "one name per layer type");

const char *ncnn_layer_type_name(NcnnLayerType type)
{
    return (unsigned)type < NCNN_LAYER_TYPE_COUNT ? TYPE_NAMES[type] : "?";
}

int ncnn_layer_int(const NcnnLayer *layer, int id, int fallback)
{
    return id >= 0 && id < NCNN_MAX_PARAM_ID && layer->has[id] ? layer->ival[id] : fallback;
}

int ncnn_net_find_blob(const NcnnNet *net, const char *name)
{
    for (int i = 0; i < net->blob_count; i++)
        if (net->blob_names[i] && !strcmp(net->blob_names[i], name))
            return i;
    return -1;
}

int ncnn_net_find_layer(const NcnnNet *net, const char *name)
{
    for (int i = 0; i < net->layer_count; i++)
        if (!strcmp(net->layers[i].name, name))
            return i;
    return -1;
}

void ncnn_net_free(NcnnNet *net)
{
    if (!net)
        return;
    for (int i = 0; i < net->layer_count; i++) {
        free(net->layers[i].name);
        free(net->layers[i].weight);
        free(net->layers[i].bias);
    }
    free(net->layers);
    for (int i = 0; i < net->blob_count; i++)
        free(net->blob_names[i]);
    free(net->blob_names);
    free(net);
}

// Reads a whole file of at most max bytes (NUL-terminated copy, malloc-owned).
static char *read_file(const char *path, long max, size_t *bytes, Err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(err, "%s: cannot open: %s", path, strerror(errno)), NULL;
    char *data = NULL;
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        len = ftell(f);
    if (len < 0 || fseek(f, 0, SEEK_SET) != 0)
        err_set(err, "%s: cannot determine the size", path);
    else if (len > max)
        err_set(err, "%s: %ld bytes, more than %ld", path, len, max);
    else if ((data = xmalloc_array((size_t)len + 1, 1, err)) && fread(data, 1, (size_t)len, f) != (size_t)len)
        err_set(err, "%s: read error", path);
    fclose(f);
    if (err_is_set(err)) {
        free(data);
        return NULL;
    }
    data[len] = 0;
    *bytes = (size_t)len;
    return data;
}

// Splits the next whitespace-separated token off *p (in place). NULL at end of line.
static char *next_token(char **p)
{
    char *s = *p;
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    if (!*s)
        return *p = s, NULL;
    char *start = s;
    while (*s && *s != ' ' && *s != '\t' && *s != '\r')
        s++;
    if (*s)
        *s++ = 0;
    *p = s;
    return start;
}

typedef struct ParamParser {
    const char *path;
    int line;
    NcnnNet *net;
    int blobs_seen; // blobs named so far
    Err *err;
} ParamParser;

static bool parse_fail(ParamParser *pp, const char *what)
{
    return err_set(pp->err, "%s:line %d: %s", pp->path, pp->line, what);
}

// Index of blob name, defining it when define is true (each blob is produced once).
static bool blob_index(ParamParser *pp, const char *name, bool define, int *index)
{
    if (strlen(name) >= MAX_NAME_BYTES)
        return parse_fail(pp, "blob name too long");
    int i = ncnn_net_find_blob(pp->net, name);
    if (!define) {
        if (i < 0) {
            err_set(pp->err, "%s:line %d: blob %s is used before any layer produces it", pp->path, pp->line, name);
            return false;
        }
        *index = i;
        return true;
    }
    if (i >= 0) {
        err_set(pp->err, "%s:line %d: blob %s is produced twice", pp->path, pp->line, name);
        return false;
    }
    if (pp->blobs_seen >= pp->net->blob_count)
        return parse_fail(pp, "more blobs than the header declares");
    if (!(pp->net->blob_names[pp->blobs_seen] = xstrdup(name, pp->err)))
        return false;
    *index = pp->blobs_seen++;
    return true;
}

static bool parse_kv(ParamParser *pp, NcnnLayer *layer, char *tok)
{
    char *eq = strchr(tok, '=');
    if (!eq)
        return parse_fail(pp, "expected k=v");
    *eq = 0;
    int64_t id;
    if (!cli_parse_int(tok, &id))
        return parse_fail(pp, "parameter id is not an integer");
    if (id <= -23300) // array parameter "-233xx=n,v1,...": not used by the supported layers
        return true;
    if (id < 0 || id >= NCNN_MAX_PARAM_ID) {
        err_set(pp->err, "%s:line %d: parameter id %lld out of range", pp->path, pp->line, (long long)id);
        return false;
    }
    const char *v = eq + 1;
    int64_t iv;
    double dv;
    if (cli_parse_int(v, &iv) && iv >= INT_MIN && iv <= INT_MAX) {
        layer->ival[id] = (int)iv;
        layer->fval[id] = (float)iv;
    } else if (cli_parse_double(v, &dv) && dv >= INT_MIN && dv <= INT_MAX) {
        layer->ival[id] = (int)dv;
        layer->fval[id] = (float)dv;
    } else {
        err_set(pp->err, "%s:line %d: bad value '%.60s' for parameter %lld", pp->path, pp->line, v, (long long)id);
        return false;
    }
    layer->has[id] = true;
    return true;
}

static bool parse_layer(ParamParser *pp, char *line, NcnnLayer *layer)
{
    char *type = next_token(&line), *name = next_token(&line);
    char *n_in = next_token(&line), *n_out = next_token(&line);
    if (!type || !name || !n_in || !n_out)
        return parse_fail(pp, "expected: type name n_in n_out blobs... k=v...");
    int t = 0;
    while (t < NCNN_LAYER_TYPE_COUNT && strcmp(type, TYPE_NAMES[t]))
        t++;
    if (t == NCNN_LAYER_TYPE_COUNT) {
        err_set(pp->err, "%s:line %d: unsupported layer type %.60s", pp->path, pp->line, type);
        return false;
    }
    layer->type = (NcnnLayerType)t;
    if (strlen(name) >= MAX_NAME_BYTES)
        return parse_fail(pp, "layer name too long");
    if (ncnn_net_find_layer(pp->net, name) >= 0) {
        err_set(pp->err, "%s:line %d: layer %s defined twice", pp->path, pp->line, name);
        return false;
    }
    int64_t ni, no;
    if (!cli_parse_int(n_in, &ni) || !cli_parse_int(n_out, &no) || ni < 0 || no < 0 ||
        ni > NCNN_MAX_LAYER_IO || no > NCNN_MAX_LAYER_IO)
        return parse_fail(pp, "bad blob counts");
    layer->n_in = (int)ni;
    layer->n_out = (int)no;
    for (int i = 0; i < layer->n_in + layer->n_out; i++) {
        char *blob = next_token(&line);
        if (!blob)
            return parse_fail(pp, "fewer blob names than declared");
        bool is_out = i >= layer->n_in;
        if (!blob_index(pp, blob, is_out, is_out ? &layer->out[i - layer->n_in] : &layer->in[i]))
            return false;
    }
    for (char *tok; (tok = next_token(&line));)
        if (!parse_kv(pp, layer, tok))
            return false;
    // name last: a layer is freed through it only once it is complete.
    return (layer->name = xstrdup(name, pp->err)) != NULL;
}

static bool parse_param(NcnnNet *net, const char *path, char *text, Err *err)
{
    ParamParser pp = {.path = path, .net = net, .err = err};
    char *save = NULL;
    int64_t magic, layers, blobs;
    char *line = strtok_r(text, "\n", &save);
    pp.line = 1;
    char *first = line ? next_token(&line) : NULL;
    if (!first || !cli_parse_int(first, &magic) || magic != PARAM_MAGIC)
        return parse_fail(&pp, "not an ncnn .param file (expected 7767517)");
    line = strtok_r(NULL, "\n", &save);
    pp.line = 2;
    char *p = line;
    char *a = line ? next_token(&p) : NULL, *b = line ? next_token(&p) : NULL;
    if (!a || !b || !cli_parse_int(a, &layers) || !cli_parse_int(b, &blobs) || layers < 1 ||
        layers > NCNN_MAX_LAYERS || blobs < 1 || blobs > NCNN_MAX_LAYERS * NCNN_MAX_LAYER_IO)
        return parse_fail(&pp, "expected '<layers> <blobs>'");
    if (!(net->layers = xcalloc_array((size_t)layers, sizeof *net->layers, err)) ||
        !(net->blob_names = xcalloc_array((size_t)blobs, sizeof *net->blob_names, err)))
        return false;
    net->blob_count = (int)blobs;
    for (int i = 0; i < layers; i++) {
        line = strtok_r(NULL, "\n", &save);
        pp.line = 3 + i; // blank lines are skipped by strtok_r; the count stays right for files without them
        if (!line) {
            err_set(err, "%s: %d layers declared, %d found", path, (int)layers, i);
            return false;
        }
        if (!parse_layer(&pp, line, &net->layers[i]))
            return false;
        net->layer_count = i + 1;
    }
    if (strtok_r(NULL, "\n", &save)) {
        pp.line = 3 + (int)layers;
        return parse_fail(&pp, "more layers than the header declares");
    }
    if (pp.blobs_seen != net->blob_count) {
        err_set(err, "%s: %d blobs declared, %d produced", path, net->blob_count, pp.blobs_seen);
        return false;
    }
    return true;
}


typedef struct BinReader {
    const char *path;
    const unsigned char *data;
    size_t n, pos;
    Err *err;
} BinReader;

static bool bin_take(BinReader *br, size_t bytes, const char *what, const char *layer)
{
    if (bytes > br->n - br->pos) {
        err_set(br->err, "%s: truncated: %s of layer %s needs %zu bytes, %zu left (byte offset %zu)", br->path, what,
                layer, bytes, br->n - br->pos, br->pos);
        return false;
    }
    return true;
}

// The weights of one Convolution: tagged fp16 or fp32, then the fp32 bias.
static bool load_conv_weights(BinReader *br, NcnnLayer *layer)
{
    int64_t count = ncnn_layer_int(layer, 6, 0), oc = ncnn_layer_int(layer, 0, 0);
    if (count < 1 || count > NCNN_MAX_WEIGHTS || oc < 1 || count % oc) {
        err_set(br->err, "%s: layer %s: weight count %lld does not fit %lld outputs", br->path, layer->name,
                (long long)count, (long long)oc);
        return false;
    }
    if (!bin_take(br, 4, "weight tag", layer->name))
        return false;
    const unsigned char *p = br->data + br->pos;
    uint32_t tag = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    size_t tag_pos = br->pos;
    br->pos += 4;
    if (!(layer->weight = xmalloc_array((size_t)count, sizeof(float), br->err)))
        return false;
    layer->weight_count = count;
    if (tag == TAG_FP16) {
        size_t bytes = ((size_t)count * 2 + 3) & ~(size_t)3; // padded to 4 bytes
        if (!bin_take(br, bytes, "fp16 weights", layer->name))
            return false;
        p = br->data + br->pos;
        for (int64_t i = 0; i < count; i++)
            layer->weight[i] = half_to_float((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        br->pos += bytes;
    } else if (tag == 0) {
        if (!bin_take(br, (size_t)count * 4, "fp32 weights", layer->name))
            return false;
        memcpy(layer->weight, br->data + br->pos, (size_t)count * 4);
        br->pos += (size_t)count * 4;
    } else {
        err_set(br->err, "%s: layer %s: unsupported weight encoding 0x%08x (byte offset %zu)", br->path, layer->name,
                tag, tag_pos);
        return false;
    }
    if (ncnn_layer_int(layer, 5, 0)) {
        if (!bin_take(br, (size_t)oc * 4, "bias", layer->name) ||
            !(layer->bias = xmalloc_array((size_t)oc, sizeof(float), br->err)))
            return false;
        memcpy(layer->bias, br->data + br->pos, (size_t)oc * 4);
        br->pos += (size_t)oc * 4;
    }
    return true;
}

NcnnNet *ncnn_net_parse(const char *param_text, size_t param_bytes, const void *bin, size_t bin_bytes,
                        const char *param_name, const char *bin_name, Err *err)
{
    if (memchr(param_text, 0, param_bytes)) {
        err_set(err, "%s: NUL byte in a text file", param_name);
        return NULL;
    }
    NcnnNet *net = xcalloc_array(1, sizeof *net, err);
    char *text = net ? xmalloc_array(param_bytes + 1, 1, err) : NULL;
    if (!text)
        goto fail;
    memcpy(text, param_text, param_bytes);
    text[param_bytes] = 0;
    if (!parse_param(net, param_name, text, err))
        goto fail;
    BinReader br = {.path = bin_name, .data = bin, .n = bin_bytes, .err = err};
    for (int i = 0; i < net->layer_count; i++)
        if (net->layers[i].type == NCNN_CONVOLUTION && !load_conv_weights(&br, &net->layers[i]))
            goto fail;
    if (br.pos != br.n) {
        err_set(err, "%s: %zu bytes left over after the last layer's weights: the .bin does not match the .param",
                bin_name, br.n - br.pos);
        goto fail;
    }
    free(text);
    return net;
fail:
    free(text);
    ncnn_net_free(net);
    return NULL;
}

NcnnNet *ncnn_net_load(const char *param_path, const char *bin_path, Err *err)
{
    size_t text_bytes, bin_bytes;
    char *text = read_file(param_path, MAX_PARAM_BYTES, &text_bytes, err);
    char *bin = text ? read_file(bin_path, MAX_BIN_BYTES, &bin_bytes, err) : NULL;
    NcnnNet *net = bin ? ncnn_net_parse(text, text_bytes, bin, bin_bytes, param_path, bin_path, err) : NULL;
    free(text);
    free(bin);
    return net;
}
