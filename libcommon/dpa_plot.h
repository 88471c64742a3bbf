/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpa_plot: the pictures of a DPA training run: a grid of input images
 * (top row) over their reconstructions (bottom row) as a PNG, and the loss
 * curve as a PNG drawn by gnuplot.
 *
 * Not for: ROC curves (roc.h). Thread safety: reentrant. Output files are
 * written atomically. Errors: Err (gnuplot missing or failing names it).
 *
 *     dpa_plot_grid("samples/sample.png", real, rec, 4, 3, 64, 64, &err);
 *     dpa_plot_loss("samples/loss.png", iters, losses, n, &err);
 */
#ifndef ADKIT_DPA_PLOT_H
#define ADKIT_DPA_PLOT_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

/* n images (c, h, w) in [-1, 1] (clamped) from real over rec, 2 pixels apart. */
bool dpa_plot_grid(const char *path, const float *real, const float *rec, int n, int c, int h, int w, Err *err);

/* The loss against the iteration, log scale. */
bool dpa_plot_loss(const char *path, const int64_t *iters, const double *losses, int64_t n, Err *err);

#endif
