/* SPDX-License-Identifier: Apache-2.0 */
/* dsload_cifar: the binary version of CIFAR-10. Each record is one label
 * byte and the 32x32 R, G and B planes, which is already the (C, H, W)
 * layout of our records. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dsload_impl.h"

enum { CIFAR_PIXELS = 3 * 32 * 32, CIFAR_RECORD = 1 + CIFAR_PIXELS, CIFAR_MAX_BATCHES = 5 };

bool dsload_cifar10(const char *root, const char *split, DsImages *out, Err *err)
{
    static const char *const train[] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                        "data_batch_4.bin", "data_batch_5.bin"};
    static const char *const test[] = {"test_batch.bin"};
    const char *const *names;
    int nfiles;
    if (strcmp(split, "train") == 0)
        names = train, nfiles = 5;
    else if (strcmp(split, "test") == 0)
        names = test, nfiles = 1;
    else
        return err_set(err, "unknown split '%s' (train or test)", split);
    // The published archive unpacks into cifar-10-batches-bin/; accept
    // either that folder or its parent as the root.
    char dir[4096], path[4096];
    dsload_path(path, sizeof path, root, names[0]);
    if (access(path, F_OK) == 0)
        snprintf(dir, sizeof dir, "%s", root);
    else
        dsload_path(dir, sizeof dir, root, "cifar-10-batches-bin");
    // Sizes first, so that nothing is read from a set with a bad file.
    int64_t records[CIFAR_MAX_BATCHES], total = 0;
    for (int f = 0; f < nfiles; f++) {
        dsload_path(path, sizeof path, dir, names[f]);
        struct stat st;
        if (stat(path, &st) != 0)
            return err_set(err, "%s: %s", path, strerror(errno));
        if (st.st_size == 0 || st.st_size % CIFAR_RECORD != 0)
            return err_set(err, "%s: size %lld bytes is not a whole number of %d-byte records", path,
                           (long long)st.st_size, CIFAR_RECORD);
        records[f] = st.st_size / CIFAR_RECORD;
        total += records[f];
    }
    DsImages set = {0};
    dsload_path(path, sizeof path, dir, names[0]);
    if (!dsload_alloc(&set, total, 3, 32, 32, path, err))
        return false;
    unsigned char *buf = xmalloc_array(256, CIFAR_RECORD, err);
    int64_t at = 0;
    bool ok = buf != NULL;
    for (int f = 0; ok && f < nfiles; f++) {
        dsload_path(path, sizeof path, dir, names[f]);
        FILE *fp = fopen(path, "rb");
        if (!fp) {
            ok = err_set(err, "%s: %s", path, strerror(errno));
            break;
        }
        for (int64_t r = 0; ok && r < records[f];) {
            size_t want = records[f] - r < 256 ? (size_t)(records[f] - r) : 256;
            if (fread(buf, CIFAR_RECORD, want, fp) != want) {
                ok = err_set(err, "%s: read error or file shrank at record %lld", path, (long long)r);
                break;
            }
            for (size_t k = 0; k < want; k++, at++, r++) {
                const unsigned char *rec = buf + k * CIFAR_RECORD;
                if (rec[0] > 9) {
                    ok = err_set(err, "%s: label %u out of range 0..9 at record %lld", path, rec[0], (long long)r);
                    break;
                }
                set.labels[at] = rec[0];
                memcpy(set.pixels + (size_t)at * CIFAR_PIXELS, rec + 1, CIFAR_PIXELS);
            }
        }
        fclose(fp);
    }
    free(buf);
    if (!ok) {
        dsload_fini(&set);
        return false;
    }
    dsload_fini(out);
    *out = set;
    return true;
}
