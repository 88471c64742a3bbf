/* SPDX-License-Identifier: Apache-2.0 */
/* tstream: reading and writing tensor stream records (see tstream.h and
 * data-layout.md for the byte layout). */
#include "tstream.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "afile.h"

// A payload is read in pieces of at most this size, growing the buffer as
// bytes really arrive: a hostile header that promises gigabytes and then
// stops costs at most one piece more than the data actually present.
#define READ_PIECE_BYTES ((size_t)64 << 20)

static const size_t dtype_sizes[TDTYPE_COUNT] = {0, 1, 2, 4, 4, 8, 8};
static const char *const dtype_names[TDTYPE_COUNT] = {"?", "u8", "u16", "i32", "f32", "i64", "f64"};
_Static_assert(sizeof dtype_sizes / sizeof dtype_sizes[0] == TDTYPE_COUNT, "dtype table");
_Static_assert(sizeof dtype_names / sizeof dtype_names[0] == TDTYPE_COUNT, "dtype names");

size_t tdtype_size(int dtype) { return dtype > 0 && dtype < TDTYPE_COUNT ? dtype_sizes[dtype] : 0; }

const char *tdtype_name(int dtype) { return dtype > 0 && dtype < TDTYPE_COUNT ? dtype_names[dtype] : "?"; }

int tdtype_from_name(const char *name)
{
    for (int t = 1; t < TDTYPE_COUNT; t++)
        if (strcmp(name, dtype_names[t]) == 0)
            return t;
    return 0;
}

/* ---- little-endian helpers ---- */

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t crc_update(uint32_t crc, const void *data, size_t n)
{
    const unsigned char *p = data;
    while (n > 0) {
        // crc32() takes a uInt length; feed large buffers in slices.
        uInt piece = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = (uint32_t)crc32(crc, p, piece);
        p += piece;
        n -= piece;
    }
    return crc;
}

/* ---- records ---- */

void trecord_init(TRecord *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->dtype = TDTYPE_U8;
}

void trecord_fini(TRecord *rec)
{
    free(rec->data);
    free(rec->meta);
    trecord_init(rec);
}

int64_t trecord_elements(const TRecord *rec)
{
    int64_t n = 1;
    for (int i = 0; i < rec->ndim; i++)
        n *= rec->dims[i];
    return n;
}

// Checks a shape and returns its payload size; false with a message if the
// shape is invalid or too large.
static bool shape_bytes(int dtype, int ndim, const uint64_t *dims, uint64_t max_payload, uint64_t *bytes,
                        Err *err)
{
    size_t esize = tdtype_size(dtype);
    if (!esize)
        return err_set(err, "unknown dtype code %d", dtype);
    if (ndim < 0 || ndim > TSTREAM_MAX_DIMS)
        return err_set(err, "%d dimensions (at most %d allowed)", ndim, TSTREAM_MAX_DIMS);
    uint64_t total = esize;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] > TSTREAM_MAX_DIM)
            return err_set(err, "dimension %d is %" PRIu64 " (at most %" PRIu64 " allowed)", i, dims[i],
                           (uint64_t)TSTREAM_MAX_DIM);
        if (dims[i] && total > max_payload / dims[i])
            return err_set(err, "shape too large: payload exceeds %" PRIu64 " bytes", max_payload);
        total *= dims[i];
    }
    if (total > max_payload)
        return err_set(err, "payload of %" PRIu64 " bytes exceeds the limit of %" PRIu64 " bytes", total,
                       max_payload);
    *bytes = total;
    return true;
}

static bool reserve(void **buf, size_t *cap, size_t need, Err *err)
{
    if (need <= *cap)
        return true;
    size_t want = *cap ? *cap : 256;
    while (want < need)
        want = want > SIZE_MAX / 2 ? need : want * 2;
    void *p = xrealloc_array(*buf, want, 1, err);
    if (!p)
        return false;
    *buf = p;
    *cap = want;
    return true;
}

bool trecord_set_shape(TRecord *rec, TDtype dtype, int ndim, const int64_t *dims, Err *err)
{
    uint64_t udims[TSTREAM_MAX_DIMS] = {0};
    if (ndim < 0 || ndim > TSTREAM_MAX_DIMS)
        return err_set(err, "%d dimensions (at most %d allowed)", ndim, TSTREAM_MAX_DIMS);
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0)
            return err_set(err, "negative dimension %" PRId64, dims[i]);
        udims[i] = (uint64_t)dims[i];
    }
    uint64_t bytes;
    if (!shape_bytes(dtype, ndim, udims, TSTREAM_MAX_PAYLOAD, &bytes, err))
        return false;
    if (bytes > SIZE_MAX)
        return err_set(err, "payload of %" PRIu64 " bytes does not fit in memory", bytes);
    if (!reserve(&rec->data, &rec->data_cap, (size_t)bytes, err))
        return false;
    rec->dtype = dtype;
    rec->ndim = ndim;
    for (int i = 0; i < TSTREAM_MAX_DIMS; i++)
        rec->dims[i] = i < ndim ? dims[i] : 0;
    rec->data_bytes = (size_t)bytes;
    return true;
}

static bool valid_key(const char *key, size_t len)
{
    if (len == 0 || len > TSTREAM_MAX_KEY_BYTES)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)key[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '.' || c == ':' || c == '/' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

bool trecord_meta_next(const TRecord *rec, size_t *pos, const char **key, const char **value)
{
    if (*pos >= rec->meta_len)
        return false;
    const char *entry = rec->meta + *pos;
    size_t len = strlen(entry);
    *key = entry;
    *value = entry + strlen(entry) + 1; // key and value are separated by a NUL
    *pos += len + 1 + strlen(*value) + 1;
    return true;
}

const char *trecord_meta_get(const TRecord *rec, const char *key)
{
    size_t pos = 0;
    const char *k, *v;
    while (trecord_meta_next(rec, &pos, &k, &v))
        if (strcmp(k, key) == 0)
            return v;
    return NULL;
}

bool trecord_meta_get_int(const TRecord *rec, const char *key, int64_t *out, Err *err)
{
    const char *v = trecord_meta_get(rec, key);
    if (!v)
        return err_set(err, "metadata key '%s' is missing", key);
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end)
        return err_set(err, "metadata %s='%s' is not an integer", key, v);
    *out = x;
    return true;
}

void trecord_meta_remove(TRecord *rec, const char *key)
{
    size_t pos = 0, start;
    const char *k, *v;
    for (start = pos; trecord_meta_next(rec, &pos, &k, &v); start = pos) {
        if (strcmp(k, key) == 0) {
            memmove(rec->meta + start, rec->meta + pos, rec->meta_len - pos);
            rec->meta_len -= pos - start;
            return;
        }
    }
}

void trecord_meta_clear(TRecord *rec) { rec->meta_len = 0; }

bool trecord_meta_set(TRecord *rec, const char *key, const char *value, Err *err)
{
    size_t klen = strlen(key), vlen = strlen(value);
    if (!valid_key(key, klen))
        return err_set(err, "invalid metadata key '%s' (use letters, digits and _.:/-)", key);
    if (memchr(value, '\n', vlen))
        return err_set(err, "metadata value of '%s' contains a newline", key);
    trecord_meta_remove(rec, key);
    size_t need = rec->meta_len + klen + vlen + 2;
    if (need > TSTREAM_MAX_META_BYTES)
        return err_set(err, "metadata exceeds %u bytes", TSTREAM_MAX_META_BYTES);
    if (!reserve((void **)&rec->meta, &rec->meta_cap, need, err))
        return false;
    memcpy(rec->meta + rec->meta_len, key, klen + 1);
    memcpy(rec->meta + rec->meta_len + klen + 1, value, vlen + 1);
    rec->meta_len = need;
    return true;
}

bool trecord_meta_setf(TRecord *rec, Err *err, const char *key, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf)
        return err_set(err, "metadata value of '%s' is too long for trecord_meta_setf", key);
    return trecord_meta_set(rec, key, buf, err);
}

bool trecord_meta_copy(TRecord *dst, const TRecord *src, Err *err)
{
    if (dst == src)
        return true;
    if (!reserve((void **)&dst->meta, &dst->meta_cap, src->meta_len, err))
        return false;
    if (src->meta_len)
        memcpy(dst->meta, src->meta, src->meta_len);
    dst->meta_len = src->meta_len;
    return true;
}

bool trecord_copy(TRecord *dst, const TRecord *src, Err *err)
{
    if (dst == src)
        return true;
    if (!trecord_set_shape(dst, src->dtype, src->ndim, src->dims, err))
        return false;
    if (src->data_bytes)
        memcpy(dst->data, src->data, src->data_bytes);
    return trecord_meta_copy(dst, src, err);
}

// Converts wire metadata ("k=v\n" lines) into the internal NUL form,
// validating every line.
static bool parse_meta(TRecord *rec, const char *text, size_t len, Err *err)
{
    if (len && text[len - 1] != '\n')
        return err_set(err, "metadata does not end with a newline");
    if (!reserve((void **)&rec->meta, &rec->meta_cap, len, err))
        return false;
    size_t at = 0, out = 0;
    int line = 1;
    while (at < len) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t llen = (size_t)(nl - (text + at));
        const char *eq = memchr(text + at, '=', llen);
        if (!eq)
            return err_set(err, "metadata line %d has no '='", line);
        size_t klen = (size_t)(eq - (text + at));
        if (!valid_key(text + at, klen))
            return err_set(err, "metadata line %d has an invalid key", line);
        if (memchr(text + at, '\0', llen))
            return err_set(err, "metadata line %d contains a NUL byte", line);
        memcpy(rec->meta + out, text + at, llen);
        rec->meta[out + klen] = '\0';
        rec->meta[out + llen] = '\0';
        out += llen + 1;
        at += llen + 1;
        line++;
    }
    rec->meta_len = out;
    return true;
}

// Wire form of the metadata: the internal form with NULs turned back into
// '=' and '\n'. The length is the same.
static void meta_to_wire(const TRecord *rec, char *out)
{
    size_t pos = 0;
    const char *k, *v;
    while (trecord_meta_next(rec, &pos, &k, &v)) {
        size_t kl = strlen(k), vl = strlen(v);
        memcpy(out, k, kl);
        out[kl] = '=';
        memcpy(out + kl + 1, v, vl);
        out[kl + 1 + vl] = '\n';
        out += kl + vl + 2;
    }
}

static void encode_header(unsigned char *h, int dtype, int ndim, const int64_t *dims, uint64_t payload,
                          uint32_t meta_len)
{
    memset(h, 0, TSTREAM_HEADER_BYTES);
    memcpy(h, TSTREAM_MAGIC, 4);
    h[4] = TSTREAM_VERSION;
    h[5] = (unsigned char)dtype;
    h[6] = (unsigned char)ndim;
    for (int i = 0; i < ndim; i++)
        put_u64(h + 8 + 8 * i, (uint64_t)dims[i]);
    put_u64(h + 40, payload);
    put_u32(h + 48, meta_len);
    put_u32(h + 52, crc_update(0, h, 52));
}

/* ---- reader ---- */

struct TStreamReader {
    FILE *fp;
    bool owns_fp;
    char *name;
    int64_t records;       /* records fully read */
    uint64_t max_payload;
    char *wire_meta;       /* scratch for metadata text */
    size_t wire_meta_cap;
    Err sticky;            /* first failure */
};

TStreamReader *tstream_open_stream(FILE *fp, const char *name, Err *err)
{
    TStreamReader *r = xcalloc_array(1, sizeof *r, err);
    if (!r)
        return NULL;
    r->name = xstrdup(name, err);
    if (!r->name) {
        free(r);
        return NULL;
    }
    r->fp = fp;
    r->max_payload = TSTREAM_MAX_PAYLOAD;
    return r;
}

TStreamReader *tstream_open(const char *path, Err *err)
{
    if (strcmp(path, "-") == 0)
        return tstream_open_stream(stdin, "stdin", err);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        err_set(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    TStreamReader *r = tstream_open_stream(fp, path, err);
    if (!r) {
        fclose(fp);
        return NULL;
    }
    r->owns_fp = true;
    return r;
}

void tstream_set_max_payload(TStreamReader *r, uint64_t max_bytes)
{
    r->max_payload = max_bytes < TSTREAM_MAX_PAYLOAD ? max_bytes : TSTREAM_MAX_PAYLOAD;
}

int64_t tstream_records_read(const TStreamReader *r) { return r->records; }

const char *tstream_name(const TStreamReader *r) { return r->name; }

void tstream_close(TStreamReader *r)
{
    if (!r)
        return;
    if (r->owns_fp)
        fclose(r->fp);
    free(r->name);
    free(r->wire_meta);
    free(r);
}

// Reads exactly n bytes; returns the number actually read.
static size_t read_full(FILE *fp, void *buf, size_t n) { return n ? fread(buf, 1, n, fp) : 0; }

static int reader_fail(TStreamReader *r, TRecord *rec, Err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int reader_fail(TStreamReader *r, TRecord *rec, Err *err, const char *fmt, ...)
{
    char msg[ERR_MSG_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    err_set(&r->sticky, "%s:record %" PRId64 ": %s", r->name, r->records + 1, msg);
    err_set(err, "%s", r->sticky.msg);
    rec->data_bytes = 0;
    rec->ndim = 0;
    rec->meta_len = 0;
    return -1;
}

int tstream_read(TStreamReader *r, TRecord *rec, Err *err)
{
    if (err_is_set(&r->sticky)) {
        err_set(err, "%s", r->sticky.msg);
        return -1;
    }
    unsigned char h[TSTREAM_HEADER_BYTES];
    size_t got = read_full(r->fp, h, sizeof h);
    if (got == 0) {
        if (ferror(r->fp))
            return reader_fail(r, rec, err, "read error: %s", strerror(errno));
        return 0; // clean end between records
    }
    if (got >= 4 && memcmp(h, TSTREAM_MAGIC, 4) != 0)
        return reader_fail(r, rec, err, "wrong magic %02x %02x %02x %02x (not a tensor stream, or corrupt)", h[0],
                           h[1], h[2], h[3]);
    if (got < sizeof h)
        return reader_fail(r, rec, err, "truncated header: %zu of %d bytes", got, TSTREAM_HEADER_BYTES);
    if (h[4] != TSTREAM_VERSION)
        return reader_fail(r, rec, err, "unsupported format version %u (this reader knows %d)", h[4],
                           TSTREAM_VERSION);
    uint32_t stored_hcrc = get_u32(h + 52), hcrc = crc_update(0, h, 52);
    if (stored_hcrc != hcrc)
        return reader_fail(r, rec, err, "bad header checksum (stored %08x, computed %08x)", stored_hcrc, hcrc);
    int dtype = h[5], ndim = h[6];
    if (!tdtype_size(dtype))
        return reader_fail(r, rec, err, "unknown dtype code %d", dtype);
    if (ndim > TSTREAM_MAX_DIMS)
        return reader_fail(r, rec, err, "%d dimensions (at most %d allowed)", ndim, TSTREAM_MAX_DIMS);
    if (h[7] != 0)
        return reader_fail(r, rec, err, "reserved header byte is %u, not 0", h[7]);
    uint64_t dims[TSTREAM_MAX_DIMS] = {0};
    for (int i = 0; i < TSTREAM_MAX_DIMS; i++) {
        dims[i] = get_u64(h + 8 + 8 * i);
        if (i >= ndim && dims[i] != 0)
            return reader_fail(r, rec, err, "unused dimension %d is %" PRIu64 ", not 0", i, dims[i]);
    }
    uint64_t payload = get_u64(h + 40);
    uint32_t meta_len = get_u32(h + 48);
    if (meta_len > TSTREAM_MAX_META_BYTES)
        return reader_fail(r, rec, err, "metadata of %u bytes exceeds the limit of %u", meta_len,
                           TSTREAM_MAX_META_BYTES);
    uint64_t expect;
    Err shape_err = {0};
    if (!shape_bytes(dtype, ndim, dims, r->max_payload, &expect, &shape_err))
        return reader_fail(r, rec, err, "%s", shape_err.msg);
    if (payload != expect) {
        char shape[128] = "";
        size_t at = 0;
        for (int i = 0; i < ndim; i++)
            at += (size_t)snprintf(shape + at, sizeof shape - at, "%s%" PRIu64, i ? "x" : "", dims[i]);
        return reader_fail(r, rec, err, "shape %s %s needs %" PRIu64 " payload bytes but the header says %" PRIu64,
                           ndim ? shape : "(scalar)", tdtype_name(dtype), expect, payload);
    }
    // Metadata.
    Err e = {0};
    if (!reserve((void **)&r->wire_meta, &r->wire_meta_cap, meta_len, &e))
        return reader_fail(r, rec, err, "%s", e.msg);
    got = read_full(r->fp, r->wire_meta, meta_len);
    if (got < meta_len)
        return reader_fail(r, rec, err, "truncated metadata: %zu of %u bytes", got, meta_len);
    uint32_t crc = crc_update(0, r->wire_meta, meta_len);
    if (!parse_meta(rec, r->wire_meta, meta_len, &e))
        return reader_fail(r, rec, err, "%s", e.msg);
    // Payload, grown piece by piece as the bytes arrive.
    if (payload > SIZE_MAX)
        return reader_fail(r, rec, err, "payload of %" PRIu64 " bytes does not fit in memory", payload);
    size_t total = (size_t)payload, have = 0;
    while (have < total) {
        size_t piece = total - have < READ_PIECE_BYTES ? total - have : READ_PIECE_BYTES;
        if (!reserve(&rec->data, &rec->data_cap, have + piece, &e))
            return reader_fail(r, rec, err, "%s", e.msg);
        got = read_full(r->fp, (char *)rec->data + have, piece);
        have += got;
        if (got < piece)
            return reader_fail(r, rec, err, "truncated payload: %zu of %zu bytes", have, total);
    }
    crc = crc_update(crc, rec->data, total);
    unsigned char tail[4];
    got = read_full(r->fp, tail, 4);
    if (got < 4)
        return reader_fail(r, rec, err, "truncated checksum: %zu of 4 bytes", got);
    if (get_u32(tail) != crc)
        return reader_fail(r, rec, err, "bad checksum (stored %08x, computed %08x): the data is corrupt",
                           get_u32(tail), crc);
    rec->dtype = (TDtype)dtype;
    rec->ndim = ndim;
    for (int i = 0; i < TSTREAM_MAX_DIMS; i++)
        rec->dims[i] = (int64_t)dims[i];
    rec->data_bytes = total;
    r->records++;
    return 1;
}

/* ---- writer ---- */

struct TStreamWriter {
    AFile *file;      /* NULL when wrapping a caller's stream */
    FILE *fp;
    char *name;
    int64_t records;
    char *wire_meta;
    size_t wire_meta_cap;
    Err sticky;
};

static TStreamWriter *writer_new(FILE *fp, AFile *file, const char *name, Err *err)
{
    TStreamWriter *w = xcalloc_array(1, sizeof *w, err);
    if (!w)
        return NULL;
    w->name = xstrdup(name, err);
    if (!w->name) {
        free(w);
        return NULL;
    }
    w->fp = fp;
    w->file = file;
    return w;
}

TStreamWriter *tstream_create(const char *path, Err *err)
{
    AFile *f = afile_open_binary(path, err);
    if (!f)
        return NULL;
    TStreamWriter *w = writer_new(afile_stream(f), f, strcmp(path, "-") == 0 ? "stdout" : path, err);
    if (!w)
        afile_abort(f);
    return w;
}

TStreamWriter *tstream_create_stream(FILE *fp, const char *name, Err *err)
{
    return writer_new(fp, NULL, name, err);
}

int64_t tstream_records_written(const TStreamWriter *w) { return w->records; }

static bool write_bytes(TStreamWriter *w, const void *p, size_t n, Err *err)
{
    if (n && fwrite(p, 1, n, w->fp) != n) {
        err_set(&w->sticky, "%s: write error: %s", w->name, strerror(errno));
        return err_set(err, "%s", w->sticky.msg);
    }
    return true;
}

bool tstream_write_parts(TStreamWriter *w, TDtype dtype, int ndim, const int64_t *dims, const void *data,
                         const TRecord *meta_from, Err *err)
{
    if (err_is_set(&w->sticky))
        return err_set(err, "%s", w->sticky.msg);
    uint64_t udims[TSTREAM_MAX_DIMS] = {0}, payload;
    if (ndim < 0 || ndim > TSTREAM_MAX_DIMS)
        return err_set(err, "%s: cannot write a record of %d dimensions", w->name, ndim);
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0)
            return err_set(err, "%s: cannot write a negative dimension", w->name);
        udims[i] = (uint64_t)dims[i];
    }
    if (!shape_bytes(dtype, ndim, udims, TSTREAM_MAX_PAYLOAD, &payload, err)) {
        err_prefix(err, "%s: cannot write record %" PRId64, w->name, w->records + 1);
        return false;
    }
    size_t meta_len = meta_from ? meta_from->meta_len : 0;
    if (meta_len > TSTREAM_MAX_META_BYTES)
        return err_set(err, "%s: metadata exceeds %u bytes", w->name, TSTREAM_MAX_META_BYTES);
    if (!reserve((void **)&w->wire_meta, &w->wire_meta_cap, meta_len, err))
        return false;
    if (meta_len)
        meta_to_wire(meta_from, w->wire_meta);
    unsigned char h[TSTREAM_HEADER_BYTES], tail[4];
    encode_header(h, dtype, ndim, dims, payload, (uint32_t)meta_len);
    uint32_t crc = crc_update(0, w->wire_meta, meta_len);
    crc = crc_update(crc, data, (size_t)payload);
    put_u32(tail, crc);
    if (!write_bytes(w, h, sizeof h, err) || !write_bytes(w, w->wire_meta, meta_len, err) ||
        !write_bytes(w, data, (size_t)payload, err) || !write_bytes(w, tail, 4, err))
        return false;
    w->records++;
    return true;
}

bool tstream_write(TStreamWriter *w, const TRecord *rec, Err *err)
{
    return tstream_write_parts(w, rec->dtype, rec->ndim, rec->dims, rec->data, rec, err);
}

bool tstream_writer_commit(TStreamWriter *w, Err *err)
{
    bool ok = !err_is_set(&w->sticky);
    if (!ok)
        err_set(err, "%s", w->sticky.msg);
    if (w->file) {
        if (ok)
            ok = afile_commit(w->file, err);
        else
            afile_abort(w->file);
    } else if (ok && fflush(w->fp) != 0) {
        ok = err_set(err, "%s: write error: %s", w->name, strerror(errno));
    }
    free(w->wire_meta);
    free(w->name);
    free(w);
    return ok;
}

void tstream_writer_abort(TStreamWriter *w)
{
    if (!w)
        return;
    if (w->file)
        afile_abort(w->file);
    free(w->wire_meta);
    free(w->name);
    free(w);
}

bool tstream_encode(const TRecord *rec, unsigned char **out, size_t *out_bytes, Err *err)
{
    size_t total = TSTREAM_HEADER_BYTES + rec->meta_len + rec->data_bytes + 4;
    unsigned char *buf = xmalloc_array(total, 1, err);
    if (!buf)
        return false;
    encode_header(buf, rec->dtype, rec->ndim, rec->dims, rec->data_bytes, (uint32_t)rec->meta_len);
    meta_to_wire(rec, (char *)buf + TSTREAM_HEADER_BYTES);
    if (rec->data_bytes)
        memcpy(buf + TSTREAM_HEADER_BYTES + rec->meta_len, rec->data, rec->data_bytes);
    uint32_t crc = crc_update(0, buf + TSTREAM_HEADER_BYTES, rec->meta_len + rec->data_bytes);
    put_u32(buf + total - 4, crc);
    *out = buf;
    *out_bytes = total;
    return true;
}
