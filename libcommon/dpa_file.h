/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpa_file: DPA model files and training checkpoints as tensor streams
 * (data-layout.md "Models").
 *
 * A model file: a u8 record holding the configuration text (config_to_text)
 * with metadata kind=config and model=dpa, then one f32 record per
 * parameter (name=...). A checkpoint is a model file plus a kind=state
 * record (the schedule, sampler, Adam step count, the data's size and hash,
 * as metadata; doubles as their bit patterns in hexadecimal, so they
 * round-trip exactly), the loss log so far (f64 (rows, 6), kind=log) and
 * the Adam moments (f32, name=adam.m / adam.v), so that training resumed
 * from it continues bit for bit. Adversarial runs add the discriminator's
 * parameters and Adam state (DpaTrainState.ddis); a model file keeps only
 * the encoder and decoder, which is all scoring needs (spec 6.3). Files are written atomically (tstream
 * writer): a failed or interrupted save leaves the previous file intact.
 *
 * Not for: the training loop (dpa_train.h). Thread safety: reentrant.
 * Errors: Err naming the file: "not a model file", "a model of kind piad,
 * not dpa", "parameter X missing (truncated file?)".
 *
 *     Config *c;
 *     if (!dpa_file_read_config("m.ts", &c, &err)) ...
 *     ... dpa_config_from(c, &dc, &err); m = dpa_model_new(...);
 *     if (!dpa_file_load("m.ts", m, NULL, NULL, &err)) ...
 */
#ifndef ADKIT_DPA_FILE_H
#define ADKIT_DPA_FILE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "dpa_model.h"
#include "nn_optim.h"
#include "pg.h"
#include "sampler.h"

#define DPA_DISPLAY_IMAGES 4
/* Columns of a loss-log row: iteration, stage (0 stab, 1 trns), resolution,
 * progress, loss, images per second, then the adversarial terms (rec_loss,
 * adv_loss, wass, norm, gp; zeros without a discriminator) (ad-train --log
 * writes them as TSV, the last five for adversarial runs only). */
#define DPA_LOG_COLUMNS 11

/* What a checkpoint adds to a model. */
typedef struct DpaTrainState {
    PgSchedule pg;           /* plan fields come from the configuration */
    SamplerState sampler;
    int64_t adam_t;
    int64_t n_images;
    uint64_t data_hash;
    int64_t display[DPA_DISPLAY_IMAGES]; /* training images shown in sample grids */
    int ndisplay;
    /* The image discriminator of adversarial runs and its Adam (borrowed;
     * NULL otherwise): saved with the checkpoint (parameters ddis.*, moments
     * ddis.adam.m / ddis.adam.v, step count ddis_adam_t) and, when set
     * before dpa_file_load, loaded from it (then the checkpoint must have
     * them). Model files never hold them. */
    DpaModel *ddis;
    NNAdam *ddis_adam;
    /* The loss log of the run so far (every log_every iterations), so that a
     * resumed run's log and loss curve cover the whole training: nlog rows
     * of DPA_LOG_COLUMNS doubles. dpa_file_save borrows it; dpa_file_load
     * sets a new array the caller frees (NULL, 0 when the file has none). */
    double *log;
    int64_t nlog;
} DpaTrainState;

/* Reads the configuration record that starts a model file or checkpoint
 * (path or "-"); *out is a new Config. */
bool dpa_file_read_config(const char *path, Config **out, Err *err);

/* Writes a model (state NULL) or a checkpoint (state and adam). */
bool dpa_file_save(const char *path, const Config *cfg, DpaModel *m, const DpaTrainState *state,
                   const NNAdam *adam, Err *err);

/* Loads every parameter of m from a file; with state/adam non-NULL the file
 * must be a checkpoint and they are filled too. */
bool dpa_file_load(const char *path, DpaModel *m, DpaTrainState *state, NNAdam *adam, Err *err);

#endif
