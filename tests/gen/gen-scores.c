/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gen-scores: a synthetic score table (id, label, score) for tests and
 * benchmarks of auroc.
 *
 * Writes N rows; a fraction --anomalies of them labelled 1, whose scores are
 * shifted up by --shift; scores are normal deviates rounded to --digits
 * decimals, so ties are frequent when digits is small. Seeded.
 *
 *     gen-scores --count 10000000 --seed 1 > scores.tsv
 */
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"
#include "rng.h"

static struct {
    int64_t count, digits;
    double anomalies, shift;
} opt = {.count = 1000, .digits = 6, .anomalies = 0.3, .shift = 1.0};

static const CliOption options[] = {
    {"count", 'n', CLI_INT, &opt.count, NULL, "N", "rows (default 1000)"},
    {"anomalies", 0, CLI_DOUBLE, &opt.anomalies, NULL, "P", "fraction labelled 1 (default 0.3)"},
    {"shift", 0, CLI_DOUBLE, &opt.shift, NULL, "D", "mean score shift of anomalies (default 1)"},
    {"digits", 0, CLI_INT, &opt.digits, NULL, "K", "decimals of the scores (default 6)"},
    {0},
};

static const CliSpec spec = {
    .name = "gen-scores",
    .usage = "[options]",
    .summary = "Write a synthetic id/label/score table (for tests and benchmarks).",
    .example = "gen-scores --count 10000000 --seed 1 > scores.tsv",
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
    if (opt.count < 0 || opt.digits < 0 || opt.digits > 17 || opt.anomalies < 0 || opt.anomalies > 1)
        return cli_usage_error("--count >= 0, --digits 0..17, --anomalies 0..1");
    Rng rng;
    rng_init(&rng, common.seed);
    static char buf[1 << 16];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    printf("id\tlabel\tscore\n");
    for (int64_t i = 0; i < opt.count; i++) {
        int label = rng_uniform(&rng) < opt.anomalies;
        double s = rng_normal(&rng) + (label ? opt.shift : 0);
        printf("s%" PRId64 "\t%d\t%.*f\n", i, label, (int)opt.digits, s);
    }
    if (fflush(stdout) != 0) {
        cli_warn("error writing standard output");
        return 1;
    }
    return 0;
}
