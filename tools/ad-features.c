/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ad-features: pretrained-network features of an image stream.
 *
 * Reads u8 images (C, H, W) with C = 1 (grey) or 3 (RGB), or (H, W) grey,
 * runs them in batches through a pretrained network up to one named layer
 * ("tap") and writes one f32 record per image: the tap's (C, H, W)
 * activations, or with --gap their global average over H and W, (C). The
 * input's metadata (id, label, ...) is kept and `features` (net/tap) and
 * `weights` (file name) are added.
 *
 * Networks:
 *   vgg19       VGG-19 features (spec dpa-piad.md 5.3), taps c11 r11 ... p5.
 *               torchvision's vgg19-dcbb9e9d.pth (all taps, the paper's
 *               extractor) or the normalised prefix
 *               vgg19-normalised-conv3_1.pth (taps up to r31). Images are
 *               used at their own size (H and W must stay even through the
 *               pools before the tap), scaled as the paper does: [0, 255]
 *               -> [-1, 1] -> the network's own normalisation.
 *   squeezenet  SqueezeNet 1.1 (ncnn files squeezenet_v1.1.param/.bin),
 *               taps are its layer names (conv1, pool1, fire2/concat, ...,
 *               fire9/concat, conv10, pool10, prob). Images are resized to
 *               227 x 227 (plain bilinear) and Caffe-normalised.
 *
 * With -j N, N workers each run a share of every batch on single-threaded
 * kernels; an image's features depend neither on N nor on the batch size.
 *
 *     ad-features --net vgg19 --tap r31 --gap < images.ts > feats.ts
 */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "nn.h"
#include "progress.h"
#include "squeezenet.h"
#include "torchload.h"
#include "tstream.h"
#include "vgg.h"

#define MAX_BATCH 4096
#define TORCHVISION_VGG19 "vgg19-dcbb9e9d.pth"
#define NORMALISED_VGG19 "vgg19-normalised-conv3_1.pth"
#define SQUEEZENET_PARAM "squeezenet_v1.1.param"
#define SQUEEZENET_BIN "squeezenet_v1.1.bin"

typedef struct Options {
    const char *net;
    const char *weights;
    const char *weights_dir;
    const char *tap;
    const char *output;
    bool gap;
    int64_t batch;
} Options;

static Options opt = {.net = "vgg19", .output = "-", .batch = 16};

static const CliOption options[] = {
    {"net", 'n', CLI_STRING, &opt.net, NULL, "NAME", "vgg19 (default) or squeezenet"},
    {"tap", 't', CLI_STRING, &opt.tap, NULL, "NAME",
     "layer whose output is written (required): vgg19 c11 r11 c12 r12 p1 c21 ... r54 p5; squeezenet a layer "
     "name such as fire9/concat, pool10 or prob"},
    {"gap", 'g', CLI_FLAG, &opt.gap, NULL, NULL, "global average pooling: write (C) vectors instead of (C, H, W)"},
    {"weights", 'w', CLI_STRING, &opt.weights, NULL, "FILE",
     "weights file (vgg19: a .pth; squeezenet: the .param, its .bin beside it); default: found automatically"},
    {"weights-dir", 0, CLI_STRING, &opt.weights_dir, NULL, "DIR",
     "look for the weights here first, then in $ADKIT_WEIGHTS, ./weights and ../shared/weights"},
    {"batch", 'b', CLI_INT, &opt.batch, NULL, "N", "images per forward pass (default 16)"},
    {"output", 'o', CLI_STRING, &opt.output, NULL, "FILE", "write the features here (default: stdout)"},
    {0},
};

static const CliSpec spec = {
    .name = "ad-features",
    .usage = "[options] --tap NAME [INPUT]",
    .summary = "Pretrained-network features (VGG-19 or SqueezeNet 1.1) of an image stream.",
    .example = "ad-features --net vgg19 --tap r31 --gap < images.ts > feats.ts\n"
               "  ad-features --net squeezenet --tap pool10 --gap -o feats.ts images.ts",
    .options = options,
    .has_jobs = true,
    .notes = "Weights are looked up, in order, in --weights-dir, $ADKIT_WEIGHTS, ./weights and\n"
             "../shared/weights. vgg19 prefers torchvision's " TORCHVISION_VGG19 " (the paper's\n"
             "extractor; https://download.pytorch.org/models/" TORCHVISION_VGG19 ") and falls back to\n"
             NORMALISED_VGG19 " (taps up to r31). squeezenet needs " SQUEEZENET_PARAM " and\n"
             SQUEEZENET_BIN " (https://github.com/nihui/ncnn-assets, models/).",
};

// ---- finding weights ----

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

// The search directories, in order; NULL entries are skipped.
static void search_dirs(const char *dirs[4])
{
    const char *env = getenv("ADKIT_WEIGHTS");
    dirs[0] = opt.weights_dir;
    dirs[1] = env && *env ? env : NULL;
    dirs[2] = "weights";
    dirs[3] = "../shared/weights";
}

// First directory holding name; path gets dir/name. False when none does.
static bool find_weight(const char *name, char *path, size_t size)
{
    const char *dirs[4];
    search_dirs(dirs);
    for (int i = 0; i < 4; i++) {
        if (!dirs[i])
            continue;
        snprintf(path, size, "%s/%s", dirs[i], name);
        if (is_file(path))
            return true;
    }
    return false;
}

static void where_looked(char *buf, size_t size)
{
    const char *dirs[4];
    search_dirs(dirs);
    size_t at = 0;
    buf[0] = 0;
    for (int i = 0; i < 4 && at < size; i++)
        if (dirs[i])
            at += (size_t)snprintf(buf + at, size - at, "%s%s", at ? ", " : "", dirs[i]);
    if (!dirs[1] && at < size)
        snprintf(buf + at, size - at, " ($ADKIT_WEIGHTS is not set)");
}

// ---- the two networks behind one interface ----

typedef struct Extractor {
    bool is_vgg;
    char weights_path[4096];
    // vgg19
    Vgg *vgg;
    NNGraph **graphs; // one per worker
    VggTap tap;
    // squeezenet
    SqueezeNet *squeeze;
    int side;
    // output of one image: (C, H, W) for an input of the batch's size
    int64_t chw[3];
    int workers; // threads, each running a share of every batch
} Extractor;

static bool open_vgg(Extractor *ex, Err *err)
{
    if (!vgg_tap_parse(opt.tap, &ex->tap)) {
        err_set(err, "unknown vgg19 tap '%s' (taps: c11 r11 c12 r12 p1 c21 r21 c22 r22 p2 c31 r31 ... c54 r54 p5)",
                opt.tap);
        return false;
    }
    if (opt.weights) {
        snprintf(ex->weights_path, sizeof ex->weights_path, "%s", opt.weights);
    } else if (!find_weight(TORCHVISION_VGG19, ex->weights_path, sizeof ex->weights_path) &&
               (ex->tap > VGG_R31 || !find_weight(NORMALISED_VGG19, ex->weights_path, sizeof ex->weights_path))) {
        char looked[1024];
        where_looked(looked, sizeof looked);
        if (ex->tap > VGG_R31)
            err_set(err, "tap %s needs torchvision's VGG-19 weights, " TORCHVISION_VGG19 ", not found in %s; "
                    "download https://download.pytorch.org/models/" TORCHVISION_VGG19 " (548 MB) into ./weights/ "
                    "or $ADKIT_WEIGHTS, or pass --weights FILE",
                    opt.tap, looked);
        else
            err_set(err, "no VGG-19 weights: neither " TORCHVISION_VGG19 " nor " NORMALISED_VGG19 " is in %s; "
                    "download https://download.pytorch.org/models/" TORCHVISION_VGG19 " (548 MB) into ./weights/ "
                    "or $ADKIT_WEIGHTS, or pass --weights FILE",
                    looked);
        return false;
    }
    NamedArrays w = {0};
    if (!torch_load(ex->weights_path, &w, err))
        return false;
    ex->vgg = vgg_new(nn_backend_cpu(), &w, ex->weights_path, err);
    named_arrays_fini(&w);
    if (!ex->vgg)
        return false;
    if (ex->tap > vgg_deepest_tap(ex->vgg)) {
        err_set(err, "tap %s is deeper than the weights in %s go (deepest: %s); torchvision's " TORCHVISION_VGG19
                " has every tap: download https://download.pytorch.org/models/" TORCHVISION_VGG19,
                opt.tap, ex->weights_path, vgg_tap_name(vgg_deepest_tap(ex->vgg)));
        return false;
    }
    if (!(ex->graphs = xcalloc_array((size_t)ex->workers, sizeof *ex->graphs, err)))
        return false;
    for (int k = 0; k < ex->workers; k++) {
        if (!(ex->graphs[k] = nn_graph_new(nn_backend_cpu(), err)))
            return false;
        nn_graph_set_grad(ex->graphs[k], false);
    }
    ex->is_vgg = true;
    return true;
}

static bool open_squeezenet(Extractor *ex, Err *err)
{
    char bin[sizeof ex->weights_path];
    if (opt.weights) {
        // FILE is the .param or the .bin (or their common stem): the other sits beside it.
        char stem[sizeof ex->weights_path - 8];
        if (strlen(opt.weights) >= sizeof stem)
            return err_set(err, "weights path too long: %.100s...", opt.weights);
        memcpy(stem, opt.weights, strlen(opt.weights) + 1);
        char *dot = strrchr(stem, '.'), *slash = strrchr(stem, '/');
        if (dot && (!slash || dot > slash) && (!strcmp(dot, ".param") || !strcmp(dot, ".bin")))
            *dot = 0;
        snprintf(ex->weights_path, sizeof ex->weights_path, "%s.param", stem);
        snprintf(bin, sizeof bin, "%s.bin", stem);
    } else if (!find_weight(SQUEEZENET_PARAM, ex->weights_path, sizeof ex->weights_path) ||
               !find_weight(SQUEEZENET_BIN, bin, sizeof bin)) {
        char looked[1024];
        where_looked(looked, sizeof looked);
        err_set(err, "no SqueezeNet weights: " SQUEEZENET_PARAM " and " SQUEEZENET_BIN " are not both in %s; "
                "download them from https://github.com/nihui/ncnn-assets (models/) into ./weights/ or "
                "$ADKIT_WEIGHTS, or pass --weights FILE.param",
                looked);
        return false;
    }
    if (!(ex->squeeze = squeezenet_load(ex->weights_path, bin, err)))
        return false;
    ex->side = squeezenet_input_side(ex->squeeze);
    return squeezenet_tap_shape(ex->squeeze, opt.tap, ex->chw, err);
}

static void close_extractor(Extractor *ex)
{
    vgg_free(ex->vgg);
    for (int k = 0; ex->graphs && k < ex->workers; k++)
        nn_graph_free(ex->graphs[k]);
    free(ex->graphs);
    squeezenet_free(ex->squeeze);
}

// ---- batches ----

typedef struct Batch {
    TRecord *recs;  // opt.batch records
    int count;
    int64_t c, h, w; // input shape shared by the batch (vgg19)
    float *input;   // network input of the whole batch
    size_t input_cap;
    float *output;  // features of the whole batch
    size_t output_cap;
} Batch;

static bool ensure(float **buf, size_t *cap, size_t floats, Err *err)
{
    if (floats <= *cap)
        return true;
    float *p = xrealloc_array(*buf, floats, sizeof(float), err);
    if (!p)
        return false;
    *buf = p;
    *cap = floats;
    return true;
}

// Image geometry of a record, or an error naming it.
static bool image_shape(const TRecord *rec, const char *where, int64_t chw[3], Err *err)
{
    if (rec->dtype == TDTYPE_U8 && rec->ndim == 3 && (rec->dims[0] == 1 || rec->dims[0] == 3)) {
        memcpy(chw, rec->dims, 3 * sizeof *chw);
    } else if (rec->dtype == TDTYPE_U8 && rec->ndim == 2) {
        chw[0] = 1;
        chw[1] = rec->dims[0];
        chw[2] = rec->dims[1];
    } else {
        return err_set(err, "%s: expected a u8 image (C, H, W) with C = 1 or 3, got %s with %d dimensions", where,
                       tdtype_name(rec->dtype), rec->ndim);
    }
    if (chw[1] < 1 || chw[2] < 1 || chw[1] > 65536 || chw[2] > 65536)
        return err_set(err, "%s: image of %lldx%lld pixels", where, (long long)chw[2], (long long)chw[1]);
    return true;
}

// Images [first, last) of worker k out of n: contiguous shares in input order.
static void share(int count, int k, int n, int *first, int *last)
{
    *first = (int)((int64_t)count * k / n);
    *last = (int)((int64_t)count * (k + 1) / n);
}

// The first failure of the workers, in worker order.
static bool gather_errors(const Err *errs, int n, Err *err)
{
    for (int k = 0; k < n; k++)
        if (errs[k].msg[0]) {
            err_set(err, "%s", errs[k].msg);
            return false;
        }
    return true;
}

static bool run_vgg(Extractor *ex, Batch *b, Err *err)
{
    size_t plane = (size_t)(b->c * b->h * b->w);
    int down = vgg_tap_downscale(ex->tap);
    ex->chw[0] = vgg_tap_channels(ex->tap);
    ex->chw[1] = b->h / down;
    ex->chw[2] = b->w / down;
    size_t per_image = (size_t)(ex->chw[0] * ex->chw[1] * ex->chw[2]);
    if (!ensure(&b->input, &b->input_cap, plane * (size_t)b->count, err) ||
        !ensure(&b->output, &b->output_cap, per_image * (size_t)b->count, err))
        return false;
    int workers = b->count < ex->workers ? b->count : ex->workers;
    Err errs[workers];
    memset(errs, 0, sizeof errs);
#pragma omp parallel for num_threads(workers) schedule(static, 1)
    for (int k = 0; k < workers; k++) {
        int first, last;
        share(b->count, k, workers, &first, &last);
        for (int i = first; i < last; i++) {
            const uint8_t *px = b->recs[i].data;
            float *dst = b->input + (size_t)i * plane;
            // torchvision ToTensor (/255) then Normalize(0.5, 0.5): the paper's [-1, 1] images.
            for (size_t j = 0; j < plane; j++)
                dst[j] = ((float)px[j] / 255.0f - 0.5f) / 0.5f;
        }
        NNGraph *g = ex->graphs[k];
        nn_graph_reset(g);
        NNVar *x = nn_input(g, 4, (int64_t[]){last - first, b->c, b->h, b->w}, b->input + (size_t)first * plane);
        bool want[VGG_TAP_COUNT] = {0};
        NNVar *taps[VGG_TAP_COUNT] = {0};
        want[ex->tap] = true;
        if (!vgg_forward(g, ex->vgg, vgg_preprocess(g, ex->vgg, x), want, taps, &errs[k]))
            continue;
        const Tensor *t = &taps[ex->tap]->value;
        if (t->shape[1] != ex->chw[0] || t->shape[2] != ex->chw[1] || t->shape[3] != ex->chw[2]) {
            err_set(&errs[k], "vgg19: tap %s has shape %lldx%lldx%lld", opt.tap, (long long)t->shape[1],
                    (long long)t->shape[2], (long long)t->shape[3]);
            continue;
        }
        nn_var_download(g, taps[ex->tap], b->output + (size_t)first * per_image);
    }
    return gather_errors(errs, workers, err);
}

static bool run_squeezenet(Extractor *ex, Batch *b, Err *err)
{
    size_t plane = 3 * (size_t)ex->side * (size_t)ex->side;
    size_t per_image = (size_t)(ex->chw[0] * ex->chw[1] * ex->chw[2]);
    if (!ensure(&b->input, &b->input_cap, plane * (size_t)b->count, err) ||
        !ensure(&b->output, &b->output_cap, per_image * (size_t)b->count, err))
        return false;
    int workers = b->count < ex->workers ? b->count : ex->workers;
    Err errs[workers];
    memset(errs, 0, sizeof errs);
#pragma omp parallel for num_threads(workers) schedule(static, 1)
    for (int k = 0; k < workers; k++) {
        int first, last;
        share(b->count, k, workers, &first, &last);
        bool ok = true;
        for (int i = first; ok && i < last; i++) {
            int64_t chw[3];
            ok = image_shape(&b->recs[i], "", chw, &errs[k]) && // checked when the record was read
                 squeezenet_preprocess(b->input + (size_t)i * plane, ex->side, b->recs[i].data, (int)chw[0],
                                       (int)chw[1], (int)chw[2], &errs[k]);
        }
        if (ok)
            squeezenet_forward(ex->squeeze, b->output + (size_t)first * per_image, b->input + (size_t)first * plane,
                               last - first, opt.tap, &errs[k]);
    }
    return gather_errors(errs, workers, err);
}

// Runs the batch and writes one record per image.
static bool flush(Extractor *ex, Batch *b, TStreamWriter *out, TRecord *meta, Err *err)
{
    if (!b->count)
        return true;
    if (!(ex->is_vgg ? run_vgg(ex, b, err) : run_squeezenet(ex, b, err))) {
        const char *id = trecord_meta_get(&b->recs[0], "id");
        err_context(err, "batch starting at image %s", id ? id : "?");
        return false;
    }
    int64_t c = ex->chw[0], area = ex->chw[1] * ex->chw[2];
    const char *base = strrchr(ex->weights_path, '/');
    for (int i = 0; i < b->count; i++) {
        float *f = b->output + (size_t)i * (size_t)(c * area);
        if (opt.gap) // the mean over H and W, in double, written over the first C floats
            for (int64_t ch = 0; ch < c; ch++) {
                double s = 0;
                for (int64_t k = 0; k < area; k++)
                    s += f[ch * area + k];
                f[ch] = (float)(s / (double)area);
            }
        trecord_meta_clear(meta);
        if (!trecord_meta_copy(meta, &b->recs[i], err) ||
            !trecord_meta_setf(meta, err, "features", "%s/%s%s", opt.net, opt.tap, opt.gap ? "/gap" : "") ||
            !trecord_meta_set(meta, "weights", base ? base + 1 : ex->weights_path, err))
            return false;
        bool ok = opt.gap ? tstream_write_parts(out, TDTYPE_F32, 1, (int64_t[]){c}, f, meta, err)
                          : tstream_write_parts(out, TDTYPE_F32, 3, ex->chw, f, meta, err);
        if (!ok)
            return false;
    }
    b->count = 0;
    return true;
}

static bool extract(Extractor *ex, const char *input, Progress *progress, Err *err)
{
    TStreamReader *in = tstream_open(input, err);
    if (!in)
        return false;
    TStreamWriter *out = tstream_create(opt.output, err);
    Batch b = {0};
    TRecord meta, pending;
    trecord_init(&meta);
    trecord_init(&pending);
    bool ok = false;
    if (!out || !(b.recs = xcalloc_array((size_t)opt.batch, sizeof *b.recs, err)))
        goto done;
    for (int i = 0; i < opt.batch; i++)
        trecord_init(&b.recs[i]);
    for (;;) {
        int got = tstream_read(in, &b.recs[b.count], err);
        if (got < 0)
            goto done;
        if (got == 0)
            break;
        char where[256];
        snprintf(where, sizeof where, "%s:record %lld", tstream_name(in), (long long)tstream_records_read(in));
        int64_t chw[3];
        if (!image_shape(&b.recs[b.count], where, chw, err))
            goto done;
        // vgg19 runs images at their own size: a new size starts a new batch.
        if (ex->is_vgg && b.count && (chw[0] != b.c || chw[1] != b.h || chw[2] != b.w)) {
            TRecord tmp = b.recs[b.count]; // the new image waits aside while the batch runs
            b.recs[b.count] = pending;
            pending = tmp;
            if (!flush(ex, &b, out, &meta, err))
                goto done;
            tmp = b.recs[0];
            b.recs[0] = pending;
            pending = tmp;
        }
        if (b.count == 0) {
            b.c = chw[0];
            b.h = chw[1];
            b.w = chw[2];
        }
        b.count++;
        progress_add(progress, 1);
        if (b.count == opt.batch && !flush(ex, &b, out, &meta, err))
            goto done;
    }
    ok = flush(ex, &b, out, &meta, err);
done:
    if (out && ok)
        ok = tstream_writer_commit(out, err);
    else if (out)
        tstream_writer_abort(out);
    tstream_close(in);
    for (int i = 0; b.recs && i < opt.batch; i++)
        trecord_fini(&b.recs[i]);
    free(b.recs);
    free(b.input);
    free(b.output);
    trecord_fini(&meta);
    trecord_fini(&pending);
    return ok;
}

int main(int argc, char **argv)
{
    CliCommon common;
    int first;
    CliStatus st = cli_parse(&spec, argc, argv, &common, &first);
    if (st != CLI_CONTINUE)
        return cli_exit_code(st);
    if (!opt.tap)
        return cli_usage_error("--tap NAME is required (for example --tap r31 or --tap fire9/concat)");
    bool vgg = !strcmp(opt.net, "vgg19");
    if (!vgg && strcmp(opt.net, "squeezenet"))
        return cli_usage_error("unknown network '%s' (vgg19 or squeezenet)", opt.net);
    VggTap tap;
    if (vgg && !vgg_tap_parse(opt.tap, &tap))
        return cli_usage_error("unknown vgg19 tap '%s' (c11 r11 c12 r12 p1 c21 r21 c22 r22 p2 c31 r31 c32 r32 c33 r33 "
                               "c34 r34 p3 c41 ... r44 p4 c51 ... r54 p5)",
                               opt.tap);
    if (opt.batch < 1 || opt.batch > MAX_BATCH)
        return cli_usage_error("--batch takes 1 to %d images, not %lld", MAX_BATCH, (long long)opt.batch);
    if (argc - first > 1)
        return cli_usage_error("one input stream at most (got %d)", argc - first);
    const char *input = argc - first == 1 ? argv[first] : "-";
    // Parallel over images: each of the -j workers runs its share of a batch
    // with single-threaded kernels. A multi-threaded GEMM changes results
    // with its thread count; an image's features do not depend on which
    // share it falls in, so the output is the same for every -j.
    openblas_set_num_threads(1);
    omp_set_max_active_levels(1);
    omp_set_num_threads(common.jobs); // a batch smaller than -j runs its kernels on -j threads

    Err err = {0};
    Extractor ex = {.workers = common.jobs};
    bool ok = vgg ? open_vgg(&ex, &err) : open_squeezenet(&ex, &err);
    if (ok) {
        Progress *progress = progress_new("images", 0, common.progress);
        ok = extract(&ex, input, progress, &err);
        progress_free(progress);
    }
    close_extractor(&ex);
    return ok ? 0 : cli_report(&err);
}
