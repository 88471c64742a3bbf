/* SPDX-License-Identifier: Apache-2.0 */
/*
 * csv: reading comma-separated tables as RFC 4180 defines them: fields may
 * be quoted with '"', a quoted field may hold commas, line breaks and
 * doubled quotes (""), records end with LF or CRLF.
 *
 * Used for the NIH Data_Entry_2017.csv (nih_entries.h) and the original
 * experiments' validation_classes CSV files. Columns are found by header name.
 *
 * Not for: writing, other separators (see tsv.h for tab-separated data).
 * Thread safety: a reader belongs to one thread.
 * Ownership: fields are borrowed until the next csv_read_record call.
 * Errors: -1 from csv_read_record with "name:line N: what" (an unterminated
 * quote, text after a closing quote).
 *
 *     Err err = {0};
 *     CsvReader *r = csv_open("Data_Entry_2017.csv", &err);
 *     char **f; size_t n;
 *     if (r && csv_read_record(r, &f, &n, &err) == 1) {        // header
 *         int col = tsv_find_column(f, n, "Image Index");      // tsv.h
 *         while (csv_read_record(r, &f, &n, &err) == 1) ...
 *     }
 *     csv_close(r);
 */
#ifndef ADKIT_CSV_H
#define ADKIT_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct CsvReader CsvReader;

/* Opens path ("-" = standard input). A UTF-8 byte-order mark is skipped. */
CsvReader *csv_open(const char *path, Err *err);

/* Reads the next record into fields (borrowed). Returns 1, 0 at end of
 * input, -1 on error. Blank lines are skipped. */
int csv_read_record(CsvReader *r, char ***fields, size_t *nfields, Err *err);

/* Line on which the last record started (1-based). */
int64_t csv_line_number(const CsvReader *r);

/* "stdin" or the path. Borrowed. */
const char *csv_name(const CsvReader *r);

void csv_close(CsvReader *r);

#endif
