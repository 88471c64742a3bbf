/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsv: reading text tables (tab-separated, one header line) and text lists
 * (one item per line), with checked number parsing.
 *
 * Scores travel as TSV ("id<TAB>label<TAB>score"), fold and split lists as
 * plain text, one file name or index per line. A TsvReader hands out one line
 * at a time split into fields in place; lines may be any length. Trailing
 * "\r" is dropped, so files written on Windows read the same. The checked
 * parsers accept a whole field or nothing (no atof-style silent zeros).
 *
 * Not for: quoted CSV (see nih_entries.h), or writing (use afile.h).
 * Thread safety: a reader or list belongs to one thread at a time.
 * Ownership: fields returned by tsv_read_line are borrowed until the next
 * call; a TextList owns its strings.
 * Errors: readers return -1 and set err "name:line N: what"; the parsers
 * return false and leave *out untouched.
 *
 *     Err err = {0};
 *     TsvReader *r = tsv_open("scores.tsv", &err);
 *     char **f; size_t nf;
 *     if (r && tsv_read_line(r, &f, &nf, &err) == 1) {     // the header
 *         int score_col = tsv_find_column(f, nf, "score");
 *         while (tsv_read_line(r, &f, &nf, &err) == 1) {
 *             double s;
 *             if (!tsv_parse_double(f[score_col], &s)) ...   // "line N: ..."
 *         }
 *     }
 *     tsv_close(r);
 */
#ifndef ADKIT_TSV_H
#define ADKIT_TSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

/* Parses a whole string as a decimal floating-point number (strtod syntax,
 * including "inf" and "nan"; the caller decides whether those are allowed).
 * Leading/trailing blanks are not allowed. False for empty or trailing
 * garbage. */
bool tsv_parse_double(const char *s, double *out);

/* Parses a whole string as a decimal int64 ("-12", "+3"); false on empty
 * input, trailing garbage or overflow. */
bool tsv_parse_int64(const char *s, int64_t *out);

typedef struct TsvReader TsvReader;

/* Opens a file ("-" = standard input, named "stdin" in messages). */
TsvReader *tsv_open(const char *path, Err *err);

/* Wraps an open stream (not closed by tsv_close); name is used in
 * messages. */
TsvReader *tsv_open_stream(FILE *fp, const char *name, Err *err);

/* Reads the next line and splits it at tabs in place. *fields points to
 * *nfields NUL-terminated fields (at least one; an empty line gives one empty
 * field), borrowed until the next call. Returns 1 for a line, 0 at end of
 * file, -1 on a read error ("name:line N: ..."). */
int tsv_read_line(TsvReader *r, char ***fields, size_t *nfields, Err *err);

/* Number of the line last returned (1-based). */
int64_t tsv_line_number(const TsvReader *r);

/* The name used in messages ("stdin" or the path). Borrowed. */
const char *tsv_name(const TsvReader *r);

/* Closes (unless standard input) and frees. NULL does nothing. */
void tsv_close(TsvReader *r);

/* Index of the field equal to name, or -1. */
int tsv_find_column(char *const *fields, size_t nfields, const char *name);

/* A list file read whole: one item per line, trailing "\r" and blanks
 * removed, empty lines skipped. */
typedef struct TextList {
    char **items;    /* n items, NUL-terminated, owned (point into buf) */
    int64_t *line;   /* line number of each item (1-based), owned */
    size_t n;        /* number of items */
    char *buf;       /* the file's bytes, owned */
    char *name;      /* the path as given ("stdin" for "-"), owned; for messages */
} TextList;

/* Reads path ("-" = standard input) into list (caller-allocated; freed with
 * textlist_fini). On failure list is left empty. */
bool textlist_read(const char *path, TextList *list, Err *err);

/* Splits buf (bytes long, NUL-terminated at buf[bytes], malloc'd) into a
 * list as textlist_read does; the list takes ownership of buf, also on
 * failure. name is used in messages. */
bool textlist_parse(char *buf, size_t bytes, const char *name, TextList *list, Err *err);

/* Reads a whole file ("-" = standard input) into a malloc'd buffer with a
 * NUL after the last byte; *bytes excludes it. */
char *tsv_read_file(const char *path, size_t *bytes, Err *err);

/* Frees what textlist_read allocated; the struct may be reused. */
void textlist_fini(TextList *list);

#endif
