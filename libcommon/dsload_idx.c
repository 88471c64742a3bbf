/* SPDX-License-Identifier: Apache-2.0 */
/* dsload_idx: MNIST and Fashion-MNIST IDX files through zlib's gz* API,
 * which reads gzip-compressed and plain files alike. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "dsload_impl.h"

enum { IDX_UBYTE_1D = 0x00000801, IDX_UBYTE_3D = 0x00000803 };

// zlib's message starts with the path, which our message already names.
static const char *gz_message(gzFile g, const char *path, int *code)
{
    const char *msg = gzerror(g, code);
    size_t len = strlen(path);
    if (strncmp(msg, path, len) == 0 && msg[len] == ':' && msg[len + 1] == ' ')
        msg += len + 2;
    return msg;
}

// Reads exactly n bytes; a short read is a truncated (or cut gzip) file.
static bool read_exact(gzFile g, void *buf, size_t n, const char *path, const char *what, Err *err)
{
    size_t done = 0;
    while (done < n) {
        unsigned chunk = n - done > (1u << 30) ? (1u << 30) : (unsigned)(n - done);
        int got = gzread(g, (unsigned char *)buf + done, chunk);
        if (got <= 0) {
            int code;
            const char *msg = gz_message(g, path, &code);
            if (code != Z_OK && code != Z_STREAM_END)
                return err_set(err, "%s: truncated or corrupt %s: %s", path, what, msg);
            return err_set(err, "%s: truncated %s: %zu of %zu bytes", path, what, done, n);
        }
        done += (size_t)got;
    }
    return true;
}

// After the payload the file must end, and the gzip trailer (CRC, length)
// must check out: reading one more byte returns nothing and no error.
static bool expect_end(gzFile g, const char *path, Err *err)
{
    unsigned char extra;
    int got = gzread(g, &extra, 1);
    int code;
    const char *msg = gz_message(g, path, &code);
    if (got < 0 || (code != Z_OK && code != Z_STREAM_END))
        return err_set(err, "%s: corrupt end of file: %s", path, msg);
    if (got > 0)
        return err_set(err, "%s: more data than the header announces", path);
    return true;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

// Picks NAME.gz, else NAME, in root.
static gzFile open_idx(const char *root, const char *name, char *path, size_t n, Err *err)
{
    char gz[4096];
    snprintf(gz, sizeof gz, "%s.gz", name);
    dsload_path(path, n, root, gz);
    if (access(path, F_OK) != 0)
        dsload_path(path, n, root, name);
    gzFile g = gzopen(path, "rb");
    if (!g) {
        dsload_path(path, n, root, gz);
        err_set(err, "%s: %s", path, errno ? strerror(errno) : "cannot open");
        return NULL;
    }
    gzbuffer(g, 1u << 18);
    return g;
}

bool dsload_mnist(const char *root, const char *split, DsImages *out, Err *err)
{
    const char *prefix = strcmp(split, "train") == 0 ? "train" : strcmp(split, "test") == 0 ? "t10k" : NULL;
    if (!prefix)
        return err_set(err, "unknown split '%s' (train or test)", split);
    char name[64], ipath[4096], lpath[4096];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
    gzFile gi = open_idx(root, name, ipath, sizeof ipath, err);
    if (!gi)
        return false;
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
    gzFile gl = open_idx(root, name, lpath, sizeof lpath, err);
    if (!gl) {
        gzclose(gi);
        return false;
    }
    DsImages set = {0};
    unsigned char ih[16], lh[8];
    bool ok = read_exact(gi, ih, sizeof ih, ipath, "header", err) && read_exact(gl, lh, sizeof lh, lpath, "header", err);
    if (ok && be32(ih) != IDX_UBYTE_3D)
        ok = err_set(err, "%s: not an IDX image file (magic 0x%08x, expected 0x%08x)", ipath, be32(ih), IDX_UBYTE_3D);
    if (ok && be32(lh) != IDX_UBYTE_1D)
        ok = err_set(err, "%s: not an IDX label file (magic 0x%08x, expected 0x%08x)", lpath, be32(lh), IDX_UBYTE_1D);
    uint32_t count = ok ? be32(ih + 4) : 0, rows = ok ? be32(ih + 8) : 0, cols = ok ? be32(ih + 12) : 0;
    if (ok && be32(lh + 4) != count)
        ok = err_set(err, "%s: %u labels for %u images in %s", lpath, be32(lh + 4), count, ipath);
    if (ok && (rows == 0 || cols == 0 || rows > 4096 || cols > 4096))
        ok = err_set(err, "%s: image size %ux%u not supported", ipath, rows, cols);
    ok = ok && dsload_alloc(&set, count, 1, (int)rows, (int)cols, ipath, err) &&
         read_exact(gi, set.pixels, (size_t)count * rows * cols, ipath, "pixel data", err) &&
         expect_end(gi, ipath, err) && read_exact(gl, set.labels, count, lpath, "labels", err) &&
         expect_end(gl, lpath, err) && dsload_check_labels(&set, lpath, err);
    gzclose(gi);
    gzclose(gl);
    if (!ok) {
        dsload_fini(&set);
        return false;
    }
    dsload_fini(out);
    *out = set;
    return true;
}
