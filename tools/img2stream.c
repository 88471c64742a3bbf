/* SPDX-License-Identifier: Apache-2.0 */
/*
 * img2stream: image files (PNG, JPEG, TIFF, BMP) to a tensor stream.
 *
 * Reads the files named as arguments (a folder means the images in it,
 * sorted by name), or a list of paths, one per line, from --list FILE or
 * standard input, and writes one u8/u16 (C, H, W) record per image, in input
 * order, with metadata id (file name without extension), source (path) and
 * label (--label, or a "PATH<TAB>LABEL" list line).
 *
 *     find xrays -name '*.png' | sort | img2stream --grey --label 0 -o normal.ts
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "imgsrc.h"
#include "progress.h"
#include "tstream.h"

typedef struct Options {
    const char *output;
    const char *list; /* NULL: arguments, or stdin when there are none */
    const char *root;
    int64_t label;
    bool label_given;
    bool grey, rgb;
    int64_t depth;
    bool depth_given;
    bool skip_bad;
} Options;

static Options opt = {.output = "-"};

static const CliOption options[] = {
    {"output", 'o', CLI_STRING, &opt.output, NULL, "FILE", "write the stream here (default: stdout)"},
    {"list", 0, CLI_STRING, &opt.list, NULL, "FILE",
     "read paths from FILE, one per line, 'PATH' or 'PATH<TAB>LABEL' ('-' = stdin; the default without arguments)"},
    {"root", 0, CLI_STRING, &opt.root, NULL, "DIR", "put DIR/ in front of relative paths of the list"},
    {"label", 0, CLI_INT, &opt.label, &opt.label_given, "N", "add label=N to every record (list labels win)"},
    {"grey", 0, CLI_FLAG, &opt.grey, NULL, NULL, "convert to one channel with Pillow's convert('L') formula"},
    {"rgb", 0, CLI_FLAG, &opt.rgb, NULL, NULL, "convert to three channels (grey replicated, alpha dropped)"},
    {"depth", 0, CLI_INT, &opt.depth, &opt.depth_given, "8",
     "make 16-bit images 8-bit: round(v * 255 / 65535) (default: keep 16 bits)"},
    {"skip-bad", 0, CLI_FLAG, &opt.skip_bad, NULL, NULL,
     "write the readable images and report the others (default: any bad file fails the run, no output)"},
    {0},
};

static const CliSpec spec = {
    .name = "img2stream",
    .usage = "[options] [IMAGE|FOLDER...]",
    .summary = "Convert image files (PNG, JPEG, TIFF, BMP) to a tensor stream, one record per image.",
    .example = "img2stream --grey photos/ > photos.ts\n"
               "  find xrays -name '*.png' | sort | img2stream --label 0 -j 4 -o normal.ts",
    .options = options,
    .has_jobs = true,
    .notes = "Records are u8 (or u16 for 16-bit files) of shape (C, H, W), in input order, with metadata\n"
             "id (file name without folder and extension), source (the path) and label when given.\n"
             "A file output appears only when every image was read (or with --skip-bad); on stdout the\n"
             "stream stops before the first bad image and the exit status is 1.",
};

static void report_bad(void *ctx, const Err *err)
{
    (void)ctx;
    cli_report(err);
}

int main(int argc, char **argv)
{
    CliCommon common;
    int first;
    CliStatus st = cli_parse(&spec, argc, argv, &common, &first);
    if (st != CLI_CONTINUE)
        return cli_exit_code(st);
    if (opt.grey && opt.rgb)
        return cli_usage_error("--grey and --rgb exclude each other");
    if (opt.depth_given && opt.depth != 8)
        return cli_usage_error("--depth takes 8 (16-bit images become 8-bit), not %lld", (long long)opt.depth);
    if (opt.list && first < argc)
        return cli_usage_error("give image files or --list, not both");
    if (opt.root && !opt.list && first < argc)
        return cli_usage_error("--root applies to a list of paths (--list or stdin)");
    const char *list = opt.list ? opt.list : first == argc ? "-" : NULL;
    if (list && strcmp(list, "-") == 0 && isatty(STDIN_FILENO))
        return cli_usage_error("no images given (name files or folders, or pipe a list of paths)");

    Err err = {0};
    ImgSrcList paths;
    imgsrc_init(&paths);
    bool ok = true;
    if (list) {
        FILE *fp = strcmp(list, "-") == 0 ? stdin : fopen(list, "r");
        if (!fp)
            ok = err_set(&err, "%s: cannot open list", list);
        else
            ok = imgsrc_add_list(&paths, fp, fp == stdin ? "stdin" : list, opt.root, &err);
        if (fp && fp != stdin)
            fclose(fp);
    }
    for (int i = first; ok && i < argc; i++)
        ok = imgsrc_add(&paths, argv[i], &err);
    if (ok && paths.count == 0)
        ok = err_set(&err, "no images in the list");
    TStreamWriter *out = ok ? tstream_create(opt.output, &err) : NULL;
    if (!out) {
        imgsrc_fini(&paths);
        return cli_report(&err);
    }
    Progress *progress = progress_new("images", (int64_t)paths.count, common.progress);
    ImgSrcOptions o = {.channels = opt.grey ? 1 : opt.rgb ? 3 : 0, .to_8bit = opt.depth_given,
                       .has_label = opt.label_given, .label = opt.label, .skip_bad = opt.skip_bad,
                       .jobs = common.jobs, .progress = progress, .on_bad = report_bad};
    size_t bad = 0;
    ok = imgsrc_convert(&paths, &o, out, &bad, &err);
    progress_free(progress);
    if (ok && bad)
        cli_warn("skipped %zu of %zu images that could not be read", bad, paths.count);
    imgsrc_fini(&paths);
    if (!ok) {
        tstream_writer_abort(out);
        return cli_report(&err);
    }
    return tstream_writer_commit(out, &err) ? 0 : cli_report(&err);
}
