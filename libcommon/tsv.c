/* SPDX-License-Identifier: Apache-2.0 */
/* tsv: tab-separated tables, text lists and checked number parsers (see tsv.h). */
#include "tsv.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Clinger's fast path: a decimal with at most 15 significant digits and at
 * most 22 fractional digits is an exact integer m < 2^53 over an exact power
 * of ten, and one IEEE division rounds it correctly, the same double strtod
 * gives. Score tables are almost all of this form; it parses them several
 * times faster than strtod. Returns false when the fast path does not
 * apply (the caller then uses strtod). */
static bool parse_decimal_fast(const char *s, double *out)
{
    static const double pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char *p = s;
    bool neg = false;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    uint64_t m = 0;
    int digits = 0, frac = 0;
    bool any = false, dot = false;
    for (;; p++) {
        if (*p >= '0' && *p <= '9') {
            any = true;
            if (m == 0 && *p == '0') {
                // Leading zeros are not significant.
            } else if (++digits > 15) {
                return false;
            }
            m = m * 10 + (uint64_t)(*p - '0');
            if (dot)
                frac++;
        } else if (*p == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    if (*p || !any || frac > 22)
        return false;
    double v = (double)m / pow10[frac];
    *out = neg ? -v : v;
    return true;
}

bool tsv_parse_double(const char *s, double *out)
{
    if (!*s || isspace((unsigned char)*s))
        return false;
    if (parse_decimal_fast(s, out))
        return true;
    char *end;
    errno = 0;
    double v = strtod(s, &end); // lint-allow: the checked wrapper
    // ERANGE on underflow still gives the nearest value (a denormal or 0),
    // which is what a printed float means; overflow gives inf, caught by callers.
    if (end == s || *end)
        return false;
    *out = v;
    return true;
}

bool tsv_parse_int64(const char *s, int64_t *out)
{
    if (!*s || isspace((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10); // lint-allow: the checked wrapper
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

struct TsvReader {
    FILE *fp;
    bool own;
    char *name;
    char *line;       /* getline buffer */
    size_t line_cap;
    char **fields;    /* pointers into line */
    size_t fields_cap;
    int64_t line_no;
};

TsvReader *tsv_open(const char *path, Err *err)
{
    TsvReader *r = xcalloc_array(1, sizeof *r, err);
    if (!r)
        return NULL;
    bool is_stdin = strcmp(path, "-") == 0;
    r->name = xstrdup(is_stdin ? "stdin" : path, err);
    if (!r->name) {
        free(r);
        return NULL;
    }
    r->fp = is_stdin ? stdin : fopen(path, "rb");
    if (!r->fp) {
        err_set(err, "%s: cannot open: %s", path, strerror(errno));
        free(r->name);
        free(r);
        return NULL;
    }
    r->own = !is_stdin;
    return r;
}

TsvReader *tsv_open_stream(FILE *fp, const char *name, Err *err)
{
    TsvReader *r = xcalloc_array(1, sizeof *r, err);
    if (!r)
        return NULL;
    if (!(r->name = xstrdup(name, err))) {
        free(r);
        return NULL;
    }
    r->fp = fp;
    r->own = false;
    return r;
}

int tsv_read_line(TsvReader *r, char ***fields, size_t *nfields, Err *err)
{
    errno = 0;
    ssize_t len = getline(&r->line, &r->line_cap, r->fp);
    if (len < 0) {
        if (ferror(r->fp))
            return err_set(err, "%s:line %lld: read error: %s", r->name, (long long)r->line_no + 1,
                           strerror(errno ? errno : EIO)),
                   -1;
        return 0;
    }
    r->line_no++;
    if (len > 0 && r->line[len - 1] == '\n')
        r->line[--len] = 0;
    if (len > 0 && r->line[len - 1] == '\r')
        r->line[--len] = 0;
    if ((size_t)len != strlen(r->line))
        return err_set(err, "%s:line %lld: NUL byte in a text line", r->name, (long long)r->line_no), -1;
    size_t n = 0;
    char *p = r->line;
    for (;;) {
        if (n == r->fields_cap) {
            size_t cap = r->fields_cap ? 2 * r->fields_cap : 8;
            char **f = xrealloc_array(r->fields, cap, sizeof *f, err);
            if (!f)
                return -1;
            r->fields = f;
            r->fields_cap = cap;
        }
        r->fields[n++] = p;
        char *tab = strchr(p, '\t');
        if (!tab)
            break;
        *tab = 0;
        p = tab + 1;
    }
    *fields = r->fields;
    *nfields = n;
    return 1;
}

int64_t tsv_line_number(const TsvReader *r)
{
    return r->line_no;
}

const char *tsv_name(const TsvReader *r)
{
    return r->name;
}

void tsv_close(TsvReader *r)
{
    if (!r)
        return;
    if (r->own)
        fclose(r->fp);
    free(r->line);
    free(r->fields);
    free(r->name);
    free(r);
}

int tsv_find_column(char *const *fields, size_t nfields, const char *name)
{
    for (size_t i = 0; i < nfields; i++)
        if (strcmp(fields[i], name) == 0)
            return (int)i;
    return -1;
}

// Reads a whole stream into a NUL-terminated buffer.
static char *slurp(FILE *fp, const char *name, size_t *bytes, Err *err)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = xmalloc_array(cap, 1, err);
    if (!buf)
        return NULL;
    for (;;) {
        if (cap - n < 2) {
            char *b = xrealloc_array(buf, cap, 2, err);
            if (!b) {
                free(buf);
                return NULL;
            }
            buf = b;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, fp);
        n += got;
        if (got == 0) {
            if (ferror(fp)) {
                err_set(err, "%s: read error", name);
                free(buf);
                return NULL;
            }
            break;
        }
    }
    buf[n] = 0;
    *bytes = n;
    return buf;
}

char *tsv_read_file(const char *path, size_t *bytes, Err *err)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *fp = is_stdin ? stdin : fopen(path, "rb");
    if (!fp)
        return err_set(err, "%s: cannot open: %s", path, strerror(errno)), NULL;
    char *buf = slurp(fp, is_stdin ? "stdin" : path, bytes, err);
    if (!is_stdin)
        fclose(fp);
    return buf;
}

bool textlist_read(const char *path, TextList *list, Err *err)
{
    memset(list, 0, sizeof *list);
    size_t bytes = 0;
    char *buf = tsv_read_file(path, &bytes, err);
    if (!buf)
        return false;
    return textlist_parse(buf, bytes, path, list, err);
}

bool textlist_parse(char *buf, size_t bytes, const char *path, TextList *list, Err *err)
{
    memset(list, 0, sizeof *list);
    if (memchr(buf, 0, bytes)) {
        free(buf);
        return err_set(err, "%s: NUL byte in a text list (is it a binary file?)", path);
    }
    size_t lines = 1;
    for (size_t i = 0; i < bytes; i++)
        lines += buf[i] == '\n';
    TextList l = {.buf = buf};
    l.name = xstrdup(strcmp(path, "-") == 0 ? "stdin" : path, err);
    if (!l.name) {
        free(buf);
        return false;
    }
    l.items = xmalloc_array(lines, sizeof *l.items, err);
    l.line = xmalloc_array(lines, sizeof *l.line, err);
    if (!l.items || !l.line) {
        textlist_fini(&l);
        return false;
    }
    char *p = buf;
    for (int64_t no = 1; *p || p < buf + bytes; no++) {
        char *nl = strchr(p, '\n');
        char *end = nl ? nl : p + strlen(p);
        char *s = p;
        while (s < end && isspace((unsigned char)*s))
            s++;
        while (end > s && isspace((unsigned char)end[-1]))
            end--;
        *end = 0;
        if (*s) {
            l.items[l.n] = s;
            l.line[l.n++] = no;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    *list = l;
    return true;
}

void textlist_fini(TextList *list)
{
    free(list->items);
    free(list->line);
    free(list->buf);
    free(list->name);
    memset(list, 0, sizeof *list);
}
