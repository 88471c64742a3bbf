/* SPDX-License-Identifier: Apache-2.0 */
/* cli: option tables, --help text and diagnostics for tools (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tsv.h"

static const char *program = "adkit";

const char *cli_program(void) { return program; }

int cli_exit_code(CliStatus st) { return st == CLI_EXIT_USAGE ? 2 : 0; }

int cli_report(const Err *err)
{
    fprintf(stderr, "%s: %s\n", program, err && err->msg[0] ? err->msg : "failed");
    return 1;
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", program);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", program);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry '%s --help'.\n", program);
    va_end(ap);
    return 2;
}

bool cli_parse_int(const char *s, int64_t *out) { return tsv_parse_int64(s, out); }

bool cli_parse_double(const char *s, double *out)
{
    double v;
    if (!tsv_parse_double(s, &v) || !isfinite(v))
        return false;
    *out = v;
    return true;
}

// Options every tool has; indices above the tool's own options.
enum { OPT_HELP = 1000, OPT_VERSION, OPT_PROGRESS, OPT_JOBS, OPT_SEED, OPT_DEVICE };

static void print_option(FILE *out, int short_name, const char *name, const char *arg, const char *help)
{
    char left[96];
    if (short_name)
        snprintf(left, sizeof left, "  -%c, --%s%s%s", short_name, name, arg ? "=" : "", arg ? arg : "");
    else
        snprintf(left, sizeof left, "      --%s%s%s", name, arg ? "=" : "", arg ? arg : "");
    if (strlen(left) < 30)
        fprintf(out, "%-30s %s\n", left, help);
    else
        fprintf(out, "%s\n%-30s %s\n", left, "", help);
}

static void print_help(const CliSpec *spec)
{
    FILE *out = stdout;
    fprintf(out, "Usage: %s %s\n%s\n\nOptions:\n", spec->name, spec->usage, spec->summary);
    for (const CliOption *o = spec->options; o && o->name; o++)
        print_option(out, o->short_name, o->name, o->arg, o->help);
    if (spec->has_jobs)
        print_option(out, 'j', "jobs", "N", "threads to use (default: all cores)");
    if (spec->has_seed)
        print_option(out, 0, "seed", "N", "seed of every random choice (default 0); same seed, same output");
    if (spec->has_device)
        print_option(out, 0, "device", "DEV", "cpu (default) or cuda");
    print_option(out, 0, "progress", NULL, "show progress on stderr even when it is not a terminal");
    print_option(out, 'h', "help", NULL, "print this help and exit");
    print_option(out, 0, "version", NULL, "print the version and exit");
    if (spec->notes)
        fprintf(out, "\n%s\n", spec->notes);
    if (spec->example)
        fprintf(out, "\nExample:\n  %s\n", spec->example);
}

static bool store(const CliOption *o, const char *arg)
{
    switch (o->type) {
    case CLI_FLAG:
        *(bool *)o->dest = true;
        return true;
    case CLI_INT:
        return cli_parse_int(arg, (int64_t *)o->dest);
    case CLI_DOUBLE:
        return cli_parse_double(arg, (double *)o->dest);
    case CLI_STRING:
        *(const char **)o->dest = arg;
        return true;
    default:
        return false;
    }
}

CliStatus cli_parse(const CliSpec *spec, int argc, char **argv, CliCommon *common, int *first_arg)
{
    program = spec->name;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    common->progress = isatty(STDERR_FILENO);
    common->jobs = ncpu > 0 ? (int)ncpu : 1;
    common->seed = 0;
    common->seed_given = false;
    common->device = "cpu";

    size_t n = 0;
    while (spec->options && spec->options[n].name)
        n++;
    struct option *longs = calloc(n + 8, sizeof *longs);
    char *shorts = calloc(2 * n + 8, 1);
    if (!longs || !shorts) {
        free(longs);
        free(shorts);
        fprintf(stderr, "%s: out of memory\n", program);
        return CLI_EXIT_USAGE;
    }
    size_t k = 0, s = 0;
    shorts[s++] = ':'; // report a missing argument distinctly
    for (size_t i = 0; i < n; i++) {
        const CliOption *o = &spec->options[i];
        // Options without a letter get values above the char range.
        longs[k++] = (struct option){o->name, o->type == CLI_FLAG ? no_argument : required_argument, NULL,
                                     o->short_name ? o->short_name : 256 + (int)i};
        if (o->short_name) {
            shorts[s++] = (char)o->short_name;
            if (o->type != CLI_FLAG)
                shorts[s++] = ':';
        }
    }
    longs[k++] = (struct option){"help", no_argument, NULL, OPT_HELP};
    longs[k++] = (struct option){"version", no_argument, NULL, OPT_VERSION};
    longs[k++] = (struct option){"progress", no_argument, NULL, OPT_PROGRESS};
    if (spec->has_jobs) {
        longs[k++] = (struct option){"jobs", required_argument, NULL, OPT_JOBS};
        shorts[s++] = 'j';
        shorts[s++] = ':';
    }
    if (spec->has_seed)
        longs[k++] = (struct option){"seed", required_argument, NULL, OPT_SEED};
    if (spec->has_device)
        longs[k++] = (struct option){"device", required_argument, NULL, OPT_DEVICE};
    shorts[s++] = 'h';

    CliStatus status = CLI_CONTINUE;
    opterr = 0;
    optind = 1;
    int c;
    while (status == CLI_CONTINUE && (c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
        const CliOption *o = NULL;
        for (size_t i = 0; i < n; i++)
            if ((spec->options[i].short_name && c == spec->options[i].short_name) || c == 256 + (int)i)
                o = &spec->options[i];
        if (o) {
            if (!store(o, optarg)) {
                status = CLI_EXIT_USAGE;
                cli_usage_error("invalid value '%s' for --%s", optarg, o->name);
            } else if (o->given) {
                *o->given = true;
            }
            continue;
        }
        int64_t v;
        switch (c) {
        case 'h':
        case OPT_HELP:
            print_help(spec);
            status = CLI_EXIT_OK;
            break;
        case OPT_VERSION:
            printf("%s (adkit) %s\n", spec->name, ADKIT_VERSION);
            status = CLI_EXIT_OK;
            break;
        case OPT_PROGRESS:
            common->progress = true;
            break;
        case 'j':
        case OPT_JOBS:
            if (!cli_parse_int(optarg, &v) || v < 1 || v > 1024) {
                status = CLI_EXIT_USAGE;
                cli_usage_error("--jobs takes a number of threads from 1 to 1024, not '%s'", optarg);
            } else {
                common->jobs = (int)v;
            }
            break;
        case OPT_SEED:
            if (!cli_parse_int(optarg, &v) || v < 0) {
                status = CLI_EXIT_USAGE;
                cli_usage_error("--seed takes a non-negative integer, not '%s'", optarg);
            } else {
                common->seed = (uint64_t)v;
                common->seed_given = true;
            }
            break;
        case OPT_DEVICE:
            if (strcmp(optarg, "cpu") != 0 && strcmp(optarg, "cuda") != 0) {
                status = CLI_EXIT_USAGE;
                cli_usage_error("--device must be cpu or cuda, not '%s'", optarg);
            } else {
                common->device = optarg;
            }
            break;
        case ':':
            status = CLI_EXIT_USAGE;
            cli_usage_error("option '%s' needs an argument", argv[optind - 1]);
            break;
        default:
            status = CLI_EXIT_USAGE;
            if (optopt && optopt < 256)
                cli_usage_error("unknown option '-%c'", optopt);
            else
                cli_usage_error("unknown option '%s'", argv[optind - 1]);
            break;
        }
    }
    free(longs);
    free(shorts);
    *first_arg = optind;
    return status;
}
