/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nih_entries: the NIH ChestX-ray14 metadata table, Data_Entry_2017.csv.
 *
 * Reads the rows of the CSV (RFC 4180, csv.h) and keeps, per image, the
 * columns the experiments use, found by header name: `Image Index` (file
 * name, e.g. 00000013_005.png), `Finding Labels` ('|'-separated findings, or
 * exactly "No Finding"), `Patient ID` (an integer) and `View Position` (PA or
 * AP). Rows keep the file's order (the official file is sorted by name).
 * Spec: baselines-data.md §5.
 *
 * Not for: the bounding-box file, or image access.
 * Thread safety: a loaded table is read-only; share it freely.
 * Ownership: nih_entries_read fills a caller-allocated NihEntries; free its
 * contents with nih_entries_fini.
 * Errors: Err with "file:line N: what" (a missing column, a row with too
 * few fields, a Patient ID that is not an integer, an empty Image Index,
 * an image listed twice).
 *
 *     NihEntries t;
 *     Err err = {0};
 *     if (!nih_entries_read("Data_Entry_2017.csv", &t, &err)) ...
 *     for (size_t i = 0; i < t.n; i++)
 *         if (strcmp(t.rows[i].view, "PA") == 0 && nih_labels_only(t.rows[i].labels, "No Finding")) ...
 *     nih_entries_fini(&t);
 */
#ifndef ADKIT_NIH_ENTRIES_H
#define ADKIT_NIH_ENTRIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct NihEntry {
    const char *image;   /* `Image Index`, e.g. "00000001_000.png" (owned by the table) */
    const char *labels;  /* `Finding Labels`, e.g. "Cardiomegaly|Effusion" or "No Finding" */
    int64_t patient;     /* `Patient ID` */
    const char *view;    /* `View Position`: "PA", "AP" (other values are kept as read) */
} NihEntry;

typedef struct NihEntries {
    NihEntry *rows;      /* [n], file order, owned */
    size_t n;
    char *strings;       /* storage of every string above, owned */
} NihEntries;

/* Loads the table. On failure t is left empty. */
bool nih_entries_read(const char *path, NihEntries *t, Err *err);

/* Frees the table's contents; t may be reused. */
void nih_entries_fini(NihEntries *t);

/* True when the set of '|'-separated findings in labels is exactly
 * {finding} ("Infiltration" matches "Infiltration", not
 * "Infiltration|Mass"). */
bool nih_labels_only(const char *labels, const char *finding);

#endif
