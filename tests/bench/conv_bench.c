/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conv_bench: times the conv kernels (forward, backward-input,
 * backward-weight) on the shapes of a list and prints GFLOP/s as TSV, after
 * comment lines naming the ISA, the thread count, and the OpenBLAS core with
 * its large-sgemm rate (the GEMM ceiling of this machine).
 * GFLOP/s = 2*N*OC*OH*OW*C*KH*KW / seconds for every algorithm (the direct
 * count, so Winograd shows its saving as a higher rate). Each figure is the
 * median of several runs after a warm-up.
 *
 *     build/bench/conv_bench -j 2 tests/bench/conv_shapes.tsv
 */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "conv.h"
#include "rng.h"

static struct {
    int64_t reps;
    const char *isa;
    int64_t gemm_n;
    bool cpu_time;
} opt = {5, NULL, 4096, false};

static const CliOption options[] = {
    {"reps", 'r', CLI_INT, &opt.reps, NULL, "N", "timed runs per figure, median reported (default 5)"},
    {"isa", 0, CLI_STRING, &opt.isa, NULL, "NAME", "kernels: avx512, avx2 or portable (default: best)"},
    {"cpu-time", 0, CLI_FLAG, &opt.cpu_time, NULL, NULL,
     "time by CPU time of the process, not wall time: steadier on a busy machine with -j 1"},
    {"gemm-size", 0, CLI_INT, &opt.gemm_n, NULL, "N", "size of the sgemm ceiling product, 0 = skip (default 4096)"},
    {0}};

static const CliSpec spec = {"conv_bench", "[options] SHAPES.tsv",
                             "Time the convolution kernels on a list of shapes.",
                             "conv_bench -j 2 tests/bench/conv_shapes.tsv", options, true, false, false, NULL};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(opt.cpu_time ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct Bench {
    ConvShape s;
    float *inp, *weight, *bias, *out, *dout, *dinp, *dweight, *dbias;
    void *ws;
} Bench;

static void run_pass(Bench *b, ConvPass pass)
{
    if (pass == CONV_PASS_FORWARD)
        conv2d_forward_cpu(b->out, b->inp, b->weight, b->bias, &b->s, b->ws);
    else if (pass == CONV_PASS_BACKWARD_INPUT)
        conv2d_backward_input_cpu(b->dinp, b->dout, b->weight, &b->s, b->ws);
    else
        conv2d_backward_weight_cpu(b->dweight, b->dbias, b->dout, b->inp, &b->s, b->ws);
}

// Median seconds of opt.reps runs after one warm-up run.
static double time_pass(Bench *b, ConvPass pass)
{
    double t[64];
    int reps = (int)(opt.reps < 1 ? 1 : opt.reps > 64 ? 64 : opt.reps);
    run_pass(b, pass);
    for (int i = 0; i < reps; i++) {
        double t0 = now_s();
        run_pass(b, pass);
        t[i] = now_s() - t0;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_double);
    return t[reps / 2];
}

static float *random_floats(size_t n, Rng *rng)
{
    float *p = malloc(n * sizeof *p);
    if (!p)
        return NULL;
    for (size_t i = 0; i < n; i++)
        p[i] = 2.0f * rng_uniform_f32(rng) - 1.0f;
    return p;
}

static double sgemm_gflops(int n)
{
    size_t nn = (size_t)n * (size_t)n;
    float *a = calloc(nn, sizeof *a), *b = calloc(nn, sizeof *b), *c = calloc(nn, sizeof *c);
    double best = 0.0;
    if (a && b && c) {
        for (size_t i = 0; i < nn; i++)
            a[i] = b[i] = (float)(i % 7) * 0.125f;
        for (int rep = 0; rep < 4; rep++) {
            double t0 = now_s();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
            double g = 2.0 * n * (double)n * n / (now_s() - t0) / 1e9;
            best = rep > 0 && g > best ? g : best; // the first run warms up
        }
    }
    free(a);
    free(b);
    free(c);
    return best;
}

static int bench_line(const char *name, int64_t v[8], Rng *rng)
{
    Bench b = {0};
    Err err = {0};
    if (!conv_shape_init(&b.s, v[0], v[1], v[2], v[3], v[4], v[5], v[5], v[6], v[7], &err)) {
        err_context(&err, "shape %s", name);
        return cli_report(&err);
    }
    const ConvShape *s = &b.s;
    size_t ni = (size_t)(s->N * s->C * s->H * s->W), no = (size_t)(s->N * s->OC * s->OH * s->OW),
           nw = (size_t)(s->OC * s->C * s->KH * s->KW);
    b.inp = random_floats(ni, rng);
    b.weight = random_floats(nw, rng);
    b.bias = random_floats((size_t)s->OC, rng);
    b.dout = random_floats(no, rng);
    b.out = malloc(no * sizeof(float));
    b.dinp = malloc(ni * sizeof(float));
    b.dweight = calloc(nw, sizeof(float));
    b.dbias = calloc((size_t)s->OC, sizeof(float));
    b.ws = malloc(conv_workspace_bytes(s) + 64);
    int rc = 0;
    if (!b.inp || !b.weight || !b.bias || !b.dout || !b.out || !b.dinp || !b.dweight || !b.dbias || !b.ws) {
        err_set(&err, "out of memory (shape %s)", name);
        rc = cli_report(&err);
    } else {
        double flops = 2.0 * (double)s->N * (double)s->OC * (double)(s->OH * s->OW) * (double)s->C *
                       (double)(s->KH * s->KW);
        printf("%s\t%lld\t%lld\t%lld\t%lld\t%lld\t%lld\t%lld\t%lld", name, (long long)s->N, (long long)s->C,
               (long long)s->H, (long long)s->W, (long long)s->OC, (long long)s->KH, (long long)s->stride,
               (long long)s->pad);
        for (ConvPass p = 0; p < CONV_PASS_COUNT; p++) {
            double t = time_pass(&b, p);
            printf("\t%s\t%.1f", conv_algo_name(conv_algo_choose(s, p)), flops / t / 1e9);
        }
        printf("\n");
        fflush(stdout);
    }
    free(b.inp);
    free(b.weight);
    free(b.bias);
    free(b.dout);
    free(b.out);
    free(b.dinp);
    free(b.dweight);
    free(b.dbias);
    free(b.ws);
    return rc;
}

int main(int argc, char **argv)
{
    CliCommon common;
    int first;
    CliStatus st = cli_parse(&spec, argc, argv, &common, &first);
    if (st != CLI_CONTINUE)
        return cli_exit_code(st);
    if (first != argc - 1)
        return cli_usage_error("expected one shapes file");
    if (opt.isa && !conv_isa_select(opt.isa))
        return cli_usage_error("--isa %s: not supported by this CPU", opt.isa);
    omp_set_num_threads(common.jobs);
    openblas_set_num_threads(common.jobs);
    FILE *fp = fopen(argv[first], "r");
    if (!fp) {
        Err err = {0};
        err_set(&err, "%s: cannot open", argv[first]);
        return cli_report(&err);
    }
    printf("# conv kernels: isa %s, %d threads\n", conv_isa_name(), common.jobs);
    if (opt.gemm_n > 0)
        printf("# sgemm %lld^3 ceiling: %.1f GFLOP/s, OpenBLAS core %s, %d threads\n", (long long)opt.gemm_n,
               sgemm_gflops((int)opt.gemm_n), openblas_get_corename(), openblas_get_num_threads());
    printf("shape\tN\tC\tH\tW\tOC\tK\tstride\tpad\tfwd_algo\tfwd_gflops\tbwd_input_algo\tbwd_input_gflops"
           "\tbwd_weight_algo\tbwd_weight_gflops\n");
    fflush(stdout);
    Rng rng;
    rng_init(&rng, 1);
    char line[512];
    int rc = 0, lineno = 0;
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        char name[128];
        long long v[8];
        if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
            continue;
        if (sscanf(line, "%127s %lld %lld %lld %lld %lld %lld %lld %lld", name, &v[0], &v[1], &v[2], &v[3], &v[4],
                   &v[5], &v[6], &v[7]) != 9) {
            cli_warn("%s:%d: expected: name N C H W OC K stride pad", argv[first], lineno);
            rc = 1;
            continue;
        }
        int64_t vv[8];
        for (int i = 0; i < 8; i++)
            vv[i] = v[i];
        if (bench_line(name, vv, &rng) != 0)
            rc = 1;
    }
    fclose(fp);
    return rc;
}
