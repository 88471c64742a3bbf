/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpa_score: anomaly scores of a trained DPA model (spec dpa-piad.md 7):
 * each image is reconstructed by the final-stage networks (stab at
 * max_image_res) without gradients, and its score is the training loss at
 * that resolution with reduction 'none' (higher = more anomalous). Optional
 * per-pixel maps are the 'pixelwise' reduction, (1, H, W) per image.
 *
 * Images get the test-time transforms of the model's configuration (centre
 * crops only, no augmentation); a batch is scored independently of the
 * others, so any batching gives the same scores.
 *
 * Not for: reading streams (tools/ad-score.c). Thread safety: one scorer per
 * thread (OpenMP inside). Ownership: the scorer owns model, losses, graph.
 * Errors: Err naming the model file.
 *
 *     DpaScorer *s = dpa_scorer_open("dpa.ts", NULL, &err);
 *     dpa_scorer_run(s, x, n, scores, NULL, &err);   // x: n images after dpa_scorer_transform
 *     dpa_scorer_free(s);
 */
#ifndef ADKIT_DPA_SCORE_H
#define ADKIT_DPA_SCORE_H

#include <stdbool.h>
#include <stdint.h>

#include "dpa_config.h"
#include "err.h"
#include "transform.h"

typedef struct DpaScorer DpaScorer;

/* Loads a model file; weights: VGG weights file or folder (NULL: search,
 * see dpa_losses.h). */
DpaScorer *dpa_scorer_open(const char *model_path, const char *weights, Err *err);
void dpa_scorer_free(DpaScorer *s);

/* The model's configuration (borrowed). */
const DpaConfig *dpa_scorer_config(const DpaScorer *s);
/* The test-time transform (borrowed). */
const TransformSpec *dpa_scorer_transform(const DpaScorer *s);

/* Scores n images (n x image_dim x R x R floats in [-1, 1], R =
 * max_image_res): scores[n]; maps (n x R x R floats) when non-NULL. */
bool dpa_scorer_run(DpaScorer *s, const float *x, int64_t n, float *scores, float *maps, Err *err);

#endif
