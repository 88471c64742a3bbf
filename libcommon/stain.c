/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stain: method dispatch, the building blocks every method shares
 * (brightness standardisation, the not-white test, the 2-atom lasso,
 * numpy's percentile, CIE L*a*b*), and the target file.
 */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "stain.h"
#include "stain_impl.h"

static const char *const method_names[] = {"vahadane", "macenko", "reinhard"};
static_assert(sizeof method_names / sizeof method_names[0] == STAIN_METHOD_COUNT, "one name per method");

const char *stain_method_name(StainMethod m)
{
    return (unsigned)m < STAIN_METHOD_COUNT ? method_names[m] : "?";
}

bool stain_method_from_name(const char *name, StainMethod *out)
{
    for (int m = 0; m < STAIN_METHOD_COUNT; m++)
        if (strcmp(name, method_names[m]) == 0) {
            *out = (StainMethod)m;
            return true;
        }
    return false;
}

bool stain_fit(StainTarget *target, StainMethod m, const uint8_t *rgb, int64_t npix, Err *err)
{
    StainTarget t;
    memset(&t, 0, sizeof t);
    t.method = m;
    bool ok;
    switch (m) {
    case STAIN_VAHADANE: ok = stain_vahadane_fit(&t, rgb, npix, err); break;
    case STAIN_MACENKO: ok = stain_macenko_fit(&t, rgb, npix, err); break;
    case STAIN_REINHARD: ok = stain_reinhard_fit(&t, rgb, npix, err); break;
    default: return err_set(err, "unknown stain method %d", (int)m);
    }
    if (ok)
        *target = t;
    return ok;
}

bool stain_normalize(uint8_t *dst, const uint8_t *src, int64_t npix, const StainTarget *target, bool *copied,
                     Err *err)
{
    *copied = false;
    switch (target->method) {
    case STAIN_VAHADANE: return stain_vahadane_normalize(dst, src, npix, target, copied, err);
    case STAIN_MACENKO: return stain_macenko_normalize(dst, src, npix, target, copied, err);
    case STAIN_REINHARD: return stain_reinhard_normalize(dst, src, npix, target, copied, err);
    default: return err_set(err, "unknown stain method %d", (int)target->method);
    }
}

void stain_cache_init(StainCache *c)
{
    c->key = calloc(STAIN_CACHE_SLOTS, sizeof *c->key);
    c->value = c->key ? malloc(STAIN_CACHE_SLOTS * sizeof *c->value) : NULL;
    if (!c->value) {
        free(c->key);
        c->key = NULL;
    }
}

void stain_cache_fini(StainCache *c)
{
    free(c->value);
    free(c->key);
    c->key = NULL;
    c->value = NULL;
}

/* ---- brightness, white mask, lasso ---- */

void stain_standardize_brightness(uint8_t *dst, const uint8_t *src, int64_t nbytes)
{
    if (nbytes <= 0)
        return;
    // The 90th percentile of bytes from a histogram: the order statistics
    // at floor(pos) and floor(pos)+1 are found by cumulative counts.
    int64_t hist[256] = {0};
    for (int64_t i = 0; i < nbytes; i++)
        hist[src[i]]++;
    double pos = 0.9 * (double)(nbytes - 1);
    int64_t lo = (int64_t)floor(pos);
    double frac = pos - (double)lo;
    int vlo = -1, vhi = -1;
    int64_t cum = 0;
    for (int v = 0; v < 256 && vhi < 0; v++) {
        cum += hist[v];
        if (vlo < 0 && cum > lo)
            vlo = v;
        if (vlo >= 0 && cum > lo + 1)
            vhi = v;
    }
    if (vhi < 0)
        vhi = vlo; // lo is the last element
    double a = vlo, b = vhi, diff = b - a;
    double p = frac >= 0.5 ? b - diff * (1 - frac) : a + diff * frac; // numpy's lerp
    uint8_t lut[256];
    for (int v = 0; v < 256; v++) {
        if (p <= 0) {
            lut[v] = v ? 255 : 0;
            continue;
        }
        double x = (double)v * 255.0 / p;
        lut[v] = x >= 255.0 ? 255 : (uint8_t)x;
    }
    for (int64_t i = 0; i < nbytes; i++)
        dst[i] = lut[src[i]];
}

double stain_srgb_to_linear(uint8_t v)
{
    double c = v / 255.0;
    return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

/* AMBIGUOUS: the original thresholds OpenCV's fixed-point 8-bit L; the
 * float formula is used here (spec 15), so pixels within one L8 step of 203
 * may fall on the other side. */
bool stain_not_white(uint8_t r, uint8_t g, uint8_t b)
{
    double y = stain_srgb_to_linear(r) * 0.212671 + stain_srgb_to_linear(g) * 0.715160 +
               stain_srgb_to_linear(b) * 0.072169;
    double L = y > 0.008856 ? 116.0 * cbrt(y) - 16.0 : 903.3 * y;
    return rint(L * 255.0 / 100.0) <= STAIN_WHITE_L8_MAX;
}

void stain_lasso2(double a[2], const double c[2], double g00, double g01, double g11, double lambda)
{
    a[0] = a[1] = 0;
    if (c[0] <= lambda && c[1] <= lambda)
        return;
    // LARS enters the atom with the larger correlation first; the solution
    // is the first support whose KKT conditions hold (it is unique).
    int k = c[1] > c[0] ? 1 : 0, o = 1 - k;
    double gkk = k ? g11 : g00, goo = k ? g00 : g11;
    double ak = (c[k] - lambda) / gkk;
    if (c[o] - g01 * ak <= lambda) {
        a[k] = ak;
        return;
    }
    double det = g00 * g11 - g01 * g01;
    double r0 = c[0] - lambda, r1 = c[1] - lambda;
    double b0 = (g11 * r0 - g01 * r1) / det, b1 = (g00 * r1 - g01 * r0) / det;
    if (det > 0 && b0 > 0 && b1 > 0) {
        a[0] = b0;
        a[1] = b1;
        return;
    }
    double ao = (c[o] - lambda) / goo;
    if (ao > 0 && c[k] - g01 * ao <= lambda) {
        a[o] = ao;
        return;
    }
    a[k] = ak; // reached only through rounding at a KKT boundary
}

/* ---- numpy percentile ---- */

/* Hoare-partition quickselect with a median-of-three pivot: after the call,
 * a[k] holds the k-th smallest value. Deterministic. */
static void select_kth(double *a, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n - 1;
    while (hi > lo) {
        int64_t mid = lo + (hi - lo) / 2;
        double x = a[lo], y = a[mid], z = a[hi];
        double pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                double t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return;
    }
}

double stain_percentile(double *a, int64_t n, double q)
{
    double pos = q / 100.0 * (double)(n - 1);
    int64_t lo = (int64_t)floor(pos);
    if (lo >= n - 1)
        lo = n - 1;
    double frac = pos - (double)lo;
    select_kth(a, n, lo);
    double va = a[lo], vb = va;
    if (lo + 1 < n) {
        vb = a[lo + 1];
        for (int64_t i = lo + 2; i < n; i++) // the smallest value above position lo
            if (a[i] < vb)
                vb = a[i];
    }
    double diff = vb - va;
    return frac >= 0.5 ? vb - diff * (1 - frac) : va + diff * frac;
}

/* ---- CIE L*a*b* (OpenCV's constants for COLOR_RGB2Lab, D65) ---- */

#define LAB_XN 0.950456
#define LAB_ZN 1.088754

static double lab_f(double t)
{
    return t > 0.008856 ? cbrt(t) : 7.787 * t + 16.0 / 116.0;
}

/* The 256 linear intensities, computed once for all threads. */
static double srgb_linear[256];
static pthread_once_t srgb_once = PTHREAD_ONCE_INIT;

static void srgb_table_init(void)
{
    for (int v = 0; v < 256; v++)
        srgb_linear[v] = stain_srgb_to_linear((uint8_t)v);
}

void stain_rgb_to_lab(double lab[3], uint8_t r, uint8_t g, uint8_t b)
{
    pthread_once(&srgb_once, srgb_table_init);
    double R = srgb_linear[r], G = srgb_linear[g], B = srgb_linear[b];
    double X = (0.412453 * R + 0.357580 * G + 0.180423 * B) / LAB_XN;
    double Y = 0.212671 * R + 0.715160 * G + 0.072169 * B;
    double Z = (0.019334 * R + 0.119193 * G + 0.950227 * B) / LAB_ZN;
    double fy = lab_f(Y);
    lab[0] = Y > 0.008856 ? 116.0 * cbrt(Y) - 16.0 : 903.3 * Y;
    lab[1] = 500.0 * (lab_f(X) - fy);
    lab[2] = 200.0 * (fy - lab_f(Z));
}

static double lab_finv(double f)
{
    return f > 0.206893 ? f * f * f : (f - 16.0 / 116.0) / 7.787;
}

static uint8_t srgb_encode(double c)
{
    c = c <= 0.0031308 ? 12.92 * c : 1.055 * pow(c > 0 ? c : 0, 1.0 / 2.4) - 0.055;
    double v = rint(c * 255.0);
    return v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)v;
}

void stain_lab_to_rgb(uint8_t rgb[3], const double lab[3])
{
    double fy = (lab[0] + 16.0) / 116.0;
    double Y = lab[0] > 8.0 ? fy * fy * fy : lab[0] / 903.3;
    double X = lab_finv(fy + lab[1] / 500.0) * LAB_XN;
    double Z = lab_finv(fy - lab[2] / 200.0) * LAB_ZN;
    rgb[0] = srgb_encode(3.240479 * X - 1.53715 * Y - 0.498535 * Z);
    rgb[1] = srgb_encode(-0.969256 * X + 1.875991 * Y + 0.041556 * Z);
    rgb[2] = srgb_encode(0.055648 * X - 0.204043 * Y + 1.057311 * Z);
}

/* ---- the target file ---- */

#define TARGET_MAGIC "adkit-stain 1"

bool stain_target_save(const StainTarget *t, const char *path, Err *err)
{
    AFile *f = afile_open(path, err);
    if (!f)
        return false;
    FILE *fp = afile_stream(f);
    fprintf(fp, "%s\n# fitted stain-normalisation target (stainnorm --fit-only)\n", TARGET_MAGIC);
    fprintf(fp, "method %s\n", stain_method_name(t->method));
    fprintf(fp, "stain_h %.17g %.17g %.17g\n", t->stain[0][0], t->stain[0][1], t->stain[0][2]);
    fprintf(fp, "stain_e %.17g %.17g %.17g\n", t->stain[1][0], t->stain[1][1], t->stain[1][2]);
    fprintf(fp, "max_conc %.17g %.17g\n", t->max_conc[0], t->max_conc[1]);
    fprintf(fp, "lab_mean %.17g %.17g %.17g\n", t->lab_mean[0], t->lab_mean[1], t->lab_mean[2]);
    fprintf(fp, "lab_std %.17g %.17g %.17g\n", t->lab_std[0], t->lab_std[1], t->lab_std[2]);
    return afile_commit(f, err);
}

/* Parses exactly n finite numbers from s. */
static bool parse_numbers(const char *s, double *out, int n)
{
    for (int i = 0; i < n; i++) {
        int used = 0;
        if (sscanf(s, " %lf%n", &out[i], &used) != 1 || !isfinite(out[i]))
            return false;
        s += used;
    }
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    return *s == 0;
}

bool stain_target_parse(StainTarget *target, const char *text, size_t n, const char *name, Err *err)
{
    StainTarget t;
    memset(&t, 0, sizeof t);
    char line[512];
    int lineno = 0;
    bool ok = true, have_method = false;
    unsigned seen = 0; // bit per key below
    static const char *const keys[] = {"stain_h", "stain_e", "max_conc", "lab_mean", "lab_std"};
    size_t pos = 0;
    while (ok && pos < n) {
        lineno++;
        size_t end = pos;
        while (end < n && text[end] != '\n')
            end++;
        size_t len = end - pos;
        if (len >= sizeof line) {
            ok = err_set(err, "%s:%d: line too long", name, lineno);
            break;
        }
        memcpy(line, text + pos, len);
        line[len] = 0;
        pos = end + 1;
        if (strlen(line) != len) {
            ok = err_set(err, "%s:%d: NUL byte in a text file", name, lineno);
            break;
        }
        if (lineno == 1) {
            if (strcmp(line, TARGET_MAGIC) != 0)
                ok = err_set(err, "%s:1: not a stain target file (expected '%s')", name, TARGET_MAGIC);
            continue;
        }
        if (line[0] == '#' || line[0] == 0)
            continue;
        char *sp = strchr(line, ' ');
        if (!sp) {
            ok = err_set(err, "%s:%d: expected 'key value...'", name, lineno);
            break;
        }
        *sp = 0;
        const char *val = sp + 1;
        if (strcmp(line, "method") == 0) {
            if (!stain_method_from_name(val, &t.method))
                ok = err_set(err, "%s:%d: unknown method '%s'", name, lineno, val);
            have_method = true;
            continue;
        }
        double *dest[] = {t.stain[0], t.stain[1], t.max_conc, t.lab_mean, t.lab_std};
        const int count[] = {3, 3, 2, 3, 3};
        int k;
        for (k = 0; k < 5; k++)
            if (strcmp(line, keys[k]) == 0)
                break;
        if (k == 5)
            ok = err_set(err, "%s:%d: unknown key '%s'", name, lineno, line);
        else if (!parse_numbers(val, dest[k], count[k]))
            ok = err_set(err, "%s:%d: %s needs %d finite numbers", name, lineno, keys[k], count[k]);
        else
            seen |= 1u << k;
    }
    if (ok && lineno == 0)
        ok = err_set(err, "%s: empty file, not a stain target", name);
    if (ok && !have_method)
        ok = err_set(err, "%s: no 'method' line", name);
    if (ok) {
        unsigned need = t.method == STAIN_REINHARD ? (1u << 3 | 1u << 4)
                        : t.method == STAIN_MACENKO ? (1u << 0 | 1u << 1 | 1u << 2)
                                                    : (1u << 0 | 1u << 1);
        for (int k = 0; k < 5 && ok; k++)
            if ((need & (1u << k)) && !(seen & (1u << k)))
                ok = err_set(err, "%s: method %s needs a '%s' line", name, stain_method_name(t.method), keys[k]);
    }
    if (ok && t.method == STAIN_REINHARD)
        for (int c = 0; c < 3 && ok; c++)
            if (t.lab_std[c] < 0)
                ok = err_set(err, "%s: lab_std must not be negative", name);
    if (ok && t.method != STAIN_REINHARD)
        for (int r = 0; r < 2 && ok; r++)
            for (int c = 0; c < 3 && ok; c++)
                if (fabs(t.stain[r][c]) > 1 + 1e-9)
                    ok = err_set(err, "%s: stain matrix entries must lie in [-1, 1]", name);
    if (ok)
        *target = t;
    return ok;
}

bool stain_target_load(StainTarget *target, const char *path, Err *err)
{
    bool is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "stdin" : path;
    FILE *fp = is_stdin ? stdin : fopen(path, "r");
    if (!fp)
        return err_set(err, "%s: %s", name, strerror(errno));
    char *buf = xmalloc_array(STAIN_TARGET_MAX_BYTES + 1, 1, err);
    size_t n = buf ? fread(buf, 1, STAIN_TARGET_MAX_BYTES + 1, fp) : 0;
    bool ok = buf != NULL;
    if (ok && ferror(fp))
        ok = err_set(err, "%s: read error", name);
    else if (ok && n > STAIN_TARGET_MAX_BYTES)
        ok = err_set(err, "%s: larger than %d bytes, not a stain target", name, STAIN_TARGET_MAX_BYTES);
    if (ok)
        ok = stain_target_parse(target, buf, n, name, err);
    free(buf);
    if (!is_stdin)
        fclose(fp);
    return ok;
}
