/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dsload: the public image-classification data sets in their published file
 * formats, loaded whole into memory and written as labelled streams.
 *
 *   - MNIST / Fashion-MNIST: IDX files, gzip-compressed or not
 *     ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]); (1, 28, 28).
 *   - CIFAR-10 binary version: data_batch_1..5.bin (train, in that order) and
 *     test_batch.bin, records of 1 label byte + 3072 pixel bytes (R, G, B
 *     planes of 32x32); (3, 32, 32).
 *   - SVHN cropped digits: train_32x32.mat / test_32x32.mat (MATLAB v5), X a
 *     32x32x3xN uint8 array in column-major order, y an N-vector of labels
 *     1..10 where 10 stands for the digit 0; (3, 32, 32).
 *
 * The index of an image is its 0-based position in file order within the
 * split; the cross-validation folds index into it. Everything is checked
 * before anything is returned (magic numbers, sizes, a cut gzip stream, label
 * range), so a failed load produces no records at all. Messages name the
 * file: "root/train-labels-idx1-ubyte.gz: label 11 out of range 0..9 at
 * index 7".
 *
 * Not for: image files in folders (imgsrc.h).
 * Thread safety: loads may run in different threads at once, except SVHN
 * loads (matio's log hook is process-wide). Ownership: a DsImages owns its
 * arrays; dsload_fini frees them.
 *
 *     DsImages set = {0};
 *     if (!dsload_mnist("/usr/share/datasets/fashion-mnist", "train", &set, &err) ||
 *         !dsload_write(&set, "fashion-mnist", "train", out, NULL, &err))
 *         ...
 *     dsload_fini(&set);
 */
#ifndef ADKIT_DSLOAD_H
#define ADKIT_DSLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "progress.h"
#include "tstream.h"

/* Largest number of images accepted in one split (checked before allocating). */
#define DSLOAD_MAX_IMAGES 10000000

typedef struct DsImages {
    int64_t count;               /* images */
    int channels, height, width; /* each image is (channels, height, width) */
    uint8_t *pixels;             /* (count, channels, height, width), owned */
    uint8_t *labels;             /* (count), each 0..9, owned */
} DsImages;

/* MNIST-format IDX files in root; split "train" or "test". Each file may be
 * gzip-compressed (NAME.gz, preferred when both exist) or plain (NAME). */
bool dsload_mnist(const char *root, const char *split, DsImages *out, Err *err);

/* CIFAR-10 binary batches in root (or in root/cifar-10-batches-bin). Each
 * batch must be a whole, non-zero number of 3073-byte records (the published
 * ones hold 10000). */
bool dsload_cifar10(const char *root, const char *split, DsImages *out, Err *err);

/* SVHN root/{train,test}_32x32.mat. */
bool dsload_svhn(const char *root, const char *split, DsImages *out, Err *err);

/* Frees the arrays; the struct may be reused. */
void dsload_fini(DsImages *set);

/* Writes one u8 (C, H, W) record per image, with metadata id =
 * "<dataset>-<split>-<index>", label and index. */
bool dsload_write(const DsImages *set, const char *dataset, const char *split, TStreamWriter *out,
                  Progress *progress, Err *err);

#endif
