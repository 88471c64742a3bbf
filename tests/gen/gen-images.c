/* SPDX-License-Identifier: Apache-2.0 */
/* gen-images: a stream of small synthetic u8 images (C, S, S) for training
 * tests: a bright disc on a dark background whose position and radius come
 * from the seed; class k images add a stripe pattern of period k + 2.
 * Usage: gen-images [-n N] [-c C] [-s SIZE] [-k CLASSES] [--seed N] > out.ts */
#include <math.h>
#include <stdio.h>

#include "cli.h"
#include "rng.h"
#include "tstream.h"

static struct {
    int64_t n, c, s, k;
} opt = {.n = 64, .c = 1, .s = 8, .k = 1};

static const CliOption options[] = {
    {"count", 'n', CLI_INT, &opt.n, NULL, "N", "images (default 64)"},
    {"channels", 'c', CLI_INT, &opt.c, NULL, "C", "channels: 1 or 3 (default 1)"},
    {"size", 's', CLI_INT, &opt.s, NULL, "S", "side in pixels (default 8)"},
    {"classes", 'k', CLI_INT, &opt.k, NULL, "K", "labels i mod K (default 1)"},
    {0},
};

static const CliSpec spec = {
    .name = "gen-images",
    .usage = "[options]",
    .summary = "Write synthetic labelled images (for tests).",
    .example = "gen-images -n 64 -c 3 -s 16 --seed 1 > train.ts",
    .options = options,
    .has_seed = true,
};

int main(int argc, char **argv)
{
    CliCommon common;
    int first;
    CliStatus st = cli_parse(&spec, argc, argv, &common, &first);
    if (st != CLI_CONTINUE)
        return cli_exit_code(st);
    if (opt.n < 1 || opt.c < 1 || opt.c > 4 || opt.s < 1 || opt.s > 4096 || opt.k < 1)
        return cli_usage_error("bad sizes");
    Err err = {0};
    TStreamWriter *w = tstream_create("-", &err);
    TRecord rec;
    trecord_init(&rec);
    Rng rng;
    rng_init(&rng, common.seed);
    bool ok = w && trecord_set_shape(&rec, TDTYPE_U8, 3, (int64_t[]){opt.c, opt.s, opt.s}, &err);
    for (int64_t i = 0; ok && i < opt.n; i++) {
        double cx = rng_uniform(&rng) * opt.s, cy = rng_uniform(&rng) * opt.s, r = (0.2 + 0.3 * rng_uniform(&rng)) * opt.s;
        int label = (int)(i % opt.k);
        unsigned char *p = rec.data;
        for (int c = 0; c < opt.c; c++)
            for (int y = 0; y < opt.s; y++)
                for (int x = 0; x < opt.s; x++) {
                    double d = hypot(x + 0.5 - cx, y + 0.5 - cy);
                    double v = d < r ? 200 - 20 * c : 30;
                    if (label && (x % (label + 2)) == 0)
                        v += 50;
                    *p++ = (unsigned char)(v + rng_below(&rng, 16));
                }
        char id[32];
        snprintf(id, sizeof id, "img%lld", (long long)i);
        trecord_meta_clear(&rec);
        ok = trecord_meta_set(&rec, "id", id, &err) && trecord_meta_setf(&rec, &err, "label", "%d", label) &&
             tstream_write(w, &rec, &err);
    }
    trecord_fini(&rec);
    if (ok)
        ok = tstream_writer_commit(w, &err);
    else if (w)
        tstream_writer_abort(w);
    return ok ? 0 : cli_report(&err);
}
