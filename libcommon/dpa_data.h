/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dpa_data: the training images of a DPA run, held in memory as the u8
 * records they came in, and the configuration's transforms (spec
 * dpa-piad.md 9, 10) that turn them into [-1, 1] float batches.
 *
 * Training uses the configured crop (random or centre), flips, equalisation,
 * grey conversion, resize and padding; test time (dpa_transform_spec with
 * train = false) turns a random crop into the centre crop of the same size
 * and drops the flips (spec 7: centre crops only, no augmentation).
 * Randomness: each image of a batch draws from its own stream
 * rng_init_stream(seed, stream) so results do not depend on threads.
 *
 * Not for: scoring streams (they are read a batch at a time by the scorer).
 * Thread safety: read-only after loading. Ownership: DpaImages owns pixels.
 * Errors: Err: "FILE: record N (id X): ..." for images the model cannot take.
 *
 *     DpaImages im;
 *     if (!dpa_images_load(&im, "train.ts", &cfg, &err)) ...
 *     dpa_images_batch(&im, &spec, idx, 128, x, seed, stream0, &err);
 *     dpa_images_fini(&im);
 */
#ifndef ADKIT_DPA_DATA_H
#define ADKIT_DPA_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "dpa_config.h"
#include "err.h"
#include "transform.h"

/* The transforms of a configuration, for training or test time. */
TransformSpec dpa_transform_spec(const DpaConfig *cfg, bool train);

/* Checks that an image of (c, h, w) becomes (image_dim, max_res, max_res)
 * under the configuration's transforms; where names the image in messages. */
bool dpa_check_image_shape(const DpaConfig *cfg, int c, int h, int w, const char *where, Err *err);

typedef struct DpaImages {
    int64_t n;          /* images */
    int c, h, w;        /* shape of every record (all equal) */
    uint8_t *pixels;    /* n * c * h * w, record order */
    uint64_t hash;      /* FNV-1a of shapes and pixels (a checkpoint must meet the same data) */
} DpaImages;

/* Reads every record of a stream (path or "-") into memory: u8 (C, H, W),
 * all the same shape, which the model must be able to take. */
bool dpa_images_load(DpaImages *im, const char *path, const DpaConfig *cfg, Err *err);
void dpa_images_fini(DpaImages *im);

/* Transforms images idx[0..n) into out (n x image_dim x max_res x max_res
 * floats); image j uses Rng stream (seed, stream0 + j). */
bool dpa_images_batch(const DpaImages *im, const TransformSpec *spec, const int64_t *idx, int64_t n, float *out,
                      uint64_t seed, uint64_t stream0, Err *err);

#endif
