/* SPDX-License-Identifier: Apache-2.0 */
/* imgsrc: gathering image paths and converting them to records in parallel,
 * in order (see imgsrc.h). */
#include "imgsrc.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "img.h"
#include "imgconv.h"

void imgsrc_init(ImgSrcList *list)
{
    memset(list, 0, sizeof *list);
}

void imgsrc_fini(ImgSrcList *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].path);
        free(list->items[i].class_name);
    }
    free(list->items);
    memset(list, 0, sizeof *list);
}

// Takes ownership of path (freed on failure).
static bool push(ImgSrcList *list, char *path, const char *class_name, bool has_label, int64_t label, Err *err)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 256;
        ImgSrcItem *items = xrealloc_array(list->items, cap, sizeof *items, err);
        if (!items) {
            free(path);
            return false;
        }
        list->items = items;
        list->cap = cap;
    }
    char *cls = NULL;
    if (class_name && !(cls = xstrdup(class_name, err))) {
        free(path);
        return false;
    }
    list->items[list->count++] = (ImgSrcItem){path, cls, label, has_label};
    return true;
}

static char *join(const char *dir, const char *name, Err *err)
{
    size_t a = strlen(dir), b = strlen(name);
    bool slash = a > 0 && dir[a - 1] != '/';
    char *p = xmalloc_array(a + b + 2, 1, err);
    if (p)
        snprintf(p, a + b + 2, "%s%s%s", dir, slash ? "/" : "", name);
    return p;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

// Names in dir (hidden ones skipped) that are image files (want_dirs false)
// or folders (want_dirs true), sorted; *names is malloc'd, each name too.
static bool list_dir(const char *dir, bool want_dirs, char ***names, size_t *count, Err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return err_set(err, "%s: %s", dir, strerror(errno));
    char **v = NULL;
    size_t n = 0, cap = 0;
    bool ok = true;
    struct dirent *e;
    while (ok && (errno = 0, e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *full = join(dir, e->d_name, err);
        if (!full) {
            ok = false;
            break;
        }
        bool keep = want_dirs ? is_dir(full) : (!is_dir(full) && image_format_from_name(e->d_name) != IMAGE_FORMAT_UNKNOWN);
        free(full);
        if (!keep)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **bigger = xrealloc_array(v, cap, sizeof *v, err);
            if (!bigger) {
                ok = false;
                break;
            }
            v = bigger;
        }
        if (!(v[n] = xstrdup(e->d_name, err)))
            ok = false;
        else
            n++;
    }
    if (ok && errno != 0)
        ok = err_set(err, "%s: %s", dir, strerror(errno));
    closedir(d);
    if (!ok) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return false;
    }
    if (n)
        qsort(v, n, sizeof *v, by_name);
    *names = v;
    *count = n;
    return true;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static bool add_folder(ImgSrcList *list, const char *dir, const char *class_name, bool has_label, int64_t label,
                       Err *err)
{
    char **names;
    size_t n;
    if (!list_dir(dir, false, &names, &n, err))
        return false;
    bool ok = n > 0 || err_set(err, "%s: no image files (.png .jpg .jpeg .tif .tiff .bmp) in folder", dir);
    for (size_t i = 0; ok && i < n; i++) {
        char *full = join(dir, names[i], err);
        ok = full && push(list, full, class_name, has_label, label, err);
    }
    free_names(names, n);
    return ok;
}

bool imgsrc_add(ImgSrcList *list, const char *path, Err *err)
{
    if (is_dir(path))
        return add_folder(list, path, NULL, false, 0, err);
    char *copy = xstrdup(path, err);
    return copy && push(list, copy, NULL, false, 0, err);
}

bool imgsrc_add_list(ImgSrcList *list, FILE *fp, const char *name, const char *root, Err *err)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int64_t lineno = 0;
    bool ok = true;
    while (ok && (len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (len == 0)
            continue;
        if (strlen(line) != (size_t)len) {
            ok = err_set(err, "%s:%lld: NUL byte in a path", name, (long long)lineno);
            break;
        }
        char *tab = strchr(line, '\t');
        int64_t label = 0;
        if (tab) {
            *tab = 0;
            if (!cli_parse_int(tab + 1, &label)) {
                ok = err_set(err, "%s:%lld: bad label '%s' (want an integer after the tab)", name,
                             (long long)lineno, tab + 1);
                break;
            }
        }
        if (line[0] == 0) {
            ok = err_set(err, "%s:%lld: empty path", name, (long long)lineno);
            break;
        }
        char *path = root && line[0] != '/' ? join(root, line, err) : xstrdup(line, err);
        ok = path && push(list, path, NULL, tab != NULL, label, err);
    }
    if (ok && ferror(fp))
        ok = err_set(err, "%s: read error: %s", name, strerror(errno));
    free(line);
    return ok;
}

static bool is_integer_name(const char *s, int64_t *v)
{
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return *s && cli_parse_int(s, v);
}

bool imgsrc_add_classes(ImgSrcList *list, const char *dir, bool *had_classes, Err *err)
{
    char **names;
    size_t n;
    if (!list_dir(dir, true, &names, &n, err))
        return false;
    *had_classes = n > 0;
    if (n == 0) {
        free(names);
        return add_folder(list, dir, NULL, false, 0, err);
    }
    bool numeric = true;
    int64_t v;
    for (size_t i = 0; i < n; i++)
        numeric &= is_integer_name(names[i], &v);
    // Non-numeric classes: "normal" first, then the rest in sorted order.
    size_t normal = n;
    for (size_t i = 0; i < n && !numeric; i++)
        if (strcmp(names[i], "normal") == 0)
            normal = i;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        int64_t label;
        if (numeric)
            is_integer_name(names[i], &label);
        else
            label = normal == n ? (int64_t)i : i == normal ? 0 : (int64_t)(i < normal ? i + 1 : i);
        char *sub = join(dir, names[i], err);
        ok = sub && add_folder(list, sub, names[i], true, label, err);
        free(sub);
    }
    free_names(names, n);
    return ok;
}

void imgsrc_id_from_path(const char *path, char *id, size_t n)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    snprintf(id, n, "%.*s", (int)len, base);
}

// Decodes one item into rec: image, conversions, record, metadata.
static bool load_one(const ImgSrcItem *it, size_t index, const ImgSrcOptions *opt, TRecord *rec, Err *err)
{
    Image im = {0};
    bool ok = image_read(it->path, &im, err);
    if (ok && opt->channels == 1)
        ok = imgconv_to_grey(&im, err);
    if (ok && opt->channels == 3)
        ok = imgconv_to_rgb(&im, err);
    if (ok && opt->to_8bit)
        ok = imgconv_to_8bit(&im, err);
    trecord_meta_clear(rec);
    char id[256];
    imgsrc_id_from_path(it->path, id, sizeof id);
    ok = ok && image_to_record(&im, rec, err) && trecord_meta_set(rec, "id", id, err) &&
         trecord_meta_set(rec, "source", it->path, err);
    if (ok && (it->has_label || opt->has_label))
        ok = trecord_meta_setf(rec, err, "label", "%lld", (long long)(it->has_label ? it->label : opt->label));
    if (ok && it->class_name)
        ok = trecord_meta_set(rec, "class_name", it->class_name, err);
    if (ok && opt->with_index)
        ok = trecord_meta_setf(rec, err, "index", "%zu", index);
    image_fini(&im);
    if (!ok && strncmp(err->msg, it->path, strlen(it->path)) != 0)
        err_prefix(err, "%s", it->path);
    return ok;
}

bool imgsrc_convert(const ImgSrcList *list, const ImgSrcOptions *opt, TStreamWriter *out, size_t *bad, Err *err)
{
    const int jobs = opt->jobs < 1 ? 1 : opt->jobs;
    // A batch large enough to keep every thread busy, small enough that the
    // decoded images of one batch stay a modest amount of memory.
    const size_t batch = (size_t)jobs * 4;
    TRecord *recs = xcalloc_array(batch, sizeof *recs, err);
    Err *errs = xcalloc_array(batch, sizeof *errs, err);
    bool *good = xcalloc_array(batch, sizeof *good, err);
    if (!recs || !errs || !good) {
        free(recs), free(errs), free(good);
        return false;
    }
    for (size_t i = 0; i < batch; i++)
        trecord_init(&recs[i]);
    size_t failures = 0;
    bool write_ok = true;
    for (size_t start = 0; start < list->count && write_ok; start += batch) {
        const size_t n = list->count - start < batch ? list->count - start : batch;
#pragma omp parallel for num_threads(jobs) schedule(dynamic, 1)
        for (size_t i = 0; i < n; i++) {
            err_clear(&errs[i]);
            good[i] = load_one(&list->items[start + i], start + i, opt, &recs[i], &errs[i]);
            progress_add(opt->progress, 1);
        }
        for (size_t i = 0; i < n && write_ok; i++) {
            if (!good[i]) {
                failures++;
                if (opt->on_bad)
                    opt->on_bad(opt->ctx, &errs[i]);
            } else if (failures == 0 || opt->skip_bad) {
                write_ok = tstream_write(out, &recs[i], err);
            }
        }
    }
    for (size_t i = 0; i < batch; i++)
        trecord_fini(&recs[i]);
    free(recs), free(errs), free(good);
    if (bad)
        *bad = failures;
    if (!write_ok)
        return false;
    if (failures && !opt->skip_bad)
        return err_set(err, "%zu of %zu images could not be read", failures, list->count);
    return true;
}
