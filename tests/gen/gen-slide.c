/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gen-slide: write a synthetic whole-slide image that OpenSlide opens, with
 * its ASAP annotation XML and a truth file, for tests and benchmarks.
 *
 * The slide is a pyramidal tiled TIFF (generic-tiff for OpenSlide, spec
 * camelyon16.md 16.1-16.3): level k is (W >> k) x (H >> k), every level
 * tiled, levels >= 1 marked as reduced images in the main IFD chain, tiles
 * shrunk per level so that no lossless level is smaller than its tile (the
 * libtiff pitfall of 16.2). Content is defined on the "cell" grid of the
 * mask level (one cell = 3 x 3 mask pixels = one patch): tissue cells form
 * a seeded blob, tumour regions are polygons (a rectangle in group `_0`, a
 * diamond in `Tumor` crossing the tissue edge, a small rectangle in `_1`),
 * an exclusion `_2` sits inside the first, and a polygon of group
 * `Exclusion` (which readers must ignore) lies over normal tissue. Every
 * level's pixel is a function of its centre in level-0 coordinates, so all
 * levels agree.
 *
 * Truth file: a header line, then one line per cell row with one character
 * per cell: '.' background, 'b' black margin, 't' tissue that is surely not
 * tumour, 'T' tissue that is surely tumour (the cell and its 8 neighbours lie
 * inside one tumour polygon and off every exclusion), '?' tissue near a
 * polygon edge (either).
 *
 *     gen-slide --seed 3 --xml t.xml --truth t.txt tumor_001.tif
 *     gen-slide --mask-level 4 --size 128x128 --compression lzw small.tif
 */
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tiffio.h>
#include <zlib.h>

#include "afile.h"
#include "cli.h"
#include "rng.h"

typedef struct Options {
    int64_t mask_level;
    const char *size;
    const char *compression;
    const char *xml;
    const char *truth;
    int64_t levels;
    int64_t black_margin;
    bool uniform;
    bool tumour;
} Options;

static Options opt = {.mask_level = 8, .size = "96x84", .compression = "deflate", .levels = 0};

static const CliOption options[] = {
    {"mask-level", 0, CLI_INT, &opt.mask_level, NULL, "L", "level at which cells are 3x3 pixels (default 8)"},
    {"size", 0, CLI_STRING, &opt.size, NULL, "WxH", "size at the mask level in pixels (default 96x84)"},
    {"levels", 0, CLI_INT, &opt.levels, NULL, "N", "pyramid levels (default mask level + 1)"},
    {"compression", 0, CLI_STRING, &opt.compression, NULL, "C", "deflate, lzw (exact pixels), jpeg (q90 YCbCr) or jpeg-rgb (q90, no colour conversion) (default deflate)"},
    {"xml", 0, CLI_STRING, &opt.xml, NULL, "FILE", "write the ASAP annotation XML here (adds tumour regions)"},
    {"tumour", 0, CLI_FLAG, &opt.tumour, NULL, NULL, "draw tumour regions even without --xml"},
    {"truth", 0, CLI_STRING, &opt.truth, NULL, "FILE", "write the per-cell truth here"},
    {"black-margin", 0, CLI_INT, &opt.black_margin, NULL, "PX", "black frame this many mask pixels wide (default 0)"},
    {"uniform", 0, CLI_FLAG, &opt.uniform, NULL, NULL, "one flat colour everywhere (no tissue to find)"},
    {0},
};

static const CliSpec spec = {
    .name = "gen-slide",
    .usage = "[options] OUT.tif",
    .summary = "Write a synthetic pyramidal TIFF slide with annotations and truth for tests.",
    .example = "gen-slide --seed 3 --xml tumor_001.xml --truth tumor_001.truth tumor_001.tif",
    .options = options,
    .has_jobs = true,
    .has_seed = true,
};

/* Geometry and content, all in level-0 pixels unless named otherwise. */
typedef struct Rect { int64_t x0, y0, x1, y1; } Rect; /* [x0, x1] x [y0, y1] */
typedef struct World {
    int64_t W, H, cell_px, cw, ch, margin_px;
    uint8_t *tissue;  /* [ch][cw] 1 = tissue cell */
    bool tumour;
    Rect t0, t1, excl, ignored; /* _0, _1, _2, Exclusion-group */
    int64_t dcx, dcy, drx, dry; /* diamond (Tumor group): |x-dcx|/drx + |y-dcy|/dry <= 1 */
    uint64_t seed;
    bool uniform;
} World;

static uint64_t mix(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static bool in_rect(const Rect *r, double x, double y) { return x >= r->x0 && x <= r->x1 && y >= r->y0 && y <= r->y1; }

static bool in_diamond(const World *w, double x, double y)
{
    return fabs(x - w->dcx) / w->drx + fabs(y - w->dcy) / w->dry <= 1.0;
}

static bool is_tumour(const World *w, double x, double y)
{
    if (!w->tumour || in_rect(&w->excl, x, y))
        return false;
    return in_rect(&w->t0, x, y) || in_rect(&w->t1, x, y) || in_diamond(w, x, y);
}

// Colour at level-0 point (x, y) (a pixel centre of some level). The
// picture is constant on 16 x 16 level-0 blocks (evaluated at the block's
// centre), which keeps level 0 cheap to make and to compress and makes every
// level a sampling of the same picture.
#define BLOCK_PX 16
static void colour_block(const World *w, int64_t bx, int64_t by, uint8_t *rgb)
{
    double x = (bx + 0.5) * BLOCK_PX, y = (by + 0.5) * BLOCK_PX;
    if (w->uniform) {
        rgb[0] = rgb[1] = rgb[2] = 235;
        return;
    }
    if (x < w->margin_px || y < w->margin_px || x >= w->W - w->margin_px || y >= w->H - w->margin_px) {
        rgb[0] = rgb[1] = rgb[2] = 0;
        return;
    }
    int64_t c = (int64_t)(x / w->cell_px), r = (int64_t)(y / w->cell_px);
    if (c >= w->cw || r >= w->ch || !w->tissue[r * w->cw + c]) {
        rgb[0] = rgb[1] = rgb[2] = 235; // clean glass
        return;
    }
    // Blotchy stain texture on a 128-px lattice plus a grain per block.
    uint64_t grain = mix(w->seed ^ mix(((uint64_t)bx << 32) ^ (uint64_t)by));
    uint64_t blot = mix(w->seed ^ 0xA5A5 ^ mix(((uint64_t)(bx / 8) << 32) ^ (uint64_t)(by / 8)));
    int t = (int)(blot % 25) - 12 + (int)(grain % 9) - 4;
    int base[3] = {200, 120, 170};
    if (is_tumour(w, x, y)) {
        base[0] = 120, base[1] = 60, base[2] = 150;
    }
    for (int k = 0; k < 3; k++) {
        int v = base[k] + t;
        rgb[k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}

static bool parse_size(const char *s, int64_t *w, int64_t *h)
{
    char a[32], b[32];
    const char *x = strchr(s, 'x');
    if (!x || (size_t)(x - s) >= sizeof a || strlen(x + 1) >= sizeof b)
        return false;
    memcpy(a, s, (size_t)(x - s));
    a[x - s] = 0;
    snprintf(b, sizeof b, "%s", x + 1);
    return cli_parse_int(a, w) && cli_parse_int(b, h) && *w > 0 && *h > 0;
}

// Tissue: cells inside a wobbly ellipse centred in the slide, larger than
// the area the border rule keeps, with a few seeded holes.
static void make_tissue(World *w, Rng *rng)
{
    double cx = w->cw / 2.0, cy = w->ch / 2.0, rx = w->cw * 0.42, ry = w->ch * 0.40;
    double phase = rng_uniform(rng) * 6.283;
    for (int64_t r = 0; r < w->ch; r++)
        for (int64_t c = 0; c < w->cw; c++) {
            double dx = (c + 0.5 - cx) / rx, dy = (r + 0.5 - cy) / ry;
            double wobble = 1.0 + 0.12 * sin(3 * atan2(dy, dx) + phase);
            w->tissue[r * w->cw + c] = dx * dx + dy * dy <= wobble * wobble;
        }
    for (int k = 0; k < 3; k++) {
        int64_t c = (int64_t)(cx + (rng_uniform(rng) - 0.5) * rx), r = (int64_t)(cy + (rng_uniform(rng) - 0.5) * ry);
        w->tissue[r * w->cw + c] = 0;
    }
}

static void make_tumours(World *w)
{
    int64_t s = w->cell_px, cw = w->cw, ch = w->ch;
    // _0: a rectangle left of centre, on the cell grid; _2 inside it.
    w->t0 = (Rect){(cw * 5 / 16) * s, (ch * 5 / 16) * s, (cw / 2) * s, (ch * 11 / 16) * s};
    int64_t ex = (w->t0.x0 + w->t0.x1) / 2 / s * s, ey = (w->t0.y0 + w->t0.y1) / 2 / s * s;
    w->excl = (Rect){ex - s, ey - s, ex + s, ey + s};
    // Tumor: a diamond reaching past the right edge of the tissue.
    w->dcx = (cw * 11 / 16) * s;
    w->dcy = (ch / 2) * s;
    w->drx = (cw / 5) * s;
    w->dry = (ch / 6) * s;
    // _1: a small rectangle near the top of the tissue.
    w->t1 = (Rect){(cw / 2 + 1) * s, (ch * 5 / 16) * s, (cw / 2 + 4) * s, (ch * 5 / 16 + 3) * s};
    // An `Exclusion`-group polygon over normal tissue, to be ignored.
    w->ignored = (Rect){(cw / 4) * s, (ch / 4) * s, (cw / 4 + 2) * s, (ch / 4 + 2) * s};
}

static bool write_xml(const World *w, const char *path, Err *err)
{
    AFile *f = afile_open(path, err);
    if (!f)
        return false;
    FILE *o = afile_stream(f);
    fprintf(o, "<?xml version=\"1.0\"?>\n<ASAP_Annotations>\n  <Annotations>\n");
    struct { const char *group, *colour; int64_t n, x[4], y[4]; } polys[5] = {
        {"_0", "#F4FA58", 4, {w->t0.x0, w->t0.x1, w->t0.x1, w->t0.x0}, {w->t0.y0, w->t0.y0, w->t0.y1, w->t0.y1}},
        {"Tumor", "#F4FA58", 4, {w->dcx - w->drx, w->dcx, w->dcx + w->drx, w->dcx},
         {w->dcy, w->dcy - w->dry, w->dcy, w->dcy + w->dry}},
        {"_1", "#F4FA58", 4, {w->t1.x0, w->t1.x1, w->t1.x1, w->t1.x0}, {w->t1.y0, w->t1.y0, w->t1.y1, w->t1.y1}},
        {"_2", "#64FE2E", 4, {w->excl.x0, w->excl.x1, w->excl.x1, w->excl.x0},
         {w->excl.y0, w->excl.y0, w->excl.y1, w->excl.y1}},
        {"Exclusion", "#000000", 4, {w->ignored.x0, w->ignored.x1, w->ignored.x1, w->ignored.x0},
         {w->ignored.y0, w->ignored.y0, w->ignored.y1, w->ignored.y1}},
    };
    for (int i = 0; i < 5; i++) {
        fprintf(o, "    <Annotation Name=\"Annotation %d\" Type=\"Polygon\" PartOfGroup=\"%s\" Color=\"%s\">\n",
                i, polys[i].group, polys[i].colour);
        fprintf(o, "      <Coordinates>\n");
        for (int k = 0; k < polys[i].n; k++)
            fprintf(o, "        <Coordinate Order=\"%d\" X=\"%lld.0\" Y=\"%lld.0\" />\n", k,
                    (long long)polys[i].x[k], (long long)polys[i].y[k]);
        fprintf(o, "      </Coordinates>\n    </Annotation>\n");
    }
    fprintf(o, "  </Annotations>\n  <AnnotationGroups>\n");
    const char *groups[3] = {"_0", "_1", "_2"};
    for (int i = 0; i < 3; i++)
        fprintf(o, "    <Group Name=\"%s\" PartOfGroup=\"None\" Color=\"#ff0000\"><Attributes /></Group>\n",
                groups[i]);
    fprintf(o, "  </AnnotationGroups>\n</ASAP_Annotations>\n");
    return afile_commit(f, err);
}

// Truth of one cell (see the file header).
static char truth_of(const World *w, int64_t r, int64_t c)
{
    int64_t s = w->cell_px;
    double x0 = (double)c * s, y0 = (double)r * s;
    if (w->margin_px && (x0 < w->margin_px || y0 < w->margin_px || x0 + s > w->W - w->margin_px ||
                         y0 + s > w->H - w->margin_px))
        return 'b';
    if (w->uniform || !w->tissue[r * w->cw + c])
        return '.';
    if (!w->tumour)
        return 't';
    // The cell grown by one cell on every side.
    double gx0 = x0 - s, gy0 = y0 - s, gx1 = x0 + 2 * s, gy1 = y0 + 2 * s;
    Rect grown = {(int64_t)gx0, (int64_t)gy0, (int64_t)gx1, (int64_t)gy1};
    bool touches_excl = !(grown.x1 <= w->excl.x0 || grown.x0 >= w->excl.x1 || grown.y1 <= w->excl.y0 ||
                          grown.y0 >= w->excl.y1);
    const Rect *rects[2] = {&w->t0, &w->t1};
    for (int i = 0; i < 2; i++)
        if (gx0 >= rects[i]->x0 && gx1 <= rects[i]->x1 && gy0 >= rects[i]->y0 && gy1 <= rects[i]->y1)
            return touches_excl ? '?' : 'T';
    if (in_diamond(w, gx0, gy0) && in_diamond(w, gx1, gy0) && in_diamond(w, gx0, gy1) && in_diamond(w, gx1, gy1))
        return touches_excl ? '?' : 'T';
    // Surely not tumour: the grown cell misses every tumour shape (the
    // diamond by its bounding box), or lies inside the exclusion.
    bool inside_excl = gx0 >= w->excl.x0 && gx1 <= w->excl.x1 && gy0 >= w->excl.y0 && gy1 <= w->excl.y1;
    Rect dbox = {w->dcx - w->drx, w->dcy - w->dry, w->dcx + w->drx, w->dcy + w->dry};
    const Rect *all[3] = {&w->t0, &w->t1, &dbox};
    bool touches = false;
    for (int i = 0; i < 3; i++)
        touches = touches || !(grown.x1 <= all[i]->x0 || grown.x0 >= all[i]->x1 || grown.y1 <= all[i]->y0 ||
                               grown.y0 >= all[i]->y1);
    return !touches || inside_excl ? 't' : '?';
}

static bool write_truth(const World *w, const char *path, Err *err)
{
    AFile *f = afile_open(path, err);
    if (!f)
        return false;
    FILE *o = afile_stream(f);
    fprintf(o, "# gen-slide truth: mask_level=%lld cells=%lldx%lld cell_px=%lld width=%lld height=%lld\n",
            (long long)opt.mask_level, (long long)w->cw, (long long)w->ch, (long long)w->cell_px, (long long)w->W,
            (long long)w->H);
    for (int64_t r = 0; r < w->ch; r++) {
        for (int64_t c = 0; c < w->cw; c++)
            fputc(truth_of(w, r, c), o);
        fputc('\n', o);
    }
    return afile_commit(f, err);
}

// libtiff messages go into this buffer instead of stderr; the last one is
// reported when a call fails.
static char tiff_msg[512];
static void tiff_handler(const char *module, const char *fmt, va_list ap)
{
    int n = snprintf(tiff_msg, sizeof tiff_msg, "%s: ", module ? module : "libtiff");
    if (n > 0 && (size_t)n < sizeof tiff_msg)
        vsnprintf(tiff_msg + n, sizeof tiff_msg - (size_t)n, fmt, ap);
}

static int64_t tile_for(int64_t lw, int64_t lh)
{
    int64_t t = 256;
    while (t > 16 && (t > lw || t > lh))
        t -= 16;
    return t;
}

typedef enum Codec { CODEC_DEFLATE, CODEC_LZW, CODEC_JPEG, CODEC_JPEG_RGB } Codec;

static bool write_level(TIFF *tif, const World *w, int level, Codec codec, Err *err)
{
    int64_t lw = w->W >> level, lh = w->H >> level, t = tile_for(lw, lh);
    double ds = (double)((int64_t)1 << level);
    TIFFSetField(tif, TIFFTAG_SUBFILETYPE, level ? FILETYPE_REDUCEDIMAGE : 0);
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t)lw);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t)lh);
    TIFFSetField(tif, TIFFTAG_TILEWIDTH, (uint32_t)t);
    TIFFSetField(tif, TIFFTAG_TILELENGTH, (uint32_t)t);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 3);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    bool deflate = codec == CODEC_DEFLATE;
    if (codec == CODEC_JPEG) {
        // As scanners write them: YCbCr 4:2:0 JPEG tiles, fed RGB.
        TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_JPEG);
        TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_YCBCR);
        TIFFSetField(tif, TIFFTAG_JPEGQUALITY, 90);
        TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
    } else if (codec == CODEC_JPEG_RGB) {
        // JPEG without colour conversion, as ASAP's converter writes it.
        TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_JPEG);
        TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
        TIFFSetField(tif, TIFFTAG_JPEGQUALITY, 90);
    } else {
        TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
        TIFFSetField(tif, TIFFTAG_COMPRESSION, deflate ? COMPRESSION_ADOBE_DEFLATE : COMPRESSION_LZW);
    }
    int64_t tx = (lw + t - 1) / t, ty = (lh + t - 1) / t;
    size_t raw = (size_t)(t * t * 3);
    uLong bound = compressBound((uLong)raw);
    uint8_t *pix = malloc(raw * (size_t)tx);
    uint8_t *z = deflate ? malloc((size_t)bound * (size_t)tx) : NULL;
    uLongf *zlen = malloc(sizeof *zlen * (size_t)tx);
    bool ok = pix && zlen && (!deflate || z);
    if (!ok)
        err_set(err, "out of memory writing level %d", level);
    for (int64_t row = 0; row < ty && ok; row++) {
        // Tiles of one row are generated (and deflated) in parallel, then
        // written in order, so the file does not depend on the thread count.
#pragma omp parallel for schedule(dynamic)
        for (int64_t col = 0; col < tx; col++) {
            uint8_t *p = pix + raw * (size_t)col;
            for (int64_t y = 0; y < t; y++) {
                int64_t last_bx = -1;
                uint8_t rgb[3] = {0, 0, 0};
                int64_t gy = row * t + y, by = (int64_t)((gy + 0.5) * ds) / BLOCK_PX;
                for (int64_t x = 0; x < t; x++) {
                    int64_t gx = col * t + x;
                    uint8_t *q = p + (y * t + x) * 3;
                    if (gx < lw && gy < lh) {
                        int64_t bx = (int64_t)((gx + 0.5) * ds) / BLOCK_PX;
                        if (bx != last_bx)
                            colour_block(w, bx, by, rgb);
                        last_bx = bx;
                        memcpy(q, rgb, 3);
                    } else {
                        q[0] = q[1] = q[2] = 0;
                    }
                }
            }
            if (deflate) {
                zlen[col] = bound;
                if (compress2(z + (size_t)bound * (size_t)col, &zlen[col], p, (uLong)raw, 1) != Z_OK)
                    zlen[col] = 0;
            }
        }
        for (int64_t col = 0; col < tx && ok; col++) {
            uint32_t tile = TIFFComputeTile(tif, (uint32_t)(col * t), (uint32_t)(row * t), 0, 0);
            if (deflate)
                ok = zlen[col] > 0 &&
                     TIFFWriteRawTile(tif, tile, z + (size_t)bound * (size_t)col, (tmsize_t)zlen[col]) > 0;
            else
                ok = TIFFWriteEncodedTile(tif, tile, pix + raw * (size_t)col, (tmsize_t)raw) > 0;
            if (!ok)
                err_set(err, "writing level %d tile %u failed: %s", level, tile, tiff_msg);
        }
    }
    free(pix);
    free(z);
    free(zlen);
    if (ok && !TIFFWriteDirectory(tif))
        ok = err_set(err, "writing level %d directory failed: %s", level, tiff_msg);
    return ok;
}

int main(int argc, char **argv)
{
    CliCommon common;
    int first;
    CliStatus st = cli_parse(&spec, argc, argv, &common, &first);
    if (st != CLI_CONTINUE)
        return cli_exit_code(st);
    if (argc - first != 1)
        return cli_usage_error("expected one output file");
    int64_t mw, mh;
    if (!parse_size(opt.size, &mw, &mh))
        return cli_usage_error("--size must be WxH with positive integers, not '%s'", opt.size);
    if (opt.mask_level < 2 || opt.mask_level > 10)
        return cli_usage_error("--mask-level must be 2..10");
    Codec codec = strcmp(opt.compression, "deflate") == 0 ? CODEC_DEFLATE
                  : strcmp(opt.compression, "lzw") == 0   ? CODEC_LZW
                  : strcmp(opt.compression, "jpeg") == 0  ? CODEC_JPEG
                  : strcmp(opt.compression, "jpeg-rgb") == 0 ? CODEC_JPEG_RGB
                                                          : (Codec)-1;
    if ((int)codec < 0)
        return cli_usage_error("--compression must be deflate, lzw, jpeg or jpeg-rgb");
    int levels = opt.levels ? (int)opt.levels : (int)opt.mask_level + 1;
    if (levels < 1 || levels > 16)
        return cli_usage_error("--levels must be 1..16");
    if (mw < 9 || mh < 9 || mw > 4096 || mh > 4096)
        return cli_usage_error("--size must be between 9x9 and 4096x4096");
    omp_set_num_threads(common.jobs);

    World w = {0};
    w.seed = common.seed;
    w.uniform = opt.uniform;
    w.cell_px = 3 * ((int64_t)1 << opt.mask_level);
    w.W = mw << opt.mask_level;
    w.H = mh << opt.mask_level;
    w.cw = (mw + 2) / 3;
    w.ch = (mh + 2) / 3;
    w.margin_px = opt.black_margin << opt.mask_level;
    w.tumour = opt.xml || opt.tumour;
    for (int k = 1; k < levels; k++)
        if (tile_for(w.W >> k, w.H >> k) < 16 || (w.W >> k) < 16 || (w.H >> k) < 16)
            return cli_usage_error("level %d would be smaller than 16 pixels; use fewer --levels", k);
    Err err = {0};
    w.tissue = xcalloc_array((size_t)(w.cw * w.ch), 1, &err);
    if (!w.tissue)
        return cli_report(&err);
    Rng rng;
    rng_init(&rng, common.seed);
    make_tissue(&w, &rng);
    make_tumours(&w);

    TIFFSetErrorHandler(tiff_handler);
    TIFFSetWarningHandler(tiff_handler);
    const char *out = argv[first];
    bool big = (double)w.W * (double)w.H * 3 > 3.5e9;
    bool ok = true;
    char tmp[4096];
    {
        // libtiff needs a seekable file it opens itself: write beside the
        // target and rename, so a failure leaves no slide behind.
        snprintf(tmp, sizeof tmp, "%s.gen-slide-%d.tmp", out, (int)getpid());
        TIFF *tif = TIFFOpen(tmp, big ? "w8" : "w");
        if (!tif)
            ok = err_set(&err, "%s: cannot create: %s", tmp, tiff_msg);
        for (int k = 0; ok && k < levels; k++)
            ok = write_level(tif, &w, k, codec, &err);
        if (tif)
            TIFFClose(tif);
        if (ok && rename(tmp, out) != 0)
            ok = err_set(&err, "%s: cannot rename into place", out);
        if (!ok)
            remove(tmp);
    }
    if (ok && opt.xml)
        ok = write_xml(&w, opt.xml, &err);
    if (ok && opt.truth)
        ok = write_truth(&w, opt.truth, &err);
    free(w.tissue);
    return ok ? 0 : cli_report(&err);
}
