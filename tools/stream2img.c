/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stream2img: a tensor stream to image files, one per record.
 *
 * Reads streams (default: standard input) of image records, u8 or u16
 * (C, H, W) or (H, W), and writes DIR/<id>.<ext> for each, atomically. Other
 * dtypes (f32 reconstructions, anomaly maps) are shown with --range LO,HI,
 * which maps LO..HI linearly to 0..255.
 *
 *     ad-import cifar10 --root cifar --split test | stream2img -o test-png
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "img.h"
#include "imgconv.h"
#include "progress.h"
#include "tstream.h"

typedef struct Options {
    const char *dir;
    const char *format;
    int64_t quality;
    bool quality_given;
    const char *range;
    double lo, hi; /* parsed from range */
} Options;

static Options opt = {.format = "png", .quality = 75};

static const CliOption options[] = {
    {"output", 'o', CLI_STRING, &opt.dir, NULL, "DIR", "write the images into DIR (required; created if missing)"},
    {"format", 'f', CLI_STRING, &opt.format, NULL, "FMT", "png, jpeg, tiff or bmp (default: png)"},
    {"quality", 'q', CLI_INT, &opt.quality, &opt.quality_given, "N", "JPEG quality 1..100 (default: 75)"},
    {"range", 0, CLI_STRING, &opt.range, NULL, "LO,HI",
     "map values LO..HI to 0..255 (8-bit output); needed for i32, f32 and f64 records"},
    {0},
};

static const CliSpec spec = {
    .name = "stream2img",
    .usage = "[options] -o DIR [STREAM...]",
    .summary = "Write each record of a tensor stream as an image file DIR/<id>.<ext>.",
    .example = "ad-import fashion-mnist --split test | stream2img -o fmnist-test\n"
               "  stream2img --range -1,1 --format jpeg -o recon recon.ts",
    .options = options,
    .has_jobs = true,
    .notes = "File names come from the `id` metadata with '/' and control characters replaced by '_' and\n"
             "a leading '.' by '_'; a record without id is named by its index (0, 1, ...), and an id seen\n"
             "before gets '-<index>' appended. Each file appears whole or not at all.",
};

/* Names already written in this run: an open-addressing hash set, so that
 * a repeated id gets a distinct file name instead of overwriting. */
typedef struct NameSet {
    char **slots;
    size_t cap, count;
} NameSet;

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull; // FNV-1a
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

// Inserts name (copied); returns 1 if new, 0 if present, -1 out of memory.
static int nameset_insert(NameSet *set, const char *name)
{
    if (set->count * 2 >= set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 1024;
        char **slots = calloc(cap, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t i = 0; i < set->cap; i++)
            if (set->slots[i]) {
                size_t j = hash_name(set->slots[i]) & (cap - 1);
                while (slots[j])
                    j = (j + 1) & (cap - 1);
                slots[j] = set->slots[i];
            }
        free(set->slots);
        set->slots = slots;
        set->cap = cap;
    }
    size_t j = hash_name(name) & (set->cap - 1);
    for (; set->slots[j]; j = (j + 1) & (set->cap - 1))
        if (strcmp(set->slots[j], name) == 0)
            return 0;
    if (!(set->slots[j] = strdup(name)))
        return -1;
    set->count++;
    return 1;
}

static void nameset_fini(NameSet *set)
{
    for (size_t i = 0; i < set->cap; i++)
        free(set->slots[i]);
    free(set->slots);
}

// The file name stem for a record: its id made safe, or its index.
static void stem_for(const TRecord *rec, int64_t index, char *out, size_t n)
{
    const char *id = trecord_meta_get(rec, "id");
    if (!id || !*id) {
        snprintf(out, n, "%lld", (long long)index);
        return;
    }
    snprintf(out, n, "%s", id);
    for (char *p = out; *p; p++)
        if (*p == '/' || (unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '_';
    if (out[0] == '.')
        out[0] = '_';
}

typedef struct Job {
    TRecord rec;
    int64_t number; /* record number within its input, from 0 */
    char path[4096];
    Err err;
    bool ok;
} Job;

static bool write_one(Job *job, const ImageWriteOptions *wo)
{
    Image im = {0};
    if (!opt.range && job->rec.dtype != TDTYPE_U8 && job->rec.dtype != TDTYPE_U16)
        return err_set(&job->err, "%s record needs --range LO,HI to become an image", tdtype_name(job->rec.dtype));
    bool ok = opt.range ? imgconv_from_record_range(&job->rec, opt.lo, opt.hi, &im, &job->err)
                        : image_from_record(&job->rec, &im, &job->err);
    ok = ok && image_write(job->path, &im, wo, &job->err);
    image_fini(&im);
    return ok;
}

static bool parse_range(void)
{
    const char *comma = opt.range ? strchr(opt.range, ',') : NULL;
    if (!comma)
        return false;
    char lo[64];
    if ((size_t)(comma - opt.range) >= sizeof lo)
        return false;
    snprintf(lo, sizeof lo, "%.*s", (int)(comma - opt.range), opt.range);
    return cli_parse_double(lo, &opt.lo) && cli_parse_double(comma + 1, &opt.hi) && opt.lo != opt.hi;
}

// Converts every record of one input; stops at the first failure.
static bool convert(const char *path, const ImageWriteOptions *wo, Job *jobs, int njobs, int64_t *index,
                    NameSet *names, Progress *progress, Err *err)
{
    TStreamReader *in = tstream_open(path, err);
    if (!in)
        return false;
    // The extensions most software expects: .jpg rather than .jpeg.
    const char *ext = wo->format == IMAGE_FORMAT_JPEG ? "jpg" : image_format_name(wo->format);
    const int batch = njobs * 4;
    bool ok = true;
    int got = 1;
    while (ok && got == 1) {
        int n = 0;
        while (n < batch && (got = tstream_read(in, &jobs[n].rec, err)) == 1) {
            char stem[512];
            stem_for(&jobs[n].rec, *index, stem, sizeof stem);
            int fresh = nameset_insert(names, stem);
            if (fresh == 0) {
                size_t len = strlen(stem);
                snprintf(stem + len, sizeof stem - len, "-%lld", (long long)*index);
                fresh = nameset_insert(names, stem);
            }
            if (fresh < 0) {
                got = -1;
                err_set(err, "out of memory");
                break;
            }
            snprintf(jobs[n].path, sizeof jobs[n].path, "%s/%s.%s", opt.dir, stem, ext);
            err_clear(&jobs[n].err);
            jobs[n].number = tstream_records_read(in) - 1;
            (*index)++;
            n++;
        }
#pragma omp parallel for num_threads(njobs) schedule(dynamic, 1)
        for (int i = 0; i < n; i++) {
            jobs[i].ok = write_one(&jobs[i], wo);
            progress_add(progress, 1);
        }
        for (int i = 0; i < n && ok; i++)
            if (!jobs[i].ok) {
                ok = err_set(err, "%s", jobs[i].err.msg);
                err_context(err, "%s, record %lld", tstream_name(in), (long long)jobs[i].number);
            }
        ok = ok && got >= 0;
    }
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
    ImageWriteOptions wo = {.format = IMAGE_FORMAT_UNKNOWN, .png_level = -1};
    for (int f = IMAGE_FORMAT_PNG; f < IMAGE_FORMAT_COUNT; f++)
        if (strcmp(opt.format, image_format_name((ImageFormat)f)) == 0)
            wo.format = (ImageFormat)f;
    if (strcmp(opt.format, "jpg") == 0 || strcmp(opt.format, "tif") == 0)
        wo.format = opt.format[0] == 'j' ? IMAGE_FORMAT_JPEG : IMAGE_FORMAT_TIFF;
    if (wo.format == IMAGE_FORMAT_UNKNOWN)
        return cli_usage_error("--format takes png, jpeg, tiff or bmp, not '%s'", opt.format);
    if (!opt.dir)
        return cli_usage_error("no output folder (-o DIR)");
    if (opt.quality < 1 || opt.quality > 100)
        return cli_usage_error("--quality takes 1..100, not %lld", (long long)opt.quality);
    if (opt.quality_given && wo.format != IMAGE_FORMAT_JPEG)
        return cli_usage_error("--quality applies to --format jpeg");
    if (opt.range && !parse_range())
        return cli_usage_error("--range takes LO,HI with two different numbers, not '%s'", opt.range);
    wo.jpeg_quality = (int)opt.quality;
    Err err = {0};
    if (mkdir(opt.dir, 0777) != 0 && errno != EEXIST) {
        err_set(&err, "%s: cannot create folder: %s", opt.dir, strerror(errno));
        return cli_report(&err);
    }
    Job *jobs = calloc((size_t)common.jobs * 4, sizeof *jobs);
    if (!jobs) {
        err_set(&err, "out of memory");
        return cli_report(&err);
    }
    for (int i = 0; i < common.jobs * 4; i++)
        trecord_init(&jobs[i].rec);
    NameSet names = {0};
    Progress *progress = progress_new("images", 0, common.progress);
    int64_t index = 0;
    bool ok = true;
    for (int i = first; ok && (i < argc || i == first); i++)
        ok = convert(i < argc ? argv[i] : "-", &wo, jobs, common.jobs, &index, &names, progress, &err);
    progress_free(progress);
    for (int i = 0; i < common.jobs * 4; i++)
        trecord_fini(&jobs[i].rec);
    free(jobs);
    nameset_fini(&names);
    return ok ? 0 : cli_report(&err);
}
