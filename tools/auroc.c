/* SPDX-License-Identifier: Apache-2.0 */
/*
 * auroc: ranking metrics of anomaly scores.
 *
 * Reads score tables (TSV with a header naming at least the columns `label`
 * and `score`, usually `id label score`; other columns are ignored) from
 * files or standard input, and prints per input the AUROC (exact, with ties),
 * average precision, best F1 and its threshold, TPR at 5% FPR and the counts;
 * optionally a bootstrap confidence interval and a ROC curve PNG. The
 * definitions are in libcommon/roc.h.
 *
 *     ad-score model.ts test.ts | auroc --bootstrap 1000 --seed 1 --roc roc.png
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "roc.h"
#include "tsv.h"

typedef struct Options {
    bool higher_is_normal;
    int64_t bootstrap;     /* resamples; 0 = no interval */
    const char *format;    /* "text" or "tsv" */
    const char *roc_png;   /* NULL = no plot */
    const char *label_col;
    const char *score_col;
} Options;

static Options opt = {.format = "text", .label_col = "label", .score_col = "score"};

static const CliOption options[] = {
    {"higher-is-normal", 0, CLI_FLAG, &opt.higher_is_normal, NULL, NULL,
     "scores are normality scores (higher = more normal); default: higher = more anomalous"},
    {"bootstrap", 'b', CLI_INT, &opt.bootstrap, NULL, "N",
     "95% percentile interval of the AUROC from N stratified resamples (default: none)"},
    {"format", 'f', CLI_STRING, &opt.format, NULL, "FMT",
     "text (default) or tsv: one header line and one row per input"},
    {"roc", 0, CLI_STRING, &opt.roc_png, NULL, "FILE.png", "draw the ROC curve with gnuplot (one input only)"},
    {"label-column", 0, CLI_STRING, &opt.label_col, NULL, "NAME", "column of the 0/1 labels (default: label)"},
    {"score-column", 0, CLI_STRING, &opt.score_col, NULL, "NAME", "column of the scores (default: score)"},
    {0},
};

static const CliSpec spec = {
    .name = "auroc",
    .usage = "[options] [SCORES.tsv...]",
    .summary = "AUROC, average precision, best F1 and TPR at 5% FPR of anomaly scores (label 1 = anomaly).",
    .example = "auroc scores.tsv\n"
               "  auroc --bootstrap 1000 --seed 7 --roc roc.png scores.tsv\n"
               "  auroc --format tsv run*/scores.tsv > results.tsv",
    .options = options,
    .has_jobs = true,
    .has_seed = true,
    .notes = "Input: a header line naming the columns, then one row per image; label 1 = anomaly, 0 = normal.\n"
             "AUROC equals sklearn's roc_auc_score (Mann-Whitney, ties count 1/2); AUPR is sklearn's\n"
             "average_precision_score; TPR at 5% FPR interpolates linearly on the ROC curve; the bootstrap\n"
             "is stratified (resamples anomalies and normals separately) with percentile bounds.",
};

typedef struct Scores {
    double *score;
    uint8_t *label;
    size_t n, cap;
} Scores;

static bool scores_push(Scores *s, double v, uint8_t label, Err *err)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4096;
        double *a = xrealloc_array(s->score, cap, sizeof *a, err);
        if (!a)
            return false;
        s->score = a;
        uint8_t *b = xrealloc_array(s->label, cap, sizeof *b, err);
        if (!b)
            return false;
        s->label = b;
        s->cap = cap;
    }
    s->score[s->n] = v;
    s->label[s->n++] = label;
    return true;
}

// Reads one score table; every problem names the file and line.
static bool read_scores(const char *path, Scores *s, Err *err)
{
    TsvReader *r = tsv_open(path, err);
    if (!r)
        return false;
    const char *name = tsv_name(r);
    char **f;
    size_t nf;
    bool ok = false;
    int got = tsv_read_line(r, &f, &nf, err);
    if (got <= 0) {
        if (got == 0)
            err_set(err, "%s: empty input: expected a header line with the columns %s and %s", name,
                    opt.label_col, opt.score_col);
        goto done;
    }
    int lc = tsv_find_column(f, nf, opt.label_col), sc = tsv_find_column(f, nf, opt.score_col);
    if (lc < 0 || sc < 0) {
        err_set(err, "%s:line 1: no column named '%s' in the header (expected tab-separated columns "
                "such as id, label, score)", name, lc < 0 ? opt.label_col : opt.score_col);
        goto done;
    }
    size_t need = (size_t)(lc > sc ? lc : sc) + 1;
    while ((got = tsv_read_line(r, &f, &nf, err)) == 1) {
        long long line = (long long)tsv_line_number(r);
        if (nf == 1 && !*f[0])
            continue; // a blank line (e.g. at the end) carries nothing
        if (nf < need) {
            err_set(err, "%s:line %lld: %zu fields, but the %s column is field %zu", name, line, nf,
                    (size_t)lc + 1 == need ? opt.label_col : opt.score_col, need);
            goto done;
        }
        const char *ls = f[lc], *ss = f[sc];
        if (strcmp(ls, "0") != 0 && strcmp(ls, "1") != 0) {
            err_set(err, "%s:line %lld: label '%s' is not 0 (normal) or 1 (anomaly)", name, line, ls);
            goto done;
        }
        double v;
        if (!*ss) {
            err_set(err, "%s:line %lld: missing score", name, line);
            goto done;
        }
        if (!tsv_parse_double(ss, &v)) {
            err_set(err, "%s:line %lld: score '%s' is not a number", name, line, ss);
            goto done;
        }
        if (isnan(v) || isinf(v)) {
            err_set(err, "%s:line %lld: score is %s", name, line, isnan(v) ? "NaN" : "infinite");
            goto done;
        }
        if (!scores_push(s, v, (uint8_t)(ls[0] - '0'), err))
            goto done;
    }
    ok = got == 0;
done:
    tsv_close(r);
    return ok;
}

static void print_result(const char *name, const RocStats *st, bool have_ci, double lo, double hi)
{
    const char *cmp = opt.higher_is_normal ? "<=" : ">=";
    if (strcmp(opt.format, "tsv") == 0) {
        printf("%s\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%.12g\t", name, st->n_anomaly + st->n_normal,
               st->n_anomaly, st->n_normal, st->auroc);
        if (have_ci)
            printf("%.12g\t%.12g\t", lo, hi);
        else
            printf("NA\tNA\t");
        printf("%.12g\t%.12g\t%.12g\t%.12g\n", st->aupr, st->best_f1, st->best_f1_threshold, st->tpr_at_fpr5);
        return;
    }
    printf("%s\n", name);
    printf("  scores      %" PRId64 " (%" PRId64 " anomalies, %" PRId64 " normal)\n",
           st->n_anomaly + st->n_normal, st->n_anomaly, st->n_normal);
    printf("  AUROC       %.6f", st->auroc);
    if (have_ci)
        printf("  95%% CI [%.6f, %.6f] (stratified bootstrap, %" PRId64 " resamples)", lo, hi, opt.bootstrap);
    printf("\n  AUPR        %.6f\n", st->aupr);
    printf("  best F1     %.6f at score %s %.9g\n", st->best_f1, cmp, st->best_f1_threshold);
    printf("  TPR@FPR=5%%  %.6f\n", st->tpr_at_fpr5);
}

static bool evaluate(const char *path, const CliCommon *common, Err *err)
{
    Scores s = {0};
    RocData *d = NULL;
    bool ok = false;
    if (!read_scores(path, &s, err))
        goto done;
    const char *name = strcmp(path, "-") == 0 ? "stdin" : path;
    d = roc_new(s.score, s.label, s.n, opt.higher_is_normal, err);
    if (!d) {
        err_prefix(err, "%s", name);
        goto done;
    }
    RocStats st;
    double lo = 0, hi = 0;
    if (!roc_compute(d, &st, err))
        goto done;
    if (opt.bootstrap > 0 && !roc_bootstrap(d, opt.bootstrap, 0.95, common->seed, common->jobs, &lo, &hi, err))
        goto done;
    if (opt.roc_png && !roc_plot_png(d, opt.roc_png, name, err))
        goto done;
    print_result(name, &st, opt.bootstrap > 0, lo, hi);
    ok = true;
done:
    roc_free(d);
    free(s.score);
    free(s.label);
    return ok;
}

int main(int argc, char **argv)
{
    CliCommon common;
    int first;
    CliStatus cs = cli_parse(&spec, argc, argv, &common, &first);
    if (cs != CLI_CONTINUE)
        return cli_exit_code(cs);
    if (strcmp(opt.format, "text") != 0 && strcmp(opt.format, "tsv") != 0)
        return cli_usage_error("--format must be text or tsv, not '%s'", opt.format);
    if (opt.bootstrap < 0)
        return cli_usage_error("--bootstrap must be >= 0, not %" PRId64, opt.bootstrap);
    int n_inputs = argc - first;
    if (opt.roc_png && n_inputs > 1)
        return cli_usage_error("--roc draws one curve: give one input");
    if (strcmp(opt.format, "tsv") == 0)
        printf("file\tn\tn_anomaly\tn_normal\tauroc\tauroc_ci_low\tauroc_ci_high\taupr\tbest_f1\t"
               "best_f1_threshold\ttpr_at_fpr5\n");
    int rc = 0;
    for (int i = first; i < argc || (n_inputs == 0 && i == first); i++) {
        Err err = {0};
        if (!evaluate(n_inputs ? argv[i] : "-", &common, &err))
            rc = cli_report(&err);
        fflush(stdout);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_warn("error writing standard output");
        rc = 1;
    }
    return rc;
}
