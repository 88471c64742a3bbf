/* SPDX-License-Identifier: Apache-2.0 */
/* folds_check: validation of an existing folds folder (see folds.h: folds_check). */
#include "folds.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "idset.h"
#include "npy.h"

/* One list of a fold as strings (decimal indexes for .npy). */
typedef struct Items {
    char **v;
    size_t n;
    bool present;
} Items;

static void items_fini(Items *it)
{
    for (size_t i = 0; i < it->n; i++)
        free(it->v[i]);
    free(it->v);
    memset(it, 0, sizeof *it);
}

static bool exists(const char *dir, const char *rel)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static bool load_items(const char *dir, const char *rel, bool npy, Items *it, Err *err)
{
    memset(it, 0, sizeof *it);
    if (!exists(dir, rel))
        return true;
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    it->present = true;
    if (npy) {
        int64_t *v;
        size_t n;
        if (!npy_read_i64(p, &v, &n, err))
            return false;
        it->v = xcalloc_array(n ? n : 1, sizeof *it->v, err);
        for (size_t i = 0; it->v && i < n; i++) {
            char b[32];
            snprintf(b, sizeof b, "%" PRId64, v[i]);
            if (!(it->v[i] = xstrdup(b, err)))
                break;
            it->n = i + 1;
        }
        free(v);
        return it->v && it->n == n;
    }
    TextList l;
    if (!textlist_read(p, &l, err))
        return false;
    it->v = xcalloc_array(l.n ? l.n : 1, sizeof *it->v, err);
    for (size_t i = 0; it->v && i < l.n; i++) {
        if (!(it->v[i] = xstrdup(l.items[i], err)))
            break;
        it->n = i + 1;
    }
    bool ok = it->v && it->n == l.n;
    textlist_fini(&l);
    return ok;
}

// Adds the items to set (tag = which list); fails on a duplicate within the
// list, counts items already tagged `against` into *hits.
static bool tag_items(IdSet *set, const Items *it, int64_t tag, const char *where, const char *what,
                      int64_t *clash_tag, size_t *hits, Err *err)
{
    for (size_t i = 0; i < it->n; i++) {
        int64_t prev;
        int r = idset_put(set, it->v[i], strlen(it->v[i]), tag, &prev, err);
        if (r < 0)
            return false;
        if (r == 0) {
            if (prev == tag)
                return err_set(err, "%s/%s: '%s' is listed twice", where, what, it->v[i]);
            if (clash_tag)
                *clash_tag = prev;
            if (hits)
                (*hits)++;
        }
    }
    return true;
}

static bool check_set(const char *abs, const char *rel, bool npy, bool split, FoldsCheckRow *row, Err *err)
{
    static const char *const npy_names[4] = {"train.npy", "val.npy", "test_normal.npy", "test_anomaly.npy"};
    static const char *const list_names[4] = {"normal/train", "normal/val", "normal/test", "anomaly/test"};
    Items it[5] = {{0}};
    IdSet *set = NULL;
    bool ok = false;
    memset(row, 0, sizeof *row);
    snprintf(row->set, sizeof row->set, "%s", *rel ? rel : ".");
    row->is_split = split;
    for (int k = 0; k < 4; k++)
        if (!load_items(abs, npy ? npy_names[k] : list_names[k], npy, &it[k], err))
            goto done;
    if (split && !load_items(abs, "anomaly/train", false, &it[4], err))
        goto done;
    if (!split && (!it[0].present || !it[1].present)) {
        err_set(err, "%s: a fold needs both train and val lists", row->set);
        goto done;
    }
    row->train = it[0].present ? (int64_t)it[0].n : -1;
    row->val = it[1].present ? (int64_t)it[1].n : -1;
    row->test_normal = it[2].present ? (int64_t)it[2].n : -1;
    row->test_anomaly = it[3].present ? (int64_t)it[3].n : -1;
    row->anomaly_train = it[4].present ? (int64_t)it[4].n : -1;
    if (!(set = idset_new(err)))
        goto done;
    size_t clash = 0;
    const char *wt = npy ? "train.npy" : "normal/train", *wv = npy ? "val.npy" : "normal/val";
    if (!tag_items(set, &it[0], 0, row->set, wt, NULL, NULL, err) ||
        !tag_items(set, &it[1], 1, row->set, wv, NULL, &clash, err))
        goto done;
    if (clash) {
        err_set(err, "%s: %zu items are in both %s and %s", row->set, clash, wt, wv);
        goto done;
    }
    size_t overlap = 0;
    if (!tag_items(set, &it[2], 2, row->set, npy ? "test_normal.npy" : "normal/test", NULL, &overlap, err))
        goto done;
    row->overlap = (int64_t)overlap;
    // Anomalies must be other items than the normals of any part.
    IdSet *anom = idset_new(err);
    size_t mixed = 0;
    if (!anom)
        goto done;
    for (size_t i = 0; i < it[3].n; i++)
        mixed += idset_get(set, it[3].v[i], strlen(it[3].v[i])) != NULL;
    bool dup_ok = tag_items(anom, &it[3], 3, row->set, npy ? "test_anomaly.npy" : "anomaly/test", NULL, NULL, err);
    idset_free(anom);
    if (!dup_ok)
        goto done;
    if (mixed) {
        err_set(err, "%s: %zu anomalies are also listed as normal", row->set, mixed);
        goto done;
    }
    ok = true;
done:
    idset_free(set);
    for (int k = 0; k < 5; k++)
        items_fini(&it[k]);
    return ok;
}

typedef struct Walk {
    FoldsCheckRow *rows;
    size_t n, cap;
    bool allow_overlap;
    bool overlap_error;
} Walk;

static int name_sort(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static bool walk(Walk *w, const char *abs, const char *rel, int depth, Err *err)
{
    if (depth > 16)
        return err_set(err, "%s: folders nested too deeply", abs);
    bool npy = exists(abs, "train.npy");
    bool fold = npy || exists(abs, "normal/val");
    bool split = !fold && (exists(abs, "normal/train") || exists(abs, "normal/test") || exists(abs, "anomaly/test"));
    if (fold || split) {
        if (w->n == w->cap) {
            size_t c = w->cap ? 2 * w->cap : 64;
            FoldsCheckRow *r = xrealloc_array(w->rows, c, sizeof *r, err);
            if (!r)
                return false;
            w->rows = r;
            w->cap = c;
        }
        FoldsCheckRow *row = &w->rows[w->n];
        if (!check_set(abs, rel, npy, split, row, err))
            return false;
        w->n++;
        if (row->overlap && !w->allow_overlap && !w->overlap_error) {
            w->overlap_error = true;
            err_set(err, "%s: %" PRId64 " normal test items are also in train or val (the original Camelyon16 "
                    "folds leak by design; --allow-overlap accepts that)", row->set, row->overlap);
        }
        return true;
    }
    struct dirent **ents;
    int n = scandir(abs, &ents, NULL, name_sort);
    if (n < 0)
        return err_set(err, "%s: cannot read folder: %m", abs);
    bool ok = true;
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        // Hidden entries include the notebook copies (.ipynb_checkpoints) of §4.1.
        if (ok && name[0] != '.') {
            char a[4096], r[4096];
            snprintf(a, sizeof a, "%s/%s", abs, name);
            snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", name);
            struct stat st;
            if (stat(a, &st) == 0 && S_ISDIR(st.st_mode))
                ok = walk(w, a, r, depth + 1, err);
        }
        free(ents[i]);
    }
    free(ents);
    return ok;
}

bool folds_check(const char *dir, bool allow_overlap, FoldsCheckRow **rows, size_t *n_rows, Err *err)
{
    Walk w = {.allow_overlap = allow_overlap};
    struct stat st;
    *rows = NULL;
    *n_rows = 0;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return err_set(err, "%s: not a folder", dir);
    Err overlap = {0};
    bool ok = walk(&w, dir, "", 0, &overlap);
    if (ok && w.n == 0)
        ok = err_set(&overlap, "%s: no folds or split lists found", dir);
    *rows = w.rows;
    *n_rows = w.n;
    if (err_is_set(&overlap)) {
        err_set(err, "%s", overlap.msg);
        return false;
    }
    return ok;
}
