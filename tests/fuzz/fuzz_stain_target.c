/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target: stain_target_parse, the reader of stain target files
 * (stainnorm --target-stain). Any input must give a target or an error,
 * never a crash; an accepted target must save and parse back unchanged.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stain.h"

/* Field by field: the struct has padding after `method`. */
static int same_target(const StainTarget *a, const StainTarget *b)
{
    return a->method == b->method && memcmp(a->stain, b->stain, sizeof a->stain) == 0 &&
           memcmp(a->max_conc, b->max_conc, sizeof a->max_conc) == 0 &&
           memcmp(a->lab_mean, b->lab_mean, sizeof a->lab_mean) == 0 &&
           memcmp(a->lab_std, b->lab_std, sizeof a->lab_std) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > STAIN_TARGET_MAX_BYTES)
        return 0;
    StainTarget t;
    Err err = {0};
    if (!stain_target_parse(&t, (const char *)data, size, "fuzz", &err))
        return 0;
    char text[1024];
    int n = snprintf(text, sizeof text,
                     "adkit-stain 1\nmethod %s\nstain_h %.17g %.17g %.17g\nstain_e %.17g %.17g %.17g\n"
                     "max_conc %.17g %.17g\nlab_mean %.17g %.17g %.17g\nlab_std %.17g %.17g %.17g\n",
                     stain_method_name(t.method), t.stain[0][0], t.stain[0][1], t.stain[0][2], t.stain[1][0],
                     t.stain[1][1], t.stain[1][2], t.max_conc[0], t.max_conc[1], t.lab_mean[0], t.lab_mean[1],
                     t.lab_mean[2], t.lab_std[0], t.lab_std[1], t.lab_std[2]);
    StainTarget back;
    if (n <= 0 || (size_t)n >= sizeof text || !stain_target_parse(&back, text, (size_t)n, "again", &err) ||
        !same_target(&t, &back))
        abort();
    return 0;
}
