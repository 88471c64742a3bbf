/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stain_macenko: Macenko et al. 2009 ("A method for normalizing histology
 * slides for quantitative analysis", ISBI), in the formulation of the
 * widely used HEnorm code (schaugf/HEnorm_python, normalizeStaining):
 *   OD = -ln((I + 1) / Io), Io = 240;
 *   keep pixels whose three OD values are all >= beta = 0.15;
 *   e1, e2 = eigenvectors of the two largest eigenvalues of their OD
 *   covariance (numpy.cov, n - 1); phi = atan2(OD.e2, OD.e1);
 *   vmin, vmax = the directions at the alpha = 1st and 99th percentile of
 *   phi; H = the one with the larger red OD, E = the other;
 *   concentrations C = least squares of OD on (H, E) for every pixel;
 *   C is scaled per stain by maxC_target / maxC_source, maxC = 99th
 *   percentile; out = Io * exp(-C * HE_target), truncated to uint8.
 * Deviation: HEnorm maps values above 255 to 254; here they saturate at 255.
 * The eigenvectors' signs are fixed (largest one pointing to positive OD)
 * so that the angles never wrap around +-pi.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stain.h"
#include "stain_impl.h"

/* Jacobi eigenvalue iteration for a symmetric 3x3 matrix: ascending
 * eigenvalues w and the matching unit eigenvectors as columns of V. */
static void eigen_sym3(double w[3], double V[3][3], const double M[3][3])
{
    double a[3][3];
    memcpy(a, M, sizeof a);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            V[i][j] = i == j;
    for (int sweep = 0; sweep < 64; sweep++) {
        double off = fabs(a[0][1]) + fabs(a[0][2]) + fabs(a[1][2]);
        if (off == 0)
            break;
        for (int p = 0; p < 2; p++)
            for (int q = p + 1; q < 3; q++) {
                if (a[p][q] == 0)
                    continue;
                double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < 3; k++) { // a = J' a J
                    double akp = a[k][p], akq = a[k][q];
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for (int k = 0; k < 3; k++) {
                    double apk = a[p][k], aqk = a[q][k];
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for (int k = 0; k < 3; k++) {
                    double vkp = V[k][p], vkq = V[k][q];
                    V[k][p] = c * vkp - s * vkq;
                    V[k][q] = s * vkp + c * vkq;
                }
            }
    }
    int order[3] = {0, 1, 2};
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (a[order[j]][order[j]] < a[order[i]][order[i]]) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    double Vs[3][3];
    for (int i = 0; i < 3; i++) {
        w[i] = a[order[i]][order[i]];
        for (int k = 0; k < 3; k++)
            Vs[k][i] = V[k][order[i]];
    }
    memcpy(V, Vs, sizeof Vs);
}

static void od_table(double od[256])
{
    for (int v = 0; v < 256; v++)
        od[v] = -log((v + 1.0) / STAIN_MACENKO_IO);
}

/* Least-squares concentrations of one OD vector on the rows of HE, through
 * the 2x2 normal equations (inverse precomputed in inv). */
static void lsq_conc(double c[2], const double HE[2][3], const double inv[2][2], const double x[3])
{
    double p0 = HE[0][0] * x[0] + HE[0][1] * x[1] + HE[0][2] * x[2];
    double p1 = HE[1][0] * x[0] + HE[1][1] * x[1] + HE[1][2] * x[2];
    c[0] = inv[0][0] * p0 + inv[0][1] * p1;
    c[1] = inv[1][0] * p0 + inv[1][1] * p1;
}

static void normal_inverse(double inv[2][2], const double HE[2][3])
{
    double a = 0, b = 0, d = 0;
    for (int k = 0; k < 3; k++) {
        a += HE[0][k] * HE[0][k];
        b += HE[0][k] * HE[1][k];
        d += HE[1][k] * HE[1][k];
    }
    double det = a * d - b * b;
    if (fabs(det) < 1e-12) { // H == E: split evenly, no better answer exists
        inv[0][0] = inv[1][1] = a > 0 ? 0.25 / a : 0;
        inv[0][1] = inv[1][0] = inv[0][0];
        return;
    }
    inv[0][0] = d / det;
    inv[1][1] = a / det;
    inv[0][1] = inv[1][0] = -b / det;
}

/* The stain vectors and the 99th percentile concentrations of an image.
 * Returns 1, 0 when fewer than two pixels pass beta, -1 without memory. */
static int analyse(double HE[2][3], double maxc[2], const uint8_t *rgb, int64_t npix, Err *err)
{
    const uint8_t *r = rgb, *g = rgb + npix, *b = rgb + 2 * npix;
    double od[256];
    od_table(od);
    double *buf = xmalloc_array((size_t)(npix ? npix : 1), sizeof *buf, err);
    if (!buf)
        return -1;
    // Pass 1: mean and covariance of the kept pixels (two-pass for accuracy).
    int64_t n = 0;
    double mean[3] = {0};
    for (int64_t p = 0; p < npix; p++) {
        double x[3] = {od[r[p]], od[g[p]], od[b[p]]};
        if (x[0] < STAIN_MACENKO_BETA || x[1] < STAIN_MACENKO_BETA || x[2] < STAIN_MACENKO_BETA)
            continue;
        for (int k = 0; k < 3; k++)
            mean[k] += x[k];
        n++;
    }
    if (n < 2) {
        free(buf);
        return 0;
    }
    for (int k = 0; k < 3; k++)
        mean[k] /= (double)n;
    double cov[3][3] = {{0}};
    for (int64_t p = 0; p < npix; p++) {
        double x[3] = {od[r[p]], od[g[p]], od[b[p]]};
        if (x[0] < STAIN_MACENKO_BETA || x[1] < STAIN_MACENKO_BETA || x[2] < STAIN_MACENKO_BETA)
            continue;
        for (int i = 0; i < 3; i++)
            for (int j = i; j < 3; j++)
                cov[i][j] += (x[i] - mean[i]) * (x[j] - mean[j]);
    }
    for (int i = 0; i < 3; i++)
        for (int j = i; j < 3; j++)
            cov[j][i] = cov[i][j] /= (double)(n - 1);
    double w[3], V[3][3];
    eigen_sym3(w, V, cov);
    double e1[3] = {V[0][1], V[1][1], V[2][1]}, e2[3] = {V[0][2], V[1][2], V[2][2]};
    if (e2[0] + e2[1] + e2[2] < 0)
        for (int k = 0; k < 3; k++)
            e2[k] = -e2[k];
    if (e1[0] + e1[1] + e1[2] < 0)
        for (int k = 0; k < 3; k++)
            e1[k] = -e1[k];
    // Pass 2: angles in the (e1, e2) plane.
    int64_t i = 0;
    for (int64_t p = 0; p < npix; p++) {
        double x[3] = {od[r[p]], od[g[p]], od[b[p]]};
        if (x[0] < STAIN_MACENKO_BETA || x[1] < STAIN_MACENKO_BETA || x[2] < STAIN_MACENKO_BETA)
            continue;
        double t0 = x[0] * e1[0] + x[1] * e1[1] + x[2] * e1[2];
        double t1 = x[0] * e2[0] + x[1] * e2[1] + x[2] * e2[2];
        buf[i++] = atan2(t1, t0);
    }
    double phi_min = stain_percentile(buf, n, STAIN_MACENKO_ALPHA);
    double phi_max = stain_percentile(buf, n, 100.0 - STAIN_MACENKO_ALPHA);
    double vmin[3], vmax[3];
    for (int k = 0; k < 3; k++) {
        vmin[k] = e1[k] * cos(phi_min) + e2[k] * sin(phi_min);
        vmax[k] = e1[k] * cos(phi_max) + e2[k] * sin(phi_max);
    }
    bool min_is_h = vmin[0] > vmax[0];
    memcpy(HE[0], min_is_h ? vmin : vmax, sizeof vmin);
    memcpy(HE[1], min_is_h ? vmax : vmin, sizeof vmin);
    // Pass 3: 99th percentile of each stain's concentration over all pixels.
    double inv[2][2];
    normal_inverse(inv, HE);
    for (int s = 0; s < 2; s++) {
        for (int64_t p = 0; p < npix; p++) {
            double x[3] = {od[r[p]], od[g[p]], od[b[p]]}, c[2];
            lsq_conc(c, HE, inv, x);
            buf[p] = c[s];
        }
        maxc[s] = stain_percentile(buf, npix, 99.0);
    }
    free(buf);
    return 1;
}

bool stain_macenko_fit(StainTarget *t, const uint8_t *rgb, int64_t npix, Err *err)
{
    int got = analyse(t->stain, t->max_conc, rgb, npix, err);
    if (got == 0)
        return err_set(err, "target image has no tissue (fewer than 2 pixels with OD >= %g)", STAIN_MACENKO_BETA);
    return got > 0;
}

bool stain_macenko_normalize(uint8_t *dst, const uint8_t *src, int64_t npix, const StainTarget *t, bool *copied,
                             Err *err)
{
    double HE[2][3], maxc[2];
    int got = analyse(HE, maxc, src, npix, err);
    if (got <= 0) {
        if (got == 0) {
            memmove(dst, src, (size_t)npix * 3);
            *copied = true;
        }
        return got == 0;
    }
    double od[256], inv[2][2], scale[2];
    od_table(od);
    normal_inverse(inv, HE);
    for (int s = 0; s < 2; s++) // a stain absent from the source keeps its scale
        scale[s] = maxc[s] > 0 ? t->max_conc[s] / maxc[s] : 1.0;
    const double(*T)[3] = t->stain;
    StainCache cache;
    stain_cache_init(&cache);
    for (int64_t p = 0; p < npix; p++) {
        uint32_t color = stain_pack(src[p], src[npix + p], src[2 * npix + p]);
        uint8_t out[3];
        if (!stain_cache_get(&cache, color, out)) {
            double x[3] = {od[src[p]], od[src[npix + p]], od[src[2 * npix + p]]}, c[2];
            lsq_conc(c, HE, inv, x);
            c[0] *= scale[0];
            c[1] *= scale[1];
            for (int k = 0; k < 3; k++) {
                double v = STAIN_MACENKO_IO * exp(-(T[0][k] * c[0] + T[1][k] * c[1]));
                out[k] = v >= 255.0 ? 255 : v <= 0 ? 0 : (uint8_t)v;
            }
            stain_cache_put(&cache, color, out);
        }
        for (int k = 0; k < 3; k++)
            dst[k * npix + p] = out[k];
    }
    stain_cache_fini(&cache);
    return true;
}
