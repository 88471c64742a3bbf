/* SPDX-License-Identifier: Apache-2.0 */
/*
 * half: IEEE 754 binary16 to float conversion, for weight files that store
 * fp16 (ncnn .bin files, torch float16 tensors). Exact: every half value,
 * subnormals, infinities and NaNs included, has a float equal to it.
 * Thread safety: pure function.
 *
 *     float w = half_to_float((uint16_t)(p[0] | p[1] << 8));   // little-endian bytes
 */
#ifndef ADKIT_HALF_H
#define ADKIT_HALF_H

#include <stdint.h>

/* The float equal to the binary16 value h. */
float half_to_float(uint16_t h);

#endif
