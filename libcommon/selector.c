/* SPDX-License-Identifier: Apache-2.0 */
/* selector: record selection by label, id list and index list (see selector.h). */
#include "selector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idset.h"
#include "npy.h"
#include "tsv.h"

typedef struct IndexEntry {
    int64_t value;    /* the index */
    int64_t list_pos; /* position in the list file */
} IndexEntry;

typedef struct IntList {
    int64_t *v;
    size_t n;
} IntList;

struct Selector {
    IntList labels;       /* empty = any label */
    IntList normal;       /* empty = no relabelling */
    bool invert;
    IdSet *ids;           /* id (extension stripped) -> list position */
    char *ids_path;
    char **id_names;      /* [n_ids] as written in the list, for messages */
    int64_t *id_lines;    /* [n_ids] line numbers */
    size_t n_ids;
    IndexEntry *idx;      /* [n_idx] sorted by value */
    char *idx_path;
    int64_t *idx_lines;   /* [n_idx] line (text) or element (npy) of each list position */
    bool idx_is_npy;
    size_t n_idx;
    unsigned char *seen_ids; /* [n_ids] by list position */
    unsigned char *seen_idx; /* [n_idx] by list position */
};

Selector *selector_new(Err *err)
{
    return xcalloc_array(1, sizeof(Selector), err);
}

void selector_free(Selector *s)
{
    if (!s)
        return;
    free(s->labels.v);
    free(s->normal.v);
    idset_free(s->ids);
    free(s->ids_path);
    if (s->id_names)
        for (size_t i = 0; i < s->n_ids; i++)
            free(s->id_names[i]);
    free(s->id_names);
    free(s->id_lines);
    free(s->idx);
    free(s->idx_path);
    free(s->idx_lines);
    free(s->seen_ids);
    free(s->seen_idx);
    free(s);
}

static bool parse_int_list(const char *csv, const char *what, IntList *out, Err *err)
{
    size_t n = 1;
    for (const char *p = csv; *p; p++)
        n += *p == ',';
    int64_t *v = xmalloc_array(n, sizeof *v, err);
    char *copy = xstrdup(csv, err);
    if (!v || !copy) {
        free(v);
        free(copy);
        return false;
    }
    size_t k = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (!tsv_parse_int64(tok, &v[k])) {
            err_set(err, "%s: '%s' is not an integer label", what, tok);
            free(v);
            free(copy);
            return false;
        }
        k++;
    }
    free(copy);
    if (k == 0) {
        free(v);
        return err_set(err, "%s: empty label list", what);
    }
    free(out->v);
    out->v = v;
    out->n = k;
    return true;
}

bool selector_set_labels(Selector *s, const char *csv, Err *err)
{
    return parse_int_list(csv, "--label", &s->labels, err);
}

bool selector_set_normal(Selector *s, const char *csv, Err *err)
{
    return parse_int_list(csv, "--normal", &s->normal, err);
}

void selector_set_invert(Selector *s, bool invert)
{
    s->invert = invert;
}

bool selector_load_ids(Selector *s, const char *path, Err *err)
{
    TextList list;
    if (!textlist_read(path, &list, err))
        return false;
    bool ok = false;
    s->ids = idset_new(err);
    s->ids_path = xstrdup(path, err);
    s->id_names = xcalloc_array(list.n ? list.n : 1, sizeof *s->id_names, err);
    s->id_lines = xmalloc_array(list.n ? list.n : 1, sizeof *s->id_lines, err);
    s->seen_ids = xcalloc_array(list.n ? list.n : 1, 1, err);
    if (!s->ids || !s->ids_path || !s->id_names || !s->id_lines || !s->seen_ids)
        goto done;
    for (size_t i = 0; i < list.n; i++) {
        const char *name = list.items[i];
        int64_t prev;
        int r = idset_put(s->ids, name, idset_strip_image_ext(name), (int64_t)i, &prev, err);
        if (r < 0)
            goto done;
        if (r == 0) {
            err_set(err, "%s:line %lld: duplicate id '%s' (first at line %lld)", path, (long long)list.line[i],
                    name, (long long)list.line[prev]);
            goto done;
        }
        if (!(s->id_names[i] = xstrdup(name, err)))
            goto done;
        s->id_lines[i] = list.line[i];
        s->n_ids = i + 1;
    }
    ok = true;
done:
    textlist_fini(&list);
    return ok;
}

static int cmp_entry(const void *a, const void *b)
{
    const IndexEntry *x = a, *y = b;
    if (x->value != y->value)
        return (x->value > y->value) - (x->value < y->value);
    return (x->list_pos > y->list_pos) - (x->list_pos < y->list_pos);
}

bool selector_load_indexes(Selector *s, const char *path, Err *err)
{
    int64_t *values = NULL;
    size_t n = 0;
    TextList list = {0};
    bool ok = false;
    // Read once: the list may be a pipe, so it cannot be opened twice.
    size_t bytes;
    char *buf = tsv_read_file(path, &bytes, err);
    if (!buf)
        return false;
    s->idx_is_npy = npy_has_magic((const unsigned char *)buf, bytes);
    if (s->idx_is_npy) {
        bool parsed = npy_parse_i64((const unsigned char *)buf, bytes, path, &values, &n, err);
        free(buf);
        if (!parsed)
            return false;
    } else {
        if (!textlist_parse(buf, bytes, path, &list, err))
            return false;
        n = list.n;
        if (!(values = xmalloc_array(n ? n : 1, sizeof *values, err)))
            goto done;
        for (size_t i = 0; i < n; i++)
            if (!tsv_parse_int64(list.items[i], &values[i])) {
                err_set(err, "%s:line %lld: '%s' is not an integer index", path, (long long)list.line[i],
                        list.items[i]);
                goto done;
            }
    }
    s->idx_path = xstrdup(path, err);
    s->idx = xmalloc_array(n ? n : 1, sizeof *s->idx, err);
    s->idx_lines = xmalloc_array(n ? n : 1, sizeof *s->idx_lines, err);
    s->seen_idx = xcalloc_array(n ? n : 1, 1, err);
    if (!s->idx_path || !s->idx || !s->idx_lines || !s->seen_idx)
        goto done;
    for (size_t i = 0; i < n; i++) {
        s->idx_lines[i] = s->idx_is_npy ? (int64_t)i : list.line[i];
        if (values[i] < 0) {
            err_set(err, "%s:%s %lld: negative index %lld", path, s->idx_is_npy ? "element" : "line",
                    (long long)s->idx_lines[i], (long long)values[i]);
            goto done;
        }
        s->idx[i] = (IndexEntry){values[i], (int64_t)i};
    }
    qsort(s->idx, n, sizeof *s->idx, cmp_entry);
    for (size_t i = 1; i < n; i++)
        if (s->idx[i].value == s->idx[i - 1].value) {
            err_set(err, "%s:%s %lld: duplicate index %lld", path, s->idx_is_npy ? "element" : "line",
                    (long long)s->idx_lines[s->idx[i].list_pos], (long long)s->idx[i].value);
            goto done;
        }
    s->n_idx = n;
    ok = true;
done:
    free(values);
    textlist_fini(&list);
    return ok;
}

size_t selector_list_size(const Selector *s)
{
    return s->idx ? s->n_idx : s->n_ids;
}

static bool in_list(const IntList *l, int64_t v)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i] == v)
            return true;
    return false;
}

static const IndexEntry *find_index(const Selector *s, int64_t value)
{
    size_t lo = 0, hi = s->n_idx;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->idx[mid].value < value)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n_idx && s->idx[lo].value == value ? &s->idx[lo] : NULL;
}

int selector_match(Selector *s, const TRecord *rec, int64_t position, int64_t *list_pos, Err *err)
{
    bool keep = true;
    *list_pos = -1;
    if (s->labels.n) {
        int64_t label;
        if (!trecord_meta_get_int(rec, "label", &label, err))
            return err_context(err, "record %lld", (long long)position), -1;
        keep = keep && in_list(&s->labels, label);
    }
    if (s->ids) {
        const char *id = trecord_meta_get(rec, "id");
        if (!id)
            return err_set(err, "record %lld has no id (needed by --ids)", (long long)position), -1;
        int64_t *at = idset_get(s->ids, id, idset_strip_image_ext(id));
        if (at) {
            s->seen_ids[*at] = 1;
            *list_pos = *at;
        }
        keep = keep && at;
    }
    if (s->idx) {
        int64_t index = position;
        if (trecord_meta_get(rec, "index") && !trecord_meta_get_int(rec, "index", &index, err))
            return err_context(err, "record %lld", (long long)position), -1;
        const IndexEntry *e = find_index(s, index);
        if (e) {
            s->seen_idx[e->list_pos] = 1;
            *list_pos = e->list_pos;
        } else {
            *list_pos = -1;
        }
        keep = keep && e;
    }
    return keep != s->invert;
}

bool selector_relabel(const Selector *s, TRecord *rec, Err *err)
{
    if (!s->normal.n)
        return true;
    int64_t label;
    if (!trecord_meta_get_int(rec, "label", &label, err))
        return false;
    if (!trecord_meta_setf(rec, err, "class", "%lld", (long long)label))
        return false;
    return trecord_meta_set(rec, "label", in_list(&s->normal, label) ? "0" : "1", err);
}

bool selector_check_missing(const Selector *s, Err *err)
{
    size_t missing = 0, first = 0;
    for (size_t i = 0; i < s->n_ids; i++)
        if (!s->seen_ids[i] && missing++ == 0)
            first = i;
    if (missing)
        return err_set(err, "%zu of the %zu ids in %s never appear in the input (first: '%s', line %lld)", missing,
                       s->n_ids, s->ids_path, s->id_names[first], (long long)s->id_lines[first]);
    int64_t first_value = 0;
    for (size_t i = 0; i < s->n_idx; i++)
        if (!s->seen_idx[s->idx[i].list_pos] && (missing++ == 0 || (size_t)s->idx[i].list_pos < first)) {
            first = (size_t)s->idx[i].list_pos;
            first_value = s->idx[i].value;
        }
    if (missing)
        return err_set(err, "%zu of the %zu indexes in %s are out of range (not in the input; first: %lld at %s %lld)", missing,
                       s->n_idx, s->idx_path, (long long)first_value, s->idx_is_npy ? "element" : "line",
                       (long long)s->idx_lines[first]);
    return true;
}
