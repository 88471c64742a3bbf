/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stain_vahadane: Vahadane stain normalisation as the Camelyon16 script 6
 * ran it (spec camelyon16.md 8.2-8.5), with SPAMS' online dictionary
 * learning (trainDL, Mairal et al. 2010, dictLearn/dicts.h Trainer::train)
 * reproduced step by step for K = 2 atoms in 3-D optical density.
 *
 * AMBIGUOUS (spec 15, "SPAMS iteration count"): SPAMS stops after 1 s of wall-clock time with a
 * batch size that depends on the processor count; here the budget is a fixed
 * STAIN_VAHADANE_BATCHES mini-batches of STAIN_VAHADANE_BATCH_SIZE pixels,
 * so the same input always gives the same bytes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stain.h"
#include "stain_impl.h"

/* SPAMS seeds glibc's global random() with srandom(0); random_r with our
 * own state gives the same sequence without global state, so patches can be
 * normalised in parallel. */
typedef struct SpamsRandom {
    struct random_data rd;
    char state[128]; /* 128 bytes: glibc's default TYPE_3 generator */
} SpamsRandom;

static void spams_srandom0(SpamsRandom *s)
{
    memset(s, 0, sizeof *s);
    initstate_r(0, s->state, sizeof s->state, &s->rd);
}

static int32_t spams_random(SpamsRandom *s)
{
    int32_t v;
    random_r(&s->rd, &v);
    return v;
}

/* Optical density of a byte (after zero removal, v >= 1): -ln(v/255). */
static void od_table(double od[256])
{
    od[0] = -log(1.0 / 255.0); // bytes equal to 0 count as 1 (zero removal)
    for (int v = 1; v < 256; v++)
        od[v] = -log(v / 255.0);
}

/* The training data: the colours of the not-white pixels of the
 * standardised image, packed as r | g << 8 | b << 16 (4 bytes per sample
 * instead of 24 for the OD triple, so the random accesses of the online
 * algorithm stay in cache), turned into OD through a table on use. */
typedef struct Samples {
    const uint32_t *color; /* (m) packed colour of each sample */
    int64_t m;
    const double *od;      /* (256) */
} Samples;

static void color_od(double x[3], const double *od, uint32_t c)
{
    x[0] = od[c & 255];
    x[1] = od[(c >> 8) & 255];
    x[2] = od[c >> 16];
}

static void sample_od(double x[3], const Samples *s, int64_t k)
{
    color_od(x, s->od, s->color[k]);
}

static double dot3(const double *a, const double *b)
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/* SPAMS' Vector::normalize (unit norm unless below its EPSILON, written
 * 10e-10 = 1e-9) and normalize2 (projection onto the unit ball). */
static void normalize_eps(double d[3])
{
    double n = sqrt(dot3(d, d));
    if (n > 10e-10)
        for (int i = 0; i < 3; i++)
            d[i] *= 1.0 / n;
}

static void normalize_ball(double d[3])
{
    double n = sqrt(dot3(d, d));
    if (n > 1.0)
        for (int i = 0; i < 3; i++)
            d[i] *= 1.0 / n;
}

static void clamp_positive(double d[3])
{
    for (int i = 0; i < 3; i++)
        if (d[i] < 0)
            d[i] = 0;
}

/* The permutation of 0..m-1 of SPAMS' Vector<int>::randperm ("pick
 * random() % size, move the last entry into the hole"), applied to the
 * sample colours directly (the table starts as the colours, so the drawn
 * entry is the permuted sample itself). It is drawn lazily, a batch at a
 * time: only the entries the budget visits are drawn, and the random()
 * calls of the rest are consumed when a later draw (atom cleaning) needs
 * the stream position SPAMS would have. */
typedef struct Perm {
    uint32_t *table; /* (m) colours not yet drawn */
    uint32_t *perm;  /* (need) drawn prefix */
    int64_t m, need, drawn, size;
    SpamsRandom *rnd;
} Perm;

/* Draws entries up to position last (inclusive, < need). The loop has no
 * dependency between the table loads, so their cache misses overlap. */
static void perm_draw_to(Perm *p, int64_t last)
{
    while (p->drawn <= last) {
        int64_t ind = spams_random(p->rnd) % p->size;
        p->perm[p->drawn++] = p->table[ind];
        p->table[ind] = p->table[p->size - 1];
        p->size--;
    }
}

/* Brings the random() stream to where SPAMS has it after randperm: the
 * budget's entries are drawn first (they come before in the stream), then
 * the calls of the remaining draws are consumed. */
static void perm_finish_stream(Perm *p)
{
    if (p->drawn < p->need)
        perm_draw_to(p, p->need - 1);
    for (; p->drawn < p->m; p->drawn++)
        spams_random(p->rnd);
}

/* SPAMS' cleanDict: an atom nearly parallel to an earlier one, or of
 * near-zero norm, is replaced by a random sample (clamped, normalised). */
static void clean_dict(double d[2][3], double G[2][2], const Samples *s, Perm *perm)
{
    for (int i = 0; i < 2; i++)
        for (int j = i; j < 2; j++) {
            bool parallel = j > i && fabs(G[i][j]) / sqrt(G[i][i] * G[j][j]) > 0.999999;
            if (!parallel && !(j == i && fabs(G[i][j]) < 1e-4))
                continue;
            perm_finish_stream(perm);
            int64_t ind = spams_random(perm->rnd) % s->m;
            sample_od(d[j], s, ind);
            clamp_positive(d[j]);
            normalize_eps(d[j]);
            for (int l = 0; l < 2; l++)
                G[l][j] = dot3(d[l], d[j]);
            for (int l = 0; l < 2; l++)
                G[j][l] = G[l][j];
        }
}

/* trainDL(X, K=2, mode=2, lambda1=0.1, modeD=0, posAlpha, posD, t0=1e-5,
 * rho=1, modeParam=0, clean, iter_updateD=1) on the samples, with the fixed
 * budget. d[k] is atom k (column k of SPAMS' D). */
static bool train_dictionary(double d[2][3], const Samples *s, Err *err)
{
    const double t0 = 1e-5, lambda = STAIN_VAHADANE_LAMBDA, lambda2 = 1e-9;
    const int64_t m = s->m;
    const int64_t bs = m < STAIN_VAHADANE_BATCH_SIZE ? m : STAIN_VAHADANE_BATCH_SIZE;
    const int64_t iters = STAIN_VAHADANE_BATCHES;
    SpamsRandom rnd;
    spams_srandom0(&rnd);
    for (int k = 0; k < 2; k++) {
        int64_t ind = spams_random(&rnd) % m;
        sample_od(d[k], s, ind);
    }
    for (int k = 0; k < 2; k++) {
        clamp_positive(d[k]);
        normalize_eps(d[k]);
    }
    // A = t0 I, B = t0 D (B[k] is column k).
    double A[2][2] = {{t0, 0}, {0, t0}}, B[2][3];
    for (int k = 0; k < 2; k++)
        for (int r = 0; r < 3; r++)
            B[k][r] = t0 * d[k][r];
    double Aorig[2][2], Borig[2][3], Aodd[2][2] = {{0}}, Bodd[2][3] = {{0}}, Aeven[2][2] = {{0}},
           Beven[2][3] = {{0}};
    memcpy(Aorig, A, sizeof A);
    memcpy(Borig, B, sizeof B);

    spams_srandom0(&rnd);
    int64_t need = iters * bs < m ? iters * bs : m;
    Perm perm = {.m = m, .need = need, .size = m, .rnd = &rnd};
    perm.table = xmalloc_array((size_t)m, sizeof *perm.table, err);
    perm.perm = perm.table ? xmalloc_array((size_t)need, sizeof *perm.perm, err) : NULL;
    if (!perm.perm) {
        free(perm.table);
        return false;
    }
    memcpy(perm.table, s->color, (size_t)m * sizeof *perm.table);

    bool even = true;
    for (int64_t i = 0; i < iters; i++) {
        double G[2][2];
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
                G[a][b] = dot3(d[a], d[b]);
        clean_dict(d, G, s, &perm);
        G[0][0] += lambda2;
        G[1][1] += lambda2;

        // Code the batch; sums of alpha alpha' and x alpha' in sample order.
        double AT[2][2] = {{0}}, BT[2][3] = {{0}};
        if (perm.drawn < need)
            perm_draw_to(&perm, (i + 1) * bs - 1 < need - 1 ? (i + 1) * bs - 1 : need - 1);
        for (int64_t j = 0; j < bs; j++) {
            double x[3], c[2], al[2];
            color_od(x, s->od, perm.perm[(j + i * bs) % m]);
            c[0] = dot3(d[0], x);
            c[1] = dot3(d[1], x);
            stain_lasso2(al, c, G[0][0], G[0][1], G[1][1], lambda);
            for (int a = 0; a < 2; a++) {
                for (int b = 0; b < 2; b++)
                    AT[a][b] += al[a] * al[b];
                for (int r = 0; r < 3; r++)
                    BT[a][r] += al[a] * x[r];
            }
        }

        // SPAMS' epoch parity and automatic forgetting factor, verbatim
        // (including scal = 1 - bs at i = 0, which only touches the t0 terms).
        int64_t epoch = (((i + 1) % m) * bs) / m;
        if ((even && epoch % 2 == 1) || (!even && epoch % 2 == 0)) {
            memcpy(Aodd, Aeven, sizeof Aodd);
            memcpy(Bodd, Beven, sizeof Bodd);
            memset(Aeven, 0, sizeof Aeven);
            memset(Beven, 0, sizeof Beven);
            even = !even;
        }
        int64_t num_elem = i < bs ? i * bs : bs * bs + i - bs;
        if (num_elem > 2 * m)
            num_elem = 2 * m;
        double scal2 = 1.0 / (double)bs;
        double scal = (double)(num_elem + 1 - bs) / (double)(num_elem + 1);
        for (int a = 0; a < 2; a++) {
            for (int b = 0; b < 2; b++) {
                Aeven[a][b] *= scal;
                Aodd[a][b] *= scal;
            }
            for (int r = 0; r < 3; r++) {
                Beven[a][r] *= scal;
                Bodd[a][r] *= scal;
            }
        }
        bool keep_t0 = i * bs < 10000;
        for (int a = 0; a < 2; a++) {
            for (int b = 0; b < 2; b++) {
                if (keep_t0)
                    Aorig[a][b] *= scal;
                Aeven[a][b] += scal2 * AT[a][b];
                A[a][b] = (keep_t0 ? Aorig[a][b] : 0) + Aodd[a][b] + Aeven[a][b];
            }
            for (int r = 0; r < 3; r++) {
                if (keep_t0)
                    Borig[a][r] *= scal;
                Beven[a][r] += scal2 * BT[a][r];
                B[a][r] = (keep_t0 ? Borig[a][r] : 0) + Bodd[a][r] + Beven[a][r];
            }
        }

        // One block-coordinate sweep over the atoms.
        for (int k = 0; k < 2; k++) {
            if (A[k][k] > 1e-6) {
                double u[3];
                for (int r = 0; r < 3; r++)
                    u[r] = -(d[0][r] * A[k][0] + d[1][r] * A[k][1]) + B[k][r];
                double inv = 1.0 / A[k][k];
                for (int r = 0; r < 3; r++)
                    u[r] = u[r] * inv + d[k][r];
                clamp_positive(u);
                normalize_ball(u);
                memcpy(d[k], u, sizeof u);
            } else if (i * bs > 10000) {
                memset(d[k], 0, sizeof d[k]);
            }
        }
    }
    free(perm.perm);
    free(perm.table);
    return true;
}

int64_t stain_vahadane_matrix(double S[2][3], const uint8_t *rgb, int64_t npix, Err *err)
{
    memset(S, 0, sizeof(double[2][3]));
    if (npix > INT32_MAX)
        return err_set(err, "image of %lld pixels is too large for stain learning", (long long)npix), -1;
    const uint8_t *r = rgb, *g = rgb + npix, *b = rgb + 2 * npix;
    // Not-white <=> L8 <= 203, monotone in the luminance Y: decide far from
    // the threshold by Y alone, near it by the exact formula.
    double lin[256];
    for (int v = 0; v < 256; v++)
        lin[v] = stain_srgb_to_linear((uint8_t)v);
    double lstar = (STAIN_WHITE_L8_MAX + 0.5) * 100.0 / 255.0;
    double fy = (lstar + 16.0) / 116.0, ythr = fy * fy * fy;
    uint32_t *color = xmalloc_array((size_t)(npix ? npix : 1), sizeof *color, err);
    if (!color)
        return -1;
    int64_t m = 0;
    for (int64_t p = 0; p < npix; p++) {
        double y = lin[r[p]] * 0.212671 + lin[g[p]] * 0.715160 + lin[b[p]] * 0.072169;
        bool keep = fabs(y - ythr) > 1e-6 ? y < ythr : stain_not_white(r[p], g[p], b[p]);
        if (keep)
            color[m++] = (uint32_t)r[p] | (uint32_t)g[p] << 8 | (uint32_t)b[p] << 16;
    }
    if (m == 0) {
        free(color);
        return 0;
    }
    double od[256];
    od_table(od);
    Samples s = {color, m, od};
    double d[2][3];
    bool ok = train_dictionary(d, &s, err);
    free(color);
    if (!ok)
        return -1;
    // Rows = atoms; haematoxylin (larger red OD) first; unit rows.
    int h = d[0][0] < d[1][0] ? 1 : 0;
    for (int c = 0; c < 3; c++) {
        S[0][c] = d[h][c];
        S[1][c] = d[1 - h][c];
    }
    for (int k = 0; k < 2; k++) {
        double n = sqrt(dot3(S[k], S[k]));
        // AMBIGUOUS: the original divides a zero atom by 0 (NaN output);
        // a zero row is kept, so that stain simply contributes nothing.
        if (n > 0)
            for (int c = 0; c < 3; c++)
                S[k][c] /= n;
    }
    return m;
}

bool stain_vahadane_fit(StainTarget *t, const uint8_t *rgb, int64_t npix, Err *err)
{
    uint8_t *std = xmalloc_array((size_t)(npix ? npix : 1), 3, err);
    if (!std)
        return false;
    stain_standardize_brightness(std, rgb, 3 * npix);
    int64_t m = stain_vahadane_matrix(t->stain, std, npix, err);
    free(std);
    if (m == 0)
        return err_set(err, "target image has no tissue (no pixel darker than Lab L8 %d)", STAIN_WHITE_L8_MAX);
    return m > 0;
}

bool stain_vahadane_normalize(uint8_t *dst, const uint8_t *src, int64_t npix, const StainTarget *t, bool *copied,
                              Err *err)
{
    uint8_t *j = xmalloc_array((size_t)(npix ? npix : 1), 3, err);
    if (!j)
        return false;
    stain_standardize_brightness(j, src, 3 * npix);
    double S[2][3];
    int64_t m = stain_vahadane_matrix(S, j, npix, err);
    if (m <= 0) {
        free(j);
        if (m == 0) {
            memmove(dst, src, (size_t)npix * 3);
            *copied = true;
        }
        return m == 0;
    }
    double od[256];
    od_table(od); // od[0] = od[1]: zero removal
    const double lambda = STAIN_VAHADANE_CONC_LAMBDA;
    double g00 = dot3(S[0], S[0]) + 1e-10, g01 = dot3(S[0], S[1]), g11 = dot3(S[1], S[1]) + 1e-10;
    const double(*T)[3] = t->stain;
    const uint8_t *jr = j, *jg = j + npix, *jb = j + 2 * npix;
    uint8_t *dr = dst, *dg = dst + npix, *db = dst + 2 * npix;
    StainCache cache;
    stain_cache_init(&cache);
    for (int64_t p = 0; p < npix; p++) {
        uint32_t color = stain_pack(jr[p], jg[p], jb[p]);
        uint8_t out[3];
        if (!stain_cache_get(&cache, color, out)) {
            double x[3] = {od[jr[p]], od[jg[p]], od[jb[p]]};
            double c[2] = {dot3(S[0], x), dot3(S[1], x)}, a[2];
            stain_lasso2(a, c, g00, g01, g11, lambda);
            for (int k = 0; k < 3; k++) {
                double v = 255.0 * exp(-(a[0] * T[0][k] + a[1] * T[1][k]));
                out[k] = v >= 255.0 ? 255 : (uint8_t)v;
            }
            stain_cache_put(&cache, color, out);
        }
        dr[p] = out[0];
        dg[p] = out[1];
        db[p] = out[2];
    }
    stain_cache_fini(&cache);
    free(j);
    return true;
}
