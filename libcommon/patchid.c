/* SPDX-License-Identifier: Apache-2.0 */
/* patchid: format and parse the original's patch names (see patchid.h). */
#include "patchid.h"

#include <stdio.h>
#include <string.h>

bool patchid_format(char *out, size_t out_bytes, const char *slide, const char *type, int64_t level0_row,
                    int64_t level0_col, int64_t width, int64_t height)
{
    int n = snprintf(out, out_bytes, "%s_%s_x_%lld_y_%lld_w_%lld_h_%lld", slide, type, (long long)level0_row,
                     (long long)level0_col, (long long)width, (long long)height);
    return n > 0 && (size_t)n < out_bytes;
}

// Parses the decimal digits in s[0..len) (at least one, at most 15).
static bool digits(const char *s, size_t len, int64_t *out)
{
    if (len == 0 || len > 15)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

// Finds the last occurrence of key in s[0..end) that is followed by digits
// up to end; returns its position or -1.
static long last_field(const char *s, size_t end, const char *key, int64_t *value)
{
    size_t k = strlen(key);
    for (long i = (long)end - (long)k - 1; i >= 0; i--)
        if (memcmp(s + i, key, k) == 0 && digits(s + i + k, end - (size_t)i - k, value))
            return i;
    return -1;
}

bool patchid_parse(const char *name, PatchId *out, Err *err)
{
    memset(out, 0, sizeof *out);
    size_t len = strlen(name);
    if (len >= 4 && strcmp(name + len - 4, ".jpg") == 0)
        len -= 4;
    // Right to left: _h_H, _w_W, _y_Y, _x_X, each ending where the next
    // begins; what remains is "<slide>_<type>".
    long h = last_field(name, len, "_h_", &out->height);
    long w = h > 0 ? last_field(name, (size_t)h, "_w_", &out->width) : -1;
    long y = w > 0 ? last_field(name, (size_t)w, "_y_", &out->level0_col) : -1;
    long x = y > 0 ? last_field(name, (size_t)y, "_x_", &out->level0_row) : -1;
    if (x <= 0)
        return err_set(err, "bad patch id '%s': expected <slide>_<type>_x_<row>_y_<col>_w_<w>_h_<h>", name);
    const char *sep = NULL;
    for (long i = x - 1; i > 0; i--)
        if (name[i] == '_') {
            sep = name + i;
            break;
        }
    size_t slide_len = sep ? (size_t)(sep - name) : 0;
    size_t type_len = sep ? (size_t)(x - (sep - name) - 1) : 0;
    if (!sep || slide_len == 0 || type_len == 0)
        return err_set(err, "bad patch id '%s': no '<slide>_<type>' before '_x_'", name);
    if (slide_len >= sizeof out->slide || type_len >= sizeof out->type)
        return err_set(err, "bad patch id '%s': slide name or type too long", name);
    memcpy(out->slide, name, slide_len);
    memcpy(out->type, sep + 1, type_len);
    if (memchr(out->slide, '/', slide_len))
        return err_set(err, "bad patch id '%s': slide name contains '/'", name);
    return true;
}
