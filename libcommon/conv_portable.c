/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conv_portable: the kernels of conv_kernels.inc in plain C (one lane, the
 * compiler vectorises what it can for the baseline ISA), for CPUs without
 * AVX2. Separate multiply and add, as C without contraction gives. Its
 * blocking (12-row Winograd tile, 8 output channels per direct block) is the
 * AVX-512 one, so that the unit tests exercise those code paths on any CPU.
 */
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "conv_impl.h"

#define KNAME(x) x##_portable
#define VF float
#define VW 1
#define VLOAD(p) (*(p))
#define VSTORE(p, v) (*(p) = (v))
#define VSET1(x) (x)
#define VZERO() 0.0f
#define VFMA(a, b, c) ((a) * (b) + (c))
#define VADD(a, b) ((a) + (b))
#define VSUB(a, b) ((a) - (b))
#define VMUL(a, b) ((a) * (b))
#define VMAX0(a) ((a) > 0.0f ? (a) : 0.0f)
#define VLEAKY(a, s) ((a) > 0.0f ? (a) : (a) * (s))
#define DIR_OB 8
#define WG_MR 12
#define WG_NV 2

#include "conv_kernels.inc"

const ConvKernels conv_kernels_portable = {
    "portable",
    conv_winograd_run_portable,
    conv_direct_run_portable,
    conv_direct_channel_run_portable,
    conv_direct_wgrad_run_portable,
    conv_direct_wgrad_channel_run_portable,
    conv_gemm_run_portable,
};
