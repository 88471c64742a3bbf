/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ad-score: anomaly scores of images under a trained model.
 *
 * Reads a model (ad-train -o) and a stream of images; writes TSV
 * `id<TAB>label<TAB>score` (higher = more anomalous), in input order, ready
 * for auroc. Images are read, scored and written a batch at a time, so any
 * number of images fits in bounded memory. --maps writes the per-pixel
 * anomaly maps as f32 (1, H, W) records; --maps-png draws them as heat maps
 * over the input images.
 *
 *     ad-score dpa.ts test.ts | auroc
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "afile.h"
#include "cli.h"
#include "dpa_data.h"
#include "dpa_score.h"
#include "img.h"
#include "progress.h"
#include "transform.h"
#include "tstream.h"

static struct {
    const char *out, *maps, *maps_png, *weights;
    int64_t batch;
} opt = {.out = "-"};

static const CliOption options[] = {
    {"output", 'o', CLI_STRING, &opt.out, NULL, "FILE", "write the TSV here (default: stdout)"},
    {"maps", 0, CLI_STRING, &opt.maps, NULL, "FILE.ts", "also write per-pixel anomaly maps, f32 (1, H, W) records"},
    {"maps-png", 0, CLI_STRING, &opt.maps_png, NULL, "DIR", "also draw each map as a heat map over its image, DIR/ID.png"},
    {"weights", 'w', CLI_STRING, &opt.weights, NULL, "PATH",
     "VGG19 weights file or folder (default: $ADKIT_WEIGHTS, ./weights, ../shared/weights)"},
    {"batch-size", 'b', CLI_INT, &opt.batch, NULL, "N", "images per batch (default: the model's test_batch_size)"},
    {0},
};

static const CliSpec spec = {
    .name = "ad-score",
    .usage = "[options] MODEL.ts [IMAGES.ts|-]",
    .summary = "Score images with a trained model: TSV of id, label and anomaly score.",
    .example = "ad-score dpa.ts test.ts > scores.tsv\n"
               "  ad-select --normal 0 < fmnist-test.ts | ad-score dpa.ts | auroc\n"
               "  ad-score --maps maps.ts --maps-png heat/ dpa.ts test.ts -o scores.tsv",
    .options = options,
    .has_jobs = true,
    .notes = "The score is the model's training loss at its final resolution, per image (spec: reduction\n"
             "'none'); images get the model's test-time transforms (centre crops, no flips).",
};

typedef struct Batch {
    int64_t n, cap;
    float *x;            /* cap images, transformed */
    uint8_t *raw;        /* cap images after the u8 steps (for heat maps) */
    char (*id)[256];
    char (*label)[32];
    TRecord *meta;       /* metadata of each record (for --maps) */
} Batch;

// Jet-like colour ramp for v in [0, 1].
static void heat(double v, double rgb[3])
{
    double r = 1.5 - fabs(4 * v - 3), g = 1.5 - fabs(4 * v - 2), b = 1.5 - fabs(4 * v - 1);
    rgb[0] = r < 0 ? 0 : r > 1 ? 1 : r;
    rgb[1] = g < 0 ? 0 : g > 1 ? 1 : g;
    rgb[2] = b < 0 ? 0 : b > 1 ? 1 : b;
}

static bool write_heat_png(const char *dir, const char *id, const uint8_t *img, int c, int R, const float *map,
                           Err *err)
{
    float lo = map[0], hi = map[0];
    for (int i = 1; i < R * R; i++) {
        lo = map[i] < lo ? map[i] : lo;
        hi = map[i] > hi ? map[i] : hi;
    }
    Image out = {0};
    if (!image_alloc(&out, R, R, 3, 8, err))
        return false;
    uint8_t *px = out.data;
    for (int i = 0; i < R * R; i++) {
        double rgb[3], v = hi > lo ? (map[i] - lo) / (hi - lo) : 0;
        heat(v, rgb);
        for (int ch = 0; ch < 3; ch++) {
            double base = img[(size_t)(c == 3 ? ch : 0) * R * R + i];
            px[i * 3 + ch] = (uint8_t)lrint(0.5 * base + 0.5 * 255 * rgb[ch]);
        }
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.png", dir, id);
    ImageWriteOptions wo = {.format = IMAGE_FORMAT_PNG, .png_level = -1};
    bool ok = image_write(path, &out, &wo, err);
    image_fini(&out);
    return ok;
}

static bool flush_batch(DpaScorer *s, Batch *b, FILE *tsv, TStreamWriter *mw, float *scores, float *maps, Err *err)
{
    if (b->n == 0)
        return true;
    const DpaConfig *dc = dpa_scorer_config(s);
    int R = dc->arch.max_res;
    if (!dpa_scorer_run(s, b->x, b->n, scores, maps, err))
        return false;
    for (int64_t i = 0; i < b->n; i++) {
        fprintf(tsv, "%s\t%s\t%.9g\n", b->id[i], b->label[i], (double)scores[i]);
        if (mw && !tstream_write_parts(mw, TDTYPE_F32, 3, (int64_t[]){1, R, R}, maps + (size_t)i * R * R,
                                       &b->meta[i], err))
            return false;
        if (opt.maps_png && !write_heat_png(opt.maps_png, b->id[i], b->raw + (size_t)i * dc->arch.image_dim * R * R,
                                            dc->arch.image_dim, R, maps + (size_t)i * R * R, err))
            return false;
    }
    b->n = 0;
    return !ferror(tsv) || err_set(err, "%s: write error", opt.out);
}

int main(int argc, char **argv)
{
    CliCommon common;
    int first;
    CliStatus st = cli_parse(&spec, argc, argv, &common, &first);
    if (st != CLI_CONTINUE)
        return cli_exit_code(st);
    if (argc - first < 1 || argc - first > 2)
        return cli_usage_error("expected MODEL.ts and at most one image stream");
    if (opt.batch < 0)
        return cli_usage_error("--batch-size must be positive");
    const char *model = argv[first], *images = argc - first == 2 ? argv[first + 1] : "-";
    if (!strcmp(model, "-"))
        return cli_usage_error("the model must be a file (it is read twice: configuration, then parameters)");
    omp_set_num_threads(common.jobs);

    Err err = {0};
    DpaScorer *s = dpa_scorer_open(model, opt.weights, &err);
    if (!s)
        return cli_report(&err);
    const DpaConfig *dc = dpa_scorer_config(s);
    const TransformSpec *tspec = dpa_scorer_transform(s);
    int R = dc->arch.max_res, C = dc->arch.image_dim;
    size_t each = (size_t)C * R * R;
    Batch b = {.cap = opt.batch > 0 ? opt.batch : dc->test_batch_size};
    bool want_maps = opt.maps || opt.maps_png;
    float *scores = NULL, *maps = NULL;
    TStreamReader *r = NULL;
    TStreamWriter *mw = NULL;
    AFile *out = NULL;
    TRecord rec;
    trecord_init(&rec);
    bool ok = false;
    b.x = xmalloc_array((size_t)b.cap * each, sizeof(float), &err);
    b.raw = b.x ? xmalloc_array((size_t)b.cap, each, &err) : NULL;
    b.id = b.raw ? xmalloc_array((size_t)b.cap, sizeof *b.id, &err) : NULL;
    b.label = b.id ? xmalloc_array((size_t)b.cap, sizeof *b.label, &err) : NULL;
    b.meta = b.label ? xcalloc_array((size_t)b.cap, sizeof *b.meta, &err) : NULL;
    scores = b.meta ? xmalloc_array((size_t)b.cap, sizeof(float), &err) : NULL;
    if (!scores || (want_maps && !(maps = xmalloc_array((size_t)b.cap * R * R, sizeof(float), &err))))
        goto done;
    if (!(r = tstream_open(images, &err)))
        goto done;
    if (opt.maps_png && mkdir(opt.maps_png, 0777) != 0 && errno != EEXIST) {
        err_set(&err, "%s: cannot create the folder: %s", opt.maps_png, strerror(errno));
        goto done;
    }
    if (!(out = afile_open(opt.out, &err)) || (opt.maps && !(mw = tstream_create(opt.maps, &err))))
        goto done;
    fprintf(afile_stream(out), "id\tlabel\tscore\n");
    Progress *bar = progress_new("scoring", 0, common.progress);
    for (int64_t i = 0;; i++) {
        int rc = tstream_read(r, &rec, &err);
        if (rc < 0)
            break;
        if (rc == 0) {
            ok = flush_batch(s, &b, afile_stream(out), mw, scores, maps, &err);
            break;
        }
        const char *id = trecord_meta_get(&rec, "id"), *label = trecord_meta_get(&rec, "label");
        char where[512];
        snprintf(where, sizeof where, "%s: record %" PRId64 "%s%s%s", tstream_name(r), i + 1, id ? " (id " : "",
                 id ? id : "", id ? ")" : "");
        if (rec.dtype != TDTYPE_U8 || rec.ndim != 3) {
            err_set(&err, "%s: %s record of %d dimensions; images must be u8 (C, H, W)", where,
                    tdtype_name(rec.dtype), rec.ndim);
            break;
        }
        int c = (int)rec.dims[0], h = (int)rec.dims[1], w = (int)rec.dims[2];
        if (!dpa_check_image_shape(dc, c, h, w, where, &err))
            break;
        int64_t j = b.n;
        snprintf(b.id[j], sizeof b.id[j], "%s", id ? id : "");
        if (!id)
            snprintf(b.id[j], sizeof b.id[j], "%" PRId64, i);
        snprintf(b.label[j], sizeof b.label[j], "%s", label ? label : "");
        if (!transform_apply(tspec, b.x + j * each, rec.data, c, h, w, NULL, &err) ||
            (opt.maps_png && !transform_apply_u8(tspec, b.raw + j * each, rec.data, c, h, w, NULL, &err)) ||
            (mw && !trecord_meta_copy(&b.meta[j], &rec, &err))) {
            err_prefix(&err, "%s: ", where);
            break;
        }
        if (++b.n == b.cap && !flush_batch(s, &b, afile_stream(out), mw, scores, maps, &err))
            break;
        progress_add(bar, 1);
    }
    progress_free(bar);
    if (ok && mw)
        ok = tstream_writer_commit(mw, &err), mw = NULL;
    if (ok)
        ok = afile_commit(out, &err), out = NULL;
done:
    if (mw)
        tstream_writer_abort(mw);
    afile_abort(out);
    tstream_close(r);
    trecord_fini(&rec);
    for (int64_t i = 0; b.meta && i < b.cap; i++)
        trecord_fini(&b.meta[i]);
    free(b.meta);
    free(b.x);
    free(b.raw);
    free(b.id);
    free(b.label);
    free(scores);
    free(maps);
    dpa_scorer_free(s);
    return ok ? 0 : cli_report(&err);
}
