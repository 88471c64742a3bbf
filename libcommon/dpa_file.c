/* SPDX-License-Identifier: Apache-2.0 */
/* dpa_file: DPA models and checkpoints as tensor streams (see dpa_file.h). */
#include "dpa_file.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tstream.h"

bool dpa_file_read_config(const char *path, Config **out, Err *err)
{
    *out = NULL;
    TStreamReader *r = tstream_open(path, err);
    if (!r)
        return false;
    TRecord rec;
    trecord_init(&rec);
    bool ok = false;
    int rc = tstream_read(r, &rec, err);
    if (rc < 0)
        goto done;
    const char *kind = rc ? trecord_meta_get(&rec, "kind") : NULL;
    if (!kind || strcmp(kind, "config") != 0 || rec.dtype != TDTYPE_U8) {
        err_set(err, "%s: not a model file (it must start with a kind=config record; see ad-train)", tstream_name(r));
        goto done;
    }
    const char *model = trecord_meta_get(&rec, "model");
    if (model && strcmp(model, "dpa") != 0) {
        err_set(err, "%s: a model of kind %s, not dpa", tstream_name(r), model);
        goto done;
    }
    Config *c = config_new(err);
    if (!c || !config_load_text(c, rec.data, rec.data_bytes, tstream_name(r), err)) {
        config_free(c);
        goto done;
    }
    const char *m = config_get(c, "model");
    if (m && strcmp(m, "dpa") != 0) {
        err_set(err, "%s: a model of kind %s, not dpa", tstream_name(r), m);
        config_free(c);
        goto done;
    }
    *out = c;
    ok = true;
done:
    trecord_fini(&rec);
    tstream_close(r);
    return ok;
}

// Doubles are stored as their bit patterns (hex) so they round-trip exactly.
static uint64_t double_bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

// Exactly 16 hexadecimal digits.
static bool parse_hex64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    int n = 0;
    for (; s[n]; n++) {
        int c = s[n], d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0 || n == 16)
            return false;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return n == 16;
}

static bool write_state(TStreamWriter *w, const DpaTrainState *s, Err *err)
{
    TRecord rec;
    trecord_init(&rec);
    char display[128] = "";
    for (int i = 0; i < s->ndisplay; i++)
        snprintf(display + strlen(display), sizeof display - strlen(display), "%s%" PRId64, i ? "," : "",
                 s->display[i]);
    const PgSchedule *pg = &s->pg;
    // The state lives in the metadata; the one payload byte is 0 so that
    // equal states give equal bytes.
    bool ok = trecord_set_shape(&rec, TDTYPE_U8, 1, (int64_t[]){1}, err);
    if (ok)
        memset(rec.data, 0, 1);
    ok = ok && trecord_meta_set(&rec, "kind", "state", err) &&
              trecord_meta_setf(&rec, err, "stage", "%d", (int)pg->stage) &&
              trecord_meta_setf(&rec, err, "res", "%d", pg->res) &&
              trecord_meta_setf(&rec, err, "progress", "%016" PRIx64, double_bits(pg->progress)) &&
              trecord_meta_setf(&rec, err, "delta", "%016" PRIx64, double_bits(pg->delta)) &&
              trecord_meta_setf(&rec, err, "stage_iter", "%" PRId64, pg->stage_iter) &&
              trecord_meta_setf(&rec, err, "global_iter", "%" PRId64, pg->global_iter) &&
              trecord_meta_setf(&rec, err, "finished", "%d", (int)pg->finished) &&
              trecord_meta_setf(&rec, err, "sampler_seed", "%016" PRIx64, s->sampler.seed) &&
              trecord_meta_setf(&rec, err, "sampler_n", "%" PRId64, s->sampler.n) &&
              trecord_meta_setf(&rec, err, "sampler_batch", "%" PRId64, s->sampler.batch) &&
              trecord_meta_setf(&rec, err, "sampler_epoch", "%" PRId64, s->sampler.epoch) &&
              trecord_meta_setf(&rec, err, "sampler_position", "%" PRId64, s->sampler.position) &&
              trecord_meta_setf(&rec, err, "adam_t", "%" PRId64, s->adam_t) &&
              trecord_meta_setf(&rec, err, "n_images", "%" PRId64, s->n_images) &&
              trecord_meta_setf(&rec, err, "data_hash", "%016" PRIx64, s->data_hash) &&
              trecord_meta_set(&rec, "display", display, err) &&
              (!s->ddis_adam || trecord_meta_setf(&rec, err, "ddis_adam_t", "%" PRId64, s->ddis_adam->t)) &&
              tstream_write(w, &rec, err);
    trecord_fini(&rec);
    return ok;
}

// An Adam's moments as two records, PREFIX.m and PREFIX.v.
static bool write_moments(TStreamWriter *w, const char *prefix, int64_t n, const NNAdam *adam, Err *err)
{
    const float *data[2] = {adam->m, adam->v};
    bool ok = true;
    for (int i = 0; i < 2 && ok; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s.%c", prefix, i ? 'v' : 'm');
        TRecord rec;
        trecord_init(&rec);
        ok = trecord_meta_set(&rec, "name", name, err) &&
             tstream_write_parts(w, TDTYPE_F32, 1, (int64_t[]){n}, data[i], &rec, err);
        trecord_fini(&rec);
    }
    return ok;
}

bool dpa_file_save(const char *path, const Config *cfg, DpaModel *m, const DpaTrainState *state,
                   const NNAdam *adam, Err *err)
{
    size_t len;
    char *text = config_to_text(cfg, &len, err);
    if (!text)
        return false;
    TStreamWriter *w = tstream_create(path, err);
    TRecord rec;
    trecord_init(&rec);
    bool ok = w && trecord_set_shape(&rec, TDTYPE_U8, 1, (int64_t[]){(int64_t)len}, err) &&
              trecord_meta_set(&rec, "kind", "config", err) && trecord_meta_set(&rec, "model", "dpa", err);
    if (ok) {
        memcpy(rec.data, text, len);
        ok = tstream_write(w, &rec, err);
    }
    free(text);
    trecord_fini(&rec);
    ok = ok && (!state || write_state(w, state, err));
    if (ok && state && state->nlog > 0) {
        trecord_init(&rec);
        ok = trecord_meta_set(&rec, "kind", "log", err) &&
             tstream_write_parts(w, TDTYPE_F64, 2, (int64_t[]){state->nlog, DPA_LOG_COLUMNS}, state->log, &rec, err);
        trecord_fini(&rec);
    }
    ok = ok && params_save(dpa_model_params(m), w, err);
    if (ok && state && adam)
        ok = write_moments(w, "adam", params_block_floats(dpa_model_params(m)), adam, err);
    if (ok && state && state->ddis && state->ddis_adam)
        ok = params_save(dpa_model_params(state->ddis), w, err) &&
             write_moments(w, "ddis.adam", params_block_floats(dpa_model_params(state->ddis)), state->ddis_adam, err);
    if (ok)
        return tstream_writer_commit(w, err);
    tstream_writer_abort(w);
    return false;
}

static bool meta_i64(const TRecord *rec, const char *key, int64_t *out, const char *file, Err *err)
{
    Err e = {0};
    if (!trecord_meta_get_int(rec, key, out, &e))
        return err_set(err, "%s: checkpoint state: %s", file, e.msg[0] ? e.msg : key);
    return true;
}

static bool read_state(const TRecord *rec, DpaTrainState *s, const char *file, Err *err)
{
    int64_t v[16];
    const char *keys[] = {"stage", "res", "stage_iter", "global_iter", "finished", "sampler_n", "sampler_batch",
                          "sampler_epoch", "sampler_position", "adam_t", "n_images"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!meta_i64(rec, keys[i], &v[i], file, err))
            return false;
    const char *prog = trecord_meta_get(rec, "progress"), *delta = trecord_meta_get(rec, "delta");
    const char *seed = trecord_meta_get(rec, "sampler_seed"), *hash = trecord_meta_get(rec, "data_hash");
    const char *disp = trecord_meta_get(rec, "display");
    if (!prog || !delta || !seed || !hash || !disp)
        return err_set(err, "%s: checkpoint state record is incomplete", file);
    uint64_t pbits, dbits;
    if (!parse_hex64(prog, &pbits) || !parse_hex64(delta, &dbits) || !parse_hex64(seed, &s->sampler.seed) ||
        !parse_hex64(hash, &s->data_hash))
        return err_set(err, "%s: checkpoint state record is damaged", file);
    memcpy(&s->pg.progress, &pbits, sizeof pbits);
    memcpy(&s->pg.delta, &dbits, sizeof dbits);
    s->pg.stage = v[0] ? PG_TRNS : PG_STAB;
    s->pg.res = (int)v[1];
    s->pg.stage_iter = v[2];
    s->pg.global_iter = v[3];
    s->pg.finished = v[4] != 0;
    s->sampler.n = v[5];
    s->sampler.batch = v[6];
    s->sampler.epoch = v[7];
    s->sampler.position = v[8];
    s->adam_t = v[9];
    s->n_images = v[10];
    if (s->ddis_adam) {
        int64_t t;
        if (!trecord_meta_get(rec, "ddis_adam_t"))
            return err_set(err, "%s: the checkpoint has no discriminator (it was made without adv_weight)", file);
        if (!meta_i64(rec, "ddis_adam_t", &t, file, err))
            return false;
        s->ddis_adam->t = t;
    }
    s->ndisplay = 0;
    char tok[32];
    for (const char *p = disp; *p;) {
        size_t len = strcspn(p, ",");
        int64_t idx;
        if (len >= sizeof tok || s->ndisplay == DPA_DISPLAY_IMAGES)
            return err_set(err, "%s: checkpoint display list is damaged", file);
        memcpy(tok, p, len);
        tok[len] = 0;
        if (!cli_parse_int(tok, &idx) || idx < 0)
            return err_set(err, "%s: checkpoint display list is damaged", file);
        s->display[s->ndisplay++] = idx;
        p += len + (p[len] == ',');
    }
    return true;
}

bool dpa_file_load(const char *path, DpaModel *m, DpaTrainState *state, NNAdam *adam, Err *err)
{
    TStreamReader *r = tstream_open(path, err);
    if (!r)
        return false;
    Params *p = dpa_model_params(m);
    int64_t nblock = params_block_floats(p);
    int nparams = params_count(p), found = 0;
    bool have_state = false, have_m = false, have_v = false, ok = false;
    // The discriminator of an adversarial checkpoint, when asked for.
    Params *dp = state && state->ddis ? dpa_model_params(state->ddis) : NULL;
    int64_t dblock = dp ? params_block_floats(dp) : 0;
    int dfound = 0;
    bool have_dm = false, have_dv = false;
    double *log = NULL;
    int64_t nlog = 0;
    TRecord rec;
    trecord_init(&rec);
    for (int64_t i = 0;; i++) {
        int rc = tstream_read(r, &rec, err);
        if (rc < 0)
            goto done;
        if (rc == 0)
            break;
        if (i == 0) {
            const char *kind = trecord_meta_get(&rec, "kind");
            if (!kind || strcmp(kind, "config") != 0) {
                err_set(err, "%s: not a model file (it must start with a kind=config record)", tstream_name(r));
                goto done;
            }
            continue;
        }
        const char *kind = trecord_meta_get(&rec, "kind");
        const char *name = trecord_meta_get(&rec, "name");
        if (kind && strcmp(kind, "log") == 0) {
            if (rec.dtype != TDTYPE_F64 || rec.ndim != 2 || rec.dims[1] != DPA_LOG_COLUMNS || log) {
                err_set(err, "%s: the loss log record is damaged (f64 rows of %d expected, once)", tstream_name(r),
                        DPA_LOG_COLUMNS);
                goto done;
            }
            nlog = rec.dims[0];
            if (state && nlog > 0) {
                if (!(log = xmalloc_array((size_t)(nlog * DPA_LOG_COLUMNS), sizeof *log, err)))
                    goto done;
                memcpy(log, rec.data, (size_t)(nlog * DPA_LOG_COLUMNS) * sizeof *log);
            }
            continue;
        }
        if (kind && strcmp(kind, "state") == 0) {
            if (state && !read_state(&rec, state, tstream_name(r), err))
                goto done;
            have_state = true;
            continue;
        }
        if (name && (strcmp(name, "adam.m") == 0 || strcmp(name, "adam.v") == 0)) {
            if (rec.dtype != TDTYPE_F32 || trecord_elements(&rec) != nblock) {
                err_set(err, "%s: %s has %lld values, the model needs %lld", tstream_name(r), name,
                        (long long)trecord_elements(&rec), (long long)nblock);
                goto done;
            }
            if (adam)
                memcpy(name[5] == 'm' ? adam->m : adam->v, rec.data, (size_t)nblock * sizeof(float));
            *(name[5] == 'm' ? &have_m : &have_v) = true;
            continue;
        }
        if (dp && name && (strcmp(name, "ddis.adam.m") == 0 || strcmp(name, "ddis.adam.v") == 0)) {
            if (rec.dtype != TDTYPE_F32 || trecord_elements(&rec) != dblock) {
                err_set(err, "%s: %s has %lld values, the discriminator needs %lld", tstream_name(r), name,
                        (long long)trecord_elements(&rec), (long long)dblock);
                goto done;
            }
            if (state->ddis_adam)
                memcpy(name[10] == 'm' ? state->ddis_adam->m : state->ddis_adam->v, rec.data,
                       (size_t)dblock * sizeof(float));
            *(name[10] == 'm' ? &have_dm : &have_dv) = true;
            continue;
        }
        int applied = params_load_record(p, &rec, err);
        if (applied == 0 && dp) {
            int d = params_load_record(dp, &rec, err);
            applied = d < 0 ? d : 0;
            dfound += d > 0;
        }
        if (applied < 0) {
            err_prefix(err, "%s: ", tstream_name(r));
            goto done;
        }
        found += applied;
    }
    if (found < nparams) {
        err_set(err, "%s: %d of the model's %d parameters are missing (a truncated file, or a model of another "
                     "architecture)", tstream_name(r), nparams - found, nparams);
        goto done;
    }
    if ((state || adam) && !(have_state && have_m && have_v)) {
        err_set(err, "%s: not a checkpoint (no training state); resume needs the file ad-train --checkpoint wrote",
                tstream_name(r));
        goto done;
    }
    if (dp && (dfound < params_count(dp) || !have_dm || !have_dv)) {
        err_set(err, "%s: the discriminator is missing or incomplete (%d of its %d parameters%s); resume needs a "
                     "checkpoint of the same adversarial configuration", tstream_name(r), dfound, params_count(dp),
                have_dm && have_dv ? "" : ", no Adam moments");
        goto done;
    }
    if (adam && state)
        adam->t = state->adam_t;
    if (state) {
        state->log = log;
        state->nlog = log ? nlog : 0;
        log = NULL;
    }
    ok = true;
done:
    free(log);
    trecord_fini(&rec);
    tstream_close(r);
    return ok;
}
