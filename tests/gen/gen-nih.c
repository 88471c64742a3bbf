/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gen-nih: a synthetic NIH ChestX-ray14 download, for tests, demos and
 * benchmarks.
 *
 * Writes, under -o DIR, what the NIH download holds: images/NNNNNNNN_FFF.png
 * (chest-like grey radiographs: body, lung fields, mediastinum, spine and
 * ribs, smooth shapes with noise; images labelled with findings carry local
 * opacities), Data_Entry_2017.csv with the real file's columns, and the
 * patient-disjoint official split train_val_list.txt / test_list.txt. Most
 * images are SxS 8-bit grey; a few are 16-bit grey, RGB, RGBA or wider than
 * high, like the odd ones of the real set. Seeded: the same --seed gives the
 * same files, whatever -j.
 *
 *     gen-nih -o nih-synth --count 300 --size 256 --seed 1
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "afile.h"
#include "cli.h"
#include "img.h"
#include "rng.h"

typedef struct Options {
    const char *outdir; /* -o */
    int64_t count;      /* --count: images */
    int64_t size;       /* --size: side of the square images */
} Options;

static Options opt = {.outdir = "nih-synth", .count = 300, .size = 256};

static const CliOption options[] = {
    {"output", 'o', CLI_STRING, &opt.outdir, NULL, "DIR", "write the data set here (default nih-synth)"},
    {"count", 'n', CLI_INT, &opt.count, NULL, "N", "number of images (default 300)"},
    {"size", 's', CLI_INT, &opt.size, NULL, "S", "side of the images in pixels (default 256; the real set: 1024)"},
    {0},
};

static const CliSpec spec = {
    .name = "gen-nih",
    .usage = "[options]",
    .summary = "Generate a small synthetic NIH ChestX-ray14 data set laid out like the download.",
    .example = "gen-nih -o nih-synth --count 300 --size 256 --seed 1",
    .options = options,
    .has_jobs = true,
    .has_seed = true,
};

static const char *const findings[] = {
    "Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Effusion", "Emphysema", "Fibrosis",
    "Hernia", "Infiltration", "Mass", "Nodule", "Pleural_Thickening", "Pneumonia", "Pneumothorax",
};
#define N_FINDINGS ((int)(sizeof findings / sizeof findings[0]))

/* What the CSV says about one image. */
typedef struct Entry {
    int patient, follow_up;
    int age;
    char gender;           /* 'M' or 'F' */
    const char *view;      /* "PA" or "AP" */
    char labels[160];      /* "No Finding" or "A|B" */
    int n_findings;
    int width, height;     /* pixels */
    int channels, depth;   /* how the PNG is stored */
    bool test;             /* in test_list.txt */
} Entry;

// The odd files of the set: a few 16-bit, RGB, RGBA and non-square images.
static void file_kind(int64_t i, Entry *e, int size)
{
    e->width = e->height = size;
    e->channels = 1;
    e->depth = 8;
    switch (i % 25) {
    case 3: e->depth = 16; break;
    case 7: e->channels = 4; break;
    case 11: e->channels = 3; break;
    case 19: e->width = size + size / 8; break;
    default: break;
    }
}

static double smoothstep(double edge0, double edge1, double x)
{
    double t = (x - edge0) / (edge1 - edge0);
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return t * t * (3 - 2 * t);
}

/* One radiograph in [0, 255] floats (h x w), chest in the middle. Shapes
 * are soft-edged so that resampling sees realistic gradients. */
static void draw_chest(float *img, int w, int h, const Entry *e, Rng *rng)
{
    double jitter_x = (rng_uniform(rng) - 0.5) * 0.06, jitter_y = (rng_uniform(rng) - 0.5) * 0.06;
    double body_w = 0.42 + 0.05 * rng_uniform(rng), lung_gap = 0.09 + 0.03 * rng_uniform(rng);
    double heart = 0.10 + (strstr(e->labels, "Cardiomegaly") ? 0.07 : 0.02 * rng_uniform(rng));
    bool ap = strcmp(e->view, "AP") == 0; // bedside films: brighter, lower contrast
    int nblobs = e->n_findings ? 1 + (int)rng_below(rng, 3) : 0;
    double bx[3], by[3], br[3], bs[3];
    for (int b = 0; b < nblobs; b++) {
        bx[b] = (rng_uniform(rng) < 0.5 ? -1 : 1) * (0.12 + 0.14 * rng_uniform(rng));
        by[b] = -0.15 + 0.35 * rng_uniform(rng);
        br[b] = 0.03 + 0.06 * rng_uniform(rng);
        bs[b] = 50 + 60 * rng_uniform(rng);
    }
    for (int y = 0; y < h; y++) {
        double v = (double)y / h - 0.5 - jitter_y;
        for (int x = 0; x < w; x++) {
            double u = (double)x / w - 0.5 - jitter_x;
            // Body: a soft ellipse on a dark background.
            double body = 1 - smoothstep(0.85, 1.0, (u * u) / (body_w * body_w) + (v * v) / 0.30);
            double val = 15 + body * (ap ? 140 : 120);
            // Lungs: two darker ellipses beside the mediastinum.
            double lu = fabs(u) - lung_gap - 0.13, lv = v + 0.02;
            double lung = 1 - smoothstep(0.7, 1.0, (lu * lu) / 0.018 + (lv * lv) / 0.09);
            val -= lung * (ap ? 55 : 75);
            // Ribs: bright arcs inside the lungs.
            double rib = 0.5 + 0.5 * sin((v + 0.25 * u * u) * 55.0);
            val += lung * 22 * rib * rib * rib;
            // Mediastinum and heart, spine.
            val += 60 * (1 - smoothstep(0.0, 0.05, fabs(u) - 0.03)) * body;
            double hu = u + 0.03, hv = v - 0.12;
            val += 45 * (1 - smoothstep(0.8, 1.0, (hu * hu + hv * hv) / (heart * heart)));
            // Findings: local opacities.
            for (int b = 0; b < nblobs; b++) {
                double du = u - bx[b], dv = v - by[b];
                val += bs[b] * exp(-(du * du + dv * dv) / (2 * br[b] * br[b]));
            }
            img[(size_t)y * w + x] = (float)(val + 4.0 * rng_normal(rng));
        }
    }
}

static bool write_image(const char *path, const Entry *e, Rng *rng, Err *err)
{
    size_t px = (size_t)e->width * e->height;
    float *f = xmalloc_array(px, sizeof *f, err);
    Image im = {0};
    bool ok = f && image_alloc(&im, e->width, e->height, e->channels, e->depth, err);
    if (ok) {
        draw_chest(f, e->width, e->height, e, rng);
        for (size_t i = 0; i < px; i++) {
            double v = f[i] < 0 ? 0 : f[i] > 255 ? 255 : f[i];
            if (e->depth == 16) {
                // 12-bit detector values, as 16-bit radiographs store them.
                ((uint16_t *)im.data)[i] = (uint16_t)lrint(v * 16.0);
                continue;
            }
            uint8_t g = (uint8_t)lrint(v);
            uint8_t *p = (uint8_t *)im.data + i * (size_t)e->channels;
            for (int c = 0; c < e->channels; c++)
                p[c] = g;
            if (e->channels >= 3) // a faint colour cast, so the luma formula matters
                p[0] = (uint8_t)(g > 250 ? 255 : g + 5);
            if (e->channels == 4)
                p[3] = 255;
        }
        ImageWriteOptions wo = {.format = IMAGE_FORMAT_PNG, .png_level = 1};
        ok = image_write(path, &im, &wo, err);
    }
    image_fini(&im);
    free(f);
    return ok;
}

static void describe(Entry *e, Rng *rng)
{
    e->gender = rng_uniform(rng) < 0.55 ? 'M' : 'F';
    e->view = rng_uniform(rng) < 0.6 ? "PA" : "AP";
    if (rng_uniform(rng) < 0.55) {
        snprintf(e->labels, sizeof e->labels, "No Finding");
        e->n_findings = 0;
        return;
    }
    // One finding mostly, sometimes two (sorted, as in the real file).
    int a = (int)rng_below(rng, N_FINDINGS), b = rng_uniform(rng) < 0.3 ? (int)rng_below(rng, N_FINDINGS) : a;
    if (b < a) {
        int t = a;
        a = b;
        b = t;
    }
    e->n_findings = a == b ? 1 : 2;
    if (a == b)
        snprintf(e->labels, sizeof e->labels, "%s", findings[a]);
    else
        snprintf(e->labels, sizeof e->labels, "%s|%s", findings[a], findings[b]);
}

static bool write_tables(const char *dir, const Entry *es, int64_t n, Err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/Data_Entry_2017.csv", dir);
    AFile *f = afile_open(path, err);
    if (!f)
        return false;
    FILE *fp = afile_stream(f);
    // The real header, trailing comma included.
    fprintf(fp, "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,"
                "OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],\n");
    for (int64_t i = 0; i < n; i++) {
        const Entry *e = &es[i];
        fprintf(fp, "%08d_%03d.png,%s,%d,%d,%d,%c,%s,%d,%d,0.143,0.143,\n", e->patient, e->follow_up, e->labels,
                e->follow_up, e->patient, e->age, e->gender, e->view, e->width, e->height);
    }
    if (!afile_commit(f, err))
        return false;
    for (int t = 0; t < 2; t++) {
        snprintf(path, sizeof path, "%s/%s", dir, t ? "test_list.txt" : "train_val_list.txt");
        if (!(f = afile_open(path, err)))
            return false;
        for (int64_t i = 0; i < n; i++)
            if (es[i].test == (t == 1))
                fprintf(afile_stream(f), "%08d_%03d.png\n", es[i].patient, es[i].follow_up);
        if (!afile_commit(f, err))
            return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    CliCommon common;
    int first;
    CliStatus st = cli_parse(&spec, argc, argv, &common, &first);
    if (st != CLI_CONTINUE)
        return cli_exit_code(st);
    if (first != argc)
        return cli_usage_error("unexpected argument '%s'", argv[first]);
    if (opt.count < 1 || opt.count > 200000)
        return cli_usage_error("--count must be 1..200000, not %lld", (long long)opt.count);
    if (opt.size < 32 || opt.size > 4096)
        return cli_usage_error("--size must be 32..4096, not %lld", (long long)opt.size);
    Err err = {0};
    char images[4096];
    snprintf(images, sizeof images, "%s/images", opt.outdir);
    // mkdir -p: every prefix of the images folder.
    for (char *s = images + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(images, 0777);
            *s = '/';
        }
    mkdir(images, 0777);
    struct stat sb;
    if (stat(images, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        err_set(&err, "%s: cannot create folder", images);
        return cli_report(&err);
    }
    int64_t n = opt.count;
    Entry *es = xcalloc_array((size_t)n, sizeof *es, &err);
    if (!es)
        return cli_report(&err);
    // Patients with 1..6 follow-ups each; about one in five goes to the test
    // list (the official split is patient-wise).
    Rng rng;
    rng_init_stream(&rng, common.seed, 0);
    int patient = 0, follow = 0, left = 0, age = 0;
    bool test = false;
    for (int64_t i = 0; i < n; i++) {
        if (left == 0) {
            patient++;
            follow = 0;
            left = 1 + (int)rng_below(&rng, 6);
            age = 18 + (int)rng_below(&rng, 70);
            test = rng_uniform(&rng) < 0.2;
        }
        Entry *e = &es[i];
        e->patient = patient;
        e->follow_up = follow++;
        left--;
        e->age = age;
        e->test = test;
        describe(e, &rng);
        file_kind(i, e, (int)opt.size);
    }
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(common.jobs) reduction(+ : failed)
    for (int64_t i = 0; i < n; i++) {
        Rng r;
        rng_init_stream(&r, common.seed, 1 + (uint64_t)i);
        char path[4200];
        snprintf(path, sizeof path, "%s/%08d_%03d.png", images, es[i].patient, es[i].follow_up);
        Err e = {0};
        if (!write_image(path, &es[i], &r, &e)) {
            cli_report(&e);
            failed++;
        }
    }
    bool ok = failed == 0 && write_tables(opt.outdir, es, n, &err);
    free(es);
    if (!ok)
        return failed ? 1 : cli_report(&err);
    return 0;
}
