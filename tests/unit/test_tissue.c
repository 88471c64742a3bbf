/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of tissue: Otsu against scikit-image, the border rule (both
 * branches), the opening's borders, the all-9 block rule and the tumour
 * truncation rule; plus cellsample and patchid, the small helpers the
 * selection uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cellsample.h"
#include "patchid.h"
#include "tissue.h"

// The images of tests/fixtures/otsu/make_otsu.py.
static void make_image(uint8_t *rgb, int kind, int w, int h)
{
    const int tissue[3] = {200, 120, 170};
    for (uint64_t i = 0; i < (uint64_t)(w * h); i++) {
        uint64_t v = (i * 1103515245u + 12345u) % (1ull << 31);
        for (int c = 0; c < 3; c++) {
            int r = (int)((v >> (8 + 5 * c)) & 255);
            int x;
            if (kind == 0) {
                x = (i % 3 == 0 ? tissue[c] : 235) + r % 21 - 10;
                x = x < 0 ? 0 : x > 255 ? 255 : x;
            } else if (kind == 1) {
                x = r;
            } else {
                x = i % 7 == 0 ? 10 : 240;
            }
            rgb[3 * i + c] = (uint8_t)x;
        }
    }
}

static void test_otsu_matches_skimage(void **state)
{
    (void)state;
    // Printed by tests/fixtures/otsu/make_otsu.py (scikit-image 0.19.3).
    const double want[3] = {0.58911617723651966, 0.49798304764093138, 0.040977328431372549};
    enum { W = 61, H = 47 };
    static uint8_t rgb[W * H * 3];
    static double gray[W * H];
    for (int k = 0; k < 3; k++) {
        make_image(rgb, k, W, H);
        tissue_gray(gray, rgb, W * H);
        double t;
        assert_true(tissue_otsu(gray, W * H, &t));
        assert_true(t == want[k]);
    }
}

static void test_otsu_uniform(void **state)
{
    (void)state;
    double v[5] = {0.3, 0.3, 0.3, 0.3, 0.3}, t = -1;
    assert_false(tissue_otsu(v, 5, &t));
    uint8_t rgb[12] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9}, mask[4] = {7, 7, 7, 7};
    bool found = true;
    Err err = {0};
    assert_true(tissue_mask_from_rgb(mask, rgb, 2, 2, &found, &err));
    assert_false(found);
    assert_int_equal(mask[0] | mask[1] | mask[2] | mask[3], 0);
}

static void test_dark_is_tissue(void **state)
{
    (void)state;
    // Black (outside the slide) counts as tissue, as in the original.
    uint8_t rgb[4 * 3] = {0, 0, 0, 200, 120, 170, 235, 235, 235, 236, 236, 236};
    uint8_t mask[4];
    bool found;
    Err err = {0};
    assert_true(tissue_mask_from_rgb(mask, rgb, 4, 1, &found, &err));
    assert_true(found);
    assert_int_equal(mask[0], 1);
    assert_int_equal(mask[3], 0);
}

static uint8_t *ones(int64_t w, int64_t h)
{
    uint8_t *m = malloc((size_t)(w * h));
    memset(m, 1, (size_t)(w * h));
    return m;
}

static void test_border_small(void **state)
{
    (void)state;
    int64_t w = 100, h = 90;
    uint8_t *m = ones(w, h);
    tissue_clear_border(m, w, h);
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++) {
            bool inside = y >= 30 && y < h - 30 && x >= 30 && x < w - 30;
            assert_int_equal(m[y * w + x], inside);
        }
    free(m);
}

static void test_border_tall(void **state)
{
    (void)state;
    // h > 700: 100 rows top and bottom, 50 columns left, right border kept.
    int64_t w = 80, h = 701;
    uint8_t *m = ones(w, h);
    tissue_clear_border(m, w, h);
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++) {
            bool inside = y >= 100 && y < h - 100 && x >= 50;
            assert_int_equal(m[y * w + x], inside);
        }
    // The last column survives, so full blocks can touch the right edge.
    uint8_t *cells = malloc((size_t)(tissue_cells(w) * tissue_cells(h)));
    Err err = {0};
    assert_true(tissue_cell_mask(cells, m, w, h, &err));
    int64_t cw = tissue_cells(w);
    assert_int_equal(cells[40 * cw + (w / 3) - 1], 1); // columns 75..77
    assert_int_equal(cells[40 * cw + cw - 1], 0);      // partial block 78..79
    assert_int_equal(cells[40 * cw + 16], 0);          // columns 48..50 touch the cleared 48, 49
    assert_int_equal(cells[40 * cw + 17], 1);
    free(cells);
    free(m);
    // h == 700 takes the other branch.
    h = 700;
    m = ones(w, h);
    tissue_clear_border(m, w, h);
    assert_int_equal(m[300 * w + w - 1], 0);
    assert_int_equal(m[30 * w + 30], 1);
    assert_int_equal(m[29 * w + 30], 0);
    free(m);
}

static void test_opening(void **state)
{
    (void)state;
    Err err = {0};
    // A full image stays full: outside pixels never erode (OpenCV border).
    uint8_t *m = ones(5, 4);
    assert_true(tissue_open3(m, 5, 4, &err));
    for (int i = 0; i < 20; i++)
        assert_int_equal(m[i], 1);
    free(m);
    // A 2-pixel-wide bar disappears; a 3x3 square survives whole; a square
    // with a one-pixel spur loses the spur.
    enum { W = 12, H = 8 };
    uint8_t img[H][W] = {{0}};
    for (int y = 1; y < 7; y++) img[y][1] = img[y][2] = 1;            // bar
    for (int y = 2; y < 5; y++) for (int x = 5; x < 8; x++) img[y][x] = 1; // square
    img[3][8] = 1;                                                   // spur
    assert_true(tissue_open3(&img[0][0], W, H, &err));
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int want = y >= 2 && y < 5 && x >= 5 && x < 8;
            assert_int_equal(img[y][x], want);
        }
    // Tissue along the image edge survives the opening.
    uint8_t edge[4][6] = {{1, 1, 0, 0, 0, 0}, {1, 1, 0, 0, 0, 0}, {0}, {0}};
    assert_true(tissue_open3(&edge[0][0], 6, 4, &err));
    assert_int_equal(edge[0][0], 1);
    assert_int_equal(edge[1][1], 1);
}

static void test_full_blocks(void **state)
{
    (void)state;
    enum { W = 7, H = 6 };
    uint8_t m[H * W];
    memset(m, 1, sizeof m);
    m[4 * W + 4] = 0; // one hole in block (1, 1)
    uint8_t cells[2 * 3];
    tissue_full_blocks(cells, m, W, H);
    // Block columns 0..2, 3..5, 6 (partial: never kept).
    const uint8_t want[6] = {1, 1, 0, 1, 0, 0};
    assert_memory_equal(cells, want, 6);
}

static void test_tumour_rule(void **state)
{
    (void)state;
    enum { W = 9, H = 3 };
    // Block 0: nine 127; block 1: seven 127 + 255 + 0 (sum 1144, kept);
    // block 2: eight 127 + one 0 (sum 1016, rejected).
    uint8_t l[H * W];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) l[y * W + x] = 127;
    l[0 * W + 3] = 255;
    l[1 * W + 4] = 0;
    l[2 * W + 8] = 0;
    uint8_t cells[3];
    tissue_tumour_cells(cells, l, W, H);
    assert_int_equal(cells[0], 1);
    assert_int_equal(cells[1], 1);
    assert_int_equal(cells[2], 0);
    // A 128 lifts the sum to 1144 too: 1151 / 9 truncates to 127.
    uint8_t hi[9] = {128, 128, 128, 128, 128, 128, 128, 127, 127};
    tissue_tumour_cells(cells, hi, 3, 3);
    assert_int_equal(cells[0], 1);
    uint8_t over[9] = {128, 128, 128, 128, 128, 128, 128, 128, 128};
    tissue_tumour_cells(cells, over, 3, 3);
    assert_int_equal(cells[0], 0);
}

static void test_cellsample(void **state)
{
    (void)state;
    Err err = {0};
    uint8_t cells[200];
    for (int i = 0; i < 200; i++) cells[i] = i % 3 != 0;
    int64_t a[50], b[50], c[50];
    assert_int_equal(cellsample_choose(a, cells, 200, 50, 7, "normal_001", &err), 50);
    assert_int_equal(cellsample_choose(b, cells, 200, 50, 7, "normal_001", &err), 50);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(cellsample_choose(c, cells, 200, 50, 7, "normal_002", &err), 50);
    assert_true(memcmp(a, c, sizeof a) != 0);
    for (int i = 0; i < 50; i++) {
        assert_true(cells[a[i]]);
        if (i) assert_true(a[i] > a[i - 1]);
    }
    // Fewer candidates than asked: all of them.
    uint8_t few[10] = {0, 1, 0, 0, 1, 0, 0, 0, 0, 1};
    assert_int_equal(cellsample_choose(a, few, 10, 50, 1, "x", &err), 3);
    assert_int_equal(a[0], 1);
    assert_int_equal(a[1], 4);
    assert_int_equal(a[2], 9);
}

static void test_patchid(void **state)
{
    (void)state;
    Err err = {0};
    PatchId p;
    assert_true(patchid_parse("normal_019_normal_x_120576_y_72192_w_768_h_768.jpg", &p, &err));
    assert_string_equal(p.slide, "normal_019");
    assert_string_equal(p.type, "normal");
    assert_int_equal(p.level0_row, 120576);
    assert_int_equal(p.level0_col, 72192);
    assert_int_equal(p.width, 768);
    assert_true(patchid_parse("my_slide_x_3_tumor_x_0_y_768_w_768_h_768", &p, &err));
    assert_string_equal(p.slide, "my_slide_x_3");
    assert_string_equal(p.type, "tumor");
    char id[PATCHID_MAX_BYTES];
    assert_true(patchid_format(id, sizeof id, "tumor_001", "tumor", 7680, 12288, 768, 768));
    assert_string_equal(id, "tumor_001_tumor_x_7680_y_12288_w_768_h_768");
    assert_false(patchid_parse("tumor_x_1_y_2_w_3_h_4", &p, &err));
    assert_non_null(strstr(err.msg, "bad patch id"));
    err_clear(&err);
    assert_false(patchid_parse("slide_normal_x_1_y_2_w_3_h_", &p, &err));
    err_clear(&err);
    assert_false(patchid_parse("", &p, &err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otsu_matches_skimage),
        cmocka_unit_test(test_otsu_uniform),
        cmocka_unit_test(test_dark_is_tissue),
        cmocka_unit_test(test_border_small),
        cmocka_unit_test(test_border_tall),
        cmocka_unit_test(test_opening),
        cmocka_unit_test(test_full_blocks),
        cmocka_unit_test(test_tumour_rule),
        cmocka_unit_test(test_cellsample),
        cmocka_unit_test(test_patchid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
