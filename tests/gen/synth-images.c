/* SPDX-License-Identifier: Apache-2.0 */
/* synth-images: writes N synthetic u8 images (C, H, W) to a stream, smooth
 * gradients plus seeded noise, with id img_<i> and label i % 2, for tests
 * and benchmarks of image tools.
 * Usage: synth-images N C H W SEED [OUT.ts]   (OUT defaults to stdout) */
#include <stdio.h>

#include "cli.h"
#include "rng.h"
#include "tstream.h"

int main(int argc, char **argv)
{
    int64_t v[5];
    if (argc < 6 || argc > 7) {
        fprintf(stderr, "usage: synth-images N C H W SEED [OUT.ts]\n");
        return 2;
    }
    for (int i = 0; i < 5; i++)
        if (!cli_parse_int(argv[i + 1], &v[i]) || v[i] < (i == 0 || i == 4 ? 0 : 1) || (i > 0 && i < 4 && v[i] > 65536)) {
            fprintf(stderr, "synth-images: bad number '%s'\n", argv[i + 1]);
            return 2;
        }
    Err err = {0};
    TStreamWriter *w = tstream_create(argc == 7 ? argv[6] : "-", &err);
    TRecord rec;
    trecord_init(&rec);
    Rng rng;
    rng_init(&rng, (uint64_t)v[4]);
    bool ok = w && trecord_set_shape(&rec, TDTYPE_U8, 3, (int64_t[]){v[1], v[2], v[3]}, &err);
    for (int64_t n = 0; ok && n < v[0]; n++) {
        unsigned char *px = rec.data;
        for (int64_t c = 0; c < v[1]; c++)
            for (int64_t y = 0; y < v[2]; y++)
                for (int64_t x = 0; x < v[3]; x++) {
                    int64_t base = (x * 255 / v[3] + y * 97 / v[2] + c * 60 + n * 37) % 200;
                    *px++ = (unsigned char)(base + (int64_t)rng_below(&rng, 56));
                }
        trecord_meta_clear(&rec);
        ok = trecord_meta_setf(&rec, &err, "id", "img_%lld", (long long)n) &&
             trecord_meta_setf(&rec, &err, "label", "%lld", (long long)(n % 2)) && tstream_write(w, &rec, &err);
    }
    trecord_fini(&rec);
    if (w && ok)
        ok = tstream_writer_commit(w, &err);
    else if (w)
        tstream_writer_abort(w);
    if (!ok)
        fprintf(stderr, "synth-images: %s\n", err.msg);
    return ok ? 0 : 1;
}
