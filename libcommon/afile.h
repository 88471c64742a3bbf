/* SPDX-License-Identifier: Apache-2.0 */
/*
 * afile: output files that appear whole or not at all.
 *
 * afile_open creates a temporary file beside the target ("dir/.name.XXXXXX"),
 * the caller writes through afile_stream, and afile_commit flushes, fsyncs,
 * closes and renames it onto the target. afile_abort (or a failed commit)
 * removes the temporary file, so a failure never leaves a partial output.
 * The path "-" means standard output: nothing is renamed, and commit only
 * flushes. Refusing binary data on a terminal is the caller's choice
 * (afile_open_binary does it).
 *
 * Not for: inputs. Thread safety: one AFile per thread.
 *
 *     Err err = {0};
 *     AFile *f = afile_open("out.tsv", &err);
 *     if (!f) return cli_report(&err);
 *     fprintf(afile_stream(f), "id\tscore\n");
 *     if (!afile_commit(f, &err)) return cli_report(&err);
 */
#ifndef ADKIT_AFILE_H
#define ADKIT_AFILE_H

#include <stdbool.h>
#include <stdio.h>

#include "err.h"

typedef struct AFile AFile;

/* Opens path for writing under a temporary name ("-" = stdout). Creates
 * nothing on failure. The caller owns the result and must call afile_commit
 * or afile_abort exactly once. */
AFile *afile_open(const char *path, Err *err);

/* As afile_open, but fails ("refusing to write binary data to a terminal")
 * when path is "-" and standard output is a terminal. */
AFile *afile_open_binary(const char *path, Err *err);

/* The stdio stream to write to. Borrowed: valid until commit/abort. */
FILE *afile_stream(AFile *f);

/* The target path as given (for messages). */
const char *afile_path(const AFile *f);

/* Flushes, closes and renames onto the target; checks every step. On failure
 * the temporary file is removed and false returned. Frees f either way. */
bool afile_commit(AFile *f, Err *err);

/* Removes the temporary file and frees f. afile_abort(NULL) does nothing. */
void afile_abort(AFile *f);

/* Writes a whole file atomically from memory. */
bool afile_write_all(const char *path, const void *data, size_t bytes, Err *err);

#endif
