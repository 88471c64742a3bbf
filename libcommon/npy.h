/* SPDX-License-Identifier: Apache-2.0 */
/*
 * npy: one-dimensional integer arrays in NumPy's .npy format, the format of
 * the original experiments' CIFAR-10/SVHN fold index files.
 *
 * Reading accepts format versions 1.0, 2.0 and 3.0, C or Fortran order (the
 * same thing for 1-D), and the integer dtypes i1/i2/i4/i8 and u1/u2/u4/u8 in
 * little-endian or byte order '|' (one byte), widened to int64. The header
 * dictionary is parsed, not pattern-matched, and every size is checked
 * against the bytes present: a .npy file with a bad header, an unsupported
 * dtype, a shape that is not 1-D, or a payload of the wrong length is an
 * error naming the problem. Writing produces exactly what numpy.save writes
 * for an int64 1-D array: version 1.0, '<i8', header padded with spaces to a
 * multiple of 64 bytes and ended by a newline.
 *
 * Not for: floating-point or multi-dimensional arrays, pickled objects,
 * .npz archives. Thread safety: the functions keep no state.
 * Ownership: arrays returned through int64_t ** are malloc'd; the caller
 * frees them. Errors: Err, "name: what is wrong"; outputs are untouched on
 * failure.
 *
 *     Err err = {0};
 *     int64_t *idx; size_t n;
 *     if (!npy_read_i64("folds/cifar10/0/0/train.npy", &idx, &n, &err)) ...
 *     ...
 *     if (!npy_write_i64("train.npy", idx, n, &err)) ...   // atomic
 *     free(idx);
 */
#ifndef ADKIT_NPY_H
#define ADKIT_NPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Largest header accepted by the reader (numpy's own limit is far larger
 * but every real index file has a header of 128 bytes or less). */
#define NPY_MAX_HEADER_BYTES 65536

/* Decodes a .npy image in memory; name is used in messages. */
bool npy_parse_i64(const unsigned char *buf, size_t bytes, const char *name, int64_t **out, size_t *n,
                   Err *err);

/* Reads a .npy file ("-" = standard input). */
bool npy_read_i64(const char *path, int64_t **out, size_t *n, Err *err);

/* Encodes v[0..n) as numpy.save would ('<i8', version 1.0); *out is
 * malloc'd (caller frees). */
bool npy_encode_i64(const int64_t *v, size_t n, unsigned char **out, size_t *bytes, Err *err);

/* Writes v[0..n) as a .npy file through the atomic writer (afile.h). */
bool npy_write_i64(const char *path, const int64_t *v, size_t n, Err *err);

/* True when the bytes start with the .npy magic "\x93NUMPY". */
bool npy_has_magic(const unsigned char *buf, size_t bytes);

#endif
