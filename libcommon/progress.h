/* SPDX-License-Identifier: Apache-2.0 */
/*
 * progress: a one-line progress display on standard error for long work.
 *
 * Shows "label: done/total (pct) rate/s, ETA" redrawn in place at most five
 * times a second, only when enabled (tools pass CliCommon.progress: stderr is
 * a terminal, or --progress). With a total of 0 the count is open-ended.
 * Never changes results; disabled, it costs a branch per update.
 *
 * Thread safety: progress_add may be called from several threads at once
 * (one atomic add; one thread redraws).
 *
 *     Progress *p = progress_new("slides", n, common.progress);
 *     for (...) { ...; progress_add(p, 1); }
 *     progress_free(p);   // draws the final line and a newline
 */
#ifndef ADKIT_PROGRESS_H
#define ADKIT_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct Progress Progress;

/* label is copied. Returns NULL only when out of memory (callers may pass
 * NULL to the other functions, which then do nothing). */
Progress *progress_new(const char *label, int64_t total, bool enabled);

/* Adds n units of finished work. */
void progress_add(Progress *p, int64_t n);

/* Replaces the free-text note shown after the counts (e.g. "loss 0.1234"). */
void progress_note(Progress *p, const char *note);

/* Finishes the line and frees. NULL does nothing. */
void progress_free(Progress *p);

/* Monotonic seconds, for timing. */
double progress_now(void);

#endif
