/* SPDX-License-Identifier: Apache-2.0 */
/* progress: throttled one-line progress on stderr (see progress.h). */
#include "progress.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

struct Progress {
    char label[64];
    char note[128];
    int64_t total;
    _Atomic int64_t done;
    _Atomic int drawing;
    bool enabled;
    double start, last_draw;
};

double progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

Progress *progress_new(const char *label, int64_t total, bool enabled)
{
    Progress *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    snprintf(p->label, sizeof p->label, "%s", label);
    p->total = total;
    p->enabled = enabled;
    p->start = p->last_draw = progress_now();
    return p;
}

static void draw(Progress *p, bool final)
{
    double now = progress_now(), el = now - p->start;
    int64_t done = atomic_load(&p->done);
    double rate = el > 0 ? (double)done / el : 0;
    char eta[32] = "";
    if (p->total > 0 && rate > 0 && done < p->total) {
        double left = (double)(p->total - done) / rate;
        snprintf(eta, sizeof eta, ", %d:%02d left", (int)(left / 60), (int)left % 60);
    }
    if (p->total > 0)
        fprintf(stderr, "\r%s: %s: %lld/%lld (%.0f%%) %.1f/s%s %s\033[K", cli_program(), p->label, (long long)done,
                (long long)p->total, 100.0 * (double)done / (double)p->total, rate, eta, p->note);
    else
        fprintf(stderr, "\r%s: %s: %lld %.1f/s %s\033[K", cli_program(), p->label, (long long)done, rate,
                p->note);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

void progress_add(Progress *p, int64_t n)
{
    if (!p)
        return;
    atomic_fetch_add(&p->done, n);
    if (!p->enabled)
        return;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&p->drawing, &expected, 1))
        return;
    double now = progress_now();
    if (now - p->last_draw >= 0.2) {
        p->last_draw = now;
        draw(p, false);
    }
    atomic_store(&p->drawing, 0);
}

void progress_note(Progress *p, const char *note)
{
    if (p)
        snprintf(p->note, sizeof p->note, "%s", note);
}

void progress_free(Progress *p)
{
    if (!p)
        return;
    if (p->enabled)
        draw(p, true);
    free(p);
}
