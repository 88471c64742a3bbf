/* SPDX-License-Identifier: Apache-2.0 */
/* dpa_adversarial: the WGAN-GP discriminator of the DPA adversarial ablations
 * (see dpa_adversarial.h; spec dpa-piad.md 5.7). */
#include "dpa_adversarial.h"

#include <stdlib.h>
#include <string.h>

#include "params.h"

// x^ = a_b x + (1 - a_b) x~ per sample, in float32 as torch evaluates
// `alpha * x + ((1 - alpha) * tilda_x)` (each product and the sum rounded).
static void interpolate(float *out, const float *real, const float *fake, const float *alpha, int64_t n, size_t each)
{
    for (int64_t b = 0; b < n; b++) {
        const float a = alpha[b], oma = 1.0f - a;
        const float *x = real + (size_t)b * each, *y = fake + (size_t)b * each;
        float *o = out + (size_t)b * each;
        for (size_t i = 0; i < each; i++) {
            const float ax = a * x[i], by = oma * y[i];
            o[i] = ax + by;
        }
    }
}

NNVar *dpa_dis_loss(NNGraph *g, DpaModel *ddis, const DpaWgan *w, const float *real, const float *fake,
                    const float *alpha, int64_t n, PgStage stage, int res, float fade, NNVar *terms[3], Err *err)
{
    const int64_t C = dpa_model_arch(ddis)->image_dim;
    const int64_t shape[4] = {n, C, res, res};
    const size_t each = (size_t)(C * res * res);
    float *xhat = xmalloc_array((size_t)n * each, sizeof(float), err);
    if (!xhat)
        return NULL;
    interpolate(xhat, real, fake, alpha, n, each);
    // W and norm (spec 5.7): D of the real and of the fake batch, as the
    // original's two separate calls.
    NNVar *dr = dpa_encode(g, ddis, nn_input(g, 4, shape, real), stage, res, fade);
    NNVar *df = dpa_encode(g, ddis, nn_input(g, 4, shape, fake), stage, res, fade);
    NNVar *wass = nn_sub(g, nn_mean(g, dr), nn_mean(g, df));
    NNVar *norm = nn_add(g, nn_mean(g, nn_square(g, dr)), nn_mean(g, nn_square(g, df)));
    // GP: g_b = d sum D(x^) / d x^_b, kept on the tape (create_graph) so the
    // penalty can be differentiated with respect to D's parameters.
    NNVar *xh = nn_input(g, 4, shape, xhat);
    free(xhat);
    nn_set_requires_grad(xh, true);
    NNVar *dh = dpa_encode(g, ddis, xh, stage, res, fade);
    if (!nn_graph_ok(g, err))
        return NULL;
    NNVar *gx = NULL;
    if (!nn_grad(g, dh, &xh, 1, &gx, err))
        return NULL;
    const float gamma = (float)w->gamma;
    NNVar *gnorm = nn_sqrt(g, nn_sum_per_sample(g, nn_square(g, gx)));
    NNVar *gp = nn_mean(g, nn_scale(g, nn_square(g, nn_affine(g, gnorm, 1.0f, -gamma)), 1.0f / (gamma * gamma)));
    NNVar *t[3] = {nn_scale(g, wass, (float)-w->lambd), nn_scale(g, norm, (float)w->norm_penalty),
                   nn_scale(g, gp, (float)w->gradient_penalty)};
    NNVar *loss = nn_add(g, nn_add(g, t[0], t[1]), t[2]);
    if (!nn_graph_ok(g, err))
        return NULL;
    if (terms)
        memcpy(terms, t, sizeof t);
    return loss;
}

static double scalar(const NNGraph *g, const NNVar *v)
{
    float f;
    nn_var_download(g, v, &f);
    return f;
}

bool dpa_dis_gradients(NNGraph *g, DpaModel *ddis, const DpaWgan *w, const float *real, const float *fake,
                       const float *alpha, int64_t n, PgStage stage, int res, float fade, int64_t micro,
                       DpaDisTerms *out, Err *err)
{
    memset(out, 0, sizeof *out);
    if (n < 1 || micro < 1)
        return err_set(err, "discriminator step: %lld images in parts of %lld", (long long)n, (long long)micro);
    const size_t each = (size_t)dpa_model_arch(ddis)->image_dim * (size_t)res * (size_t)res;
    Params *p = dpa_model_params(ddis);
    params_zero_grad(p);
    DpaDisTerms sum = {0};
    for (int64_t at = 0; at < n; at += micro) {
        const int64_t k = n - at < micro ? n - at : micro;
        nn_graph_reset(g);
        NNVar *terms[3];
        NNVar *loss = dpa_dis_loss(g, ddis, w, real + (size_t)at * each, fake + (size_t)at * each, alpha + at, k,
                                   stage, res, fade, terms, err);
        if (!loss)
            return false;
        // Every term is a batch mean: the part's share of the batch.
        const float share = (float)((double)k / (double)n);
        if (k != n)
            loss = nn_scale(g, loss, share);
        if (!nn_backward(g, loss, err))
            return false;
        sum.loss += scalar(g, loss);
        sum.wass += share * scalar(g, terms[0]);
        sum.norm += share * scalar(g, terms[1]);
        sum.gp += share * scalar(g, terms[2]);
    }
    *out = sum;
    return true;
}

NNVar *dpa_gen_adv_loss(NNGraph *g, DpaModel *ddis, NNVar *rec, PgStage stage, int res, float fade)
{
    return nn_scale(g, nn_mean(g, dpa_encode(g, ddis, rec, stage, res, fade)), -1.0f);
}
