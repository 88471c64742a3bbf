# A minimal reader of the tensor stream for the shell tests, written from the
# byte layout (56-byte header, metadata text, payload, CRC-32), independent of
# libcommon: yields (metadata dict, numpy array) per record.
import struct
import sys
import zlib

import numpy as np

DTYPES = {1: "<u1", 2: "<u2", 3: "<i4", 4: "<f4", 5: "<i8", 6: "<f8"}


def records(path):
    f = sys.stdin.buffer if path == "-" else open(path, "rb")
    while True:
        h = f.read(56)
        if not h:
            return
        assert len(h) == 56 and h[:4] == b"ADTS", "bad header"
        assert struct.unpack("<I", h[52:56])[0] == zlib.crc32(h[:52]), "bad header checksum"
        dtype, ndim = h[5], h[6]
        dims = struct.unpack("<4Q", h[8:40])[:ndim]
        payload, meta_len = struct.unpack("<QI", h[40:52])
        meta = f.read(meta_len)
        data = f.read(payload)
        crc = struct.unpack("<I", f.read(4))[0]
        assert crc == zlib.crc32(data, zlib.crc32(meta)), "bad payload checksum"
        kv = dict(line.split("=", 1) for line in meta.decode().split("\n") if line)
        yield kv, np.frombuffer(data, DTYPES[dtype]).reshape(dims)


def write(path, recs):
    """Writes (metadata dict, numpy array) pairs as a stream."""
    codes = {np.dtype(v): k for k, v in DTYPES.items()}
    with open(path, "wb") as f:
        for meta, a in recs:
            a = np.ascontiguousarray(a, a.dtype.newbyteorder("<"))
            m = "".join(f"{k}={v}\n" for k, v in meta.items()).encode()
            dims = list(a.shape) + [0] * (4 - a.ndim)
            h = b"ADTS" + bytes([1, codes[a.dtype], a.ndim, 0]) + struct.pack("<4QQI", *dims, a.nbytes, len(m))
            h += struct.pack("<I", zlib.crc32(h))
            data = a.tobytes()
            f.write(h + m + data + struct.pack("<I", zlib.crc32(data, zlib.crc32(m))))
