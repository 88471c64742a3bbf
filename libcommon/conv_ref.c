/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conv_ref: the reference convolution, textbook loops straight from the
 * definition of torch.nn.Conv2d (cross-correlation with zero padding), with
 * double accumulators so that it is more accurate than any fast algorithm it
 * checks. Single-threaded and slow on purpose: it is for tests.
 */
#include <string.h>

#include "conv_impl.h"

void conv_ref_forward(float *out, const float *inp, const float *weight, const float *bias, const ConvShape *s)
{
    for (int64_t n = 0; n < s->N; n++)
        for (int64_t oc = 0; oc < s->OC; oc++)
            for (int64_t oh = 0; oh < s->OH; oh++)
                for (int64_t ow = 0; ow < s->OW; ow++) {
                    double acc = bias ? bias[oc] : 0.0;
                    for (int64_t c = 0; c < s->C; c++)
                        for (int64_t kh = 0; kh < s->KH; kh++)
                            for (int64_t kw = 0; kw < s->KW; kw++) {
                                int64_t ih = oh * s->stride - s->pad + kh;
                                int64_t iw = ow * s->stride - s->pad + kw;
                                if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W)
                                    continue;
                                acc += (double)inp[((n * s->C + c) * s->H + ih) * s->W + iw] *
                                       weight[((oc * s->C + c) * s->KH + kh) * s->KW + kw];
                            }
                    out[((n * s->OC + oc) * s->OH + oh) * s->OW + ow] = (float)acc;
                }
}

// Gathers, for each input pixel, every (output pixel, kernel tap) that read
// it: the transpose of the forward loop, written as a gather so each input
// gradient has a single accumulator.
void conv_ref_backward_input(float *dinp, const float *dout, const float *weight, const ConvShape *s)
{
    for (int64_t n = 0; n < s->N; n++)
        for (int64_t c = 0; c < s->C; c++)
            for (int64_t ih = 0; ih < s->H; ih++)
                for (int64_t iw = 0; iw < s->W; iw++) {
                    double acc = 0.0;
                    for (int64_t oc = 0; oc < s->OC; oc++)
                        for (int64_t kh = 0; kh < s->KH; kh++)
                            for (int64_t kw = 0; kw < s->KW; kw++) {
                                int64_t th = ih + s->pad - kh, tw = iw + s->pad - kw;
                                if (th < 0 || tw < 0 || th % s->stride || tw % s->stride)
                                    continue;
                                int64_t oh = th / s->stride, ow = tw / s->stride;
                                if (oh >= s->OH || ow >= s->OW)
                                    continue;
                                acc += (double)dout[((n * s->OC + oc) * s->OH + oh) * s->OW + ow] *
                                       weight[((oc * s->C + c) * s->KH + kh) * s->KW + kw];
                            }
                    dinp[((n * s->C + c) * s->H + ih) * s->W + iw] = (float)acc;
                }
}

void conv_ref_backward_weight(float *dweight, float *dbias, const float *dout, const float *inp,
                              const ConvShape *s)
{
    for (int64_t oc = 0; oc < s->OC; oc++)
        for (int64_t c = 0; c < s->C; c++)
            for (int64_t kh = 0; kh < s->KH; kh++)
                for (int64_t kw = 0; kw < s->KW; kw++) {
                    double acc = 0.0;
                    for (int64_t n = 0; n < s->N; n++)
                        for (int64_t oh = 0; oh < s->OH; oh++)
                            for (int64_t ow = 0; ow < s->OW; ow++) {
                                int64_t ih = oh * s->stride - s->pad + kh;
                                int64_t iw = ow * s->stride - s->pad + kw;
                                if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W)
                                    continue;
                                acc += (double)dout[((n * s->OC + oc) * s->OH + oh) * s->OW + ow] *
                                       inp[((n * s->C + c) * s->H + ih) * s->W + iw];
                            }
                    dweight[((oc * s->C + c) * s->KH + kh) * s->KW + kw] += (float)acc;
                }
    if (dbias)
        conv_bias_grad(dbias, dout, s);
}
