/* SPDX-License-Identifier: Apache-2.0 */
/* write-sample-stream: writes a small stream with one record of several
 * dtypes and shapes, for checking readers in other languages (the NumPy
 * reader of data-layout.md). Usage: write-sample-stream OUT.ts */
#include <stdio.h>

#include "cli.h"
#include "tstream.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: write-sample-stream OUT.ts\n");
        return 2;
    }
    Err err = {0};
    TStreamWriter *w = tstream_create(argv[1], &err);
    TRecord rec;
    trecord_init(&rec);
    bool ok = w != NULL;
    int64_t d0[3] = {3, 5, 7};
    ok = ok && trecord_set_shape(&rec, TDTYPE_U8, 3, d0, &err);
    for (int i = 0; ok && i < 105; i++)
        ((unsigned char *)rec.data)[i] = (unsigned char)((i * 31 + 7) % 256);
    ok = ok && trecord_meta_set(&rec, "id", "sample-0", &err) && trecord_meta_set(&rec, "label", "0", &err) &&
         tstream_write(w, &rec, &err);
    int64_t d1[2] = {2, 3};
    trecord_meta_clear(&rec);
    ok = ok && trecord_set_shape(&rec, TDTYPE_F32, 2, d1, &err);
    for (int i = 0; ok && i < 6; i++)
        ((float *)rec.data)[i] = 0.5f * (float)i - 1.0f;
    ok = ok && trecord_meta_set(&rec, "note", "spaces and = signs are fine", &err) && tstream_write(w, &rec, &err);
    int64_t d2[1] = {4};
    trecord_meta_clear(&rec);
    ok = ok && trecord_set_shape(&rec, TDTYPE_U16, 1, d2, &err);
    if (ok) {
        unsigned short v[4] = {0, 1, 65535, 300};
        for (int i = 0; i < 4; i++)
            ((unsigned short *)rec.data)[i] = v[i];
    }
    ok = ok && tstream_write(w, &rec, &err);
    ok = ok && trecord_set_shape(&rec, TDTYPE_F64, 0, NULL, &err);
    if (ok)
        *(double *)rec.data = 2.5;
    ok = ok && tstream_write(w, &rec, &err);
    trecord_fini(&rec);
    if (ok)
        ok = tstream_writer_commit(w, &err);
    else
        tstream_writer_abort(w);
    if (!ok) {
        fprintf(stderr, "write-sample-stream: %s\n", err.msg);
        return 1;
    }
    return 0;
}
