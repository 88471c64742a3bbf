/* SPDX-License-Identifier: Apache-2.0 */
/* afile: atomic output files via temporary name + rename (see afile.h). */
#include "afile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct AFile {
    FILE *fp;
    char *path;     /* target as given */
    char *tmp_path; /* NULL for stdout and in-place targets */
    bool in_place;  /* a device or FIFO opened directly: closed, not renamed */
};

static void free_afile(AFile *f)
{
    free(f->path);
    free(f->tmp_path);
    free(f);
}

AFile *afile_open(const char *path, Err *err)
{
    AFile *f = xcalloc_array(1, sizeof *f, err);
    if (!f)
        return NULL;
    f->path = xstrdup(path, err);
    if (!f->path)
        goto fail;
    if (strcmp(path, "-") == 0) {
        f->fp = stdout;
        return f;
    }
    // A device, FIFO or socket (/dev/null, a named pipe) is written in place:
    // renaming a file onto it would replace the device itself.
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode)) {
            err_set(err, "%s: is a directory", path);
            goto fail;
        }
        f->fp = fopen(path, "wb"); // lint-allow: not a regular file, nothing to make atomic
        if (!f->fp) {
            err_set(err, "%s: cannot open: %s", path, strerror(errno));
            goto fail;
        }
        f->in_place = true;
        return f;
    }
    // A symbolic link to a file: replace the file it points to, not the link.
    char *resolved = NULL;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        resolved = realpath(path, NULL);
        if (resolved)
            path = resolved;
    }
    // Temporary name in the target's directory, so rename() stays atomic.
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
    const char *base = slash ? slash + 1 : path;
    if (!*base) {
        err_set(err, "%s: not a file name", path);
        free(resolved);
        goto fail;
    }
    size_t n = dirlen + strlen(base) + 16;
    f->tmp_path = xmalloc_array(n, 1, err);
    if (!f->tmp_path) {
        free(resolved);
        goto fail;
    }
    snprintf(f->tmp_path, n, "%.*s.%s.XXXXXX", (int)dirlen, path, base);
    if (resolved) {
        free(f->path);
        f->path = resolved; // rename onto the link's target
    }
    int fd = mkstemp(f->tmp_path);
    if (fd < 0) {
        err_set(err, "%s: cannot create: %s", path, strerror(errno));
        free(f->tmp_path);
        f->tmp_path = NULL;
        goto fail;
    }
    // mkstemp makes 0600; outputs should follow the umask like any file.
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    f->fp = fdopen(fd, "wb");
    if (!f->fp) {
        err_set(err, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
        unlink(f->tmp_path);
        goto fail;
    }
    return f;
fail:
    free_afile(f);
    return NULL;
}

AFile *afile_open_binary(const char *path, Err *err)
{
    if (strcmp(path, "-") == 0 && isatty(STDOUT_FILENO)) {
        err_set(err, "refusing to write binary data to a terminal (redirect standard output or use -o FILE)");
        return NULL;
    }
    return afile_open(path, err);
}

FILE *afile_stream(AFile *f) { return f->fp; }

const char *afile_path(const AFile *f) { return f->path; }

bool afile_commit(AFile *f, Err *err)
{
    bool ok = true;
    if (!f->tmp_path) {
        if (fflush(f->fp) != 0 || ferror(f->fp))
            ok = err_set(err, "error writing %s: %s", f->in_place ? f->path : "standard output", strerror(errno));
        if (f->in_place && fclose(f->fp) != 0 && ok)
            ok = err_set(err, "%s: write error on close: %s", f->path, strerror(errno));
        free_afile(f);
        return ok;
    }
    if (fflush(f->fp) != 0 || ferror(f->fp))
        ok = err_set(err, "%s: write error: %s", f->path, strerror(errno));
    if (fclose(f->fp) != 0 && ok)
        ok = err_set(err, "%s: write error on close: %s", f->path, strerror(errno));
    if (ok && rename(f->tmp_path, f->path) != 0)
        ok = err_set(err, "%s: cannot rename temporary file into place: %s", f->path, strerror(errno));
    if (!ok)
        unlink(f->tmp_path);
    free_afile(f);
    return ok;
}

void afile_abort(AFile *f)
{
    if (!f)
        return;
    if (f->tmp_path) {
        fclose(f->fp);
        unlink(f->tmp_path);
    } else if (f->in_place) {
        fclose(f->fp);
    } else {
        fflush(f->fp);
    }
    free_afile(f);
}

bool afile_write_all(const char *path, const void *data, size_t bytes, Err *err)
{
    AFile *f = afile_open(path, err);
    if (!f)
        return false;
    if (bytes && fwrite(data, 1, bytes, afile_stream(f)) != bytes) {
        err_set(err, "%s: write error: %s", path, strerror(errno));
        afile_abort(f);
        return false;
    }
    return afile_commit(f, err);
}
