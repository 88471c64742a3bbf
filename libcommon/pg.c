/* SPDX-License-Identifier: Apache-2.0 */
/* pg: the progressive-growing stage schedule (see pg.h; spec dpa-piad.md 4). */
#include "pg.h"

#include <math.h>

static const char *const stage_names[PG_STAGE_COUNT] = {"stab", "trns"};
_Static_assert(sizeof stage_names / sizeof stage_names[0] == PG_STAGE_COUNT, "stage names");

const char *pg_stage_name(PgStage s) { return s >= 0 && s < PG_STAGE_COUNT ? stage_names[s] : "?"; }

static bool is_pow2(int x) { return x > 0 && (x & (x - 1)) == 0; }

static int level_of(const PgPlan *plan, int res)
{
    int k = 0;
    while ((plan->initial_res << k) < res)
        k++;
    return k;
}

int64_t pg_stage_length(const PgSchedule *pg) { return pg->plan.iters[level_of(&pg->plan, pg->res)][pg->stage]; }

static void start_stage(PgSchedule *pg, PgStage stage, int res)
{
    pg->stage = stage;
    pg->res = res;
    pg->progress = 0.0;
    pg->stage_iter = 0;
    // The original computes delta = 1.0 / N once per stage, in float64.
    pg->delta = 1.0 / (double)pg_stage_length(pg);
}

bool pg_init(PgSchedule *pg, const PgPlan *plan, Err *err)
{
    if (!is_pow2(plan->initial_res) || !is_pow2(plan->max_res))
        return err_set(err, "resolutions must be powers of two (initial %d, max %d)", plan->initial_res,
                       plan->max_res);
    if (plan->initial_res > plan->max_res)
        return err_set(err, "initial resolution %d exceeds the maximum %d", plan->initial_res, plan->max_res);
    int levels = level_of(plan, plan->max_res) + 1;
    if (levels > PG_MAX_LEVELS)
        return err_set(err, "too many resolution levels (%d > %d)", levels, PG_MAX_LEVELS);
    for (int k = 0; k < levels; k++) {
        if (plan->iters[k][PG_STAB] <= 0)
            return err_set(err, "no stab iterations for resolution %d", plan->initial_res << k);
        if (k > 0 && plan->iters[k][PG_TRNS] <= 0)
            return err_set(err, "no trns iterations for resolution %d", plan->initial_res << k);
    }
    pg->plan = *plan;
    pg->global_iter = 0;
    pg->finished = false;
    start_stage(pg, PG_STAB, plan->initial_res);
    return true;
}

bool pg_finished(const PgSchedule *pg) { return pg->finished; }

void pg_begin_iteration(PgSchedule *pg)
{
    double p = pg->progress + pg->delta;
    // numpy: min(max(progress + delta, 0), 1)
    pg->progress = fmin(fmax(p, 0.0), 1.0);
}

float pg_alpha(const PgSchedule *pg) { return (float)pg->progress; }

PgEvent pg_end_iteration(PgSchedule *pg)
{
    pg->stage_iter++;
    pg->global_iter++;
    bool final_stage = pg->stage == PG_STAB && pg->res == pg->plan.max_res;
    if (final_stage) {
        // Loop exit test of the original: exact float64 comparison.
        if (pg->progress >= 1.0) {
            pg->finished = true;
            return PG_FINISHED;
        }
        return PG_CONTINUE;
    }
    if (fabs(pg->progress - 1.0) < 1e-6) {
        if (pg->stage == PG_STAB)
            start_stage(pg, PG_TRNS, pg->res * 2);
        else
            start_stage(pg, PG_STAB, pg->res);
        return PG_STAGE_DONE;
    }
    return PG_CONTINUE;
}

int64_t pg_total_iterations(const PgPlan *plan)
{
    PgSchedule pg;
    if (!pg_init(&pg, plan, NULL))
        return -1;
    while (!pg_finished(&pg)) {
        pg_begin_iteration(&pg);
        pg_end_iteration(&pg);
    }
    return pg.global_iter;
}
