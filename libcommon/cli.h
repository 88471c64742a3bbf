/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli: the command-line front end every tool shares.
 *
 * A tool describes its options once, in a static CliOption table; cli_parse
 * builds the getopt_long parsing and the --help text from it and handles the
 * options all tools share: --help, --version, --progress, -j/--jobs,
 * --seed and --device (the last three only when the tool's CliSpec asks for
 * them). Diagnostics follow one shape: "tool: what went wrong (where)".
 *
 * Not for: anything but the user interface of executables. This is the one
 * libcommon module that writes to the standard streams, and it never exits:
 * it returns what the tool should do.
 *
 *     static struct { const char *out; bool list; } opt = {.out = "-"};
 *     static const CliOption options[] = {
 *         {"output", 'o', CLI_STRING, &opt.out, NULL, "FILE", "write here (default: stdout)"},
 *         {"list", 0, CLI_FLAG, &opt.list, NULL, NULL, "list records"},
 *         {0}};
 *     static const CliSpec spec = {"ad-inspect", "[options] [FILE...]",
 *         "Summarise tensor streams.", "ad-inspect train.ts", options};
 *     int main(int argc, char **argv) {
 *         CliCommon common;
 *         int first;
 *         CliStatus st = cli_parse(&spec, argc, argv, &common, &first);
 *         if (st != CLI_CONTINUE) return cli_exit_code(st);
 *         ...
 *     }
 */
#ifndef ADKIT_CLI_H
#define ADKIT_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define ADKIT_VERSION "0.1.0"

typedef enum CliType {
    CLI_FLAG,   /* bool, no argument */
    CLI_INT,    /* int64_t, checked decimal */
    CLI_DOUBLE, /* double, checked */
    CLI_STRING, /* const char * (borrowed from argv) */
    CLI_TYPE_COUNT
} CliType;

typedef struct CliOption {
    const char *name;    /* long name without "--"; NULL ends the table */
    int short_name;      /* letter, or 0 */
    CliType type;
    void *dest;          /* bool *, int64_t *, double * or const char ** */
    bool *given;         /* set to true when the option appears (may be NULL) */
    const char *arg;     /* argument name in --help ("FILE"); NULL for flags */
    const char *help;    /* one line; mention the default */
} CliOption;

typedef struct CliSpec {
    const char *name;      /* program name */
    const char *usage;     /* after the name: "[options] [FILE...]" */
    const char *summary;   /* one sentence */
    const char *example;   /* one or more example command lines, '\n'-separated */
    const CliOption *options;
    bool has_jobs;         /* accept -j/--jobs N */
    bool has_seed;         /* accept --seed N */
    bool has_device;       /* accept --device cpu|cuda */
    const char *notes;     /* optional paragraph printed after the options */
} CliSpec;

typedef struct CliCommon {
    bool progress;   /* --progress given, or stderr is a terminal */
    int jobs;        /* -j N; default: number of online processors */
    uint64_t seed;   /* --seed N; default 0 */
    bool seed_given;
    const char *device; /* "cpu" (default) or "cuda" */
} CliCommon;

typedef enum CliStatus {
    CLI_CONTINUE,  /* run the tool; positionals start at *first_arg */
    CLI_EXIT_OK,   /* --help or --version was printed: exit 0 */
    CLI_EXIT_USAGE /* a usage error was printed: exit 2 */
} CliStatus;

/* Parses argv. Also records the program name for cli_report/cli_warn. */
CliStatus cli_parse(const CliSpec *spec, int argc, char **argv, CliCommon *common, int *first_arg);

/* 0, 0 or 2 for the statuses above. */
int cli_exit_code(CliStatus st);

/* Prints "tool: message" for a failure and returns 1 (the exit code). */
int cli_report(const Err *err);

/* Prints "tool: message" (printf-style) on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "tool: message\nTry 'tool --help'." and returns 2. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The program name set by cli_parse ("adkit" before). */
const char *cli_program(void);

/* Checked number parsing for tools (no atoi/strtol elsewhere). */
bool cli_parse_int(const char *s, int64_t *out);
bool cli_parse_double(const char *s, double *out);

#endif
