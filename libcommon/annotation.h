/* SPDX-License-Identifier: Apache-2.0 */
/*
 * annotation: lesion polygons from ASAP XML files (Camelyon16), as the
 * original's script 1 reads them (spec camelyon16.md 3).
 *
 * The model: an annotation file holds polygons in level-0 pixel coordinates
 * (x = column, y = row). Groups `Tumor`, `_0` and `_1` are tumour regions;
 * `_2` are exclusions (non-tumour areas cut out of tumour regions, drawn on
 * top). Every other group is ignored, as in the original; the ignored groups
 * are reported back so a tool can warn about them. Vertices are rounded half
 * to even; `Order` and `Type` attributes are ignored (every annotation is a
 * polygon), as in the original. Tumour polygons keep the original's order:
 * all `Tumor`, then `_0`, then `_1`.
 *
 * Not for: drawing masks (labelmask.h) or writing XML.
 * Thread safety: call annotation_read/annotation_parse from one thread at a
 * time (libxml2's one-time initialisation is not guarded); the results may
 * then be shared read-only.
 * Ownership: the caller owns the Annotations and calls annotation_fini.
 * Errors: a missing or malformed file, a coordinate that is not a number, or
 * (annotation_check_bounds) a vertex outside the slide gives a message that
 * starts with the file name.
 *
 *     Annotations ann;
 *     if (!annotation_read("tumor_001.xml", &ann, &err)) return cli_report(&err);
 *     for (size_t i = 0; i < ann.ignored_count; i++)
 *         cli_warn("%s: ignored group '%s'", ann.path, ann.ignored[i]);
 *     ... labelmask_render(&ann, ...) ...
 *     annotation_fini(&ann);
 */
#ifndef ADKIT_ANNOTATION_H
#define ADKIT_ANNOTATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Limits checked while reading (a hostile file cannot exhaust memory). */
#define ANNOTATION_MAX_POLYGONS 100000
#define ANNOTATION_MAX_VERTICES 10000000 /* over all polygons */
#define ANNOTATION_MAX_IGNORED 32        /* distinct ignored group names kept */

typedef enum AnnotationClass {
    ANNOTATION_TUMOUR,    /* groups Tumor, _0, _1 */
    ANNOTATION_EXCLUSION, /* group _2 */
    ANNOTATION_CLASS_COUNT
} AnnotationClass;

typedef struct Polygon {
    char *name;         /* the Name attribute ("" when absent), owned */
    AnnotationClass cls;
    size_t n;           /* number of vertices */
    int64_t *x;         /* [n] level-0 columns, owned */
    int64_t *y;         /* [n] level-0 rows, owned */
} Polygon;

typedef struct Annotations {
    char *path;            /* file read, owned (for messages) */
    Polygon *polygons;     /* [count]: tumour polygons first (Tumor, _0, _1), then exclusions */
    size_t count;
    size_t tumour_count;   /* polygons[0 .. tumour_count-1] are tumour */
    char *ignored[ANNOTATION_MAX_IGNORED]; /* distinct ignored group names, owned */
    size_t ignored_count;
    size_t ignored_polygons; /* annotations dropped because of their group */
} Annotations;

/* Reads an ASAP XML file. On failure ann is left empty (safe to fini). */
bool annotation_read(const char *path, Annotations *ann, Err *err);

/* Parses XML held in memory; name is used in messages. */
bool annotation_parse(const char *xml, size_t bytes, const char *name, Annotations *ann, Err *err);

/* Fails with "FILE: annotation 'NAME' vertex (x, y) lies outside the slide
 * (W x H)" when a vertex is outside [0, W] x [0, H]. */
bool annotation_check_bounds(const Annotations *ann, int64_t width, int64_t height, Err *err);

/* Frees everything; ann may be initialised again. */
void annotation_fini(Annotations *ann);

#endif
