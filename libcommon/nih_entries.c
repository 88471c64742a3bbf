/* SPDX-License-Identifier: Apache-2.0 */
/* nih_entries: Data_Entry_2017.csv loader (see nih_entries.h). */
#include "nih_entries.h"

#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "idset.h"
#include "tsv.h"

enum { COL_IMAGE, COL_LABELS, COL_PATIENT, COL_VIEW, COL_COUNT };
static const char *const COL_NAMES[] = {"Image Index", "Finding Labels", "Patient ID", "View Position"};
_Static_assert(sizeof COL_NAMES / sizeof COL_NAMES[0] == COL_COUNT, "one name per column");

/* Rows are collected with string offsets (the storage moves while it grows)
 * and turned into pointers at the end. */
typedef struct Raw {
    size_t image, labels, view;
    int64_t patient;
} Raw;

static bool append(char **buf, size_t *len, size_t *cap, const char *s, size_t *at, Err *err)
{
    size_t n = strlen(s) + 1;
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 1 << 16;
        while (c < *len + n)
            c *= 2;
        char *b = xrealloc_array(*buf, c, 1, err);
        if (!b)
            return false;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *at = *len;
    *len += n;
    return true;
}

bool nih_entries_read(const char *path, NihEntries *t, Err *err)
{
    memset(t, 0, sizeof *t);
    CsvReader *r = csv_open(path, err);
    if (!r)
        return false;
    const char *name = csv_name(r);
    char **f;
    size_t nf;
    Raw *raw = NULL;
    size_t nraw = 0, rawcap = 0;
    char *strings = NULL;
    size_t slen = 0, scap = 0;
    IdSet *seen = idset_new(err);
    bool ok = false;
    int got = seen ? csv_read_record(r, &f, &nf, err) : -1;
    if (got <= 0) {
        if (got == 0)
            err_set(err, "%s: empty file: expected the Data_Entry_2017.csv header", name);
        goto done;
    }
    int col[COL_COUNT];
    size_t need = 0;
    for (int c = 0; c < COL_COUNT; c++) {
        col[c] = tsv_find_column(f, nf, COL_NAMES[c]);
        if (col[c] < 0) {
            err_set(err, "%s:line 1: no column '%s' in the header", name, COL_NAMES[c]);
            goto done;
        }
        if ((size_t)col[c] + 1 > need)
            need = (size_t)col[c] + 1;
    }
    while ((got = csv_read_record(r, &f, &nf, err)) == 1) {
        long long line = (long long)csv_line_number(r);
        if (nf < need) {
            err_set(err, "%s:line %lld: %zu fields, expected at least %zu", name, line, nf, need);
            goto done;
        }
        if (nraw == rawcap) {
            size_t c = rawcap ? 2 * rawcap : 1024;
            Raw *n2 = xrealloc_array(raw, c, sizeof *raw, err);
            if (!n2)
                goto done;
            raw = n2;
            rawcap = c;
        }
        Raw *row = &raw[nraw];
        const char *image = f[col[COL_IMAGE]];
        if (!*image) {
            err_set(err, "%s:line %lld: empty Image Index", name, line);
            goto done;
        }
        int64_t prev;
        int put = idset_put(seen, image, strlen(image), line, &prev, err);
        if (put < 0)
            goto done;
        if (put == 0) {
            err_set(err, "%s:line %lld: image '%s' already listed on line %lld", name, line, image, (long long)prev);
            goto done;
        }
        if (!tsv_parse_int64(f[col[COL_PATIENT]], &row->patient)) {
            err_set(err, "%s:line %lld: Patient ID '%s' is not an integer", name, line, f[col[COL_PATIENT]]);
            goto done;
        }
        if (!append(&strings, &slen, &scap, image, &row->image, err) ||
            !append(&strings, &slen, &scap, f[col[COL_LABELS]], &row->labels, err) ||
            !append(&strings, &slen, &scap, f[col[COL_VIEW]], &row->view, err))
            goto done;
        nraw++;
    }
    if (got < 0)
        goto done;
    t->rows = xcalloc_array(nraw ? nraw : 1, sizeof *t->rows, err);
    if (!t->rows)
        goto done;
    for (size_t i = 0; i < nraw; i++)
        t->rows[i] = (NihEntry){strings + raw[i].image, strings + raw[i].labels, raw[i].patient,
                                strings + raw[i].view};
    t->n = nraw;
    t->strings = strings;
    strings = NULL;
    ok = true;
done:
    free(raw);
    free(strings);
    idset_free(seen);
    csv_close(r);
    return ok;
}

void nih_entries_fini(NihEntries *t)
{
    free(t->rows);
    free(t->strings);
    memset(t, 0, sizeof *t);
}

bool nih_labels_only(const char *labels, const char *finding)
{
    size_t fl = strlen(finding);
    const char *p = labels;
    if (!*p)
        return false;
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n != fl || memcmp(p, finding, n) != 0)
            return false;
        if (!bar)
            return true;
        p = bar + 1;
    }
}
