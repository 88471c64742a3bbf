/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tstream: the tensor stream, the one format that flows between every stage.
 *
 * A stream is a sequence of self-contained records, read front to back
 * without seeking, so `cat a.ts b.ts | tool` and `tool < fifo` work. Each
 * record carries a dtype, a shape of up to 4 dimensions, free-form text
 * metadata (key=value pairs), the payload and CRC-32 checksums; the byte
 * layout is documented in data-layout.md. A truncated or corrupt stream is
 * always detected ("file:record N: what is wrong"), never misread, and no
 * size read from a file is trusted before it is checked against the limits
 * below.
 *
 * Conventions for images: u8 (or u16) records of shape (C, H, W), planar,
 * C = 1 (grey) or 3 (RGB); metadata `id` (a name without '/' or newline) and
 * `label` (an integer class; 0 = normal, 1 = anomaly where that is the only
 * distinction). Model checkpoints: one f32 record per named parameter (`name`)
 * plus one record holding the configuration.
 *
 * Not for: random access, or text data (scores travel as TSV).
 * Thread safety: a reader, writer or record belongs to one thread at a time.
 * Ownership: records own their buffers and reuse them across reads; the
 * reader and writer borrow nothing from the caller after they return.
 * Errors: readers and writers are sticky; after a failure every call fails
 * fast and the first message is kept.
 *
 *     Err err = {0};
 *     TStreamReader *in = tstream_open("-", &err);
 *     TStreamWriter *out = in ? tstream_create("-", &err) : NULL;
 *     TRecord rec;
 *     trecord_init(&rec);
 *     int got;
 *     while (out && (got = tstream_read(in, &rec, &err)) == 1) {
 *         const char *id = trecord_meta_get(&rec, "id");   // may be NULL
 *         ... change rec.data ...
 *         if (!tstream_write(out, &rec, &err)) break;
 *     }
 *     bool ok = out && got == 0 && tstream_writer_commit(out, &err);
 *     ...
 */
#ifndef ADKIT_TSTREAM_H
#define ADKIT_TSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

#define TSTREAM_MAGIC "ADTS"
#define TSTREAM_VERSION 1
#define TSTREAM_MAX_DIMS 4
#define TSTREAM_HEADER_BYTES 56
/* Limits checked before anything is allocated. */
#define TSTREAM_MAX_META_BYTES (1u << 20)           /* 1 MiB of metadata text */
#define TSTREAM_MAX_KEY_BYTES 255
#define TSTREAM_MAX_DIM ((uint64_t)1 << 32)         /* any one dimension */
#define TSTREAM_MAX_PAYLOAD ((uint64_t)1 << 36)     /* 64 GiB hard ceiling */

/* Element types. The numeric codes are part of the file format. */
typedef enum TDtype {
    TDTYPE_U8 = 1,
    TDTYPE_U16 = 2,
    TDTYPE_I32 = 3,
    TDTYPE_F32 = 4,
    TDTYPE_I64 = 5,
    TDTYPE_F64 = 6,
    TDTYPE_COUNT
} TDtype;

/* Bytes per element; 0 for an unknown code. */
size_t tdtype_size(int dtype);
/* "u8", "u16", "i32", "f32", "i64", "f64"; "?" for an unknown code. */
const char *tdtype_name(int dtype);
/* Parses a name as above; returns 0 when unknown. */
int tdtype_from_name(const char *name);

/* One record. Fields may be read directly; change them through the
 * functions below so sizes and capacities stay consistent. */
typedef struct TRecord {
    TDtype dtype;
    int ndim;                        /* 0..4; 0 = a scalar (one element) */
    int64_t dims[TSTREAM_MAX_DIMS];  /* dims[0..ndim-1]; the rest are 0 */
    void *data;                      /* payload, data_bytes long, owned */
    size_t data_bytes;               /* = elements * tdtype_size(dtype) */
    size_t data_cap;                 /* allocated bytes of data */
    char *meta;                      /* "key=value\0key=value\0", owned */
    size_t meta_len;                 /* bytes used in meta */
    size_t meta_cap;                 /* allocated bytes of meta */
} TRecord;

/* Initialises an empty record (no allocation). */
void trecord_init(TRecord *rec);
/* Frees the record's buffers; the record may be initialised again. */
void trecord_fini(TRecord *rec);

/* Number of elements of the current shape (1 for ndim 0). */
int64_t trecord_elements(const TRecord *rec);

/* Sets dtype and shape and makes data hold exactly the needed bytes
 * (contents undefined; the buffer is reused when large enough). Checks every
 * dimension (>= 0, <= TSTREAM_MAX_DIM) and the total against
 * TSTREAM_MAX_PAYLOAD. Metadata is kept. */
bool trecord_set_shape(TRecord *rec, TDtype dtype, int ndim, const int64_t *dims, Err *err);

/* The value of key, or NULL when absent. Borrowed: valid until the record's
 * metadata changes. */
const char *trecord_meta_get(const TRecord *rec, const char *key);

/* Reads key as a whole decimal integer. Returns false with a message naming
 * the key when it is absent or not an integer. */
bool trecord_meta_get_int(const TRecord *rec, const char *key, int64_t *out, Err *err);

/* Sets (replaces or appends) key=value. The key must match [A-Za-z0-9_.:/-]+
 * (at most TSTREAM_MAX_KEY_BYTES); the value must not contain a newline. */
bool trecord_meta_set(TRecord *rec, const char *key, const char *value, Err *err);
bool trecord_meta_setf(TRecord *rec, Err *err, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Removes key if present. */
void trecord_meta_remove(TRecord *rec, const char *key);

/* Removes all metadata. */
void trecord_meta_clear(TRecord *rec);

/* Replaces dst's metadata by a copy of src's. */
bool trecord_meta_copy(TRecord *dst, const TRecord *src, Err *err);

/* Iterates over metadata: start with *pos = 0; returns false at the end.
 * key and value are borrowed like trecord_meta_get's result. */
bool trecord_meta_next(const TRecord *rec, size_t *pos, const char **key, const char **value);

/* Makes dst an independent copy of src (shape, payload, metadata). */
bool trecord_copy(TRecord *dst, const TRecord *src, Err *err);

/* ---- Reading ---- */

typedef struct TStreamReader TStreamReader;

/* Opens a file for reading; "-" is standard input (named "stdin" in
 * messages). */
TStreamReader *tstream_open(const char *path, Err *err);

/* Wraps an open stream; name is used in messages. Borrows fp: it must
 * outlive the reader and is not closed by tstream_close. */
TStreamReader *tstream_open_stream(FILE *fp, const char *name, Err *err);

/* Lowers the payload limit of this reader (default TSTREAM_MAX_PAYLOAD).
 * A record above it is an error naming the limit. */
void tstream_set_max_payload(TStreamReader *r, uint64_t max_bytes);

/* Reads the next record into rec (replacing its contents). Returns 1 for a
 * record, 0 at a clean end of stream (end of file exactly between records),
 * -1 on error with "name:record N: problem". rec is left empty on error. */
int tstream_read(TStreamReader *r, TRecord *rec, Err *err);

/* Number of records read so far. */
int64_t tstream_records_read(const TStreamReader *r);

/* The name used in messages ("stdin" or the path). Borrowed. */
const char *tstream_name(const TStreamReader *r);

/* Closes (if opened by tstream_open) and frees. NULL does nothing. */
void tstream_close(TStreamReader *r);

/* ---- Writing ---- */

typedef struct TStreamWriter TStreamWriter;

/* Creates an output stream through the atomic writer (afile.h): "-" is
 * standard output, which must not be a terminal. */
TStreamWriter *tstream_create(const char *path, Err *err);

/* Wraps an open stream (not closed by commit). */
TStreamWriter *tstream_create_stream(FILE *fp, const char *name, Err *err);

/* Appends one record. */
bool tstream_write(TStreamWriter *w, const TRecord *rec, Err *err);

/* Appends one record made of parts: shape and payload given here, metadata
 * taken from meta_from (may be NULL for none). */
bool tstream_write_parts(TStreamWriter *w, TDtype dtype, int ndim, const int64_t *dims,
                         const void *data, const TRecord *meta_from, Err *err);

/* Records written so far. */
int64_t tstream_records_written(const TStreamWriter *w);

/* Flushes and commits (renames the file into place). Frees w either way;
 * false if anything failed, and then no output file exists. */
bool tstream_writer_commit(TStreamWriter *w, Err *err);

/* Discards the output (removes the temporary file) and frees w. */
void tstream_writer_abort(TStreamWriter *w);

/* Encodes one record into memory (header, metadata, payload, checksum);
 * *out is malloc'd and owned by the caller. Used by tests and fuzzers. */
bool tstream_encode(const TRecord *rec, unsigned char **out, size_t *out_bytes, Err *err);

#endif
