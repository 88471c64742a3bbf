/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slide2patches: cut the Camelyon16 training/test patches out of whole-slide
 * images, as the original's preprocessing scripts 1-4 do.
 *
 * Reads slides (arguments, or paths one per line on standard input) and
 * writes a tensor stream of u8 (3, 768, 768) RGB patches read at level 0,
 * with metadata id, label, slide, x, y, level. Normal patches come from the
 * tissue cells of a slide, tumour patches from cells that are tissue and
 * whole tumour in the slide's ASAP annotation; at most --max-patches per
 * slide, drawn with --seed. --ids extracts exactly the patches a list names.
 *
 *     slide2patches --seed 1 training/normal/normal_001.tif > normal_001.ts
 */
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "afile.h"
#include "annotation.h"
#include "cli.h"
#include "img.h"
#include "patchid.h"
#include "patchsel.h"
#include "progress.h"
#include "slide.h"
#include "tstream.h"

typedef struct Options {
    const char *type;           /* "normal" or "tumor" */
    const char *annotations;    /* one XML for one slide */
    const char *annotation_dir; /* DIR/<slide>.xml */
    int64_t level;
    int64_t patch;
    bool patch_given;
    int64_t max_patches;
    const char *ids;
    const char *slides_dir;
    const char *mask_filter;
    const char *output;
    const char *mask_png;
    const char *reader;
    bool list;
} Options;

static Options opt = {.type = "normal", .level = 8, .max_patches = 50, .slides_dir = ".",
                      .mask_filter = "bicubic", .output = "-", .reader = "auto"};

static const CliOption options[] = {
    {"type", 't', CLI_STRING, &opt.type, NULL, "TYPE", "normal (tissue cells) or tumor (annotated cells) (default normal)"},
    {"annotations", 'a', CLI_STRING, &opt.annotations, NULL, "XML", "ASAP annotation of the one slide given (--type tumor)"},
    {"annotation-dir", 'A', CLI_STRING, &opt.annotation_dir, NULL, "DIR", "find DIR/<slide>.xml for each slide (--type tumor)"},
    {"level", 0, CLI_INT, &opt.level, NULL, "L", "mask level; a cell is 3x3 pixels there (default 8)"},
    {"patch", 0, CLI_INT, &opt.patch, &opt.patch_given, "PX", "patch side at level 0, must be 3 x 2^level (default 768)"},
    {"max-patches", 'n', CLI_INT, &opt.max_patches, NULL, "N", "at most N patches per slide (default 50)"},
    {"list", 'l', CLI_FLAG, &opt.list, NULL, NULL, "print the selected ids, one per line, instead of patches (with --ids: opens no slide)"},
    {"ids", 0, CLI_STRING, &opt.ids, NULL, "FILE", "extract exactly the patches named in FILE (ids or .jpg names)"},
    {"slides-dir", 0, CLI_STRING, &opt.slides_dir, NULL, "DIR", "with --ids: find <slide>.tif here (default .)"},
    {"mask-filter", 0, CLI_STRING, &opt.mask_filter, NULL, "F", "tumour mask reduction: bicubic or nearest (default bicubic)"},
    {"output", 'o', CLI_STRING, &opt.output, NULL, "FILE", "write here (default: standard output)"},
    {"reader", 0, CLI_STRING, &opt.reader, NULL, "R", "auto (generic TIFF tiles read directly, same pixels) or openslide (default auto)"},
    {"mask-png", 0, CLI_STRING, &opt.mask_png, NULL, "DIR", "also write DIR/<slide>_{tissue,cells,labels}.png (mask level)"},
    {0},
};

static const CliSpec spec = {
    .name = "slide2patches",
    .usage = "[options] [SLIDE...]",
    .summary = "Cut Camelyon16 normal or tumour patches (768x768 at level 0) out of whole-slide images.",
    .example = "slide2patches --seed 1 training/normal/normal_001.tif > normal_001.ts\n"
               "  slide2patches -t tumor -A training/lesion_annotations training/tumor/*.tif > tumor.ts\n"
               "  slide2patches --ids folds/train_test_split/camelyon16/healthy/normal/test --slides-dir testing/images > test.ts\n"
               "  find training/normal -name '*.tif' | slide2patches --list",
    .options = options,
    .has_jobs = true,
    .has_seed = true,
    .notes = "Slides come from the arguments, or one path per line on standard input. Patches are u8 (3,P,P)\n"
             "records with id <slide>_<type>_x_<row>_y_<col>_w_P_h_P (the original's file names: x is the ROW),\n"
             "label (0 normal, 1 tumour), slide, x and y (level-0 column and row of the top-left corner), level 0.\n"
             "The choice of cells depends only on --seed and the slide's name, never on -j or the slide order.\n"
             "A slide that fails is reported (slide2patches: SLIDE: what) and the others go on: the output holds\n"
             "every patch of every slide that succeeded and the exit status is 1. A slide that fails while its\n"
             "patches are being read may leave the patches read before the failure (their slide= names it).\n"
             "When every slide fails, no output is written.",
};

/* One patch to extract. */
typedef struct Job {
    Patch patch;
    int label;
    char id[PATCHID_MAX_BYTES];
} Job;

typedef struct Output {
    TStreamWriter *stream; /* patches, or NULL with --list */
    AFile *text;           /* --list */
    int64_t written;
    bool broken;           /* writing failed: later slides cannot be written */
} Output;

/* Options decoded once. */
static PatchSelOptions sel;
static int64_t patch_px;
static bool tumour_type;
static Progress *progress;

static bool slide_name(const char *path, char *name, size_t n, Err *err)
{
    if (!slide_name_from_path(path, name, n))
        return err_set(err, "%s: cannot derive a slide name from this path", path);
    return true;
}

// Reads jobs[0..n) of one slide in parallel, a batch at a time, and writes
// them in order.
static bool extract(Slide *slide, const char *name, const Job *jobs, size_t n, Output *out, int jobs_n, Err *err)
{
    int64_t dims[3] = {3, patch_px, patch_px};
    size_t bytes = (size_t)(3 * patch_px * patch_px);
    size_t batch = (size_t)(2 * jobs_n);
    uint8_t *buf = xmalloc_array(batch, bytes, err);
    bool *ok = buf ? xmalloc_array(batch, sizeof *ok, err) : NULL;
    Err *errs = ok ? xcalloc_array(batch, sizeof *errs, err) : NULL;
    if (!errs) {
        free(ok);
        free(buf);
        return false;
    }
    TRecord meta;
    trecord_init(&meta);
    bool good = true;
    for (size_t start = 0; start < n && good; start += batch) {
        size_t m = n - start < batch ? n - start : batch;
#pragma omp parallel for schedule(dynamic)
        for (size_t i = 0; i < m; i++) {
            err_clear(&errs[i]);
            ok[i] = patchsel_read(slide, &jobs[start + i].patch, patch_px, buf + i * bytes, &errs[i]);
        }
        for (size_t i = 0; i < m && good; i++) {
            const Job *j = &jobs[start + i];
            if (!ok[i]) {
                good = err_set(err, "%s", errs[i].msg);
                break;
            }
            trecord_meta_clear(&meta);
            good = trecord_meta_set(&meta, "id", j->id, err) &&
                   trecord_meta_setf(&meta, err, "label", "%d", j->label) &&
                   trecord_meta_set(&meta, "slide", name, err) &&
                   trecord_meta_setf(&meta, err, "x", "%lld", (long long)j->patch.level0_col) &&
                   trecord_meta_setf(&meta, err, "y", "%lld", (long long)j->patch.level0_row) &&
                   trecord_meta_set(&meta, "level", "0", err);
            if (good && !tstream_write_parts(out->stream, TDTYPE_U8, 3, dims, buf + i * bytes, &meta, err)) {
                out->broken = true;
                good = false;
            }
            out->written += good;
        }
    }
    trecord_fini(&meta);
    free(errs);
    free(ok);
    free(buf);
    return good;
}

static bool emit(Slide *slide, const char *name, const Job *jobs, size_t n, Output *out, int jobs_n, Err *err)
{
    if (!out->text)
        return extract(slide, name, jobs, n, out, jobs_n, err);
    for (size_t i = 0; i < n; i++)
        fprintf(afile_stream(out->text), "%s\n", jobs[i].id);
    return true;
}

// Writes the inspection masks of one slide as 8-bit grey PNGs.
static bool write_masks(const char *name, const PatchSelMasks *m, Err *err)
{
    const struct { const char *suffix; uint8_t *data; } files[3] = {
        {"tissue", m->tissue}, {"cells", m->cells}, {"labels", m->labels}};
    ImageWriteOptions wo = {.format = IMAGE_FORMAT_PNG, .png_level = -1};
    for (int i = 0; i < 3; i++) {
        if (!files[i].data)
            continue;
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s_%s.png", opt.mask_png, name, files[i].suffix) >= sizeof path)
            return err_set(err, "%s: mask path too long", opt.mask_png);
        Image im = {.width = (int)m->w, .height = (int)m->h, .channels = 1, .depth = 8, .data = files[i].data};
        if (!image_write(path, &im, &wo, err))
            return false;
    }
    return true;
}

// Selection mode: one slide, by the original's rules.
static bool run_slide(const char *path, Output *out, int jobs_n, Err *err)
{
    char name[PATCHID_MAX_BYTES];
    if (!slide_name(path, name, sizeof name, err))
        return false;
    Annotations ann = {0};
    bool have_ann = false;
    if (tumour_type) {
        char xml[4096];
        if (opt.annotations)
            snprintf(xml, sizeof xml, "%s", opt.annotations);
        else if ((size_t)snprintf(xml, sizeof xml, "%s/%s.xml", opt.annotation_dir, name) >= sizeof xml)
            return err_set(err, "%s: annotation path too long", path);
        if (!annotation_read(xml, &ann, err))
            return false;
        have_ann = true;
        for (size_t i = 0; i < ann.ignored_count; i++)
            cli_warn("%s: ignored annotation group '%s' (only Tumor, _0, _1 and _2 are used)", xml, ann.ignored[i]);
    }
    Slide *slide = slide_open(path, err);
    if (slide)
        slide_set_direct_reads(slide, strcmp(opt.reader, "auto") == 0);
    PatchList list = {0};
    Job *jobs = NULL;
    PatchSelMasks masks = {0};
    bool ok = slide && patchsel_select_masks(slide, name, have_ann ? &ann : NULL, &sel, &list,
                                             opt.mask_png ? &masks : NULL, err);
    if (ok && opt.mask_png)
        ok = write_masks(name, &masks, err);
    patchsel_masks_fini(&masks);
    if (ok) {
        if (list.uniform)
            cli_warn("%s: level %d image is uniform, no tissue found (0 patches)", path, sel.level);
        jobs = xmalloc_array(list.count ? list.count : 1, sizeof *jobs, err);
        ok = jobs != NULL;
    }
    for (size_t i = 0; ok && i < list.count; i++) {
        jobs[i].patch = list.patches[i];
        jobs[i].label = tumour_type;
        if (!patchid_format(jobs[i].id, sizeof jobs[i].id, name, opt.type, list.patches[i].level0_row,
                            list.patches[i].level0_col, patch_px, patch_px))
            ok = err_set(err, "%s: patch id too long", path);
    }
    if (ok)
        ok = emit(slide, name, jobs, list.count, out, jobs_n, err);
    free(jobs);
    patchlist_fini(&list);
    slide_close(slide);
    if (have_ann)
        annotation_fini(&ann);
    return ok;
}

/* --ids: the parsed list, grouped by slide in order of first appearance. */
typedef struct IdEntry {
    Job job;
    char slide[PATCHID_MAX_BYTES];
    size_t group;
} IdEntry;

static bool read_ids(const char *path, IdEntry **out, size_t *count, Err *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f)
        return err_set(err, "%s: %s", path, strerror(errno));
    IdEntry *e = NULL;
    size_t n = 0, cap = 0, line_no = 0;
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    bool ok = true;
    while (ok && (len = getline(&line, &line_cap, f)) >= 0) {
        line_no++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (len == 0)
            continue;
        PatchId p;
        if (!patchid_parse(line, &p, err)) {
            err_prefix(err, "%s:%zu", path, line_no);
            ok = false;
            break;
        }
        if (p.width != patch_px || p.height != patch_px) {
            ok = err_set(err, "%s:%zu: patch '%s' is %lldx%lld, expected %lldx%lld (see --level)", path, line_no,
                         line, (long long)p.width, (long long)p.height, (long long)patch_px, (long long)patch_px);
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            IdEntry *ne = xrealloc_array(e, cap, sizeof *e, err);
            if (!ne) {
                ok = false;
                break;
            }
            e = ne;
        }
        IdEntry *x = &e[n++];
        memset(x, 0, sizeof *x);
        snprintf(x->slide, sizeof x->slide, "%s", p.slide);
        x->job.patch.level0_col = p.level0_col;
        x->job.patch.level0_row = p.level0_row;
        x->job.label = strcmp(p.type, "tumor") == 0;
        patchid_format(x->job.id, sizeof x->job.id, p.slide, p.type, p.level0_row, p.level0_col, p.width, p.height);
        // Group number: index of the first entry with this slide.
        x->group = n - 1;
        for (size_t k = 0; k + 1 < n; k++)
            if (e[k].group == k && strcmp(e[k].slide, x->slide) == 0) {
                x->group = k;
                break;
            }
    }
    if (ok && ferror(f))
        ok = err_set(err, "%s: read error", path);
    free(line);
    if (f != stdin)
        fclose(f);
    if (!ok) {
        free(e);
        return false;
    }
    *out = e;
    *count = n;
    return true;
}

// Sorts entries by group, keeping list order inside a group (a stable sort:
// qsort on (group, original index)).
typedef struct Keyed { size_t group, index; } Keyed;
static int cmp_keyed(const void *a, const void *b)
{
    const Keyed *x = a, *y = b;
    if (x->group != y->group) return x->group < y->group ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

static bool group_entries(IdEntry *e, size_t n, Err *err)
{
    Keyed *k = xmalloc_array(n ? n : 1, sizeof *k, err);
    IdEntry *tmp = k ? xmalloc_array(n ? n : 1, sizeof *tmp, err) : NULL;
    if (!tmp) {
        free(k);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        k[i] = (Keyed){e[i].group, i};
    qsort(k, n, sizeof *k, cmp_keyed);
    for (size_t i = 0; i < n; i++)
        tmp[i] = e[k[i].index];
    memcpy(e, tmp, n * sizeof *e);
    free(tmp);
    free(k);
    return true;
}

// The slide file for a name: a positional argument with that name, else
// <slides-dir>/<name>.tif.
static void slide_path_for(const char *name, char **args, int nargs, char *out, size_t n)
{
    char other[PATCHID_MAX_BYTES];
    for (int i = 0; i < nargs; i++)
        if (slide_name_from_path(args[i], other, sizeof other) && strcmp(other, name) == 0) {
            snprintf(out, n, "%s", args[i]);
            return;
        }
    snprintf(out, n, "%s/%s.tif", opt.slides_dir, name);
}

static bool run_id_group(const char *path, const char *name, Job *jobs, size_t n, Output *out, int jobs_n, Err *err)
{
    // --list only normalises the names (no slide is opened).
    if (out->text)
        return emit(NULL, name, jobs, n, out, jobs_n, err);
    Slide *slide = slide_open(path, err);
    if (!slide)
        return false;
    slide_set_direct_reads(slide, strcmp(opt.reader, "auto") == 0);
    int64_t W = slide_width(slide, 0), H = slide_height(slide, 0);
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++)
        if (jobs[i].patch.level0_col + patch_px > W || jobs[i].patch.level0_row + patch_px > H)
            ok = err_set(err, "%s: patch %s lies outside the slide (%lldx%lld)", path, jobs[i].id, (long long)W,
                         (long long)H);
    if (ok)
        ok = emit(slide, name, jobs, n, out, jobs_n, err);
    slide_close(slide);
    return ok;
}

// Reads slide paths from standard input, one per line.
static char **read_paths(size_t *count, Err *err)
{
    char **paths = NULL, *line = NULL;
    size_t n = 0, cap = 0, line_cap = 0;
    ssize_t len;
    while ((len = getline(&line, &line_cap, stdin)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (len == 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **np = xrealloc_array(paths, cap, sizeof *np, err);
            if (!np)
                break;
            paths = np;
        }
        if (!(paths[n] = xstrdup(line, err)))
            break;
        n++;
    }
    free(line);
    if (err_is_set(err)) {
        for (size_t i = 0; i < n; i++)
            free(paths[i]);
        free(paths);
        return NULL;
    }
    *count = n;
    return paths ? paths : xmalloc_array(1, sizeof *paths, err);
}

static int parse_options(int nargs)
{
    if (strcmp(opt.type, "normal") != 0 && strcmp(opt.type, "tumor") != 0)
        return cli_usage_error("--type must be normal or tumor, not '%s'", opt.type);
    tumour_type = strcmp(opt.type, "tumor") == 0;
    if (opt.level < 0 || opt.level > 12)
        return cli_usage_error("--level must be 0..12");
    patch_px = 3 * ((int64_t)1 << opt.level);
    if (opt.patch_given && opt.patch != patch_px)
        return cli_usage_error("--patch must be 3 x 2^level = %lld for level %lld (a patch is one 3x3 block of "
                               "mask pixels)", (long long)patch_px, (long long)opt.level);
    if (opt.max_patches < 0)
        return cli_usage_error("--max-patches must be >= 0");
    if (strcmp(opt.reader, "auto") != 0 && strcmp(opt.reader, "openslide") != 0)
        return cli_usage_error("--reader must be auto or openslide, not '%s'", opt.reader);
    sel = patchsel_defaults();
    sel.level = (int)opt.level;
    sel.max_patches = opt.max_patches;
    sel.filter = labelmask_filter_from_name(opt.mask_filter);
    if (sel.filter == LABELMASK_FILTER_COUNT)
        return cli_usage_error("--mask-filter must be bicubic or nearest, not '%s'", opt.mask_filter);
    if (opt.ids) {
        if (opt.annotations || opt.annotation_dir || opt.mask_png)
            return cli_usage_error("--ids extracts listed patches; it takes no annotations or --mask-png");
        return 0;
    }
    if (tumour_type && !opt.annotations && !opt.annotation_dir)
        return cli_usage_error("--type tumor needs --annotations XML or --annotation-dir DIR");
    if (!tumour_type && (opt.annotations || opt.annotation_dir))
        return cli_usage_error("annotations are only used with --type tumor");
    if (opt.annotations && opt.annotation_dir)
        return cli_usage_error("give --annotations or --annotation-dir, not both");
    if (opt.annotations && nargs != 1)
        return cli_usage_error("--annotations belongs to exactly one slide argument; use --annotation-dir");
    if (nargs == 0 && isatty(STDIN_FILENO))
        return cli_usage_error("no slides given (arguments, or paths on standard input)");
    return 0;
}

// Cuts the id group ids[i..j) (one slide) out of its slide.
static bool run_id_unit(const IdEntry *ids, size_t i, size_t j, char **args, int nargs, Output *out, int jobs_n,
                        Err *err)
{
    char path[4096];
    slide_path_for(ids[i].slide, args, nargs, path, sizeof path);
    Job *jobs = xmalloc_array(j - i, sizeof *jobs, err);
    if (!jobs)
        return false;
    for (size_t k = i; k < j; k++)
        jobs[k - i] = ids[k].job;
    bool ok = run_id_group(path, ids[i].slide, jobs, j - i, out, jobs_n, err);
    free(jobs);
    return ok;
}

// Commits the output unless nothing succeeded or writing broke (then no
// output file appears). Returns false when committing fails.
static bool finish(Output *out, int done, int failed, Err *err)
{
    if ((done == 0 && failed > 0) || out->broken) {
        tstream_writer_abort(out->stream);
        afile_abort(out->text);
        return true;
    }
    return out->stream ? tstream_writer_commit(out->stream, err) : afile_commit(out->text, err);
}

int main(int argc, char **argv)
{
    CliCommon common;
    int first;
    CliStatus st = cli_parse(&spec, argc, argv, &common, &first);
    if (st != CLI_CONTINUE)
        return cli_exit_code(st);
    int nargs = argc - first, rc = parse_options(nargs);
    if (rc)
        return rc;
    sel.seed = common.seed;
    omp_set_num_threads(common.jobs);

    Err err = {0};
    char **paths = argv + first, **owned = NULL;
    size_t npaths = (size_t)nargs, nids = 0, units = 0;
    IdEntry *ids = NULL;
    if (opt.ids && (!read_ids(opt.ids, &ids, &nids, &err) || !group_entries(ids, nids, &err)))
        return cli_report(&err);
    if (!opt.ids && nargs == 0) {
        if (!(owned = read_paths(&npaths, &err)))
            return cli_report(&err);
        paths = owned;
    }
    for (size_t i = 0; i < nids; i++)
        units += i == 0 || ids[i].group != ids[i - 1].group;
    units = opt.ids ? units : npaths;

    Output out = {0};
    if (opt.list)
        out.text = afile_open(opt.output, &err);
    else
        out.stream = tstream_create(opt.output, &err);
    if (!out.text && !out.stream)
        return cli_report(&err);
    int failed = 0, done = 0;
    progress = progress_new("slides", (int64_t)units, common.progress);
    for (size_t u = 0, i = 0; u < units && !out.broken; u++) {
        Err e = {0};
        bool ok;
        if (opt.ids) {
            size_t j = i;
            while (j < nids && ids[j].group == ids[i].group)
                j++;
            progress_note(progress, ids[i].slide);
            ok = run_id_unit(ids, i, j, argv + first, nargs, &out, common.jobs, &e);
            i = j;
        } else {
            progress_note(progress, paths[u]);
            ok = run_slide(paths[u], &out, common.jobs, &e);
        }
        done += ok;
        failed += !ok;
        if (!ok)
            cli_report(&e); // a broken output stream ends the loop; slide errors do not
        progress_add(progress, 1);
    }
    progress_free(progress);
    if (!finish(&out, done, failed, &err)) {
        cli_report(&err);
        failed++;
    }
    if (failed && units > 1)
        cli_warn("%d of %zu slides failed", failed, units);
    free(ids);
    for (size_t i = 0; owned && i < npaths; i++)
        free(owned[i]);
    free(owned);
    return failed ? 1 : 0;
}
