/* SPDX-License-Identifier: Apache-2.0 */
/* config: key = value experiment configurations (see config.h). */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsv.h"

typedef struct Entry {
    char *key, *value, *origin;
} Entry;

struct Config {
    Entry *entries; /* sorted by key */
    size_t count, cap;
};

static const char *const type_names[CONFIG_TYPE_COUNT] = {"string", "integer", "number", "boolean",
                                                          "integer list", "string list"};
_Static_assert(sizeof type_names / sizeof type_names[0] == CONFIG_TYPE_COUNT, "config type names");

const char *config_type_name(ConfigType t) { return t >= 0 && t < CONFIG_TYPE_COUNT ? type_names[t] : "?"; }

Config *config_new(Err *err) { return xcalloc_array(1, sizeof(Config), err); }

void config_free(Config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->count; i++) {
        free(c->entries[i].key);
        free(c->entries[i].value);
        free(c->entries[i].origin);
    }
    free(c->entries);
    free(c);
}

// Binary search; returns the index of key or where it would go.
static size_t find(const Config *c, const char *key, bool *found)
{
    size_t lo = 0, hi = c->count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cmp = strcmp(c->entries[mid].key, key);
        if (cmp == 0) {
            *found = true;
            return mid;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static bool valid_key(const char *k)
{
    if (!*k)
        return false;
    for (; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') || *k == '_' ||
              *k == '.' || *k == '-'))
            return false;
    return true;
}

bool config_set(Config *c, const char *key, const char *value, const char *origin, Err *err)
{
    if (!valid_key(key))
        return err_set(err, "%s: invalid key '%s' (use letters, digits, '_', '.', '-')", origin, key);
    if (strchr(value, '\n'))
        return err_set(err, "%s: value of '%s' contains a newline", origin, key);
    bool found;
    size_t at = find(c, key, &found);
    char *v = xstrdup(value, err), *o = v ? xstrdup(origin, err) : NULL;
    if (!o) {
        free(v);
        return false;
    }
    if (found) {
        free(c->entries[at].value);
        free(c->entries[at].origin);
        c->entries[at].value = v;
        c->entries[at].origin = o;
        return true;
    }
    char *k = xstrdup(key, err);
    if (!k) {
        free(v);
        free(o);
        return false;
    }
    if (c->count == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 32;
        Entry *e = xrealloc_array(c->entries, cap, sizeof *e, err);
        if (!e) {
            free(k);
            free(v);
            free(o);
            return false;
        }
        c->entries = e;
        c->cap = cap;
    }
    memmove(c->entries + at + 1, c->entries + at, (c->count - at) * sizeof *c->entries);
    c->entries[at] = (Entry){k, v, o};
    c->count++;
    return true;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = 0;
    return s;
}

bool config_load_text(Config *c, const char *text, size_t len, const char *origin, Err *err)
{
    char *copy = xmalloc_array(len + 1, 1, err);
    if (!copy)
        return false;
    memcpy(copy, text, len);
    copy[len] = 0;
    // Keys seen in this text, to reject duplicates within one source.
    Config *seen = config_new(err);
    bool ok = seen != NULL;
    int line_no = 0;
    char *save = NULL;
    for (char *line = copy; ok && line; line = save) {
        save = strchr(line, '\n');
        if (save)
            *save++ = 0;
        line_no++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *s = trim(line);
        if (!*s)
            continue;
        char where[512];
        snprintf(where, sizeof where, "%s:%d", origin, line_no);
        char *eq = strchr(s, '=');
        if (!eq) {
            ok = err_set(err, "%s: expected 'key = value', got '%s'", where, s);
            break;
        }
        *eq = 0;
        char *key = trim(s), *value = trim(eq + 1);
        if (config_get(seen, key)) {
            ok = err_set(err, "%s: key '%s' is set twice (also at %s)", where, key, config_origin(seen, key));
            break;
        }
        ok = config_set(seen, key, value, where, err) && config_set(c, key, value, where, err);
    }
    config_free(seen);
    free(copy);
    return ok;
}

bool config_load_file(Config *c, const char *path, Err *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return err_set(err, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    bool ok = true;
    char chunk[8192];
    size_t got;
    while (ok && (got = fread(chunk, 1, sizeof chunk, fp)) > 0) {
        if (len + got > (1u << 20)) {
            ok = err_set(err, "%s: larger than 1 MiB: not a configuration file", path);
            break;
        }
        if (len + got > cap) {
            cap = 2 * (len + got);
            char *nb = xrealloc_array(buf, cap, 1, err);
            if (!nb) {
                ok = false;
                break;
            }
            buf = nb;
        }
        memcpy(buf + len, chunk, got);
        len += got;
    }
    if (ok && ferror(fp))
        ok = err_set(err, "%s: read error: %s", path, strerror(errno));
    fclose(fp);
    if (ok && memchr(buf ? buf : "", 0, len))
        ok = err_set(err, "%s: contains NUL bytes: not a configuration file", path);
    if (ok)
        ok = config_load_text(c, buf ? buf : "", len, path, err);
    free(buf);
    return ok;
}

const char *config_get(const Config *c, const char *key)
{
    bool found;
    size_t at = find(c, key, &found);
    return found ? c->entries[at].value : NULL;
}

const char *config_origin(const Config *c, const char *key)
{
    bool found;
    size_t at = find(c, key, &found);
    return found ? c->entries[at].origin : NULL;
}

size_t config_count(const Config *c) { return c->count; }

const char *config_key_at(const Config *c, size_t i) { return i < c->count ? c->entries[i].key : NULL; }

static bool parse_int(const char *s, int64_t *out) { return tsv_parse_int64(s, out); }

bool config_parse_double(const char *s, double *out)
{
    double v;
    if (!tsv_parse_double(s, &v) || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static bool parse_bool(const char *s, bool *out)
{
    if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "1")) {
        *out = true;
        return true;
    }
    if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "0")) {
        *out = false;
        return true;
    }
    return false;
}

static bool parse_int_list(const char *s, int64_t *out, int max, int *n)
{
    int count = 0;
    const char *p = s;
    while (*p) {
        char item[64];
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof item)
            return false;
        memcpy(item, p, len);
        item[len] = 0;
        int64_t v;
        if (!parse_int(trim(item), &v))
            return false;
        if (out) {
            if (count >= max)
                return false;
            out[count] = v;
        }
        count++;
        p += len;
        if (*p == ',')
            p++;
    }
    if (n)
        *n = count;
    return count > 0;
}

static bool type_ok(ConfigType t, const char *v)
{
    int64_t i;
    double d;
    bool b;
    switch (t) {
    case CONFIG_STRING:
    case CONFIG_STRING_LIST:
        return true;
    case CONFIG_INT:
        return parse_int(v, &i);
    case CONFIG_DOUBLE:
        return config_parse_double(v, &d);
    case CONFIG_BOOL:
        return parse_bool(v, &b);
    case CONFIG_INT_LIST:
        return parse_int_list(v, NULL, 0, NULL);
    default:
        return false;
    }
}

// A schema name matches key exactly, or "x.*" matches "x.<digits>".
static bool name_matches(const char *pattern, const char *key)
{
    size_t pl = strlen(pattern);
    if (pl >= 2 && strcmp(pattern + pl - 2, ".*") == 0) {
        if (strncmp(pattern, key, pl - 1) != 0)
            return false;
        const char *suffix = key + pl - 1;
        if (!*suffix)
            return false;
        for (; *suffix; suffix++)
            if (*suffix < '0' || *suffix > '9')
                return false;
        return true;
    }
    return strcmp(pattern, key) == 0;
}

static const ConfigKey *schema_find(const ConfigKey *schema, const char *key)
{
    for (const ConfigKey *k = schema; k->name; k++)
        if (name_matches(k->name, key))
            return k;
    return NULL;
}

bool config_validate(const Config *c, const ConfigKey *schema, Err *err)
{
    for (size_t i = 0; i < c->count; i++) {
        const Entry *e = &c->entries[i];
        const ConfigKey *k = schema_find(schema, e->key);
        if (!k)
            return err_set(err, "%s: unknown key '%s'", e->origin, e->key);
        if (!type_ok(k->type, e->value))
            return err_set(err, "%s: %s = '%s' is not a valid %s", e->origin, e->key, e->value,
                           config_type_name(k->type));
    }
    return true;
}

bool config_apply_defaults(Config *c, const ConfigKey *schema, Err *err)
{
    for (const ConfigKey *k = schema; k->name; k++)
        if (k->default_value && !strstr(k->name, ".*") && !config_get(c, k->name) &&
            !config_set(c, k->name, k->default_value, "default", err))
            return false;
    return true;
}

static bool get_raw(const Config *c, const char *key, const char **v, Err *err)
{
    *v = config_get(c, key);
    if (!*v)
        return err_set(err, "configuration key '%s' is not set", key);
    return true;
}

bool config_get_string(const Config *c, const char *key, const char **out, Err *err)
{
    return get_raw(c, key, out, err);
}

bool config_get_int(const Config *c, const char *key, int64_t *out, Err *err)
{
    const char *v;
    if (!get_raw(c, key, &v, err))
        return false;
    if (!parse_int(v, out))
        return err_set(err, "%s: %s = '%s' is not an integer", config_origin(c, key), key, v);
    return true;
}

bool config_get_double(const Config *c, const char *key, double *out, Err *err)
{
    const char *v;
    if (!get_raw(c, key, &v, err))
        return false;
    if (!config_parse_double(v, out))
        return err_set(err, "%s: %s = '%s' is not a number", config_origin(c, key), key, v);
    return true;
}

bool config_get_bool(const Config *c, const char *key, bool *out, Err *err)
{
    const char *v;
    if (!get_raw(c, key, &v, err))
        return false;
    if (!parse_bool(v, out))
        return err_set(err, "%s: %s = '%s' is not true or false", config_origin(c, key), key, v);
    return true;
}

bool config_get_int_list(const Config *c, const char *key, int64_t *out, int max, int *n, Err *err)
{
    const char *v;
    if (!get_raw(c, key, &v, err))
        return false;
    if (!parse_int_list(v, out, max, n))
        return err_set(err, "%s: %s = '%s' is not a list of at most %d integers", config_origin(c, key), key, v,
                       max);
    return true;
}

char *config_to_text(const Config *c, size_t *len, Err *err)
{
    size_t total = 1;
    for (size_t i = 0; i < c->count; i++)
        total += strlen(c->entries[i].key) + strlen(c->entries[i].value) + 2;
    char *out = xmalloc_array(total, 1, err);
    if (!out)
        return NULL;
    size_t at = 0;
    for (size_t i = 0; i < c->count; i++)
        at += (size_t)snprintf(out + at, total - at, "%s=%s\n", c->entries[i].key, c->entries[i].value);
    if (len)
        *len = at;
    return out;
}
