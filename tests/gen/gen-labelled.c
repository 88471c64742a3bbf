/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gen-labelled: a synthetic stream of tiny labelled images for tests of the
 * selection and fold tools.
 *
 * Writes N u8 records of shape (1, 2, 2) with metadata id=<prefix><i>,
 * label (i mod K, or drawn with --seed when --random-labels) and index=i
 * (unless --no-index). The payload encodes i, so reordering is visible.
 *
 *     gen-labelled --count 100 --classes 10 > labels.ts
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rng.h"
#include "tstream.h"

static struct {
    int64_t count, classes;
    const char *prefix;
    bool no_index, random_labels;
} opt = {.count = 100, .classes = 10, .prefix = "img"};

static const CliOption options[] = {
    {"count", 'n', CLI_INT, &opt.count, NULL, "N", "number of records (default 100)"},
    {"classes", 'k', CLI_INT, &opt.classes, NULL, "K", "number of labels (default 10)"},
    {"id-prefix", 0, CLI_STRING, &opt.prefix, NULL, "P", "ids are P0, P1, ... (default img)"},
    {"no-index", 0, CLI_FLAG, &opt.no_index, NULL, NULL, "omit the index metadata"},
    {"random-labels", 0, CLI_FLAG, &opt.random_labels, NULL, NULL, "draw labels with --seed instead of i mod K"},
    {0},
};

static const CliSpec spec = {
    .name = "gen-labelled",
    .usage = "[options]",
    .summary = "Write a synthetic stream of tiny labelled records (for tests).",
    .example = "gen-labelled --count 100 --classes 10 > labels.ts",
    .options = options,
    .has_seed = true,
};

int main(int argc, char **argv)
{
    CliCommon common;
    int first;
    CliStatus cs = cli_parse(&spec, argc, argv, &common, &first);
    if (cs != CLI_CONTINUE)
        return cli_exit_code(cs);
    if (opt.count < 0 || opt.classes < 1)
        return cli_usage_error("--count must be >= 0 and --classes >= 1");
    Err err = {0};
    TStreamWriter *w = tstream_create("-", &err);
    if (!w)
        return cli_report(&err);
    Rng rng;
    rng_init(&rng, common.seed);
    TRecord rec;
    trecord_init(&rec);
    int64_t dims[3] = {1, 2, 2};
    bool ok = trecord_set_shape(&rec, TDTYPE_U8, 3, dims, &err);
    for (int64_t i = 0; ok && i < opt.count; i++) {
        unsigned char *d = rec.data;
        for (int b = 0; b < 4; b++)
            d[b] = (unsigned char)(i >> (8 * b));
        int64_t label = opt.random_labels ? (int64_t)rng_below(&rng, (uint64_t)opt.classes) : i % opt.classes;
        trecord_meta_clear(&rec);
        ok = trecord_meta_setf(&rec, &err, "id", "%s%" PRId64, opt.prefix, i) &&
             trecord_meta_setf(&rec, &err, "label", "%" PRId64, label) &&
             (opt.no_index || trecord_meta_setf(&rec, &err, "index", "%" PRId64, i)) && tstream_write(w, &rec, &err);
    }
    trecord_fini(&rec);
    if (!ok) {
        tstream_writer_abort(w);
        return cli_report(&err);
    }
    return tstream_writer_commit(w, &err) ? 0 : cli_report(&err);
}
