/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_cpu_spatial: CPU kernels over image planes: 2x2 pooling, nearest x2
 * up-sampling, bilinear resizing (torch align_corners=False) and reflection
 * padding, forward and backward. One plane (one n, c) per loop iteration;
 * planes are independent, so backward scatters stay race-free and results
 * do not depend on the thread count.
 */
#include <string.h>

#include "nn_cpu_impl.h"


// torch AvgPool2d(2): the 2x2 sum times 0.25 (spec 11.4).
void nn_cpu_avgpool2_forward(float *restrict out, const float *restrict inp, int64_t NC, int64_t H, int64_t W)
{
    const int64_t OH = H / 2, OW = W / 2;
    NN_CPU_FOR((NC) * (H * W), p, NC,
        const float *x = inp + p * H * W;
        float *o = out + p * OH * OW;
        for (int64_t y = 0; y < OH; y++)
            for (int64_t xx = 0; xx < OW; xx++) {
                const float *r0 = x + (2 * y) * W + 2 * xx, *r1 = r0 + W;
                o[y * OW + xx] = (r0[0] + r0[1] + r1[0] + r1[1]) * 0.25f;
            }
    );
}

void nn_cpu_avgpool2_backward(float *restrict dinp, const float *restrict dout, int64_t NC, int64_t H, int64_t W,
                              bool acc)
{
    const int64_t OH = H / 2, OW = W / 2;
    NN_CPU_FOR((NC) * (H * W), p, NC,
        float *d = dinp + p * H * W;
        const float *g = dout + p * OH * OW;
        if (!acc)
            memset(d, 0, (size_t)(H * W) * sizeof *d);
        for (int64_t y = 0; y < OH; y++)
            for (int64_t xx = 0; xx < OW; xx++) {
                const float v = g[y * OW + xx] * 0.25f;
                float *r0 = d + (2 * y) * W + 2 * xx, *r1 = r0 + W;
                r0[0] += v;
                r0[1] += v;
                r1[0] += v;
                r1[1] += v;
            }
    );
}

// Index (0..3) of the first maximal element of a 2x2 window in row-major
// order; torch's max-pool also takes a NaN as the maximum.
static inline int argmax4(const float *r0, const float *r1)
{
    const float v[4] = {r0[0], r0[1], r1[0], r1[1]};
    int best = 0;
    for (int k = 1; k < 4; k++)
        if (v[k] > v[best] || (v[k] != v[k] && v[best] == v[best]))
            best = k;
    return best;
}

void nn_cpu_maxpool2_forward(float *restrict out, const float *restrict inp, int64_t NC, int64_t H, int64_t W)
{
    const int64_t OH = H / 2, OW = W / 2;
    NN_CPU_FOR((NC) * (H * W), p, NC,
        const float *x = inp + p * H * W;
        float *o = out + p * OH * OW;
        for (int64_t y = 0; y < OH; y++)
            for (int64_t xx = 0; xx < OW; xx++) {
                const float *r0 = x + (2 * y) * W + 2 * xx, *r1 = r0 + W;
                float m = r0[0];
                m = r0[1] > m ? r0[1] : m;
                m = r1[0] > m ? r1[0] : m;
                m = r1[1] > m ? r1[1] : m;
                o[y * OW + xx] = m;
            }
    );
}

void nn_cpu_maxpool2_backward(float *restrict dinp, const float *restrict dout, const float *restrict inp,
                              int64_t NC, int64_t H, int64_t W, bool acc)
{
    const int64_t OH = H / 2, OW = W / 2;
    NN_CPU_FOR((NC) * (H * W), p, NC,
        const float *x = inp + p * H * W;
        float *d = dinp + p * H * W;
        const float *g = dout + p * OH * OW;
        if (!acc)
            memset(d, 0, (size_t)(H * W) * sizeof *d);
        for (int64_t y = 0; y < OH; y++)
            for (int64_t xx = 0; xx < OW; xx++) {
                const int64_t base = (2 * y) * W + 2 * xx;
                const int k = argmax4(x + base, x + base + W);
                d[base + (k >> 1) * W + (k & 1)] += g[y * OW + xx];
            }
    );
}

void nn_cpu_upsample2_forward(float *restrict out, const float *restrict inp, float scale, int64_t NC, int64_t H,
                              int64_t W)
{
    const int64_t OW = 2 * W;
    NN_CPU_FOR((NC) * (4 * H * W), p, NC,
        const float *x = inp + p * H * W;
        float *o = out + p * 4 * H * W;
        for (int64_t y = 0; y < 2 * H; y++) {
            const float *row = x + (y >> 1) * W;
            float *orow = o + y * OW;
            if (scale == 1.0f)
                for (int64_t xx = 0; xx < OW; xx++)
                    orow[xx] = row[xx >> 1];
            else
                for (int64_t xx = 0; xx < OW; xx++)
                    orow[xx] = row[xx >> 1] * scale;
        }
    );
}

void nn_cpu_upsample2_backward(float *restrict dinp, const float *restrict dout, float scale, int64_t NC,
                               int64_t H, int64_t W, bool acc)
{
    const int64_t OW = 2 * W;
    NN_CPU_FOR((NC) * (4 * H * W), p, NC,
        const float *g = dout + p * 4 * H * W;
        float *d = dinp + p * H * W;
        for (int64_t y = 0; y < H; y++)
            for (int64_t xx = 0; xx < W; xx++) {
                const float *r0 = g + (2 * y) * OW + 2 * xx, *r1 = r0 + OW;
                const float v = (r0[0] + r0[1] + r1[0] + r1[1]) * scale;
                d[y * W + xx] = acc ? d[y * W + xx] + v : v;
            }
    );
}

// torch upsample_bilinear2d, align_corners=False: scale = in/out in float,
// source = max(scale*(dst+0.5) - 0.5, 0), and the blend order
// h0*(w0*a + w1*b) + h1*(w0*c + w1*d) (spec 4.3, 11.6).
typedef struct Tap {
    int64_t i0;   /* first source index */
    int64_t step; /* 1, or 0 at the last source index */
    float l0, l1; /* weights of i0 and i0 + step */
} Tap;

static void bilinear_taps(Tap *t, int64_t in, int64_t out)
{
    const float scale = (float)in / (float)out;
    for (int64_t d = 0; d < out; d++) {
        float src = scale * ((float)d + 0.5f) - 0.5f;
        if (src < 0.0f)
            src = 0.0f;
        const int64_t i = (int64_t)src;
        t[d].i0 = i;
        t[d].step = i < in - 1 ? 1 : 0;
        t[d].l1 = src - (float)i;
        t[d].l0 = 1.0f - t[d].l1;
    }
}

// Taps for up to this many output rows/columns live on the stack.
#define MAX_TAPS 4096

void nn_cpu_bilinear_forward(float *restrict out, const float *restrict inp, int64_t NC, int64_t H, int64_t W,
                             int64_t OH, int64_t OW)
{
    Tap th[MAX_TAPS], tw[MAX_TAPS];
    bilinear_taps(th, H, OH);
    bilinear_taps(tw, W, OW);
    NN_CPU_FOR((NC) * (OH * OW), p, NC,
        const float *x = inp + p * H * W;
        float *o = out + p * OH * OW;
        for (int64_t y = 0; y < OH; y++) {
            const float *r0 = x + th[y].i0 * W, *r1 = r0 + th[y].step * W;
            for (int64_t xx = 0; xx < OW; xx++) {
                const Tap *c = &tw[xx];
                o[y * OW + xx] = th[y].l0 * (c->l0 * r0[c->i0] + c->l1 * r0[c->i0 + c->step]) +
                                 th[y].l1 * (c->l0 * r1[c->i0] + c->l1 * r1[c->i0 + c->step]);
            }
        }
    );
}

void nn_cpu_bilinear_backward(float *restrict dinp, const float *restrict dout, int64_t NC, int64_t H, int64_t W,
                              int64_t OH, int64_t OW, bool acc)
{
    Tap th[MAX_TAPS], tw[MAX_TAPS];
    bilinear_taps(th, H, OH);
    bilinear_taps(tw, W, OW);
    NN_CPU_FOR((NC) * (OH * OW), p, NC,
        float *d = dinp + p * H * W;
        const float *g = dout + p * OH * OW;
        if (!acc)
            memset(d, 0, (size_t)(H * W) * sizeof *d);
        for (int64_t y = 0; y < OH; y++) {
            float *r0 = d + th[y].i0 * W, *r1 = r0 + th[y].step * W;
            for (int64_t xx = 0; xx < OW; xx++) {
                const Tap *c = &tw[xx];
                const float v = g[y * OW + xx];
                r0[c->i0] += th[y].l0 * c->l0 * v;
                r0[c->i0 + c->step] += th[y].l0 * c->l1 * v;
                r1[c->i0] += th[y].l1 * c->l0 * v;
                r1[c->i0 + c->step] += th[y].l1 * c->l1 * v;
            }
        }
    );
}

// torch ReflectionPad2d: index -1 maps to 1, index H maps to H-2.
static inline int64_t reflect(int64_t i, int64_t n)
{
    if (i < 0)
        return -i;
    if (i >= n)
        return 2 * (n - 1) - i;
    return i;
}

void nn_cpu_reflect_pad_forward(float *restrict out, const float *restrict inp, int64_t NC, int64_t H, int64_t W,
                                int64_t pad)
{
    const int64_t PH = H + 2 * pad, PW = W + 2 * pad;
    NN_CPU_FOR((NC) * (PH * PW), p, NC,
        const float *x = inp + p * H * W;
        float *o = out + p * PH * PW;
        for (int64_t y = 0; y < PH; y++)
            for (int64_t xx = 0; xx < PW; xx++)
                o[y * PW + xx] = x[reflect(y - pad, H) * W + reflect(xx - pad, W)];
    );
}

void nn_cpu_reflect_pad_backward(float *restrict dinp, const float *restrict dout, int64_t NC, int64_t H,
                                 int64_t W, int64_t pad, bool acc)
{
    const int64_t PH = H + 2 * pad, PW = W + 2 * pad;
    NN_CPU_FOR((NC) * (PH * PW), p, NC,
        float *d = dinp + p * H * W;
        const float *g = dout + p * PH * PW;
        if (!acc)
            memset(d, 0, (size_t)(H * W) * sizeof *d);
        for (int64_t y = 0; y < PH; y++)
            for (int64_t xx = 0; xx < PW; xx++)
                d[reflect(y - pad, H) * W + reflect(xx - pad, W)] += g[y * PW + xx];
    );
}
