/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fixture_stream: every record of a fixture stream written by a script under
 * tests/fixtures/ (PyTorch references), read into memory for a cmocka test.
 * The path is relative to $ADKIT_TOP (default: the current directory); a
 * missing or damaged file fails the test with the command that regenerates
 * it. Test-only: static functions, included by one program each (after
 * cmocka.h).
 */
#ifndef ADKIT_TESTS_FIXTURE_STREAM_H
#define ADKIT_TESTS_FIXTURE_STREAM_H

#include <stdio.h>
#include <stdlib.h>

#include "tstream.h"

typedef struct Fixture {
    TRecord *recs;
    int n;
} Fixture;

/* f = the records of $ADKIT_TOP/rel_path; regenerate: the command to name
 * when it cannot be read. */
static void fixture_load(Fixture *f, const char *rel_path, const char *regenerate)
{
    char path[4096];
    const char *top = getenv("ADKIT_TOP");
    snprintf(path, sizeof path, "%s/%s", top ? top : ".", rel_path);
    Err err = {0};
    TStreamReader *r = tstream_open(path, &err);
    if (!r)
        fail_msg("%s (regenerate with %s)", err.msg, regenerate);
    f->recs = NULL;
    f->n = 0;
    for (;;) {
        f->recs = realloc(f->recs, (size_t)(f->n + 1) * sizeof *f->recs);
        assert_non_null(f->recs);
        trecord_init(&f->recs[f->n]);
        int rc = tstream_read(r, &f->recs[f->n], &err);
        if (rc < 0)
            fail_msg("%s", err.msg);
        if (rc == 0)
            break;
        f->n++;
    }
    trecord_fini(&f->recs[f->n]);
    tstream_close(r);
}

static void fixture_fini(Fixture *f)
{
    for (int i = 0; i < f->n; i++)
        trecord_fini(&f->recs[i]);
    free(f->recs);
}

#endif
