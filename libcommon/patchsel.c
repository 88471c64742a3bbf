/* SPDX-License-Identifier: Apache-2.0 */
/* patchsel: patch selection and reading for one slide (see patchsel.h). */
#include "patchsel.h"

#include <stdlib.h>
#include <string.h>

#include "cellsample.h"
#include "tissue.h"

/* Label grid samples per mask pixel per axis (spec 4 "practical approach"). */
#define PATCHSEL_LABEL_SUBSAMPLES 16

PatchSelOptions patchsel_defaults(void)
{
    return (PatchSelOptions){.level = 8, .max_patches = 50, .seed = 0, .filter = LABELMASK_BICUBIC};
}

void patchlist_fini(PatchList *list)
{
    free(list->patches);
    memset(list, 0, sizeof *list);
}

void patchsel_masks_fini(PatchSelMasks *m)
{
    free(m->tissue);
    free(m->cells);
    free(m->labels);
    memset(m, 0, sizeof *m);
}

bool patchsel_select(Slide *slide, const char *name, const Annotations *ann, const PatchSelOptions *opt,
                     PatchList *list, Err *err)
{
    return patchsel_select_masks(slide, name, ann, opt, list, NULL, err);
}

// Fills the inspection masks from the selection's working buffers.
static bool keep_masks(PatchSelMasks *m, const uint8_t *tissue, const uint8_t *cells, const uint8_t *labels,
                       int64_t w, int64_t h, Err *err)
{
    size_t n = (size_t)(w * h);
    int64_t cw = tissue_cells(w);
    m->w = w;
    m->h = h;
    m->tissue = xmalloc_array(n, 1, err);
    m->cells = m->tissue ? xmalloc_array(n, 1, err) : NULL;
    m->labels = m->cells && labels ? xmalloc_array(n, 1, err) : NULL;
    if (!m->cells || (labels && !m->labels)) {
        patchsel_masks_fini(m);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        m->tissue[i] = tissue[i] ? 255 : 0;
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++)
            m->cells[y * w + x] = cells[(y / 3) * cw + x / 3] ? 255 : 0;
    if (labels)
        memcpy(m->labels, labels, n);
    return true;
}

bool patchsel_select_masks(Slide *slide, const char *name, const Annotations *ann, const PatchSelOptions *opt,
                           PatchList *list, PatchSelMasks *masks, Err *err)
{
    memset(list, 0, sizeof *list);
    if (masks)
        memset(masks, 0, sizeof *masks);
    if (opt->level < 0 || opt->level > 20)
        return err_set(err, "%s: bad mask level %d", slide_path(slide), opt->level);
    if (!slide_require_level(slide, opt->level, err))
        return false;
    int64_t scale = (int64_t)1 << opt->level;
    int64_t W = slide_width(slide, 0), H = slide_height(slide, 0);
    int64_t w = W / scale, h = H / scale;
    list->patch_px = 3 * scale;
    if (w < 1 || h < 1)
        return err_set(err, "%s: level %d image would be %lldx%lld pixels (slide %lldx%lld)", slide_path(slide),
                       opt->level, (long long)w, (long long)h, (long long)W, (long long)H);
    if (ann && !annotation_check_bounds(ann, W, H, err))
        return false;
    int64_t cw = tissue_cells(w), ch = tissue_cells(h), ncells = cw * ch;
    uint8_t *rgb = xmalloc_array((size_t)(w * h), 3, err);
    uint8_t *mask = rgb ? xmalloc_array((size_t)(w * h), 1, err) : NULL;
    uint8_t *cells = mask ? xmalloc_array((size_t)ncells, 1, err) : NULL;
    uint8_t *labels = NULL, *tumour = NULL;
    int64_t *chosen = NULL;
    bool found = false;
    // rgb is reused for a copy of the tissue mask once grey is computed.
    uint8_t *tissue_copy = NULL;
    bool ok = cells && slide_read_rgb(slide, opt->level, 0, 0, w, h, rgb, err) &&
              tissue_mask_from_rgb(mask, rgb, w, h, &found, err);
    if (ok && masks) {
        tissue_copy = rgb;
        memcpy(tissue_copy, mask, (size_t)(w * h));
    }
    ok = ok && tissue_cell_mask(cells, mask, w, h, err);
    if (ok && ann) {
        labels = xmalloc_array((size_t)(w * h), 1, err);
        tumour = labels ? xmalloc_array((size_t)ncells, 1, err) : NULL;
        int64_t grid = scale / PATCHSEL_LABEL_SUBSAMPLES;
        ok = tumour && labelmask_render(labels, ann, W, H, w, h, grid < 1 ? 1 : grid, opt->filter, err);
        if (ok) {
            tissue_tumour_cells(tumour, labels, w, h);
            for (int64_t i = 0; i < ncells; i++)
                cells[i] = cells[i] && tumour[i];
        }
    }
    int64_t k = 0;
    if (ok) {
        list->uniform = !found;
        for (int64_t i = 0; i < ncells; i++)
            list->candidates += cells[i];
        int64_t cap = opt->max_patches < list->candidates ? opt->max_patches : list->candidates;
        chosen = xmalloc_array((size_t)(cap > 0 ? cap : 1), sizeof *chosen, err);
        ok = chosen && (k = cellsample_choose(chosen, cells, ncells, cap, opt->seed, name, err)) >= 0;
    }
    if (ok) {
        list->patches = xmalloc_array((size_t)(k > 0 ? k : 1), sizeof *list->patches, err);
        ok = list->patches != NULL;
    }
    if (ok && masks)
        ok = keep_masks(masks, tissue_copy, cells, labels, w, h, err);
    if (ok) {
        for (int64_t i = 0; i < k; i++) {
            list->patches[i].level0_col = (chosen[i] % cw) * list->patch_px;
            list->patches[i].level0_row = (chosen[i] / cw) * list->patch_px;
        }
        list->count = (size_t)k;
    }
    free(chosen);
    free(tumour);
    free(labels);
    free(cells);
    free(mask);
    free(rgb);
    if (!ok) {
        patchlist_fini(list);
        if (err && strncmp(err->msg, slide_path(slide), strlen(slide_path(slide))) != 0 &&
            (!ann || strncmp(err->msg, ann->path, strlen(ann->path)) != 0))
            err_prefix(err, "%s", slide_path(slide));
    }
    return ok;
}

bool patchsel_read(Slide *slide, const Patch *p, int64_t patch_px, uint8_t *chw, Err *err)
{
    return slide_read_planar(slide, 0, p->level0_col, p->level0_row, patch_px, patch_px, chw, err);
}
