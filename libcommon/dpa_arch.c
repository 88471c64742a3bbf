/* SPDX-License-Identifier: Apache-2.0 */
/* dpa_arch: channel mapping and parameter counts of the DPA networks (see
 * dpa_arch.h; spec dpa-piad.md 2, 3). */
#include "dpa_arch.h"

#include <string.h>

static const char *const type_names[DPA_NET_TYPE_COUNT] = {"regular", "residual9", "residual18"};
_Static_assert(sizeof type_names / sizeof type_names[0] == DPA_NET_TYPE_COUNT, "net type names");

const char *dpa_net_type_name(DpaNetType t) { return t >= 0 && t < DPA_NET_TYPE_COUNT ? type_names[t] : "?"; }

bool dpa_net_type_parse(const char *name, DpaNetType *out)
{
    for (int t = 0; t < DPA_NET_TYPE_COUNT; t++)
        if (strcmp(name, type_names[t]) == 0) {
            *out = (DpaNetType)t;
            return true;
        }
    return false;
}

static const char *const norm_names[DPA_NORM_COUNT] = {"none", "bn", "in", "pixel"};
_Static_assert(sizeof norm_names / sizeof norm_names[0] == DPA_NORM_COUNT, "norm names");
static const char *const pad_names[DPA_PAD_TYPE_COUNT] = {"zero", "reflect"};
_Static_assert(sizeof pad_names / sizeof pad_names[0] == DPA_PAD_TYPE_COUNT, "pad type names");
static const char *const pool_names[DPA_POOL_COUNT] = {"avg", "max"};
_Static_assert(sizeof pool_names / sizeof pool_names[0] == DPA_POOL_COUNT, "pool names");
static const char *const upsample_names[DPA_UPSAMPLE_COUNT] = {"nearest", "bilinear"};
_Static_assert(sizeof upsample_names / sizeof upsample_names[0] == DPA_UPSAMPLE_COUNT, "upsample names");

static int find_name(const char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

#define NAME_FUNCS(stem, Type, names, COUNT)                                                                      \
    const char *dpa_##stem##_name(Type v) { return v >= 0 && v < COUNT ? names[v] : "?"; }                        \
    bool dpa_##stem##_parse(const char *name, Type *out)                                                          \
    {                                                                                                             \
        int i = find_name(names, COUNT, name);                                                                    \
        if (i >= 0)                                                                                               \
            *out = (Type)i;                                                                                       \
        return i >= 0;                                                                                            \
    }
NAME_FUNCS(norm, DpaNorm, norm_names, DPA_NORM_COUNT)
NAME_FUNCS(pad_type, DpaPadType, pad_names, DPA_PAD_TYPE_COUNT)
NAME_FUNCS(pool, DpaPool, pool_names, DPA_POOL_COUNT)
NAME_FUNCS(upsample, DpaUpsample, upsample_names, DPA_UPSAMPLE_COUNT)
#undef NAME_FUNCS

static int log2i(int x)
{
    int k = 0;
    while ((1 << k) < x)
        k++;
    return k;
}

static bool is_pow2(int x) { return x > 0 && (x & (x - 1)) == 0; }

int dpa_last_res(const DpaArch *a) { return a->latent_res == 1 ? 4 : a->latent_res; }

int dpa_enc_channels(const DpaArch *a, int res)
{
    // inner_dims[-(log2 r - log2 last) - 1]: counted from the end.
    int from_end = log2i(res) - log2i(dpa_last_res(a)) + 1;
    if (from_end < 1 || from_end > a->n_enc)
        return -1;
    return (int)a->enc_dims[a->n_enc - from_end];
}

int dpa_dec_channels(const DpaArch *a, int res)
{
    int at = log2i(res) - log2i(dpa_last_res(a));
    if (at < 0 || at >= a->n_dec)
        return -1;
    return (int)a->dec_dims[at];
}

bool dpa_arch_check(const DpaArch *a, Err *err)
{
    if (a->image_dim < 1 || a->image_dim > 4)
        return err_set(err, "image_dim must be 1..4, not %d", a->image_dim);
    if (!is_pow2(a->max_res) || !is_pow2(a->latent_res))
        return err_set(err, "max_image_res (%d) and latent_res (%d) must be powers of two", a->max_res,
                       a->latent_res);
    int last = dpa_last_res(a);
    if (last > a->max_res)
        return err_set(err, "latent_res %d is too large for images of %d", a->latent_res, a->max_res);
    if (a->latent_dim < 1)
        return err_set(err, "latent_dim must be positive");
    for (int r = last; r <= a->max_res; r *= 2) {
        if (dpa_enc_channels(a, r) < 1)
            return err_set(err, "enc_inner_dims has %d entries: too few for resolutions %d..%d", a->n_enc, last,
                           a->max_res);
        if (dpa_dec_channels(a, r) < 1)
            return err_set(err, "dec_inner_dims has %d entries: too few for resolutions %d..%d", a->n_dec, last,
                           a->max_res);
    }
    if (a->latent_res > 1 && a->dec_type != DPA_REGULAR && a->latent_dim != dpa_dec_channels(a, last))
        return err_set(err, "latent_dim %d must equal the decoder's channels at resolution %d (%d) when latent_res > 1",
                       a->latent_dim, last, dpa_dec_channels(a, last));
    // The original's residual encoder puts the extra channel before a conv
    // made for nf(last) inputs: PyTorch fails on it too.
    if (a->use_mbstddev && a->enc_type != DPA_REGULAR)
        return err_set(err, "use_mbstddev needs enc_type = regular (the residual encoders' last conv does not take the "
                            "extra channel; the original fails on it too)");
    // The regular encoder's last block reads nf(2 * last) channels from the
    // block above it (3.3): there must be one.
    if (a->enc_type == DPA_REGULAR && a->max_res < 2 * last)
        return err_set(err, "the regular encoder needs max_image_res (%d) of at least twice its last resolution (%d)",
                       a->max_res, last);
    if (a->norm == DPA_NORM_IN && a->latent_res == 1 && a->enc_type == DPA_REGULAR)
        return err_set(err, "norm = in with latent_res 1: the regular encoder's 4x4 conv makes 1x1 maps, which instance "
                            "normalisation turns into zeros (newer PyTorch refuses it); use latent_res > 1 or another "
                            "norm");
    if (a->pad_type == DPA_PAD_REFLECT && a->latent_res == 1 && a->dec_type == DPA_REGULAR)
        return err_set(err, "pad_type = reflect: the regular decoder's first conv would reflect-pad the 1x1 code by 3 "
                            "(torch refuses this too); use latent_res > 1 or pad_type = zero");
    return true;
}

static int64_t conv(int64_t in, int64_t out, int64_t k) { return out * in * k * k + out; }

// A regular-family ConvBlock: with use_wscale its WScaleLayer adds the
// one-element scale parameter (the bias moves there, same count).
static int64_t rconv(const DpaArch *a, int64_t in, int64_t out, int64_t k) { return conv(in, out, k) + a->use_wscale; }

// Weight and bias of a BatchNorm2d of c channels (norm = bn; the running
// statistics are buffers, not parameters, in torch's count).
static int64_t bn(const DpaArch *a, int64_t c) { return a->norm == DPA_NORM_BN ? 2 * c : 0; }

// A regular block conv: ConvBlock with the configured norm.
static int64_t bconv(const DpaArch *a, int64_t in, int64_t out, int64_t k) { return rconv(a, in, out, k) + bn(a, out); }

// PreActResnetBlock(in, out): two 3x3 convs and a 1x1 skip when in != out;
// with bn, N(in) first and N(out) after the first conv.
static int64_t preact(const DpaArch *a, int64_t in, int64_t out)
{
    return conv(in, out, 3) + conv(out, out, 3) + (in != out ? conv(in, out, 1) : 0) + bn(a, in) + bn(a, out);
}

int64_t dpa_encoder_params(const DpaArch *a, int res)
{
    int last = dpa_last_res(a);
    int64_t n = 0;
    if (a->enc_type == DPA_REGULAR) {
        // fromRGB(res): 1x1 image_dim -> nf(min(2 res, R)); res_r for
        // r = res .. 2 last: nf(min(2r, R)) -> nf(r) -> nf(r); last: 3x3
        // nf(2 last) -> nf(last), 4x4 (latent 1) or 3x3, 1x1 to latent_dim.
        int top = res * 2 > a->max_res ? a->max_res : res * 2;
        n += rconv(a, a->image_dim, dpa_enc_channels(a, top), 1);
        for (int r = res; r > last; r /= 2) {
            int in = dpa_enc_channels(a, r * 2 > a->max_res ? a->max_res : r * 2);
            n += bconv(a, in, dpa_enc_channels(a, r), 3) + bconv(a, dpa_enc_channels(a, r), dpa_enc_channels(a, r), 3);
        }
        int nl = dpa_enc_channels(a, last);
        n += bconv(a, dpa_enc_channels(a, 2 * last) + a->use_mbstddev, nl, 3);
        n += bconv(a, nl, nl, a->latent_res == 1 ? 4 : 3) + rconv(a, nl, a->latent_dim, 1);
        return n;
    }
    int reps = a->enc_type == DPA_RESIDUAL18 ? 2 : 1;
    int nf = dpa_enc_channels(a, res);
    n += conv(a->image_dim, nf, 3) + reps * preact(a, nf, nf);
    for (int r = res; r > last; r /= 2) {
        int in = dpa_enc_channels(a, r), out = dpa_enc_channels(a, r / 2);
        n += preact(a, in, out); // Down block: same convs as PreAct, pooling has no parameters
        if (a->enc_type == DPA_RESIDUAL18)
            n += preact(a, out, out);
    }
    if (a->latent_res == 1)
        n += conv(dpa_enc_channels(a, 4), a->latent_dim, 4);
    else
        n += preact(a, dpa_enc_channels(a, last), a->latent_dim);
    return n;
}

int64_t dpa_decoder_params(const DpaArch *a, int res)
{
    int first = dpa_last_res(a);
    int64_t n = 0;
    if (a->dec_type == DPA_REGULAR) {
        // first: latent_dim -> nf(first) (4x4 pad 3 or 3x3), 3x3; res_r:
        // nf(r/2) -> nf(r) -> nf(r); toRGB(res): 1x1 to image_dim.
        int nf = dpa_dec_channels(a, first);
        n += bconv(a, a->latent_dim, nf, a->latent_res == 1 ? 4 : 3) + bconv(a, nf, nf, 3);
        for (int r = first * 2; r <= res; r *= 2)
            n += bconv(a, dpa_dec_channels(a, r / 2), dpa_dec_channels(a, r), 3) +
                 bconv(a, dpa_dec_channels(a, r), dpa_dec_channels(a, r), 3);
        return n + rconv(a, dpa_dec_channels(a, res), a->image_dim, 1);
    }
    if (a->latent_res == 1)
        n += conv(a->latent_dim, dpa_dec_channels(a, 4), 4);
    else
        n += preact(a, dpa_dec_channels(a, first), dpa_dec_channels(a, first));
    for (int r = first * 2; r <= res; r *= 2) {
        int in = dpa_dec_channels(a, r / 2), out = dpa_dec_channels(a, r);
        n += preact(a, in, out); // Up block
        if (a->dec_type == DPA_RESIDUAL18)
            n += preact(a, out, out);
    }
    return n + conv(dpa_dec_channels(a, res), a->image_dim, 3);
}
