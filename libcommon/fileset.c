/* SPDX-License-Identifier: Apache-2.0 */
/* fileset: an in-memory tree of files committed as a whole (see fileset.h). */
#include "fileset.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "afile.h"

typedef struct Entry {
    char *path;
    unsigned char *data;
    size_t bytes;
} Entry;

struct FileSet {
    Entry *e;
    size_t n, cap;
};

FileSet *fileset_new(Err *err)
{
    return xcalloc_array(1, sizeof(FileSet), err);
}

void fileset_free(FileSet *fs)
{
    if (!fs)
        return;
    for (size_t i = 0; i < fs->n; i++) {
        free(fs->e[i].path);
        free(fs->e[i].data);
    }
    free(fs->e);
    free(fs);
}

size_t fileset_count(const FileSet *fs)
{
    return fs->n;
}

bool fileset_add(FileSet *fs, const char *relpath, const void *data, size_t bytes, Err *err)
{
    if (!*relpath || relpath[0] == '/' || strstr(relpath, "..") || relpath[strlen(relpath) - 1] == '/')
        return err_set(err, "'%s' is not a relative file path", relpath);
    unsigned char *copy = xmalloc_array(bytes ? bytes : 1, 1, err);
    if (!copy)
        return false;
    if (bytes)
        memcpy(copy, data, bytes);
    for (size_t i = 0; i < fs->n; i++)
        if (strcmp(fs->e[i].path, relpath) == 0) {
            free(fs->e[i].data);
            fs->e[i].data = copy;
            fs->e[i].bytes = bytes;
            return true;
        }
    if (fs->n == fs->cap) {
        size_t cap = fs->cap ? 2 * fs->cap : 64;
        Entry *e = xrealloc_array(fs->e, cap, sizeof *e, err);
        if (!e) {
            free(copy);
            return false;
        }
        fs->e = e;
        fs->cap = cap;
    }
    char *p = xstrdup(relpath, err);
    if (!p) {
        free(copy);
        return false;
    }
    fs->e[fs->n++] = (Entry){p, copy, bytes};
    return true;
}

bool fileset_addf(FileSet *fs, const char *relpath, Err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = NULL;
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n < 0)
        return err_set(err, "out of memory formatting %s", relpath);
    bool ok = fileset_add(fs, relpath, text, (size_t)n, err);
    free(text);
    return ok;
}

bool fileset_add_lines(FileSet *fs, const char *relpath, const char *const *lines, size_t n, Err *err)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += strlen(lines[i]) + 1;
    char *buf = xmalloc_array(total ? total : 1, 1, err);
    if (!buf)
        return false;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(lines[i]);
        memcpy(buf + at, lines[i], l);
        at += l;
        buf[at++] = '\n';
    }
    bool ok = fileset_add(fs, relpath, buf, total, err);
    free(buf);
    return ok;
}

// mkdir -p for the folders of path (relative to base), leaving the file.
static bool make_parents(const char *base, const char *relpath, Err *err)
{
    char p[4096];
    int n = snprintf(p, sizeof p, "%s/%s", base, relpath);
    if (n < 0 || (size_t)n >= sizeof p)
        return err_set(err, "path too long: %s/%s", base, relpath);
    for (char *s = p + strlen(base) + 1; (s = strchr(s, '/')); s++) {
        *s = 0;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            err_set(err, "%s: cannot create folder: %s", p, strerror(errno));
            return false;
        }
        *s = '/';
    }
    return true;
}

// Removes what a failed staging left: files first, then folders bottom-up.
static void remove_tree(const char *dir, const FileSet *fs)
{
    char p[4096];
    for (size_t i = 0; i < fs->n; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, fs->e[i].path);
        unlink(p);
        // Temporary files of afile are named ".<base>.XXXXXX" beside the
        // target and removed by afile itself on failure.
    }
    for (size_t i = 0; i < fs->n; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, fs->e[i].path);
        for (char *s = strrchr(p, '/'); s && s > p + strlen(dir); s = strrchr(p, '/')) {
            *s = 0;
            rmdir(p); // fails harmlessly while the folder still has entries
        }
    }
    rmdir(dir);
}

static bool write_all(const FileSet *fs, const char *dir, Err *err)
{
    char p[4096];
    for (size_t i = 0; i < fs->n; i++) {
        if (!make_parents(dir, fs->e[i].path, err))
            return false;
        int n = snprintf(p, sizeof p, "%s/%s", dir, fs->e[i].path);
        if (n < 0 || (size_t)n >= sizeof p)
            return err_set(err, "path too long: %s/%s", dir, fs->e[i].path);
        if (!afile_write_all(p, fs->e[i].data, fs->e[i].bytes, err))
            return false;
    }
    return true;
}

bool fileset_commit(const FileSet *fs, const char *dir, Err *err)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return err_set(err, "%s: exists and is not a folder", dir);
        return write_all(fs, dir, err);
    }
    if (errno != ENOENT)
        return err_set(err, "%s: %s", dir, strerror(errno));
    char stage[4096];
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    int n = snprintf(stage, sizeof stage, "%.*s.tmp-XXXXXX", (int)dl, dir);
    if (n < 0 || (size_t)n >= sizeof stage)
        return err_set(err, "path too long: %s", dir);
    if (!mkdtemp(stage))
        return err_set(err, "%s: cannot create a staging folder: %s", dir, strerror(errno));
    // mkdtemp makes 0700; the folder should follow the umask like any other.
    mode_t mask = umask(0);
    umask(mask);
    chmod(stage, 0777 & ~mask);
    if (!write_all(fs, stage, err)) {
        remove_tree(stage, fs);
        return false;
    }
    if (rename(stage, dir) != 0) {
        err_set(err, "%s: cannot rename the staging folder %s into place: %s", dir, stage, strerror(errno));
        remove_tree(stage, fs);
        return false;
    }
    return true;
}
