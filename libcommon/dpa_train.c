/* SPDX-License-Identifier: Apache-2.0 */
/* dpa_train: the DPA training loop (see dpa_train.h). */
#include "dpa_train.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conv.h"
#include "dpa_adversarial.h"
#include "dpa_data.h"
#include "dpa_file.h"
#include "dpa_plot.h"
#include "nn_optim.h"
#include "progress.h"
#include "rng.h"
#include "sampler.h"

#define LOSS_LIMIT 1e6 /* the original aborts above this (6.2) */
#define STREAMS_PER_ITER ((uint64_t)1 << 20)
/* Images per forward/backward pass: a step's batch is processed in parts of
 * this size with accumulated gradients, which bounds the activation memory
 * (a 128-image batch of 64x64 images through VGG19 to r42 would need about
 * 4 GB at once) without changing the step beyond float summation order. */
#define MICRO_BATCH 32

// The stage's real images (mixed to the stage, 4.3) and their
// reconstruction, on a reset graph.
static NNVar *reconstruct(NNGraph *g, DpaModel *m, const float *x, int64_t n, PgStage stage, int res,
                          double progress, NNVar **real)
{
    const DpaArch *a = dpa_model_arch(m);
    nn_graph_reset(g);
    NNVar *in = nn_input(g, 4, (int64_t[]){n, a->image_dim, a->max_res, a->max_res}, x);
    float alpha = (float)progress;
    *real = dpa_mix_resolution(g, in, a->max_res, stage, res, alpha);
    return dpa_decode(g, m, dpa_encode(g, m, *real, stage, res, alpha), stage, res, alpha);
}

NNVar *dpa_step_loss(NNGraph *g, DpaModel *m, const DpaLosses *L, const float *x, int64_t n, PgStage stage,
                     int res, double progress)
{
    NNVar *real, *rec = reconstruct(g, m, x, n, stage, res, progress, &real);
    return dpa_losses_stage(g, L, stage, res, progress, real, rec);
}

typedef struct Run {
    const DpaTrainOptions *o;
    Config *cfg;
    DpaConfig dc;
    DpaImages im;
    TransformSpec train_spec, test_spec;
    float *cache;        /* cache_data: every image transformed once */
    size_t image_floats; /* image_dim * max_res^2 */
    DpaModel *m;
    DpaLosses L;
    NNGraph *g;
    NNAdam adam;
    bool adam_ready;
    DpaModel *ddis;      /* the image discriminator (adv_weight != 0), else NULL */
    NNAdam dadam;        /* its Adam */
    bool dadam_ready;
    float *dreal, *dfake; /* a discriminator step's real and fake images at the stage's resolution */
    float *alpha;        /* its gradient-penalty weights, max_batch */
    DpaDisTerms dterms;  /* the last discriminator step's loss terms */
    double rec_part, adv_part; /* the last step's reconstruction and adversarial terms */
    Sampler sampler;
    bool sampler_ready;
    PgSchedule pg;
    DpaTrainState st;
    uint64_t aug_seed;
    float *batch;
    int64_t *idx;
    int64_t max_batch;
    FILE *log;
    double *hist;        /* the loss log of the whole run: hist_n rows of DPA_LOG_COLUMNS */
    int64_t hist_n, hist_cap;
} Run;

static bool save_checkpoint(Run *r, Err *err)
{
    if (!r->o->checkpoint)
        return true;
    r->st.pg = r->pg;
    r->st.sampler = r->sampler.state;
    r->st.adam_t = r->adam.t;
    r->st.ddis = r->ddis;
    r->st.ddis_adam = r->ddis ? &r->dadam : NULL;
    r->st.n_images = r->im.n;
    r->st.data_hash = r->im.hash;
    // The images/s column is a measurement, not a result: it stays out of
    // the checkpoint (NaN, "nan" in a resumed log), which is then the same
    // bytes for the same seed and data.
    size_t n = (size_t)r->hist_n * DPA_LOG_COLUMNS;
    double *log = n ? xmalloc_array(n, sizeof *log, err) : NULL;
    if (n && !log)
        return false;
    if (n)
        memcpy(log, r->hist, n * sizeof *log);
    for (int64_t i = 0; i < r->hist_n; i++)
        log[i * DPA_LOG_COLUMNS + 5] = NAN;
    r->st.log = log;
    r->st.nlog = r->hist_n;
    bool ok = dpa_file_save(r->o->checkpoint, r->cfg, r->m, &r->st, &r->adam, err);
    free(log);
    r->st.log = NULL;
    return ok;
}

// The images idx[0..n) as the stage's step sees them at max_res.
static bool load_batch(Run *r, const int64_t *idx, int64_t n, const TransformSpec *spec, uint64_t stream0,
                       float *out, Err *err)
{
    if (r->cache && spec == &r->train_spec) {
        for (int64_t j = 0; j < n; j++)
            memcpy(out + (size_t)j * r->image_floats, r->cache + (size_t)idx[j] * r->image_floats,
                   r->image_floats * sizeof(float));
        return true;
    }
    return dpa_images_batch(&r->im, spec, idx, n, out, r->aug_seed, stream0, err);
}

static bool write_samples(Run *r, Err *err)
{
    const DpaArch *a = dpa_model_arch(r->m);
    int n = r->st.ndisplay;
    if (!r->o->samples || n == 0)
        return true;
    if (mkdir(r->o->samples, 0777) != 0 && errno != EEXIST)
        return err_set(err, "%s: cannot create the samples folder: %s", r->o->samples, strerror(errno));
    float *x = r->batch;
    if (!load_batch(r, r->st.display, n, &r->test_spec, 0, x, err))
        return false;
    // Evaluated without gradients; the training graph is reset by the next step.
    nn_graph_set_grad(r->g, false);
    nn_graph_reset(r->g);
    float alpha = pg_alpha(&r->pg);
    NNVar *in = nn_input(r->g, 4, (int64_t[]){n, a->image_dim, a->max_res, a->max_res}, x);
    NNVar *real = dpa_mix_resolution(r->g, in, a->max_res, r->pg.stage, r->pg.res, alpha);
    NNVar *rec = dpa_decode(r->g, r->m, dpa_encode(r->g, r->m, real, r->pg.stage, r->pg.res, alpha), r->pg.stage,
                            r->pg.res, alpha);
    nn_graph_set_grad(r->g, true);
    if (!nn_graph_ok(r->g, err))
        return false;
    size_t each = (size_t)a->image_dim * r->pg.res * r->pg.res;
    float *host = xmalloc_array(2 * n * each, sizeof(float), err);
    if (!host)
        return false;
    nn_var_download(r->g, real, host);
    nn_var_download(r->g, rec, host + n * each);
    char path[4096];
    snprintf(path, sizeof path, "%s/res_%d_stage_%s_iter%07" PRId64 ".png", r->o->samples, r->pg.res,
             pg_stage_name(r->pg.stage), r->pg.global_iter);
    bool ok = dpa_plot_grid(path, host, host + n * each, n, a->image_dim, r->pg.res, r->pg.res, err);
    snprintf(path, sizeof path, "%s/sample.png", r->o->samples);
    ok = ok && dpa_plot_grid(path, host, host + n * each, n, a->image_dim, r->pg.res, r->pg.res, err);
    free(host);
    if (ok && r->hist_n > 1) {
        // The whole run's curve: a resumed run starts from the checkpoint's log.
        int64_t *iters = xmalloc_array((size_t)r->hist_n, sizeof *iters, err);
        double *losses = iters ? xmalloc_array((size_t)r->hist_n, sizeof *losses, err) : NULL;
        ok = losses != NULL;
        for (int64_t i = 0; ok && i < r->hist_n; i++) {
            iters[i] = (int64_t)r->hist[i * DPA_LOG_COLUMNS];
            losses[i] = r->hist[i * DPA_LOG_COLUMNS + 4];
        }
        snprintf(path, sizeof path, "%s/loss.png", r->o->samples);
        ok = ok && dpa_plot_loss(path, iters, losses, r->hist_n, err);
        free(iters);
        free(losses);
    }
    return ok;
}

// One TSV line of the loss log from a row of DPA_LOG_COLUMNS; adversarial
// runs add the discriminator's terms.
static void print_log_row(FILE *f, const double *row, bool adversarial)
{
    fprintf(f, "%" PRId64 "\t%s\t%d\t%.9g\t%.9g\t%.1f", (int64_t)row[0], pg_stage_name(row[1] != 0 ? PG_TRNS : PG_STAB),
            (int)row[2], row[3], row[4], row[5]);
    if (adversarial)
        fprintf(f, "\t%.9g\t%.9g\t%.9g\t%.9g\t%.9g", row[6], row[7], row[8], row[9], row[10]);
    fputc('\n', f);
}

static bool record_loss(Run *r, double loss, double images_per_s, Err *err)
{
    if (r->hist_n == r->hist_cap) {
        int64_t cap = r->hist_cap ? 2 * r->hist_cap : 1024;
        double *h = xrealloc_array(r->hist, (size_t)(cap * DPA_LOG_COLUMNS), sizeof *h, err);
        if (!h)
            return false;
        r->hist = h;
        r->hist_cap = cap;
    }
    double *row = r->hist + r->hist_n++ * DPA_LOG_COLUMNS;
    row[0] = (double)(r->pg.global_iter + 1);
    row[1] = r->pg.stage == PG_TRNS;
    row[2] = r->pg.res;
    row[3] = r->pg.progress;
    row[4] = loss;
    row[5] = images_per_s;
    const double adv[5] = {r->rec_part, r->adv_part, r->dterms.wass, r->dterms.norm, r->dterms.gp};
    for (int k = 0; k < 5; k++)
        row[6 + k] = r->ddis ? adv[k] : 0.0;
    if (r->log) {
        print_log_row(r->log, row, r->ddis != NULL);
        if (fflush(r->log) != 0)
            return err_set(err, "%s: %s", r->o->log, strerror(errno));
    }
    return true;
}

// Everything that can be wrong is checked here, before the first iteration.
static bool setup(Run *r, Err *err)
{
    const DpaTrainOptions *o = r->o;
    if (!config_apply_defaults(r->cfg, dpa_schema, err) || !config_validate(r->cfg, dpa_schema, err) ||
        !dpa_config_from(r->cfg, &r->dc, err))
        return false;
    const char *model = config_get(r->cfg, "model");
    if (strcmp(model, "dpa") != 0)
        return err_set(err, "%s: model %s: this trainer trains dpa", config_origin(r->cfg, "model"), model);
    const DpaConfig *dc = &r->dc;
    // Engine-wide, and before any convolution runs (or weights are prepared).
    conv_set_precise(dc->precise_conv);
    r->train_spec = dpa_transform_spec(dc, true);
    r->test_spec = dpa_transform_spec(dc, false);
    if (!(r->m = dpa_model_new(nn_backend_cpu(), &dc->arch, dc->plan.initial_res, err)))
        return false;
    if (!dpa_images_load(&r->im, o->images, dc, err))
        return false;
    r->max_batch = DPA_DISPLAY_IMAGES;
    for (int k = 0; (dc->plan.initial_res << k) <= dc->plan.max_res; k++) {
        if (dc->batch_size[k] > r->im.n)
            return err_set(err, "%s: %" PRId64 " training images are fewer than the batch size %" PRId64
                                " at resolution %d (every batch must be full)",
                           o->images, r->im.n, dc->batch_size[k], dc->plan.initial_res << k);
        if (dc->batch_size[k] > r->max_batch)
            r->max_batch = dc->batch_size[k];
    }
    if (!dpa_losses_init(&r->L, dc, o->weights, err))
        return false;
    if (!(r->g = nn_graph_new(nn_backend_cpu(), err)))
        return false;
    nn_graph_set_free_grads(r->g, true); // only parameter gradients are read
    if (!nn_adam_init(&r->adam, dpa_model_params(r->m), dc->lr, 0.9, 0.999, 1e-8, err))
        return false;
    r->adam_ready = true;
    if (dc->adv_weight != 0) {
        // The discriminator and its own Adam with the same settings (6.1 step 5).
        if (!(r->ddis = dpa_model_new_encoder(nn_backend_cpu(), &dc->ddis, dc->plan.initial_res, "ddis", err)))
            return false;
        if (!nn_adam_init(&r->dadam, dpa_model_params(r->ddis), dc->lr, 0.9, 0.999, 1e-8, err))
            return false;
        r->dadam_ready = true;
        r->st.ddis = r->ddis;
        r->st.ddis_adam = &r->dadam;
    }
    // Each batch of an iteration (n_dis discriminator batches, then the
    // autoencoder's) takes its augmentation streams from its own range.
    if ((uint64_t)r->max_batch * (uint64_t)(dc->n_dis + 1) > STREAMS_PER_ITER)
        return err_set(err, "batch size %" PRId64 " with n_dis %d: more than %" PRIu64 " images per iteration",
                       r->max_batch, dc->n_dis, STREAMS_PER_ITER);
    r->image_floats = (size_t)dc->arch.image_dim * dc->arch.max_res * dc->arch.max_res;
    if (!(r->batch = xmalloc_array((size_t)r->max_batch * r->image_floats, sizeof(float), err)) ||
        !(r->idx = xmalloc_array((size_t)r->max_batch, sizeof(int64_t), err)))
        return false;
    if (r->ddis && (!(r->dreal = xmalloc_array((size_t)r->max_batch * r->image_floats, sizeof(float), err)) ||
                    !(r->dfake = xmalloc_array((size_t)r->max_batch * r->image_floats, sizeof(float), err)) ||
                    !(r->alpha = xmalloc_array((size_t)r->max_batch, sizeof(float), err))))
        return false;
    r->aug_seed = dc->seed ^ rng_hash_string("dpa augmentation");
    if (!pg_init(&r->pg, &dc->plan, err))
        return false;
    int64_t bs0 = dc->batch_size[0];
    if (!sampler_init(&r->sampler, r->im.n, bs0, dc->seed ^ rng_hash_string("dpa sampler"), err))
        return false;
    r->sampler_ready = true;
    if (o->resume) {
        Config *ck = NULL;
        if (!dpa_file_read_config(o->checkpoint, &ck, err))
            return false;
        size_t la, lb;
        char *ta = config_to_text(ck, &la, err), *tb = ta ? config_to_text(r->cfg, &lb, err) : NULL;
        config_free(ck);
        bool same = ta && tb && la == lb && memcmp(ta, tb, la) == 0;
        if (ta && tb && !same) {
            // Name the first line that differs.
            size_t i = 0, start = 0;
            while (i < la && i < lb && ta[i] == tb[i])
                if (ta[i++] == '\n')
                    start = i;
            size_t end = start;
            while (end < lb && tb[end] != '\n')
                end++;
            err_set(err, "%s: the checkpoint was made with another configuration (differs at '%.*s'); resume with "
                         "the same configuration and flags", o->checkpoint, (int)(end - start), tb + start);
        }
        free(ta);
        free(tb);
        if (!same)
            return false;
        if (!dpa_file_load(o->checkpoint, r->m, &r->st, &r->adam, err))
            return false;
        // The log so far (rows up to the checkpoint's iteration) continues.
        r->hist = r->st.log;
        r->hist_n = r->hist_cap = r->st.nlog;
        r->st.log = NULL;
        if (r->st.n_images != r->im.n || r->st.data_hash != r->im.hash)
            return err_set(err, "%s: the checkpoint was trained on other images (%" PRId64 " then, %" PRId64
                                " now, or different pixels)", o->checkpoint, r->st.n_images, r->im.n);
        r->pg.stage = r->st.pg.stage;
        r->pg.res = r->st.pg.res;
        r->pg.progress = r->st.pg.progress;
        r->pg.delta = r->st.pg.delta;
        r->pg.stage_iter = r->st.pg.stage_iter;
        r->pg.global_iter = r->st.pg.global_iter;
        r->pg.finished = r->st.pg.finished;
        if (!sampler_restore(&r->sampler, &r->st.sampler, err))
            return false;
    } else {
        dpa_model_init(r->m, dc->seed);
        if (r->ddis)
            dpa_model_init(r->ddis, dc->seed ^ rng_hash_string("dpa ddis"));
        // The first batch is drawn for display and not trained on (6.1).
        sampler_next_batch(&r->sampler, r->idx);
        r->st.ndisplay = (int)(bs0 < DPA_DISPLAY_IMAGES ? bs0 : DPA_DISPLAY_IMAGES);
        memcpy(r->st.display, r->idx, (size_t)r->st.ndisplay * sizeof(int64_t));
    }
    if (dc->cache_data) {
        // The pg configurations' quirk: one transform per image for the whole run.
        if (!(r->cache = xmalloc_array((size_t)r->im.n * r->image_floats, sizeof(float), err)))
            return false;
        int64_t chunk = 256;
        for (int64_t i = 0; i < r->im.n; i += chunk) {
            int64_t n = r->im.n - i < chunk ? r->im.n - i : chunk;
            int64_t ids[256];
            for (int64_t j = 0; j < n; j++)
                ids[j] = i + j;
            if (!dpa_images_batch(&r->im, &r->train_spec, ids, n, r->cache + (size_t)i * r->image_floats,
                                  r->aug_seed, (uint64_t)i, err))
                return false;
        }
    }
    // A resumed run rewrites the log from the checkpoint's rows: the file
    // then covers every iteration once, even if the interrupted run had
    // logged iterations after its last checkpoint, or had no --log.
    if (o->log && !(r->log = fopen(o->log, "w")))
        return err_set(err, "%s: cannot open the log: %s", o->log, strerror(errno));
    if (r->log) {
        fprintf(r->log, "iteration\tstage\tresolution\tprogress\tloss\timages_per_s%s\n",
                r->ddis ? "\trec_loss\tadv_loss\twass\tnorm\tgp" : "");
        for (int64_t i = 0; i < r->hist_n; i++)
            print_log_row(r->log, r->hist + i * DPA_LOG_COLUMNS, r->ddis != NULL);
        if (fflush(r->log) != 0)
            return err_set(err, "%s: %s", o->log, strerror(errno));
    }
    return true;
}

// One discriminator step (6.2 step 2): the batch idx[0..bs), its
// reconstructions (no gradients, the fakes), per-sample gradient-penalty
// weights from the run's seed, the WGAN-GP loss's gradients, Adam.
static bool dis_step(Run *r, int64_t bs, int d, Err *err)
{
    const DpaConfig *dc = &r->dc;
    const PgStage stage = r->pg.stage;
    const int res = r->pg.res;
    uint64_t stream0 = (uint64_t)r->pg.global_iter * STREAMS_PER_ITER + (uint64_t)(d + 1) * (uint64_t)r->max_batch;
    if (!load_batch(r, r->idx, bs, &r->train_spec, stream0, r->batch, err))
        return false;
    const size_t each = (size_t)dc->arch.image_dim * (size_t)res * (size_t)res;
    nn_graph_set_grad(r->g, false);
    bool ok = true;
    for (int64_t at = 0; at < bs && ok; at += MICRO_BATCH) {
        int64_t n = bs - at < MICRO_BATCH ? bs - at : MICRO_BATCH;
        NNVar *real, *rec = reconstruct(r->g, r->m, r->batch + (size_t)at * r->image_floats, n, stage, res,
                                        r->pg.progress, &real);
        if ((ok = nn_graph_ok(r->g, err))) {
            nn_var_download(r->g, real, r->dreal + (size_t)at * each);
            nn_var_download(r->g, rec, r->dfake + (size_t)at * each);
        }
    }
    nn_graph_set_grad(r->g, true);
    if (!ok)
        return false;
    // AMBIGUOUS: the original draws alpha from torch's global generator;
    // here each (iteration, step) has its own stream of the run's seed, so
    // a resumed run draws the same values.
    Rng rng;
    rng_init_stream(&rng, dc->seed ^ rng_hash_string("dpa gp alpha"),
                    (uint64_t)r->pg.global_iter * DPA_MAX_N_DIS + (uint64_t)d);
    for (int64_t b = 0; b < bs; b++)
        r->alpha[b] = rng_uniform_f32(&rng);
    if (!dpa_dis_gradients(r->g, r->ddis, &dc->wgan, r->dreal, r->dfake, r->alpha, bs, stage, res,
                           pg_alpha(&r->pg), MICRO_BATCH, &r->dterms, err))
        return false;
    // Only a non-finite loss stops here: the original has no limit on the
    // discriminator's loss.
    if (!isfinite(r->dterms.loss))
        return err_set(err, "iteration %" PRId64 " (%s %d): the discriminator loss is %g; training stopped%s%s%s",
                       r->pg.global_iter + 1, pg_stage_name(stage), res, r->dterms.loss,
                       r->o->checkpoint ? " (the last checkpoint " : "", r->o->checkpoint ? r->o->checkpoint : "",
                       r->o->checkpoint ? " is kept; try a smaller lr)" : "; try a smaller lr");
    nn_adam_step(&r->dadam);
    return true;
}

static bool loop(Run *r, Err *err)
{
    const DpaConfig *dc = &r->dc;
    Params *p = dpa_model_params(r->m);
    int64_t total = pg_total_iterations(&dc->plan);
    Progress *bar = progress_new("training", total, r->o->progress);
    progress_add(bar, r->pg.global_iter);
    int64_t done_here = 0;
    double t0 = progress_now(), images = 0;
    bool ok = true;
    while (!pg_finished(&r->pg)) {
        if (r->o->stop_after > 0 && done_here == r->o->stop_after)
            break;
        pg_begin_iteration(&r->pg);
        int64_t bs = dc->batch_size[dpa_config_level(dc, r->pg.res)];
        if (r->sampler.state.batch != bs && !(ok = sampler_set_batch(&r->sampler, bs, err)))
            break;
        // n_dis discriminator steps, each on a fresh batch; with adv_weight 0
        // the batches are drawn and not used, as in the original (6.2 step 2).
        for (int d = 0; d < dc->n_dis && ok; d++) {
            sampler_next_batch(&r->sampler, r->idx);
            ok = !r->ddis || dis_step(r, bs, d, err);
        }
        if (!ok)
            break;
        sampler_next_batch(&r->sampler, r->idx);
        if (!(ok = load_batch(r, r->idx, bs, &r->train_spec, (uint64_t)r->pg.global_iter * STREAMS_PER_ITER,
                              r->batch, err)))
            break;
        // The batch mean as a sum over micro-batches of (their mean x their
        // share); parameter gradients accumulate over the backwards.
        params_zero_grad(p);
        double total = 0;
        r->rec_part = r->adv_part = 0;
        // Batch norm's and the minibatch stddev layer's statistics span the
        // whole batch.
        const int64_t micro = dc->arch.use_mbstddev || dc->arch.norm == DPA_NORM_BN ? bs : MICRO_BATCH;
        for (int64_t at = 0; at < bs && ok; at += micro) {
            int64_t n = bs - at < micro ? bs - at : micro;
            NNVar *real, *rec = reconstruct(r->g, r->m, r->batch + (size_t)at * r->image_floats, n, r->pg.stage,
                                            r->pg.res, r->pg.progress, &real);
            NNVar *loss = dpa_losses_stage(r->g, &r->L, r->pg.stage, r->pg.res, r->pg.progress, real, rec);
            if (r->ddis) {
                // adv_weight * (-mean ddis(rec)) + rec_loss (6.2 step 3).
                NNVar *adv = nn_scale(r->g, dpa_gen_adv_loss(r->g, r->ddis, rec, r->pg.stage, r->pg.res, pg_alpha(&r->pg)),
                               (float)dc->adv_weight);
                if (!(ok = nn_graph_ok(r->g, err)))
                    break;
                float a, l;
                nn_var_download(r->g, adv, &a);
                nn_var_download(r->g, loss, &l);
                r->adv_part += (double)a * ((double)n / (double)bs);
                r->rec_part += (double)l * ((double)n / (double)bs);
                loss = nn_add(r->g, adv, loss);
            }
            loss = n == bs ? loss : nn_scale(r->g, loss, (float)((double)n / (double)bs));
            if (!(ok = nn_graph_ok(r->g, err)))
                break;
            float part;
            nn_var_download(r->g, loss, &part);
            total += part;
            // A diverged part is reported below, before any parameter changes.
            if (isfinite(part) && !(ok = nn_backward(r->g, loss, err)))
                break;
        }
        if (!ok)
            break;
        float lv = (float)total;
        if (!isfinite(lv) || lv > LOSS_LIMIT) {
            err_set(err, "iteration %" PRId64 " (%s %d): the loss is %g; training stopped%s%s%s",
                    r->pg.global_iter + 1, pg_stage_name(r->pg.stage), r->pg.res, (double)lv,
                    r->o->checkpoint ? " (the last checkpoint " : "", r->o->checkpoint ? r->o->checkpoint : "",
                    r->o->checkpoint ? " is kept; try a smaller lr)" : "; try a smaller lr");
            ok = false;
            break;
        }
        nn_adam_step(&r->adam);
        images += (double)bs;
        done_here++;
        double el = progress_now() - t0, ips = el > 0 ? images / el : 0;
        bool last_log = (r->pg.global_iter + 1) % dc->log_every == 0;
        if (last_log && !(ok = record_loss(r, lv, ips, err)))
            break;
        if (r->o->progress) {
            char note[160];
            snprintf(note, sizeof note, "%s %d, loss %.5f, %.1f images/s", pg_stage_name(r->pg.stage), r->pg.res,
                     (double)lv, ips);
            progress_note(bar, note);
        }
        progress_add(bar, 1);
        PgEvent ev = pg_end_iteration(&r->pg);
        if (ev == PG_STAGE_DONE) {
            nn_adam_reset(&r->adam); // a fresh Adam per stage (4.6), for the discriminator too
            if (r->ddis)
                nn_adam_reset(&r->dadam);
            if (!(ok = save_checkpoint(r, err)))
                break;
        }
        if (dc->sample_every > 0 && r->pg.global_iter % dc->sample_every == 0 && !(ok = write_samples(r, err)))
            break;
        if (ev == PG_CONTINUE && dc->checkpoint_every > 0 && r->pg.global_iter % dc->checkpoint_every == 0 &&
            !(ok = save_checkpoint(r, err)))
            break;
    }
    progress_free(bar);
    if (!ok)
        return false;
    if (!save_checkpoint(r, err))
        return false;
    if (r->o->finished)
        *r->o->finished = pg_finished(&r->pg);
    if (!pg_finished(&r->pg))
        return true; // --stop-after: the checkpoint holds the run
    return write_samples(r, err) && dpa_file_save(r->o->model, r->cfg, r->m, NULL, NULL, err);
}

bool dpa_train(Config *cfg, const DpaTrainOptions *o, Err *err)
{
    Run r = {.o = o, .cfg = cfg};
    bool ok = setup(&r, err) && loop(&r, err);
    if (r.log && fclose(r.log) != 0 && ok)
        ok = err_set(err, "%s: %s", o->log, strerror(errno));
    free(r.hist);
    free(r.batch);
    free(r.idx);
    free(r.cache);
    free(r.dreal);
    free(r.dfake);
    free(r.alpha);
    if (r.dadam_ready)
        nn_adam_fini(&r.dadam);
    dpa_model_free(r.ddis);
    if (r.sampler_ready)
        sampler_fini(&r.sampler);
    if (r.adam_ready)
        nn_adam_fini(&r.adam);
    nn_graph_free(r.g);
    dpa_losses_fini(&r.L);
    dpa_images_fini(&r.im);
    dpa_model_free(r.m);
    return ok;
}
