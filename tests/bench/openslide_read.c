/* SPDX-License-Identifier: Apache-2.0 */
/*
 * openslide_read: the decode limit for bench_slide2patches.sh. Reads the
 * level-0 patches named by the ids in IDS (one per line) with bare
 * openslide_read_region calls (no conversion, no output), N threads, and
 * prints the patch count. Built by the benchmark script, not by make.
 *
 *     openslide_read SLIDE PATCH_PX THREADS ids.txt
 */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openslide.h>

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: openslide_read SLIDE PATCH_PX THREADS IDS\n");
        return 2;
    }
    FILE *ids = fopen(argv[4], "r");
    if (!ids) {
        fprintf(stderr, "openslide_read: cannot open %s\n", argv[4]);
        return 1;
    }
    openslide_t *osr = openslide_open(argv[1]);
    if (!osr || openslide_get_error(osr)) {
        fprintf(stderr, "openslide_read: cannot open %s\n", argv[1]);
        return 1;
    }
    int64_t px = strtoll(argv[2], NULL, 10);
    int threads = (int)strtol(argv[3], NULL, 10);
    static int64_t xs[100000], ys[100000];
    int n = 0;
    char line[512];
    while (n < 100000 && fgets(line, sizeof line, ids)) {
        long long row, col;
        char *x = strstr(line, "_x_");
        char *p;
        while (x && (p = strstr(x + 1, "_x_")))
            x = p;
        if (x && sscanf(x, "_x_%lld_y_%lld", &row, &col) == 2) {
            xs[n] = col;
            ys[n] = row;
            n++;
        }
    }
    fclose(ids);
    int failed = 0;
#pragma omp parallel num_threads(threads)
    {
        uint32_t *buf = malloc((size_t)(px * px) * 4);
#pragma omp for schedule(dynamic)
        for (int i = 0; i < n; i++)
            openslide_read_region(osr, buf, xs[i], ys[i], 0, px, px);
        free(buf);
    }
    if (openslide_get_error(osr))
        failed = 1;
    openslide_close(osr);
    printf("%d\n", n);
    return failed;
}
