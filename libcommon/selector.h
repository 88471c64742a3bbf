/* SPDX-License-Identifier: Apache-2.0 */
/*
 * selector: which records of a tensor stream to keep, by label, by id list
 * or by index list, and the one-class relabelling of the experiments.
 *
 * A Selector is configured once (labels, an id list file, an index list
 * file, inversion, the normal classes) and then asked, record by record, in
 * stream order, whether to keep it. Criteria combine with AND; invert
 * negates the combined answer. Id lists are text, one id per line; a
 * trailing image extension (.png, .jpg, ...) is ignored on both sides, so
 * the paper's file-name lists select from streams whose ids have none.
 * Index lists are text (one 0-based index per line) or a NumPy .npy integer
 * array (npy.h); a record's index is its `index` metadata when present,
 * else its 0-based position in the input. A list with a repeated entry is an
 * error. The selector remembers which list entries were seen, so that
 * selector_check_missing can report an id that never appeared or an index
 * beyond the input.
 *
 * Not for: reading or writing streams (the ad-select tool does that).
 * Thread safety: one thread at a time (matching records marks entries seen).
 * Ownership: selector_new's caller frees with selector_free; nothing given to
 * the setters is kept (lists are read and copied).
 * Errors: Err; list problems name the file and line ("ids.txt:line 4:
 * duplicate id 'x'"), record problems the record ("record 17 has no label").
 *
 *     Err err = {0};
 *     Selector *s = selector_new(&err);
 *     selector_set_labels(s, "0,1", &err);
 *     selector_load_indexes(s, "train.npy", &err);
 *     for (position = 0; read(rec); position++) {
 *         int64_t at;
 *         int keep = selector_match(s, &rec, position, &at, &err);  // 1, 0, -1
 *         if (keep == 1) ... selector_relabel(s, &rec, &err) ... write ...
 *     }
 *     selector_check_missing(s, &err);
 *     selector_free(s);
 */
#ifndef ADKIT_SELECTOR_H
#define ADKIT_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "tstream.h"

typedef struct Selector Selector;

Selector *selector_new(Err *err);
void selector_free(Selector *s);

/* Keeps only records whose `label` is one of a comma-separated list of
 * integers ("3" or "0,2,5"). */
bool selector_set_labels(Selector *s, const char *csv, Err *err);

/* Keeps only records whose `id` is listed in the text file at path. */
bool selector_load_ids(Selector *s, const char *path, Err *err);

/* Keeps only records whose index is listed in path (.npy or text). Negative
 * indexes are an error. */
bool selector_load_indexes(Selector *s, const char *path, Err *err);

/* Negates the selection. */
void selector_set_invert(Selector *s, bool invert);

/* One-class relabelling: records whose label is in csv get label=0, the
 * others label=1; the original label is kept in `class`. */
bool selector_set_normal(Selector *s, const char *csv, Err *err);

/* Entries in the id or index list (0 when neither is loaded). When both are
 * loaded, the index list counts. */
size_t selector_list_size(const Selector *s);

/* Decides for rec, at 0-based position in the input. Returns 1 to keep, 0
 * to drop, -1 on error (a record without the label or id that a criterion
 * needs, a malformed `index`). *list_pos receives the record's position in
 * the id/index list (-1 when it is not listed or no list is loaded). */
int selector_match(Selector *s, const TRecord *rec, int64_t position, int64_t *list_pos, Err *err);

/* Applies the relabelling of selector_set_normal (no-op without it). */
bool selector_relabel(const Selector *s, TRecord *rec, Err *err);

/* Fails when a list entry was never matched: "N of the M ids in FILE never
 * appear in the input (first: 'x', line L)". */
bool selector_check_missing(const Selector *s, Err *err);

#endif
