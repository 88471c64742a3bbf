/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gen-he-patches: synthetic H&E-like patches for tests and benchmarks.
 *
 * Writes --count u8 (3, S, S) records to stdout, each made from two known
 * optical-density vectors (haematoxylin (0.65, 0.70, 0.29), eosin (0.07,
 * 0.99, 0.11), normalised; spec camelyon16.md 16.6) with concentrations that
 * vary in smooth blobs: background, nuclei (mostly H) and stroma (mostly
 * E). --h-scale and --e-scale change the stain strengths, so patches of one
 * "scanner" can be normalised to another's. --white makes blank patches.
 * Metadata: id=he_<n>, label=0. Same seed, same bytes.
 *
 *     gen-he-patches --count 8 --size 768 --seed 1 > patches.ts
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "rng.h"
#include "tstream.h"

static struct {
    int64_t count, size;
    double h_scale, e_scale;
    bool white;
} opt = {.count = 4, .size = 256, .h_scale = 1.0, .e_scale = 1.0};

static const CliOption options[] = {
    {"count", 'n', CLI_INT, &opt.count, NULL, "N", "number of patches (default 4)"},
    {"size", 's', CLI_INT, &opt.size, NULL, "S", "side in pixels (default 256)"},
    {"h-scale", 0, CLI_DOUBLE, &opt.h_scale, NULL, "X", "haematoxylin strength (default 1)"},
    {"e-scale", 0, CLI_DOUBLE, &opt.e_scale, NULL, "X", "eosin strength (default 1)"},
    {"white", 0, CLI_FLAG, &opt.white, NULL, NULL, "blank (near-white) patches"},
    {0},
};

static const CliSpec spec = {
    .name = "gen-he-patches",
    .usage = "[options]",
    .summary = "Write synthetic H&E-like u8 (3, S, S) patches made from two known stain vectors.",
    .example = "gen-he-patches --count 8 --size 768 --seed 1 > patches.ts",
    .options = options,
    .has_seed = true,
};

/* A smooth random field in [0, 1): a few random cosine waves. */
typedef struct Field {
    double fx[4], fy[4], ph[4];
} Field;

static void field_init(Field *f, Rng *rng, double size)
{
    for (int k = 0; k < 4; k++) {
        f->fx[k] = (rng_uniform(rng) * 6 + 1) * 2 * M_PI / size;
        f->fy[k] = (rng_uniform(rng) * 6 + 1) * 2 * M_PI / size;
        f->ph[k] = rng_uniform(rng) * 2 * M_PI;
    }
}

static double field_at(const Field *f, double x, double y)
{
    double s = 0;
    for (int k = 0; k < 4; k++)
        s += cos(f->fx[k] * x + f->ph[k]) * cos(f->fy[k] * y + f->ph[k] * 0.7);
    return 0.5 + s / 8;
}

int main(int argc, char **argv)
{
    CliCommon common;
    int first;
    CliStatus st = cli_parse(&spec, argc, argv, &common, &first);
    if (st != CLI_CONTINUE)
        return cli_exit_code(st);
    if (first != argc)
        return cli_usage_error("no positional arguments expected");
    if (opt.count < 0 || opt.size < 1 || opt.size > 8192)
        return cli_usage_error("--count must be >= 0 and --size 1..8192");
    const double Hraw[3] = {0.65, 0.70, 0.29}, Eraw[3] = {0.07, 0.99, 0.11};
    double H[3], E[3];
    double nh = sqrt(Hraw[0] * Hraw[0] + Hraw[1] * Hraw[1] + Hraw[2] * Hraw[2]);
    double ne = sqrt(Eraw[0] * Eraw[0] + Eraw[1] * Eraw[1] + Eraw[2] * Eraw[2]);
    for (int k = 0; k < 3; k++) {
        H[k] = Hraw[k] / nh;
        E[k] = Eraw[k] / ne;
    }
    Err err = {0};
    TStreamWriter *w = tstream_create("-", &err);
    if (!w)
        return cli_report(&err);
    TRecord rec;
    trecord_init(&rec);
    int64_t s = opt.size, n = s * s;
    int64_t dims[3] = {3, s, s};
    bool ok = trecord_set_shape(&rec, TDTYPE_U8, 3, dims, &err);
    for (int64_t i = 0; ok && i < opt.count; i++) {
        Rng rng;
        rng_init_stream(&rng, common.seed, (uint64_t)i);
        Field tissue, nuclei;
        field_init(&tissue, &rng, (double)s);
        field_init(&nuclei, &rng, (double)s / 4);
        uint8_t *px = rec.data;
        for (int64_t y = 0; y < s; y++)
            for (int64_t x = 0; x < s; x++) {
                double ch = 0, ce = 0;
                double t = field_at(&tissue, (double)x, (double)y), u = field_at(&nuclei, (double)x, (double)y);
                if (opt.white) {
                    ch = ce = 0.005 * rng_uniform(&rng);
                } else if (t < 0.35) { // background
                    ch = 0.01 * rng_uniform(&rng);
                    ce = 0.02 * rng_uniform(&rng);
                } else if (u > 0.6) { // nucleus
                    ch = 0.5 + 1.0 * u + 0.1 * rng_uniform(&rng);
                    ce = 0.1 + 0.1 * rng_uniform(&rng);
                } else { // stroma
                    ch = 0.05 + 0.1 * rng_uniform(&rng);
                    ce = 0.3 + 0.8 * t + 0.1 * rng_uniform(&rng);
                }
                ch *= opt.h_scale;
                ce *= opt.e_scale;
                for (int k = 0; k < 3; k++) {
                    double v = 255.0 * exp(-(ch * H[k] + ce * E[k]));
                    px[k * n + y * s + x] = (uint8_t)lrint(v);
                }
            }
        trecord_meta_clear(&rec);
        ok = trecord_meta_setf(&rec, &err, "id", "he_%" PRId64, i) && trecord_meta_set(&rec, "label", "0", &err) &&
             tstream_write(w, &rec, &err);
    }
    trecord_fini(&rec);
    if (!ok) {
        tstream_writer_abort(w);
        return cli_report(&err);
    }
    return tstream_writer_commit(w, &err) ? 0 : cli_report(&err);
}
