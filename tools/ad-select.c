/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ad-select: keep the records of a tensor stream chosen by label, by an id
 * list or by an index list (text or .npy), optionally relabelled for a
 * one-class experiment, shuffled or cut to the first N.
 *
 * Reads streams (default: standard input, several inputs are concatenated),
 * writes one stream (default: standard output). Memory stays bounded to one
 * record unless --shuffle or --list-order buffers the selected records.
 *
 *     ad-select --indexes folds/cifar10/3/0/train.npy < cifar10-train.ts > train.ts
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "progress.h"
#include "rng.h"
#include "selector.h"
#include "tstream.h"

typedef struct Options {
    const char *output;
    const char *labels;
    const char *ids;
    const char *indexes;
    const char *normal;
    bool invert;
    int64_t head;
    bool head_given;
    bool shuffle;
    bool list_order;
    bool allow_missing;
} Options;

static Options opt = {.output = "-"};

static const CliOption options[] = {
    {"output", 'o', CLI_STRING, &opt.output, NULL, "FILE", "write the selected records here (default: stdout)"},
    {"label", 'l', CLI_STRING, &opt.labels, NULL, "L[,L...]", "keep records whose label is one of these"},
    {"ids", 0, CLI_STRING, &opt.ids, NULL, "FILE",
     "keep records whose id is listed (one per line; .png/.jpg/... endings ignored)"},
    {"indexes", 0, CLI_STRING, &opt.indexes, NULL, "FILE",
     "keep records whose index (metadata `index`, else 0-based position) is listed: text or .npy"},
    {"normal", 0, CLI_STRING, &opt.normal, NULL, "L[,L...]",
     "relabel: label=0 for these classes, 1 for the rest; the original goes to `class`"},
    {"invert", 'v', CLI_FLAG, &opt.invert, NULL, NULL, "keep the records that do NOT match"},
    {"head", 'n', CLI_INT, &opt.head, &opt.head_given, "N", "stop after N selected records"},
    {"shuffle", 0, CLI_FLAG, &opt.shuffle, NULL, NULL, "output in random order (--seed; buffers the selection)"},
    {"list-order", 0, CLI_FLAG, &opt.list_order, NULL, NULL,
     "output in the order of the --ids/--indexes list (buffers the selection)"},
    {"allow-missing", 0, CLI_FLAG, &opt.allow_missing, NULL, NULL,
     "listed ids/indexes absent from the input are not an error"},
    {0},
};

static const CliSpec spec = {
    .name = "ad-select",
    .usage = "[options] [STREAM...]",
    .summary = "Select records of a tensor stream by label, id list or index list.",
    .example = "ad-select --indexes folds/cifar10/3/0/train.npy < cifar10-train.ts > train.ts\n"
               "  ad-select --label 3 --normal 3 < cifar10-train.ts > class3-train.ts\n"
               "  ad-select --normal 3 < cifar10-test.ts > class3-test.ts\n"
               "  ad-select --ids folds/train_test_split/camelyon16/healthy/normal/train patches.ts > train.ts\n"
               "  ad-select --shuffle --seed 1 --head 100 < big.ts > sample.ts",
    .options = options,
    .has_seed = true,
    .notes = "Criteria combine with AND; --invert negates the result. A listed id or index that never\n"
             "appears is an error (exit 1, no output) unless --allow-missing; the list must not repeat\n"
             "an entry. With standard output and a list check, the output is held in a temporary file\n"
             "until the check has passed.",
};

typedef struct Buffered {
    TRecord *recs;  /* [n] copies of the selected records */
    size_t n, cap;
} Buffered;

static bool buffer_add(Buffered *b, const TRecord *rec, Err *err)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 256;
        TRecord *r = xrealloc_array(b->recs, cap, sizeof *r, err);
        if (!r)
            return false;
        b->recs = r;
        b->cap = cap;
    }
    trecord_init(&b->recs[b->n]);
    if (!trecord_copy(&b->recs[b->n], rec, err)) {
        trecord_fini(&b->recs[b->n]);
        return false;
    }
    b->n++;
    return true;
}

typedef struct Run {
    Selector *sel;
    TStreamWriter *out;
    Buffered buf;
    int64_t *slot_of; /* --list-order: [list size] index into buf, or -1 */
    size_t list_n;
    int64_t written;
    int64_t position;
    Progress *progress;
} Run;

static bool emit(Run *r, TRecord *rec, Err *err)
{
    if (opt.head_given && r->written >= opt.head)
        return true;
    if (!selector_relabel(r->sel, rec, err) || !tstream_write(r->out, rec, err))
        return false;
    r->written++;
    return true;
}

static bool done_reading(const Run *r)
{
    // With a list check pending, every record must still be seen.
    bool must_check = (opt.ids || opt.indexes) && !opt.allow_missing;
    return opt.head_given && !opt.shuffle && !opt.list_order && r->written >= opt.head && !must_check;
}

static bool process_input(Run *r, const char *path, Err *err)
{
    TStreamReader *in = tstream_open(path, err);
    if (!in)
        return false;
    TRecord rec;
    trecord_init(&rec);
    int got = 0;
    bool ok = true;
    while (!done_reading(r) && (got = tstream_read(in, &rec, err)) == 1) {
        int64_t list_pos;
        int keep = selector_match(r->sel, &rec, r->position, &list_pos, err);
        if (keep < 0) {
            err_context(err, "%s", tstream_name(in));
            ok = false;
            break;
        }
        r->position++;
        progress_add(r->progress, 1);
        if (!keep)
            continue;
        if (opt.list_order) {
            if (r->slot_of[list_pos] >= 0) {
                const char *id = trecord_meta_get(&rec, "id");
                ok = err_set(err, "%s:record %lld: entry %lld of the list matches a second record (id '%s')",
                             tstream_name(in), (long long)r->position - 1, (long long)list_pos, id ? id : "");
                break;
            }
            r->slot_of[list_pos] = (int64_t)r->buf.n;
        }
        if (opt.shuffle || opt.list_order) {
            if (!(ok = buffer_add(&r->buf, &rec, err)))
                break;
        } else if (!(ok = emit(r, &rec, err))) {
            break;
        }
    }
    if (ok && !done_reading(r) && got < 0)
        ok = false;
    trecord_fini(&rec);
    tstream_close(in);
    return ok;
}

static bool flush_buffer(Run *r, uint64_t seed, Err *err)
{
    if (opt.list_order) {
        for (size_t i = 0; i < r->list_n; i++)
            if (r->slot_of[i] >= 0 && !emit(r, &r->buf.recs[r->slot_of[i]], err))
                return false;
        return true;
    }
    if (opt.shuffle) {
        // Fisher-Yates over the buffered records, one seeded generator.
        Rng rng;
        rng_init(&rng, seed);
        for (size_t i = r->buf.n; i > 1; i--) {
            size_t j = (size_t)rng_below(&rng, i);
            TRecord t = r->buf.recs[i - 1];
            r->buf.recs[i - 1] = r->buf.recs[j];
            r->buf.recs[j] = t;
        }
        for (size_t i = 0; i < r->buf.n; i++)
            if (!emit(r, &r->buf.recs[i], err))
                return false;
    }
    return true;
}

// Copies the spooled stream to standard output once it is known to be good.
static bool copy_spool(FILE *spool, Err *err)
{
    if (fflush(spool) != 0 || fseek(spool, 0, SEEK_SET) != 0)
        return err_set(err, "temporary output file: cannot rewind");
    char b[1 << 16];
    size_t n;
    while ((n = fread(b, 1, sizeof b, spool)) > 0)
        if (fwrite(b, 1, n, stdout) != n)
            return err_set(err, "error writing standard output");
    if (ferror(spool))
        return err_set(err, "temporary output file: read error");
    if (fflush(stdout) != 0)
        return err_set(err, "error writing standard output");
    return true;
}

static int run(int n_inputs, char **inputs, const CliCommon *common)
{
    Err err = {0};
    Run r = {0};
    FILE *spool = NULL;
    bool ok = false;
    if (!(r.sel = selector_new(&err)))
        goto done;
    if (opt.labels && !selector_set_labels(r.sel, opt.labels, &err))
        goto done;
    if (opt.normal && !selector_set_normal(r.sel, opt.normal, &err))
        goto done;
    if (opt.ids && !selector_load_ids(r.sel, opt.ids, &err))
        goto done;
    if (opt.indexes && !selector_load_indexes(r.sel, opt.indexes, &err))
        goto done;
    selector_set_invert(r.sel, opt.invert);
    if (opt.list_order) {
        r.list_n = selector_list_size(r.sel);
        if (!(r.slot_of = xmalloc_array(r.list_n ? r.list_n : 1, sizeof *r.slot_of, &err)))
            goto done;
        for (size_t i = 0; i < r.list_n; i++)
            r.slot_of[i] = -1;
    }
    // Standard output cannot be taken back: when a check at the end can
    // still fail, hold the output in a temporary file until it passes.
    bool to_stdout = strcmp(opt.output, "-") == 0;
    bool late_check = (opt.ids || opt.indexes) && !opt.allow_missing;
    if (to_stdout && isatty(STDOUT_FILENO)) {
        err_set(&err, "refusing to write binary data to a terminal (redirect standard output or use -o FILE)");
        goto done;
    }
    if (to_stdout && late_check) {
        if (!(spool = tmpfile())) {
            err_set(&err, "cannot create a temporary file for the output");
            goto done;
        }
        r.out = tstream_create_stream(spool, "stdout", &err);
    } else {
        r.out = tstream_create(opt.output, &err);
    }
    if (!r.out)
        goto done;
    r.progress = progress_new("records", 0, common->progress);
    for (int i = 0; i < n_inputs || (n_inputs == 0 && i == 0); i++)
        if (!process_input(&r, n_inputs ? inputs[i] : "-", &err))
            goto done;
    if (!flush_buffer(&r, common->seed, &err))
        goto done;
    if (late_check && !selector_check_missing(r.sel, &err))
        goto done;
    TStreamWriter *w = r.out;
    r.out = NULL;
    if (!tstream_writer_commit(w, &err))
        goto done;
    if (spool && !copy_spool(spool, &err))
        goto done;
    ok = true;
done:
    progress_free(r.progress);
    if (r.out)
        tstream_writer_abort(r.out);
    if (spool)
        fclose(spool);
    for (size_t i = 0; i < r.buf.n; i++)
        trecord_fini(&r.buf.recs[i]);
    free(r.buf.recs);
    free(r.slot_of);
    selector_free(r.sel);
    return ok ? 0 : cli_report(&err);
}

int main(int argc, char **argv)
{
    CliCommon common;
    int first;
    CliStatus cs = cli_parse(&spec, argc, argv, &common, &first);
    if (cs != CLI_CONTINUE)
        return cli_exit_code(cs);
    if (opt.head_given && opt.head < 0)
        return cli_usage_error("--head must be >= 0, not %" PRId64, opt.head);
    if (opt.list_order && !opt.ids && !opt.indexes)
        return cli_usage_error("--list-order needs --ids or --indexes");
    if (opt.list_order && opt.ids && opt.indexes)
        return cli_usage_error("--list-order takes one list: give --ids or --indexes, not both");
    if (opt.list_order && (opt.invert || opt.shuffle))
        return cli_usage_error("--list-order cannot be combined with --%s", opt.invert ? "invert" : "shuffle");
    if (opt.allow_missing && !opt.ids && !opt.indexes)
        return cli_usage_error("--allow-missing needs --ids or --indexes");
    bool stdin_input = first == argc;
    for (int i = first; i < argc; i++)
        stdin_input = stdin_input || strcmp(argv[i], "-") == 0;
    if (stdin_input && ((opt.ids && !strcmp(opt.ids, "-")) || (opt.indexes && !strcmp(opt.indexes, "-"))))
        return cli_usage_error("the stream and the list cannot both come from standard input");
    return run(argc - first, argv + first, &common);
}
