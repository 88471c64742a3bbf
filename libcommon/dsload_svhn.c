/* SPDX-License-Identifier: Apache-2.0 */
/* dsload_svhn: SVHN's cropped-digit .mat files through matio.
 *
 * X is 32x32x3xN uint8 in MATLAB's column-major order: element (row y,
 * column x, channel c, image n) sits at y + 32 x + 1024 c + 3072 n, so
 * scipy's X[y, x, c, n] is our record n at (c, y, x). y holds the labels
 * 1..10, with 10 for the digit 0 (torchvision's SVHN applies the same
 * mapping, which the original code uses). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <matio.h>

#include "dsload_impl.h"

// matio reports problems through a process-wide log hook; keep its last
// message per thread so it can become part of our error.
static _Thread_local char matio_msg[256];
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void on_matio_log(int level, char *message)
{
    (void)level;
    snprintf(matio_msg, sizeof matio_msg, "%s", message ? message : "");
}

static void init_log(void)
{
    Mat_LogInitFunc("adkit", on_matio_log);
}

static bool numeric_label(const matvar_t *v, size_t i, double *out)
{
    switch (v->class_type) {
    case MAT_C_DOUBLE: *out = ((const double *)v->data)[i]; return true;
    case MAT_C_SINGLE: *out = ((const float *)v->data)[i]; return true;
    case MAT_C_UINT8: *out = ((const uint8_t *)v->data)[i]; return true;
    case MAT_C_INT8: *out = ((const int8_t *)v->data)[i]; return true;
    case MAT_C_UINT16: *out = ((const uint16_t *)v->data)[i]; return true;
    case MAT_C_INT16: *out = ((const int16_t *)v->data)[i]; return true;
    case MAT_C_UINT32: *out = ((const uint32_t *)v->data)[i]; return true;
    case MAT_C_INT32: *out = ((const int32_t *)v->data)[i]; return true;
    default: return false;
    }
}

bool dsload_svhn(const char *root, const char *split, DsImages *out, Err *err)
{
    if (strcmp(split, "train") != 0 && strcmp(split, "test") != 0)
        return err_set(err, "unknown split '%s' (train or test)", split);
    pthread_once(&log_once, init_log);
    char name[64], path[4096];
    snprintf(name, sizeof name, "%s_32x32.mat", split);
    dsload_path(path, sizeof path, root, name);
    matio_msg[0] = 0;
    mat_t *mat = Mat_Open(path, MAT_ACC_RDONLY);
    if (!mat) {
        FILE *probe = fopen(path, "rb");
        if (probe)
            fclose(probe);
        return err_set(err, "%s: %s", path, !probe ? "cannot open file" : matio_msg[0] ? matio_msg : "not a MATLAB file");
    }
    DsImages set = {0};
    bool ok = true;
    // Shapes are checked from the variable headers before reading any data.
    matvar_t *xi = Mat_VarReadInfo(mat, "X");
    matvar_t *yi = xi ? Mat_VarReadInfo(mat, "y") : NULL;
    int64_t n = 0;
    if (!xi || !yi) {
        ok = err_set(err, "%s: no variable '%s'", path, xi ? "y" : "X");
    } else if (xi->rank != 4 || xi->dims[0] != 32 || xi->dims[1] != 32 || xi->dims[2] != 3 ||
               xi->class_type != MAT_C_UINT8 || xi->isComplex) {
        ok = err_set(err, "%s: X is not a 32x32x3xN uint8 array", path);
    } else {
        n = (int64_t)xi->dims[3];
        size_t ny = 1;
        for (int k = 0; k < yi->rank; k++)
            ny *= yi->dims[k];
        if (yi->rank != 2 || (yi->dims[0] != 1 && yi->dims[1] != 1) || (int64_t)ny != n)
            ok = err_set(err, "%s: y holds %zu labels for %lld images", path, ny, (long long)n);
    }
    Mat_VarFree(xi);
    Mat_VarFree(yi);
    ok = ok && dsload_alloc(&set, n, 3, 32, 32, path, err);
    matvar_t *x = ok ? Mat_VarRead(mat, "X") : NULL;
    matvar_t *y = x ? Mat_VarRead(mat, "y") : NULL;
    if (ok && (!x || !y || !x->data || !y->data || x->nbytes != (size_t)n * 3072))
        ok = err_set(err, "%s: cannot read %s%s%s", path, x ? "y" : "X", matio_msg[0] ? ": " : "", matio_msg);
    for (int64_t i = 0; ok && i < n; i++) {
        double v;
        if (!numeric_label(y, (size_t)i, &v)) {
            ok = err_set(err, "%s: y is not numeric", path);
            break;
        }
        if (!(v >= 1 && v <= 10) || v != floor(v)) {
            ok = err_set(err, "%s: label %g out of range 1..10 at index %lld", path, v, (long long)i);
            break;
        }
        set.labels[i] = (uint8_t)((int)v % 10);
    }
    if (ok) {
        // Column-major (y, x, c, n) to planar (n, c, y, x).
        const uint8_t *src = x->data;
        for (int64_t i = 0; i < n; i++)
            for (int c = 0; c < 3; c++)
                for (int yy = 0; yy < 32; yy++)
                    for (int xx = 0; xx < 32; xx++)
                        set.pixels[(size_t)i * 3072 + (size_t)c * 1024 + (size_t)yy * 32 + (size_t)xx] =
                            src[(size_t)i * 3072 + (size_t)c * 1024 + (size_t)xx * 32 + (size_t)yy];
    }
    Mat_VarFree(x);
    Mat_VarFree(y);
    Mat_Close(mat);
    if (!ok) {
        dsload_fini(&set);
        return false;
    }
    dsload_fini(out);
    *out = set;
    return true;
}
