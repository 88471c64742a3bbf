/* SPDX-License-Identifier: Apache-2.0 */
/*
 * err: the error object every fallible libcommon function takes last.
 *
 * An Err is a caller-owned struct with a fixed message buffer, so reporting
 * works even when memory has run out. A fallible function that fails writes
 * one message ("what went wrong, with the values involved") with err_set and
 * returns false / NULL / -1; a caller that knows more context adds it with
 * err_context, which appends " (context)". The first message wins: err_set on
 * an Err that already holds a message does nothing, so the root cause is kept.
 *
 * Not for: printing. Tools print the message (see cli.h: cli_report).
 * Thread safety: an Err belongs to one thread at a time.
 *
 *     Err err = {0};
 *     TStreamReader *r = tstream_open(path, &err);
 *     if (!r) return cli_report(&err);   // "tool: x.ts:record 3: bad checksum"
 */
#ifndef ADKIT_ERR_H
#define ADKIT_ERR_H

#include <stdbool.h>
#include <stddef.h>

#define ERR_MSG_BYTES 1024

typedef struct Err {
    char msg[ERR_MSG_BYTES]; /* NUL-terminated; empty string = no error */
} Err;

/* Records a failure unless one is already recorded. printf-style. Returns
 * false so that `return err_set(err, ...)` reads naturally in bool code.
 * err may be NULL (the message is then dropped). */
bool err_set(Err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends " (context)" to an existing message; does nothing when err holds
 * no message. */
void err_context(Err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Replaces the message with "prefix: message" (used by readers that name the
 * file and record before the cause). Does nothing when err holds no message. */
void err_prefix(Err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when a message is recorded. */
bool err_is_set(const Err *err);

/* Clears the message so the Err can be reused. */
void err_clear(Err *err);

/* Checked allocation helpers: on failure they record "out of memory
 * allocating N bytes" and return NULL. count * size is checked for overflow.
 * The memory comes from malloc/calloc/realloc and is freed with free(). */
void *xmalloc_array(size_t count, size_t size, Err *err);
void *xcalloc_array(size_t count, size_t size, Err *err);
void *xrealloc_array(void *ptr, size_t count, size_t size, Err *err);

/* Copies a string with malloc; NULL with an error on failure. */
char *xstrdup(const char *s, Err *err);

#endif
