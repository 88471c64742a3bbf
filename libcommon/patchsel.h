/* SPDX-License-Identifier: Apache-2.0 */
/*
 * patchsel: which patches of one slide the Camelyon16 preprocessing takes
 * (scripts 3 and 4 of the original, spec camelyon16.md 5 and 6), and
 * reading them.
 *
 * The model: the slide is read whole at the mask level L (8 in the paper),
 * in floor(W / 2^L) x floor(H / 2^L) pixels; the tissue and cell masks of
 * tissue.h give candidate cells (3 x 3 mask pixels = one patch of
 * 3 * 2^L level-0 pixels, 768 at L = 8); for tumour patches the cell must
 * also be a tumour cell of the annotation's label mask (labelmask.h); at
 * most max_patches cells are drawn with cellsample.h. A patch is read at
 * level 0 as planar RGB (3, P, P).
 *
 * Memory: the mask-level image and masks (below a few MB for Camelyon16),
 * plus, for tumour slides, the label grid of labelmask.h (at most ~84 MB);
 * never anything of level-0 size.
 * Not for: writing streams or names (the tool does that; see patchid.h).
 * Thread safety: patchsel_select uses OpenMP inside; patchsel_read may be
 * called from several threads at once on the same Slide.
 * Errors: messages start with the slide's or the annotation file's path.
 *
 *     PatchSelOptions o = patchsel_defaults();        // level 8, 50 patches
 *     PatchList list = {0};
 *     if (!patchsel_select(slide, "tumor_001", &ann, &o, &list, &err)) ...
 *     uint8_t *chw = malloc(3 * list.patch_px * list.patch_px);
 *     for (size_t i = 0; i < list.count; i++)
 *         patchsel_read(slide, &list.patches[i], list.patch_px, chw, &err);
 *     patchlist_fini(&list);
 */
#ifndef ADKIT_PATCHSEL_H
#define ADKIT_PATCHSEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "annotation.h"
#include "err.h"
#include "labelmask.h"
#include "slide.h"

typedef struct PatchSelOptions {
    int level;             /* mask level L (default 8) */
    int64_t max_patches;   /* at most this many per slide (default 50) */
    uint64_t seed;         /* with the slide name, seeds the choice */
    LabelFilter filter;    /* label mask reduction (default bicubic) */
} PatchSelOptions;

/* The paper's settings. */
PatchSelOptions patchsel_defaults(void);

typedef struct Patch {
    int64_t level0_col; /* x of the top-left corner, level-0 frame */
    int64_t level0_row; /* y of the top-left corner */
} Patch;

typedef struct PatchList {
    Patch *patches;     /* [count], raster order, owned */
    size_t count;
    int64_t patch_px;   /* side in level-0 pixels: 3 * 2^level */
    int64_t candidates; /* cells that qualified before sampling */
    bool uniform;       /* the mask-level image was uniform (no tissue) */
} PatchList;

/* The masks behind a selection, for inspection (all h x w at the mask
 * level, row-major, one byte per pixel, owned; free with patchsel_masks_fini). */
typedef struct PatchSelMasks {
    int64_t w, h;
    uint8_t *tissue; /* Otsu tissue mask: 255 tissue, 0 not */
    uint8_t *cells;  /* kept cells re-expanded to 3x3 pixels: 255 kept (tissue, and tumour if annotated) */
    uint8_t *labels; /* annotation label mask (0, 127 tumour, 255 exclusion), as the original's script 2
                      * writes it; NULL without annotations */
} PatchSelMasks;

/* Frees the masks; they may be used again. */
void patchsel_masks_fini(PatchSelMasks *m);

/* Selects the patches of one slide. ann == NULL selects normal patches
 * (tissue cells); otherwise tumour patches (tissue and tumour cells); the
 * annotation must lie inside the slide. name seeds the choice (the slide
 * name, e.g. "tumor_001"). A slide whose mask-level image is uniform or
 * has no qualifying cell gives an empty list (not an error). Fails for a
 * slide without the level, one smaller than a mask pixel, an annotation
 * vertex outside the slide, read errors, or allocation. */
bool patchsel_select(Slide *slide, const char *name, const Annotations *ann, const PatchSelOptions *opt,
                     PatchList *list, Err *err);

/* As patchsel_select, and fills masks (when not NULL) on success. */
bool patchsel_select_masks(Slide *slide, const char *name, const Annotations *ann, const PatchSelOptions *opt,
                           PatchList *list, PatchSelMasks *masks, Err *err);

/* Reads one patch of patch_px x patch_px level-0 pixels as planar RGB
 * (3 * patch_px * patch_px bytes at chw, caller owned). */
bool patchsel_read(Slide *slide, const Patch *p, int64_t patch_px, uint8_t *chw, Err *err);

/* Frees the list; it may be used again. */
void patchlist_fini(PatchList *list);

#endif
