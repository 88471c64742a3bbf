#!/usr/bin/env bash
# nih-resize: Pillow equality on generated NIH-like images of every kind
# (8-bit, 16-bit, RGB, RGBA, non-square), the same bytes from arguments,
# folders, --list and stdin, failures listed and skipped, resume, --force,
# usage errors; and gen-nih's determinism.
. "$(dirname "$0")/../lib.sh"

check_help nih-resize
expect_fail 2 "--size must be" nih-resize --size 0 x.png
expect_fail 2 "--force goes with -o" nih-resize --force --stream - x.png
expect_fail 2 "--png-level must be" nih-resize --png-level 12 -o "$T/o" x.png

# gen-nih: same seed, same files, whatever the thread count.
gen-nih -o "$T/g1" -n 8 -s 64 --seed 5 -j 1 || fail "gen-nih -j1"
gen-nih -o "$T/g2" -n 8 -s 64 --seed 5 -j 2 || fail "gen-nih -j2"
(cd "$T/g1" && find . -type f | sort | xargs cat) | cmp -s - <(cd "$T/g2" && find . -type f | sort | xargs cat) ||
  fail "gen-nih output depends on -j"
ok "gen-nih is deterministic"

# 40 images: the kinds repeat every 25, so each odd kind appears.
gen-nih -o "$T/nih" -n 40 -s 96 --seed 3 || fail "gen-nih"
head -n 1 "$T/nih/Data_Entry_2017.csv" | grep -q '^Image Index,Finding Labels,Follow-up #,Patient ID' ||
  fail "Data_Entry header"
[ "$(cat "$T/nih/train_val_list.txt" "$T/nih/test_list.txt" | wc -l)" -eq 40 ] || fail "split lists"
cut -d_ -f1 "$T/nih/train_val_list.txt" | sort -u > "$T/ptrain"
cut -d_ -f1 "$T/nih/test_list.txt" | sort -u > "$T/ptest"
[ -z "$(comm -12 "$T/ptrain" "$T/ptest")" ] || fail "train and test share patients"

nih-resize --data-entry "$T/nih/Data_Entry_2017.csv" -o "$T/out" -j 2 || fail "nih-resize --data-entry"
[ "$(ls "$T/out" | wc -l)" -eq 40 ] || fail "expected 40 outputs: $(ls "$T/out" | wc -l)"
[ ! -e "$T/out/failures.txt" ] || fail "failures.txt after a clean run"
ok "40 images resized"

# Pixel equality with the original's Pillow loop.
if /usr/bin/python3 -c 'import PIL, numpy' 2>/dev/null; then
  /usr/bin/python3 - "$T/nih/images" "$T/out" > "$T/pil" <<'PY' || fail "Pillow comparison: $(cat "$T/pil")"
import os, sys
import numpy as np
from PIL import Image
src, out = sys.argv[1], sys.argv[2]
worst, modes = 0, set()
for name in sorted(os.listdir(src)):
    im = Image.open(os.path.join(src, name))
    modes.add(im.mode)
    ref = np.asarray(im.convert("L").resize((300, 300), Image.BILINEAR)).astype(int)
    got = np.asarray(Image.open(os.path.join(out, name)))
    assert got.shape == (300, 300) and got.dtype == np.uint8, (name, got.shape, got.dtype)
    worst = max(worst, int(np.abs(ref - got.astype(int)).max()))
print("max difference", worst, "over modes", ",".join(sorted(modes)))
sys.exit(0 if worst <= 1 and modes >= {"L", "I", "RGB", "RGBA"} else 1)
PY
  ok "Pillow: $(cat "$T/pil")"
else
  echo "python3-pil not installed: Pillow comparison skipped"
fi

# Real photographs (RGB BMPs of ../shared/images), when present: natural
# image statistics rather than synthetic ones.
if [ -d "$SHARED/images" ] && /usr/bin/python3 -c 'import PIL, numpy' 2>/dev/null; then
  nih-resize --size 224 --stream "$T/photos.ts" "$SHARED/images" || fail "nih-resize on $SHARED/images"
  /usr/bin/python3 - "$SHARED/images" "$T/photos.ts" > "$T/pil" <<'PY' || fail "photos vs Pillow: $(cat "$T/pil")"
import os, sys
import numpy as np
from PIL import Image
folder, stream = sys.argv[1], open(sys.argv[2], "rb").read()
names = sorted(n for n in os.listdir(folder) if n.endswith(".bmp"))
at, worst = 0, 0
for name in names:  # records are 56-byte header, metadata, 224*224 payload, crc
    meta = int.from_bytes(stream[at + 48:at + 52], "little")
    got = np.frombuffer(stream, np.uint8, 224 * 224, at + 56 + meta).reshape(224, 224)
    at += 56 + meta + 224 * 224 + 4
    ref = np.asarray(Image.open(os.path.join(folder, name)).convert("L").resize((224, 224), Image.BILINEAR))
    worst = max(worst, int(np.abs(ref.astype(int) - got).max()))
print("max difference", worst, "over", len(names), "photographs")
sys.exit(0 if worst <= 1 and at == len(stream) and names else 1)
PY
  ok "Pillow on $(cat "$T/pil")"
else
  echo "no $SHARED/images or python3-pil: photographs skipped"
fi

# The stream: arguments, a folder, --list and stdin give the same bytes.
nih-resize --stream "$T/a.ts" "$T/nih/images"/*.png || fail "--stream with arguments"
nih-resize "$T/nih/images" > "$T/b.ts" || fail "folder to stdout"
ls "$T/nih/images"/*.png | nih-resize > "$T/c.ts" || fail "stdin list"
(cd "$T/nih/images" && ls) > "$T/names"
nih-resize --list "$T/names" --root "$T/nih/images" --stream "$T/d.ts" -j 1 || fail "--list --root"
for f in b c d; do same_file "$T/a.ts" "$T/$f.ts"; done
ad-inspect "$T/a.ts" | grep -q "u8 1x300x300: 40" || fail "stream shape: $(ad-inspect "$T/a.ts")"
ad-inspect --list "$T/a.ts" | head -n 1 | grep -q "id=00000001_000$" || fail "stream id"
ok "stream: same bytes from arguments, folder, --list and stdin, whatever -j"

# Resume: existing outputs are kept; a missing one is redone; the stream
# built from kept outputs equals the fresh one; --force redoes everything.
keep=$(stat -c %i "$T/out/00000001_000.png")
rm "$T/out/00000002_000.png"
nih-resize --data-entry "$T/nih/Data_Entry_2017.csv" -o "$T/out" --stream "$T/e.ts" || fail "resume"
[ "$(stat -c %i "$T/out/00000001_000.png")" = "$keep" ] || fail "an existing output was rewritten"
[ -f "$T/out/00000002_000.png" ] || fail "the missing output was not redone"
same_file "$T/a.ts" "$T/e.ts"
nih-resize --data-entry "$T/nih/Data_Entry_2017.csv" -o "$T/out" --force || fail "--force"
[ "$(stat -c %i "$T/out/00000001_000.png")" != "$keep" ] || fail "--force kept an output"
ok "resume and --force"

# Bad images among good ones: reported by name, listed, skipped; the rest
# are written and the exit status is 1.
mkdir "$T/mixed"
cp "$T/nih/images/00000001_000.png" "$T/nih/images/00000002_000.png" "$T/mixed/"
head -c 3000 "$T/nih/images/00000003_000.png" > "$T/mixed/trunc.png"
echo "not an image" > "$T/mixed/garbage.png"
expect_fail 1 "garbage.png" nih-resize -o "$T/mout" "$T/mixed"
grep -q "trunc.png" "$T/.stderr" || fail "truncated PNG not reported"
grep -q "2 of 4 images failed" "$T/.stderr" || fail "no summary: $(cat "$T/.stderr")"
[ "$(wc -l < "$T/mout/failures.txt")" -eq 2 ] || fail "failures.txt: $(cat "$T/mout/failures.txt")"
grep -q "^$T/mixed/garbage.png	" "$T/mout/failures.txt" || fail "failures.txt format"
[ -f "$T/mout/00000001_000.png" ] && [ -f "$T/mout/00000002_000.png" ] || fail "good images not written"
[ ! -e "$T/mout/trunc.png" ] && [ ! -e "$T/mout/garbage.png" ] || fail "output for a bad image"
[ -z "$(ls -A "$T/mout" | grep '^\.')" ] || fail "temporary files left behind"
# A missing image named by Data_Entry is a failure too, by name.
sed '2s/^[^,]*/99999999_000.png/' "$T/nih/Data_Entry_2017.csv" > "$T/nih/missing.csv"
expect_fail 1 "99999999_000.png" nih-resize --data-entry "$T/nih/missing.csv" --root "$T/nih" --stream "$T/m.ts"
[ "$(ad-inspect "$T/m.ts" | head -n 1)" = "39 records" ] || fail "stream should hold the 39 good images"
# Devices and pipes are not replaced by the atomic rename: refused.
mkfifo "$T/fifo"
expect_fail 1 "--stream .*fifo: not a regular file" nih-resize --stream "$T/fifo" "$T/mixed"
[ -p "$T/fifo" ] || fail "the FIFO was replaced"
# A Data_Entry without the column is refused before anything is written.
printf 'Name,Finding Labels\nx.png,No Finding\n' > "$T/bad.csv"
expect_fail 1 "bad.csv:1: no 'Image Index' column" nih-resize --data-entry "$T/bad.csv" -o "$T/never"
[ ! -e "$T/never" ] || fail "output folder created for a bad Data_Entry"
# Fixing the inputs and rerunning clears the failures list.
rm "$T/mixed/trunc.png" "$T/mixed/garbage.png"
nih-resize -o "$T/mout" "$T/mixed" || fail "rerun after the fix"
[ ! -e "$T/mout/failures.txt" ] || fail "stale failures.txt"
ok "bad images reported, listed and skipped"
