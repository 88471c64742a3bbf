/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the transform text form on arbitrary bytes. A spec that
 * parses must format back to the same spec, and must run (or be refused
 * with a message) on a small image, which also drives the Pillow resampler
 * through arbitrary sizes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    char text[257];
    memcpy(text, data, size);
    text[size] = 0;
    TransformSpec spec;
    Err err = {0};
    if (!transform_spec_parse(&spec, text, &err))
        return 0;
    char back[TRANSFORM_SPEC_TEXT_BYTES];
    transform_spec_format(&spec, back, sizeof back);
    TransformSpec again;
    if (!transform_spec_parse(&again, back, &err) || memcmp(&spec, &again, sizeof spec) != 0)
        __builtin_trap();
    // Keep each run cheap: bounded output sizes only.
    if ((int64_t)spec.resize_h * spec.resize_w > 4096 || spec.pad > 32)
        return 0;
    enum { C = 3, H = 23, W = 19 };
    uint8_t src[C * H * W];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 37 + size);
    int oc, oh, ow;
    if (!transform_output_shape(&spec, C, H, W, &oc, &oh, &ow, &err))
        return 0;
    float *out = malloc((size_t)oc * oh * ow * sizeof *out);
    Rng rng;
    rng_init(&rng, size);
    if (out && !transform_apply(&spec, out, src, C, H, W, &rng, &err))
        __builtin_trap(); // the shape was accepted, so the run must succeed
    free(out);
    return 0;
}
