/* SPDX-License-Identifier: Apache-2.0 */
/* dsload_impl: what the data set readers share (not for tools). */
#ifndef ADKIT_DSLOAD_IMPL_H
#define ADKIT_DSLOAD_IMPL_H

#include "dsload.h"

/* Checks count against DSLOAD_MAX_IMAGES and allocates pixels and labels of
 * a DsImages (contents undefined). name is the file the count came from. */
bool dsload_alloc(DsImages *set, int64_t count, int channels, int height, int width, const char *name, Err *err);

/* Checks that labels are 0..9; a failure names the file and the index. */
bool dsload_check_labels(const DsImages *set, const char *name, Err *err);

/* Joins root and name with '/' into buf (n bytes). */
void dsload_path(char *buf, size_t n, const char *root, const char *name);

#endif
