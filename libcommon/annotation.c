/* SPDX-License-Identifier: Apache-2.0 */
/*
 * annotation: ASAP XML reader (see annotation.h). The only file that calls
 * libxml2.
 */
#include "annotation.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "cli.h"

/* Largest annotation file read (real Camelyon16 files are below 10 MiB). */
#define ANNOTATION_MAX_FILE_BYTES ((size_t)256 << 20)

static bool is_named(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

// Tumour groups in the order the original lists them; -1 = exclusion,
// -2 = ignored.
static int group_rank(const char *group)
{
    if (strcmp(group, "Tumor") == 0) return 0;
    if (strcmp(group, "_0") == 0) return 1;
    if (strcmp(group, "_1") == 0) return 2;
    if (strcmp(group, "_2") == 0) return -1;
    return -2;
}

static void polygon_fini(Polygon *p)
{
    free(p->name);
    free(p->x);
    free(p->y);
    memset(p, 0, sizeof *p);
}

void annotation_fini(Annotations *ann)
{
    for (size_t i = 0; i < ann->count; i++)
        polygon_fini(&ann->polygons[i]);
    free(ann->polygons);
    for (size_t i = 0; i < ann->ignored_count; i++)
        free(ann->ignored[i]);
    free(ann->path);
    memset(ann, 0, sizeof *ann);
}

static void note_ignored(Annotations *ann, const char *group)
{
    ann->ignored_polygons++;
    for (size_t i = 0; i < ann->ignored_count; i++)
        if (strcmp(ann->ignored[i], group) == 0)
            return;
    if (ann->ignored_count < ANNOTATION_MAX_IGNORED) {
        char *copy = strdup(group);
        if (copy)
            ann->ignored[ann->ignored_count++] = copy;
    }
}

static bool coordinate(const xmlNode *c, const char *attr, int64_t *out, const char *name, const char *ann_name,
                       Err *err)
{
    xmlChar *v = xmlGetProp(c, (const xmlChar *)attr);
    double d;
    bool ok = v && cli_parse_double((const char *)v, &d) && fabs(d) < 9e15;
    if (ok)
        *out = (int64_t)nearbyint(d); // Python round(): half to even
    else
        err_set(err, "%s:%d: annotation '%s': coordinate %s %s%s%s", name, c->line, ann_name, attr,
                v ? "is not a number: '" : "is missing", v ? (const char *)v : "", v ? "'" : "");
    xmlFree(v);
    return ok;
}

// Reads one Annotation element into p (coordinates in document order).
static bool read_polygon(const xmlNode *a, Polygon *p, size_t *total_vertices, const char *name, Err *err)
{
    xmlChar *nm = xmlGetProp(a, (const xmlChar *)"Name");
    p->name = strdup(nm ? (const char *)nm : "");
    xmlFree(nm);
    if (!p->name)
        return err_set(err, "out of memory reading %s", name);
    size_t cap = 0;
    for (const xmlNode *cs = a->children; cs; cs = cs->next) {
        if (!is_named(cs, "Coordinates"))
            continue;
        for (const xmlNode *c = cs->children; c; c = c->next) {
            if (!is_named(c, "Coordinate"))
                continue;
            if (++*total_vertices > ANNOTATION_MAX_VERTICES)
                return err_set(err, "%s: more than %d vertices", name, ANNOTATION_MAX_VERTICES);
            if (p->n == cap) {
                cap = cap ? 2 * cap : 64;
                int64_t *nx = xrealloc_array(p->x, cap, sizeof *nx, err);
                if (!nx) return false;
                p->x = nx;
                int64_t *ny = xrealloc_array(p->y, cap, sizeof *ny, err);
                if (!ny) return false;
                p->y = ny;
            }
            if (!coordinate(c, "X", &p->x[p->n], name, p->name, err) ||
                !coordinate(c, "Y", &p->y[p->n], name, p->name, err))
                return false;
            p->n++;
        }
    }
    return true;
}

static bool parse_tree(const xmlNode *root, const char *name, Annotations *ann, Err *err)
{
    if (!root || !is_named(root, "ASAP_Annotations"))
        return err_set(err, "%s: not an ASAP annotation file (root element '%s', expected 'ASAP_Annotations')",
                       name, root ? (const char *)root->name : "none");
    // Two passes keep the original's order: tumour groups by rank, then
    // exclusions; within a group, document order.
    size_t total_vertices = 0;
    for (int pass = 0; pass <= 3; pass++) {
        int want = pass < 3 ? pass : -1;
        for (const xmlNode *as = root->children; as; as = as->next) {
            if (!is_named(as, "Annotations"))
                continue;
            for (const xmlNode *a = as->children; a; a = a->next) {
                if (!is_named(a, "Annotation"))
                    continue;
                xmlChar *g = xmlGetProp(a, (const xmlChar *)"PartOfGroup");
                int rank = group_rank(g ? (const char *)g : "");
                if (pass == 0 && rank == -2)
                    note_ignored(ann, g ? (const char *)g : "(none)");
                xmlFree(g);
                if (rank != want)
                    continue;
                if (ann->count == ANNOTATION_MAX_POLYGONS)
                    return err_set(err, "%s: more than %d annotations", name, ANNOTATION_MAX_POLYGONS);
                Polygon *np = xrealloc_array(ann->polygons, ann->count + 1, sizeof *np, err);
                if (!np)
                    return false;
                ann->polygons = np;
                Polygon *p = &ann->polygons[ann->count++];
                memset(p, 0, sizeof *p);
                p->cls = rank >= 0 ? ANNOTATION_TUMOUR : ANNOTATION_EXCLUSION;
                if (rank >= 0)
                    ann->tumour_count++;
                if (!read_polygon(a, p, &total_vertices, name, err))
                    return false;
            }
        }
    }
    return true;
}

bool annotation_parse(const char *xml, size_t bytes, const char *name, Annotations *ann, Err *err)
{
    memset(ann, 0, sizeof *ann);
    ann->path = strdup(name);
    if (!ann->path)
        return err_set(err, "out of memory reading %s", name);
    if (bytes > (size_t)INT32_MAX) {
        err_set(err, "%s: file too large (%zu bytes)", name, bytes);
        annotation_fini(ann);
        return false;
    }
    xmlInitParser();
    xmlResetLastError();
    xmlDocPtr doc = xmlReadMemory(xml, (int)bytes, name, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        const xmlError *e = xmlGetLastError();
        if (e && e->message) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", e->message);
            msg[strcspn(msg, "\n")] = 0;
            err_set(err, "%s:%d: malformed XML: %s", name, e->line, msg);
        } else {
            err_set(err, "%s: malformed XML", name);
        }
        annotation_fini(ann);
        return false;
    }
    bool ok = parse_tree(xmlDocGetRootElement(doc), name, ann, err);
    xmlFreeDoc(doc);
    if (!ok)
        annotation_fini(ann);
    return ok;
}

bool annotation_read(const char *path, Annotations *ann, Err *err)
{
    memset(ann, 0, sizeof *ann);
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(err, "%s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    bool ok = true;
    for (;;) {
        if (len == cap) {
            if (cap >= ANNOTATION_MAX_FILE_BYTES) {
                ok = err_set(err, "%s: larger than %zu bytes", path, ANNOTATION_MAX_FILE_BYTES);
                break;
            }
            cap = cap ? 2 * cap : 65536;
            char *nb = xrealloc_array(buf, cap, 1, err);
            if (!nb) {
                ok = false;
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                ok = err_set(err, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (ok)
        ok = annotation_parse(buf, len, path, ann, err);
    free(buf);
    return ok;
}

bool annotation_check_bounds(const Annotations *ann, int64_t width, int64_t height, Err *err)
{
    for (size_t i = 0; i < ann->count; i++) {
        const Polygon *p = &ann->polygons[i];
        for (size_t k = 0; k < p->n; k++)
            if (p->x[k] < 0 || p->y[k] < 0 || p->x[k] > width || p->y[k] > height)
                return err_set(err, "%s: annotation '%s' vertex (%lld, %lld) lies outside the slide (%lld x %lld)",
                               ann->path, p->name, (long long)p->x[k], (long long)p->y[k], (long long)width,
                               (long long)height);
    }
    return true;
}
