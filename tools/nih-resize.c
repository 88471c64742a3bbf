/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nih-resize: shrink NIH ChestX-ray14 images to 300x300 8-bit grey exactly
 * as the original nih_resize.py did (spec baselines-data.md 4.7): Pillow
 * convert('L') (luma for RGB/RGBA, Pillow's clipping rule for 16-bit grey),
 * then Image.resize((300, 300), BILINEAR), pixel for pixel.
 *
 * Reads PNG (or any format img.h decodes) files given as arguments or
 * folders, listed one per line (--list, or standard input when nothing else
 * is given), or named by the `Image Index` column of Data_Entry_2017.csv.
 * Writes PNGs of the same names into a folder (-o; each file atomic, existing
 * ones kept unless --force, so an interrupted run resumes), and/or a tensor
 * stream of u8 (1, 300, 300) records with `id` = the name without extension,
 * in input order (--stream; standard output when no -o is given).
 * Unreadable images are reported, listed in a failures file and skipped;
 * the rest finish and the exit status is 1.
 *
 *     nih-resize --data-entry nih/Data_Entry_2017.csv -o work/nih_300 -j 8
 */
#include <errno.h>
#include <glob.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

#include "afile.h"
#include "cli.h"
#include "img.h"
#include "progress.h"
#include "resample.h"
#include "transform.h"
#include "tstream.h"

typedef struct Options {
    const char *outdir;     /* -o: folder of output PNGs */
    const char *stream;     /* --stream: tensor stream output */
    const char *list;       /* --list: file of paths */
    const char *root;       /* --root: folder that relative names are under */
    const char *data_entry; /* --data-entry: Data_Entry_2017.csv */
    const char *failures;   /* --failures: list of failed inputs */
    int64_t size;           /* --size: output side in pixels */
    int64_t png_level;      /* --png-level: zlib level of output PNGs */
    bool force;             /* --force: redo existing outputs */
} Options;

// PNG level 1: the files are about 10% larger than Pillow's level 6 and are
// written several times faster; the pixels are the same.
static Options opt = {.size = 300, .png_level = 1};

static const CliOption options[] = {
    {"output", 'o', CLI_STRING, &opt.outdir, NULL, "DIR", "write NAME.png files here (created if missing)"},
    {"stream", 0, CLI_STRING, &opt.stream, NULL, "FILE",
     "write a tensor stream of u8 (1,S,S) records, id = name, in input order ('-' = stdout; the default "
     "when -o is not given)"},
    {"list", 0, CLI_STRING, &opt.list, NULL, "FILE", "read image paths from FILE, one per line ('-' = stdin)"},
    {"root", 0, CLI_STRING, &opt.root, NULL, "DIR",
     "folder that relative paths of --list and --data-entry names are under (default for --data-entry: the "
     "CSV's folder)"},
    {"data-entry", 0, CLI_STRING, &opt.data_entry, NULL, "CSV",
     "take every 'Image Index' of Data_Entry_2017.csv, found under the root, root/images or "
     "root/images_*/images"},
    {"failures", 0, CLI_STRING, &opt.failures, NULL, "FILE",
     "list failed inputs here as PATH<TAB>reason (default with -o: DIR/failures.txt)"},
    {"size", 0, CLI_INT, &opt.size, NULL, "S", "output side in pixels (default 300, as the paper)"},
    {"png-level", 0, CLI_INT, &opt.png_level, NULL, "N", "zlib level 0..9 of output PNGs (default 1; 6 is Pillow's, ~10% smaller, slower)"},
    {"force", 'f', CLI_FLAG, &opt.force, NULL, NULL, "redo images whose output file already exists"},
    {0},
};

static const CliSpec spec = {
    .name = "nih-resize",
    .usage = "[options] [IMAGE|DIR...]",
    .summary = "Convert NIH ChestX-ray14 images to 8-bit grey and resize them to 300x300 the way the original "
               "Pillow script did.",
    .example = "nih-resize --data-entry nih/Data_Entry_2017.csv -o work/nih_300\n"
               "  find nih/images -name '*.png' | nih-resize -o work/nih_300 --progress\n"
               "  nih-resize --list test.txt --root work/nih_300 --stream test.ts",
    .options = options,
    .has_jobs = true,
    .notes = "Every output pixel equals Pillow's Image.open(f).convert('L').resize((S, S), Image.BILINEAR).\n"
             "A folder argument adds the image files directly inside it, sorted by name. With no input\n"
             "arguments the paths are read from standard input. Exit status: 0 when every image was\n"
             "converted (or already present), 1 when any failed (the others are still written).",
};

/* ---- the input list ---- */

typedef struct PathList {
    char **paths; /* count paths, owned */
    size_t count, cap;
} PathList;

static bool list_add(PathList *l, const char *dir, const char *name, Err *err)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 1024;
        char **p = xrealloc_array(l->paths, cap, sizeof *p, err);
        if (!p)
            return false;
        l->paths = p;
        l->cap = cap;
    }
    char *s;
    if (dir && name[0] != '/' && asprintf(&s, "%s/%s", dir, name) < 0)
        return err_set(err, "out of memory");
    if (!dir || name[0] == '/') {
        s = xstrdup(name, err);
        if (!s)
            return false;
    }
    l->paths[l->count++] = s;
    return true;
}

static void list_fini(PathList *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->paths[i]);
    free(l->paths);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return name[0] != '.' && dot && image_format_from_name(name) != IMAGE_FORMAT_UNKNOWN;
}

// The image files directly inside a folder, sorted by name (byte order).
static bool add_folder(PathList *l, const char *dir, Err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return err_set(err, "%s: cannot open folder: %s", dir, strerror(errno));
    size_t first = l->count;
    struct dirent *e;
    bool ok = true;
    while (ok && (e = readdir(d)))
        if (is_image_name(e->d_name))
            ok = list_add(l, dir, e->d_name, err);
    closedir(d);
    if (ok)
        qsort(l->paths + first, l->count - first, sizeof *l->paths, compare_names);
    return ok;
}

// Paths one per line (blank lines skipped, CR LF accepted).
static bool add_list_file(PathList *l, const char *path, const char *root, Err *err)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!fp)
        return err_set(err, "%s: cannot open list: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    bool ok = true;
    while (ok && (n = getline(&line, &cap, fp)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n > 0)
            ok = list_add(l, root, line, err);
    }
    if (ok && ferror(fp))
        ok = err_set(err, "%s: read error: %s", path, strerror(errno));
    free(line);
    if (fp != stdin)
        fclose(fp);
    return ok;
}

// Folders where NIH's download puts the PNGs: the root itself, root/images
// (the unpacked tarballs) and root/images_001..012/images (the Kaggle copy).
static bool image_folders(const char *root, PathList *dirs, Err *err)
{
    if (!list_add(dirs, NULL, root, err))
        return false;
    char *p;
    if (asprintf(&p, "%s/images", root) < 0)
        return err_set(err, "out of memory");
    bool ok = !is_dir(p) || list_add(dirs, NULL, p, err);
    free(p);
    glob_t g;
    char *pattern;
    if (!ok || asprintf(&pattern, "%s/images_*/images", root) < 0)
        return ok ? err_set(err, "out of memory") : false;
    if (glob(pattern, GLOB_ONLYDIR, NULL, &g) == 0) {
        for (size_t i = 0; ok && i < g.gl_pathc; i++)
            ok = list_add(dirs, NULL, g.gl_pathv[i], err);
        globfree(&g);
    }
    free(pattern);
    return ok;
}

// Every `Image Index` of Data_Entry_2017.csv, in file order, as a path in
// the first image folder that holds it (or under the root when none does,
// so that the image is reported missing by name).
static bool add_data_entry(PathList *l, const char *csv, const char *root, Err *err)
{
    FILE *fp = fopen(csv, "r");
    if (!fp)
        return err_set(err, "%s: cannot open: %s", csv, strerror(errno));
    char *dir_of_csv = xstrdup(csv, err);
    if (!dir_of_csv) {
        fclose(fp);
        return false;
    }
    char *slash = strrchr(dir_of_csv, '/');
    if (slash)
        *slash = 0;
    if (!root)
        root = slash ? dir_of_csv : ".";
    PathList dirs = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int column = -1;
    int64_t lineno = 0;
    bool ok = image_folders(root, &dirs, err);
    while (ok && (n = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        // The real file has no quoted fields; split on commas. A UTF-8 byte
        // order mark (spreadsheet exports add one) is not part of the name.
        char *field = line;
        if (lineno == 1 && strncmp(field, "\xEF\xBB\xBF", 3) == 0)
            field += 3;
        int col = 0;
        // strsep keeps empty fields, so column numbers stay right.
        char *tok = strsep(&field, ",");
        if (column < 0) {
            for (; tok; tok = strsep(&field, ","), col++)
                if (strcmp(tok, "Image Index") == 0)
                    column = col;
            if (column < 0)
                ok = err_set(err, "%s:1: no 'Image Index' column in the header", csv);
            continue;
        }
        if (n == 0)
            continue;
        while (tok && col < column) {
            tok = strsep(&field, ",");
            col++;
        }
        if (!tok || !tok[0]) {
            ok = err_set(err, "%s:%lld: no 'Image Index' value", csv, (long long)lineno);
            break;
        }
        const char *found = root;
        for (size_t d = 0; d < dirs.count; d++) {
            char *p;
            if (asprintf(&p, "%s/%s", dirs.paths[d], tok) < 0) {
                ok = err_set(err, "out of memory");
                break;
            }
            bool here = access(p, F_OK) == 0;
            free(p);
            if (here) {
                found = dirs.paths[d];
                break;
            }
        }
        ok = ok && list_add(l, found, tok, err);
    }
    if (ok && column < 0)
        ok = err_set(err, "%s: empty file", csv);
    free(line);
    list_fini(&dirs);
    free(dir_of_csv);
    fclose(fp);
    return ok;
}

/* ---- one image ---- */

typedef struct Result {
    uint8_t *pixels; /* size x size grey, when the stream needs it; owned */
    Err err;         /* "path: what is wrong"; empty on success */
} Result;

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

// Reuses an output written by an earlier run, if it is what we would write.
static bool read_existing(const char *out_path, int size, uint8_t *pixels)
{
    Image im = {0};
    Err err = {0};
    bool ok = image_read(out_path, &im, &err) && im.width == size && im.height == size && im.channels == 1 &&
              im.depth == 8;
    if (ok)
        memcpy(pixels, im.data, (size_t)size * size);
    image_fini(&im);
    return ok;
}

static bool convert_one(const char *path, const char *out_path, int size, uint8_t *pixels, Err *err)
{
    Image im = {0};
    if (!image_read(path, &im, err))
        return false;
    size_t px = (size_t)im.width * im.height;
    // 8-bit grey (nearly every NIH image) is already what convert('L') gives.
    bool is_grey = im.depth == 8 && im.channels == 1;
    uint8_t *grey = is_grey ? im.data : xmalloc_array(px, 1, err);
    bool ok = grey != NULL;
    if (ok) {
        if (im.depth == 16)
            transform_grey_u16(grey, im.data, px, im.channels, (size_t)im.channels, 1);
        else if (!is_grey)
            transform_grey_u8(grey, im.data, px, im.channels, (size_t)im.channels, 1);
        ok = resample_pillow_u8(pixels, size, size, grey, im.width, im.height, 1, RESAMPLE_BILINEAR, err);
        if (!ok)
            err_prefix(err, "%s", path);
    }
    if (!is_grey)
        free(grey);
    image_fini(&im);
    if (ok && out_path) {
        Image out = {.width = size, .height = size, .channels = 1, .depth = 8, .data = pixels};
        ImageWriteOptions wo = {.format = IMAGE_FORMAT_PNG, .png_level = (int)opt.png_level};
        ok = image_write(out_path, &out, &wo, err);
    }
    return ok;
}

static void process(const char *path, int size, bool want_pixels, Result *r)
{
    char *out_path = NULL;
    err_clear(&r->err);
    r->pixels = malloc((size_t)size * size);
    // The output keeps the input's name; only a non-PNG input changes its
    // extension, since the output is always a PNG.
    const char *name = base_name(path), *dot = strrchr(name, '.');
    int stem = dot && dot != name && image_format_from_name(name) != IMAGE_FORMAT_PNG ? (int)(dot - name)
                                                                                       : (int)strlen(name);
    const char *ext = stem < (int)strlen(name) ? ".png" : "";
    if (!r->pixels || (opt.outdir && asprintf(&out_path, "%s/%.*s%s", opt.outdir, stem, name, ext) < 0)) {
        out_path = NULL;
        err_set(&r->err, "%s: out of memory", path);
    } else {
        bool done = false;
        if (out_path && !opt.force && access(out_path, F_OK) == 0)
            done = !want_pixels || read_existing(out_path, size, r->pixels);
        if (!done)
            convert_one(path, out_path, size, r->pixels, &r->err);
    }
    free(out_path);
    if (!want_pixels || err_is_set(&r->err)) {
        free(r->pixels);
        r->pixels = NULL;
    }
}

/* ---- main ---- */

static bool make_dirs(const char *path, Err *err)
{
    char *p = xstrdup(path, err);
    if (!p)
        return false;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == 0) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                err_set(err, "%s: cannot create folder: %s", p, strerror(errno));
                free(p);
                return false;
            }
            *s = c;
            if (!c)
                break;
        }
    }
    free(p);
    if (!is_dir(path))
        return err_set(err, "%s: not a folder", path);
    return true;
}

static bool write_failures(const char *path, char **paths, char **errors, size_t n, Err *err)
{
    struct stat st;
    if (n == 0) { // nothing failed: drop a list left by an earlier run
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
            return true;
        if (unlink(path) != 0 && errno != ENOENT)
            return err_set(err, "%s: cannot remove: %s", path, strerror(errno));
        return true;
    }
    AFile *f = afile_open(path, err);
    if (!f)
        return false;
    for (size_t i = 0; i < n; i++) {
        // The reason without the leading "path: ", one line.
        const char *why = errors[i];
        size_t plen = strlen(paths[i]);
        if (strncmp(why, paths[i], plen) == 0 && strncmp(why + plen, ": ", 2) == 0)
            why += plen + 2;
        fprintf(afile_stream(f), "%s\t%s\n", paths[i], why);
    }
    return afile_commit(f, err);
}

/* Output files are replaced by renaming a temporary file onto them, which
 * must not happen to a device or a pipe (/dev/null, a FIFO): those are
 * refused, and '-' is the way to standard output. */
static bool regular_or_absent(const char *path, const char *option, Err *err)
{
    struct stat st;
    if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || S_ISREG(st.st_mode))
        return true;
    return err_set(err, "%s %s: not a regular file (use '-' for standard output)", option, path);
}

static bool collect_inputs(PathList *in, int argc, char **argv, int first, Err *err)
{
    for (int i = first; i < argc; i++) {
        bool ok = is_dir(argv[i]) ? add_folder(in, argv[i], err) : list_add(in, NULL, argv[i], err);
        if (!ok)
            return false;
    }
    if (opt.list && !add_list_file(in, opt.list, opt.root, err))
        return false;
    if (opt.data_entry && !add_data_entry(in, opt.data_entry, opt.root, err))
        return false;
    if (first == argc && !opt.list && !opt.data_entry)
        return add_list_file(in, "-", opt.root, err);
    return true;
}

int main(int argc, char **argv)
{
    CliCommon common;
    int first;
    // Each image needs a few MiB of buffers (file, inflated rows, pixels).
    // Kept in the heap rather than mapped and unmapped per image, they cost
    // no page faults after the first images: a fifth of the time otherwise.
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    CliStatus st = cli_parse(&spec, argc, argv, &common, &first);
    if (st != CLI_CONTINUE)
        return cli_exit_code(st);
    if (opt.size < 1 || opt.size > 16384)
        return cli_usage_error("--size must be 1..16384, not %lld", (long long)opt.size);
    if (opt.png_level < -1 || opt.png_level > 9)
        return cli_usage_error("--png-level must be 0..9, not %lld", (long long)opt.png_level);
    if (first == argc && !opt.list && !opt.data_entry && isatty(STDIN_FILENO))
        return cli_usage_error("no input images (give files, a folder, --list, --data-entry, or paths on stdin)");
    if (!opt.outdir && !opt.stream)
        opt.stream = "-";
    if (opt.force && !opt.outdir)
        return cli_usage_error("--force goes with -o");
    const char *failures = opt.failures;
    char *default_failures = NULL;
    if (!failures && opt.outdir) {
        if (asprintf(&default_failures, "%s/failures.txt", opt.outdir) < 0)
            return cli_usage_error("out of memory");
        failures = default_failures;
    }

    Err err = {0};
    PathList in = {0};
    int size = (int)opt.size;
    bool ok = (!opt.stream || regular_or_absent(opt.stream, "--stream", &err)) &&
              (!failures || regular_or_absent(failures, "--failures", &err)) &&
              collect_inputs(&in, argc, argv, first, &err) && (!opt.outdir || make_dirs(opt.outdir, &err));
    TStreamWriter *w = ok && opt.stream ? tstream_create(opt.stream, &err) : NULL;
    ok = ok && (!opt.stream || w);
    // Images are converted in windows of some per thread, so memory stays
    // bounded (S*S bytes each) while the stream is written in input order;
    // a long window keeps the threads from idling at each window's end.
    size_t window = (size_t)common.jobs * 32;
    Result *res = ok ? xcalloc_array(window, sizeof *res, &err) : NULL;
    char **failed = ok ? xcalloc_array(in.count + 1, sizeof *failed, &err) : NULL;
    char **why = ok ? xcalloc_array(in.count + 1, sizeof *why, &err) : NULL;
    ok = ok && res && failed && why;
    size_t nfailed = 0;
    Progress *prog = ok ? progress_new("images", (int64_t)in.count, common.progress) : NULL;
    for (size_t start = 0; ok && start < in.count; start += window) {
        size_t n = in.count - start < window ? in.count - start : window;
#pragma omp parallel for schedule(dynamic, 1) num_threads(common.jobs)
        for (size_t i = 0; i < n; i++) {
            process(in.paths[start + i], size, w != NULL, &res[i]);
            progress_add(prog, 1);
        }
        for (size_t i = 0; i < n; i++) {
            const char *path = in.paths[start + i];
            if (err_is_set(&res[i].err)) {
                cli_warn("%s", res[i].err.msg);
                failed[nfailed] = in.paths[start + i];
                why[nfailed] = xstrdup(res[i].err.msg, &err);
                ok = ok && why[nfailed++];
            } else if (w && ok) {
                char id[4096];
                snprintf(id, sizeof id, "%s", base_name(path));
                char *dot = strrchr(id, '.');
                if (dot && dot != id)
                    *dot = 0;
                TRecord meta;
                trecord_init(&meta);
                int64_t dims[3] = {1, size, size};
                ok = trecord_meta_set(&meta, "id", id, &err) &&
                     tstream_write_parts(w, TDTYPE_U8, 3, dims, res[i].pixels, &meta, &err);
                trecord_fini(&meta);
            }
            free(res[i].pixels);
            res[i].pixels = NULL;
        }
    }
    progress_free(prog);
    if (w) {
        if (ok)
            ok = tstream_writer_commit(w, &err);
        else
            tstream_writer_abort(w);
    }
    if (ok && failures)
        ok = write_failures(failures, failed, why, nfailed, &err);
    int status = ok ? 0 : cli_report(&err);
    if (ok && nfailed) {
        cli_warn("%zu of %zu images failed%s%s%s", nfailed, in.count, failures ? " (listed in " : "",
                 failures ? failures : "", failures ? ")" : "");
        status = 1;
    }
    for (size_t i = 0; i < nfailed; i++)
        free(why[i]);
    free(why);
    free(failed);
    free(res);
    free(default_failures);
    list_fini(&in);
    return status;
}
