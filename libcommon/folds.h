/* SPDX-License-Identifier: Apache-2.0 */
/*
 * folds: the cross-validation folds and train/test split lists of the
 * original experiments (spec baselines-data.md §4), regenerated with a seed,
 * and a checker for existing folds folders.
 *
 * The generators reproduce the original scripts' logic (the create_folds scripts,
 * nih_create_train_test_splits.py): sklearn KFold without shuffle (contiguous
 * blocks, the first n mod k blocks one larger), the train part of each fold
 * shuffled and its first int(0.2 len) moved to validation. The originals
 * used numpy's unseeded global RNG, so their exact lists cannot be
 * regenerated; ours are reproducible from --seed (the same seed gives the
 * same bytes) and have the same sizes and structure. Every independent
 * shuffle uses its own RNG stream (rng_init_stream), so the folds of one
 * class do not depend on the others.
 *
 * Output goes into a FileSet (fileset.h) with the original layout:
 *   folds/<ds>/<class>/<fold>/{train,val,test_normal,test_anomaly}.npy
 *   folds/nih/<view>/<fold>/{normal/{train,val,test},anomaly/test}
 *   folds/camelyon16/healthy/<fold>/{normal/{train,val,test},anomaly/test}
 *   validation_classes/<ds>.csv
 *   <view>/{normal/train,normal/test,anomaly/test}       (nih-split)
 *
 * Not for: reading images; the lists name files or index the training split.
 * Thread safety: no shared state; the functions may run in parallel on
 * different outputs. Ownership: inputs are borrowed for the call.
 * Errors: Err, naming the input file and line where one is at fault.
 *
 *     FoldsLabels lab;
 *     FileSet *fs = fileset_new(&err);
 *     FoldsClasswise spec = {.dataset = "cifar10", .n_folds = 3, .seed = 1};
 *     if (folds_read_labels("cifar10-train.ts", &lab, &err) &&
 *         folds_make_classwise(&lab, &spec, fs, &err) && fileset_commit(fs, "out", &err)) ...
 *     folds_labels_fini(&lab);
 *     fileset_free(fs);
 */
#ifndef ADKIT_FOLDS_H
#define ADKIT_FOLDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "fileset.h"
#include "nih_entries.h"
#include "tsv.h"

/* The test block [*start, *end) of fold k of sklearn's KFold(n_folds) over
 * n items without shuffling. Requires 0 <= k < n_folds <= n. */
void folds_kfold_block(size_t n, int n_folds, int k, size_t *start, size_t *end);

/* int(0.2 * n) as Python evaluates it (a double product, truncated). */
size_t folds_val_count(size_t n);

/* Class labels of a training split, by index. */
typedef struct FoldsLabels {
    int64_t *index;  /* [n] index into the split (metadata `index`, else position) */
    int64_t *label;  /* [n] class */
    size_t n;
} FoldsLabels;

/* Reads labels from a tensor stream (records with `label` and optionally
 * `index` metadata) or from a TSV with the columns `label` and optionally
 * `index`; the format is recognised by the stream magic. Indexes must be
 * unique and >= 0. */
bool folds_read_labels(const char *path, FoldsLabels *out, Err *err);
void folds_labels_fini(FoldsLabels *l);

/* cifar10.py / svhn.py (§4.4) for any data set with integer classes. */
typedef struct FoldsClasswise {
    const char *dataset;        /* folder name: "cifar10", "svhn", "fashion-mnist" */
    int n_folds;                /* >= 2 */
    uint64_t seed;
    const char *validation_csv; /* class,valid_class CSV; NULL = draw each class's
                                   validation class from the others with the seed */
} FoldsClasswise;

bool folds_make_classwise(const FoldsLabels *labels, const FoldsClasswise *spec, FileSet *out, Err *err);

/* nih_create_train_test_splits.py (§4.6): <view>/normal/train = train_val
 * rows "No Finding", normal/test = test rows "No Finding", anomaly/test =
 * other test rows, for the views PA and AP, in CSV order. Names of the lists
 * that the table lacks are an error. */
bool folds_make_nih_split(const NihEntries *t, const TextList *train_val, const TextList *test, FileSet *out,
                          Err *err);

/* nih.py (§4.4): patient-disjoint folds per view over the train_val rows;
 * normal = label set {No Finding}, validation anomalies = label set
 * {valid_label} (the original: Infiltration) of the test patients. */
bool folds_make_nih(const NihEntries *t, const TextList *train_val, const char *valid_label, int n_folds,
                    uint64_t seed, FileSet *out, Err *err);

/* camelyon16.py (§4.4). normal_train / tumor_train: patch file names
 * ("<slide>_<normal|tumor>_x_..."). validation_csv: a `Valid Slides` CSV,
 * or NULL to draw 4 tumour slides with the seed. by_slide = false
 * reproduces the original per-patch KFold (whose normal test set contains
 * nearly every training patch); true splits the unique slides instead. */
bool folds_make_camelyon16(const TextList *normal_train, const TextList *tumor_train, const char *validation_csv,
                           bool by_slide, int n_folds, uint64_t seed, FileSet *out, Err *err);

/* One checked set of lists: a fold (train/val/test) or a split folder. */
typedef struct FoldsCheckRow {
    char set[512];        /* path relative to the checked folder, e.g. "folds/cifar10/0/1" */
    bool is_split;        /* a train_test_split folder rather than a fold */
    int64_t train;        /* normal train items (split: normal/train) */
    int64_t val;          /* normal validation items; -1 for splits */
    int64_t test_normal;  /* -1 when absent */
    int64_t test_anomaly; /* -1 when absent */
    int64_t anomaly_train;/* split anomaly/train; -1 when absent */
    int64_t overlap;      /* test_normal items also in train or val */
} FoldsCheckRow;

/* Walks dir, parses every .npy and list of each fold or split folder it
 * finds, and checks that train and val are disjoint and free of
 * duplicates. Overlap of test_normal with train/val is counted (the
 * original Camelyon16 folds have it by design) and is an error unless
 * allow_overlap. *rows (malloc'd, caller frees) holds one row per folder in
 * path order, also when the check fails on overlap, so the caller can show
 * it. Returns false on any problem, with the first one in err. */
bool folds_check(const char *dir, bool allow_overlap, FoldsCheckRow **rows, size_t *n_rows, Err *err);

#endif
