/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the tensor stream record reader on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 65536)
        return 0;
    FILE *fp = fmemopen((void *)data, size, "rb");
    if (!fp)
        return 0;
    Err err = {0};
    TStreamReader *r = tstream_open_stream(fp, "fuzz", &err);
    // A small payload cap keeps each input cheap; the reader must enforce it.
    tstream_set_max_payload(r, 1 << 20);
    TRecord rec;
    trecord_init(&rec);
    while (tstream_read(r, &rec, &err) == 1) {
        size_t pos = 0;
        const char *k, *v;
        while (trecord_meta_next(&rec, &pos, &k, &v))
            (void)trecord_meta_get(&rec, k);
    }
    trecord_fini(&rec);
    tstream_close(r);
    fclose(fp);
    return 0;
}
