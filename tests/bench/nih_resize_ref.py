#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The original nih_resize.py loop (spec baselines-data.md 4.7), for timing
against nih-resize: open, convert('L'), resize((300, 300), BILINEAR), save.

    nih_resize_ref.py [-j N] OUTDIR IMAGE...

With -j N the images are split over N processes (the original ran one).
"""
import os
import sys
from multiprocessing import Pool

from PIL import Image


def convert(job):
    src, outdir = job
    im = Image.open(src)
    im = im.convert("L")
    im = im.resize((300, 300), Image.BILINEAR)
    im.save(os.path.join(outdir, os.path.basename(src)))


def main(argv):
    jobs = 1
    if argv[:1] == ["-j"]:
        jobs, argv = int(argv[1]), argv[2:]
    outdir, files = argv[0], argv[1:]
    os.makedirs(outdir, exist_ok=True)
    work = [(f, outdir) for f in files]
    if jobs == 1:
        for w in work:
            convert(w)
    else:
        with Pool(jobs) as pool:
            pool.map(convert, work, chunksize=8)


if __name__ == "__main__":
    main(sys.argv[1:])
