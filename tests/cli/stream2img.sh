# stream2img: records to image files; round trips through img2stream, every
# format, --range for float maps, file names from ids, bad input.
. "$(dirname "$0")/../lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
export PYTHONPATH="$TOP/tests${PYTHONPATH:+:$PYTHONPATH}"
PY=/usr/bin/python3
$PY -c 'import numpy, PIL' 2>/dev/null || skip "python3-numpy or python3-pil is not installed"

check_help stream2img
expect_fail 2 "no output folder" stream2img x.ts
expect_fail 2 "format takes png" stream2img --format gif -o "$T/o" x.ts
expect_fail 2 "quality takes 1..100" stream2img --format jpeg --quality 0 -o "$T/o" x.ts
expect_fail 2 "quality applies to --format jpeg" stream2img --quality 90 -o "$T/o" x.ts
expect_fail 2 "range takes LO,HI" stream2img --range 1 -o "$T/o" x.ts

mkdir -p "$T/img"
$PY - "$T/img" <<'PY'
import sys
import numpy as np
from PIL import Image
d = sys.argv[1]
rng = np.random.default_rng(9)
y, x = np.mgrid[0:40, 0:48]
smooth = np.stack([(x * 4 + y * 2), (x * 2 + y * 5), (200 - x * 3)], -1).clip(0, 255).astype(np.uint8)
Image.fromarray(smooth).save(f"{d}/smooth.png")
Image.fromarray(rng.integers(0, 256, (21, 30, 3), dtype=np.uint8)).save(f"{d}/rgb.png")
Image.fromarray(rng.integers(0, 256, (17, 12, 4), dtype=np.uint8)).save(f"{d}/rgba.png")
Image.fromarray(rng.integers(0, 256, (9, 14), dtype=np.uint8)).save(f"{d}/grey.png")
Image.fromarray(rng.integers(0, 65536, (8, 6)).astype(np.uint16), "I;16").save(f"{d}/grey16.png")
PY
img2stream "$T/img" -o "$T/in.ts" || fail "img2stream"

# PNG and TIFF keep every sample (16-bit and alpha too); BMP keeps 8-bit.
for fmt in png tiff; do
  stream2img -f $fmt -o "$T/$fmt" "$T/in.ts" || fail "stream2img --format $fmt"
done
stream2img -o "$T/png-stdin" < "$T/in.ts" || fail "stream2img from stdin"
diff -r "$T/png" "$T/png-stdin" >/dev/null || fail "file and stdin outputs differ"
stream2img -j 1 -o "$T/j1" "$T/in.ts" && stream2img -j 2 -o "$T/j2" "$T/in.ts" && diff -r "$T/j1" "$T/j2" >/dev/null ||
  fail "-j 1 and -j 2 outputs differ"
ok "file and stdin, -j 1 and -j 2 give the same files"
img2stream --rgb "$T/img/rgb.png" "$T/img/grey.png" | stream2img -f bmp -o "$T/bmp" || fail "stream2img bmp"
stream2img -f jpeg -q 95 -o "$T/jpeg" "$T/in.ts" 2>"$T/err"
grep -q "JPEG takes 8-bit grey or RGB" "$T/err" || fail "JPEG of RGBA was not refused"
img2stream "$T/img/smooth.png" | stream2img -f jpeg -q 95 -o "$T/jpeg" || fail "stream2img jpeg"
$PY - "$T" <<'PY' || fail "written images differ"
import sys
import numpy as np
from PIL import Image
t = sys.argv[1]
for name in ["smooth", "rgb", "rgba", "grey", "grey16"]:
    want = np.asarray(Image.open(f"{t}/img/{name}.png"))
    for fmt, ext in [("png", "png"), ("tiff", "tiff")]:
        got = np.asarray(Image.open(f"{t}/{fmt}/{name}.{ext}"))
        assert got.shape == want.shape and (got.astype(np.int64) == want).all(), (fmt, name)
for name in ["rgb", "grey"]:
    want = np.asarray(Image.open(f"{t}/img/{name}.png").convert("RGB"))
    assert (np.asarray(Image.open(f"{t}/bmp/{name}.bmp")) == want).all(), name
want = np.asarray(Image.open(f"{t}/img/smooth.png")).astype(int)
got = np.asarray(Image.open(f"{t}/jpeg/smooth.jpg")).astype(int)
err = np.abs(got - want)
assert err.mean() < 2 and err.max() < 16, (err.mean(), err.max())
PY
ok "png -> stream -> png/tiff identical (8/16-bit, alpha), bmp identical, jpeg within tolerance"

# Float maps with --range, ids made safe, repeated ids, records without id.
$PY - "$T/maps.ts" <<'PY'
import sys
import numpy as np, tsread
rng = np.random.default_rng(4)
maps = [rng.uniform(-1.2, 1.2, (1, 5, 7)).astype(np.float32) for _ in range(5)]
ids = [{"id": "../up"}, {"id": ".hidden"}, {"id": "a/b"}, {"id": "a/b"}, {}]
tsread.write(sys.argv[1], zip(ids, maps))
np.save(sys.argv[1] + ".npy", np.stack(maps))
PY
stream2img --range -1,1 -o "$T/maps" "$T/maps.ts" || fail "--range"
(cd "$T/maps" && ls -A) > "$T/names"
printf '%s\n' 4.png _hidden.png _._up.png a_b-3.png a_b.png | sort > "$T/want"
sort "$T/names" | cmp -s - "$T/want" || fail "file names: $(cat "$T/names" | tr '\n' ' ')"
$PY - "$T" <<'PY' || fail "--range mapping"
import sys
import numpy as np
from PIL import Image
t = sys.argv[1]
maps = np.load(f"{t}/maps.ts.npy")
for i, name in enumerate(["_._up", "_hidden", "a_b", "a_b-3", "4"]):
    want = np.clip(np.floor((maps[i, 0] + 1) / 2 * 255 + 0.5), 0, 255)
    assert (np.asarray(Image.open(f"{t}/maps/{name}.png")) == want).all(), name
PY
ok "--range maps LO..HI to 0..255; ids sanitised, repeats and missing ids get the index"

# Bad input: a float record without --range, a truncated stream.
expect_fail 1 "f32 record needs --range LO,HI.*maps.ts, record 0" stream2img -o "$T/bad" "$T/maps.ts"
[ -z "$(ls -A "$T/bad")" ] || fail "files written for a bad record"
head -c 1000 "$T/in.ts" > "$T/cut.ts"
expect_fail 1 "cut.ts:record [0-9]+: truncated" stream2img -o "$T/cut" "$T/cut.ts"
