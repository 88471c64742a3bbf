/* SPDX-License-Identifier: Apache-2.0 */
/*
 * patchid: the Camelyon16 patch names of the original
 * (`<slide>_<type>_x_<X>_y_<Y>_w_<W>_h_<H>`, spec camelyon16.md 2.1).
 *
 * Mind the swap: X is the level-0 ROW and Y the level-0 COLUMN of the
 * patch's top-left corner, the opposite of OpenSlide's x/y. The fields here
 * are named by what they are (level0_row, level0_col) to keep that straight.
 * Parsing follows the original's regular expression
 * `(.*)_(.*)_x_(\d+)_y_(\d+)_w_(\d+)_h_(\d+)`: the type is the last
 * '_'-separated word before `_x_`; a trailing ".jpg" (the original's file
 * names, and the committed split lists) is accepted and dropped.
 *
 * Not for: file I/O. Thread safety: pure. Errors: parse errors name the id.
 *
 *     PatchId p;
 *     if (!patchid_parse("normal_019_normal_x_120576_y_72192_w_768_h_768.jpg", &p, &err)) ...
 *     // p.slide "normal_019", p.type "normal", p.level0_row 120576, p.level0_col 72192
 */
#ifndef ADKIT_PATCHID_H
#define ADKIT_PATCHID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define PATCHID_MAX_BYTES 256

typedef struct PatchId {
    char slide[PATCHID_MAX_BYTES]; /* slide name, e.g. "tumor_001" */
    char type[32];                 /* "normal" or "tumor" in the original's names */
    int64_t level0_row;            /* the name's X */
    int64_t level0_col;            /* the name's Y */
    int64_t width, height;         /* the name's W and H (768) */
} PatchId;

/* Formats an id (no extension) into out; false when it does not fit. */
bool patchid_format(char *out, size_t out_bytes, const char *slide, const char *type, int64_t level0_row,
                    int64_t level0_col, int64_t width, int64_t height);

/* Parses an id or file name. Fails with "bad patch id 'NAME': why". */
bool patchid_parse(const char *name, PatchId *out, Err *err);

#endif
