/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of labelmask against the masks Pillow makes for the same
 * polygons (tests/fixtures/labelmask/make_pillow.py): exact away from
 * polygon edges, close along them (the rasterisation grid and fill rule
 * differ there by design), and independent of the grid and thread count
 * where cells are uniform. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <omp.h>

#include "labelmask.h"

enum { W0 = 640, H0 = 512, W = 40, H = 32 };

static const char xml[] =
    "<ASAP_Annotations><Annotations>"
    "<Annotation Name=\"r\" PartOfGroup=\"_0\"><Coordinates><Coordinate X=\"96\" Y=\"80\"/>"
    "<Coordinate X=\"400\" Y=\"80\"/><Coordinate X=\"400\" Y=\"352\"/><Coordinate X=\"96\" Y=\"352\"/>"
    "</Coordinates></Annotation>"
    "<Annotation Name=\"t\" PartOfGroup=\"_1\"><Coordinates><Coordinate X=\"448\" Y=\"96\"/>"
    "<Coordinate X=\"608\" Y=\"256\"/><Coordinate X=\"448\" Y=\"416\"/></Coordinates></Annotation>"
    "<Annotation Name=\"e\" PartOfGroup=\"_2\"><Coordinates><Coordinate X=\"208\" Y=\"160\"/>"
    "<Coordinate X=\"288\" Y=\"160\"/><Coordinate X=\"288\" Y=\"240\"/><Coordinate X=\"208\" Y=\"240\"/>"
    "</Coordinates></Annotation></Annotations></ASAP_Annotations>";

static uint8_t want[2][H][W]; /* bicubic, nearest */

static void load_fixture(void)
{
    const char *top = getenv("ADKIT_TOP");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/labelmask/pillow.txt", top ? top : ".");
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s (run from the repository root or set ADKIT_TOP)", path);
    for (int k = 0; k < 2; k++) {
        char name[16];
        int w, h;
        assert_int_equal(fscanf(f, "%15s %d %d", name, &w, &h), 3);
        assert_int_equal(w, W);
        assert_int_equal(h, H);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                int v;
                assert_int_equal(fscanf(f, "%d", &v), 1);
                want[k][y][x] = (uint8_t)v;
            }
    }
    fclose(f);
}

// True when the fixture is constant over the 5x5 neighbourhood (so the
// pixel is at least two mask pixels from every edge).
static bool far_from_edges(int k, int y, int x)
{
    for (int dy = -2; dy <= 2; dy++)
        for (int dx = -2; dx <= 2; dx++) {
            int yy = y + dy, xx = x + dx;
            if (yy >= 0 && yy < H && xx >= 0 && xx < W && want[k][yy][xx] != want[k][y][x])
                return false;
        }
    return true;
}

static void compare(int k, const uint8_t *got, int edge_tolerance)
{
    int max_diff = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int d = abs((int)got[y * W + x] - (int)want[k][y][x]);
            if (far_from_edges(k, y, x) && d != 0)
                fail_msg("pixel (%d, %d): %d, Pillow %d", x, y, got[y * W + x], want[k][y][x]);
            max_diff = d > max_diff ? d : max_diff;
        }
    if (max_diff > edge_tolerance)
        fail_msg("largest difference along edges %d > %d", max_diff, edge_tolerance);
}

static void test_against_pillow(void **state)
{
    (void)state;
    load_fixture();
    Annotations a;
    Err err = {0};
    assert_true(annotation_parse(xml, sizeof xml - 1, "fixture.xml", &a, &err));
    static uint8_t got[H * W], got4[H * W], got1t[H * W];
    // Grid 1 (level-0 resolution): only the fill rule differs from Pillow.
    assert_true(labelmask_render(got, &a, W0, H0, W, H, 1, LABELMASK_BICUBIC, &err));
    compare(0, got, 8);
    // Grid 4: coarser rasterisation, same interior.
    assert_true(labelmask_render(got4, &a, W0, H0, W, H, 4, LABELMASK_BICUBIC, &err));
    compare(0, got4, 40);
    // The ring just inside a tumour edge deviates like Pillow's (117, 129
    // against 127), proving the bicubic weights are applied.
    assert_int_equal(got[7 * W + 6], want[0][7][6]);
    // One thread gives the same bytes.
    int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    assert_true(labelmask_render(got1t, &a, W0, H0, W, H, 1, LABELMASK_BICUBIC, &err));
    omp_set_num_threads(threads);
    assert_memory_equal(got, got1t, sizeof got);
    // Nearest: point samples of the polygons.
    assert_true(labelmask_render(got, &a, W0, H0, W, H, 1, LABELMASK_NEAREST, &err));
    compare(1, got, 255);
    int wrong = 0;
    for (int i = 0; i < W * H; i++)
        wrong += got[i] != want[1][i / W][i % W];
    assert_true(wrong <= 4); // a sample exactly on a slanted edge may differ
    annotation_fini(&a);
}

static void test_bad_geometry(void **state)
{
    (void)state;
    Annotations a = {0};
    Err err = {0};
    uint8_t m[4];
    assert_false(labelmask_render(m, &a, 1, 1, 2, 2, 1, LABELMASK_BICUBIC, &err));
    assert_non_null(strstr(err.msg, "bad label mask geometry"));
    assert_int_equal(labelmask_filter_from_name("nearest"), LABELMASK_NEAREST);
    assert_int_equal(labelmask_filter_from_name("box"), LABELMASK_FILTER_COUNT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_pillow),
        cmocka_unit_test(test_bad_geometry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
