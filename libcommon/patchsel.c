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

bool patchsel_select(Slide *slide, const char *name, const Annotations *ann, const PatchSelOptions *opt,
                     PatchList *list, Err *err)
{
    memset(list, 0, sizeof *list);
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
    bool ok = cells && slide_read_rgb(slide, opt->level, 0, 0, w, h, rgb, err) &&
              tissue_mask_from_rgb(mask, rgb, w, h, &found, err) && tissue_cell_mask(cells, mask, w, h, err);
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
    size_t n = (size_t)(patch_px * patch_px);
    uint8_t *hwc = xmalloc_array(n, 3, err);
    if (!hwc)
        return false;
    bool ok = slide_read_rgb(slide, 0, p->level0_col, p->level0_row, patch_px, patch_px, hwc, err);
    if (ok)
        for (size_t i = 0; i < n; i++) {
            chw[i] = hwc[3 * i];
            chw[n + i] = hwc[3 * i + 1];
            chw[2 * n + i] = hwc[3 * i + 2];
        }
    else
        memset(chw, 0, 3 * n);
    free(hwc);
    return ok;
}
