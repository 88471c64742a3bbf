/* SPDX-License-Identifier: Apache-2.0 */
/* dpa_plot: sample grids and loss curves of DPA training (see dpa_plot.h). */
#include "dpa_plot.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "afile.h"
#include "img.h"

extern char **environ;

static uint8_t to_u8(float v)
{
    float x = (v * 0.5f + 0.5f) * 255.0f;
    if (!(x > 0.0f))
        return 0;
    return x >= 255.0f ? 255 : (uint8_t)lrintf(x);
}

bool dpa_plot_grid(const char *path, const float *real, const float *rec, int n, int c, int h, int w, Err *err)
{
    const int gap = 2, W = n * (w + gap) - gap, H = 2 * h + gap;
    Image img = {0};
    if (!image_alloc(&img, W, H, c == 1 ? 1 : 3, 8, err))
        return false;
    uint8_t *px = img.data;
    memset(px, 255, (size_t)W * H * img.channels);
    for (int row = 0; row < 2; row++)
        for (int i = 0; i < n; i++) {
            const float *src = (row ? rec : real) + (size_t)i * c * h * w;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int ch = 0; ch < img.channels; ch++)
                        px[((size_t)(row * (h + gap) + y) * W + i * (w + gap) + x) * img.channels + ch] =
                            to_u8(src[((size_t)(ch < c ? ch : 0) * h + y) * w + x]);
        }
    ImageWriteOptions opt = {.format = IMAGE_FORMAT_PNG, .png_level = -1};
    bool ok = image_write(path, &img, &opt, err);
    image_fini(&img);
    return ok;
}

bool dpa_plot_loss(const char *path, const int64_t *iters, const double *losses, int64_t n, Err *err)
{
    char dat[] = "/tmp/adkit-loss-XXXXXX";
    int fd = mkstemp(dat);
    if (fd < 0)
        return err_set(err, "%s: cannot create a temporary file: %s", path, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(dat);
        return err_set(err, "%s: %s", path, strerror(errno));
    }
    for (int64_t i = 0; i < n; i++)
        fprintf(f, "%" PRId64 "\t%.9g\n", iters[i], losses[i]);
    fclose(f);
    AFile *out = afile_open(path, err);
    if (!out) {
        unlink(dat);
        return false;
    }
    char script[1024];
    snprintf(script, sizeof script,
             "set terminal png size 800,480; set xlabel 'iteration'; set ylabel 'training loss'; "
             "set grid; set key off; plot '%s' using 1:2 with lines lw 2 lc rgb '#1f77b4'",
             dat);
    fflush(afile_stream(out));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fileno(afile_stream(out)), STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", 1, 0);
    char *argv[] = {"gnuplot", "-e", script, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    bool drawn = false;
    if (rc != 0) {
        err_set(err, "%s: cannot run gnuplot (%s); install gnuplot-nox", path, strerror(rc));
    } else {
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        drawn = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (!drawn)
            err_set(err, "%s: gnuplot failed", path);
    }
    unlink(dat);
    if (!drawn) {
        afile_abort(out);
        return false;
    }
    return afile_commit(out, err);
}
