/* SPDX-License-Identifier: Apache-2.0 */
/* dpa_config: keys of a DPA experiment and their checks (see dpa_config.h). */
#include "dpa_config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const ConfigKey dpa_schema[] = {
    {"model", CONFIG_STRING, "dpa", "the model: dpa"},
    {"dataset", CONFIG_STRING, NULL, "camelyon16, nih, cifar10, svhn, fashion-mnist (informational)"},
    {"experiment", CONFIG_STRING, NULL, "the paper's experiment name, e.g. wo_pg (informational)"},
    {"image_dim", CONFIG_INT, "3", "image channels: 1 grey, 3 RGB"},
    {"max_image_res", CONFIG_INT, "64", "image side at the final stage"},
    {"initial_image_res", CONFIG_INT, NULL, "first progressive-growing resolution (default: max_image_res)"},
    {"latent_res", CONFIG_INT, "1", "side of the latent code"},
    {"latent_dim", CONFIG_INT, NULL, "channels of the latent code"},
    {"enc_type", CONFIG_STRING, "residual18", "encoder family: residual18, residual9, regular"},
    {"dec_type", CONFIG_STRING, "residual18", "decoder family: residual18, residual9, regular"},
    {"enc_inner_dims", CONFIG_INT_LIST, NULL, "encoder channels, high to low resolution (read from the end)"},
    {"dec_inner_dims", CONFIG_INT_LIST, NULL, "decoder channels, low to high resolution (read from the start)"},
    {"norm", CONFIG_STRING, "none", "normalisation in the networks' blocks: none, bn, in, pixel"},
    {"pad_type", CONFIG_STRING, "zero", "padding of the 3x3 convs: zero or reflect"},
    {"pool", CONFIG_STRING, "avg", "regular encoder: pooling after each block, avg or max"},
    {"upsample_mode", CONFIG_STRING, "nearest",
     "regular decoder blocks and every decoder transition: nearest or bilinear"},
    {"use_wscale", CONFIG_BOOL, "false", "regular networks: equalised learning rate (WScale)"},
    {"use_mbstddev", CONFIG_BOOL, "false", "regular encoder: minibatch standard deviation before the last block"},
    {"normalize_latents", CONFIG_BOOL, "false", "regular decoder: pixel-normalise the code"},
    {"loss", CONFIG_STRING, "relative_perceptual_L1", "l1, l2, perceptual, relative_perceptual_L1, compose"},
    {"layers", CONFIG_STRING_LIST, "r42", "VGG19 taps of the perceptual loss (all resolutions)"},
    {"layers.*", CONFIG_STRING_LIST, NULL, "VGG19 taps at one resolution, e.g. layers.32 = r32"},
    {"layer_weights", CONFIG_STRING_LIST, NULL, "weights of the taps (default 1 each)"},
    {"layer_weights.*", CONFIG_STRING_LIST, NULL, "weights of the taps at one resolution"},
    {"compose_l1_weight", CONFIG_DOUBLE, "1", "weight of L1 in the compose loss"},
    {"adv_weight", CONFIG_DOUBLE, "0",
     "weight of the image adversarial (WGAN-GP) term in the training loss; 0: no discriminator"},
    {"n_dis", CONFIG_INT, "0", "discriminator steps per iteration, each on a fresh batch (adversarial ablations: 2)"},
    {"ddis_type", CONFIG_STRING, NULL, "discriminator family: residual18, residual9 (default: enc_type)"},
    {"ddis_inner_dims", CONFIG_INT_LIST, NULL,
     "discriminator channels, high to low resolution, read from the end (default: enc_inner_dims)"},
    {"wgan_lambd", CONFIG_DOUBLE, "1", "weight of the wasserstein term in the discriminator loss"},
    {"wgan_gradient_penalty", CONFIG_DOUBLE, "10", "weight of the gradient penalty in the discriminator loss"},
    {"wgan_norm_penalty", CONFIG_DOUBLE, "0.001",
     "weight of mean D(real)^2 + mean D(fake)^2 in the discriminator loss"},
    {"wgan_gamma", CONFIG_DOUBLE, "1", "target norm of the discriminator's input gradient"},
    {"use_smooth_pg", CONFIG_BOOL, "false", "blend the losses of two resolutions during transitions"},
    {"lr", CONFIG_DOUBLE, "0.001", "Adam learning rate (betas 0.9, 0.999; eps 1e-8)"},
    {"batch_size", CONFIG_INT, "128", "images per step (all resolutions)"},
    {"batch_size.*", CONFIG_INT, NULL, "images per step at one resolution"},
    {"stab_iters", CONFIG_INT, NULL, "iterations of every stab stage"},
    {"stab_iters.*", CONFIG_INT, NULL, "iterations of the stab stage at one resolution"},
    {"trns_iters", CONFIG_INT, NULL, "iterations of every trns stage"},
    {"trns_iters.*", CONFIG_INT, NULL, "iterations of the trns stage at one resolution"},
    {"seed", CONFIG_INT, "0", "random seed of initialisation, shuffling and augmentation"},
    {"crop", CONFIG_STRING, "none", "training crop: none, center, random"},
    {"crop_size", CONFIG_INT, "0", "side of the training crop"},
    {"flip", CONFIG_BOOL, "false", "random horizontal and vertical flips in training"},
    {"center_crop", CONFIG_INT, "0", "centre crop before resizing (NIH: 224 or 300); 0 for none"},
    {"resize", CONFIG_INT, "0", "resize to this side after cropping (Pillow bilinear); 0 for none"},
    {"pad", CONFIG_INT, "0", "zero pixels added on every side last (Fashion-MNIST 28 -> 32: 2); 0 for none"},
    {"equalize", CONFIG_BOOL, "false", "histogram equalisation (ImageOps.equalize)"},
    {"grey", CONFIG_BOOL, "false", "convert images to grey"},
    {"cache_data", CONFIG_BOOL, "false", "transform each training image once and reuse it"},
    {"test_batch_size", CONFIG_INT, "32", "images per scoring batch"},
    {"vgg", CONFIG_STRING, "vgg19", "perceptual network: vgg19 (torchvision) or vgg19-normalised"},
    {"checkpoint_every", CONFIG_INT, "1000", "iterations between checkpoints"},
    {"sample_every", CONFIG_INT, "1000", "iterations between reconstruction grids"},
    {"log_every", CONFIG_INT, "10", "iterations between loss log lines"},
    {"precise_conv", CONFIG_BOOL, "false", "no Winograd convolutions: ~5x smaller rounding errors, slower"},
    {0},
};

static const char *const loss_names[DPA_LOSS_COUNT] = {"l1", "l2", "perceptual", "relative_perceptual_L1",
                                                       "compose"};
_Static_assert(sizeof loss_names / sizeof loss_names[0] == DPA_LOSS_COUNT, "loss names");

const char *dpa_loss_name(DpaLoss l) { return l >= 0 && l < DPA_LOSS_COUNT ? loss_names[l] : "?"; }

int dpa_config_level(const DpaConfig *dc, int res)
{
    int k = 0;
    while ((dc->plan.initial_res << k) < res)
        k++;
    return k;
}

// The value of key.<res> if set, else key, else NULL.
static const char *per_res(const Config *c, const char *key, int res, char *name, size_t n)
{
    snprintf(name, n, "%s.%d", key, res);
    if (config_get(c, name))
        return config_get(c, name);
    snprintf(name, n, "%s", key);
    return config_get(c, key);
}

static bool parse_layers(const Config *c, int res, DpaLayers *out, Err *err)
{
    char key[64], wkey[64];
    const char *v = per_res(c, "layers", res, key, sizeof key);
    const char *w = per_res(c, "layer_weights", res, wkey, sizeof wkey);
    memset(out, 0, sizeof *out);
    for (const char *p = v; p && *p;) {
        size_t len = strcspn(p, ", ");
        if (len) {
            if (out->count == DPA_MAX_LAYERS || len >= sizeof out->names[0])
                return err_set(err, "%s: %s lists too many or too long taps", config_origin(c, key), key);
            memcpy(out->names[out->count], p, len);
            out->names[out->count][len] = 0;
            out->weights[out->count] = 1.0;
            out->count++;
        }
        p += len;
        while (*p == ',' || *p == ' ')
            p++;
    }
    int nw = 0;
    for (const char *p = w; p && *p;) {
        size_t len = strcspn(p, ", ");
        if (len) {
            char num[32];
            double x;
            if (nw >= out->count || len >= sizeof num)
                return err_set(err, "%s: %s has more weights than taps", config_origin(c, wkey), wkey);
            memcpy(num, p, len);
            num[len] = 0;
            if (!config_parse_double(num, &x))
                return err_set(err, "%s: %s: '%s' is not a number", config_origin(c, wkey), wkey, num);
            out->weights[nw++] = x;
        }
        p += len;
        while (*p == ',' || *p == ' ')
            p++;
    }
    if (w && nw != out->count)
        return err_set(err, "%s: %s gives %d weights for %d taps", config_origin(c, wkey), wkey, nw, out->count);
    return true;
}

static bool get_int_res(const Config *c, const char *key, int res, int64_t *out, bool required, Err *err)
{
    char name[64];
    const char *v = per_res(c, key, res, name, sizeof name);
    if (!v) {
        if (required)
            return err_set(err, "configuration needs %s.%d or %s", key, res, key);
        *out = 0;
        return true;
    }
    return config_get_int(c, name, out, err);
}

static bool get_finite(const Config *c, const char *key, double min, double *out, Err *err)
{
    if (!config_get_double(c, key, out, err))
        return false;
    if (!isfinite(*out) || *out < min)
        return err_set(err, "%s: %s = %g: must be a finite number of at least %g", config_origin(c, key), key, *out,
                       min);
    return true;
}

// The adversarial keys (spec 5.7, 6.2). The discriminator is an encoder of
// the images with output_res 1, output_dim 1 (6.1 step 3).
static bool adversarial_from(const Config *c, DpaConfig *dc, Err *err)
{
    int64_t v;
    DpaWgan *w = &dc->wgan;
    if (!get_finite(c, "adv_weight", 0, &dc->adv_weight, err) || !config_get_int(c, "n_dis", &v, err))
        return false;
    if (v < 0 || v > DPA_MAX_N_DIS)
        return err_set(err, "%s: n_dis = %lld: must be 0..%d", config_origin(c, "n_dis"), (long long)v,
                       DPA_MAX_N_DIS);
    dc->n_dis = (int)v;
    if (!get_finite(c, "wgan_lambd", -HUGE_VAL, &w->lambd, err) ||
        !get_finite(c, "wgan_gradient_penalty", 0, &w->gradient_penalty, err) ||
        !get_finite(c, "wgan_norm_penalty", 0, &w->norm_penalty, err) ||
        !get_finite(c, "wgan_gamma", 0, &w->gamma, err))
        return false;
    if (w->gamma == 0)
        return err_set(err, "%s: wgan_gamma must be positive", config_origin(c, "wgan_gamma"));
    if (dc->adv_weight == 0)
        return true;
    DpaArch *d = &dc->ddis;
    *d = dc->arch;
    d->latent_res = 1;
    d->latent_dim = 1;
    const char *type = config_get(c, "ddis_type");
    if (type && !dpa_net_type_parse(type, &d->enc_type))
        return err_set(err, "%s: unknown ddis_type '%s' (residual18, residual9)", config_origin(c, "ddis_type"), type);
    d->dec_type = d->enc_type;
    if (config_get(c, "ddis_inner_dims") &&
        !config_get_int_list(c, "ddis_inner_dims", d->enc_dims, DPA_MAX_DIMS, &d->n_enc, err))
        return false;
    // The discriminator has no decoder; its dims stand in so that the
    // architecture checks apply to the encoder alone.
    memcpy(d->dec_dims, d->enc_dims, sizeof d->dec_dims);
    d->n_dec = d->n_enc;
    const char *dims = config_get(c, "ddis_inner_dims") ? "ddis_inner_dims" : "enc_inner_dims";
    for (int r = 4; r <= d->max_res; r *= 2)
        if (dpa_enc_channels(d, r) < 1)
            return err_set(err, "%s: %s has %d entries: the discriminator needs one per resolution 4..%d",
                           config_origin(c, dims) ? config_origin(c, dims) : "configuration", dims, d->n_enc,
                           d->max_res);
    Err e = {0};
    if (!dpa_arch_check(d, &e))
        return err_set(err, "the discriminator: %s", e.msg);
    return true;
}

// norm, pad_type, pool, upsample_mode and the switches of spec 3.3.
static bool parse_block_options(const Config *c, DpaArch *a, Err *err)
{
    const char *v;
    if (!dpa_norm_parse(v = config_get(c, "norm"), &a->norm))
        return err_set(err, "%s: norm must be none, bn, in or pixel, not '%s'", config_origin(c, "norm"), v);
    if (!dpa_pad_type_parse(v = config_get(c, "pad_type"), &a->pad_type))
        return err_set(err, "%s: pad_type must be zero or reflect, not '%s'", config_origin(c, "pad_type"), v);
    if (!dpa_pool_parse(v = config_get(c, "pool"), &a->pool))
        return err_set(err, "%s: pool must be avg or max, not '%s'", config_origin(c, "pool"), v);
    if (!dpa_upsample_parse(v = config_get(c, "upsample_mode"), &a->upsample))
        return err_set(err, "%s: upsample_mode must be nearest or bilinear, not '%s'",
                       config_origin(c, "upsample_mode"), v);
    if (!config_get_bool(c, "use_wscale", &a->use_wscale, err) ||
        !config_get_bool(c, "use_mbstddev", &a->use_mbstddev, err) ||
        !config_get_bool(c, "normalize_latents", &a->normalize_latents, err))
        return false;
    return true;
}

bool dpa_config_from(Config *c, DpaConfig *dc, Err *err)
{
    memset(dc, 0, sizeof *dc);
    if (!config_apply_defaults(c, dpa_schema, err) || !config_validate(c, dpa_schema, err))
        return false;
    const char *model = config_get(c, "model");
    if (strcmp(model, "dpa") != 0)
        return err_set(err, "%s: model = '%s': this configuration is not for dpa", config_origin(c, "model"), model);
    int64_t v;
    DpaArch *a = &dc->arch;
#define GET_INT(key, dst)                                                                                         \
    do {                                                                                                          \
        if (!config_get_int(c, key, &v, err))                                                                     \
            return false;                                                                                         \
        dst = (int)v;                                                                                             \
    } while (0)
    GET_INT("image_dim", a->image_dim);
    GET_INT("max_image_res", a->max_res);
    GET_INT("latent_res", a->latent_res);
    GET_INT("latent_dim", a->latent_dim);
    if (!dpa_net_type_parse(config_get(c, "enc_type"), &a->enc_type))
        return err_set(err, "%s: unknown enc_type '%s'", config_origin(c, "enc_type"), config_get(c, "enc_type"));
    if (!dpa_net_type_parse(config_get(c, "dec_type"), &a->dec_type))
        return err_set(err, "%s: unknown dec_type '%s'", config_origin(c, "dec_type"), config_get(c, "dec_type"));
    if (!parse_block_options(c, a, err))
        return false;
    if (!config_get_int_list(c, "enc_inner_dims", a->enc_dims, DPA_MAX_DIMS, &a->n_enc, err) ||
        !config_get_int_list(c, "dec_inner_dims", a->dec_dims, DPA_MAX_DIMS, &a->n_dec, err))
        return false;
    if (!dpa_arch_check(a, err))
        return false;

    dc->plan.max_res = a->max_res;
    dc->plan.initial_res = a->max_res;
    if (config_get(c, "initial_image_res"))
        GET_INT("initial_image_res", dc->plan.initial_res);
    if (dc->plan.initial_res < dpa_last_res(a) && dc->plan.initial_res != a->max_res)
        return err_set(err, "initial_image_res %d is below the latent resolution %d", dc->plan.initial_res,
                       dpa_last_res(a));
    for (int k = 0; (dc->plan.initial_res << k) <= a->max_res; k++) {
        int res = dc->plan.initial_res << k;
        if (k >= PG_MAX_LEVELS)
            return err_set(err, "too many resolution levels");
        if (!get_int_res(c, "stab_iters", res, &dc->plan.iters[k][PG_STAB], true, err) ||
            (k > 0 && !get_int_res(c, "trns_iters", res, &dc->plan.iters[k][PG_TRNS], true, err)) ||
            !get_int_res(c, "batch_size", res, &dc->batch_size[k], true, err) ||
            !parse_layers(c, res, &dc->layers[k], err))
            return false;
        if (dc->batch_size[k] < 1)
            return err_set(err, "batch size at resolution %d must be positive", res);
    }
    PgSchedule probe;
    if (!pg_init(&probe, &dc->plan, err))
        return false;

    const char *loss = config_get(c, "loss");
    int l;
    for (l = 0; l < DPA_LOSS_COUNT && strcmp(loss, loss_names[l]) != 0; l++)
        ;
    if (l == DPA_LOSS_COUNT)
        return err_set(err, "%s: unknown loss '%s' (l1, l2, perceptual, relative_perceptual_L1, compose)",
                       config_origin(c, "loss"), loss);
    dc->loss = (DpaLoss)l;
    if (!config_get_double(c, "compose_l1_weight", &dc->compose_l1_weight, err) ||
        !config_get_bool(c, "use_smooth_pg", &dc->use_smooth_pg, err) || !config_get_double(c, "lr", &dc->lr, err))
        return false;
    if (dc->lr <= 0)
        return err_set(err, "%s: lr must be positive", config_origin(c, "lr"));
    if (!adversarial_from(c, dc, err))
        return false;
    if (!config_get_int(c, "seed", &v, err))
        return false;
    dc->seed = (uint64_t)v;
    const char *crop = config_get(c, "crop");
    if (!strcmp(crop, "none"))
        dc->crop = DPA_CROP_NONE;
    else if (!strcmp(crop, "center"))
        dc->crop = DPA_CROP_CENTER;
    else if (!strcmp(crop, "random"))
        dc->crop = DPA_CROP_RANDOM;
    else
        return err_set(err, "%s: crop must be none, center or random, not '%s'", config_origin(c, "crop"), crop);
    GET_INT("crop_size", dc->crop_size);
    GET_INT("center_crop", dc->center_crop);
    GET_INT("resize", dc->resize);
    GET_INT("pad", dc->pad);
    GET_INT("test_batch_size", dc->test_batch_size);
    if (dc->crop != DPA_CROP_NONE && dc->crop_size <= 0)
        return err_set(err, "crop = %s needs crop_size", crop);
    if (!config_get_bool(c, "flip", &dc->flip, err) || !config_get_bool(c, "equalize", &dc->equalize, err) ||
        !config_get_bool(c, "grey", &dc->grey, err) || !config_get_bool(c, "cache_data", &dc->cache_data, err))
        return false;
    dc->vgg = config_get(c, "vgg");
    if (strcmp(dc->vgg, "vgg19") != 0 && strcmp(dc->vgg, "vgg19-normalised") != 0)
        return err_set(err, "%s: vgg must be vgg19 or vgg19-normalised, not '%s'", config_origin(c, "vgg"), dc->vgg);
    if (!config_get_int(c, "checkpoint_every", &dc->checkpoint_every, err) ||
        !config_get_int(c, "sample_every", &dc->sample_every, err) ||
        !config_get_int(c, "log_every", &dc->log_every, err) ||
        !config_get_bool(c, "precise_conv", &dc->precise_conv, err))
        return false;
#undef GET_INT
    return true;
}
