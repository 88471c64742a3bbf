/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pillow_fixtures: what test_resample.c and test_transform.c share with the
 * make_fixtures.py scripts of tests/fixtures/{resample,transform}: the
 * integer formulas of the synthetic input images (so only Pillow's output
 * checksums are stored) and the reading of a versioned fixture table.
 * Test-only: static functions, included by one test program each.
 */
#ifndef ADKIT_TESTS_PILLOW_FIXTURES_H
#define ADKIT_TESTS_PILLOW_FIXTURES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// make_fixtures.py's noise32: a 32-bit hash of (x, y, c, seed); uint32
// arithmetic wraps exactly like NumPy's.
static inline uint32_t noise32(uint32_t seed, uint32_t x, uint32_t y, uint32_t c)
{
    uint32_t v = (x * 73856093u) ^ (y * 19349663u) ^ (c * 83492791u);
    v ^= (uint32_t)(((uint64_t)seed * 2654435761u) & 0xFFFFFFFFu);
    v ^= v >> 16;
    v *= 0x45D9F3Bu;
    v ^= v >> 16;
    v *= 0x45D9F3Bu;
    v ^= v >> 16;
    return v;
}

// make_fixtures.py's pattern(): the value at (y, x, c) of a w x h image;
// false for an unknown pattern name.
static inline bool pattern_value(const char *name, uint32_t seed, int w, int h, uint32_t x, uint32_t y, uint32_t c,
                                 uint8_t *out)
{
    uint32_t n = noise32(seed, x, y, c) & 255, i = y * (uint32_t)w + x;
    uint32_t v;
    if (!strcmp(name, "noise"))
        v = n;
    else if (!strcmp(name, "structured")) // 5x7 checkerboard (0/255 edges) interleaved with ramps
        v = (x + 2 * y) % 9 < 5 ? ((x / 5 + y / 7 + c + seed) % 2) * 255 : (x * 3 + y * 5 + c * 40 + seed) % 256;
    else if (!strcmp(name, "const"))
        v = 77;
    else if (!strcmp(name, "rare"))
        v = i < 3 ? 10 : 200;
    else if (!strcmp(name, "two"))
        v = n < 128 ? 10 : 200;
    else if (!strcmp(name, "skewed"))
        v = (n & 15) * 3;
    else if (!strcmp(name, "bright"))
        v = n < 200 ? 255 : n;
    else if (!strcmp(name, "sparse"))
        v = (n % 3) * 127 + (n % 3 == 2);
    else if (!strcmp(name, "dark"))
        v = n >> 4;
    else if (!strcmp(name, "chest")) {
        int64_t dx = (int64_t)x - w / 2, dy = (int64_t)y - h / 2, r = w / 3;
        uint32_t div = w - 1 > 1 ? (uint32_t)(w - 1) : 1;
        v = dx * dx + dy * dy < r * r ? 180 + (n & 31) : (x * 100) / div + (n & 7);
    } else
        return false;
    *out = (uint8_t)v;
    return true;
}

// An interleaved (h, w, c) image of a pattern; NULL for an unknown name.
static inline uint8_t *pattern_image(const char *name, uint32_t seed, int w, int h, int c)
{
    uint8_t *p = malloc((size_t)w * h * c);
    for (int y = 0; p && y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++)
                if (!pattern_value(name, seed, w, h, x, y, k, &p[((size_t)y * w + x) * c + k])) {
                    free(p);
                    return NULL;
                }
    return p;
}

// Opens tests/fixtures/<rel> under $ADKIT_TOP (default: the current folder,
// the repository root under run-tests.sh) and checks its "# version N"
// line. On failure returns NULL with a message in why (naming the script
// to rerun on a version mismatch).
static inline FILE *fixture_open(const char *rel, int version, char *why, size_t why_bytes)
{
    const char *top = getenv("ADKIT_TOP");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/%s", top ? top : ".", rel);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(why, why_bytes, "cannot open %s (run from the repository root or set ADKIT_TOP)", path);
        return NULL;
    }
    char line[256];
    int got = 0;
    if (!fgets(line, sizeof line, fp) || sscanf(line, "# version %d", &got) != 1 || got != version) {
        snprintf(why, why_bytes, "%s has version %d, this test expects %d: rerun make_fixtures.py beside it", path,
                 got, version);
        fclose(fp);
        return NULL;
    }
    return fp;
}

#endif
