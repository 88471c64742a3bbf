/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conv_avx512: the kernels of conv_kernels.inc for AVX-512 (16 float lanes,
 * a 12 x 32 Winograd register tile: 24 accumulators of the 32 registers).
 * Compiled for AVX-512 by the pragma below; conv.c calls it only when the
 * CPU reports avx512f.
 */
#include <immintrin.h>
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "conv_impl.h"

// Everything below is compiled for the ISA (GCC and clang spell it apart).
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
#endif

#define KNAME(x) x##_avx512
#define VF __m512
#define VW 16
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_storeu_ps((p), (v))
#define VSET1(x) _mm512_set1_ps(x)
#define VZERO() _mm512_setzero_ps()
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm512_add_ps((a), (b))
#define VSUB(a, b) _mm512_sub_ps((a), (b))
#define VMUL(a, b) _mm512_mul_ps((a), (b))
// max_ps returns its second operand when the first is NaN or both are zero.
#define VMAX0(a) _mm512_max_ps((a), _mm512_setzero_ps())
// a > 0 ? a : a * s for 0 < s < 1 (a NaN: a).
#define VLEAKY(a, s) _mm512_max_ps(_mm512_mul_ps((a), (s)), (a))
#define DIR_OB 8
#define WG_MR 12
#define WG_NV 2

#include "conv_kernels.inc"

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

const ConvKernels conv_kernels_avx512 = {
    "avx512",
    conv_winograd_run_avx512,
    conv_direct_run_avx512,
    conv_direct_channel_run_avx512,
    conv_direct_wgrad_run_avx512,
    conv_direct_wgrad_channel_run_avx512,
    conv_gemm_run_avx512,
};
