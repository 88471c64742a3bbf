/* SPDX-License-Identifier: Apache-2.0 */
/* roc_plot: the ROC curve as a PNG drawn by gnuplot (see roc.h: roc_plot_png).
 * gnuplot reads a script and the curve points from temporary files and writes
 * the PNG to its standard output, which is the atomic output file. */
#include "roc.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "afile.h"

extern char **environ;

// A temporary file in TMPDIR; the path is written into buf.
static FILE *temp_file(char *buf, size_t n, const char *what, Err *err)
{
    const char *dir = getenv("TMPDIR");
    snprintf(buf, n, "%s/adkit-roc-%s.XXXXXX", dir && *dir ? dir : "/tmp", what);
    int fd = mkstemp(buf);
    if (fd < 0)
        return err_set(err, "cannot create a temporary file in %s: %s", dir && *dir ? dir : "/tmp",
                       strerror(errno)), NULL;
    FILE *fp = fdopen(fd, "w+");
    if (!fp) {
        err_set(err, "cannot open temporary file %s: %s", buf, strerror(errno));
        close(fd);
        unlink(buf);
    }
    return fp;
}

// First line of a (small) file, for gnuplot's error message.
static void first_line(const char *path, char *buf, size_t n)
{
    buf[0] = 0;
    FILE *fp = fopen(path, "r");
    if (!fp)
        return;
    if (fgets(buf, (int)n, fp))
        buf[strcspn(buf, "\n")] = 0;
    fclose(fp);
}

bool roc_plot_png(const RocData *d, const char *png_path, const char *title, Err *err)
{
    char pts_path[4096], gp_path[4096], log_path[4096];
    FILE *pts = NULL, *gp = NULL, *log = NULL;
    AFile *out = NULL;
    double *fpr = NULL, *tpr = NULL;
    size_t n = 0;
    bool ok = false;
    pts_path[0] = gp_path[0] = log_path[0] = 0;

    RocStats st;
    // A thousandth of the axis is below what a 640-pixel plot can show.
    if (!roc_compute(d, &st, err) || !roc_curve(d, 1e-3, &fpr, &tpr, &n, err))
        goto done;
    if (!(pts = temp_file(pts_path, sizeof pts_path, "points", err)))
        goto done;
    for (size_t i = 0; i < n; i++)
        fprintf(pts, "%.9g\t%.9g\n", fpr[i], tpr[i]);
    if (fclose(pts) != 0) {
        pts = NULL;
        err_set(err, "cannot write %s: %s", pts_path, strerror(errno));
        goto done;
    }
    pts = NULL;

    char safe_title[256];
    snprintf(safe_title, sizeof safe_title, "%s", title ? title : "");
    for (char *c = safe_title; *c; c++)
        if (*c == '"' || *c == '\\' || *c == '\n')
            *c = '_';
    if (!(gp = temp_file(gp_path, sizeof gp_path, "script", err)))
        goto done;
    fprintf(gp,
            "if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n"
            "  set terminal pngcairo size 640,600\n"
            "} else {\n"
            "  set terminal png size 640,600\n"
            "}\n"
            "set title \"%s%sAUROC = %.4f\" noenhanced\n"
            "set xlabel \"false positive rate\"\n"
            "set ylabel \"true positive rate\"\n"
            "set xrange [0:1]\nset yrange [0:1]\nset size ratio 1\nset grid\n"
            "set key bottom right\n"
            "plot \"%s\" using 1:2 with lines lw 2 lc rgb \"#1f77b4\" title \"ROC\", "
            "x with lines dt 2 lc rgb \"gray\" title \"chance\"\n",
            safe_title, *safe_title ? "  " : "", st.auroc, pts_path);
    if (fclose(gp) != 0) {
        gp = NULL;
        err_set(err, "cannot write %s: %s", gp_path, strerror(errno));
        goto done;
    }
    gp = NULL;
    if (!(log = temp_file(log_path, sizeof log_path, "log", err)))
        goto done;
    if (!(out = afile_open(png_path, err)))
        goto done;
    fflush(afile_stream(out));

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fileno(afile_stream(out)), STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, fileno(log), STDERR_FILENO);
    char *argv[] = {"gnuplot", gp_path, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        if (rc == ENOENT)
            err_set(err, "%s: gnuplot is not installed (not found on PATH); install gnuplot-nox to draw "
                    "ROC curves", png_path);
        else
            err_set(err, "%s: cannot run gnuplot: %s", png_path, strerror(rc));
        goto done;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            err_set(err, "%s: waiting for gnuplot: %s", png_path, strerror(errno));
            goto done;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char msg[512];
        fflush(log);
        first_line(log_path, msg, sizeof msg);
        err_set(err, "%s: gnuplot failed (%s)%s%s", png_path,
                WIFEXITED(status) ? "exit status" : "killed", *msg ? ": " : "", msg);
        goto done;
    }
    // gnuplot wrote through its own descriptor; make sure there is a PNG
    // (standard output may be a pipe and is not checked).
    unsigned char magic[8] = {0};
    if (strcmp(png_path, "-") != 0 &&
        (pread(fileno(afile_stream(out)), magic, 8, 0) != 8 || memcmp(magic, "\x89PNG\r\n\x1a\n", 8) != 0)) {
        err_set(err, "%s: gnuplot did not produce a PNG image", png_path);
        goto done;
    }
    ok = afile_commit(out, err);
    out = NULL;
done:
    afile_abort(out);
    if (pts)
        fclose(pts);
    if (gp)
        fclose(gp);
    if (log)
        fclose(log);
    if (*pts_path)
        unlink(pts_path);
    if (*gp_path)
        unlink(gp_path);
    if (*log_path)
        unlink(log_path);
    free(fpr);
    free(tpr);
    return ok;
}
