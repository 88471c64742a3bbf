/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ad-import: public data sets and image folders to labelled tensor streams.
 *
 * Reads Fashion-MNIST / MNIST (IDX, gzip), CIFAR-10 (binary batches), SVHN
 * (.mat), a folder of class sub-folders, or a list of image paths, and
 * writes one u8 (C, H, W) record per image with metadata id, label and index
 * (the 0-based position in the split, which the cross-validation folds use).
 *
 *     ad-import fashion-mnist --split test -o fmnist-test.ts
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "dsload.h"
#include "imgsrc.h"
#include "progress.h"
#include "tstream.h"

typedef struct Options {
    const char *output;
    const char *split;
    bool split_given;
    const char *root;
    bool root_given;
    int64_t label;
    bool label_given;
    bool grey, rgb;
} Options;

static Options opt = {.output = "-", .split = "train"};

static const CliOption options[] = {
    {"output", 'o', CLI_STRING, &opt.output, NULL, "FILE", "write the stream here (default: stdout)"},
    {"split", 's', CLI_STRING, &opt.split, &opt.split_given, "NAME", "train or test (default: train)"},
    {"root", 'r', CLI_STRING, &opt.root, &opt.root_given, "DIR",
     "folder of the data set files (fashion-mnist default: /usr/share/datasets/fashion-mnist); "
     "for list: put DIR/ in front of relative paths"},
    {"label", 0, CLI_INT, &opt.label, &opt.label_given, "N",
     "folder/list: label for images that get none from a class folder or the list"},
    {"grey", 0, CLI_FLAG, &opt.grey, NULL, NULL, "folder/list: convert to one channel (Pillow's convert('L'))"},
    {"rgb", 0, CLI_FLAG, &opt.rgb, NULL, NULL, "folder/list: convert to three channels"},
    {0},
};

static const CliSpec spec = {
    .name = "ad-import",
    .usage = "DATASET [options] [FOLDER|LIST]",
    .summary = "Import a data set as a labelled tensor stream: fashion-mnist, mnist, cifar10, svhn, folder, list.",
    .example = "ad-import fashion-mnist --split test > fmnist-test.ts\n"
               "  ad-import cifar10 --root cifar-10-batches-bin --split train -o cifar-train.ts\n"
               "  ad-import svhn --root svhn --split test -o svhn-test.ts\n"
               "  ad-import folder patches/ -o patches.ts   # patches/normal/*.png, patches/tumor/*.png",
    .options = options,
    .has_jobs = true,
    .notes = "Data sets and their files (in --root):\n"
             "  fashion-mnist, mnist  {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (or uncompressed); (1, 28, 28)\n"
             "  cifar10               data_batch_1..5.bin (train, in this order), test_batch.bin; (3, 32, 32)\n"
             "  svhn                  train_32x32.mat, test_32x32.mat; digit 0 has label 0 (10 in the file)\n"
             "  folder FOLDER         images in FOLDER, or in its class sub-folders (label = the folder name when\n"
             "                        numeric, else the classes in sorted order with 'normal' first; class_name)\n"
             "  list FILE             image paths, one per line, 'PATH' or 'PATH<TAB>LABEL' ('-' = stdin)\n"
             "Records are u8 (C, H, W); 16-bit image files become 8-bit with round(v * 255 / 65535).\n"
             "Data sets: id = DATASET-SPLIT-INDEX, label, index. Folders and lists: id = file name\n"
             "without extension, source = path, index, and label/class_name when known.\n"
             "Any bad input fails the run and no output file appears.",
};

typedef enum Dataset { DS_FMNIST, DS_MNIST, DS_CIFAR10, DS_SVHN, DS_FOLDER, DS_LIST, DS_COUNT } Dataset;
static const char *const dataset_names[] = {"fashion-mnist", "mnist", "cifar10", "svhn", "folder", "list"};
_Static_assert(sizeof dataset_names / sizeof dataset_names[0] == DS_COUNT, "one name per data set");

static void report_bad(void *ctx, const Err *err)
{
    (void)ctx;
    cli_report(err);
}

// Data sets in their own formats: load whole (all checks pass), then write.
static bool import_dataset(Dataset ds, TStreamWriter *out, bool show_progress, Err *err)
{
    const char *root = opt.root ? opt.root : "/usr/share/datasets/fashion-mnist";
    DsImages set = {0};
    bool ok = ds == DS_CIFAR10 ? dsload_cifar10(root, opt.split, &set, err)
              : ds == DS_SVHN  ? dsload_svhn(root, opt.split, &set, err)
                               : dsload_mnist(root, opt.split, &set, err);
    if (ok) {
        Progress *p = progress_new("images", set.count, show_progress);
        ok = dsload_write(&set, dataset_names[ds], opt.split, out, p, err);
        progress_free(p);
    }
    dsload_fini(&set);
    return ok;
}

static bool import_files(Dataset ds, const char *arg, TStreamWriter *out, const CliCommon *common, Err *err)
{
    ImgSrcList list;
    imgsrc_init(&list);
    bool ok, classes = false;
    if (ds == DS_FOLDER) {
        ok = imgsrc_add_classes(&list, arg, &classes, err);
    } else {
        FILE *fp = strcmp(arg, "-") == 0 ? stdin : fopen(arg, "r");
        ok = fp ? imgsrc_add_list(&list, fp, fp == stdin ? "stdin" : arg, opt.root, err)
                : err_set(err, "%s: cannot open list", arg);
        if (fp && fp != stdin)
            fclose(fp);
        if (ok && list.count == 0)
            ok = err_set(err, "%s: no image paths in the list", arg);
    }
    if (ok) {
        Progress *p = progress_new("images", (int64_t)list.count, common->progress);
        // Every importer writes u8 records: 16-bit files become 8-bit
        // (round(v * 255 / 65535)), as img2stream --depth 8 does.
        ImgSrcOptions o = {.channels = opt.grey ? 1 : opt.rgb ? 3 : 0, .to_8bit = true, .has_label = opt.label_given,
                           .label = opt.label, .with_index = true, .jobs = common->jobs, .progress = p,
                           .on_bad = report_bad};
        ok = imgsrc_convert(&list, &o, out, NULL, err);
        progress_free(p);
    }
    imgsrc_fini(&list);
    return ok;
}

int main(int argc, char **argv)
{
    CliCommon common;
    int first;
    CliStatus st = cli_parse(&spec, argc, argv, &common, &first);
    if (st != CLI_CONTINUE)
        return cli_exit_code(st);
    if (first == argc)
        return cli_usage_error("no data set named (fashion-mnist, mnist, cifar10, svhn, folder or list)");
    Dataset ds = DS_COUNT;
    for (int d = 0; d < DS_COUNT; d++)
        if (strcmp(argv[first], dataset_names[d]) == 0)
            ds = (Dataset)d;
    if (ds == DS_COUNT)
        return cli_usage_error("unknown data set '%s' (fashion-mnist, mnist, cifar10, svhn, folder or list)",
                               argv[first]);
    bool files = ds == DS_FOLDER || ds == DS_LIST;
    int want_args = files ? 1 : 0;
    if (argc - first - 1 != want_args)
        return cli_usage_error(files ? "%s takes one %s" : "%s takes no arguments%s", dataset_names[ds],
                               ds == DS_FOLDER ? "folder" : ds == DS_LIST ? "list file ('-' = stdin)" : "");
    if (!files && (opt.label_given || opt.grey || opt.rgb))
        return cli_usage_error("--label, --grey and --rgb apply to folder and list");
    if (opt.grey && opt.rgb)
        return cli_usage_error("--grey and --rgb exclude each other");
    if (files && opt.split_given)
        return cli_usage_error("--split applies to data sets, not %s", dataset_names[ds]);
    if (!files && strcmp(opt.split, "train") != 0 && strcmp(opt.split, "test") != 0)
        return cli_usage_error("--split takes train or test, not '%s'", opt.split);
    if ((ds == DS_MNIST || ds == DS_CIFAR10 || ds == DS_SVHN) && !opt.root_given)
        return cli_usage_error("%s needs --root DIR (the folder holding its files)", dataset_names[ds]);
    if (ds == DS_FOLDER && opt.root_given)
        return cli_usage_error("--root applies to data sets and lists, not folder");
    Err err = {0};
    TStreamWriter *out = tstream_create(opt.output, &err);
    if (!out)
        return cli_report(&err);
    bool ok = files ? import_files(ds, argv[first + 1], out, &common, &err)
                    : import_dataset(ds, out, common.progress, &err);
    if (!ok) {
        tstream_writer_abort(out);
        return cli_report(&err);
    }
    return tstream_writer_commit(out, &err) ? 0 : cli_report(&err);
}
