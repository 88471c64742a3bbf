/* SPDX-License-Identifier: Apache-2.0 */
/*
 * roc: ranking metrics of anomaly scores against 0/1 labels, computed
 * exactly with ties.
 *
 * Label 1 = anomaly (the positive class), 0 = normal; a higher score means
 * more anomalous (RocData can be built with higher_is_normal to reverse).
 * This is the convention of spec dpa-piad.md §7; the baselines' "normality"
 * AUC of baselines-data.md is the same number with the score negated.
 *
 * Definitions (n_a anomalies, n_n normals, thresholds t = the distinct scores,
 * a sample is "predicted anomalous" when score >= t):
 *  - AUROC: Mann-Whitney U / (n_a n_n) with tied scores counted 1/2, i.e.
 *    (sum of midranks of anomalies - n_a(n_a+1)/2) / (n_a n_n); identical to
 *    sklearn.metrics.roc_auc_score (the trapezoid under the ROC curve).
 *  - AUPR: average precision as sklearn.metrics.average_precision_score:
 *    sum over thresholds, descending, of (R_k - R_{k-1}) P_k (no
 *    interpolation).
 *  - best F1: max over thresholds of 2TP / (2TP + FP + FN); the highest
 *    threshold wins a tie.
 *  - TPR at 5% FPR: the ROC curve through (0,0) and the points (FPR_k, TPR_k)
 *    of the thresholds, read at FPR = 0.05 by linear interpolation between
 *    the two points that bracket it; where a point lies exactly at 0.05 its
 *    (largest) TPR is taken. Tied scores thus give straight segments, the
 *    same curve whose area is the AUROC.
 *  - bootstrap CI: stratified (n_a anomalies drawn with replacement from the
 *    anomalies and n_n normals from the normals, so each resample has both
 *    classes), AUROC per resample, percentile interval with numpy's default
 *    linear interpolation between order statistics. Resample b uses the RNG
 *    stream (seed, b), so results do not depend on the thread count.
 *
 * Cost: O(n log n) to build (an LSD radix sort of the scores of each class),
 * O(n) per metric pass and per bootstrap resample.
 * Not for: multi-class metrics, or reading files (the auroc tool does that).
 * Thread safety: a RocData is read-only after roc_new; any number of threads
 * may compute from it at once.
 * Ownership: roc_new copies the scores; free with roc_free.
 * Errors: through Err (NaN scores, a single class, out of memory).
 *
 *     Err err = {0};
 *     RocData *d = roc_new(scores, labels, n, false, &err);
 *     RocStats st;
 *     if (d && roc_compute(d, &st, &err))
 *         ...st.auroc, st.aupr, st.best_f1...
 *     double lo, hi;
 *     roc_bootstrap(d, 1000, 0.95, seed, jobs, &lo, &hi, &err);
 *     roc_free(d);
 */
#ifndef ADKIT_ROC_H
#define ADKIT_ROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct RocStats {
    int64_t n_anomaly;        /* scores labelled 1 */
    int64_t n_normal;         /* scores labelled 0 */
    double auroc;             /* see the definitions above */
    double aupr;              /* average precision */
    double best_f1;           /* maximum F1 over thresholds */
    double best_f1_threshold; /* in the caller's score units: predicted
                                 anomalous when score >= it (<= it with
                                 higher_is_normal) */
    double tpr_at_fpr5;       /* TPR at FPR = 0.05, interpolated */
} RocStats;

typedef struct RocData RocData;

/* Sorts a copy of the scores of each class. labels[i] must be 0 or 1.
 * higher_is_normal: the scores are normality scores (higher = more normal).
 * Fails on a NaN score, a label other than 0/1, n = 0, or when one class is
 * absent ("only N anomalies and M normal scores"). */
RocData *roc_new(const double *scores, const uint8_t *labels, size_t n, bool higher_is_normal, Err *err);

void roc_free(RocData *d);

/* Computes every metric of RocStats. */
bool roc_compute(const RocData *d, RocStats *out, Err *err);

/* Percentile confidence interval of the AUROC from n_boot stratified
 * resamples (level e.g. 0.95). jobs: OpenMP threads (>= 1). *lo, *hi are set
 * only on success. */
bool roc_bootstrap(const RocData *d, int64_t n_boot, double level, uint64_t seed, int jobs, double *lo,
                   double *hi, Err *err);

/* The ROC curve as points (fpr, tpr), from (0,0) to (1,1), thinned so that
 * consecutive kept points differ by at least min_step in FPR or TPR (0 keeps
 * every threshold). *fpr and *tpr are malloc'd (caller frees), *n points. */
bool roc_curve(const RocData *d, double min_step, double **fpr, double **tpr, size_t *n, Err *err);

/* Draws the ROC curve into a PNG file with gnuplot (pngcairo terminal when
 * available, else png), written atomically through afile.h. title is shown
 * above the plot (quotes are replaced). Fails with a clear message when
 * gnuplot is not on PATH or exits with an error. Implemented in roc_plot.c;
 * runs gnuplot as a child process and uses TMPDIR for the curve points. */
bool roc_plot_png(const RocData *d, const char *png_path, const char *title, Err *err);

#endif
