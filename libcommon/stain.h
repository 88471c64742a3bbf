/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stain: stain normalisation of H&E patches (spec camelyon16.md 8).
 *
 * Three methods map the colours of a source patch onto those of a target
 * image fitted once:
 * - STAIN_VAHADANE (the paper's, the default): brightness standardisation,
 *   a not-white mask, optical density, a 2-atom non-negative dictionary
 *   learned with SPAMS' online algorithm (spec 8.3; a FIXED budget of
 *   STAIN_VAHADANE_BATCHES mini-batches of STAIN_VAHADANE_BATCH_SIZE pixels
 *   replaces the original's 1-second time limit, so results are
 *   deterministic), concentrations by the 2-atom non-negative lasso
 *   (lambda 0.01, spec 8.4), output 255*exp(-C*S_target) truncated.
 * - STAIN_MACENKO: Macenko et al. 2009 ("A method for normalizing histology
 *   slides for quantitative analysis", ISBI), in the usual formulation of
 *   the widely used HEnorm code: Io = 240, OD = -ln((I+1)/Io), pixels with
 *   any OD channel below beta = 0.15 dropped, the plane of the two leading
 *   eigenvectors of the OD covariance, the 1st and 99th percentile angles
 *   (alpha = 1), concentrations by least squares, each stain's 99th
 *   percentile concentration scaled to the target's.
 * - STAIN_REINHARD: Reinhard et al. 2001 colour transfer: per-channel mean
 *   and standard deviation matching in CIE L*a*b* (D65 white, sRGB
 *   companding, the float formulas OpenCV documents for cvtColor), over all
 *   pixels.
 *
 * Images are planar RGB u8, the layout of stream records: three planes of
 * npix bytes (R, then G, then B), pixels in row-major order.
 * Stain matrices are 2 x 3: row 0 haematoxylin (the larger red OD), row 1
 * eosin, each of unit L2 norm (or all zero when a stain is absent).
 *
 * Not for: choosing patches, reading images (img.h), or slides (slide.h).
 * Thread safety: every function is reentrant and keeps no global state
 * (SPAMS' glibc random() stream is reproduced with a per-call random_r
 * state); callers parallelise over patches.
 * Ownership: no function keeps a pointer it is given.
 * Errors: false with a message (out of memory, a target without tissue,
 * a malformed target file).
 *
 *     StainTarget target;
 *     if (!stain_fit(&target, STAIN_VAHADANE, target_rgb, target_npix, &err)) ...
 *     bool copied;
 *     if (!stain_normalize(out, patch, 768 * 768, &target, &copied, &err)) ...
 *     if (copied) warn("patch has no tissue: copied unchanged");
 *     stain_target_save(&target, "target.stain", &err);
 */
#ifndef ADKIT_STAIN_H
#define ADKIT_STAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

typedef enum StainMethod {
    STAIN_VAHADANE,
    STAIN_MACENKO,
    STAIN_REINHARD,
    STAIN_METHOD_COUNT
} StainMethod;

/* Vahadane parameters (spec 8.2-8.4). */
#define STAIN_WHITE_L8_MAX 203          /* not white <=> OpenCV 8-bit L <= 203 */
#define STAIN_VAHADANE_LAMBDA 0.1       /* dictionary learning penalty */
#define STAIN_VAHADANE_CONC_LAMBDA 0.01 /* concentration penalty */
/* The fixed budget that replaces SPAMS' 1-second limit: 256 mini-batches of
 * 1024 pixels (SPAMS' own batch size for 3 processors). On synthetic H&E
 * patches of 768x768, 32 times this budget moves the learned atoms by less
 * than 0.01 degree. */
#define STAIN_VAHADANE_BATCH_SIZE 1024
#define STAIN_VAHADANE_BATCHES 256
/* Macenko parameters. */
#define STAIN_MACENKO_IO 240.0
#define STAIN_MACENKO_ALPHA 1.0 /* percent */
#define STAIN_MACENKO_BETA 0.15

/* A fitted target: everything the chosen method needs. */
typedef struct StainTarget {
    StainMethod method;
    double stain[2][3];  /* Vahadane, Macenko: OD rows, H then E, unit norm */
    double max_conc[2];  /* Macenko: 99th percentile concentrations (H, E) */
    double lab_mean[3];  /* Reinhard: mean of L*, a*, b* */
    double lab_std[3];   /* Reinhard: standard deviation of L*, a*, b* */
} StainTarget;

/* "vahadane", "macenko", "reinhard"; "?" for an invalid value. */
const char *stain_method_name(StainMethod m);

/* Parses a name as above; false when unknown. */
bool stain_method_from_name(const char *name, StainMethod *out);

/* Fits the target of method m on a planar RGB image of npix pixels.
 * Fails when the image has no usable tissue pixel (not-white for Vahadane,
 * OD above beta for Macenko) or memory runs out. */
bool stain_fit(StainTarget *target, StainMethod m, const uint8_t *rgb, int64_t npix, Err *err);

/* Normalises src (planar RGB, npix pixels) to target into dst (same size;
 * dst may equal src). A patch without any usable tissue pixel is copied
 * unchanged and *copied set to true (the caller warns); otherwise *copied is
 * false. Fails only when memory runs out (dst untouched). */
bool stain_normalize(uint8_t *dst, const uint8_t *src, int64_t npix, const StainTarget *target, bool *copied,
                     Err *err);

/* Writes the target as a small text file (atomic; "-" = stdout):
 *     adkit-stain 1
 *     method vahadane
 *     stain_h 0.6443 0.7167 0.2669
 *     stain_e 0.0925 0.9541 0.2848
 *     max_conc 0 0
 *     lab_mean 0 0 0
 *     lab_std 0 0 0
 * Numbers are printed with 17 significant digits, so load gives back the
 * same doubles. Lines starting with '#' are comments. */
bool stain_target_save(const StainTarget *target, const char *path, Err *err);

/* Reads a file written by stain_target_save ("-" = stdin; at most
 * STAIN_TARGET_MAX_BYTES). Errors name the file and line ("t.stain:3:
 * stain_h needs 3 finite numbers"). target is written only on success. */
bool stain_target_load(StainTarget *target, const char *path, Err *err);

#define STAIN_TARGET_MAX_BYTES 65536

/* Parses the text of a target file held in memory (n bytes, need not be
 * NUL-terminated); name is used in messages. */
bool stain_target_parse(StainTarget *target, const char *text, size_t n, const char *name, Err *err);

/* ---- Building blocks, exposed for tests and other tools ---- */

/* Brightness standardisation (spec 8.2): p = 90th percentile of all bytes
 * (linear interpolation at 0.9*(n-1)); out = trunc(clip(v*255/p, 0, 255)).
 * When p == 0 (an almost black image) zeros stay 0 and the rest become 255
 * (the original divides by zero there). dst may equal src. */
void stain_standardize_brightness(uint8_t *dst, const uint8_t *src, int64_t nbytes);

/* True when the pixel is not white: OpenCV's 8-bit L = rint(L* * 255/100)
 * is <= STAIN_WHITE_L8_MAX, with L* from the float sRGB -> XYZ (D65)
 * formulas. OpenCV computes L with fixed-point tables, so pixels within one
 * L8 step of the threshold may be classed differently from the original. */
bool stain_not_white(uint8_t r, uint8_t g, uint8_t b);

/* Vahadane stain matrix (spec 8.3) of a planar RGB image that has already
 * been brightness-standardised. Returns the number of not-white pixels used
 * (0: no tissue, S left zero), or -1 when memory runs out. */
int64_t stain_vahadane_matrix(double S[2][3], const uint8_t *rgb, int64_t npix, Err *err);

/* The non-negative lasso of two atoms with Gram matrix ((g00, g01), (g01,
 * g11)) and correlations c = (d0.x, d1.x): argmin_{a >= 0}
 * 1/2 a'Ga - c'a + lambda (a0 + a1), solved exactly as LARS does (spec 8.4). */
void stain_lasso2(double a[2], const double c[2], double g00, double g01, double g11, double lambda);

#endif
