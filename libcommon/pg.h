/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pg: the progressive-growing schedule of DPA training (spec dpa-piad.md
 * 4.1, 4.2), reproduced exactly, including its float64 arithmetic.
 *
 * Training walks through stages stab(r0), trns(2 r0), stab(2 r0), ...,
 * stab(max). Each loop iteration FIRST advances `progress` by 1/N (float64,
 * clamped to [0, 1]), hands it to the fade-in layers (as float32 alpha), the
 * image mixer and the loss, and THEN runs the training step. After the step,
 * a stage that reached |progress - 1| < 1e-6 ends, unless it is the final
 * stage, which ends only when progress >= 1.0 exactly; because N float64
 * additions of 1/N can land just below 1.0, the final stage runs N or N+1
 * iterations, as in the original. Single-resolution ("wo_pg") training is the
 * special case initial = max: one stab stage.
 *
 * Not for: anything numeric besides the schedule. The state is plain data,
 * so it is saved in checkpoints and restored for --resume.
 *
 *     PgSchedule pg;
 *     pg_init(&pg, &plan);                  // plan: resolutions and iteration counts
 *     while (!pg_finished(&pg)) {
 *         pg_begin_iteration(&pg);          // progress += 1/N
 *         train_step(pg.stage, pg.res, pg_alpha(&pg), pg.progress);
 *         PgEvent ev = pg_end_iteration(&pg); // PG_STAGE_DONE: new stage begins
 *     }
 */
#ifndef ADKIT_PG_H
#define ADKIT_PG_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define PG_MAX_LEVELS 12

typedef enum PgStage { PG_STAB, PG_TRNS, PG_STAGE_COUNT } PgStage;

/* "stab" or "trns". */
const char *pg_stage_name(PgStage s);

/* Iterations per stage and resolution range. iters[k][stage] is the count
 * for resolution initial_res << k (trns counts at k = 0 are unused). */
typedef struct PgPlan {
    int initial_res;                       /* e.g. 16; = max_res for wo_pg */
    int max_res;                           /* e.g. 64; power-of-two multiple */
    int64_t iters[PG_MAX_LEVELS][PG_STAGE_COUNT];
} PgPlan;

typedef struct PgSchedule {
    PgPlan plan;
    PgStage stage;      /* current stage */
    int res;            /* current resolution */
    double progress;    /* float64, in [0, 1] */
    double delta;       /* 1 / N of the current stage */
    int64_t stage_iter; /* iterations done in this stage (the "niter" of the original) */
    int64_t global_iter;/* iterations done in all stages */
    bool finished;
} PgSchedule;

/* Checks the plan (powers of two, initial <= max, every needed count > 0)
 * and starts at stab(initial_res) with progress 0. */
bool pg_init(PgSchedule *pg, const PgPlan *plan, Err *err);

/* Iterations configured for the current stage (N). */
int64_t pg_stage_length(const PgSchedule *pg);

/* True when the final stage has ended. */
bool pg_finished(const PgSchedule *pg);

/* progress <- min(max(progress + delta, 0), 1) in float64. */
void pg_begin_iteration(PgSchedule *pg);

/* The fade-in alpha as the original stores it: float32(progress). */
float pg_alpha(const PgSchedule *pg);

typedef enum PgEvent {
    PG_CONTINUE,   /* same stage goes on */
    PG_STAGE_DONE, /* a stage ended; pg now describes the next one */
    PG_FINISHED    /* the final stage ended */
} PgEvent;

/* Counts the iteration and applies the stage-switch and exit rules. */
PgEvent pg_end_iteration(PgSchedule *pg);

/* Total iterations the whole schedule will run (simulates it). */
int64_t pg_total_iterations(const PgPlan *plan);

#endif
