/* SPDX-License-Identifier: Apache-2.0 */
/* dpa_losses: a DPA configuration's losses per resolution (see dpa_losses.h). */
#include "dpa_losses.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nn_backend.h"

#define MEAN_VAR_FILE "vgg19_ILSVRC2012_object_detection_mean_var.pt"

static const char *weights_file_name(const char *kind)
{
    return strcmp(kind, "vgg19-normalised") == 0 ? "vgg19-normalised-conv3_1.pth" : "vgg19-dcbb9e9d.pth";
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

bool dpa_weights_find(const char *vgg_kind, const char *where, char *path, size_t bytes, Err *err)
{
    const char *name = weights_file_name(vgg_kind);
    if (where) {
        if (!is_dir(where)) {
            if (!is_file(where))
                return err_set(err, "%s: no such weights file or folder", where);
            snprintf(path, bytes, "%s", where);
            return true;
        }
        snprintf(path, bytes, "%s/%s", where, name);
        if (is_file(path))
            return true;
        return err_set(err, "%s: no %s in this folder", where, name);
    }
    const char *env = getenv("ADKIT_WEIGHTS");
    const char *dirs[] = {env && *env ? env : NULL, "weights", "../shared/weights"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (!dirs[i])
            continue;
        snprintf(path, bytes, "%s/%s", dirs[i], name);
        if (is_file(path))
            return true;
    }
    return err_set(err,
                   "the perceptual network's weights %s were not found in $ADKIT_WEIGHTS%s%s%s, ./weights or "
                   "../shared/weights; put the file in ./weights (%s; see `make weights`) or pass --weights FILE",
                   name, env && *env ? " (" : "", env && *env ? env : "", env && *env ? ")" : "",
                   strcmp(vgg_kind, "vgg19-normalised") == 0
                       ? "vgg_normalised_conv3_1.pth of github.com/jkbehne/GOTStyleTranfer, models/"
                       : "torchvision's vgg19-dcbb9e9d.pth from download.pytorch.org/models/");
}

static bool perceptual(const DpaConfig *c) { return c->loss != DPA_LOSS_L1 && c->loss != DPA_LOSS_L2; }

bool dpa_losses_init(DpaLosses *L, const DpaConfig *cfg, const char *weights, Err *err)
{
    memset(L, 0, sizeof *L);
    L->cfg = *cfg;
    if (!perceptual(cfg))
        return true;
    NamedArrays w = {0}, mv = {0};
    bool ok = false;
    if (!dpa_weights_find(cfg->vgg, weights, L->source, sizeof L->source, err) || !torch_load(L->source, &w, err))
        goto done;
    if (!(L->vgg = vgg_new(nn_backend_cpu(), &w, L->source, err)))
        goto done;
    int flags = cfg->loss == DPA_LOSS_PERCEPTUAL ? 0 : NN_RELATIVE_PERCEPTUAL_L1;
    if ((flags & NN_FEATURE_NORM) && vgg_weights(L->vgg) == VGG_TORCHVISION) {
        // The statistics live beside the weights.
        char mvpath[sizeof L->source + 64];
        snprintf(mvpath, sizeof mvpath, "%s", L->source);
        char *slash = strrchr(mvpath, '/');
        snprintf(slash ? slash + 1 : mvpath, sizeof mvpath - (size_t)(slash ? slash + 1 - mvpath : 0), "%s",
                 MEAN_VAR_FILE);
        if (!torch_load(mvpath, &mv, err)) {
            err_context(err, "the relative perceptual loss needs the feature statistics beside the weights");
            goto done;
        }
    }
    for (int k = 0; (cfg->plan.initial_res << k) <= cfg->plan.max_res; k++) {
        const DpaLayers *ly = &cfg->layers[k];
        NNLossLayer layers[DPA_MAX_LAYERS];
        for (int i = 0; i < ly->count; i++) {
            if (!vgg_tap_parse(ly->names[i], &layers[i].tap)) {
                err_set(err, "unknown VGG19 layer '%s' at resolution %d", ly->names[i], cfg->plan.initial_res << k);
                goto done;
            }
            layers[i].weight = (float)ly->weights[i];
        }
        if (!nn_perceptual_init(&L->pl[k], L->vgg, &mv, layers, ly->count, 0.0f, flags, err)) {
            err_context(err, "resolution %d", cfg->plan.initial_res << k);
            goto done;
        }
        L->have[k] = true;
    }
    ok = true;
done:
    named_arrays_fini(&w);
    named_arrays_fini(&mv);
    if (!ok)
        dpa_losses_fini(L);
    return ok;
}

void dpa_losses_fini(DpaLosses *L)
{
    for (int k = 0; k < PG_MAX_LEVELS; k++)
        if (L->have[k])
            nn_perceptual_fini(&L->pl[k]);
    vgg_free(L->vgg);
    memset(L, 0, sizeof *L);
}

static NNVar *pixel_map(NNGraph *g, NNVar *real, NNVar *rec, bool l1)
{
    NNVar *d = nn_sub(g, real, rec);
    return nn_mean_channels(g, l1 ? nn_abs(g, d) : nn_square(g, d));
}

NNVar *dpa_losses_at(NNGraph *g, const DpaLosses *L, int level, NNVar *real, NNVar *rec, NNReduction red)
{
    const DpaConfig *c = &L->cfg;
    bool map = red == NN_REDUCE_PIXELWISE;
    switch (c->loss) {
    case DPA_LOSS_L1:
        return map ? pixel_map(g, real, rec, true) : nn_l1_loss(g, real, rec, red);
    case DPA_LOSS_L2:
        return map ? pixel_map(g, real, rec, false) : nn_l2_loss(g, real, rec, red);
    case DPA_LOSS_COMPOSE:
        return nn_compose_loss(g, 1.0f, nn_perceptual_loss(g, &L->pl[level], real, rec, red),
                               (float)c->compose_l1_weight,
                               map ? pixel_map(g, real, rec, true) : nn_l1_loss(g, real, rec, red));
    default:
        return nn_perceptual_loss(g, &L->pl[level], real, rec, red);
    }
}

NNVar *dpa_losses_stage(NNGraph *g, const DpaLosses *L, PgStage stage, int res, double progress, NNVar *real,
                        NNVar *rec)
{
    const DpaConfig *c = &L->cfg;
    int k = dpa_config_level(c, res);
    NNVar *high = dpa_losses_at(g, L, k, real, rec, NN_REDUCE_MEAN);
    if (!(c->use_smooth_pg && stage == PG_TRNS && progress < 1.0 && k > 0))
        return high;
    NNVar *low = dpa_losses_at(g, L, k - 1, nn_downscale_bilinear(g, real, 2), nn_downscale_bilinear(g, rec, 2),
                               NN_REDUCE_MEAN);
    // Python float factors become float32 inside the kernels (spec 11.1).
    return nn_axpby(g, (float)(1.0 - progress), low, (float)progress, high);
}

NNVar *dpa_losses_final(NNGraph *g, const DpaLosses *L, NNVar *real, NNVar *rec, NNReduction red)
{
    return dpa_losses_at(g, L, dpa_config_level(&L->cfg, L->cfg.plan.max_res), real, rec, red);
}
