#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Python reference of the Camelyon16 Vahadane stain normalisation (spec
camelyon16.md 8.2-8.5), for benchmarking stainnorm.

SPAMS is not packaged for Debian; its closest Debian equivalent stands in:
scikit-learn's online dictionary learning (MiniBatchDictionaryLearning,
partial_fit on shuffled mini-batches of 1024 not-white pixels) with positive
code and dictionary (coordinate-descent coding, as sklearn refuses positive
LARS; alpha 0.1 = SPAMS' lambda1 under sklearn's scaling). Like SPAMS'
trainDL(iter=-1) in the original, learning stops after 1 s of wall-clock
time (at least one mini-batch). The concentrations use
the exact 2-atom non-negative lasso (lambda 0.01) vectorised in numpy, which
is what SPAMS' lasso computes. The luminosity mask uses the float Lab
formula (OpenCV is not installed).

So, like the original, this takes at least 1 s per patch whatever the
machine; the script reports its measured time per patch (one dictionary
learned per patch, as the original did).

Usage: stainnorm_ref.py TARGET.ts PATCHES.ts  -> prints 'seconds_per_patch N'
       stainnorm_ref.py --compare TARGET.ts PATCHES.ts NORMALISED.ts
The second form learns with a fixed 40 mini-batches instead of the time
limit (so it does not depend on machine load), normalises PATCHES to TARGET
and compares with NORMALISED (stainnorm's output): prints the mean and
largest absolute difference and exits 1 unless mean <= 0.5 and max <= 4
(tests/cli/stainnorm.sh runs it).
"""
import struct
import sys
import time
import warnings

import numpy as np
from sklearn.decomposition import MiniBatchDictionaryLearning


def read_stream(path):
    with open(path, 'rb') as f:
        data = f.read()
    pos, recs = 0, []
    while pos < len(data):
        h = data[pos:pos + 56]
        assert h[:4] == b'ADTS' and h[5] == 1, 'need u8 records'
        dims = struct.unpack('<4Q', h[8:40])[:h[6]]
        payload, = struct.unpack('<Q', h[40:48])
        meta_len, = struct.unpack('<I', h[48:52])
        start = pos + 56 + meta_len
        recs.append(np.frombuffer(data[start:start + payload], np.uint8).reshape(dims).transpose(1, 2, 0))
        pos = start + payload + 4
    return recs


def standardize_brightness(img):
    p = np.percentile(img, 90)
    return np.clip(img * 255.0 / p, 0, 255).astype(np.uint8)


def not_white_mask(img, thresh=0.8):
    c = img / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    y = lin[..., 0] * 0.212671 + lin[..., 1] * 0.715160 + lin[..., 2] * 0.072169
    L = np.where(y > 0.008856, 116 * np.cbrt(y) - 16, 903.3 * y)
    return (np.rint(L * 255 / 100) / 255.0 < thresh).reshape(-1)


def optical_density(img):
    img = img.copy()
    img[img == 0] = 1
    return -np.log(img / 255.0)


FIXED_BATCHES = None  # None: the 1-second limit of the original


def stain_matrix(img):
    od = optical_density(img).reshape(-1, 3)
    x = od[not_white_mask(img)]
    rng = np.random.RandomState(0)
    order = rng.permutation(len(x))
    model = MiniBatchDictionaryLearning(n_components=2, alpha=0.1, batch_size=1024, positive_dict=True,
                                        positive_code=True, fit_algorithm='cd', random_state=0)
    start, k = time.perf_counter(), 0
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        while (k < FIXED_BATCHES if FIXED_BATCHES else k == 0 or time.perf_counter() - start < 1.0):
            batch = x[order[(k * 1024) % len(x):][:1024]]
            model.partial_fit(batch)
            k += 1
    d = model.components_
    if d[0, 0] < d[1, 0]:
        d = d[[1, 0], :]
    return d / np.linalg.norm(d, axis=1)[:, None]


def concentrations(img, s, lam=0.01):
    od = optical_density(img).reshape(-1, 3)
    g = od @ s.T
    c = float(s[0] @ s[1])
    a = np.zeros_like(g)
    both = np.linalg.solve(np.array([[1, c], [c, 1]]), (g - lam).T).T
    one0 = np.maximum(g[:, 0] - lam, 0)
    one1 = np.maximum(g[:, 1] - lam, 0)
    use0 = (g[:, 0] >= g[:, 1]) & (g[:, 1] - c * one0 <= lam)
    use1 = (g[:, 1] > g[:, 0]) & (g[:, 0] - c * one1 <= lam)
    full = ~use0 & ~use1 & (both > 0).all(axis=1)
    a[use0, 0] = one0[use0]
    a[use1, 1] = one1[use1]
    a[full] = both[full]
    return a


def transform(img, target_s):
    j = standardize_brightness(img)
    s = stain_matrix(j)
    c = concentrations(j, s)
    return (255 * np.exp(-c @ target_s)).reshape(img.shape).astype(np.uint8)


def compare(target_path, patches_path, ours_path):
    global FIXED_BATCHES
    FIXED_BATCHES = 40
    target, patches, ours = read_stream(target_path)[0], read_stream(patches_path), read_stream(ours_path)
    assert len(patches) == len(ours) and patches, 'record counts differ or are zero'
    target_s = stain_matrix(standardize_brightness(target))
    worst, total, count = 0, 0.0, 0
    for p, o in zip(patches, ours):
        d = np.abs(transform(p, target_s).astype(int) - o.astype(int))
        worst, total, count = max(worst, int(d.max())), total + float(d.sum()), count + d.size
    mean = total / count
    print(f'stainnorm vs Python reference: mean abs difference {mean:.3f}, max {worst}')
    sys.exit(0 if mean <= 0.5 and worst <= 4 else 1)


def main():
    if sys.argv[1] == '--compare':
        compare(*sys.argv[2:5])
    target, patches = read_stream(sys.argv[1])[0], read_stream(sys.argv[2])
    target_s = stain_matrix(standardize_brightness(target))
    t0 = time.perf_counter()
    for p in patches:
        transform(p, target_s)
    dt = (time.perf_counter() - t0) / len(patches)
    print(f'seconds_per_patch {dt:.4f}')


if __name__ == '__main__':
    main()
