#!/usr/bin/python3
# Reference for bench_slide2patches.sh: the original's script 3 (normal
# patches) written from spec camelyon16.md 2.2-2.4 and 5 with the original's
# libraries (openslide-python, NumPy, scikit-image; SciPy's binary morphology
# with OpenCV's border values stands in for cv2, which is not installed).
# Patches are written as raw planar RGB bytes instead of JPEG files, like the
# C tool's stream, so both sides do the same work.
#   slide2patches_ref.py SLIDE OUT [MAX_PATCHES [SEED]]
import sys

import numpy as np
import openslide
from scipy import ndimage
from skimage.color import rgb2gray
from skimage.filters import threshold_otsu
from skimage.measure import block_reduce


def cell_mask(slide):
    w8, h8 = slide.dimensions[0] // 256, slide.dimensions[1] // 256
    img = np.array(slide.read_region((0, 0), 8, (w8, h8)).convert("RGB"))
    gray = rgb2gray(img)
    try:
        mask = (gray <= threshold_otsu(gray)).astype(np.uint8)
    except ValueError:
        return np.zeros(((h8 + 2) // 3, (w8 + 2) // 3), np.uint8)
    if h8 > 700:
        mask[:100] = 0
        mask[-100:] = 0
        mask[:, :50] = 0
    else:
        mask[:30] = 0
        mask[-30:] = 0
        mask[:, :30] = 0
        mask[:, -30:] = 0
    k = np.ones((3, 3), bool)
    mask = ndimage.binary_erosion(mask, k, border_value=1)
    mask = ndimage.binary_dilation(mask, k, border_value=0).astype(np.uint8)
    return (block_reduce(mask, (3, 3), np.mean) == 1).astype(np.uint8)


def main():
    path, out = sys.argv[1], sys.argv[2]
    n_max = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    rng = np.random.default_rng(int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    slide = openslide.OpenSlide(path)
    cells = cell_mask(slide)
    rows, cols = np.nonzero(cells)
    cand = list(zip(cols, rows))
    rng.shuffle(cand)
    with open(out, "wb") as f:
        for c, r in cand[:n_max]:
            patch = np.array(slide.read_region((int(c) * 768, int(r) * 768), 0, (768, 768)).convert("RGB"))
            f.write(np.ascontiguousarray(patch.transpose(2, 0, 1)).tobytes())
    print(min(n_max, len(cand)))


if __name__ == "__main__":
    main()
