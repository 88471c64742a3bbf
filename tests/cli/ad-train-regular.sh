#!/usr/bin/env bash
# ad-train and ad-score with the regular encoder/decoder family (spec 3.3):
# wo_pg and progressive growing, the block options, determinism, resume,
# scoring, and the options that are refused.
. "$(dirname "$0")/../lib.sh"

cat > "$T/reg.conf" <<'CONF'
image_dim = 1
max_image_res = 16
latent_res = 1
latent_dim = 8
enc_type = regular
dec_type = regular
enc_inner_dims = 4,8,8
dec_inner_dims = 8,8,4
loss = l1
batch_size = 8
stab_iters = 6
log_every = 1
sample_every = 0
checkpoint_every = 2
lr = 1e-3
test_batch_size = 4
CONF
# Progressive growing 8 -> 16 with WScale, max pooling, bilinear upsampling.
cp "$T/reg.conf" "$T/pg.conf"
sed -i '/^stab_iters = 6$/d' "$T/pg.conf"
printf 'initial_image_res = 8\nstab_iters = 3\ntrns_iters = 3\nuse_wscale = true\npool = max\nupsample_mode = bilinear\n' \
  >> "$T/pg.conf"
gen-images -n 40 -c 1 -s 16 --seed 3 > "$T/train.ts" || fail "gen-images"
gen-images -n 12 -c 1 -s 16 -k 2 --seed 4 > "$T/test.ts" || fail "gen-images"

ad-train -q -j 2 --config "$T/reg.conf" --seed 5 --log "$T/log.tsv" -o "$T/a.ts" "$T/train.ts" || fail "train regular"
ad-inspect --list "$T/a.ts" | grep -q 'name=enc.preprocess_res_16.model.0.weight' || fail "no regular fromRGB in the model"
ad-inspect --list "$T/a.ts" | grep -q 'name=dec.postprocess_res_16.model.0.bias' || fail "no regular toRGB in the model"
awk -F'\t' 'NR > 1 && !($5 + 0 > 0) { bad = 1 } END { exit bad }' "$T/log.tsv" || fail "log has no positive losses"
ad-train -q -j 1 --config "$T/reg.conf" --seed 5 -o "$T/b.ts" < "$T/train.ts" || fail "train regular, stdin"
same_file "$T/a.ts" "$T/b.ts"
ok "regular wo_pg: same model bytes for 1 or 2 threads, file or stdin"

ad-score "$T/a.ts" "$T/test.ts" > "$T/s.tsv" || fail "score"
[ "$(wc -l < "$T/s.tsv")" -eq 13 ] || fail "expected 12 scores: $(cat "$T/s.tsv")"
awk -F'\t' 'NR > 1 && !($3 + 0 > 0) { bad = 1 } END { exit bad }' "$T/s.tsv" || fail "non-positive L1 score"
ad-score -j 1 --batch-size 1 "$T/a.ts" "$T/test.ts" > "$T/s1.tsv" || fail "score batch 1"
same_file "$T/s.tsv" "$T/s1.tsv"
ok "ad-score of a regular model: 12 scores, same for batch 4 or 1"

ad-train -q --config "$T/pg.conf" -o "$T/full.ts" "$T/train.ts" || fail "pg train"
ad-inspect --list "$T/full.ts" | grep -q 'name=enc.res_16.0.model.1.scale' || fail "no WScale scale in the model"
ad-inspect --list "$T/full.ts" | grep -q 'name=enc.preprocess_res_8.model.1.bias' || fail "no fromRGB 8 (WScale bias)"
ad-score "$T/full.ts" "$T/test.ts" > "$T/p.tsv" || fail "score pg"
for stop in 2 4; do
  rm -f "$T/r.ts" "$T/r.ckpt.ts"
  ad-train -q --config "$T/pg.conf" --stop-after $stop -o "$T/r.ts" "$T/train.ts" || fail "pg stop $stop"
  ad-train -q --config "$T/pg.conf" --resume -o "$T/r.ts" "$T/train.ts" || fail "pg resume after $stop"
  same_file "$T/full.ts" "$T/r.ts"
done
ok "regular pg 8 -> 16 (WScale, max pool, bilinear): resumed runs give the same bytes"

cp "$T/reg.conf" "$T/mixed.conf"
sed -i 's/^dec_type = regular/dec_type = residual9/' "$T/mixed.conf"
ad-train -q --config "$T/mixed.conf" -o "$T/mixed.ts" "$T/train.ts" || fail "regular encoder, residual9 decoder"
ad-score "$T/mixed.ts" "$T/test.ts" > /dev/null || fail "score mixed"
ok "regular encoder with a residual9 decoder"

# The progressive-GAN options: instance or pixel norm, the minibatch stddev
# layer, pixel-normalised codes.
cp "$T/reg.conf" "$T/pgan.conf"
sed -i 's/^latent_res = 1/latent_res = 4/' "$T/pgan.conf"
printf 'norm = in\nuse_mbstddev = true\nnormalize_latents = true\n' >> "$T/pgan.conf"
ad-train -q --config "$T/pgan.conf" -o "$T/pgan.ts" "$T/train.ts" || fail "norm in, mbstd, normalize_latents"
ad-inspect --list "$T/pgan.ts" | grep -q 'name=enc.res_4.3.model.0.weight' || fail "mbstd: last block indices"
ad-inspect --list "$T/pgan.ts" | grep -q 'name=dec.res_4.2.model.0.weight' || fail "normalize_latents: first block"
ad-score "$T/pgan.ts" "$T/test.ts" > "$T/pgan.tsv" || fail "score pgan"
ad-train -q --config "$T/reg.conf" --set norm=pixel -o "$T/pix.ts" "$T/train.ts" || fail "norm pixel"
ok "regular with norm in / pixel, use_mbstddev, normalize_latents"

# Batch norm: running statistics in the checkpoint (resume gives the same
# bytes) and in the model; scoring in evaluation mode (batch independent).
cp "$T/pg.conf" "$T/bn.conf"
printf 'norm = bn\n' >> "$T/bn.conf"
ad-train -q --config "$T/bn.conf" -o "$T/bnfull.ts" "$T/train.ts" || fail "bn train"
ad-inspect --list "$T/bnfull.ts" | grep -q 'name=enc.res_16.0.model.2.running_var' || fail "bn: no running statistics"
rm -f "$T/r.ts" "$T/r.ckpt.ts"
ad-train -q --config "$T/bn.conf" --stop-after 3 -o "$T/r.ts" "$T/train.ts" || fail "bn stop"
ad-train -q --config "$T/bn.conf" --resume -o "$T/r.ts" "$T/train.ts" || fail "bn resume"
same_file "$T/bnfull.ts" "$T/r.ts"
ad-score "$T/bnfull.ts" "$T/test.ts" > "$T/bn4.tsv" || fail "bn score"
ad-score --batch-size 1 "$T/bnfull.ts" "$T/test.ts" > "$T/bn1.tsv" || fail "bn score batch 1"
same_file "$T/bn4.tsv" "$T/bn1.tsv"
sed 's/^enc_type = regular/enc_type = residual18/; s/^dec_type = regular/dec_type = residual18/' "$T/bn.conf" |
  grep -v 'use_wscale\|pool =' > "$T/bnres.conf"
ad-train -q --config "$T/bnres.conf" -o "$T/bnres.ts" "$T/train.ts" || fail "residual18 bn"
ad-inspect --list "$T/bnres.ts" | grep -q 'name=enc.res_16.1.model.0.running_mean' || fail "residual bn: pre-norm"
ok "norm = bn: regular and residual18, resume, evaluation-mode scores"

# Refused options say why; nothing is written.
expect_fail 1 "norm = in with latent_res 1" ad-train -q --config "$T/reg.conf" --set norm=in -o "$T/bad.ts" "$T/train.ts"
expect_fail 1 "use_mbstddev needs enc_type = regular" \
  ad-train -q --config "$T/reg.conf" --set enc_type=residual18 --set use_mbstddev=true -o "$T/bad.ts" "$T/train.ts"
expect_fail 1 "pad_type = reflect.*1x1 code" \
  ad-train -q --config "$T/reg.conf" --set pad_type=reflect -o "$T/bad.ts" "$T/train.ts"
expect_fail 1 "pool must be avg or max" ad-train -q --config "$T/reg.conf" --set pool=median -o "$T/bad.ts" "$T/train.ts"
expect_fail 1 "upsample_mode must be nearest or bilinear" \
  ad-train -q --config "$T/reg.conf" --set upsample_mode=bicubic -o "$T/bad.ts" "$T/train.ts"
expect_fail 1 "norm must be none, bn, in or pixel" \
  ad-train -q --config "$T/reg.conf" --set norm=group -o "$T/bad.ts" "$T/train.ts"
[ ! -e "$T/bad.ts" ] && [ ! -e "$T/bad.ckpt.ts" ] || fail "a refused configuration left output"

# pad_type reaches the residual families too (every padded conv but the
# decoder's first): the ReflectionPad2d shifts the conv's state-dict index.
cp "$T/reg.conf" "$T/res.conf"
sed -i 's/^enc_type = regular/enc_type = residual9/; s/^dec_type = regular/dec_type = residual9/' "$T/res.conf"
ad-train -q --config "$T/res.conf" --set pad_type=reflect -o "$T/refl.ts" "$T/train.ts" || fail "residual reflect"
ad-inspect --list "$T/refl.ts" | grep -q 'name=enc.res_16.0.model.2.model.1.weight' || fail "reflect: conv index"
ad-inspect --list "$T/refl.ts" | grep -q 'name=dec.res_4.1.model.0.weight' || fail "reflect: decoder's first conv"
ad-train -q --config "$T/res.conf" -o "$T/zero.ts" "$T/train.ts" || fail "residual zero"
ad-score "$T/refl.ts" "$T/test.ts" > "$T/refl.tsv" && ad-score "$T/zero.ts" "$T/test.ts" > "$T/zero.tsv" || fail "score"
cmp -s "$T/refl.tsv" "$T/zero.tsv" && fail "reflect and zero padding gave the same scores"
ok "residual9 with reflect padding"
