/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config: experiment configurations as `key = value` lines.
 *
 * A Config is an ordered set of keys, each remembering where its value came
 * from ("configs/nih/PA/wo_pg.conf:12", "--lr"), so every complaint names the
 * line to fix. Files hold one `key = value` per line; `#` starts a comment;
 * blank lines are ignored; a key set twice in one file is an error; a later
 * source (a second file, a command-line flag) overrides an earlier one.
 * Per-resolution values use a numeric suffix: `layers.32 = r32`.
 *
 * A schema (an array of ConfigKey ending with {0}) lists the keys a model
 * accepts with their type and default; config_validate rejects unknown keys
 * and ill-typed values before any work starts. A name ending in ".*" in the
 * schema accepts any numeric suffix.
 *
 * The canonical text form (config_to_text: sorted `key=value\n` lines) is
 * what model files store, so a model carries its whole configuration.
 *
 * Thread safety: a Config is not shared between threads while modified.
 * Ownership: the Config owns copies of every string; getters return borrowed
 * pointers valid until the key changes or the Config is freed.
 *
 *     Config *c = config_new(&err);
 *     if (!config_load_file(c, "pipelines/configs/camelyon16/dpa-wo_pg.conf", &err) ||
 *         !config_set(c, "lr", "0.002", "--lr", &err) ||
 *         !config_validate(c, dpa_schema, &err)) return cli_report(&err);
 *     double lr;
 *     config_get_double(c, "lr", &lr, &err);
 */
#ifndef ADKIT_CONFIG_H
#define ADKIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef enum ConfigType {
    CONFIG_STRING,
    CONFIG_INT,
    CONFIG_DOUBLE,
    CONFIG_BOOL,     /* true/false, yes/no, 1/0 */
    CONFIG_INT_LIST, /* comma-separated integers */
    CONFIG_STRING_LIST,
    CONFIG_TYPE_COUNT
} ConfigType;

typedef struct ConfigKey {
    const char *name;          /* NULL ends a schema; "x.*" accepts numeric suffixes */
    ConfigType type;
    const char *default_value; /* NULL: no default (the key is optional or required by the model) */
    const char *help;          /* one line for documentation */
} ConfigKey;

typedef struct Config Config;

Config *config_new(Err *err);
void config_free(Config *c);

/* Loads a file; its values override earlier ones. */
bool config_load_file(Config *c, const char *path, Err *err);

/* Parses text in the file syntax; origin names it in messages. */
bool config_load_text(Config *c, const char *text, size_t len, const char *origin, Err *err);

/* Sets one key (overriding). origin is copied ("--lr"). */
bool config_set(Config *c, const char *key, const char *value, const char *origin, Err *err);

/* Applies every default of the schema whose key is not set yet. */
bool config_apply_defaults(Config *c, const ConfigKey *schema, Err *err);

/* Every key must be in the schema and parse as its type; otherwise
 * "origin: unknown key 'x'" or "origin: lr = 'abc' is not a number". */
bool config_validate(const Config *c, const ConfigKey *schema, Err *err);

/* The value or NULL. */
const char *config_get(const Config *c, const char *key);

/* Where the value came from, or NULL. */
const char *config_origin(const Config *c, const char *key);

/* Typed getters: false with a message naming the key and its origin when the
 * key is missing or does not parse. */
bool config_get_string(const Config *c, const char *key, const char **out, Err *err);
bool config_get_int(const Config *c, const char *key, int64_t *out, Err *err);
bool config_get_double(const Config *c, const char *key, double *out, Err *err);
bool config_get_bool(const Config *c, const char *key, bool *out, Err *err);
/* Up to max integers; *n receives the count. */
bool config_get_int_list(const Config *c, const char *key, int64_t *out, int max, int *n, Err *err);

/* Number of keys, and the i-th key in sorted order (for listings). */
size_t config_count(const Config *c);
const char *config_key_at(const Config *c, size_t i);

/* Checked decimal/exponent number parsing (the whole string, finite). */
bool config_parse_double(const char *s, double *out);

/* Canonical text: sorted `key=value\n` lines; malloc'd, owned by the caller. */
char *config_to_text(const Config *c, size_t *len, Err *err);

/* "string", "integer", "number", ... for messages and documentation. */
const char *config_type_name(ConfigType t);

#endif
