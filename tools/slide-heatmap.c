/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slide-heatmap: draw patch anomaly scores over a slide's thumbnail.
 *
 * Reads a scores table (ad-score's TSV: columns id and score; the ids are
 * Camelyon16 patch ids) and a slide, and writes a PNG of a low-resolution
 * level of the slide with each scored patch of that slide painted as a
 * semi-transparent coloured cell. The logic lives in libcommon/heatmap.c.
 *
 *     slide-heatmap -o tumor_001.png testing/images/test_001.tif scores.tsv
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afile.h"
#include "cli.h"
#include "heatmap.h"
#include "img.h"
#include "patchid.h"
#include "slide.h"

static struct {
    const char *out, *range, *colormap, *slide_name;
    int64_t level, max_side;
    double alpha;
    bool legend, level_given;
} opt = {.out = "-", .colormap = "viridis", .max_side = 2048, .alpha = 0.5};

static const CliOption options[] = {
    {"output", 'o', CLI_STRING, &opt.out, NULL, "FILE.png", "write the PNG here (default: standard output)"},
    {"level", 'L', CLI_INT, &opt.level, &opt.level_given, "L",
     "pyramid level of the thumbnail (default: the finest level that fits --max-side)"},
    {"max-side", 'm', CLI_INT, &opt.max_side, NULL, "PX",
     "longest side of the thumbnail; larger levels are box-averaged down (0: no limit; default 2048)"},
    {"alpha", 'a', CLI_DOUBLE, &opt.alpha, NULL, "A", "opacity of the coloured cells, 0..1 (default 0.5)"},
    {"range", 'r', CLI_STRING, &opt.range, NULL, "LO,HI",
     "scores mapped to the colour map's ends (default: this slide's lowest and highest score)"},
    {"colormap", 'c', CLI_STRING, &opt.colormap, NULL, "NAME", "viridis or jet (default viridis)"},
    {"legend", 'g', CLI_FLAG, &opt.legend, NULL, NULL, "add a colour bar with the score range under the map"},
    {"slide-name", 'n', CLI_STRING, &opt.slide_name, NULL, "NAME",
     "draw the ids of this slide (default: the slide's file name without extension)"},
    {0},
};

static const CliSpec spec = {
    .name = "slide-heatmap",
    .usage = "[options] SLIDE [SCORES.tsv|-]",
    .summary = "Draw patch anomaly scores as coloured cells over a slide's thumbnail (PNG).",
    .example = "slide-heatmap -o test_001.png testing/images/test_001.tif scores.tsv\n"
               "  ad-score dpa.ts test.ts | slide-heatmap --legend --range 0,1 test_001.tif - > test_001.png",
    .options = options,
    .notes = "SCORES is a TSV with a header naming the columns id and score (ad-score's output; other columns\n"
             "are ignored), read from standard input when absent or '-'. Ids are the patch ids of slide2patches\n"
             "(<slide>_<type>_x_<row>_y_<col>_w_<W>_h_<H>); rows of other slides are skipped, so one table\n"
             "of a whole test set serves every slide. A patch scored twice shows its highest score. Memory\n"
             "is the thumbnail plus a band of the level read, whatever the slide's size.",
};

static bool parse_range(const char *s, double *lo, double *hi)
{
    const char *comma = strchr(s, ',');
    if (!comma || comma == s || (size_t)(comma - s) >= 64)
        return false;
    char first[64];
    memcpy(first, s, (size_t)(comma - s));
    first[comma - s] = 0;
    return cli_parse_double(first, lo) && cli_parse_double(comma + 1, hi) && isfinite(*lo) && isfinite(*hi) &&
           *lo < *hi;
}

int main(int argc, char **argv)
{
    CliCommon common;
    int first;
    CliStatus st = cli_parse(&spec, argc, argv, &common, &first);
    if (st != CLI_CONTINUE)
        return cli_exit_code(st);
    int nargs = argc - first;
    if (nargs < 1 || nargs > 2)
        return cli_usage_error(nargs < 1 ? "a slide is needed" : "too many arguments (SLIDE [SCORES])");
    const char *slide_path_arg = argv[first], *scores_path = nargs == 2 ? argv[first + 1] : "-";
    HeatmapStyle style = heatmap_style_default();
    style.alpha = opt.alpha;
    style.legend = opt.legend;
    if (!(opt.alpha >= 0 && opt.alpha <= 1))
        return cli_usage_error("--alpha must be between 0 and 1, not %g", opt.alpha);
    if (opt.range) {
        if (!parse_range(opt.range, &style.lo, &style.hi))
            return cli_usage_error("--range needs LO,HI with LO < HI, not '%s'", opt.range);
        style.range_given = true;
    }
    if (!heatmap_colormap_parse(opt.colormap, &style.colormap))
        return cli_usage_error("--colormap must be viridis or jet, not '%s'", opt.colormap);
    if (opt.level_given && opt.level < 0)
        return cli_usage_error("--level must be >= 0");
    if (opt.max_side < 0)
        return cli_usage_error("--max-side must be >= 0");

    Err err = {0};
    char name[PATCHID_MAX_BYTES];
    if (opt.slide_name)
        snprintf(name, sizeof name, "%s", opt.slide_name);
    else if (!slide_name_from_path(slide_path_arg, name, sizeof name))
        return cli_usage_error("cannot tell the slide's name from '%s' (use --slide-name)", slide_path_arg);

    HeatmapScores scores = {0};
    Image img = {0};
    HeatmapGeometry geo;
    unsigned char *png = NULL;
    size_t png_bytes = 0;
    AFile *out = NULL;
    int rc = 1;
    Slide *slide = slide_open(slide_path_arg, &err);
    if (!slide || !heatmap_read_scores(scores_path, name, &scores, &err) ||
        !heatmap_read_thumbnail(slide, opt.level_given ? (int)opt.level : -1, opt.max_side, &img, &geo, &err) ||
        !heatmap_draw(&img, &geo, scores.cells, scores.n, &style, &err))
        goto done;
    ImageWriteOptions wo = {.format = IMAGE_FORMAT_PNG, .png_level = -1};
    if (!image_encode(&img, &wo, &png, &png_bytes, &err))
        goto done;
    out = afile_open_binary(opt.out, &err);
    if (!out)
        goto done;
    // A short write shows up as the stream's error, which commit checks.
    fwrite(png, 1, png_bytes, afile_stream(out));
    if (!afile_commit(out, &err))
        goto done;
    rc = 0;
done:
    if (rc)
        cli_report(&err);
    free(png);
    image_fini(&img);
    heatmap_scores_fini(&scores);
    slide_close(slide);
    return rc;
}
