/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the ASAP XML annotation reader and the label mask
 * rasteriser on whatever polygons it accepts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "annotation.h"
#include "labelmask.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 65536)
        return 0;
    Annotations ann;
    Err err = {0};
    if (!annotation_parse((const char *)data, size, "fuzz.xml", &ann, &err))
        return 0;
    // A small slide keeps each input cheap; bounds are checked first, as
    // the tool does.
    enum { W0 = 256, H0 = 192, W = 16, H = 12 };
    static uint8_t labels[W * H];
    if (annotation_check_bounds(&ann, W0, H0, &err)) {
        labelmask_render(labels, &ann, W0, H0, W, H, 4, LABELMASK_BICUBIC, &err);
        labelmask_render(labels, &ann, W0, H0, W, H, 1, LABELMASK_NEAREST, &err);
    }
    annotation_fini(&ann);
    return 0;
}
