/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of heatmap: score tables, colour maps, cell painting (overlap,
 * clipping, blending), the legend, and bad styles. Slides are covered by
 * tests/cli/slide-heatmap.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "heatmap.h"

static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/adkit-heatmap-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void expect_scores_error(const char *text, const char *needle)
{
    char *path = write_temp(text);
    HeatmapScores sc = {0};
    Err err = {0};
    assert_false(heatmap_read_scores(path, "s", &sc, &err));
    assert_null(sc.cells);
    assert_non_null(strstr(err.msg, needle));
    assert_non_null(strstr(err.msg, path));
    unlink(path);
    free(path);
}

static void test_read_scores(void **state)
{
    (void)state;
    char *path = write_temp("label\tid\tscore\n"
                            "0\ts_normal_x_96_y_48_w_48_h_48\t0.5\n"
                            "1\tother_tumor_x_0_y_0_w_48_h_48\t9\n"
                            "\n"
                            "1\ts_tumor_x_0_y_144_w_48_h_48.jpg\t-2e1\n");
    HeatmapScores sc = {0};
    Err err = {0};
    assert_true(heatmap_read_scores(path, "s", &sc, &err));
    assert_int_equal(sc.n, 2);
    assert_int_equal(sc.cells[0].level0_row, 96);
    assert_int_equal(sc.cells[0].level0_col, 48);
    assert_int_equal(sc.cells[0].width, 48);
    assert_true(sc.cells[0].score == 0.5);
    assert_int_equal(sc.cells[1].level0_col, 144);
    assert_true(sc.cells[1].score == -20);
    heatmap_scores_fini(&sc);
    unlink(path);
    free(path);

    expect_scores_error("id\tlabel\n", "no 'score' column");
    expect_scores_error("", "empty file");
    expect_scores_error("id\tscore\ns_normal_x_0_y_0_w_48_h_48\tnan\n", "line 2: score 'nan'");
    expect_scores_error("id\tscore\ns_normal_x_0_y_0_w_0_h_48\t1\n", "line 2: bad patch id");
    expect_scores_error("id\tscore\ns_normal_x_0_y_0_w_48_h_48\n", "line 2: 1 fields");
    expect_scores_error("id\tscore\nt_normal_x_0_y_0_w_48_h_48\t1\n", "no scores for slide s");
}

static void test_colours(void **state)
{
    (void)state;
    uint8_t rgb[3];
    heatmap_colour(HEATMAP_VIRIDIS, 0, rgb);
    assert_memory_equal(rgb, ((uint8_t[]){68, 1, 84}), 3);
    heatmap_colour(HEATMAP_VIRIDIS, 1, rgb);
    assert_memory_equal(rgb, ((uint8_t[]){253, 231, 37}), 3);
    heatmap_colour(HEATMAP_VIRIDIS, 7.0, rgb); // clamped
    assert_memory_equal(rgb, ((uint8_t[]){253, 231, 37}), 3);
    heatmap_colour(HEATMAP_JET, 0, rgb);
    assert_memory_equal(rgb, ((uint8_t[]){0, 0, 128}), 3);
    heatmap_colour(HEATMAP_JET, 1, rgb);
    assert_memory_equal(rgb, ((uint8_t[]){128, 0, 0}), 3);
    heatmap_colour(HEATMAP_JET, 0.5, rgb);
    assert_memory_equal(rgb, ((uint8_t[]){128, 255, 128}), 3);
    HeatmapColormap m;
    assert_true(heatmap_colormap_parse("jet", &m) && m == HEATMAP_JET);
    assert_false(heatmap_colormap_parse("Jet", &m));
}

static Image grey_image(int w, int h, uint8_t value)
{
    Image img = {0};
    Err err = {0};
    assert_true(image_alloc(&img, w, h, 3, 8, &err));
    memset(img.data, value, (size_t)w * (size_t)h * 3);
    return img;
}

static const uint8_t *pixel(const Image *img, int x, int y)
{
    return (const uint8_t *)img->data + ((size_t)y * (size_t)img->width + (size_t)x) * 3;
}

static void test_draw(void **state)
{
    (void)state;
    // 10 level-0 pixels per thumbnail pixel; cells of 20x20 level-0 pixels.
    HeatmapGeometry geo = {.level = 0, .shrink = 1, .level0_per_px_x = 10, .level0_per_px_y = 10};
    HeatmapCell cells[] = {
        {.level0_row = 0, .level0_col = 0, .height = 20, .width = 20, .score = 1},
        {.level0_row = 0, .level0_col = 0, .height = 20, .width = 20, .score = 3}, // same patch, higher
        {.level0_row = 40, .level0_col = 60, .height = 20, .width = 20, .score = 2},
        {.level0_row = 70, .level0_col = 70, .height = 50, .width = 50, .score = 1}, // clipped at the edge
    };
    Image img = grey_image(8, 8, 100);
    HeatmapStyle style = heatmap_style_default();
    style.colormap = HEATMAP_JET;
    Err err = {0};
    assert_true(heatmap_draw(&img, &geo, cells, 4, &style, &err));
    assert_int_equal(img.width, 8);
    assert_int_equal(img.height, 8);
    // (0,0)..(1,1): the highest score (3 = the range's top, jet red 128,0,0).
    assert_memory_equal(pixel(&img, 1, 1), ((uint8_t[]){114, 50, 50}), 3);
    // (6,4): score 2 = the middle (128,255,128) blended half with 100.
    assert_memory_equal(pixel(&img, 6, 4), ((uint8_t[]){114, 178, 114}), 3);
    // (7,7): score 1 = the bottom (0,0,128).
    assert_memory_equal(pixel(&img, 7, 7), ((uint8_t[]){50, 50, 114}), 3);
    // Untouched between the cells.
    assert_memory_equal(pixel(&img, 3, 3), ((uint8_t[]){100, 100, 100}), 3);
    assert_memory_equal(pixel(&img, 2, 0), ((uint8_t[]){100, 100, 100}), 3);

    // Order of the rows does not matter.
    Image again = grey_image(8, 8, 100);
    HeatmapCell reversed[] = {cells[3], cells[2], cells[1], cells[0]};
    assert_true(heatmap_draw(&again, &geo, reversed, 4, &style, &err));
    assert_memory_equal(again.data, img.data, 8 * 8 * 3);
    image_fini(&again);

    // Fixed range: score 2 within [0, 4] is the middle too; alpha 1 paints
    // the colour itself; the legend adds rows below.
    Image fixed = grey_image(8, 8, 100);
    style.range_given = true;
    style.lo = 0;
    style.hi = 4;
    style.alpha = 1;
    style.legend = true;
    assert_true(heatmap_draw(&fixed, &geo, &cells[2], 1, &style, &err));
    assert_memory_equal(pixel(&fixed, 6, 4), ((uint8_t[]){128, 255, 128}), 3);
    assert_int_equal(fixed.width, 8);
    assert_true(fixed.height > 8);
    assert_memory_equal(pixel(&fixed, 0, 7), ((uint8_t[]){100, 100, 100}), 3);
    image_fini(&fixed);
    image_fini(&img);
}

static void test_bad_style(void **state)
{
    (void)state;
    HeatmapGeometry geo = {.level0_per_px_x = 1, .level0_per_px_y = 1};
    HeatmapCell cell = {.height = 1, .width = 1, .score = 0};
    Image img = grey_image(4, 4, 7);
    HeatmapStyle style = heatmap_style_default();
    Err err = {0};
    style.alpha = 1.5;
    assert_false(heatmap_draw(&img, &geo, &cell, 1, &style, &err));
    assert_non_null(strstr(err.msg, "opacity"));
    style = heatmap_style_default();
    style.range_given = true;
    style.lo = style.hi = 1;
    err = (Err){0};
    assert_false(heatmap_draw(&img, &geo, &cell, 1, &style, &err));
    assert_non_null(strstr(err.msg, "range"));
    assert_memory_equal(pixel(&img, 0, 0), ((uint8_t[]){7, 7, 7}), 3);
    image_fini(&img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_scores),
        cmocka_unit_test(test_colours),
        cmocka_unit_test(test_draw),
        cmocka_unit_test(test_bad_style),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
