/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gen_svhn_mat: writes a small synthetic SVHN-style .mat file (MATLAB v5).
 *
 * X is 32x32x3xN uint8 with X(row y, column x, channel c, image n) =
 * (7 y + 3 x + 50 c + 11 n) mod 256 (0-based indices), y is an Nx1 uint8
 * vector of labels 1..10 with label(n) = n mod 10 + 1. A test can then check
 * the importer's pixel order and label mapping against the formula.
 * With --bad-label the last label is 11; with --no-y the variable y is left out.
 *
 *     gen_svhn_mat test_32x32.mat 25
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <matio.h>

#include "cli.h"

int main(int argc, char **argv)
{
    int64_t n = 0;
    bool bad_label = argc == 4 && strcmp(argv[3], "--bad-label") == 0;
    bool no_y = argc == 4 && strcmp(argv[3], "--no-y") == 0;
    if ((argc != 3 && !bad_label && !no_y) || !cli_parse_int(argv[2], &n) || n < 1 || n > 100000) {
        fprintf(stderr, "usage: gen_svhn_mat OUT.mat N [--bad-label|--no-y]   (N 1..100000)\n");
        return 2;
    }
    uint8_t *x = malloc((size_t)n * 3072);
    uint8_t *y = malloc((size_t)n);
    if (!x || !y) {
        fprintf(stderr, "gen_svhn_mat: out of memory\n");
        return 1;
    }
    // Column-major: the row index varies fastest.
    for (int64_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            for (int col = 0; col < 32; col++)
                for (int row = 0; row < 32; row++)
                    x[row + 32 * col + 1024 * c + 3072 * (size_t)i] = (uint8_t)((7 * row + 3 * col + 50 * c + 11 * i) % 256);
    for (int64_t i = 0; i < n; i++)
        y[i] = (uint8_t)(i % 10 + 1);
    if (bad_label)
        y[n - 1] = 11;
    mat_t *mat = Mat_CreateVer(argv[1], NULL, MAT_FT_MAT5);
    if (!mat) {
        fprintf(stderr, "gen_svhn_mat: cannot create %s\n", argv[1]);
        return 1;
    }
    size_t xdims[4] = {32, 32, 3, (size_t)n}, ydims[2] = {(size_t)n, 1};
    matvar_t *vx = Mat_VarCreate("X", MAT_C_UINT8, MAT_T_UINT8, 4, xdims, x, 0);
    matvar_t *vy = Mat_VarCreate("y", MAT_C_UINT8, MAT_T_UINT8, 2, ydims, y, 0);
    int rc = !vx || !vy || Mat_VarWrite(mat, vx, MAT_COMPRESSION_NONE) != 0 ||
             (!no_y && Mat_VarWrite(mat, vy, MAT_COMPRESSION_NONE) != 0);
    Mat_VarFree(vx);
    Mat_VarFree(vy);
    Mat_Close(mat);
    free(x);
    free(y);
    if (rc)
        fprintf(stderr, "gen_svhn_mat: cannot write %s\n", argv[1]);
    return rc;
}
