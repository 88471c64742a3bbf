/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ad-train: train an anomaly-detection model on a stream of normal images.
 *
 * The model is chosen by --model (dpa) and described by a configuration:
 * --config FILE (key = value lines, see pipelines/configs/ and
 * --help-config), then flags that override keys (--set key=value, --lr,
 * --iters (every stage's count), --batch-size, --seed, --precise-conv).
 * Writes the model as a tensor stream
 * (-o, atomically), checkpoints for --resume, a loss log and sample images.
 *
 *     ad-train --config pipelines/configs/camelyon16/dpa-wo_pg.conf -o dpa.ts train.ts
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "dpa_config.h"
#include "dpa_train.h"

#define MAX_SETS 256

static struct {
    const char *model, *config, *set_help, *out, *checkpoint, *log, *samples, *weights;
    double lr;
    int64_t iters, batch, stop_after;
    bool resume, help_config, lr_given, iters_given, batch_given, checkpoint_given, quiet, precise_conv;
} opt = {.model = "dpa", .out = "-"};

static const CliOption options[] = {
    {"model", 'm', CLI_STRING, &opt.model, NULL, "NAME", "the model to train: dpa (default dpa)"},
    {"config", 'c', CLI_STRING, &opt.config, NULL, "FILE", "configuration: key = value lines (--help-config lists keys)"},
    {"set", 's', CLI_STRING, &opt.set_help, NULL, "KEY=VALUE", "set one configuration key (repeatable; wins over --config)"},
    {"lr", 0, CLI_DOUBLE, &opt.lr, &opt.lr_given, "X", "learning rate (the key lr)"},
    {"iters", 0, CLI_INT, &opt.iters, &opt.iters_given, "N",
     "N iterations in every stage: replaces stab_iters, trns_iters and all their .RES keys (see below)"},
    {"batch-size", 0, CLI_INT, &opt.batch, &opt.batch_given, "N", "images per step (the key batch_size)"},
    {"output", 'o', CLI_STRING, &opt.out, NULL, "MODEL.ts", "write the trained model here (default: stdout)"},
    {"checkpoint", 0, CLI_STRING, &opt.checkpoint, &opt.checkpoint_given, "FILE",
     "checkpoint file (default: MODEL.ckpt.ts beside -o; none when the model goes to stdout)"},
    {"resume", 'r', CLI_FLAG, &opt.resume, NULL, NULL, "continue from the checkpoint (same configuration and images)"},
    {"stop-after", 0, CLI_INT, &opt.stop_after, NULL, "N", "stop after N iterations of this run, keeping the checkpoint"},
    {"log", 'l', CLI_STRING, &opt.log, NULL, "FILE",
     "write losses to this TSV (iteration, stage, resolution, ...; adversarial runs add the discriminator's terms); "
     "with --resume, the whole run's"},
    {"samples", 0, CLI_STRING, &opt.samples, NULL, "DIR",
     "write input/reconstruction grids and the loss curve (PNG) here every sample_every iterations"},
    {"weights", 'w', CLI_STRING, &opt.weights, NULL, "PATH",
     "VGG19 weights file or folder (default: $ADKIT_WEIGHTS, ./weights, ../shared/weights)"},
    {"precise-conv", 0, CLI_FLAG, &opt.precise_conv, NULL, NULL,
     "no Winograd convolutions (the key precise_conv): ~5x smaller rounding errors, slower"},
    {"help-config", 0, CLI_FLAG, &opt.help_config, NULL, NULL, "list the configuration keys and exit"},
    {"quiet", 'q', CLI_FLAG, &opt.quiet, NULL, NULL, "no summary line at the end"},
    {0},
};

static const CliSpec spec = {
    .name = "ad-train",
    .usage = "[options] [IMAGES.ts|-]",
    .summary = "Train an anomaly-detection model (DPA) on a tensor stream of normal images.",
    .example = "ad-train --config pipelines/configs/camelyon16/dpa-wo_pg.conf -o dpa.ts --log loss.tsv train.ts\n"
               "  ad-train --config dpa.conf --set latent_dim=16 --iters 2000 -o m.ts < train.ts\n"
               "  ad-train --config dpa.conf -o m.ts --resume train.ts      # continue an interrupted run",
    .options = options,
    .has_jobs = true,
    .has_seed = true,
    .notes = "Images: u8 (C, H, W) records; the configuration's transforms (crop, flips, equalize, grey, resize,\n"
             "pad) must turn them into image_dim x max_image_res x max_image_res. Every problem with the\n"
             "configuration, the images or the checkpoint is reported before training starts. A loss that\n"
             "becomes NaN, infinite or larger than 1e6 stops training (exit 1); the last checkpoint is kept.\n"
             "--iters N gives every stage N iterations, whatever the configuration says per resolution: a wo_pg\n"
             "configuration runs its one stab stage N times, a pg one runs stab, trns, stab, ... N times each (the\n"
             "final stage may run N+1: the original's float64 progress test, spec 4.2).",
};

static void print_schema(void)
{
    printf("Configuration keys of --model dpa (key = value; per-resolution keys take a .RES suffix):\n");
    for (const ConfigKey *k = dpa_schema; k->name; k++)
        printf("  %-20s %-12s %s%s%s%s\n", k->name, config_type_name(k->type), k->help,
               k->default_value ? " (default " : "", k->default_value ? k->default_value : "",
               k->default_value ? ")" : "");
}

// --iters N: every stage's count, the per-resolution keys included (they
// would otherwise win over stab_iters/trns_iters, spec 4.1).
static bool set_iters(Config *c, int64_t n, Err *err)
{
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)n);
    if (!config_set(c, "stab_iters", num, "--iters", err) || !config_set(c, "trns_iters", num, "--iters", err))
        return false;
    for (size_t i = 0; i < config_count(c); i++) {
        const char *key = config_key_at(c, i);
        if (strncmp(key, "stab_iters.", 11) != 0 && strncmp(key, "trns_iters.", 11) != 0)
            continue;
        char name[128];
        snprintf(name, sizeof name, "%s", key); // config_set may move the key's storage
        if (!config_set(c, name, num, "--iters", err))
            return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    // --set may repeat: collect every occurrence before the common parser
    // (which keeps only the last value of an option).
    const char *sets[MAX_SETS];
    int nsets = 0, nargs = 1;
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (!args)
        return 1;
    args[0] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = NULL;
        if ((!strcmp(a, "--set") || !strcmp(a, "-s")) && i + 1 < argc)
            v = argv[++i];
        else if (!strncmp(a, "--set=", 6))
            v = a + 6;
        else if (!strcmp(a, "--")) {
            while (i < argc)
                args[nargs++] = argv[i++];
            break;
        } else {
            args[nargs++] = argv[i];
            continue;
        }
        if (nsets == MAX_SETS) {
            free(args);
            return cli_usage_error("more than %d --set options", MAX_SETS);
        }
        sets[nsets++] = v;
    }
    CliCommon common;
    int first;
    CliStatus st = cli_parse(&spec, nargs, args, &common, &first);
    if (st != CLI_CONTINUE) {
        free(args);
        return cli_exit_code(st);
    }
    if (opt.help_config) {
        print_schema();
        free(args);
        return 0;
    }
    if (nargs - first > 1) {
        free(args);
        return cli_usage_error("one image stream at most, got %d", nargs - first);
    }
    const char *images = first < nargs ? args[first] : "-";
    free(args);
    if (strcmp(opt.model, "dpa") != 0)
        return cli_usage_error("--model %s: the models ad-train knows are: dpa", opt.model);
    if (opt.stop_after < 0)
        return cli_usage_error("--stop-after must be positive");
    if (opt.iters_given && opt.iters < 1)
        return cli_usage_error("--iters must be positive");

    Err err = {0};
    Config *c = config_new(&err);
    if (!c)
        return cli_report(&err);
    int rc = 1;
    char num[64], ckpt[4096];
    if (opt.config && !config_load_file(c, opt.config, &err))
        goto out;
    for (int i = 0; i < nsets; i++) {
        const char *eq = strchr(sets[i], '=');
        if (!eq || eq == sets[i]) {
            config_free(c);
            return cli_usage_error("--set %s: expected KEY=VALUE", sets[i]);
        }
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)(eq - sets[i]), sets[i]);
        if (!config_set(c, key, eq + 1, "--set", &err))
            goto out;
    }
    if (opt.lr_given) {
        snprintf(num, sizeof num, "%.17g", opt.lr);
        if (!config_set(c, "lr", num, "--lr", &err))
            goto out;
    }
    if (opt.iters_given && !set_iters(c, opt.iters, &err))
        goto out;
    if (opt.batch_given) {
        snprintf(num, sizeof num, "%lld", (long long)opt.batch);
        if (!config_set(c, "batch_size", num, "--batch-size", &err))
            goto out;
    }
    if (opt.precise_conv && !config_set(c, "precise_conv", "true", "--precise-conv", &err))
        goto out;
    if (common.seed_given) {
        snprintf(num, sizeof num, "%llu", (unsigned long long)common.seed);
        if (!config_set(c, "seed", num, "--seed", &err))
            goto out;
    }
    const char *checkpoint = opt.checkpoint;
    if (!opt.checkpoint_given && strcmp(opt.out, "-") != 0) {
        snprintf(ckpt, sizeof ckpt, "%s", opt.out);
        size_t n = strlen(ckpt);
        if (n > 3 && !strcmp(ckpt + n - 3, ".ts"))
            ckpt[n - 3] = 0;
        snprintf(ckpt + strlen(ckpt), sizeof ckpt - strlen(ckpt), ".ckpt.ts");
        checkpoint = ckpt;
    }
    if (opt.resume && !checkpoint) {
        config_free(c);
        return cli_usage_error("--resume needs --checkpoint FILE (or -o MODEL.ts)");
    }
    omp_set_num_threads(common.jobs);
    DpaTrainOptions o = {.images = images, .model = opt.out, .checkpoint = checkpoint, .resume = opt.resume,
                         .log = opt.log, .samples = opt.samples, .weights = opt.weights,
                         .stop_after = opt.stop_after, .progress = common.progress};
    bool finished = false;
    o.finished = &finished;
    if (!dpa_train(c, &o, &err))
        goto out;
    if (!opt.quiet && !finished)
        fprintf(stderr, "%s: stopped after %lld iterations; continue with --resume (checkpoint %s)\n", cli_program(),
                (long long)opt.stop_after, checkpoint);
    else if (!opt.quiet && strcmp(opt.out, "-") != 0)
        fprintf(stderr, "%s: model written to %s%s%s\n", cli_program(), opt.out, checkpoint ? ", checkpoint " : "",
                checkpoint ? checkpoint : "");
    rc = 0;
out:
    config_free(c);
    return rc ? cli_report(&err) : 0;
}
