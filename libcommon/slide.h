/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slide: read whole-slide images (OpenSlide) as plain RGB.
 *
 * A Slide is an open whole-slide image: a pyramid of levels, level 0 being
 * full resolution. Regions are addressed by their top-left corner in the
 * level-0 frame (x = column, y = row, as OpenSlide does) and read at any
 * level into a caller-provided buffer of h * w * 3 bytes (row-major, RGB
 * interleaved, "HWC"). OpenSlide's premultiplied ARGB is converted here and
 * nowhere else, with the rule of the original pipeline (spec camelyon16.md
 * 5.1): alpha 255 keeps the bytes, alpha 0 (outside the slide) gives black,
 * a partial alpha is un-premultiplied as (c * 255 + a / 2) / a.
 *
 * Level-0 reads of generic TIFF slides (Camelyon16's format) go straight to
 * the tiles through libtiff when the layout allows it (8-bit RGB, lossless
 * or JPEG): the pixels are OpenSlide's exactly (tested against it),
 * without OpenSlide's ARGB compositing, which costs several times the
 * decoding. slide_set_direct_reads turns this off.
 *
 * Not for: writing slides, associated images, properties, or the tissue
 * logic (see tissue.h). Only what the Camelyon16 preprocessing needs.
 *
 * Thread safety: after slide_open returns, any number of threads may call
 * the const getters and slide_read_rgb on the same Slide at once (OpenSlide
 * reads are thread-safe; each call uses its own scratch memory). slide_close
 * must not race with anything.
 * Errors: OpenSlide's error is sticky: after one failed read every later
 * read of the same Slide through OpenSlide fails with the same message; a
 * failed direct tile read fails that call only. Messages name the slide's
 * path.
 * Ownership: the caller owns the Slide and closes it; slide_path returns a
 * borrowed string valid until slide_close.
 *
 *     Err err = {0};
 *     Slide *s = slide_open("tumor_001.tif", &err);
 *     if (!s || !slide_require_level(s, 8, &err)) return cli_report(&err);
 *     int64_t w8 = slide_width(s, 0) / 256, h8 = slide_height(s, 0) / 256;
 *     uint8_t *l8 = xmalloc_array((size_t)(w8 * h8), 3, &err);
 *     if (!l8 || !slide_read_rgb(s, 8, 0, 0, w8, h8, l8, &err)) ...
 *     slide_close(s);
 */
#ifndef ADKIT_SLIDE_H
#define ADKIT_SLIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct Slide Slide;

/* Opens a slide. A missing file gives "PATH: No such file or directory",
 * a file OpenSlide does not recognise "PATH: not a slide OpenSlide can
 * read (...)", and a recognised but broken one OpenSlide's own message.
 * Returns NULL on failure. */
Slide *slide_open(const char *path, Err *err);

/* Closes and frees. NULL does nothing. */
void slide_close(Slide *slide);

/* The path given to slide_open. Borrowed. */
const char *slide_path(const Slide *slide);

/* Number of pyramid levels (>= 1). */
int slide_level_count(const Slide *slide);

/* Width / height in pixels of a level; 0 for a level that does not exist. */
int64_t slide_width(const Slide *slide, int level);
int64_t slide_height(const Slide *slide, int level);

/* Downsample of a level relative to level 0 (1.0 for level 0); 0 for a
 * level that does not exist. */
double slide_downsample(const Slide *slide, int level);

/* Fails with "PATH: has N levels, level L is needed" unless the level
 * exists. */
bool slide_require_level(const Slide *slide, int level, Err *err);

/* Reads a w x h region of `level` whose top-left corner is (level0_x,
 * level0_y) in the level-0 frame into rgb_hwc (h * w * 3 bytes, caller
 * owned). Parts outside the level are black. Large requests are read in
 * row bands so scratch memory stays bounded (a few MiB per call). Fails
 * for a missing level, negative sizes, or an OpenSlide read error (its
 * message, prefixed with the path); the buffer is then zeroed. */
bool slide_read_rgb(Slide *slide, int level, int64_t level0_x, int64_t level0_y, int64_t w, int64_t h,
                    uint8_t *rgb_hwc, Err *err);

/* As slide_read_rgb, but writes planar RGB (3 planes of h * w bytes: all R,
 * then all G, then all B; the tensor stream's (C, H, W) image layout). */
bool slide_read_planar(Slide *slide, int level, int64_t level0_x, int64_t level0_y, int64_t w, int64_t h,
                       uint8_t *rgb_chw, Err *err);

/* Turns direct level-0 tile reads on (the default where available) or off
 * (every read through OpenSlide). Returns whether they are now in use. Call
 * before reading, not concurrently with reads. */
bool slide_set_direct_reads(Slide *slide, bool enable);

/* Converts n premultiplied ARGB pixels (native-endian 0xAARRGGBB, as
 * OpenSlide returns them) to RGB with the alpha rule above. Exposed for
 * tests. */
void slide_argb_to_rgb(uint8_t *rgb, const uint32_t *argb, int64_t n);

/* Writes the slide name of a path into out (capacity out_bytes): the base
 * name without its last extension ("/d/tumor_001.tif" -> "tumor_001").
 * Returns false when it does not fit or is empty. */
bool slide_name_from_path(const char *path, char *out, size_t out_bytes);

#endif
