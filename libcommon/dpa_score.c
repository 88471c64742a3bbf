/* SPDX-License-Identifier: Apache-2.0 */
/* dpa_score: anomaly scores of a DPA model (see dpa_score.h). */
#include "dpa_score.h"

#include <stdlib.h>
#include <string.h>

#include "dpa_data.h"
#include "dpa_file.h"
#include "dpa_losses.h"
#include "dpa_model.h"

struct DpaScorer {
    Config *cfg;
    DpaConfig dc;
    TransformSpec spec;
    DpaModel *m;
    DpaLosses L;
    NNGraph *g;
};

DpaScorer *dpa_scorer_open(const char *model_path, const char *weights, Err *err)
{
    DpaScorer *s = xcalloc_array(1, sizeof *s, err);
    if (!s)
        return NULL;
    if (!dpa_file_read_config(model_path, &s->cfg, err))
        goto fail;
    if (!config_apply_defaults(s->cfg, dpa_schema, err) || !config_validate(s->cfg, dpa_schema, err) ||
        !dpa_config_from(s->cfg, &s->dc, err)) {
        err_prefix(err, "%s: ", model_path);
        goto fail;
    }
    s->spec = dpa_transform_spec(&s->dc, false);
    if (!(s->m = dpa_model_new(nn_backend_cpu(), &s->dc.arch, s->dc.plan.initial_res, err)) ||
        !dpa_file_load(model_path, s->m, NULL, NULL, err) || !dpa_losses_init(&s->L, &s->dc, weights, err) ||
        !(s->g = nn_graph_new(nn_backend_cpu(), err)))
        goto fail;
    nn_graph_set_grad(s->g, false);
    dpa_model_set_training(s->m, false); // evaluation mode (spec 7): batch norm's running statistics
    return s;
fail:
    dpa_scorer_free(s);
    return NULL;
}

void dpa_scorer_free(DpaScorer *s)
{
    if (!s)
        return;
    nn_graph_free(s->g);
    dpa_losses_fini(&s->L);
    dpa_model_free(s->m);
    config_free(s->cfg);
    free(s);
}

const DpaConfig *dpa_scorer_config(const DpaScorer *s) { return &s->dc; }
const TransformSpec *dpa_scorer_transform(const DpaScorer *s) { return &s->spec; }

bool dpa_scorer_run(DpaScorer *s, const float *x, int64_t n, float *scores, float *maps, Err *err)
{
    const DpaArch *a = &s->dc.arch;
    int R = a->max_res;
    nn_graph_reset(s->g);
    NNVar *in = nn_input(s->g, 4, (int64_t[]){n, a->image_dim, R, R}, x);
    NNVar *rec = dpa_decode(s->g, s->m, dpa_encode(s->g, s->m, in, PG_STAB, R, 1.0f), PG_STAB, R, 1.0f);
    NNVar *score = dpa_losses_final(s->g, &s->L, in, rec, NN_REDUCE_NONE);
    NNVar *map = maps ? dpa_losses_final(s->g, &s->L, in, rec, NN_REDUCE_PIXELWISE) : NULL;
    if (!nn_graph_ok(s->g, err))
        return false;
    nn_var_download(s->g, score, scores);
    if (map)
        nn_var_download(s->g, map, maps);
    return true;
}
