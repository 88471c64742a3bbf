/* SPDX-License-Identifier: Apache-2.0 */
/*
 * imgsrc: image files to stream records, for img2stream and ad-import.
 *
 * An ImgSrcList is the ordered list of image files to convert. It is filled
 * from file arguments, folders (the image files directly in them, sorted by
 * name, byte order), class folders (one sub-folder per class) and lists of
 * paths (one per line, optionally "PATH<TAB>LABEL"). imgsrc_convert decodes
 * the files in parallel and writes one record per file in list order:
 * u8/u16 (C, H, W) with metadata `id` (the file name without folder and
 * extension), `source` (the path), `label` and `class_name` when known, and
 * `index` (position in the list) when asked for.
 *
 * Failures: by default the first unreadable file stops the writing (the
 * caller then aborts its writer, so a file output never appears) but every
 * remaining file is still decoded so that all bad files are reported at
 * once; with skip_bad the good files are written and the bad ones reported.
 * Each bad file is passed to the on_bad callback ("path: what is wrong"),
 * in list order, from the calling thread.
 *
 * Not for: data sets in their own formats (dsload.h).
 * Thread safety: a list belongs to one thread; imgsrc_convert runs its own
 * OpenMP threads and its results do not depend on their number.
 *
 *     ImgSrcList list;
 *     imgsrc_init(&list);
 *     bool ok = imgsrc_add(&list, "images/", &err);
 *     ImgSrcOptions o = {.jobs = 4, .on_bad = report, .ctx = NULL};
 *     TStreamWriter *w = ok ? tstream_create("-", &err) : NULL;
 *     ok = w && imgsrc_convert(&list, &o, w, NULL, &err) && tstream_writer_commit(w, &err);
 *     imgsrc_fini(&list);
 */
#ifndef ADKIT_IMGSRC_H
#define ADKIT_IMGSRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "progress.h"
#include "tstream.h"

typedef struct ImgSrcItem {
    char *path;       /* owned */
    char *class_name; /* owned; NULL when not from a class folder */
    int64_t label;    /* valid when has_label */
    bool has_label;
} ImgSrcItem;

typedef struct ImgSrcList {
    ImgSrcItem *items; /* count items, owned */
    size_t count, cap;
} ImgSrcList;

void imgsrc_init(ImgSrcList *list);
void imgsrc_fini(ImgSrcList *list);

/* Appends one path. A folder adds the image files directly inside it
 * (extensions .png .jpg .jpeg .tif .tiff .bmp, any case; names starting
 * with '.' skipped), sorted by name; an empty folder is an error. Any other
 * path is added as given (and checked when decoded). */
bool imgsrc_add(ImgSrcList *list, const char *path, Err *err);

/* Appends the paths listed in fp, one per line ("PATH" or "PATH<TAB>LABEL"
 * with an integer label); empty lines are skipped; root (may be NULL) is
 * put in front of relative paths with a '/'. name is used in messages
 * ("list.txt:3: bad label 'x'"). */
bool imgsrc_add_list(ImgSrcList *list, FILE *fp, const char *name, const char *root, Err *err);

/* Appends a folder of class sub-folders: each sub-folder (sorted by name;
 * hidden ones skipped) is a class whose images are added as by imgsrc_add,
 * with class_name = the sub-folder's name and label = its number. Labels:
 * when every sub-folder name is a decimal integer, that integer; otherwise
 * the classes are numbered from 0 in sorted order, except that a class named
 * "normal" is always first, so that label 0 means normal as in the rest of
 * the toolkit. A folder without sub-folders is added as by imgsrc_add and
 * *had_classes is set to false. */
bool imgsrc_add_classes(ImgSrcList *list, const char *dir, bool *had_classes, Err *err);

/* Called for each file that cannot be read; err holds "path: problem". */
typedef void (*ImgSrcBadFn)(void *ctx, const Err *err);

typedef struct ImgSrcOptions {
    int channels;       /* 0: as stored; 1: grey (Pillow's convert('L')); 3: RGB */
    bool to_8bit;       /* 16-bit samples become 8-bit (imgconv_to_8bit) */
    bool has_label;     /* give every record `label` = label, unless its item has one */
    int64_t label;
    bool with_index;    /* add `index` = position in the list */
    bool skip_bad;      /* write the good files and go on (see above) */
    int jobs;           /* decoding threads; < 1 means 1 */
    Progress *progress; /* may be NULL */
    ImgSrcBadFn on_bad; /* may be NULL */
    void *ctx;          /* passed to on_bad */
} ImgSrcOptions;

/* Decodes every item and writes its record to out, in list order. *bad
 * (may be NULL) receives the number of unreadable files. Returns false when
 * writing failed, or when a file was bad and skip_bad is off ("3 of 120
 * images could not be read"); the caller must then abort out. */
bool imgsrc_convert(const ImgSrcList *list, const ImgSrcOptions *opt, TStreamWriter *out, size_t *bad, Err *err);

/* The record id for a path: the file name without folder and extension
 * ("a/b/cat.01.png" -> "cat.01"). Writes at most n bytes including the NUL. */
void imgsrc_id_from_path(const char *path, char *id, size_t n);

#endif
