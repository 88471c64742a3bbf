/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ad-inspect: summarise tensor streams.
 *
 * Reads one or more streams (default: standard input) and prints, per input,
 * the number of records, the dtypes and shapes seen, and the counts of each
 * `label`; --list prints one line per record (index, dtype, shape, metadata).
 * Exits 1 at the first bad record of an input (after reporting it), and goes
 * on with the other inputs.
 *
 *     ad-import fashion-mnist --split train | ad-inspect
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tstream.h"

typedef struct Options {
    bool list;   /* one line per record */
    bool values; /* per-record min/max/mean in --list */
} Options;

static Options opt;

static const CliOption options[] = {
    {"list", 'l', CLI_FLAG, &opt.list, NULL, NULL, "print one line per record: index, dtype, shape, metadata"},
    {"stats", 0, CLI_FLAG, &opt.values, NULL, NULL, "with --list, add min, max and mean of each payload"},
    {0},
};

static const CliSpec spec = {
    .name = "ad-inspect",
    .usage = "[options] [STREAM...]",
    .summary = "Summarise tensor streams: record count, dtypes, shapes and label counts.",
    .example = "ad-import fashion-mnist --split test | ad-inspect\n  ad-inspect --list --stats model.ts",
    .options = options,
};

/* Distinct (dtype, shape) combinations and label counts, small linear tables:
 * streams rarely mix more than a few shapes or a few dozen labels. */
#define MAX_KINDS 64
#define MAX_LABELS 4096

typedef struct Summary {
    int64_t records;
    int nkinds;
    struct { int dtype, ndim; int64_t dims[4]; int64_t count; } kinds[MAX_KINDS];
    int64_t other_kinds;
    int nlabels;
    struct { char value[32]; int64_t count; } labels[MAX_LABELS];
    int64_t unlabelled, other_labels;
} Summary;

static void format_shape(char *buf, size_t n, int ndim, const int64_t *dims)
{
    size_t at = 0;
    buf[0] = 0;
    if (ndim == 0)
        snprintf(buf, n, "scalar");
    for (int i = 0; i < ndim && at < n; i++)
        at += (size_t)snprintf(buf + at, n - at, "%s%" PRId64, i ? "x" : "", dims[i]);
}

static void add_record(Summary *s, const TRecord *rec)
{
    s->records++;
    int k;
    for (k = 0; k < s->nkinds; k++)
        if (s->kinds[k].dtype == (int)rec->dtype && s->kinds[k].ndim == rec->ndim &&
            memcmp(s->kinds[k].dims, rec->dims, sizeof rec->dims) == 0)
            break;
    if (k == s->nkinds && k < MAX_KINDS) {
        s->kinds[k].dtype = rec->dtype;
        s->kinds[k].ndim = rec->ndim;
        memcpy(s->kinds[k].dims, rec->dims, sizeof rec->dims);
        s->kinds[k].count = 0;
        s->nkinds++;
    }
    if (k < MAX_KINDS)
        s->kinds[k].count++;
    else
        s->other_kinds++;
    const char *label = trecord_meta_get(rec, "label");
    if (!label) {
        s->unlabelled++;
        return;
    }
    int l;
    for (l = 0; l < s->nlabels; l++)
        if (strcmp(s->labels[l].value, label) == 0)
            break;
    if (l == s->nlabels && l < MAX_LABELS && strlen(label) < sizeof s->labels[0].value) {
        snprintf(s->labels[l].value, sizeof s->labels[l].value, "%s", label);
        s->labels[l].count = 0;
        s->nlabels++;
    }
    if (l < s->nlabels)
        s->labels[l].count++;
    else
        s->other_labels++;
}

static double element(const TRecord *rec, int64_t i)
{
    switch (rec->dtype) {
    case TDTYPE_U8: return ((const uint8_t *)rec->data)[i];
    case TDTYPE_U16: return ((const uint16_t *)rec->data)[i];
    case TDTYPE_I32: return ((const int32_t *)rec->data)[i];
    case TDTYPE_F32: return ((const float *)rec->data)[i];
    case TDTYPE_I64: return (double)((const int64_t *)rec->data)[i];
    case TDTYPE_F64: return ((const double *)rec->data)[i];
    default: return 0;
    }
}

static void list_record(int64_t index, const TRecord *rec)
{
    char shape[128];
    format_shape(shape, sizeof shape, rec->ndim, rec->dims);
    printf("%" PRId64 "\t%s\t%s", index, tdtype_name(rec->dtype), shape);
    if (opt.values) {
        int64_t n = trecord_elements(rec);
        double lo = 0, hi = 0, sum = 0;
        for (int64_t i = 0; i < n; i++) {
            double v = element(rec, i);
            if (i == 0 || v < lo) lo = v;
            if (i == 0 || v > hi) hi = v;
            sum += v;
        }
        printf("\tmin=%g max=%g mean=%g", lo, hi, n ? sum / (double)n : 0.0);
    }
    size_t pos = 0;
    const char *k, *v;
    while (trecord_meta_next(rec, &pos, &k, &v))
        printf("\t%s=%s", k, v);
    putchar('\n');
}

static void print_summary(const char *name, const Summary *s, bool several)
{
    printf("%s%s%d records\n", several ? name : "", several ? ": " : "", (int)s->records);
    for (int k = 0; k < s->nkinds; k++) {
        char shape[128];
        format_shape(shape, sizeof shape, s->kinds[k].ndim, s->kinds[k].dims);
        printf("  %s %s: %" PRId64 "\n", tdtype_name(s->kinds[k].dtype), shape, s->kinds[k].count);
    }
    if (s->other_kinds)
        printf("  (other shapes): %" PRId64 "\n", s->other_kinds);
    if (s->nlabels) {
        printf("  labels:");
        for (int l = 0; l < s->nlabels; l++)
            printf(" %s=%" PRId64, s->labels[l].value, s->labels[l].count);
        if (s->other_labels)
            printf(" (other)=%" PRId64, s->other_labels);
        if (s->unlabelled)
            printf(" (none)=%" PRId64, s->unlabelled);
        putchar('\n');
    }
}

static bool inspect(const char *path, bool several, Err *err)
{
    TStreamReader *r = tstream_open(path, err);
    if (!r)
        return false;
    Summary *s = calloc(1, sizeof *s);
    TRecord rec;
    trecord_init(&rec);
    int got;
    while ((got = tstream_read(r, &rec, err)) == 1) {
        if (opt.list)
            list_record(tstream_records_read(r) - 1, &rec);
        add_record(s, &rec);
    }
    if (!opt.list)
        print_summary(tstream_name(r), s, several);
    trecord_fini(&rec);
    tstream_close(r);
    free(s);
    return got == 0;
}

int main(int argc, char **argv)
{
    CliCommon common;
    int first;
    CliStatus st = cli_parse(&spec, argc, argv, &common, &first);
    if (st != CLI_CONTINUE)
        return cli_exit_code(st);
    if (opt.values && !opt.list)
        return cli_usage_error("--stats goes with --list");
    int status = 0;
    int n = argc - first;
    for (int i = first; i < argc || (n == 0 && i == first); i++) {
        Err err = {0};
        const char *path = n ? argv[i] : "-";
        if (!inspect(path, n > 1, &err))
            status = cli_report(&err);
        if (n == 0)
            break;
    }
    if (fflush(stdout) != 0)
        status = 1;
    return status;
}
