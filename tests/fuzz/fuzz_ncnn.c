/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the ncnn .param parser, the .bin reader and the shape
 * checks of squeezenet on arbitrary bytes (the .param text, a NUL byte, then
 * the .bin); small nets that load are also run. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ncnn.h"
#include "squeezenet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    const uint8_t *nul = memchr(data, 0, size);
    size_t param_bytes = nul ? (size_t)(nul - data) : size;
    const uint8_t *bin = nul ? nul + 1 : data + size;
    Err err = {0};
    NcnnNet *ncnn = ncnn_net_parse((const char *)data, param_bytes, bin, size - param_bytes - (nul ? 1 : 0),
                                   "fuzz.param", "fuzz.bin", &err);
    if (!ncnn)
        return 0;
    const char *tap = ncnn->layers[ncnn->layer_count - 1].name;
    SqueezeNet *net = squeezenet_new(ncnn, &err);
    int64_t chw[3];
    if (net && squeezenet_input_side(net) <= 16 && squeezenet_tap_shape(net, tap, chw, &err) &&
        chw[0] * chw[1] * chw[2] <= 65536) {
        int side = squeezenet_input_side(net);
        float *x = calloc((size_t)(3 * side * side), sizeof *x);
        float *y = malloc((size_t)(chw[0] * chw[1] * chw[2]) * sizeof *y);
        for (int i = 0; x && i < 3 * side * side; i++)
            x[i] = (float)(i % 7) - 3.0f;
        if (x && y)
            squeezenet_forward(net, y, x, 1, tap, &err);
        free(x);
        free(y);
    }
    squeezenet_free(net);
    return 0;
}
