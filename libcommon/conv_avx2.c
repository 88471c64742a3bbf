/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conv_avx2: the kernels of conv_kernels.inc for AVX2 with FMA (8 float
 * lanes, a 6 x 16 Winograd register tile: 12 accumulators of the 16
 * registers). conv.c calls it only when the CPU reports avx2 and fma.
 */
#include <immintrin.h>
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "conv_impl.h"

// Everything below is compiled for the ISA (GCC and clang spell it apart).
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif

#define KNAME(x) x##_avx2
#define VF __m256
#define VW 8
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VSET1(x) _mm256_set1_ps(x)
#define VZERO() _mm256_setzero_ps()
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm256_add_ps((a), (b))
#define VSUB(a, b) _mm256_sub_ps((a), (b))
#define VMUL(a, b) _mm256_mul_ps((a), (b))
// max_ps returns its second operand when the first is NaN or both are zero.
#define VMAX0(a) _mm256_max_ps((a), _mm256_setzero_ps())
// a > 0 ? a : a * s for 0 < s < 1 (a NaN: a).
#define VLEAKY(a, s) _mm256_max_ps(_mm256_mul_ps((a), (s)), (a))
// dst[4 t + j] = o_j[t] for t < 8: four vectors interleaved (a 4x8 transpose).
#define VSTORE_INTERLEAVE4(dst, o0, o1, o2, o3)                                                        \
    do {                                                                                              \
        __m256 a_ = _mm256_unpacklo_ps(o0, o1), b_ = _mm256_unpackhi_ps(o0, o1);                      \
        __m256 c_ = _mm256_unpacklo_ps(o2, o3), d_ = _mm256_unpackhi_ps(o2, o3);                      \
        __m256 e_ = _mm256_shuffle_ps(a_, c_, 0x44), f_ = _mm256_shuffle_ps(a_, c_, 0xEE);            \
        __m256 g_ = _mm256_shuffle_ps(b_, d_, 0x44), h_ = _mm256_shuffle_ps(b_, d_, 0xEE);            \
        _mm256_storeu_ps((dst), _mm256_permute2f128_ps(e_, f_, 0x20));                                \
        _mm256_storeu_ps((dst) + 8, _mm256_permute2f128_ps(g_, h_, 0x20));                            \
        _mm256_storeu_ps((dst) + 16, _mm256_permute2f128_ps(e_, f_, 0x31));                           \
        _mm256_storeu_ps((dst) + 24, _mm256_permute2f128_ps(g_, h_, 0x31));                           \
    } while (0)
#define DIR_OB 4
#define WG_MR 6
#define WG_NV 2

#include "conv_kernels.inc"

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

const ConvKernels conv_kernels_avx2 = {
    "avx2",
    conv_winograd_run_avx2,
    conv_direct_run_avx2,
    conv_direct_channel_run_avx2,
    conv_direct_wgrad_run_avx2,
    conv_direct_wgrad_channel_run_avx2,
    conv_gemm_run_avx2,
};
