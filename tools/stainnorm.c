/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stainnorm: stain-normalise H&E patches to a target (Vahadane by default,
 * as the paper's Camelyon16 preprocessing; Macenko and Reinhard on request).
 *
 * The target is fitted from an image file (--target), a region of a slide
 * (--target-slide, default region the one of spec camelyon16.md 7), or
 * loaded from a file written earlier with --fit-only (--target-stain).
 * Reads u8 (3, H, W) records from a stream (default stdin), writes the
 * normalised records to -o (default stdout) with their metadata plus
 * `stain=<method>` (`stain=copied` for a patch without tissue, which is
 * passed through unchanged with a warning).
 *
 *     stainnorm --target-slide normal_056.tif --fit-only -o c16.stain
 *     stainnorm --target-stain c16.stain patches.ts > normalised.ts
 */
#include <inttypes.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "img.h"
#include "progress.h"
#include "slide.h"
#include "stain.h"
#include "tstream.h"

typedef struct Options {
    const char *target;        /* image file */
    const char *target_slide;  /* slide file */
    const char *target_region; /* "x,y,w,h" in level-0 OpenSlide coordinates */
    const char *target_stain;  /* fitted target file */
    const char *method;
    bool method_given;
    bool fit_only;
    const char *out;
} Options;

static Options opt = {.method = "vahadane", .out = "-"};

/* Spec camelyon16.md 7: script 5 crops normal_056.tif at --x 120832 (row)
 * --y 23808 (column), i.e. OpenSlide x = 23808, y = 120832, 2816 x 2816. */
#define DEFAULT_REGION "23808,120832,2816,2816"

static const CliOption options[] = {
    {"target", 't', CLI_STRING, &opt.target, NULL, "IMAGE", "fit the target on an image file (PNG, JPEG, TIFF, BMP)"},
    {"target-slide", 0, CLI_STRING, &opt.target_slide, NULL, "SLIDE", "fit the target on a region of a slide"},
    {"target-region", 0, CLI_STRING, &opt.target_region, NULL, "X,Y,W,H",
     "with --target-slide: level-0 region, x = column, y = row as OpenSlide counts (default " DEFAULT_REGION
     ", the paper's crop of normal_056.tif)"},
    {"target-stain", 's', CLI_STRING, &opt.target_stain, NULL, "FILE", "load a target saved with --fit-only"},
    {"method", 'm', CLI_STRING, &opt.method, &opt.method_given, "M",
     "vahadane (default, the paper's), macenko or reinhard"},
    {"fit-only", 0, CLI_FLAG, &opt.fit_only, NULL, NULL, "fit the target and write it (text) to -o; read no patches"},
    {"output", 'o', CLI_STRING, &opt.out, NULL, "FILE", "output stream or target file (default: stdout)"},
    {0},
};

static const CliSpec spec = {
    .name = "stainnorm",
    .usage = "(--target IMAGE | --target-slide SLIDE [--target-region X,Y,W,H] | --target-stain FILE) [options] "
             "[STREAM]",
    .summary = "Stain-normalise u8 (3, H, W) H&E patches to a target: Vahadane (default), Macenko or Reinhard.",
    .example = "stainnorm --target-slide normal_056.tif --fit-only -o c16.stain\n"
               "  stainnorm --target-stain c16.stain -j 2 patches.ts > normalised.ts\n"
               "  stainnorm --target ref.png --method macenko < patches.ts > normalised.ts",
    .options = options,
    .has_jobs = true,
    .notes = "Vahadane: brightness standardisation, not-white mask (Lab L8 <= 203), SPAMS-style online "
             "dictionary learning with a fixed budget (256 mini-batches of 1024 pixels) instead of the "
             "original's 1-second limit, so output is deterministic; lasso concentrations (lambda 0.01); "
             "255*exp(-C*S_target). Macenko: Io 240, alpha 1, beta 0.15, 99th percentile scaling. Reinhard: "
             "CIE L*a*b* mean/std matching. A patch without tissue is copied unchanged (stain=copied). "
             "The target file is text: method, stain vectors, and what Macenko/Reinhard need. The original "
             "script 5 names rows before columns: its --x 120832 --y 23808 is --target-region 23808,120832,... here.",
};

static bool parse_region(const char *s, int64_t r[4])
{
    char buf[128];
    if (strlen(s) >= sizeof buf)
        return false;
    memcpy(buf, s, strlen(s) + 1);
    char *save = NULL, *tok = strtok_r(buf, ",", &save);
    for (int i = 0; i < 4; i++, tok = strtok_r(NULL, ",", &save))
        if (!tok || !cli_parse_int(tok, &r[i]))
            return false;
    return tok == NULL && r[0] >= 0 && r[1] >= 0 && r[2] > 0 && r[3] > 0 && r[2] * r[3] <= ((int64_t)1 << 31);
}

/* Interleaved RGB (3 or 4 channels, 8-bit) -> planar RGB. */
static uint8_t *planar_from_hwc(const uint8_t *hwc, int64_t npix, int channels, Err *err)
{
    uint8_t *p = xmalloc_array((size_t)npix, 3, err);
    if (p)
        for (int64_t i = 0; i < npix; i++)
            for (int k = 0; k < 3; k++)
                p[k * npix + i] = hwc[i * channels + k];
    return p;
}

static bool fit_from_image(StainTarget *t, StainMethod m, const char *path, Err *err)
{
    Image im = {0};
    if (!image_read(path, &im, err))
        return false;
    bool ok = false;
    if (im.depth != 8 || (im.channels != 3 && im.channels != 4)) {
        err_set(err, "%s: target must be an 8-bit RGB image (has %d channels of %d bits)", path, im.channels,
                im.depth);
    } else {
        int64_t npix = (int64_t)im.width * im.height;
        uint8_t *rgb = planar_from_hwc(im.data, npix, im.channels, err);
        ok = rgb && stain_fit(t, m, rgb, npix, err);
        if (!ok)
            err_context(err, "target %s", path);
        free(rgb);
    }
    image_fini(&im);
    return ok;
}

static bool fit_from_slide(StainTarget *t, StainMethod m, const char *path, const int64_t r[4], Err *err)
{
    Slide *s = slide_open(path, err);
    if (!s)
        return false;
    int64_t npix = r[2] * r[3];
    int64_t sw = slide_width(s, 0), sh = slide_height(s, 0);
    if (r[0] + r[2] > sw || r[1] + r[3] > sh) {
        err_set(err, "%s: target region %" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
                " does not fit in the slide's level 0 (%" PRId64 "x%" PRId64 ")",
                path, r[0], r[1], r[2], r[3], sw, sh);
        slide_close(s);
        return false;
    }
    uint8_t *hwc = xmalloc_array((size_t)npix, 3, err);
    uint8_t *rgb = NULL;
    bool ok = hwc && slide_read_rgb(s, 0, r[0], r[1], r[2], r[3], hwc, err) &&
              (rgb = planar_from_hwc(hwc, npix, 3, err)) != NULL && stain_fit(t, m, rgb, npix, err);
    if (!ok)
        err_context(err, "target region %" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 " of %s", r[0], r[1], r[2],
                    r[3], path);
    free(rgb);
    free(hwc);
    slide_close(s);
    return ok;
}

/* Normalises one record into out; *copied tells whether it had no tissue. */
static bool normalize_record(TRecord *out, const TRecord *in, const StainTarget *t, bool *copied, Err *err)
{
    if (in->dtype != TDTYPE_U8 || in->ndim != 3 || in->dims[0] != 3) {
        char shape[96] = "";
        for (int i = 0, at = 0; i < in->ndim && at < (int)sizeof shape; i++)
            at += snprintf(shape + at, sizeof shape - (size_t)at, "%s%" PRId64, i ? ", " : "", in->dims[i]);
        return err_set(err, "expected a u8 (3, H, W) RGB patch, got %s (%s)", tdtype_name(in->dtype), shape);
    }
    if (!trecord_set_shape(out, TDTYPE_U8, 3, in->dims, err) || !trecord_meta_copy(out, in, err))
        return false;
    if (!stain_normalize(out->data, in->data, in->dims[1] * in->dims[2], t, copied, err))
        return false;
    return trecord_meta_set(out, "stain", *copied ? "copied" : stain_method_name(t->method), err);
}

static bool run_filter(const char *in_path, const StainTarget *t, const CliCommon *common, Err *err)
{
    TStreamReader *in = tstream_open(in_path, err);
    TStreamWriter *w = in ? tstream_create(opt.out, err) : NULL;
    int batch = common->jobs * 2;
    TRecord *recs = calloc((size_t)batch, sizeof *recs), *res = calloc((size_t)batch, sizeof *res);
    Err *errs = calloc((size_t)batch, sizeof *errs);
    bool *copied = calloc((size_t)batch, sizeof *copied);
    bool ok = w != NULL;
    if (ok && (!recs || !res || !errs || !copied))
        ok = err_set(err, "out of memory");
    for (int i = 0; recs && res && i < batch; i++) {
        trecord_init(&recs[i]);
        trecord_init(&res[i]);
    }
    Progress *prog = progress_new("patches", 0, common->progress);
    int64_t n_copied = 0, n_total = 0;
    int got = 1;
    while (ok && got == 1) {
        int n = 0;
        while (n < batch && (got = tstream_read(in, &recs[n], err)) == 1)
            n++;
        if (got < 0)
            ok = false;
        // Patches are independent: the result does not depend on -j.
#pragma omp parallel for schedule(dynamic) num_threads(common->jobs)
        for (int i = 0; i < n; i++) {
            err_clear(&errs[i]);
            if (!normalize_record(&res[i], &recs[i], t, &copied[i], &errs[i]))
                err_context(&errs[i], "%s:record %" PRId64, tstream_name(in), tstream_records_read(in) - n + i + 1);
        }
        for (int i = 0; ok && i < n; i++) {
            if (err_is_set(&errs[i])) {
                ok = err_set(err, "%s", errs[i].msg);
                break;
            }
            if (copied[i]) {
                const char *id = trecord_meta_get(&recs[i], "id");
                cli_warn("%s:record %" PRId64 "%s%s: no tissue, copied unchanged",
                         tstream_name(in), tstream_records_read(in) - n + i + 1, id ? " id=" : "", id ? id : "");
                n_copied++;
            }
            n_total++;
            ok = tstream_write(w, &res[i], err);
            progress_add(prog, 1);
        }
    }
    progress_free(prog);
    if (ok && n_copied)
        cli_warn("%" PRId64 " of %" PRId64 " patches had no tissue and were copied unchanged", n_copied, n_total);
    if (w) {
        if (ok)
            ok = tstream_writer_commit(w, err);
        else
            tstream_writer_abort(w);
    }
    for (int i = 0; recs && res && i < batch; i++) {
        trecord_fini(&recs[i]);
        trecord_fini(&res[i]);
    }
    free(recs);
    free(res);
    free(errs);
    free(copied);
    tstream_close(in);
    return ok;
}

int main(int argc, char **argv)
{
    CliCommon common;
    int first;
    CliStatus st = cli_parse(&spec, argc, argv, &common, &first);
    if (st != CLI_CONTINUE)
        return cli_exit_code(st);
    int sources = !!opt.target + !!opt.target_slide + !!opt.target_stain;
    if (sources != 1)
        return cli_usage_error("give exactly one of --target, --target-slide and --target-stain");
    if (opt.target_region && !opt.target_slide)
        return cli_usage_error("--target-region goes with --target-slide");
    int64_t region[4];
    if (opt.target_slide && !parse_region(opt.target_region ? opt.target_region : DEFAULT_REGION, region))
        return cli_usage_error("--target-region wants X,Y,W,H with X, Y >= 0 and W, H > 0 (got '%s')",
                               opt.target_region);
    StainMethod method;
    if (!stain_method_from_name(opt.method, &method))
        return cli_usage_error("unknown --method '%s' (vahadane, macenko or reinhard)", opt.method);
    if (opt.fit_only && opt.target_stain)
        return cli_usage_error("--fit-only needs --target or --target-slide, not a fitted --target-stain");
    if (opt.fit_only && first < argc)
        return cli_usage_error("--fit-only reads no patch stream");
    if (argc - first > 1)
        return cli_usage_error("one input stream at most (got %d)", argc - first);
    if (opt.target_stain && strcmp(opt.target_stain, "-") == 0 && !opt.fit_only &&
        (first == argc || strcmp(argv[first], "-") == 0))
        return cli_usage_error("--target-stain - and the patch stream cannot both be standard input");
    omp_set_num_threads(common.jobs);

    Err err = {0};
    StainTarget target;
    bool ok;
    if (opt.target_stain) {
        ok = stain_target_load(&target, opt.target_stain, &err);
        if (ok && opt.method_given && target.method != method)
            return cli_usage_error("--method %s contradicts the %s target in %s", opt.method,
                                   stain_method_name(target.method), opt.target_stain);
    } else if (opt.target) {
        ok = fit_from_image(&target, method, opt.target, &err);
    } else {
        ok = fit_from_slide(&target, method, opt.target_slide, region, &err);
    }
    if (ok && opt.fit_only)
        ok = stain_target_save(&target, opt.out, &err);
    else if (ok)
        ok = run_filter(first < argc ? argv[first] : "-", &target, &common, &err);
    return ok ? 0 : cli_report(&err);
}
