# img2stream: images to a stream, checked against Pillow's decoding and
# conversions; inputs as arguments, folders, lists; bad files.
. "$(dirname "$0")/../lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
export PYTHONPATH="$TOP/tests${PYTHONPATH:+:$PYTHONPATH}"
PY=/usr/bin/python3
$PY -c 'import numpy, PIL' 2>/dev/null || skip "python3-numpy or python3-pil is not installed"

check_help img2stream
expect_fail 2 "exclude each other" img2stream --grey --rgb x.png
expect_fail 2 "--depth takes 8" img2stream --depth 4 x.png
expect_fail 2 "not both" img2stream --list l.txt x.png

mkdir -p "$T/img"
$PY - "$T/img" <<'PY'
import sys
import numpy as np
from PIL import Image
d = sys.argv[1]
rng = np.random.default_rng(5)
y, x = np.mgrid[0:21, 0:30]
smooth = np.stack([(x * 8 + y * 3) % 256, (x * 2 + y * 9) % 256, (255 - x * 5) % 256], -1).astype(np.uint8)
Image.fromarray(rng.integers(0, 256, (21, 30, 3), dtype=np.uint8)).save(f"{d}/b_rgb.png")
Image.fromarray(rng.integers(0, 256, (17, 12, 4), dtype=np.uint8)).save(f"{d}/c_rgba.png")
Image.fromarray(rng.integers(0, 256, (9, 14), dtype=np.uint8)).save(f"{d}/a_grey.png")
Image.fromarray(rng.integers(0, 65536, (8, 6)).astype(np.uint16), "I;16").save(f"{d}/d_grey16.png")
Image.fromarray(smooth).save(f"{d}/e_photo.jpg", quality=85)
Image.fromarray(smooth).save(f"{d}/f_photo.tif")
Image.fromarray(smooth).save(f"{d}/g_photo.bmp")
open(f"{d}/notes.txt", "w").write("not an image\n")
PY

# A folder is its images in name order; arguments, --list and stdin agree.
img2stream "$T/img" -o "$T/dir.ts" || fail "folder input"
ls "$T"/img/*.png "$T"/img/*.jpg "$T"/img/*.tif "$T"/img/*.bmp | sort > "$T/list.txt"
img2stream $(cat "$T/list.txt") > "$T/args.ts" || fail "file arguments"
img2stream --list "$T/list.txt" -o "$T/list.ts" || fail "--list"
img2stream < "$T/list.txt" > "$T/stdin.ts" || fail "list on stdin"
(cd "$T/img" && ls *.png | img2stream --root "$T/img") > "$T/root.ts" || fail "--root"
same_file "$T/dir.ts" "$T/args.ts"; same_file "$T/dir.ts" "$T/list.ts"; same_file "$T/dir.ts" "$T/stdin.ts"
img2stream -j 1 "$T/img" > "$T/j1.ts" && img2stream -j 2 "$T/img" > "$T/j2.ts" && same_file "$T/j1.ts" "$T/j2.ts"
ok "folder, arguments, --list, stdin and -j 1/2 give the same bytes"

# Every record equals Pillow's decoding (JPEG included: same IDCT and
# upsampling), in (C, H, W), with id and source.
$PY - "$T/dir.ts" "$T/list.txt" <<'PY' || fail "pixels differ from Pillow's"
import os, sys
import numpy as np, tsread
from PIL import Image
paths = open(sys.argv[2]).read().split()
recs = list(tsread.records(sys.argv[1]))
assert len(recs) == len(paths) == 7, (len(recs), len(paths))
for (meta, a), p in zip(recs, paths):
    want = np.asarray(Image.open(p))
    if want.ndim == 2:
        want = want[:, :, None]
    assert a.transpose(1, 2, 0).shape == want.shape, (p, a.shape, want.shape)
    assert (a.transpose(1, 2, 0) == want).all(), p
    assert meta["source"] == p and meta["id"] == os.path.basename(p).rsplit(".", 1)[0], meta
    if p.endswith("grey16.png"):
        assert a.dtype == np.uint16
PY
ok "PNG, JPEG, TIFF, BMP decode exactly as Pillow decodes them"

# --grey is Pillow's convert('L'); --rgb replicates grey and drops alpha;
# --depth 8 is round(v * 255 / 65535); --label.
img2stream --grey --depth 8 --label 3 "$T/img" -o "$T/grey.ts" || fail "--grey"
img2stream --rgb "$T/img" -o "$T/rgb.ts" || fail "--rgb"
$PY - "$T/grey.ts" "$T/rgb.ts" "$T/list.txt" <<'PY' || fail "conversions differ from Pillow's"
import sys
import numpy as np, tsread
from PIL import Image
paths = open(sys.argv[3]).read().split()
for (meta, a), p in zip(tsread.records(sys.argv[1]), paths):
    im = Image.open(p)
    if im.mode in ("I", "I;16"):
        v = np.asarray(im).astype(np.int64)
        want = (v * 255 + 32767) // 65535
    else:
        want = np.asarray(im.convert("L"))
    assert a.shape[0] == 1 and a.dtype == np.uint8 and (a[0] == want).all(), p
    assert meta["label"] == "3"
for (meta, a), p in zip(tsread.records(sys.argv[2]), paths):
    im = Image.open(p)
    if im.mode in ("I", "I;16"):
        g = np.asarray(im)
        want = np.stack([g, g, g], -1)
    else:
        want = np.asarray(im.convert("RGB"))
    assert (a.transpose(1, 2, 0) == want).all(), p
PY
ok "--grey, --rgb, --depth 8 and --label"

# Bad files: each reported, exit 1, no output; --skip-bad keeps the good ones.
printf 'garbage' > "$T/bad.png"
head -c 300 "$T/img/b_rgb.png" > "$T/cut.png"
expect_fail 1 "bad.png: not a PNG, JPEG, TIFF or BMP file" img2stream "$T/img/a_grey.png" "$T/bad.png" "$T/cut.png" -o "$T/out.ts"
grep -q "cut.png: truncated PNG data" "$T/.stderr" || fail "second bad file not reported"
grep -q "2 of 3 images could not be read" "$T/.stderr" || fail "no summary"
[ ! -e "$T/out.ts" ] || fail "output file left behind"
expect_fail 1 "nothere.png: No such file" img2stream "$T/nothere.png"
img2stream --skip-bad "$T/img/a_grey.png" "$T/bad.png" -o "$T/out.ts" 2>"$T/err" || fail "--skip-bad failed"
grep -q "bad.png: not a PNG" "$T/err" && grep -q "skipped 1 of 2" "$T/err" || fail "--skip-bad report"
ad-inspect "$T/out.ts" | grep -q "^1 records" || fail "--skip-bad output"
ok "bad files: reported, no output; --skip-bad keeps the good ones"

# The shared photographs, when present, decode as Pillow decodes them.
if [ -f "$SHARED/images/cat.bmp" ]; then
  img2stream "$SHARED/images/cat.bmp" "$SHARED/images/grace_hopper.bmp" > "$T/photos.ts" || fail "shared BMPs"
  $PY - "$T/photos.ts" "$SHARED/images" <<'PY' || fail "shared BMPs differ from Pillow's"
import sys
import numpy as np, tsread
from PIL import Image
for (meta, a), n in zip(tsread.records(sys.argv[1]), ["cat", "grace_hopper"]):
    assert (a.transpose(1, 2, 0) == np.asarray(Image.open(f"{sys.argv[2]}/{n}.bmp"))).all(), n
PY
  ok "shared BMP photographs equal Pillow's decoding"
fi
