/* SPDX-License-Identifier: Apache-2.0 */
/*
 * transform: the per-image data transforms of the original training and
 * test pipelines (spec baselines-data.md 3.6, dpa-piad.md 9-10), reproduced
 * on 8-bit images with the exact integer rules of Pillow 6.2 / torchvision
 * 0.5, then turned into float tensors.
 *
 * A TransformSpec says which steps run; they always run in this order:
 *
 *   grey    Pillow convert('L'): L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16
 *   crop    CenterCrop (top = Python round((H - h) / 2)) or RandomCrop
 *           (top, then left, uniform integers from the Rng)
 *   equalize  PIL.ImageOps.equalize, per channel
 *   flip    RandomHorizontalFlip(0.5) then RandomVerticalFlip(0.5)
 *   resize  Pillow BILINEAR resize (resample_pillow_u8)
 *   pad     zero pixels on every side (Fashion-MNIST 28 -> 32, as GEOM did)
 *   tensor  ToTensor (u8 / 255 in float32) and, unless `unit`, Normalize(0.5,
 *           0.5): (x - 0.5) / 0.5, giving [-1, 1]
 *
 * The original's transforms use each step at most once and never combine
 * flips with a resize, so this fixed order covers every configured one:
 * NIH (grey, centre crop 224 or 300, [equalize], resize 64), Camelyon16
 * (random or centre crop 64, [equalize], [flips]), CIFAR-10/SVHN ([grey],
 * [equalize]). Images are planar (C, H, W) uint8, as stream records hold
 * them; a u16 record is accepted only with `grey` (Pillow's 16-bit rule, see
 * transform_grey_u16).
 *
 * Randomness: random crops and flips draw from the caller's Rng (crop top,
 * crop left, horizontal flip, vertical flip, in that order); give each image
 * its own stream (rng_init_stream(seed, index)) and results do not depend on
 * thread count or order. A spec without random steps never touches the Rng
 * (it may be NULL).
 *
 * Text form, for command lines and model files: comma-separated steps, read
 * left to right, each changing the spec: `grey`, `center-crop=N` or
 * `center-crop=HxW`, `random-crop=N|HxW`, `equalize`, `flip`, `resize=N|HxW`,
 * `pad=N`, `unit` (stop at [0, 1]), `identity` (nothing), `no-crop`, `no-equalize`, `no-flip`, and
 * the presets `nih` (= grey,center-crop=224,resize=64), `camelyon16`
 * (= center-crop=64), `camelyon16-train` (= random-crop=64,flip), `cifar10`
 * (nothing), `svhn-grey` (= grey), `fmnist` (= pad=2). "nih,center-crop=300,
 * equalize" is NIH with a 300 crop and equalisation.
 *
 * Not for: decoding files (img.h), or float-tensor operations of the engine.
 * Thread safety: every function is reentrant; specs are plain values;
 * transform_batch runs its own OpenMP threads.
 * Errors: functions that can fail return false with a message (a crop
 * larger than the image, a bad shape or dtype, out of memory) and leave dst
 * untouched.
 *
 *     TransformSpec spec = transform_spec_nih(224, true, 64);
 *     int c, h, w;
 *     if (!transform_record_shape(&spec, &rec, &c, &h, &w, &err)) ...
 *     float *x = xmalloc_array((size_t)c * h * w, sizeof *x, &err);
 *     Rng rng;
 *     rng_init_stream(&rng, seed, index);
 *     if (!transform_record(&spec, &rec, x, &rng, &err)) ...   // (1, 64, 64) in [-1, 1]
 */
#ifndef ADKIT_TRANSFORM_H
#define ADKIT_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "rng.h"
#include "tstream.h"

/* Which crop, if any. */
typedef enum TransformCrop {
    TRANSFORM_CROP_NONE,
    TRANSFORM_CROP_CENTER, /* torchvision CenterCrop */
    TRANSFORM_CROP_RANDOM, /* torchvision RandomCrop, no padding */
    TRANSFORM_CROP_COUNT
} TransformCrop;

/* The steps to run (see the order above). Zero-initialised = identity to
 * [0, 1] floats; the transform_spec_* constructors give the paper's. */
typedef struct TransformSpec {
    bool grey;              /* convert('L') first (1 output channel) */
    TransformCrop crop;     /* none, centre or random */
    int crop_h, crop_w;     /* crop size in pixels (with crop != NONE) */
    bool equalize;          /* ImageOps.equalize after the crop */
    bool flip;              /* random horizontal, then vertical flip, p = 0.5 each */
    int resize_h, resize_w; /* Pillow BILINEAR to this size; 0 = no resize */
    int pad;                /* zero pixels added on each side at the end; 0 = none */
    bool normalize;         /* true: [-1, 1] (Normalize 0.5); false: [0, 1] */
} TransformSpec;

/* Longest text transform_spec_format writes, with its NUL. */
#define TRANSFORM_SPEC_TEXT_BYTES 160

/* NIHTransform(crop_size=crop, resize=resize, equalize_hist=equalize):
 * grey, centre crop, [equalize], resize, [-1, 1]. The paper: crop 224 or
 * 300, resize 64. */
TransformSpec transform_spec_nih(int crop, bool equalize, int resize);

/* Camelyon16Transform(crop_size=crop, random_crop, random_flip,
 * equalize_hist): RGB kept, [-1, 1]. DPA training: (64, true, true, false);
 * testing: (64, false, false, false). */
TransformSpec transform_spec_camelyon16(int crop, bool random_crop, bool random_flip, bool equalize);

/* CIFAR10Transform(to_grayscale, equalize_hist), also used for SVHN. */
TransformSpec transform_spec_cifar10(bool grey, bool equalize);

/* Fashion-MNIST 28x28 -> 32x32 by zero padding of 2 pixels per side (the
 * rule of GEOM, from which deep_geo comes), then [-1, 1]. */
TransformSpec transform_spec_fmnist(void);

/* Parses the text form above into *spec (starting from all steps off and
 * normalize on). False with "bad transform 'x': ..." on an unknown step or
 * a bad number; *spec is then unchanged. */
bool transform_spec_parse(TransformSpec *spec, const char *text, Err *err);

/* Writes the canonical text form, which parses back to an equal spec:
 * the steps in the order of the pipeline ("grey,center-crop=224x224,
 * resize=64x64"), "identity" when no step is on. At most
 * TRANSFORM_SPEC_TEXT_BYTES including the NUL. */
void transform_spec_format(const TransformSpec *spec, char *buf, size_t bytes);

/* Output shape for an input of c x h x w (c 1..4). False with a message when
 * the spec cannot apply (crop larger than the image, bad sizes). */
bool transform_output_shape(const TransformSpec *spec, int c, int h, int w, int *out_c, int *out_h,
                            int *out_w, Err *err);

/* Runs the u8 steps (everything but `tensor`) on a planar (c, h, w) image.
 * dst holds out_c * out_h * out_w bytes (transform_output_shape). */
bool transform_apply_u8(const TransformSpec *spec, uint8_t *dst, const uint8_t *src, int c, int h, int w,
                        Rng *rng, Err *err);

/* Runs every step; dst holds out_c * out_h * out_w floats. */
bool transform_apply(const TransformSpec *spec, float *dst, const uint8_t *src, int c, int h, int w, Rng *rng,
                     Err *err);

/* Shape of transform_record's output for a record of shape (C, H, W) or
 * (H, W), u8 (or u16 with spec->grey). */
bool transform_record_shape(const TransformSpec *spec, const TRecord *rec, int *out_c, int *out_h, int *out_w,
                            Err *err);

/* transform_apply / transform_apply_u8 on a record's payload. */
bool transform_record(const TransformSpec *spec, const TRecord *rec, float *dst, Rng *rng, Err *err);
bool transform_record_u8(const TransformSpec *spec, const TRecord *rec, uint8_t *dst, Rng *rng, Err *err);

/* Transforms n records into one batch of floats, dst = (n, C, H, W), in
 * parallel on up to `jobs` threads (0: OpenMP's default). Every record must
 * give the same output shape. Record i draws its random crop and flips from
 * rng_init_stream(seed, streams ? streams[i] : i), so a trainer that passes,
 * say, epoch * dataset_size + index gets the same batch for any thread count.
 * On failure the first failing record's message is returned (naming its
 * position and `id`) and dst is zeroed. */
bool transform_batch(const TransformSpec *spec, const TRecord *const *recs, size_t n, float *dst, uint64_t seed,
                     const uint64_t *streams, int jobs, Err *err);

/* ---- The steps, for callers that need one alone ---- */

/* convert('L') of `pixels` 8-bit pixels with `channels` interleaved samples
 * (1 grey: copy; 2 grey+alpha: the grey; 3 RGB, 4 RGBA: the luma formula,
 * alpha dropped). `plane` is the distance between a pixel's channels: 1 for
 * interleaved (H, W, C) data, H * W for planar (C, H, W) data; `step` the
 * distance between pixels (channels, or 1 for planar). dst: pixels bytes. */
void transform_grey_u8(uint8_t *dst, const uint8_t *src, size_t pixels, int channels, size_t step,
                       size_t plane);

/* convert('L') of 16-bit pixels the way Pillow opens and converts a 16-bit
 * PNG (checked with Pillow 9.4, the same mode table as 6.2): grey becomes
 * mode "I" and converts by clipping (v > 255 -> 255, so most 16-bit X-rays
 * turn white); grey+alpha, RGB and RGBA keep their high bytes (rawmodes
 * "LA;16B", "RGB;16B", "RGBA;16B"), then as transform_grey_u8. */
void transform_grey_u16(uint8_t *dst, const uint16_t *src, size_t pixels, int channels, size_t step,
                        size_t plane);

/* torchvision 0.5 CenterCrop's offset: Python round((size - crop) / 2),
 * ties to even (300 -> 224: 38; 192 -> 64: 64). crop <= size. */
int transform_center_offset(int size, int crop);

/* PIL.ImageOps.equalize of one 8-bit plane of n pixels, in place. */
void transform_equalize(uint8_t *plane, size_t n);

/* ToTensor + optional Normalize(0.5, 0.5) of n bytes, in float32 exactly as
 * torch computes it: x = v / 255.f, then (x - 0.5f) / 0.5f. */
void transform_to_tensor(float *dst, const uint8_t *src, size_t n, bool normalize);

#endif
