/* SPDX-License-Identifier: Apache-2.0 */
/* nn_init: torch.nn.init formulas over the seeded Rng. */
#include "nn_init.h"

#include <math.h>

double nn_init_gain_leaky_relu(double a)
{
    return sqrt(2.0 / (1.0 + a * a));
}

void nn_init_uniform(float *w, int64_t n, double lo, double hi, Rng *rng)
{
    for (int64_t i = 0; i < n; i++)
        w[i] = (float)(lo + (hi - lo) * rng_uniform(rng));
}

void nn_init_constant(float *w, int64_t n, float value)
{
    for (int64_t i = 0; i < n; i++)
        w[i] = value;
}

void nn_init_kaiming_normal(float *w, int64_t n, double gain, int64_t fan, Rng *rng)
{
    const double std = gain / sqrt((double)fan);
    for (int64_t i = 0; i < n; i++)
        w[i] = (float)(std * rng_normal(rng));
}

void nn_init_kaiming_uniform(float *w, int64_t n, double gain, int64_t fan, Rng *rng)
{
    const double bound = gain * sqrt(3.0 / (double)fan);
    nn_init_uniform(w, n, -bound, bound, rng);
}

void nn_init_xavier_uniform(float *w, int64_t n, double gain, int64_t fan_in, int64_t fan_out, Rng *rng)
{
    const double bound = gain * sqrt(6.0 / (double)(fan_in + fan_out));
    nn_init_uniform(w, n, -bound, bound, rng);
}

void nn_init_torch_default_weight(float *w, int64_t n, int64_t fan_in, Rng *rng)
{
    // kaiming_uniform(a = sqrt(5)): gain sqrt(2 / 6), bound gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in).
    nn_init_kaiming_uniform(w, n, nn_init_gain_leaky_relu(sqrt(5.0)), fan_in, rng);
}

void nn_init_torch_default_bias(float *b, int64_t n, int64_t fan_in, Rng *rng)
{
    const double bound = 1.0 / sqrt((double)fan_in);
    nn_init_uniform(b, n, -bound, bound, rng);
}
