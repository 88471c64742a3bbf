/* SPDX-License-Identifier: Apache-2.0 */
/* folds: CV folds and split lists of the original experiments (see folds.h). */
#include "folds.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "idset.h"
#include "npy.h"
#include "rng.h"
#include "tstream.h"

/* RNG stream ids: each independent shuffle has its own, so that adding a
 * class, a view or a fold never changes the others' lists. */
enum {
    STREAM_VALID_CLASSES = 1,
    STREAM_CLASS_FOLD = 1000,   /* + 64 * class position + fold */
    STREAM_NIH_PATIENTS = 200000, /* + view */
    STREAM_NIH_TRAIN = 210000,    /* + 64 * view + fold */
    STREAM_C16_VALID = 300000,
    STREAM_C16_SLIDES = 300001,
    STREAM_C16_TRAIN = 310000,    /* + fold */
};

void folds_kfold_block(size_t n, int n_folds, int k, size_t *start, size_t *end)
{
    size_t base = n / (size_t)n_folds, extra = n % (size_t)n_folds, uk = (size_t)k;
    *start = uk * base + (uk < extra ? uk : extra);
    *end = *start + base + (uk < extra ? 1 : 0);
}

size_t folds_val_count(size_t n)
{
    return (size_t)(0.2 * (double)n);
}

/* ---- labels ---- */

static bool labels_push(FoldsLabels *l, size_t *cap, int64_t index, int64_t label, Err *err)
{
    if (l->n == *cap) {
        size_t c = *cap ? 2 * *cap : 1024;
        int64_t *a = xrealloc_array(l->index, c, sizeof *a, err);
        if (!a)
            return false;
        l->index = a;
        int64_t *b = xrealloc_array(l->label, c, sizeof *b, err);
        if (!b)
            return false;
        l->label = b;
        *cap = c;
    }
    l->index[l->n] = index;
    l->label[l->n++] = label;
    return true;
}

static bool read_labels_stream(FILE *fp, const char *name, FoldsLabels *l, Err *err)
{
    TStreamReader *r = tstream_open_stream(fp, name, err);
    if (!r)
        return false;
    TRecord rec;
    trecord_init(&rec);
    size_t cap = 0;
    int got;
    bool ok = true;
    while (ok && (got = tstream_read(r, &rec, err)) == 1) {
        int64_t pos = tstream_records_read(r) - 1, index = pos, label;
        if (!trecord_meta_get_int(&rec, "label", &label, err) ||
            (trecord_meta_get(&rec, "index") && !trecord_meta_get_int(&rec, "index", &index, err))) {
            err_prefix(err, "%s:record %" PRId64, name, pos);
            ok = false;
            break;
        }
        ok = labels_push(l, &cap, index, label, err);
    }
    if (ok && got < 0)
        ok = false;
    trecord_fini(&rec);
    tstream_close(r);
    return ok;
}

static bool read_labels_tsv(FILE *fp, const char *name, FoldsLabels *l, Err *err)
{
    TsvReader *r = tsv_open_stream(fp, name, err);
    if (!r)
        return false;
    char **f;
    size_t nf, cap = 0;
    bool ok = false;
    int got = tsv_read_line(r, &f, &nf, err);
    if (got <= 0) {
        if (got == 0)
            err_set(err, "%s: empty input: expected a stream or a TSV with a 'label' column", name);
        goto done;
    }
    int lc = tsv_find_column(f, nf, "label"), ic = tsv_find_column(f, nf, "index");
    if (lc < 0) {
        err_set(err, "%s:line 1: no column named 'label' (expected a stream or a TSV with label and index)", name);
        goto done;
    }
    while ((got = tsv_read_line(r, &f, &nf, err)) == 1) {
        long long line = (long long)tsv_line_number(r);
        if (nf == 1 && !*f[0])
            continue;
        int64_t label, index = (int64_t)l->n;
        if ((size_t)lc >= nf || !tsv_parse_int64(f[lc], &label)) {
            err_set(err, "%s:line %lld: label '%s' is not an integer", name, line, (size_t)lc < nf ? f[lc] : "");
            goto done;
        }
        if (ic >= 0 && ((size_t)ic >= nf || !tsv_parse_int64(f[ic], &index))) {
            err_set(err, "%s:line %lld: index '%s' is not an integer", name, line, (size_t)ic < nf ? f[ic] : "");
            goto done;
        }
        if (!labels_push(l, &cap, index, label, err))
            goto done;
    }
    ok = got == 0;
done:
    tsv_close(r);
    return ok;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

bool folds_read_labels(const char *path, FoldsLabels *out, Err *err)
{
    memset(out, 0, sizeof *out);
    bool is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "stdin" : path;
    FILE *fp = is_stdin ? stdin : fopen(path, "rb");
    if (!fp)
        return err_set(err, "%s: cannot open: %m", path);
    // The stream magic starts with 'A'; a TSV header starts with a column
    // name such as "index" or "label". One byte of look-ahead decides.
    int c = getc(fp);
    if (c != EOF)
        ungetc(c, fp);
    FoldsLabels l = {0};
    bool ok = c == TSTREAM_MAGIC[0] ? read_labels_stream(fp, name, &l, err) : read_labels_tsv(fp, name, &l, err);
    if (!is_stdin)
        fclose(fp);
    if (ok && l.n == 0)
        ok = err_set(err, "%s: no labels", name);
    if (ok) {
        int64_t *sorted = xmalloc_array(l.n, sizeof *sorted, err);
        ok = sorted != NULL;
        if (ok) {
            memcpy(sorted, l.index, l.n * sizeof *sorted);
            qsort(sorted, l.n, sizeof *sorted, cmp_i64);
            if (sorted[0] < 0)
                ok = err_set(err, "%s: negative index %" PRId64, name, sorted[0]);
            for (size_t i = 1; ok && i < l.n; i++)
                if (sorted[i] == sorted[i - 1])
                    ok = err_set(err, "%s: index %" PRId64 " appears twice", name, sorted[i]);
            free(sorted);
        }
    }
    if (!ok) {
        folds_labels_fini(&l);
        return false;
    }
    *out = l;
    return true;
}

void folds_labels_fini(FoldsLabels *l)
{
    free(l->index);
    free(l->label);
    memset(l, 0, sizeof *l);
}

/* ---- cifar10 / svhn / fashion-mnist ---- */

static const char *class_name(const char *dataset, int64_t c, char *buf, size_t n)
{
    static const char *const cifar10[] = {"airplane", "automobile", "bird", "cat", "deer",
                                          "dog", "frog", "horse", "ship", "truck"};
    static const char *const fmnist[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
    if (c >= 0 && c < 10 && strcmp(dataset, "cifar10") == 0)
        return cifar10[c];
    if (c >= 0 && c < 10 && strcmp(dataset, "fashion-mnist") == 0)
        return fmnist[c];
    snprintf(buf, n, "%" PRId64, c); // svhn: the digit is the name
    return buf;
}

// Reads class -> valid_class from a validation_classes CSV.
static bool read_valid_classes(const char *path, const int64_t *classes, size_t nc, int64_t *valid, Err *err)
{
    CsvReader *r = csv_open(path, err);
    if (!r)
        return false;
    const char *name = csv_name(r);
    char **f;
    size_t nf;
    bool ok = false;
    for (size_t i = 0; i < nc; i++)
        valid[i] = INT64_MIN;
    int got = csv_read_record(r, &f, &nf, err);
    if (got <= 0) {
        if (got == 0)
            err_set(err, "%s: empty file", name);
        goto done;
    }
    int cc = tsv_find_column(f, nf, "class"), vc = tsv_find_column(f, nf, "valid_class");
    if (cc < 0 || vc < 0) {
        err_set(err, "%s:line 1: no column '%s' in the header", name, cc < 0 ? "class" : "valid_class");
        goto done;
    }
    while ((got = csv_read_record(r, &f, &nf, err)) == 1) {
        long long line = (long long)csv_line_number(r);
        int64_t c, v;
        if ((size_t)cc >= nf || (size_t)vc >= nf || !tsv_parse_int64(f[cc], &c) || !tsv_parse_int64(f[vc], &v)) {
            err_set(err, "%s:line %lld: class and valid_class must be integers", name, line);
            goto done;
        }
        size_t ci = nc, vi = nc;
        for (size_t i = 0; i < nc; i++) {
            if (classes[i] == c)
                ci = i;
            if (classes[i] == v)
                vi = i;
        }
        if (ci == nc || vi == nc || ci == vi) {
            err_set(err, "%s:line %lld: class %" PRId64 " -> %" PRId64 " is not a pair of two classes of the labels",
                    name, line, c, v);
            goto done;
        }
        valid[ci] = v;
    }
    if (got < 0)
        goto done;
    for (size_t i = 0; i < nc; i++)
        if (valid[i] == INT64_MIN) {
            err_set(err, "%s: no validation class for class %" PRId64, name, classes[i]);
            goto done;
        }
    ok = true;
done:
    csv_close(r);
    return ok;
}

static bool add_npy(FileSet *out, const char *path, const int64_t *v, size_t n, Err *err)
{
    unsigned char *b;
    size_t bytes;
    if (!npy_encode_i64(v, n, &b, &bytes, err))
        return false;
    bool ok = fileset_add(out, path, b, bytes, err);
    free(b);
    return ok;
}

// Indexes (ascending) of the items of class c.
static int64_t *members(const FoldsLabels *l, const int64_t *order, int64_t c, size_t *n, Err *err)
{
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++)
        k += l->label[order[i]] == c;
    int64_t *m = xmalloc_array(k ? k : 1, sizeof *m, err);
    if (!m)
        return NULL;
    k = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->label[order[i]] == c)
            m[k++] = l->index[order[i]];
    *n = k;
    return m;
}

static int cmp_by_index(const void *a, const void *b, void *labels)
{
    const FoldsLabels *l = labels;
    int64_t x = l->index[*(const int64_t *)a], y = l->index[*(const int64_t *)b];
    return (x > y) - (x < y);
}

bool folds_make_classwise(const FoldsLabels *l, const FoldsClasswise *spec, FileSet *out, Err *err)
{
    int64_t *order = xmalloc_array(l->n, sizeof *order, err);
    int64_t *classes = xmalloc_array(l->n, sizeof *classes, err);
    int64_t *valid = NULL, *normal = NULL, *anom = NULL, *part = NULL;
    bool ok = false;
    if (!order || !classes)
        goto done;
    // Items in index order: the original takes np.where(labels == c) over
    // the split, i.e. ascending indexes.
    for (size_t i = 0; i < l->n; i++)
        order[i] = (int64_t)i;
    qsort_r(order, l->n, sizeof *order, cmp_by_index, (void *)l);
    memcpy(classes, l->label, l->n * sizeof *classes);
    qsort(classes, l->n, sizeof *classes, cmp_i64);
    size_t nc = 0;
    for (size_t i = 0; i < l->n; i++)
        if (nc == 0 || classes[nc - 1] != classes[i])
            classes[nc++] = classes[i];
    if (nc < 2) {
        err_set(err, "the labels hold %zu class; folds need at least 2", nc);
        goto done;
    }
    if (!(valid = xmalloc_array(nc, sizeof *valid, err)))
        goto done;
    if (spec->validation_csv) {
        if (!read_valid_classes(spec->validation_csv, classes, nc, valid, err))
            goto done;
    } else {
        // As the original: per class, one of the other classes, uniformly.
        Rng rng;
        rng_init_stream(&rng, spec->seed, STREAM_VALID_CLASSES);
        for (size_t i = 0; i < nc; i++) {
            size_t k = (size_t)rng_below(&rng, nc - 1);
            valid[i] = classes[k >= i ? k + 1 : k];
        }
    }
    char path[512], nbuf[32], vbuf[32];
    char *csv = NULL;
    size_t csv_len = 0;
    FILE *mem = open_memstream(&csv, &csv_len);
    if (!mem) {
        err_set(err, "out of memory building validation_classes/%s.csv", spec->dataset);
        goto done;
    }
    fprintf(mem, "class,class_name,valid_class,valid_class_name\n");
    for (size_t i = 0; i < nc; i++)
        fprintf(mem, "%" PRId64 ",%s,%" PRId64 ",%s\n", classes[i], class_name(spec->dataset, classes[i], nbuf, 32),
                valid[i], class_name(spec->dataset, valid[i], vbuf, 32));
    fclose(mem);
    snprintf(path, sizeof path, "validation_classes/%s.csv", spec->dataset);
    bool added = fileset_add(out, path, csv, csv_len, err);
    free(csv);
    if (!added)
        goto done;

    for (size_t ci = 0; ci < nc; ci++) {
        size_t nn, na;
        free(normal);
        free(anom);
        anom = NULL;
        if (!(normal = members(l, order, classes[ci], &nn, err)) || !(anom = members(l, order, valid[ci], &na, err)))
            goto done;
        if (nn < (size_t)spec->n_folds || na < (size_t)spec->n_folds) {
            err_set(err, "class %" PRId64 " has %zu items and its validation class %" PRId64
                    " %zu: %d folds need at least %d each", classes[ci], nn, valid[ci], na, spec->n_folds,
                    spec->n_folds);
            goto done;
        }
        free(part);
        if (!(part = xmalloc_array(nn, sizeof *part, err)))
            goto done;
        for (int f = 0; f < spec->n_folds; f++) {
            size_t s, e, as, ae;
            folds_kfold_block(nn, spec->n_folds, f, &s, &e);
            folds_kfold_block(na, spec->n_folds, f, &as, &ae);
            size_t np = 0;
            for (size_t i = 0; i < nn; i++)
                if (i < s || i >= e)
                    part[np++] = normal[i];
            Rng rng;
            rng_init_stream(&rng, spec->seed, STREAM_CLASS_FOLD + 64 * (uint64_t)ci + (uint64_t)f);
            rng_shuffle_i64(&rng, part, np);
            size_t nv = folds_val_count(np);
            const char *base = "folds/%s/%" PRId64 "/%d/%s.npy";
            snprintf(path, sizeof path, base, spec->dataset, classes[ci], f, "train");
            if (!add_npy(out, path, part + nv, np - nv, err))
                goto done;
            snprintf(path, sizeof path, base, spec->dataset, classes[ci], f, "val");
            if (!add_npy(out, path, part, nv, err))
                goto done;
            snprintf(path, sizeof path, base, spec->dataset, classes[ci], f, "test_normal");
            if (!add_npy(out, path, normal + s, e - s, err))
                goto done;
            snprintf(path, sizeof path, base, spec->dataset, classes[ci], f, "test_anomaly");
            if (!add_npy(out, path, anom + as, ae - as, err))
                goto done;
        }
    }
    ok = true;
done:
    free(order);
    free(classes);
    free(valid);
    free(normal);
    free(anom);
    free(part);
    return ok;
}

/* ---- string lists ---- */

typedef struct Names {
    const char **v; /* borrowed strings */
    size_t n, cap;
} Names;

static bool names_push(Names *l, const char *s, Err *err)
{
    if (l->n == l->cap) {
        size_t c = l->cap ? 2 * l->cap : 256;
        const char **v = xrealloc_array(l->v, c, sizeof *v, err);
        if (!v)
            return false;
        l->v = v;
        l->cap = c;
    }
    l->v[l->n++] = s;
    return true;
}

static void names_free(Names *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

static bool add_names(FileSet *out, const char *path, const Names *l, Err *err)
{
    return fileset_add_lines(out, path, l->v, l->n, err);
}

// A set of the items of a list; fails on a duplicate ("file:line N").
static IdSet *list_set(const TextList *l, const char *what, Err *err)
{
    IdSet *s = idset_new(err);
    for (size_t i = 0; s && i < l->n; i++) {
        int64_t prev;
        int r = idset_put(s, l->items[i], strlen(l->items[i]), (int64_t)i, &prev, err);
        if (r <= 0) {
            if (r == 0)
                err_set(err, "%s:line %lld: '%s' is listed twice", what, (long long)l->line[i], l->items[i]);
            idset_free(s);
            return NULL;
        }
    }
    return s;
}

// Fails when a list item is not a row of the table.
static bool all_in_table(const NihEntries *t, const TextList *l, const char *what, Err *err)
{
    IdSet *rows = idset_new(err);
    bool ok = rows != NULL;
    for (size_t i = 0; ok && i < t->n; i++)
        ok = idset_put(rows, t->rows[i].image, strlen(t->rows[i].image), (int64_t)i, NULL, err) >= 0;
    for (size_t i = 0; ok && i < l->n; i++)
        if (!idset_get(rows, l->items[i], strlen(l->items[i])))
            ok = err_set(err, "%s:line %lld: image '%s' is not in the Data_Entry table", what, (long long)l->line[i],
                         l->items[i]);
    idset_free(rows);
    return ok;
}

/* ---- NIH ---- */

static const char *const NIH_VIEWS[2] = {"AP", "PA"};
#define NIH_NORMAL "No Finding"

bool folds_make_nih_split(const NihEntries *t, const TextList *train_val, const TextList *test, FileSet *out,
                          Err *err)
{
    IdSet *tr = list_set(train_val, train_val->name, err);
    IdSet *te = tr ? list_set(test, test->name, err) : NULL;
    Names nt = {0}, ns = {0}, as = {0};
    bool ok = te && all_in_table(t, train_val, train_val->name, err) && all_in_table(t, test, test->name, err);
    for (int v = 0; ok && v < 2; v++) {
        nt.n = ns.n = as.n = 0;
        for (size_t i = 0; ok && i < t->n; i++) {
            const NihEntry *e = &t->rows[i];
            if (strcmp(e->view, NIH_VIEWS[v]) != 0)
                continue;
            size_t len = strlen(e->image);
            // §4.6 compares the whole label string with "No Finding".
            bool normal = strcmp(e->labels, NIH_NORMAL) == 0;
            if (idset_get(tr, e->image, len) && normal)
                ok = names_push(&nt, e->image, err);
            else if (idset_get(te, e->image, len))
                ok = names_push(normal ? &ns : &as, e->image, err);
        }
        char path[64];
        snprintf(path, sizeof path, "%s/normal/train", NIH_VIEWS[v]);
        ok = ok && add_names(out, path, &nt, err);
        snprintf(path, sizeof path, "%s/normal/test", NIH_VIEWS[v]);
        ok = ok && add_names(out, path, &ns, err);
        snprintf(path, sizeof path, "%s/anomaly/test", NIH_VIEWS[v]);
        ok = ok && add_names(out, path, &as, err);
    }
    names_free(&nt);
    names_free(&ns);
    names_free(&as);
    idset_free(tr);
    idset_free(te);
    return ok;
}

enum { ROLE_NONE, ROLE_TRAIN, ROLE_VAL, ROLE_TEST };

typedef struct PatientRole {
    int64_t patient;
    int role;
} PatientRole;

static int cmp_patient(const void *a, const void *b)
{
    int64_t x = ((const PatientRole *)a)->patient, y = ((const PatientRole *)b)->patient;
    return (x > y) - (x < y);
}

bool folds_make_nih(const NihEntries *t, const TextList *train_val, const char *valid_label, int n_folds,
                    uint64_t seed, FileSet *out, Err *err)
{
    IdSet *tr = list_set(train_val, train_val->name, err);
    int64_t *patients = NULL, *train_p = NULL;
    PatientRole *roles = NULL;
    Names lists[4] = {{0}};
    bool ok = tr && all_in_table(t, train_val, train_val->name, err);
    if (ok)
        ok = fileset_addf(out, "validation_classes/nih.csv", err, "Valid Labels\n%s\n", valid_label);
    for (int v = 0; ok && v < 2; v++) {
        // Unique patients of this view (all labels), ascending like np.unique.
        size_t np = 0;
        free(patients);
        if (!(patients = xmalloc_array(t->n ? t->n : 1, sizeof *patients, err))) {
            ok = false;
            break;
        }
        for (size_t i = 0; i < t->n; i++)
            if (strcmp(t->rows[i].view, NIH_VIEWS[v]) == 0 &&
                idset_get(tr, t->rows[i].image, strlen(t->rows[i].image)))
                patients[np++] = t->rows[i].patient;
        qsort(patients, np, sizeof *patients, cmp_i64);
        size_t u = 0;
        for (size_t i = 0; i < np; i++)
            if (u == 0 || patients[u - 1] != patients[i])
                patients[u++] = patients[i];
        np = u;
        if (np < (size_t)n_folds) {
            ok = err_set(err, "view %s has %zu patients in the train/val list; %d folds need at least %d",
                         NIH_VIEWS[v], np, n_folds, n_folds);
            break;
        }
        Rng rng;
        rng_init_stream(&rng, seed, STREAM_NIH_PATIENTS + (uint64_t)v);
        rng_shuffle_i64(&rng, patients, np);
        free(train_p);
        free(roles);
        train_p = xmalloc_array(np, sizeof *train_p, err);
        roles = xmalloc_array(np, sizeof *roles, err);
        if (!train_p || !roles) {
            ok = false;
            break;
        }
        for (int f = 0; ok && f < n_folds; f++) {
            size_t s, e, nt = 0;
            folds_kfold_block(np, n_folds, f, &s, &e);
            for (size_t i = 0; i < np; i++) {
                roles[i] = (PatientRole){patients[i], ROLE_TEST};
                if (i < s || i >= e)
                    train_p[nt++] = patients[i];
            }
            rng_init_stream(&rng, seed, STREAM_NIH_TRAIN + 64 * (uint64_t)v + (uint64_t)f);
            rng_shuffle_i64(&rng, train_p, nt);
            size_t nv = folds_val_count(nt);
            qsort(roles, np, sizeof *roles, cmp_patient);
            for (size_t i = 0; i < nt; i++) {
                PatientRole key = {train_p[i], 0};
                PatientRole *pr = bsearch(&key, roles, np, sizeof *roles, cmp_patient);
                pr->role = i < nv ? ROLE_VAL : ROLE_TRAIN;
            }
            for (int k = 0; k < 4; k++)
                lists[k].n = 0;
            for (size_t i = 0; ok && i < t->n; i++) {
                const NihEntry *r = &t->rows[i];
                if (strcmp(r->view, NIH_VIEWS[v]) != 0 || !idset_get(tr, r->image, strlen(r->image)))
                    continue;
                PatientRole key = {r->patient, 0};
                const PatientRole *pr = bsearch(&key, roles, np, sizeof *roles, cmp_patient);
                if (nih_labels_only(r->labels, NIH_NORMAL))
                    ok = names_push(&lists[pr->role - ROLE_TRAIN], r->image, err);
                else if (pr->role == ROLE_TEST && nih_labels_only(r->labels, valid_label))
                    ok = names_push(&lists[3], r->image, err);
            }
            static const char *const what[4] = {"normal/train", "normal/val", "normal/test", "anomaly/test"};
            for (int k = 0; ok && k < 4; k++) {
                char path[128];
                snprintf(path, sizeof path, "folds/nih/%s/%d/%s", NIH_VIEWS[v], f, what[k]);
                ok = add_names(out, path, &lists[k], err);
            }
        }
    }
    for (int k = 0; k < 4; k++)
        names_free(&lists[k]);
    free(patients);
    free(train_p);
    free(roles);
    idset_free(tr);
    return ok;
}

/* ---- Camelyon16 ---- */

// Length of the slide name at the start of a patch name
// "<slide>_<normal|tumor>_x_<row>_y_<col>_w_768_h_768.jpg"; 0 if none.
static size_t slide_name_len(const char *patch)
{
    const char *x = strstr(patch, "_x_");
    if (!x)
        return 0;
    const char *p = x;
    while (p > patch && p[-1] != '_')
        p--;
    // p is at "normal_x_..." or "tumor_x_..."; the slide ends before '_'.
    return p > patch + 1 ? (size_t)(p - 1 - patch) : 0;
}

static bool slide_names(const TextList *l, const char *what, size_t *len, Err *err)
{
    for (size_t i = 0; i < l->n; i++)
        if (!(len[i] = slide_name_len(l->items[i])))
            return err_set(err, "%s:line %lld: cannot find the slide name in '%s' (expected "
                           "<slide>_<normal|tumor>_x_...)", what, (long long)l->line[i], l->items[i]);
    return true;
}

static bool read_valid_slides(const char *path, TextList *slides, Err *err)
{
    CsvReader *r = csv_open(path, err);
    if (!r)
        return false;
    char **f;
    size_t nf;
    Names names = {0};
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    bool ok = mem != NULL;
    int got = ok ? csv_read_record(r, &f, &nf, err) : -1;
    int col = got == 1 ? tsv_find_column(f, nf, "Valid Slides") : -1;
    if (got == 1 && col < 0)
        ok = err_set(err, "%s:line 1: no column 'Valid Slides' in the header", csv_name(r));
    else if (got <= 0)
        ok = got == 0 ? err_set(err, "%s: empty file", csv_name(r)) : false;
    while (ok && (got = csv_read_record(r, &f, &nf, err)) == 1) {
        if ((size_t)col >= nf || !*f[col])
            ok = err_set(err, "%s:line %lld: empty slide name", csv_name(r), (long long)csv_line_number(r));
        else
            fprintf(mem, "%s\n", f[col]);
    }
    if (ok && got < 0)
        ok = false;
    if (mem)
        fclose(mem);
    csv_close(r);
    names_free(&names);
    if (!ok) {
        free(buf);
        return false;
    }
    return textlist_parse(buf, len, path, slides, err);
}

bool folds_make_camelyon16(const TextList *normal_train, const TextList *tumor_train, const char *validation_csv,
                           bool by_slide, int n_folds, uint64_t seed, FileSet *out, Err *err)
{
    size_t *nlen = xmalloc_array(normal_train->n ? normal_train->n : 1, sizeof *nlen, err);
    size_t *tlen = xmalloc_array(tumor_train->n ? tumor_train->n : 1, sizeof *tlen, err);
    TextList valid = {0};
    IdSet *slide_ix = NULL, *fold_valid = NULL;
    Names uniq = {0}, lists[4] = {{0}};
    int64_t *order = NULL, *part = NULL;
    unsigned char *mark = NULL;
    bool ok = nlen && tlen && slide_names(normal_train, normal_train->name, nlen, err) &&
              slide_names(tumor_train, tumor_train->name, tlen, err);
    if (!ok)
        goto done;
    if (normal_train->n < (size_t)n_folds) {
        ok = err_set(err, "the normal train list has %zu patches; %d folds need more", normal_train->n, n_folds);
        goto done;
    }
    // Unique slide names, ascending (np.unique), for the draws below.
    char *vbuf = NULL;
    size_t vlen = 0;
    if (validation_csv) {
        if (!(ok = read_valid_slides(validation_csv, &valid, err)))
            goto done;
    } else {
        IdSet *seen = idset_new(err);
        Names tum = {0};
        ok = seen != NULL;
        for (size_t i = 0; ok && i < tumor_train->n; i++) {
            int r = idset_put(seen, tumor_train->items[i], tlen[i], 0, NULL, err);
            ok = r >= 0 && (r == 0 || names_push(&tum, tumor_train->items[i], err));
        }
        // AMBIGUOUS: the original draws 4 slides ("first 4" of a shuffle) and
        // the shipped CSV lists 6 rows with repeats; we draw 4 as the code does.
        if (ok && tum.n < (size_t)n_folds)
            ok = err_set(err, "the tumor train list has %zu slides; %d folds need at least %d", tum.n, n_folds,
                         n_folds);
        FILE *mem = ok ? open_memstream(&vbuf, &vlen) : NULL;
        if (ok && !mem)
            ok = err_set(err, "out of memory");
        if (ok) {
            // Sort the names (the original: np.unique) before shuffling.
            int64_t *ix = xmalloc_array(tum.n, sizeof *ix, err);
            ok = ix != NULL;
            for (size_t i = 0; ok && i < tum.n; i++)
                ix[i] = (int64_t)i;
            for (size_t i = 1; ok && i < tum.n; i++) // insertion sort: a few dozen slides
                for (size_t j = i; j > 0; j--) {
                    size_t a = (size_t)ix[j - 1], b = (size_t)ix[j];
                    size_t la = slide_name_len(tum.v[a]), lb = slide_name_len(tum.v[b]);
                    int c = strncmp(tum.v[a], tum.v[b], la < lb ? la : lb);
                    if (c < 0 || (c == 0 && la <= lb))
                        break;
                    ix[j - 1] = (int64_t)b;
                    ix[j] = (int64_t)a;
                }
            if (ok) {
                Rng rng;
                rng_init_stream(&rng, seed, STREAM_C16_VALID);
                rng_shuffle_i64(&rng, ix, tum.n);
                size_t take = tum.n < 4 ? tum.n : 4;
                if ((size_t)n_folds > take)
                    take = (size_t)n_folds;
                for (size_t i = 0; i < take; i++)
                    fprintf(mem, "%.*s\n", (int)slide_name_len(tum.v[ix[i]]), tum.v[ix[i]]);
            }
            free(ix);
        }
        if (mem)
            fclose(mem);
        names_free(&tum);
        idset_free(seen);
        if (ok)
            ok = textlist_parse(vbuf, vlen, "validation slides", &valid, err);
        else
            free(vbuf);
        if (!ok)
            goto done;
    }
    if (valid.n < (size_t)n_folds) {
        ok = err_set(err, "%zu validation slides; %d folds need at least %d", valid.n, n_folds, n_folds);
        goto done;
    }
    {
        char *csv = NULL;
        size_t csv_len = 0;
        FILE *mem = open_memstream(&csv, &csv_len);
        if (!mem) {
            ok = err_set(err, "out of memory");
            goto done;
        }
        fprintf(mem, "Valid Slides\n");
        for (size_t i = 0; i < valid.n; i++)
            fprintf(mem, "%s\n", valid.items[i]);
        fclose(mem);
        ok = fileset_add(out, "validation_classes/camelyon16.csv", csv, csv_len, err);
        free(csv);
        if (!ok)
            goto done;
    }
    // Slide of each normal patch as a small integer.
    slide_ix = idset_new(err);
    order = xmalloc_array(normal_train->n, sizeof *order, err);
    part = xmalloc_array(normal_train->n, sizeof *part, err);
    if (!slide_ix || !order || !part) {
        ok = false;
        goto done;
    }
    for (size_t i = 0; i < normal_train->n; i++) {
        int64_t prev;
        int r = idset_put(slide_ix, normal_train->items[i], nlen[i], (int64_t)uniq.n, &prev, err);
        if (r < 0 || (r == 1 && !names_push(&uniq, normal_train->items[i], err))) {
            ok = false;
            goto done;
        }
        order[i] = r == 1 ? (int64_t)uniq.n - 1 : prev;
    }
    if (!(mark = xmalloc_array(uniq.n, 1, err))) {
        ok = false;
        goto done;
    }
    int64_t *slide_perm = NULL;
    if (by_slide) {
        if (uniq.n < (size_t)n_folds) {
            ok = err_set(err, "%zu normal slides; %d folds need at least %d", uniq.n, n_folds, n_folds);
            goto done;
        }
        // AMBIGUOUS: the fixed, slide-disjoint variant (spec §4.4
        // recommendation). Slides are shuffled with the seed before the
        // contiguous KFold blocks, as the original's listdir order was
        // arbitrary.
        if (!(slide_perm = xmalloc_array(uniq.n, sizeof *slide_perm, err))) {
            ok = false;
            goto done;
        }
        for (size_t i = 0; i < uniq.n; i++)
            slide_perm[i] = (int64_t)i;
        Rng rng;
        rng_init_stream(&rng, seed, STREAM_C16_SLIDES);
        rng_shuffle_i64(&rng, slide_perm, uniq.n);
    }
    for (int f = 0; ok && f < n_folds; f++) {
        enum { IN_TEST = 1, IN_TRAIN = 2 };
        memset(mark, 0, uniq.n);
        size_t s, e;
        if (by_slide) {
            folds_kfold_block(uniq.n, n_folds, f, &s, &e);
            for (size_t i = 0; i < uniq.n; i++)
                mark[slide_perm[i]] = (i >= s && i < e) ? IN_TEST : IN_TRAIN;
        } else {
            // The original: KFold over the per-patch slide array; a slide
            // whose patches fall on both sides of the block is in both sets.
            folds_kfold_block(normal_train->n, n_folds, f, &s, &e);
            for (size_t i = 0; i < normal_train->n; i++)
                mark[order[i]] |= (i >= s && i < e) ? IN_TEST : IN_TRAIN;
        }
        size_t np = 0;
        for (int k = 0; k < 4; k++)
            lists[k].n = 0;
        for (size_t i = 0; ok && i < normal_train->n; i++) {
            if (mark[order[i]] & IN_TRAIN)
                part[np++] = (int64_t)i;
            if (mark[order[i]] & IN_TEST)
                ok = names_push(&lists[2], normal_train->items[i], err);
        }
        Rng rng;
        rng_init_stream(&rng, seed, STREAM_C16_TRAIN + (uint64_t)f);
        rng_shuffle_i64(&rng, part, np);
        size_t nv = folds_val_count(np);
        for (size_t i = 0; ok && i < np; i++)
            ok = names_push(&lists[i < nv ? 1 : 0], normal_train->items[part[i]], err);
        // Anomalies: tumour patches of this fold's block of validation slides.
        idset_free(fold_valid);
        fold_valid = idset_new(err);
        folds_kfold_block(valid.n, n_folds, f, &s, &e);
        for (size_t i = s; ok && i < e; i++)
            ok = fold_valid && idset_put(fold_valid, valid.items[i], strlen(valid.items[i]), 0, NULL, err) >= 0;
        for (size_t i = 0; ok && i < tumor_train->n; i++)
            if (idset_get(fold_valid, tumor_train->items[i], tlen[i]))
                ok = names_push(&lists[3], tumor_train->items[i], err);
        static const char *const what[4] = {"normal/train", "normal/val", "normal/test", "anomaly/test"};
        for (int k = 0; ok && k < 4; k++) {
            char path[128];
            snprintf(path, sizeof path, "folds/camelyon16/healthy/%d/%s", f, what[k]);
            ok = add_names(out, path, &lists[k], err);
        }
    }
    free(slide_perm);
done:
    free(nlen);
    free(tlen);
    free(order);
    free(part);
    free(mark);
    textlist_fini(&valid);
    idset_free(slide_ix);
    idset_free(fold_valid);
    names_free(&uniq);
    for (int k = 0; k < 4; k++)
        names_free(&lists[k]);
    return ok;
}
