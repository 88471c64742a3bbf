/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_init: weight initialisers with torch.nn.init's formulas, drawn from the
 * toolkit's seeded Rng (rng.h), so the same seed gives the same weights bit
 * for bit. torch's own random stream is not reproduced (spec 6.4).
 *
 * All functions fill host memory (n floats); upload to the device with
 * params_upload, or write params_data directly on the CPU back end.
 * fan_in = in_channels * kh * kw, fan_out = out_channels * kh * kw (torch's
 * _calculate_fan_in_and_fan_out for conv and linear weights).
 * Thread safety: an Rng per thread.
 *
 *     Rng rng;  rng_init(&rng, seed);
 *     // spec 3.4: kaiming_normal(fan_out, leaky_relu, a = 0.2)
 *     nn_init_kaiming_normal(w, n, nn_init_gain_leaky_relu(0.2), fan_out, &rng);
 *     nn_init_torch_default_bias(b, oc, fan_in, &rng);
 */
#ifndef ADKIT_NN_INIT_H
#define ADKIT_NN_INIT_H

#include <stdint.h>

#include "rng.h"

/* torch.nn.init.calculate_gain('leaky_relu', a) = sqrt(2 / (1 + a^2));
 * a = 0.2 gives 1.3867504905630728 (spec 1.1). relu is a = 0. */
double nn_init_gain_leaky_relu(double a);

/* N(0, (gain / sqrt(fan))^2), fan = fan_in or fan_out per the mode. */
void nn_init_kaiming_normal(float *w, int64_t n, double gain, int64_t fan, Rng *rng);

/* U(-b, b) with b = gain * sqrt(3 / fan) (kaiming_uniform). */
void nn_init_kaiming_uniform(float *w, int64_t n, double gain, int64_t fan, Rng *rng);

/* U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)). */
void nn_init_xavier_uniform(float *w, int64_t n, double gain, int64_t fan_in, int64_t fan_out, Rng *rng);

/* torch's default Conv2d/Linear weight: kaiming_uniform with a = sqrt(5),
 * i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
void nn_init_torch_default_weight(float *w, int64_t n, int64_t fan_in, Rng *rng);

/* torch's default Conv2d/Linear bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
void nn_init_torch_default_bias(float *b, int64_t n, int64_t fan_in, Rng *rng);

/* U(lo, hi) and a constant. */
void nn_init_uniform(float *w, int64_t n, double lo, double hi, Rng *rng);
void nn_init_constant(float *w, int64_t n, float value);

#endif
