#!/usr/bin/env bash
# The NumPy reader printed in data-layout.md reads what the C code writes.
. "$(dirname "$0")/../lib.sh"
/usr/bin/python3 -c 'import numpy' 2>/dev/null || skip "python3-numpy is not installed"
top=$(cd "$(dirname "$0")/../.." && pwd)
# Extract the reader: the first ```python block of data-layout.md.
awk '/^```python/{on=1; next} /^```/{if(on) exit} on' "$top/data-layout.md" > "$T/reader.py"
[ -s "$T/reader.py" ] || fail "no python block in data-layout.md"
build/gen/write-sample-stream "$T/sample.ts" 2>/dev/null || "$top/build/gen/write-sample-stream" "$T/sample.ts" ||
  fail "write-sample-stream failed"
cat > "$T/check.py" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from reader import read_stream
import numpy as np
recs = list(read_stream(sys.argv[2]))
assert len(recs) == 4, len(recs)
a, m = recs[0]
assert a.dtype == np.uint8 and a.shape == (3, 5, 7), (a.dtype, a.shape)
assert m == {'id': 'sample-0', 'label': '0'}, m
assert int(a.sum()) == sum((i * 31 + 7) % 256 for i in range(105)), a.sum()
b, m = recs[1]
assert b.dtype == np.float32 and b.shape == (2, 3), (b.dtype, b.shape)
assert np.allclose(b.ravel(), [0.5 * i - 1 for i in range(6)])
assert m['note'] == 'spaces and = signs are fine', m
c, m = recs[2]
assert c.dtype == np.uint16 and c.shape == (4,) and list(c) == [0, 1, 65535, 300]
d, m = recs[3]
assert d.shape == () and d.dtype == np.float64 and float(d) == 2.5 and m == {}
print('numpy reader ok')
PY
/usr/bin/python3 "$T/check.py" "$T" "$T/sample.ts" || fail "numpy reader disagrees with the C writer"
ok "numpy reader of data-layout.md reads the C stream"
