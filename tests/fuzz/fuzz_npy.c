/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the .npy index array reader on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    Err err = {0};
    int64_t *v = NULL;
    size_t n = 0;
    if (npy_parse_i64(data, size, "fuzz", &v, &n, &err)) {
        // Every element must be readable: the reader promised n of them.
        int64_t sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += v[i] & 1;
        (void)sum;
        free(v);
    }
    return 0;
}
