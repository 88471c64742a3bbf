/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mkfolds: the cross-validation folds and train/test split lists of the
 * paper's experiments, regenerated with a seed, and a checker for existing
 * folds folders (spec baselines-data.md §4).
 *
 * Subcommands: cifar10|svhn|fashion-mnist (class-wise folds as .npy index
 * arrays), nih-split (the AP/PA train/test lists), nih (patient-disjoint
 * folds), camelyon16 (patch-list folds), check (validate a folder). Outputs
 * appear whole: a new folder is staged and renamed into place.
 *
 *     mkfolds cifar10 --labels cifar10-train.ts -o folds --seed 1
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fileset.h"
#include "folds.h"
#include "nih_entries.h"
#include "tsv.h"

typedef struct Options {
    const char *output;
    int64_t folds;
    const char *labels;
    const char *validation_classes;
    const char *data_entry;
    const char *train_val_list;
    const char *test_list;
    const char *valid_label;
    const char *normal_train;
    const char *tumor_train;
    const char *validation_slides;
    bool by_slide;
    bool allow_overlap;
    const char *verify;
} Options;

static Options opt = {.folds = 3, .valid_label = "Infiltration"};

static const CliOption options[] = {
    {"output", 'o', CLI_STRING, &opt.output, NULL, "DIR", "output folder (required to generate)"},
    {"folds", 'k', CLI_INT, &opt.folds, NULL, "N", "number of folds (default 3)"},
    {"labels", 0, CLI_STRING, &opt.labels, NULL, "FILE",
     "cifar10/svhn/fashion-mnist: training split labels, a stream (label, index) or TSV (label[, index])"},
    {"validation-classes", 0, CLI_STRING, &opt.validation_classes, NULL, "CSV",
     "cifar10/svhn/fashion-mnist: class,valid_class CSV (default: drawn with --seed)"},
    {"data-entry", 0, CLI_STRING, &opt.data_entry, NULL, "CSV", "nih, nih-split: Data_Entry_2017.csv"},
    {"train-val-list", 0, CLI_STRING, &opt.train_val_list, NULL, "FILE", "nih, nih-split: train_val_list.txt"},
    {"test-list", 0, CLI_STRING, &opt.test_list, NULL, "FILE", "nih-split: test_list.txt"},
    {"valid-label", 0, CLI_STRING, &opt.valid_label, NULL, "NAME",
     "nih: finding used as CV anomalies (default Infiltration)"},
    {"normal-train", 0, CLI_STRING, &opt.normal_train, NULL, "LIST", "camelyon16: normal train patch list"},
    {"tumor-train", 0, CLI_STRING, &opt.tumor_train, NULL, "LIST", "camelyon16: tumor train patch list"},
    {"validation-slides", 0, CLI_STRING, &opt.validation_slides, NULL, "CSV",
     "camelyon16: 'Valid Slides' CSV (default: 4 tumour slides drawn with --seed)"},
    {"by-slide", 0, CLI_FLAG, &opt.by_slide, NULL, NULL,
     "camelyon16: split unique slides (no leak) instead of the original per-patch KFold"},
    {"allow-overlap", 0, CLI_FLAG, &opt.allow_overlap, NULL, NULL,
     "check: normal test items also in train/val are reported, not an error"},
    {"verify", 0, CLI_STRING, &opt.verify, NULL, "DIR", "the same as 'mkfolds check DIR'"},
    {0},
};

static const CliSpec spec = {
    .name = "mkfolds",
    .usage = "SUBCOMMAND [options]   (cifar10 | svhn | fashion-mnist | nih-split | nih | camelyon16 | check DIR)",
    .summary = "Make the paper's cross-validation folds and split lists, or check a folds folder.",
    .example = "mkfolds cifar10 --labels cifar10-train.ts -o work/folds --seed 1 \\\n"
               "      --validation-classes ../shared/folds/validation_classes/cifar10.csv\n"
               "  mkfolds nih-split --data-entry Data_Entry_2017.csv --train-val-list train_val_list.txt \\\n"
               "      --test-list test_list.txt -o work/nih/split\n"
               "  mkfolds nih --data-entry Data_Entry_2017.csv --train-val-list train_val_list.txt -o work/folds\n"
               "  mkfolds camelyon16 --normal-train normal/train --tumor-train anomaly/train -o work/folds\n"
               "  mkfolds check --allow-overlap ../shared/folds",
    .options = options,
    .has_seed = true,
    .notes =
        "Layout (as the original): DIR/folds/<ds>/<class>/<fold>/{train,val,test_normal,test_anomaly}.npy,\n"
        "DIR/folds/nih/{AP,PA}/<fold>/{normal/{train,val,test},anomaly/test},\n"
        "DIR/folds/camelyon16/healthy/<fold>/{normal/{train,val,test},anomaly/test},\n"
        "DIR/validation_classes/<ds>.csv; nih-split: DIR/{AP,PA}/{normal/train,normal/test,anomaly/test}.\n"
        "KFold is sklearn's without shuffle; each fold's train part is shuffled with --seed and its first\n"
        "20% becomes val. The original scripts were unseeded: the same sizes, not the same lists.\n"
        "camelyon16: by default the original per-patch KFold is reproduced, whose normal test set holds\n"
        "nearly every training patch (a leak in the paper's CV); DEVIATION with --by-slide: folds over\n"
        "unique slides, shuffled with --seed.\n"
        "The one-class train/test sets of CIFAR-10/SVHN/Fashion-MNIST are class filters: ad-select --label C\n"
        "--normal C on the train stream, ad-select --normal C on the test stream.\n"
        "check prints: set, train, val, test_normal, test_anomaly, anomaly_train, overlap (- = absent).",
};

static void print_count(int64_t v, const char *sep)
{
    if (v < 0)
        printf("-%s", sep);
    else
        printf("%" PRId64 "%s", v, sep);
}

static int run_check(const char *dir)
{
    Err err = {0};
    FoldsCheckRow *rows;
    size_t n;
    // The table is data: printed only when the whole folder checked out.
    if (!folds_check(dir, opt.allow_overlap, &rows, &n, &err)) {
        free(rows);
        return cli_report(&err);
    }
    printf("set\ttrain\tval\ttest_normal\ttest_anomaly\tanomaly_train\toverlap\n");
    for (size_t i = 0; i < n; i++) {
        printf("%s\t", rows[i].set);
        print_count(rows[i].train, "\t");
        print_count(rows[i].val, "\t");
        print_count(rows[i].test_normal, "\t");
        print_count(rows[i].test_anomaly, "\t");
        print_count(rows[i].anomaly_train, "\t");
        print_count(rows[i].overlap, "\n");
    }
    free(rows);
    if (fflush(stdout) != 0) {
        cli_warn("error writing standard output");
        return 1;
    }
    return 0;
}

static bool need(const char *value, const char *option, const char *sub, int *rc)
{
    if (value)
        return true;
    *rc = cli_usage_error("%s needs --%s", sub, option);
    return false;
}

static int generate(const char *sub, const CliCommon *common)
{
    Err err = {0};
    FileSet *fs = fileset_new(&err);
    if (!fs)
        return cli_report(&err);
    FoldsLabels labels = {0};
    NihEntries table = {0};
    TextList a = {0}, b = {0};
    bool ok;
    int n_folds = (int)opt.folds;
    if (!strcmp(sub, "cifar10") || !strcmp(sub, "svhn") || !strcmp(sub, "fashion-mnist")) {
        FoldsClasswise spec = {sub, n_folds, common->seed, opt.validation_classes};
        ok = folds_read_labels(opt.labels, &labels, &err) && folds_make_classwise(&labels, &spec, fs, &err);
    } else if (!strcmp(sub, "nih-split")) {
        ok = nih_entries_read(opt.data_entry, &table, &err) && textlist_read(opt.train_val_list, &a, &err) &&
             textlist_read(opt.test_list, &b, &err) && folds_make_nih_split(&table, &a, &b, fs, &err);
    } else if (!strcmp(sub, "nih")) {
        ok = nih_entries_read(opt.data_entry, &table, &err) && textlist_read(opt.train_val_list, &a, &err) &&
             folds_make_nih(&table, &a, opt.valid_label, n_folds, common->seed, fs, &err);
    } else {
        ok = textlist_read(opt.normal_train, &a, &err) && textlist_read(opt.tumor_train, &b, &err) &&
             folds_make_camelyon16(&a, &b, opt.validation_slides, opt.by_slide, n_folds, common->seed, fs, &err);
    }
    if (ok)
        ok = fileset_commit(fs, opt.output, &err);
    if (ok && common->progress)
        cli_warn("wrote %zu files under %s", fileset_count(fs), opt.output);
    fileset_free(fs);
    folds_labels_fini(&labels);
    nih_entries_fini(&table);
    textlist_fini(&a);
    textlist_fini(&b);
    return ok ? 0 : cli_report(&err);
}

int main(int argc, char **argv)
{
    CliCommon common;
    int first;
    CliStatus cs = cli_parse(&spec, argc, argv, &common, &first);
    if (cs != CLI_CONTINUE)
        return cli_exit_code(cs);
    if (opt.verify) {
        if (first != argc)
            return cli_usage_error("--verify DIR takes no other arguments");
        return run_check(opt.verify);
    }
    if (first >= argc)
        return cli_usage_error("missing subcommand: cifar10, svhn, fashion-mnist, nih-split, nih, camelyon16 or check");
    const char *sub = argv[first];
    int nargs = argc - first - 1;
    if (!strcmp(sub, "check")) {
        if (nargs != 1)
            return cli_usage_error("check takes one folder");
        return run_check(argv[first + 1]);
    }
    bool classwise = !strcmp(sub, "cifar10") || !strcmp(sub, "svhn") || !strcmp(sub, "fashion-mnist");
    if (!classwise && strcmp(sub, "nih-split") && strcmp(sub, "nih") && strcmp(sub, "camelyon16"))
        return cli_usage_error("unknown subcommand '%s'", sub);
    if (nargs)
        return cli_usage_error("%s takes no positional arguments ('%s')", sub, argv[first + 1]);
    if (opt.folds < 2 || opt.folds > 1000)
        return cli_usage_error("--folds must be between 2 and 1000, not %" PRId64, opt.folds);
    int rc = 2;
    if (!need(opt.output, "output", sub, &rc))
        return rc;
    if (classwise && !need(opt.labels, "labels", sub, &rc))
        return rc;
    if (!strcmp(sub, "nih-split") && !(need(opt.data_entry, "data-entry", sub, &rc) &&
                                       need(opt.train_val_list, "train-val-list", sub, &rc) &&
                                       need(opt.test_list, "test-list", sub, &rc)))
        return rc;
    if (!strcmp(sub, "nih") &&
        !(need(opt.data_entry, "data-entry", sub, &rc) && need(opt.train_val_list, "train-val-list", sub, &rc)))
        return rc;
    if (!strcmp(sub, "camelyon16") &&
        !(need(opt.normal_train, "normal-train", sub, &rc) && need(opt.tumor_train, "tumor-train", sub, &rc)))
        return rc;
    return generate(sub, &common);
}
