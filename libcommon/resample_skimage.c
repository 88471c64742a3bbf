/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resample_skimage: scikit-image 0.16's rescale(img, 1/f, anti_aliasing=
 * True, order=1, mode='reflect') of an 8-bit image followed by
 * rint(255 v), as the Camelyon16 script 9 ran it (spec camelyon16.md 11).
 *
 * 1. SciPy gaussian_filter on the uint8 image, sigma = (f-1)/2 on both
 *    spatial axes: 1-D correlations along axis 0 (rows) then axis 1
 *    (columns), radius int(4 sigma + 0.5), weights exp(-x^2 / (2 sigma^2))
 *    divided by their numpy sum, mirror boundary (d c b | a b c d | c b a),
 *    SciPy's accumulation order (centre * w0, then (left + right) * w_j from
 *    the outermost pair inwards), each pass truncated to uint8 by a C cast.
 * 2. uint8 -> float by multiplying with 1/255 (skimage's img_as_float).
 * 3. Bilinear sampling at input coordinate f (o + 0.5) - 0.5 with skimage's
 *    interpolation formula; the coordinates are computed exactly (skimage
 *    derives them from a least-squares affine fit, a few ulps off, which
 *    may flip a rint tie: +-1 on rare pixels).
 * 4. rint(255 v) (half to even), clipped to 0..255.
 * Sides must be multiples of f (768 -> 384, 192 for Camelyon16).
 * Only the rows and columns that the bilinear step reads are filtered: the
 * result is the same, the work for f = 4 is a quarter.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "resample.h"

#define MAX_RADIUS 64

/* numpy's pairwise summation as np.sum runs it on a short contiguous
 * float64 array: the first element, plus the pairwise sum of the rest
 * (plain loop below 8 elements, eight interleaved partial sums up to 128). */
static double numpy_sum(const double *a, int n)
{
    double first = a[0];
    a++;
    n--;
    double res;
    if (n < 8) {
        res = -0.0;
        for (int i = 0; i < n; i++)
            res += a[i];
    } else {
        double r[8];
        for (int j = 0; j < 8; j++)
            r[j] = a[j];
        int i;
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++)
                r[j] += a[i + j];
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += a[i];
    }
    return first + res;
}

/* SciPy's _gaussian_kernel1d(sigma, 0, radius): w[j] for j = 0..radius. */
static int gaussian_weights(double *w, double sigma)
{
    int radius = (int)(4.0 * sigma + 0.5);
    double full[2 * MAX_RADIUS + 1];
    double coef = -0.5 / (sigma * sigma);
    for (int x = -radius; x <= radius; x++)
        full[x + radius] = exp(coef * (double)(x * x));
    double sum = numpy_sum(full, 2 * radius + 1);
    for (int j = 0; j <= radius; j++)
        w[j] = full[radius + j] / sum;
    return radius;
}

/* SciPy's "mirror" extension of index i on a line of n samples. */
static int mirror(int i, int n)
{
    if (n == 1)
        return 0;
    int period = 2 * (n - 1);
    i %= period;
    if (i < 0)
        i += period;
    return i < n ? i : period - i;
}

/* The input rows (or columns) that output positions 0..n_out-1 read, and
 * the interpolation weights: coordinate f (o + 0.5) - 0.5 (exact for
 * integer f). */
typedef struct Taps {
    int lo, hi; /* floor and ceil of the coordinate */
    double t;   /* coordinate - lo */
} Taps;

static void make_taps(Taps *taps, int n_out, int factor)
{
    for (int o = 0; o < n_out; o++) {
        double c = factor * (o + 0.5) - 0.5;
        taps[o].lo = (int)floor(c);
        taps[o].hi = (int)ceil(c);
        taps[o].t = c - taps[o].lo;
    }
}

/* Marks the needed indices and numbers them: slot[i] = position in the
 * compact buffer, or -1. Returns the count. */
static int needed_slots(int *slot, int n, const Taps *taps, int n_out)
{
    for (int i = 0; i < n; i++)
        slot[i] = -1;
    for (int o = 0; o < n_out; o++)
        slot[taps[o].lo] = slot[taps[o].hi] = 1;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (slot[i] >= 0)
            slot[i] = k++;
    return k;
}

bool resample_skimage_rescale_u8(uint8_t *dst, const uint8_t *src, int w, int h, int channels, int factor,
                                 Err *err)
{
    if (factor < 2 || factor > 2 * MAX_RADIUS / 4)
        return err_set(err, "rescale factor %d out of range 2..%d", factor, 2 * MAX_RADIUS / 4);
    if (channels < 1 || channels > 4)
        return err_set(err, "%d channels: expected 1..4", channels);
    // skimage turns a side that is not a multiple into a fractional factor
    // (and sigma); only the exact multiples are reproduced.
    if (w < factor || h < factor || w % factor || h % factor)
        return err_set(err, "image %dx%d: sides must be multiples of the factor %d", w, h, factor);
    int ow = w / factor, oh = h / factor;
    double wts[MAX_RADIUS + 1];
    int radius = gaussian_weights(wts, (factor - 1) / 2.0);
    size_t row_bytes = (size_t)w * channels;

    Taps *rt = xmalloc_array((size_t)oh, sizeof *rt, err);
    Taps *ct = rt ? xmalloc_array((size_t)ow, sizeof *ct, err) : NULL;
    int *rslot = ct ? xmalloc_array((size_t)h, sizeof *rslot, err) : NULL;
    int *cslot = rslot ? xmalloc_array((size_t)w, sizeof *cslot, err) : NULL;
    double *acc = cslot ? xmalloc_array(row_bytes, sizeof *acc, err) : NULL;
    uint8_t *pass1 = NULL, *pass2 = NULL, *padded = NULL;
    bool ok = acc != NULL;
    if (ok) {
        make_taps(rt, oh, factor);
        make_taps(ct, ow, factor);
        int nr = needed_slots(rslot, h, rt, oh);
        int nc = needed_slots(cslot, w, ct, ow);
        pass1 = xmalloc_array((size_t)nr, row_bytes, err);
        pass2 = pass1 ? xmalloc_array((size_t)nr * nc, (size_t)channels, err) : NULL;
        padded = pass2 ? xmalloc_array((size_t)w + 2 * (size_t)radius, (size_t)channels, err) : NULL;
        ok = padded != NULL;
        if (ok) {
            // Pass 1, axis 0: each needed row from the 2r+1 rows around it;
            // the loop over j outside keeps SciPy's order per sample and
            // lets the compiler vectorise along the row.
            for (int y = 0; y < h; y++) {
                if (rslot[y] < 0)
                    continue;
                const uint8_t *centre = src + (size_t)y * row_bytes;
                for (size_t e = 0; e < row_bytes; e++)
                    acc[e] = centre[e] * wts[0];
                for (int j = radius; j >= 1; j--) {
                    const uint8_t *up = src + (size_t)mirror(y - j, h) * row_bytes;
                    const uint8_t *down = src + (size_t)mirror(y + j, h) * row_bytes;
                    double wj = wts[j];
                    // up + down in integers is exact, so this is SciPy's
                    // (double)left + (double)right, in a loop that vectorises.
                    for (size_t e = 0; e < row_bytes; e++)
                        acc[e] += (double)(up[e] + down[e]) * wj;
                }
                uint8_t *out = pass1 + (size_t)rslot[y] * row_bytes;
                for (size_t e = 0; e < row_bytes; e++)
                    out[e] = (uint8_t)acc[e];
            }
            // Pass 2, axis 1: the needed columns of each filtered row, from
            // a copy of the row extended by the mirror rule on both sides.
            for (int r = 0; r < nr; r++) {
                const uint8_t *line = pass1 + (size_t)r * row_bytes;
                for (int x = -radius; x < w + radius; x++)
                    memcpy(padded + (size_t)(x + radius) * channels, line + (size_t)mirror(x, w) * channels,
                           (size_t)channels);
                for (int x = 0; x < w; x++) {
                    if (cslot[x] < 0)
                        continue;
                    const uint8_t *at = padded + (size_t)(x + radius) * channels;
                    for (int c = 0; c < channels; c++) {
                        double a = at[c] * wts[0];
                        for (int j = radius; j >= 1; j--)
                            a += ((double)at[c - j * channels] + (double)at[c + j * channels]) * wts[j];
                        pass2[((size_t)r * nc + cslot[x]) * channels + c] = (uint8_t)a;
                    }
                }
            }
            // Bilinear sampling in float, then rint.
            const double scale = 1.0 / 255.0;
            for (int o = 0; o < oh; o++) {
                const uint8_t *top_row = pass2 + (size_t)rslot[rt[o].lo] * nc * channels;
                const uint8_t *bot_row = pass2 + (size_t)rslot[rt[o].hi] * nc * channels;
                double dr = rt[o].t;
                for (int q = 0; q < ow; q++) {
                    size_t l = (size_t)cslot[ct[q].lo] * channels, rr = (size_t)cslot[ct[q].hi] * channels;
                    double dc = ct[q].t;
                    for (int c = 0; c < channels; c++) {
                        double tl = top_row[l + c] * scale, tr = top_row[rr + c] * scale;
                        double bl = bot_row[l + c] * scale, br = bot_row[rr + c] * scale;
                        double top = (1 - dc) * tl + dc * tr;
                        double bottom = (1 - dc) * bl + dc * br;
                        double v = rint(((1 - dr) * top + dr * bottom) * 255.0);
                        dst[((size_t)o * ow + q) * channels + c] = v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)v;
                    }
                }
            }
        }
    }
    free(padded);
    free(pass2);
    free(pass1);
    free(acc);
    free(cslot);
    free(rslot);
    free(ct);
    free(rt);
    return ok;
}
