/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the PyTorch checkpoint reader (both containers) on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "torchload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    NamedArrays w = {0};
    Err err = {0};
    if (torch_load_buffer(data, size, "fuzz", &w, &err)) {
        // Every array must be fully readable.
        volatile float acc = 0;
        for (size_t i = 0; i < w.count; i++)
            for (int64_t k = 0; k < named_array_elements(&w.items[i]); k++)
                acc += w.items[i].data[k];
        (void)acc;
    }
    named_arrays_fini(&w);
    return 0;
}
