/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of annotation: ASAP XML groups, order, rounding, bad files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "annotation.h"

static const char good[] =
    "<?xml version=\"1.0\"?>\n<ASAP_Annotations>\n  <Annotations>\n"
    "    <Annotation Name=\"A\" Type=\"Polygon\" PartOfGroup=\"_1\" Color=\"#F4FA58\"><Coordinates>\n"
    "      <Coordinate Order=\"0\" X=\"10.5\" Y=\"11.5\" /><Coordinate Order=\"1\" X=\"20.4999\" Y=\"2.5001\" />\n"
    "      <Coordinate Order=\"2\" X=\"1e2\" Y=\"-0.5\" /></Coordinates></Annotation>\n"
    "    <Annotation Name=\"B\" Type=\"Spline\" PartOfGroup=\"_2\"><Coordinates>\n"
    "      <Coordinate Order=\"1\" X=\"5\" Y=\"6\" /><Coordinate Order=\"0\" X=\"7\" Y=\"8\" /></Coordinates></Annotation>\n"
    "    <Annotation Name=\"C\" Type=\"Polygon\" PartOfGroup=\"Exclusion\"><Coordinates>\n"
    "      <Coordinate Order=\"0\" X=\"1\" Y=\"1\" /></Coordinates></Annotation>\n"
    "    <Annotation Name=\"D\" Type=\"Polygon\" PartOfGroup=\"Tumor\"><Coordinates>\n"
    "      <Coordinate Order=\"0\" X=\"3\" Y=\"4\" /></Coordinates></Annotation>\n"
    "    <Annotation Name=\"E\" Type=\"Dot\" PartOfGroup=\"_0\"><Coordinates>\n"
    "      <Coordinate Order=\"0\" X=\"9\" Y=\"9\" /></Coordinates></Annotation>\n"
    "    <Annotation Name=\"F\" Type=\"Polygon\" PartOfGroup=\"metastases\"><Coordinates>\n"
    "      <Coordinate Order=\"0\" X=\"1\" Y=\"1\" /></Coordinates></Annotation>\n"
    "    <Annotation Name=\"G\" Type=\"Polygon\" PartOfGroup=\"Exclusion\"><Coordinates>\n"
    "      <Coordinate Order=\"0\" X=\"1\" Y=\"1\" /></Coordinates></Annotation>\n"
    "  </Annotations>\n  <AnnotationGroups><Group Name=\"_0\" PartOfGroup=\"None\" Color=\"#ff0000\">"
    "<Attributes /></Group></AnnotationGroups>\n</ASAP_Annotations>\n";

static void test_groups_order_rounding(void **state)
{
    (void)state;
    Annotations a;
    Err err = {0};
    assert_true(annotation_parse(good, sizeof good - 1, "t.xml", &a, &err));
    // Tumour first in group order Tumor, _0, _1; then exclusions.
    assert_int_equal(a.count, 4);
    assert_int_equal(a.tumour_count, 3);
    assert_string_equal(a.polygons[0].name, "D");
    assert_string_equal(a.polygons[1].name, "E");
    assert_string_equal(a.polygons[2].name, "A");
    assert_string_equal(a.polygons[3].name, "B");
    assert_int_equal(a.polygons[3].cls, ANNOTATION_EXCLUSION);
    // Half to even: 10.5 -> 10, 11.5 -> 12, -0.5 -> 0; 1e2 parses.
    const Polygon *p = &a.polygons[2];
    assert_int_equal(p->n, 3);
    assert_int_equal(p->x[0], 10);
    assert_int_equal(p->y[0], 12);
    assert_int_equal(p->x[1], 20);
    assert_int_equal(p->y[1], 3);
    assert_int_equal(p->x[2], 100);
    assert_int_equal(p->y[2], 0);
    // Document order, not the Order attribute.
    assert_int_equal(a.polygons[3].x[0], 5);
    // Ignored groups, each named once.
    assert_int_equal(a.ignored_count, 2);
    assert_int_equal(a.ignored_polygons, 3);
    assert_string_equal(a.ignored[0], "Exclusion");
    assert_string_equal(a.ignored[1], "metastases");
    assert_true(annotation_check_bounds(&a, 100, 100, &err));
    assert_false(annotation_check_bounds(&a, 99, 100, &err));
    assert_non_null(strstr(err.msg, "t.xml: annotation 'A' vertex (100, 0) lies outside the slide (99 x 100)"));
    annotation_fini(&a);
}

static void expect_error(const char *xml, const char *want)
{
    Annotations a;
    Err err = {0};
    assert_false(annotation_parse(xml, strlen(xml), "bad.xml", &a, &err));
    if (!strstr(err.msg, want))
        fail_msg("'%s' does not contain '%s'", err.msg, want);
    assert_int_equal(a.count, 0);
    annotation_fini(&a);
}

static void test_bad_files(void **state)
{
    (void)state;
    expect_error("<ASAP_Annotations><Annotations>", "bad.xml:1: malformed XML");
    expect_error("", "bad.xml");
    expect_error("<?xml version=\"1.0\"?><Other/>", "not an ASAP annotation file (root element 'Other'");
    expect_error("<ASAP_Annotations><Annotations><Annotation Name=\"Q\" PartOfGroup=\"_0\"><Coordinates>"
                 "<Coordinate X=\"1.5x\" Y=\"2\"/></Coordinates></Annotation></Annotations></ASAP_Annotations>",
                 "bad.xml:1: annotation 'Q': coordinate X is not a number: '1.5x'");
    expect_error("<ASAP_Annotations><Annotations><Annotation Name=\"Q\" PartOfGroup=\"_2\"><Coordinates>"
                 "<Coordinate X=\"1\"/></Coordinates></Annotation></Annotations></ASAP_Annotations>",
                 "coordinate Y is missing");
    Annotations a;
    Err err = {0};
    assert_false(annotation_read("/nonexistent/x.xml", &a, &err));
    assert_non_null(strstr(err.msg, "/nonexistent/x.xml: No such file"));
}

static void test_empty_is_fine(void **state)
{
    (void)state;
    const char *xml = "<ASAP_Annotations><Annotations/><AnnotationGroups/></ASAP_Annotations>";
    Annotations a;
    Err err = {0};
    assert_true(annotation_parse(xml, strlen(xml), "e.xml", &a, &err));
    assert_int_equal(a.count, 0);
    annotation_fini(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_groups_order_rounding),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_empty_is_fine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
