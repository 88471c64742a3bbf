/* SPDX-License-Identifier: Apache-2.0 */
/* err: fixed-buffer error messages and checked allocation (see err.h). */
#include "err.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool err_set(Err *err, const char *fmt, ...)
{
    if (!err || err->msg[0])
        return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (!err->msg[0])
        snprintf(err->msg, sizeof err->msg, "unknown error");
    return false;
}

void err_context(Err *err, const char *fmt, ...)
{
    if (!err || !err->msg[0])
        return;
    size_t used = strlen(err->msg);
    if (used + 4 >= sizeof err->msg)
        return;
    // Build " (context)" in place, truncating quietly at the buffer's end.
    size_t room = sizeof err->msg - used;
    memcpy(err->msg + used, " (", 3);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + used + 2, room - 2, fmt, ap);
    va_end(ap);
    size_t now = strlen(err->msg);
    if (now + 1 < sizeof err->msg) {
        err->msg[now] = ')';
        err->msg[now + 1] = 0;
    }
}

void err_prefix(Err *err, const char *fmt, ...)
{
    if (!err || !err->msg[0])
        return;
    char old[ERR_MSG_BYTES];
    memcpy(old, err->msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n + 2 >= sizeof err->msg)
        return;
    size_t at = (size_t)n;
    memcpy(err->msg + at, ": ", 3);
    size_t room = sizeof err->msg - at - 2;
    size_t len = strlen(old);
    if (len >= room)
        len = room - 1;
    memcpy(err->msg + at + 2, old, len);
    err->msg[at + 2 + len] = 0;
}

bool err_is_set(const Err *err) { return err && err->msg[0]; }

void err_clear(Err *err)
{
    if (err)
        err->msg[0] = 0;
}

static bool mul_overflows(size_t count, size_t size, size_t *bytes)
{
    if (size && count > SIZE_MAX / size)
        return true;
    *bytes = count * size;
    return false;
}

void *xmalloc_array(size_t count, size_t size, Err *err)
{
    size_t bytes;
    if (mul_overflows(count, size, &bytes)) {
        err_set(err, "allocation size overflows: %zu x %zu bytes", count, size);
        return NULL;
    }
    void *p = malloc(bytes ? bytes : 1);
    if (!p)
        err_set(err, "out of memory allocating %zu bytes", bytes);
    return p;
}

void *xcalloc_array(size_t count, size_t size, Err *err)
{
    size_t bytes;
    if (mul_overflows(count, size, &bytes)) {
        err_set(err, "allocation size overflows: %zu x %zu bytes", count, size);
        return NULL;
    }
    void *p = calloc(bytes ? count : 1, bytes ? size : 1);
    if (!p)
        err_set(err, "out of memory allocating %zu bytes", bytes);
    return p;
}

void *xrealloc_array(void *ptr, size_t count, size_t size, Err *err)
{
    size_t bytes;
    if (mul_overflows(count, size, &bytes)) {
        err_set(err, "allocation size overflows: %zu x %zu bytes", count, size);
        return NULL;
    }
    void *p = realloc(ptr, bytes ? bytes : 1);
    if (!p)
        err_set(err, "out of memory allocating %zu bytes", bytes);
    return p;
}

char *xstrdup(const char *s, Err *err)
{
    size_t n = strlen(s) + 1;
    char *p = xmalloc_array(n, 1, err);
    if (p)
        memcpy(p, s, n);
    return p;
}
