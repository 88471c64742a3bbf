/* SPDX-License-Identifier: Apache-2.0 */
/* csv: RFC 4180 reader (see csv.h). */
#include "csv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct CsvReader {
    FILE *fp;
    bool own;
    char *name;
    int64_t line;       /* lines consumed so far */
    int64_t rec_line;   /* first line of the last record */
    char *buf;          /* field bytes, each NUL-terminated */
    size_t len, cap;
    size_t *starts;     /* offsets of the fields in buf */
    char **fields;
    size_t nf, fcap;
    bool first;
};

CsvReader *csv_open(const char *path, Err *err)
{
    CsvReader *r = xcalloc_array(1, sizeof *r, err);
    if (!r)
        return NULL;
    bool is_stdin = strcmp(path, "-") == 0;
    r->name = xstrdup(is_stdin ? "stdin" : path, err);
    r->fp = is_stdin ? stdin : fopen(path, "rb");
    if (!r->name || !r->fp) {
        if (!r->fp)
            err_set(err, "%s: cannot open: %s", path, strerror(errno));
        free(r->name);
        free(r);
        return NULL;
    }
    r->own = !is_stdin;
    r->first = true;
    return r;
}

static bool put(CsvReader *r, char c, Err *err)
{
    if (r->len == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        char *b = xrealloc_array(r->buf, cap, 1, err);
        if (!b)
            return false;
        r->buf = b;
        r->cap = cap;
    }
    r->buf[r->len++] = c;
    return true;
}

static bool start_field(CsvReader *r, Err *err)
{
    if (r->nf == r->fcap) {
        size_t cap = r->fcap ? 2 * r->fcap : 16;
        size_t *s = xrealloc_array(r->starts, cap, sizeof *s, err);
        if (!s)
            return false;
        r->starts = s;
        char **f = xrealloc_array(r->fields, cap, sizeof *f, err);
        if (!f)
            return false;
        r->fields = f;
        r->fcap = cap;
    }
    r->starts[r->nf++] = r->len;
    return true;
}

int csv_read_record(CsvReader *r, char ***fields, size_t *nfields, Err *err)
{
    int c;
    if (r->first) {
        r->first = false;
        // Skip a UTF-8 byte-order mark (spreadsheets write one).
        int b0 = getc(r->fp);
        if (b0 == 0xEF) {
            int b1 = getc(r->fp), b2 = getc(r->fp);
            if (b1 != 0xBB || b2 != 0xBF)
                return err_set(err, "%s:line 1: invalid UTF-8 at the start of the file", r->name), -1;
        } else if (b0 != EOF) {
            ungetc(b0, r->fp);
        }
    }
    // Skip blank lines between records.
    while ((c = getc(r->fp)) == '\n' || c == '\r')
        if (c == '\n')
            r->line++;
    if (c == EOF)
        return ferror(r->fp) ? (err_set(err, "%s: read error", r->name), -1) : 0;
    ungetc(c, r->fp);
    r->rec_line = r->line + 1;
    r->len = 0;
    r->nf = 0;
    if (!start_field(r, err))
        return -1;
    bool quoted = false, after_quote = false, at_start = true;
    for (;;) {
        c = getc(r->fp);
        if (c == EOF) {
            if (quoted)
                return err_set(err, "%s:line %lld: unterminated quoted field (started on line %lld)", r->name,
                               (long long)r->line + 1, (long long)r->rec_line), -1;
            break;
        }
        if (quoted) {
            if (c == '"') {
                int d = getc(r->fp);
                if (d == '"') {
                    if (!put(r, '"', err))
                        return -1;
                    continue;
                }
                if (d != EOF)
                    ungetc(d, r->fp);
                quoted = false;
                after_quote = true;
                continue;
            }
            if (c == '\n')
                r->line++;
            if (!put(r, (char)c, err))
                return -1;
            continue;
        }
        if (c == ',') {
            if (!put(r, 0, err) || !start_field(r, err))
                return -1;
            after_quote = false;
            at_start = true;
            continue;
        }
        if (c == '\n' || c == '\r') {
            if (c == '\r') {
                int d = getc(r->fp);
                if (d != '\n' && d != EOF)
                    ungetc(d, r->fp);
            }
            r->line++;
            break;
        }
        if (after_quote)
            return err_set(err, "%s:line %lld: text after the closing quote of field %zu", r->name,
                           (long long)r->line + 1, r->nf), -1;
        if (c == '"' && at_start) {
            quoted = true;
            at_start = false;
            continue;
        }
        if (c == 0)
            return err_set(err, "%s:line %lld: NUL byte", r->name, (long long)r->line + 1), -1;
        at_start = false;
        if (!put(r, (char)c, err))
            return -1;
    }
    if (!put(r, 0, err))
        return -1;
    for (size_t i = 0; i < r->nf; i++)
        r->fields[i] = r->buf + r->starts[i];
    *fields = r->fields;
    *nfields = r->nf;
    return 1;
}

int64_t csv_line_number(const CsvReader *r)
{
    return r->rec_line;
}

const char *csv_name(const CsvReader *r)
{
    return r->name;
}

void csv_close(CsvReader *r)
{
    if (!r)
        return;
    if (r->own)
        fclose(r->fp);
    free(r->name);
    free(r->buf);
    free(r->starts);
    free(r->fields);
    free(r);
}
