#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Reference for patch-rescale: scikit-image 0.16's rescale(img, 1/f,
anti_aliasing=True, order=1) rebuilt from SciPy and scikit-image pieces
(spec camelyon16.md 11), because the installed scikit-image (>= 0.19)
converts to float before the Gaussian.

  gaussian: scipy.ndimage.gaussian_filter on the uint8 array (truncating),
            sigma (f-1)/2 on the two spatial axes, mode 'mirror';
  warp:     skimage.transform.warp with the AffineTransform that 0.16's
            resize estimated from three corners, order 1, mode 'reflect';
  output:   rint(255 v) clipped to uint8.

Usage: skimage_rescale_ref.py FACTOR INPUT.ts OUTPUT.ts
Compares every record of OUTPUT (from patch-rescale) with two references:
- 'exact': the warp given the exact affine map (scale f, shift (f-1)/2):
  must match bit for bit (this checks the Gaussian's weights, truncation
  and accumulation order, and the bilinear arithmetic);
- 'skimage-0.16': the warp with the map 0.16 estimated by least squares,
  whose entries are off by ~1e-15, enough to flip some rint ties
  (x.5 exactly) on far pixels: at most 1 apart.
Prints the largest difference and the count of differing samples of each.
"""
import struct
import sys

import numpy as np
from scipy import ndimage
from skimage.transform import AffineTransform, warp


def read_stream(path):
    recs = []
    with open(path, 'rb') as f:
        data = f.read()
    pos = 0
    sizes = {1: 1, 2: 2, 3: 4, 4: 4, 5: 8, 6: 8}
    while pos < len(data):
        h = data[pos:pos + 56]
        assert h[:4] == b'ADTS', 'not a tensor stream'
        dtype, ndim = h[5], h[6]
        dims = struct.unpack('<4Q', h[8:40])[:ndim]
        payload, = struct.unpack('<Q', h[40:48])
        meta_len, = struct.unpack('<I', h[48:52])
        start = pos + 56 + meta_len
        assert dtype == 1 and payload == int(np.prod(dims)) * sizes[dtype]
        recs.append(np.frombuffer(data[start:start + payload], np.uint8).reshape(dims))
        pos = start + payload + 4
    return recs


def reference(img_hwc, f, exact):
    s = (f - 1) / 2
    g = ndimage.gaussian_filter(img_hwc, sigma=(s, s, 0), mode='mirror')
    assert g.dtype == np.uint8
    rows, cols = img_hwc.shape[0] // f, img_hwc.shape[1] // f
    factors = (img_hwc.shape[0] / rows, img_hwc.shape[1] / cols)
    src_corners = np.array([[1, 1], [1, rows], [cols, rows]]) - 1
    dst_corners = np.zeros(src_corners.shape, dtype=np.double)
    dst_corners[:, 0] = factors[1] * (src_corners[:, 0] + 0.5) - 0.5
    dst_corners[:, 1] = factors[0] * (src_corners[:, 1] + 0.5) - 0.5
    tform = AffineTransform()
    tform.estimate(src_corners, dst_corners)
    if exact:
        tform = AffineTransform(matrix=np.array([[f, 0, (f - 1) / 2], [0, f, (f - 1) / 2], [0, 0, 1.0]]))
    out = warp(g, tform, output_shape=(rows, cols, img_hwc.shape[2]), order=1, mode='reflect', clip=True)
    return np.clip(np.rint(out * 255), 0, 255).astype(np.uint8)


def main():
    f = int(sys.argv[1])
    ins, outs = read_stream(sys.argv[2]), read_stream(sys.argv[3])
    assert len(ins) == len(outs) and ins, 'record counts differ or are zero'
    ok = True
    for exact, limit in ((True, 0), (False, 1)):
        worst, differing, total = 0, 0, 0
        for a, b in zip(ins, outs):
            ref = reference(np.ascontiguousarray(a.transpose(1, 2, 0)), f, exact).transpose(2, 0, 1)
            assert ref.shape == b.shape, (ref.shape, b.shape)
            d = np.abs(ref.astype(int) - b.astype(int))
            worst = max(worst, int(d.max()))
            differing += int((d > 0).sum())
            total += d.size
        name = 'exact' if exact else 'skimage-0.16'
        print(f'factor {f} vs {name}: {len(ins)} records, max difference {worst}, '
              f'{differing} of {total} samples differ')
        ok = ok and worst <= limit
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
