/* SPDX-License-Identifier: Apache-2.0 */
/* npy: NumPy .npy integer index arrays, read and written (see npy.h). */
#include "npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"

static const unsigned char MAGIC[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

bool npy_has_magic(const unsigned char *buf, size_t bytes)
{
    return bytes >= 6 && memcmp(buf, MAGIC, 6) == 0;
}

/* A cursor over the header's Python dict literal. */
typedef struct Cur {
    const char *p, *end;
} Cur;

static void skip_ws(Cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static bool eat(Cur *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

// A quoted string ('...' or "..."; no escapes occur in .npy headers).
static bool read_str(Cur *c, char *out, size_t cap)
{
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return false;
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (n + 1 >= cap)
            return false;
        out[n++] = *c->p++;
    }
    if (c->p >= c->end)
        return false;
    c->p++;
    out[n] = 0;
    return true;
}

static bool read_uint(Cur *c, uint64_t *out)
{
    skip_ws(c);
    uint64_t v = 0;
    const char *start = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*c->p++ - '0');
    }
    // numpy writes Python ints; a "L" suffix came from Python 2.
    if (c->p < c->end && *c->p == 'L')
        c->p++;
    *out = v;
    return c->p > start;
}

static bool read_word(Cur *c, const char *w)
{
    skip_ws(c);
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) >= n && memcmp(c->p, w, n) == 0) {
        c->p += n;
        return true;
    }
    return false;
}

typedef struct Header {
    char descr[16];
    bool have_descr, have_order, have_shape;
    bool fortran;
    int ndim;
    uint64_t dims[8];
} Header;

static bool parse_header(const char *text, size_t len, const char *name, Header *h, Err *err)
{
    Cur c = {text, text + len};
    memset(h, 0, sizeof *h);
    if (!eat(&c, '{'))
        return err_set(err, "%s: header is not a dictionary", name);
    for (;;) {
        if (eat(&c, '}'))
            break;
        char key[32];
        if (!read_str(&c, key, sizeof key) || !eat(&c, ':'))
            return err_set(err, "%s: malformed header dictionary", name);
        if (strcmp(key, "descr") == 0) {
            if (!read_str(&c, h->descr, sizeof h->descr))
                return err_set(err, "%s: header 'descr' is not a simple dtype string", name);
            h->have_descr = true;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (read_word(&c, "True"))
                h->fortran = true;
            else if (!read_word(&c, "False"))
                return err_set(err, "%s: header 'fortran_order' is not True or False", name);
            h->have_order = true;
        } else if (strcmp(key, "shape") == 0) {
            if (!eat(&c, '('))
                return err_set(err, "%s: header 'shape' is not a tuple", name);
            while (!eat(&c, ')')) {
                if (h->ndim == 8 || !read_uint(&c, &h->dims[h->ndim]))
                    return err_set(err, "%s: malformed header 'shape'", name);
                h->ndim++;
                if (!eat(&c, ',')) {
                    if (!eat(&c, ')'))
                        return err_set(err, "%s: malformed header 'shape'", name);
                    break;
                }
            }
            h->have_shape = true;
        } else {
            return err_set(err, "%s: unexpected header key '%s'", name, key);
        }
        if (!eat(&c, ',')) {
            if (!eat(&c, '}'))
                return err_set(err, "%s: malformed header dictionary", name);
            break;
        }
    }
    if (!h->have_descr || !h->have_order || !h->have_shape)
        return err_set(err, "%s: header lacks '%s'", name,
                       !h->have_descr ? "descr" : !h->have_order ? "fortran_order" : "shape");
    return true;
}

bool npy_parse_i64(const unsigned char *buf, size_t bytes, const char *name, int64_t **out, size_t *n, Err *err)
{
    if (!npy_has_magic(buf, bytes))
        return err_set(err, "%s: not a .npy file (no \\x93NUMPY magic)", name);
    if (bytes < 10)
        return err_set(err, "%s: truncated .npy header", name);
    int major = buf[6];
    size_t hlen, hstart;
    if (major == 1) {
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (bytes < 12)
            return err_set(err, "%s: truncated .npy header", name);
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        hstart = 12;
    } else {
        return err_set(err, "%s: unsupported .npy format version %d.%d", name, major, buf[7]);
    }
    if (hlen > NPY_MAX_HEADER_BYTES)
        return err_set(err, "%s: .npy header of %zu bytes exceeds the limit of %d", name, hlen,
                       NPY_MAX_HEADER_BYTES);
    if (bytes - hstart < hlen)
        return err_set(err, "%s: truncated .npy header (%zu of %zu bytes)", name, bytes - hstart, hlen);
    Header h;
    if (!parse_header((const char *)buf + hstart, hlen, name, &h, err))
        return false;
    char order = h.descr[0], kind = h.descr[1];
    uint64_t size = 0;
    if (h.descr[0] && h.descr[1] && h.descr[2] && !h.descr[3] && h.descr[2] >= '1' && h.descr[2] <= '8')
        size = (uint64_t)(h.descr[2] - '0');
    if ((kind != 'i' && kind != 'u') || (size != 1 && size != 2 && size != 4 && size != 8))
        return err_set(err, "%s: dtype '%s' is not an integer type (expected e.g. '<i8')", name, h.descr);
    if (order == '>' && size > 1)
        return err_set(err, "%s: big-endian dtype '%s' is not supported", name, h.descr);
    if (order != '<' && order != '|' && order != '=' && order != '>')
        return err_set(err, "%s: dtype '%s' has an unknown byte order", name, h.descr);
    if (h.ndim != 1)
        return err_set(err, "%s: array has %d dimensions, expected a 1-D index array", name, h.ndim);
    uint64_t count = h.dims[0];
    size_t data_bytes = bytes - hstart - hlen;
    if (count > data_bytes / size || count * size != data_bytes)
        return err_set(err, "%s: payload is %zu bytes, shape (%llu,) of '%s' needs %llu", name, data_bytes,
                       (unsigned long long)count, h.descr, (unsigned long long)(count * size));
    int64_t *v = xmalloc_array(count ? (size_t)count : 1, sizeof *v, err);
    if (!v)
        return false;
    const unsigned char *d = buf + hstart + hlen;
    for (uint64_t i = 0; i < count; i++, d += size) {
        uint64_t u = 0;
        for (uint64_t b = 0; b < size; b++)
            u |= (uint64_t)d[b] << (8 * b);
        if (kind == 'i' && size < 8 && (u >> (8 * size - 1)) & 1)
            u |= ~(uint64_t)0 << (8 * size); // sign-extend
        if (kind == 'u' && size == 8 && u > (uint64_t)INT64_MAX) {
            free(v);
            return err_set(err, "%s: element %llu (%llu) does not fit in int64", name, (unsigned long long)i,
                           (unsigned long long)u);
        }
        v[i] = (int64_t)u;
    }
    *out = v;
    *n = (size_t)count;
    return true;
}

bool npy_read_i64(const char *path, int64_t **out, size_t *n, Err *err)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *fp = is_stdin ? stdin : fopen(path, "rb");
    if (!fp)
        return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    unsigned char *buf = xmalloc_array(cap, 1, err);
    bool ok = buf != NULL;
    while (ok) {
        if (len == cap) {
            unsigned char *b = xrealloc_array(buf, cap, 2, err);
            if (!b) {
                ok = false;
                break;
            }
            buf = b;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0) {
            if (ferror(fp))
                ok = err_set(err, "%s: read error", path);
            break;
        }
    }
    if (!is_stdin)
        fclose(fp);
    if (ok)
        ok = npy_parse_i64(buf, len, is_stdin ? "stdin" : path, out, n, err);
    free(buf);
    return ok;
}

bool npy_encode_i64(const int64_t *v, size_t n, unsigned char **out, size_t *bytes, Err *err)
{
    char dict[128];
    int dl = snprintf(dict, sizeof dict, "{'descr': '<i8', 'fortran_order': False, 'shape': (%zu,), }", n);
    // numpy pads magic + length + dict + '\n' to a multiple of 64 bytes.
    size_t total_header = ((size_t)10 + (size_t)dl + 1 + 63) / 64 * 64;
    size_t hlen = total_header - 10;
    if (n > (SIZE_MAX - total_header) / 8)
        return err_set(err, "array of %zu elements is too large", n);
    size_t size = total_header + n * 8;
    unsigned char *b = xmalloc_array(size, 1, err);
    if (!b)
        return false;
    memcpy(b, MAGIC, 6);
    b[6] = 1;
    b[7] = 0;
    b[8] = (unsigned char)(hlen & 0xff);
    b[9] = (unsigned char)(hlen >> 8);
    memcpy(b + 10, dict, (size_t)dl);
    memset(b + 10 + dl, ' ', hlen - (size_t)dl - 1);
    b[total_header - 1] = '\n';
    unsigned char *d = b + total_header;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 8; k++)
            *d++ = (unsigned char)((uint64_t)v[i] >> (8 * k));
    *out = b;
    *bytes = size;
    return true;
}

bool npy_write_i64(const char *path, const int64_t *v, size_t n, Err *err)
{
    unsigned char *b;
    size_t bytes;
    if (!npy_encode_i64(v, n, &b, &bytes, err))
        return false;
    bool ok = afile_write_all(path, b, bytes, err);
    free(b);
    return ok;
}
