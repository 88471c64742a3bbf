/* SPDX-License-Identifier: Apache-2.0 */
/*
 * patch-rescale: shrink image records by an integer factor the way the
 * Camelyon16 pipeline made its x20 and x10 patches (scikit-image rescale
 * with anti-aliasing, spec camelyon16.md 11).
 *
 * Reads u8 image records (C, H, W) or (H, W) from a stream (default stdin)
 * and writes them shrunk by --factor to -o (default stdout), or writes both
 * the /2 and /4 versions in one pass with --x20 and --x10. Metadata is kept;
 * `downscale` records the total factor.
 *
 *     patch-rescale --x20 x20.ts --x10 x10.ts x40.ts
 */
#include <inttypes.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "progress.h"
#include "resample.h"
#include "tstream.h"

typedef struct Options {
    int64_t factor;
    bool factor_given;
    const char *out;
    const char *x20, *x10;
} Options;

static Options opt = {.factor = 2, .out = "-"};

static const CliOption options[] = {
    {"factor", 'f', CLI_INT, &opt.factor, &opt.factor_given, "N",
     "shrink by N (2: x40 -> x20, 4: x40 -> x10; default 2)"},
    {"output", 'o', CLI_STRING, &opt.out, NULL, "FILE", "write the --factor result here (default: stdout)"},
    {"x20", 0, CLI_STRING, &opt.x20, NULL, "FILE", "write the factor-2 version here"},
    {"x10", 0, CLI_STRING, &opt.x10, NULL, "FILE", "write the factor-4 version here"},
    {0},
};

static const CliSpec spec = {
    .name = "patch-rescale",
    .usage = "[options] [STREAM]",
    .summary = "Shrink u8 image records by an integer factor like scikit-image's anti-aliased rescale "
               "(Gaussian on uint8, bilinear, rint), as the Camelyon16 x20/x10 stage did.",
    .example = "patch-rescale --factor 4 x40.ts > x10.ts\n"
               "  stainnorm --target-stain t.stain x40.ts | patch-rescale --x20 x20.ts --x10 x10.ts",
    .options = options,
    .has_jobs = true,
    .notes = "Gaussian sigma (N-1)/2, radius int(4 sigma + 0.5), mirror boundary, truncated to uint8 after "
             "each 1-D pass (rows, then columns); then bilinear sampling at N*(o+0.5)-0.5 and "
             "rint(255 v). H and W must be multiples of N; the output is (H/N) x (W/N).",
};

/* One output of the pass: a factor and its writer. */
typedef struct Output {
    int factor;
    const char *path;
    TStreamWriter *w;
} Output;

/* Shrinks one record into out (shape, payload, metadata). */
static bool rescale_record(TRecord *out, const TRecord *in, int factor, Err *err)
{
    if (in->dtype != TDTYPE_U8 || (in->ndim != 3 && in->ndim != 2))
        return err_set(err, "expected a u8 (C, H, W) or (H, W) image, got %s with %d dimensions",
                       tdtype_name(in->dtype), in->ndim);
    int64_t c = in->ndim == 3 ? in->dims[0] : 1, h = in->dims[in->ndim - 2], w = in->dims[in->ndim - 1];
    if (c < 1 || c > 4 || h < factor || w < factor || h % factor || w % factor || h > INT32_MAX || w > INT32_MAX)
        return err_set(err, "cannot shrink a %" PRId64 "x%" PRId64 "x%" PRId64 " image by %d (sides must be multiples)",
                       c, h, w, factor);
    int64_t dims[3] = {c, h / factor, w / factor};
    if (in->ndim == 2) {
        dims[0] = h / factor;
        dims[1] = w / factor;
    }
    if (!trecord_set_shape(out, TDTYPE_U8, in->ndim, dims, err) || !trecord_meta_copy(out, in, err))
        return false;
    int64_t plane_in = h * w, plane_out = (h / factor) * (w / factor);
    for (int64_t k = 0; k < c; k++) // planes are independent images of one channel
        if (!resample_skimage_rescale_u8((uint8_t *)out->data + k * plane_out,
                                         (const uint8_t *)in->data + k * plane_in, (int)w, (int)h, 1, factor,
                                         err))
            return false;
    int64_t before = 1;
    if (trecord_meta_get(in, "downscale") && !trecord_meta_get_int(in, "downscale", &before, err))
        return false;
    return trecord_meta_setf(out, err, "downscale", "%" PRId64, before * factor);
}

int main(int argc, char **argv)
{
    CliCommon common;
    int first;
    CliStatus st = cli_parse(&spec, argc, argv, &common, &first);
    if (st != CLI_CONTINUE)
        return cli_exit_code(st);
    if (argc - first > 1)
        return cli_usage_error("one input stream at most (got %d)", argc - first);
    bool split = opt.x20 || opt.x10;
    if (split && (opt.factor_given || strcmp(opt.out, "-") != 0))
        return cli_usage_error("--x20/--x10 cannot be combined with --factor or --output");
    if (opt.factor < 2 || opt.factor > 32)
        return cli_usage_error("--factor must be between 2 and 32 (got %" PRId64 ")", opt.factor);
    if (opt.x20 && opt.x10 && strcmp(opt.x20, opt.x10) == 0)
        return cli_usage_error("--x20 and --x10 name the same file");

    Output outs[2];
    int nout = 0;
    if (!split)
        outs[nout++] = (Output){(int)opt.factor, opt.out, NULL};
    if (opt.x20)
        outs[nout++] = (Output){2, opt.x20, NULL};
    if (opt.x10)
        outs[nout++] = (Output){4, opt.x10, NULL};

    Err err = {0};
    const char *in_path = first < argc ? argv[first] : "-";
    TStreamReader *in = tstream_open(in_path, &err);
    bool ok = in != NULL;
    for (int o = 0; o < nout && ok; o++)
        ok = (outs[o].w = tstream_create(outs[o].path, &err)) != NULL;

    // Batches of records are shrunk in parallel and written in input order.
    int batch = common.jobs * 4;
    TRecord *recs = calloc((size_t)batch, sizeof *recs);
    TRecord *res = calloc((size_t)batch * nout, sizeof *res);
    Err *errs = calloc((size_t)batch * nout, sizeof *errs);
    if (!recs || !res || !errs)
        ok = err_set(&err, "out of memory");
    for (int i = 0; ok && i < batch; i++) {
        trecord_init(&recs[i]);
        for (int o = 0; o < nout; o++)
            trecord_init(&res[i * nout + o]);
    }
    Progress *prog = progress_new("patches", 0, common.progress);
    omp_set_num_threads(common.jobs);
    int got = 1;
    while (ok && got == 1) {
        int n = 0;
        while (n < batch && (got = tstream_read(in, &recs[n], &err)) == 1)
            n++;
        if (got < 0)
            ok = false;
#pragma omp parallel for schedule(dynamic)
        for (int t = 0; t < n * nout; t++) {
            int i = t / nout, o = t % nout;
            err_clear(&errs[t]);
            if (!rescale_record(&res[t], &recs[i], outs[o].factor, &errs[t]))
                err_context(&errs[t], "%s:record %" PRId64, tstream_name(in),
                            tstream_records_read(in) - n + i + 1);
        }
        for (int t = 0; ok && t < n * nout; t++) {
            if (err_is_set(&errs[t])) {
                ok = err_set(&err, "%s", errs[t].msg);
                break;
            }
            ok = tstream_write(outs[t % nout].w, &res[t], &err);
            if (t % nout == nout - 1)
                progress_add(prog, 1);
        }
    }
    progress_free(prog);
    for (int o = 0; o < nout; o++) {
        if (!outs[o].w)
            continue;
        if (ok)
            ok = tstream_writer_commit(outs[o].w, &err);
        else
            tstream_writer_abort(outs[o].w);
    }
    for (int i = 0; recs && res && i < batch; i++) {
        trecord_fini(&recs[i]);
        for (int o = 0; o < nout; o++)
            trecord_fini(&res[i * nout + o]);
    }
    free(recs);
    free(res);
    free(errs);
    tstream_close(in);
    return ok ? 0 : cli_report(&err);
}
