/* SPDX-License-Identifier: Apache-2.0 */
/* roc: exact AUROC, AUPR, F1 and bootstrap intervals (see roc.h). */
#include "roc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

struct RocData {
    uint64_t *pos;    /* [n_pos] order keys of the anomalies' scores, ascending */
    uint64_t *neg;    /* [n_neg] order keys of the normals' scores, ascending */
    int64_t n_pos, n_neg;
    bool higher_is_normal;
};

// A key whose unsigned order is the order of the doubles: flip every bit of
// a negative, the sign bit of a positive. -0.0 is folded into +0.0 first
// because ties are decided by numerical equality.
static uint64_t order_key(double v)
{
    if (v == 0)
        v = 0;
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return (b >> 63) ? ~b : b | ((uint64_t)1 << 63);
}

static double key_value(uint64_t k)
{
    uint64_t b = (k >> 63) ? k & ~((uint64_t)1 << 63) : ~k;
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

// LSD radix sort, 16-bit digits; a pass whose digit is constant is skipped.
// Linear time matters here: 10 million scores sort in well under a second.
static bool radix_sort(uint64_t *a, size_t n, Err *err)
{
    if (n < 2)
        return true;
    uint64_t *tmp = xmalloc_array(n, sizeof *tmp, err);
    size_t *count = xcalloc_array(65536, sizeof *count, err);
    if (!tmp || !count) {
        free(tmp);
        free(count);
        return false;
    }
    uint64_t *src = a, *dst = tmp;
    for (int shift = 0; shift < 64; shift += 16) {
        memset(count, 0, 65536 * sizeof *count);
        for (size_t i = 0; i < n; i++)
            count[(src[i] >> shift) & 0xffff]++;
        if (count[(src[0] >> shift) & 0xffff] == n)
            continue;
        size_t sum = 0;
        for (size_t d = 0; d < 65536; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i] >> shift) & 0xffff]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
    free(tmp);
    free(count);
    return true;
}

RocData *roc_new(const double *scores, const uint8_t *labels, size_t n, bool higher_is_normal, Err *err)
{
    size_t n_pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(scores[i]))
            return err_set(err, "score %zu is NaN", i), NULL;
        if (labels[i] > 1)
            return err_set(err, "label %zu is %u, not 0 or 1", i, labels[i]), NULL;
        n_pos += labels[i];
    }
    size_t n_neg = n - n_pos;
    if (n_pos == 0 || n_neg == 0)
        return err_set(err, "only one class: %zu anomalies (label 1) and %zu normal (label 0) scores; "
                       "the metrics need both", n_pos, n_neg), NULL;
    RocData *d = xcalloc_array(1, sizeof *d, err);
    if (!d)
        return NULL;
    d->pos = xmalloc_array(n_pos, sizeof *d->pos, err);
    d->neg = xmalloc_array(n_neg, sizeof *d->neg, err);
    if (!d->pos || !d->neg) {
        roc_free(d);
        return NULL;
    }
    d->n_pos = (int64_t)n_pos;
    d->n_neg = (int64_t)n_neg;
    d->higher_is_normal = higher_is_normal;
    size_t p = 0, q = 0;
    for (size_t i = 0; i < n; i++) {
        // Normality scores are negated so that "higher = anomalous" inside.
        uint64_t k = order_key(higher_is_normal ? -scores[i] : scores[i]);
        if (labels[i])
            d->pos[p++] = k;
        else
            d->neg[q++] = k;
    }
    if (!radix_sort(d->pos, n_pos, err) || !radix_sort(d->neg, n_neg, err)) {
        roc_free(d);
        return NULL;
    }
    return d;
}

void roc_free(RocData *d)
{
    if (!d)
        return;
    free(d->pos);
    free(d->neg);
    free(d);
}

/* Walks the distinct scores from the highest down. At each step *key is the
 * score, *dp / *dn how many anomalies / normals have exactly that score.
 * Returns false when both classes are exhausted. */
typedef struct Walk {
    const uint64_t *pos, *neg;
    int64_t i, j; /* remaining: pos[0..i), neg[0..j) */
} Walk;

static bool walk_next(Walk *w, uint64_t *key, int64_t *dp, int64_t *dn)
{
    if (w->i == 0 && w->j == 0)
        return false;
    uint64_t k;
    if (w->i == 0)
        k = w->neg[w->j - 1];
    else if (w->j == 0)
        k = w->pos[w->i - 1];
    else
        k = w->pos[w->i - 1] > w->neg[w->j - 1] ? w->pos[w->i - 1] : w->neg[w->j - 1];
    int64_t a = 0, b = 0;
    while (w->i > 0 && w->pos[w->i - 1] == k)
        w->i--, a++;
    while (w->j > 0 && w->neg[w->j - 1] == k)
        w->j--, b++;
    *key = k;
    *dp = a;
    *dn = b;
    return true;
}

bool roc_compute(const RocData *d, RocStats *out, Err *err)
{
    (void)err;
    const int64_t P = d->n_pos, N = d->n_neg;
    Walk w = {d->pos, d->neg, P, N};
    // Twice the Mann-Whitney U in exact integer arithmetic.
    unsigned __int128 u2 = 0;
    int64_t tp = 0, fp = 0;
    double ap = 0, best_f1 = -1, tpr5 = -1;
    bool tpr5_done = false;
    uint64_t best_key = 0, key;
    int64_t dp, dn;
    double prev_fpr = 0, prev_tpr = 0;
    while (walk_next(&w, &key, &dp, &dn)) {
        // Normals strictly below this score: w.j after consuming the ties.
        u2 += (unsigned __int128)dp * (uint64_t)(2 * w.j + dn);
        tp += dp;
        fp += dn;
        if (dp)
            ap += ((double)dp / (double)P) * ((double)tp / (double)(tp + fp));
        double f1 = 2.0 * (double)tp / (double)(tp + fp + P);
        if (f1 > best_f1) {
            best_f1 = f1;
            best_key = key;
        }
        double fpr = (double)fp / (double)N, tpr = (double)tp / (double)P;
        // FPR compared with 0.05 in integers (20 fp vs N). Several points can
        // sit exactly at 0.05 (a vertical run); the last has the largest TPR.
        if (!tpr5_done) {
            if (20 * fp == N) {
                tpr5 = tpr;
            } else if (20 * fp > N) {
                if (tpr5 < 0)
                    tpr5 = prev_tpr + (tpr - prev_tpr) * (0.05 - prev_fpr) / (fpr - prev_fpr);
                tpr5_done = true;
            }
        }
        prev_fpr = fpr;
        prev_tpr = tpr;
    }
    RocStats s = {
        .n_anomaly = P,
        .n_normal = N,
        .auroc = (double)u2 / (2.0 * (double)P * (double)N),
        .aupr = ap,
        .best_f1 = best_f1,
        .best_f1_threshold = d->higher_is_normal ? -key_value(best_key) : key_value(best_key),
        .tpr_at_fpr5 = tpr5,
    };
    *out = s;
    return true;
}

// AUROC of one resample given multiplicities of each sorted anomaly / normal.
static double weighted_auroc(const RocData *d, const uint32_t *wp, const uint32_t *wn)
{
    int64_t i = d->n_pos, j = d->n_neg;
    uint64_t below = 0; // weight of normals strictly below the current score
    for (int64_t k = 0; k < j; k++)
        below += wn[k];
    unsigned __int128 u2 = 0;
    while (i > 0) {
        uint64_t key = d->pos[i - 1];
        uint64_t a = 0, b = 0;
        while (j > 0 && d->neg[j - 1] > key)
            below -= wn[--j];
        while (j > 0 && d->neg[j - 1] == key) {
            b += wn[--j];
        }
        below -= b;
        while (i > 0 && d->pos[i - 1] == key)
            a += wp[--i];
        u2 += (unsigned __int128)a * (2 * below + b);
    }
    return (double)u2 / (2.0 * (double)d->n_pos * (double)d->n_neg);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

bool roc_bootstrap(const RocData *d, int64_t n_boot, double level, uint64_t seed, int jobs, double *lo,
                   double *hi, Err *err)
{
    if (n_boot < 1)
        return err_set(err, "bootstrap needs at least 1 resample, got %lld", (long long)n_boot);
    if (!(level > 0 && level < 1))
        return err_set(err, "confidence level %g is not in (0, 1)", level);
    double *auc = xmalloc_array((size_t)n_boot, sizeof *auc, err);
    if (!auc)
        return false;
    bool failed = false;
#pragma omp parallel num_threads(jobs > 0 ? jobs : 1)
    {
        Err local = {0};
        uint32_t *wp = xmalloc_array((size_t)d->n_pos, sizeof *wp, &local);
        uint32_t *wn = xmalloc_array((size_t)d->n_neg, sizeof *wn, &local);
        if (!wp || !wn) {
#pragma omp critical
            {
                failed = true;
                err_set(err, "%s", local.msg);
            }
        }
#pragma omp for schedule(dynamic, 1)
        for (int64_t b = 0; b < n_boot; b++) {
            if (!wp || !wn)
                continue;
            Rng rng;
            rng_init_stream(&rng, seed, (uint64_t)b);
            memset(wp, 0, (size_t)d->n_pos * sizeof *wp);
            memset(wn, 0, (size_t)d->n_neg * sizeof *wn);
            for (int64_t k = 0; k < d->n_pos; k++)
                wp[rng_below(&rng, (uint64_t)d->n_pos)]++;
            for (int64_t k = 0; k < d->n_neg; k++)
                wn[rng_below(&rng, (uint64_t)d->n_neg)]++;
            auc[b] = weighted_auroc(d, wp, wn);
        }
        free(wp);
        free(wn);
    }
    if (failed) {
        free(auc);
        return false;
    }
    qsort(auc, (size_t)n_boot, sizeof *auc, cmp_double);
    // numpy.percentile's default ("linear"): position q (n - 1).
    double q[2] = {(1 - level) / 2, 1 - (1 - level) / 2}, r[2];
    for (int t = 0; t < 2; t++) {
        double pos = q[t] * (double)(n_boot - 1);
        int64_t k = (int64_t)floor(pos);
        double frac = pos - (double)k;
        r[t] = k + 1 < n_boot ? auc[k] + (auc[k + 1] - auc[k]) * frac : auc[k];
    }
    free(auc);
    *lo = r[0];
    *hi = r[1];
    return true;
}

bool roc_curve(const RocData *d, double min_step, double **fpr, double **tpr, size_t *n, Err *err)
{
    size_t cap = (size_t)(d->n_pos + d->n_neg) + 1;
    double *x = xmalloc_array(cap, sizeof *x, err);
    double *y = xmalloc_array(cap, sizeof *y, err);
    if (!x || !y) {
        free(x);
        free(y);
        return false;
    }
    Walk w = {d->pos, d->neg, d->n_pos, d->n_neg};
    size_t m = 0;
    x[m] = 0;
    y[m++] = 0;
    int64_t tp = 0, fp = 0, dp, dn;
    uint64_t key;
    while (walk_next(&w, &key, &dp, &dn)) {
        tp += dp;
        fp += dn;
        double fx = (double)fp / (double)d->n_neg, ty = (double)tp / (double)d->n_pos;
        bool last = w.i == 0 && w.j == 0;
        if (last || fabs(fx - x[m - 1]) >= min_step || fabs(ty - y[m - 1]) >= min_step) {
            x[m] = fx;
            y[m++] = ty;
        }
    }
    *fpr = x;
    *tpr = y;
    *n = m;
    return true;
}
