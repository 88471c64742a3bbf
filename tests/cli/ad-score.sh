#!/usr/bin/env bash
# ad-score: help, file vs stdin, batching, maps, auroc pipe, bad models and images.
. "$(dirname "$0")/../lib.sh"

check_help ad-score

cat > "$T/tiny.conf" <<'CONF'
image_dim = 1
max_image_res = 8
latent_res = 1
latent_dim = 4
enc_inner_dims = 4,4
dec_inner_dims = 4,4
loss = l1
batch_size = 8
stab_iters = 5
sample_every = 0
test_batch_size = 4
CONF
gen-images -n 24 -c 1 -s 8 --seed 1 > "$T/train.ts" || fail "gen-images"
gen-images -n 10 -c 1 -s 8 -k 2 --seed 2 > "$T/test.ts" || fail "gen-images"
ad-train -q --config "$T/tiny.conf" -o "$T/m.ts" "$T/train.ts" || fail "train"

ad-score "$T/m.ts" "$T/test.ts" > "$T/a.tsv" || fail "score file"
ad-score -o "$T/b.tsv" "$T/m.ts" - < "$T/test.ts" || fail "score stdin"
same_file "$T/a.tsv" "$T/b.tsv"
[ "$(head -1 "$T/a.tsv")" = "$(printf 'id\tlabel\tscore')" ] || fail "header: $(head -1 "$T/a.tsv")"
[ "$(wc -l < "$T/a.tsv")" -eq 11 ] || fail "expected 10 rows"
[ "$(sed -n 2p "$T/a.tsv" | cut -f1,2)" = "$(printf 'img0\t0')" ] || fail "first row: $(sed -n 2p "$T/a.tsv")"
ad-score -j 1 --batch-size 1 "$T/m.ts" "$T/test.ts" > "$T/c.tsv" || fail "batch 1"
same_file "$T/a.tsv" "$T/c.tsv"
ok "file or stdin, batch 4 or 1, 1 or 2 threads: same scores"
ad-score "$T/m.ts" "$T/test.ts" | auroc | grep -q AUROC || fail "ad-score | auroc"
ok "ad-score | auroc"

ad-score --maps "$T/maps.ts" --maps-png "$T/heat" "$T/m.ts" "$T/test.ts" > "$T/d.tsv" || fail "maps"
same_file "$T/a.tsv" "$T/d.tsv"
ad-inspect "$T/maps.ts" | grep -q 'f32 1x8x8: 10' || fail "maps: $(ad-inspect "$T/maps.ts")"
[ "$(ls "$T/heat" | wc -l)" -eq 10 ] && [ -s "$T/heat/img3.png" ] || fail "heat maps: $(ls "$T/heat")"
# L1: the map is the channel mean of |x - y|, so its mean is the score.
ad-inspect --list --stats "$T/maps.ts" | grep -o 'mean=[^ ]*' | head -1 | cut -d= -f2 > "$T/mapmean"
awk -F'\t' 'NR == 2 { print $3 }' "$T/a.tsv" > "$T/score"
awk -v a="$(cat "$T/mapmean")" -v b="$(cat "$T/score")" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 1e-5 * b + 1e-6) }' ||
  fail "map mean $(cat "$T/mapmean") != score $(cat "$T/score")"
ok "maps: 10 f32 (1, 8, 8) records, 10 heat-map PNGs, map mean = L1 score"

# Bad models and images: exit 1, a message, no output.
head -c 3000 "$T/m.ts" > "$T/trunc.ts"
expect_fail 1 "trunc.ts" ad-score -o "$T/out.tsv" "$T/trunc.ts" "$T/test.ts"
expect_fail 1 "not a model file" ad-score -o "$T/out.tsv" "$T/test.ts" "$T/test.ts"
/usr/bin/python3 - "$T/piad.ts" <<'PY' || fail "python"
import struct, sys, zlib
meta, payload = b"kind=config\nmodel=piad\n", b"model=piad\n"
h = b"ADTS" + bytes([1, 1, 1, 0]) + struct.pack("<4Q", len(payload), 0, 0, 0) + struct.pack("<QI", len(payload), len(meta))
h += struct.pack("<I", zlib.crc32(h))
open(sys.argv[1], "wb").write(h + meta + payload + struct.pack("<I", zlib.crc32(meta + payload)))
PY
expect_fail 1 "kind piad, not dpa" ad-score -o "$T/out.tsv" "$T/piad.ts" "$T/test.ts"
gen-images -n 3 -c 3 -s 8 > "$T/rgb.ts"
expect_fail 1 "rgb.ts: record 1 .*3x8x8.*takes 1x8x8" ad-score -o "$T/out.tsv" "$T/m.ts" "$T/rgb.ts"
expect_fail 2 "Try" ad-score
[ ! -e "$T/out.tsv" ] || fail "a failed run left output"

# The paper's loss with the normalised VGG19 prefix, when available.
w=$SHARED/weights/vgg19-normalised-conv3_1.pth
[ -f "$w" ] || skip "no $w"
printf 'loss = relative_perceptual_L1\nvgg = vgg19-normalised\nlayers = r21\n' >> "$T/tiny.conf"
sed -i '/^loss = l1$/d' "$T/tiny.conf"
ad-train -q --weights "$w" --config "$T/tiny.conf" -o "$T/p.ts" "$T/train.ts" || fail "train perceptual"
ad-score --weights "$w" --maps "$T/pmaps.ts" "$T/p.ts" "$T/test.ts" > "$T/p.tsv" || fail "score perceptual"
[ "$(wc -l < "$T/p.tsv")" -eq 11 ] && ad-inspect "$T/pmaps.ts" | grep -q 'f32 1x8x8: 10' || fail "perceptual outputs"
expect_fail 1 "r42 is not available" ad-train -q --weights "$w" --config "$T/tiny.conf" --set layers=r42 -o "$T/q.ts" "$T/train.ts"
ok "relative perceptual L1 (r21): scores and maps"
