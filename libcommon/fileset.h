/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fileset: a tree of output files built in memory and written as a whole.
 *
 * Tools that produce a folder of many small files (fold lists, split lists)
 * compute everything first, adding each file's bytes under a relative path,
 * then commit once. When the target folder does not exist yet, the files
 * are written into a sibling staging folder ("DIR.tmp-XXXXXX") that is
 * renamed onto DIR at the end, so DIR appears complete or not at all. When
 * DIR exists, each file is replaced atomically (afile.h) in turn; an I/O
 * failure then can leave some files replaced and others not, and the error
 * says which file failed.
 *
 * Not for: large payloads (everything is held in memory).
 * Thread safety: one thread at a time.
 * Ownership: the set copies the bytes given to it; fileset_free releases all.
 * Errors: Err naming the path that failed.
 *
 *     Err err = {0};
 *     FileSet *fs = fileset_new(&err);
 *     fileset_add(fs, "folds/cifar10/0/0/train.npy", bytes, n, &err);
 *     fileset_addf(fs, "validation_classes/nih.csv", &err, "Valid Labels\n%s\n", "Infiltration");
 *     if (!fileset_commit(fs, "out", &err)) ...
 *     fileset_free(fs);
 */
#ifndef ADKIT_FILESET_H
#define ADKIT_FILESET_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

typedef struct FileSet FileSet;

FileSet *fileset_new(Err *err);
void fileset_free(FileSet *fs);

/* Adds (or replaces) the file relpath (relative, '/'-separated, no "..")
 * with a copy of data[0..bytes). */
bool fileset_add(FileSet *fs, const char *relpath, const void *data, size_t bytes, Err *err);

/* Adds a text file from a printf format. */
bool fileset_addf(FileSet *fs, const char *relpath, Err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Adds a text file with one line per string. */
bool fileset_add_lines(FileSet *fs, const char *relpath, const char *const *lines, size_t n, Err *err);

/* Number of files. */
size_t fileset_count(const FileSet *fs);

/* Writes every file under dir (see above). */
bool fileset_commit(const FileSet *fs, const char *dir, Err *err);

#endif
