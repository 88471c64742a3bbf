/* SPDX-License-Identifier: Apache-2.0 */
/* dsload: shared parts of the data set readers and the stream writer (see
 * dsload.h). The format readers are dsload_idx.c, dsload_cifar.c and
 * dsload_svhn.c. */
#include "dsload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dsload_impl.h"

bool dsload_alloc(DsImages *set, int64_t count, int channels, int height, int width, const char *name, Err *err)
{
    if (count < 1 || count > DSLOAD_MAX_IMAGES)
        return err_set(err, "%s: %lld images (expected 1..%d)", name, (long long)count, DSLOAD_MAX_IMAGES);
    if (channels < 1 || channels > 4 || height < 1 || height > 4096 || width < 1 || width > 4096)
        return err_set(err, "%s: image shape (%d, %d, %d) not supported", name, channels, height, width);
    size_t per = (size_t)channels * (size_t)height * (size_t)width;
    uint8_t *pixels = xmalloc_array((size_t)count, per, err);
    uint8_t *labels = pixels ? xmalloc_array((size_t)count, 1, err) : NULL;
    if (!labels) {
        free(pixels);
        err_prefix(err, "%s", name);
        return false;
    }
    dsload_fini(set);
    *set = (DsImages){count, channels, height, width, pixels, labels};
    return true;
}

bool dsload_check_labels(const DsImages *set, const char *name, Err *err)
{
    for (int64_t i = 0; i < set->count; i++)
        if (set->labels[i] > 9)
            return err_set(err, "%s: label %u out of range 0..9 at index %lld", name, set->labels[i], (long long)i);
    return true;
}

void dsload_path(char *buf, size_t n, const char *root, const char *name)
{
    size_t len = strlen(root);
    snprintf(buf, n, "%s%s%s", root, len && root[len - 1] == '/' ? "" : "/", name);
}

void dsload_fini(DsImages *set)
{
    if (!set)
        return;
    free(set->pixels);
    free(set->labels);
    memset(set, 0, sizeof *set);
}

bool dsload_write(const DsImages *set, const char *dataset, const char *split, TStreamWriter *out,
                  Progress *progress, Err *err)
{
    const int64_t dims[3] = {set->channels, set->height, set->width};
    const size_t per = (size_t)set->channels * (size_t)set->height * (size_t)set->width;
    TRecord meta;
    trecord_init(&meta);
    bool ok = true;
    for (int64_t i = 0; ok && i < set->count; i++) {
        trecord_meta_clear(&meta);
        ok = trecord_meta_setf(&meta, err, "id", "%s-%s-%lld", dataset, split, (long long)i) &&
             trecord_meta_setf(&meta, err, "label", "%u", set->labels[i]) &&
             trecord_meta_setf(&meta, err, "index", "%lld", (long long)i) &&
             tstream_write_parts(out, TDTYPE_U8, 3, dims, set->pixels + (size_t)i * per, &meta, err);
        if ((i & 1023) == 1023 || i == set->count - 1)
            progress_add(progress, (i & 1023) + 1);
    }
    trecord_fini(&meta);
    return ok;
}
