# ad-features: usage, weights lookup, bad input, reproducibility, and the
# features themselves against PyTorch (VGG-19 layouts) and ImageNet labels
# (SqueezeNet 1.1).
. "$(dirname "$0")/../lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
export PYTHONPATH="$TOP/tests${PYTHONPATH:+:$PYTHONPATH}"
PY=/usr/bin/python3
unset ADKIT_WEIGHTS

check_help ad-features
expect_fail 2 "--tap NAME is required" ad-features
expect_fail 2 "unknown network 'alexnet'" ad-features --net alexnet --tap r31
expect_fail 2 "unknown vgg19 tap 'r99'" ad-features --tap r99
expect_fail 2 "--batch takes 1 to" ad-features --tap r31 --batch 0
expect_fail 2 "one input stream at most" ad-features --tap r31 a.ts b.ts

synth-images 3 3 32 32 1 "$T/rgb.ts" || fail "synth-images"
synth-images 2 1 16 16 2 "$T/grey.ts" || fail "synth-images"
cat "$T/rgb.ts" "$T/grey.ts" "$T/rgb.ts" > "$T/mix.ts"

# Missing weights: the message says what to download and where to put it.
mkdir -p "$T/empty/cwd"
expect_fail 1 "download https://download.pytorch.org/models/vgg19-dcbb9e9d.pth .* into ./weights/" \
  env -C "$T/empty/cwd" ad-features --tap r31 "$T/rgb.ts"
expect_fail 1 "tap r42 needs torchvision's VGG-19 weights, vgg19-dcbb9e9d.pth, not found" \
  env -C "$T/empty/cwd" ad-features --tap r42 "$T/rgb.ts"
expect_fail 1 "no SqueezeNet weights: .*ncnn-assets" \
  env -C "$T/empty/cwd" ad-features --net squeezenet --tap pool10 "$T/rgb.ts"
expect_fail 1 "weights.pth: cannot open" ad-features --tap r31 --weights "$T/weights.pth" "$T/rgb.ts"

# A small torchvision-layout VGG-19 (features.0, .2, .5 = conv1_1, conv1_2,
# conv2_1: taps up to r21) in both container formats, checked element by
# element against PyTorch with the paper's preprocessing.
have_torch=no
if $PY -c 'import torch, numpy' 2>/dev/null; then
  have_torch=yes
  mkdir -p "$T/legacy"
  $PY - "$T" <<'PY' || fail "making the torchvision-layout weights"
import collections, sys, torch
torch.manual_seed(0)
sd = collections.OrderedDict()
for i, (o, c) in zip((0, 2, 5), ((64, 3), (64, 64), (128, 64))):
    sd[f"features.{i}.weight"] = torch.randn(o, c, 3, 3) * (2.0 / (9 * c)) ** 0.5
    sd[f"features.{i}.bias"] = torch.randn(o) * 0.1
torch.save(sd, f"{sys.argv[1]}/tv.pth")
torch.save(sd, f"{sys.argv[1]}/legacy/tv.pth", _use_new_zipfile_serialization=False)
PY
  ad-features --weights "$T/tv.pth" --tap r21 "$T/mix.ts" > "$T/tv.ts" || fail "ad-features on the zip format"
  ad-features --weights "$T/legacy/tv.pth" --tap r21 "$T/mix.ts" > "$T/tv_legacy.ts" || fail "... legacy format"
  same_file "$T/tv.ts" "$T/tv_legacy.ts"
  $PY - "$T" <<'PY' || fail "torchvision-layout features differ from PyTorch"
import sys, numpy as np, torch, torch.nn.functional as F, tsread
t = sys.argv[1]
sd = torch.load(f"{t}/tv.pth")
imgs = list(tsread.records(f"{t}/mix.ts"))
feats = list(tsread.records(f"{t}/tv.ts"))
assert len(feats) == len(imgs) == 8
mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
for (m, a), (fm, f) in zip(imgs, feats):
    x = torch.tensor(a.copy()).float().unsqueeze(0) / 255
    x = ((x - 0.5) / 0.5).expand(1, 3, -1, -1) * 0.5 + 0.5   # the paper's [-1, 1], then spec 5.2
    x = (x - mean) / std
    h = F.relu(F.conv2d(x, sd["features.0.weight"], sd["features.0.bias"], padding=1))
    h = F.relu(F.conv2d(h, sd["features.2.weight"], sd["features.2.bias"], padding=1))
    h = F.relu(F.conv2d(F.max_pool2d(h, 2), sd["features.5.weight"], sd["features.5.bias"], padding=1))[0]
    assert f.dtype == np.float32 and f.shape == tuple(h.shape), (f.shape, h.shape)
    err = np.abs(f - h.numpy()).max()
    assert err <= 1e-4 * max(1.0, float(h.abs().max())), err
    assert fm["id"] == m["id"] and fm["label"] == m["label"], fm
    assert fm["features"] == "vgg19/r21" and fm["weights"] == "tv.pth", fm
print("torchvision layout matches PyTorch")
PY
  ok "torchvision-layout weights (zip and legacy) give PyTorch's r21"
  expect_fail 1 "tap r22 is deeper than the weights in .*tv.pth go \(deepest: r21\)" \
    ad-features --weights "$T/tv.pth" --tap r22 "$T/rgb.ts"
fi

# The weights for the rest: the shared normalised VGG-19 prefix, found
# through --weights-dir, $ADKIT_WEIGHTS or ../shared/weights.
if [ -f "$SHARED/weights/vgg19-normalised-conv3_1.pth" ]; then
  W="--weights-dir $SHARED/weights"
elif [ $have_torch = yes ]; then
  W="--weights $T/tv.pth"
else
  skip "neither ../shared/weights nor python3-torch: no weights to run with"
fi

# File and stdin, -j 1 and -j 2, batch 1 and batch 16: the same bytes.
ad-features $W --tap r21 -o "$T/a.ts" "$T/mix.ts" || fail "file input"
ad-features $W --tap r21 < "$T/mix.ts" > "$T/b.ts" || fail "stdin input"
ad-features $W --tap r21 -j 1 -b 1 - < "$T/mix.ts" > "$T/c.ts" || fail "-j 1 -b 1"
ad-features $W --tap r21 -j 2 -b 16 "$T/mix.ts" > "$T/d.ts" || fail "-j 2 -b 16"
same_file "$T/a.ts" "$T/b.ts"; same_file "$T/a.ts" "$T/c.ts"; same_file "$T/a.ts" "$T/d.ts"
ok "file/stdin, -j 1/2, batch 1/16 give the same bytes"

# --gap is the mean over H and W of the full map.
ad-features $W --tap r21 --gap "$T/mix.ts" > "$T/gap.ts" || fail "--gap"
if $PY -c 'import numpy' 2>/dev/null; then
  $PY - "$T/a.ts" "$T/gap.ts" <<'PY' || fail "--gap is not the spatial mean"
import sys, numpy as np, tsread
full = list(tsread.records(sys.argv[1]))
gap = list(tsread.records(sys.argv[2]))
assert len(full) == len(gap) == 8
for (m, f), (gm, g) in zip(full, gap):
    assert g.shape == (f.shape[0],) and gm["features"] == "vgg19/r21/gap", (g.shape, gm)
    assert np.allclose(g, f.mean(axis=(1, 2), dtype=np.float64), rtol=1e-5, atol=1e-6)
PY
  ok "--gap gives per-channel means"
fi

# An empty stream gives an empty stream.
: > "$T/none.ts"
ad-features $W --tap r11 -o "$T/none-out.ts" "$T/none.ts" || fail "empty input"
[ -f "$T/none-out.ts" ] && [ ! -s "$T/none-out.ts" ] || fail "empty input should give an empty stream"

# Bad input: exit 1, a message naming the record, no output file.
$PY - "$T/f32.ts" <<'PY' 2>/dev/null || cp "$T/a.ts" "$T/f32.ts"
import sys, numpy as np, tsread
tsread.write(sys.argv[1], [({"id": "x"}, np.zeros((3, 8, 8), np.float32))])
PY
expect_fail 1 "f32.ts:record 1: expected a u8 image" ad-features $W --tap r11 -o "$T/out1.ts" "$T/f32.ts"
[ ! -e "$T/out1.ts" ] || fail "output left behind after bad input"
head -c 5000 "$T/mix.ts" > "$T/trunc.ts"
expect_fail 1 "trunc.ts" ad-features $W --tap r11 -o "$T/out2.ts" "$T/trunc.ts"
[ ! -e "$T/out2.ts" ] || fail "output left behind after a truncated stream"
synth-images 1 3 10 10 3 "$T/odd.ts"
expect_fail 1 "maxpool2: .*even.* \(batch starting at image img_0\)" ad-features $W --tap p2 -o "$T/out3.ts" "$T/odd.ts"
[ ! -e "$T/out3.ts" ] || fail "output left behind after a failed forward pass"

# SqueezeNet 1.1: the published photos get their ImageNet labels.
if [ -f "$SHARED/weights/squeezenet_v1.1.bin" ] && [ -f "$SHARED/images/cat.bmp" ] &&
  $PY -c 'import numpy' 2>/dev/null; then
  img2stream "$SHARED"/images/{cat,bird,grace_hopper,dragonfly}.bmp > "$T/photos.ts" || fail "img2stream"
  ADKIT_WEIGHTS="$SHARED/weights" ad-features --net squeezenet --tap prob --gap -b 3 "$T/photos.ts" > "$T/prob.ts" ||
    fail "squeezenet prob"
  ad-features --net squeezenet --weights "$SHARED/weights/squeezenet_v1.1.bin" --tap fire9/concat \
    "$T/photos.ts" > "$T/fire9.ts" || fail "squeezenet fire9/concat"
  $PY - "$T/prob.ts" "$T/fire9.ts" "$SHARED/images/imagenet_labels.txt" <<'PY' || fail "squeezenet labels"
import sys, numpy as np, tsread
labels = open(sys.argv[3]).read().splitlines()
want = {"cat": "Egyptian cat", "bird": "chickadee", "grace_hopper": "bow tie", "dragonfly": "dragonfly"}
probs = list(tsread.records(sys.argv[1]))
assert len(probs) == 4
for m, p in probs:
    assert p.shape == (1000,) and abs(float(p.sum()) - 1) < 1e-4
    top = labels[int(p.argmax()) + 1]
    assert want[m["id"]] in top, (m["id"], top)
for m, f in tsread.records(sys.argv[2]):
    assert f.shape == (512, 14, 14) and m["features"] == "squeezenet/fire9/concat", (f.shape, m)
print("squeezenet top-1 labels ok")
PY
  ok "squeezenet classifies the four photos"
  ADKIT_WEIGHTS="$SHARED/weights" ad-features --net squeezenet --tap prob --gap -j 1 -b 1 "$T/photos.ts" > "$T/prob1.ts" ||
    fail "squeezenet -j 1"
  same_file "$T/prob.ts" "$T/prob1.ts"
  ok "squeezenet: -j 1 -b 1 and -j default -b 3 give the same bytes"
  expect_fail 1 "unknown tap fire10 \(taps: conv1 pool1 fire2/squeeze1x1" \
    env ADKIT_WEIGHTS="$SHARED/weights" ad-features --net squeezenet --tap fire10 "$T/photos.ts"
fi
exit 0
