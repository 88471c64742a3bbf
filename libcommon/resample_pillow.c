/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resample_pillow: Pillow's Image.resize on 8-bit images, bit for bit
 * (see resample.h). The arithmetic follows Pillow's libImaging/Resample.c
 * (Pillow 6.2 through 9.x share it): coefficients are computed in double,
 * normalised to sum 1, converted to 22-bit fixed point with round-half-away,
 * each pass accumulates in int32 from a rounding bias of 2^21 and clips the
 * top bits to 0..255. NEAREST is not a convolution in Pillow: Image.resize
 * routes it through the affine "scale" transform, whose source coordinate is
 * accumulated in double, so we do the same.
 *
 * Channels: each interleaved channel is resampled on its own, which is what
 * Pillow's core does for L, RGB, CMYK, La and RGBa images. (Image.resize on
 * an RGBA or LA image premultiplies alpha first; callers that want that
 * must premultiply themselves.)
 */
#include "resample.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

// Pillow: PRECISION_BITS = 32 - 8 - 2 (8 result bits, 2 bits of headroom
// for filters with negative lobes).
#define PRECISION_BITS 22
// Largest side we accept: far beyond any image, small enough that every
// product below fits in int and size_t arithmetic is plain.
#define RESAMPLE_MAX_SIDE (1 << 20)

typedef struct Kernel {
    double (*fn)(double x);
    double support;
} Kernel;

static double bilinear_fn(double x)
{
    if (x < 0.0)
        x = -x;
    if (x < 1.0)
        return 1.0 - x;
    return 0.0;
}

// Keys' cubic convolution with a = -0.5, written in Pillow's operation
// order so that the doubles round identically.
static double bicubic_fn(double x)
{
    const double a = -0.5;
    if (x < 0.0)
        x = -x;
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0)
        return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

static double sinc(double x)
{
    if (x == 0.0)
        return 1.0;
    x = x * M_PI;
    return sin(x) / x;
}

static double lanczos_fn(double x)
{
    if (-3.0 <= x && x < 3.0)
        return sinc(x) * sinc(x / 3);
    return 0.0;
}

static const Kernel kernels[RESAMPLE_FILTER_COUNT] = {
    [RESAMPLE_NEAREST] = {NULL, 0.0},
    [RESAMPLE_BILINEAR] = {bilinear_fn, 1.0},
    [RESAMPLE_BICUBIC] = {bicubic_fn, 2.0},
    [RESAMPLE_LANCZOS] = {lanczos_fn, 3.0},
};
_Static_assert(sizeof kernels / sizeof kernels[0] == RESAMPLE_FILTER_COUNT, "one kernel per filter");

/* Fixed-point coefficients of one 1-D pass: output o reads the inputs
 * first[o] .. first[o] + count[o] - 1 with weights k[o * ksize + t]. */
typedef struct Coeffs {
    int ksize;      /* taps reserved per output */
    int *first;     /* [out] first input index */
    int *count;     /* [out] number of taps used */
    int32_t *k;     /* [out][ksize] weights, 22-bit fixed point */
} Coeffs;

static void coeffs_fini(Coeffs *c)
{
    free(c->first);
    free(c->count);
    free(c->k);
    memset(c, 0, sizeof *c);
}

// Pillow's precompute_coeffs + normalize_coeffs_8bpc for box (0, in_size).
static bool coeffs_init(Coeffs *c, int in_size, int out_size, const Kernel *kern, Err *err)
{
    memset(c, 0, sizeof *c);
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = kern->support * filterscale;
    double ksize_d = ceil(support) * 2 + 1;
    if (ksize_d > (double)in_size + 3)
        ksize_d = (double)in_size + 3; // taps never exceed the input
    c->ksize = (int)ksize_d;
    double *w = xmalloc_array((size_t)c->ksize, sizeof *w, err);
    c->first = xmalloc_array((size_t)out_size, sizeof *c->first, err);
    c->count = xmalloc_array((size_t)out_size, sizeof *c->count, err);
    c->k = xcalloc_array((size_t)out_size * (size_t)c->ksize, sizeof *c->k, err);
    if (!w || !c->first || !c->count || !c->k) {
        free(w);
        coeffs_fini(c);
        return false;
    }
    double ss = 1.0 / filterscale;
    for (int o = 0; o < out_size; o++) {
        double center = (o + 0.5) * scale;
        // Pillow truncates toward zero here ("round the value").
        int xmin = (int)(center - support + 0.5);
        if (xmin < 0)
            xmin = 0;
        int xmax = (int)(center + support + 0.5);
        if (xmax > in_size)
            xmax = in_size;
        xmax -= xmin;
        if (xmax > c->ksize)
            xmax = c->ksize;
        double total = 0.0;
        for (int t = 0; t < xmax; t++) {
            w[t] = kern->fn((t + xmin - center + 0.5) * ss);
            total += w[t];
        }
        int32_t *k = c->k + (size_t)o * (size_t)c->ksize;
        for (int t = 0; t < xmax; t++) {
            double v = total != 0.0 ? w[t] / total : w[t];
            k[t] = v < 0 ? (int32_t)(-0.5 + v * (1 << PRECISION_BITS))
                         : (int32_t)(0.5 + v * (1 << PRECISION_BITS));
        }
        c->first[o] = xmin;
        c->count[o] = xmax;
    }
    free(w);
    return true;
}

// Pillow's clip8: the accumulator's top bits, clamped to 0..255.
static inline uint8_t clip8(int32_t acc)
{
    int32_t v = acc >> PRECISION_BITS; // arithmetic shift (GCC and Clang)
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* Grey rows eight at a time with AVX2. The eight rows are first transposed
 * into cols (src_w x 8 bytes: column x holds the eight rows' pixel x), so
 * that each tap is one 8-lane multiply-add serving eight outputs, the same
 * integer products and sums as the scalar loop (exact, so every output is
 * the scalar loop's). Returns the number of rows done (a multiple of 8). */
__attribute__((target("avx2"))) static int pass_horizontal_grey_avx2(uint8_t *dst, const uint8_t *src, int src_w,
                                                                     int row0, int rows, int out_w, const Coeffs *c,
                                                                     uint8_t *cols)
{
    const size_t src_stride = (size_t)src_w, dst_stride = (size_t)out_w;
    int y = 0;
    for (; y + 8 <= rows; y += 8) {
        const uint8_t *r = src + (size_t)(row0 + y) * src_stride;
        int x = 0;
        for (; x + 16 <= src_w; x += 16) {
            __m128i v[8];
            for (int j = 0; j < 8; j++)
                v[j] = _mm_loadu_si128((const __m128i *)(r + (size_t)j * src_stride + x));
            // 8x16 byte transpose: bytes, then pairs, then quads of rows.
            __m128i b0 = _mm_unpacklo_epi8(v[0], v[1]), b1 = _mm_unpackhi_epi8(v[0], v[1]);
            __m128i b2 = _mm_unpacklo_epi8(v[2], v[3]), b3 = _mm_unpackhi_epi8(v[2], v[3]);
            __m128i b4 = _mm_unpacklo_epi8(v[4], v[5]), b5 = _mm_unpackhi_epi8(v[4], v[5]);
            __m128i b6 = _mm_unpacklo_epi8(v[6], v[7]), b7 = _mm_unpackhi_epi8(v[6], v[7]);
            __m128i w0 = _mm_unpacklo_epi16(b0, b2), w1 = _mm_unpackhi_epi16(b0, b2);
            __m128i w2 = _mm_unpacklo_epi16(b1, b3), w3 = _mm_unpackhi_epi16(b1, b3);
            __m128i w4 = _mm_unpacklo_epi16(b4, b6), w5 = _mm_unpackhi_epi16(b4, b6);
            __m128i w6 = _mm_unpacklo_epi16(b5, b7), w7 = _mm_unpackhi_epi16(b5, b7);
            uint8_t *o = cols + (size_t)x * 8;
            _mm_storeu_si128((__m128i *)(o + 0), _mm_unpacklo_epi32(w0, w4));
            _mm_storeu_si128((__m128i *)(o + 16), _mm_unpackhi_epi32(w0, w4));
            _mm_storeu_si128((__m128i *)(o + 32), _mm_unpacklo_epi32(w1, w5));
            _mm_storeu_si128((__m128i *)(o + 48), _mm_unpackhi_epi32(w1, w5));
            _mm_storeu_si128((__m128i *)(o + 64), _mm_unpacklo_epi32(w2, w6));
            _mm_storeu_si128((__m128i *)(o + 80), _mm_unpackhi_epi32(w2, w6));
            _mm_storeu_si128((__m128i *)(o + 96), _mm_unpacklo_epi32(w3, w7));
            _mm_storeu_si128((__m128i *)(o + 112), _mm_unpackhi_epi32(w3, w7));
        }
        for (; x < src_w; x++)
            for (int j = 0; j < 8; j++)
                cols[(size_t)x * 8 + (size_t)j] = r[(size_t)j * src_stride + (size_t)x];
        uint8_t *out = dst + (size_t)y * dst_stride;
        for (int o = 0; o < out_w; o++) {
            const int32_t *k = c->k + (size_t)o * (size_t)c->ksize;
            const uint8_t *col = cols + (size_t)c->first[o] * 8;
            int n = c->count[o];
            __m256i acc = _mm256_set1_epi32(1 << (PRECISION_BITS - 1));
            for (int t = 0; t < n; t++) {
                __m256i px = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(col + (size_t)t * 8)));
                acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(px, _mm256_set1_epi32(k[t])));
            }
            // clip8 on eight lanes: |acc| < 2^31, so acc >> 22 lies in
            // -512..511 and the two saturating packs clamp it to 0..255.
            __m256i v = _mm256_srai_epi32(acc, PRECISION_BITS);
            __m128i p16 = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
            uint64_t p8 = (uint64_t)_mm_cvtsi128_si64(_mm_packus_epi16(p16, p16));
            for (int j = 0; j < 8; j++)
                out[(size_t)j * dst_stride + (size_t)o] = (uint8_t)(p8 >> (8 * j));
        }
    }
    return y;
}
#endif

/* Horizontal pass: rows [row0, row0 + rows) of src (src_w x channels) into
 * dst (rows x out_w x channels). */
static void pass_horizontal(uint8_t *dst, const uint8_t *src, int src_w, int row0, int rows, int channels,
                            int out_w, const Coeffs *c)
{
    const size_t src_stride = (size_t)src_w * (size_t)channels;
    const size_t dst_stride = (size_t)out_w * (size_t)channels;
    int y = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    // The column scratch is optional: without it the scalar loops below do
    // all the rows.
    uint8_t *cols = channels == 1 && rows >= 8 && __builtin_cpu_supports("avx2") ? malloc((size_t)src_w * 8) : NULL;
    if (cols)
        y = pass_horizontal_grey_avx2(dst, src, src_w, row0, rows, out_w, c, cols);
    free(cols);
#endif
    if (channels == 1) {
        // Four rows at a time: four independent sums share each coefficient
        // load, which keeps the multipliers busy (integer sums are exact, so
        // the grouping does not change any result).
        for (; y + 4 <= rows; y += 4) {
            const uint8_t *r0 = src + (size_t)(row0 + y) * src_stride;
            const uint8_t *r1 = r0 + src_stride, *r2 = r1 + src_stride, *r3 = r2 + src_stride;
            uint8_t *o0 = dst + (size_t)y * dst_stride;
            for (int o = 0; o < out_w; o++) {
                const int32_t *k = c->k + (size_t)o * (size_t)c->ksize;
                int f = c->first[o], n = c->count[o];
                int32_t a0 = 1 << (PRECISION_BITS - 1), a1 = a0, a2 = a0, a3 = a0;
                for (int t = 0; t < n; t++) {
                    int32_t kt = k[t];
                    a0 += r0[f + t] * kt;
                    a1 += r1[f + t] * kt;
                    a2 += r2[f + t] * kt;
                    a3 += r3[f + t] * kt;
                }
                o0[o] = clip8(a0);
                o0[dst_stride + o] = clip8(a1);
                o0[2 * dst_stride + o] = clip8(a2);
                o0[3 * dst_stride + o] = clip8(a3);
            }
        }
    }
    for (; y < rows; y++) {
        const uint8_t *in = src + (size_t)(row0 + y) * src_stride;
        uint8_t *out = dst + (size_t)y * dst_stride;
        for (int o = 0; o < out_w; o++) {
            const int32_t *k = c->k + (size_t)o * (size_t)c->ksize;
            const uint8_t *p = in + (size_t)c->first[o] * (size_t)channels;
            int n = c->count[o];
            if (channels == 1) {
                int32_t acc = 1 << (PRECISION_BITS - 1);
                for (int t = 0; t < n; t++)
                    acc += p[t] * k[t];
                out[o] = clip8(acc);
                continue;
            }
            for (int ch = 0; ch < channels; ch++) {
                int32_t acc = 1 << (PRECISION_BITS - 1);
                for (int t = 0; t < n; t++)
                    acc += p[(size_t)t * (size_t)channels + (size_t)ch] * k[t];
                out[(size_t)o * (size_t)channels + (size_t)ch] = clip8(acc);
            }
        }
    }
}

/* Vertical pass: dst row o = sum over taps of src rows (first[o] - row0 + t).
 * Rows are accumulated whole so the inner loop runs over contiguous bytes;
 * integer sums do not depend on the order. */
static void pass_vertical(uint8_t *dst, const uint8_t *src, int row0, size_t row_bytes, int out_h,
                          const Coeffs *c, int32_t *acc)
{
    // `omp simd` asks for vector code that -O2's cost model would not
    // choose; integer sums give the same bits either way.
    for (int o = 0; o < out_h; o++) {
        const int32_t *k = c->k + (size_t)o * (size_t)c->ksize;
#pragma omp simd
        for (size_t i = 0; i < row_bytes; i++)
            acc[i] = 1 << (PRECISION_BITS - 1);
        for (int t = 0; t < c->count[o]; t++) {
            const uint8_t *in = src + (size_t)(c->first[o] - row0 + t) * row_bytes;
            int32_t kt = k[t];
#pragma omp simd
            for (size_t i = 0; i < row_bytes; i++)
                acc[i] += in[i] * kt;
        }
        uint8_t *out = dst + (size_t)o * row_bytes;
#pragma omp simd
        for (size_t i = 0; i < row_bytes; i++)
            out[i] = clip8(acc[i]);
    }
}

/* Pillow's NEAREST resize (ImagingScaleAffine): the source coordinate
 * starts at scale/2 and is advanced by += scale, in double, then floored;
 * a coordinate that falls outside the source gives 0 (Pillow's fill). */
static bool resize_nearest(uint8_t *dst, int dst_w, int dst_h, const uint8_t *src, int src_w, int src_h,
                           int channels, Err *err)
{
    int *xin = xmalloc_array((size_t)dst_w, sizeof *xin, err);
    if (!xin)
        return false;
    double ax = (double)(float)src_w / dst_w, ay = (double)(float)src_h / dst_h;
    double xo = ax * 0.5;
    for (int x = 0; x < dst_w; x++) {
        int xi = xo < 0.0 ? -1 : (int)xo;
        xin[x] = xi < src_w ? xi : -1;
        xo += ax;
    }
    double yo = ay * 0.5;
    const size_t cs = (size_t)channels;
    for (int y = 0; y < dst_h; y++) {
        int yi = yo < 0.0 ? -1 : (int)yo;
        uint8_t *out = dst + (size_t)y * (size_t)dst_w * cs;
        if (yi < 0 || yi >= src_h) {
            memset(out, 0, (size_t)dst_w * cs);
        } else {
            const uint8_t *in = src + (size_t)yi * (size_t)src_w * cs;
            for (int x = 0; x < dst_w; x++) {
                if (xin[x] < 0)
                    memset(out + (size_t)x * cs, 0, cs);
                else
                    memcpy(out + (size_t)x * cs, in + (size_t)xin[x] * cs, cs);
            }
        }
        yo += ay;
    }
    free(xin);
    return true;
}

bool resample_pillow_u8(uint8_t *dst, int dst_w, int dst_h, const uint8_t *src, int src_w, int src_h,
                        int channels, ResampleFilter filter, Err *err)
{
    if (src_w < 1 || src_h < 1 || dst_w < 1 || dst_h < 1 || src_w > RESAMPLE_MAX_SIDE ||
        src_h > RESAMPLE_MAX_SIDE || dst_w > RESAMPLE_MAX_SIDE || dst_h > RESAMPLE_MAX_SIDE)
        return err_set(err, "cannot resize %dx%d to %dx%d: sides must be 1..%d", src_w, src_h, dst_w, dst_h,
                       RESAMPLE_MAX_SIDE);
    if (channels < 1 || channels > 4)
        return err_set(err, "cannot resize an image with %d channels (1..4)", channels);
    if ((int)filter < 0 || filter >= RESAMPLE_FILTER_COUNT)
        return err_set(err, "unknown resampling filter %d", (int)filter);
    const size_t cs = (size_t)channels;
    // Pillow returns a copy when the size does not change, for every filter.
    if (src_w == dst_w && src_h == dst_h) {
        memmove(dst, src, (size_t)src_w * (size_t)src_h * cs);
        return true;
    }
    if (filter == RESAMPLE_NEAREST)
        return resize_nearest(dst, dst_w, dst_h, src, src_w, src_h, channels, err);

    const Kernel *kern = &kernels[filter];
    bool need_h = dst_w != src_w, need_v = dst_h != src_h;
    Coeffs ch = {0}, cv = {0};
    uint8_t *tmp = NULL;
    int32_t *acc = NULL;
    bool ok = false;
    if (need_h && !coeffs_init(&ch, src_w, dst_w, kern, err))
        goto done;
    if (need_v && !coeffs_init(&cv, src_h, dst_h, kern, err))
        goto done;
    if (!need_v) {
        pass_horizontal(dst, src, src_w, 0, src_h, channels, dst_w, &ch);
        ok = true;
        goto done;
    }
    // Rows of the source the vertical pass reads (Pillow crops the
    // intermediate image to them).
    int row0 = cv.first[0];
    int row_end = cv.first[dst_h - 1] + cv.count[dst_h - 1];
    const uint8_t *mid = src;
    int mid_row0 = 0;
    if (need_h) {
        tmp = xmalloc_array((size_t)(row_end - row0) * (size_t)dst_w, cs, err);
        if (!tmp)
            goto done;
        pass_horizontal(tmp, src, src_w, row0, row_end - row0, channels, dst_w, &ch);
        mid = tmp;
        mid_row0 = row0;
    }
    size_t row_bytes = (size_t)dst_w * cs;
    acc = xmalloc_array(row_bytes, sizeof *acc, err);
    if (!acc)
        goto done;
    pass_vertical(dst, mid, mid_row0, row_bytes, dst_h, &cv, acc);
    ok = true;
done:
    free(acc);
    free(tmp);
    coeffs_fini(&cv);
    coeffs_fini(&ch);
    return ok;
}
