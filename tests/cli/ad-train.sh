#!/usr/bin/env bash
# ad-train: help, determinism, stdin vs file, resume equality (across
# progressive-growing stages), bad inputs, NaN stop.
. "$(dirname "$0")/../lib.sh"

check_help ad-train
ad-train --help-config | grep -q '^  stab_iters' || fail "--help-config lists no keys"

# A tiny L1 model (no perceptual network needed): 8x8 grey, latent 4x1x1.
cat > "$T/tiny.conf" <<'CONF'
image_dim = 1
max_image_res = 8
latent_res = 1
latent_dim = 4
enc_inner_dims = 4,4
dec_inner_dims = 4,4
loss = l1
batch_size = 8
stab_iters = 6
checkpoint_every = 2
log_every = 1
sample_every = 0
lr = 1e-3
CONF
# Progressive growing 4 -> 8: stab4, trns8, stab8.
cp "$T/tiny.conf" "$T/pg.conf"
printf 'initial_image_res = 4\nstab_iters = 3\ntrns_iters = 3\nuse_smooth_pg = true\n' >> "$T/pg.conf"
sed -i '/^stab_iters = 6$/d' "$T/pg.conf"
gen-images -n 40 -c 1 -s 8 --seed 3 > "$T/train.ts" || fail "gen-images"

ad-train -q -j 2 --config "$T/tiny.conf" --seed 5 --log "$T/log.tsv" -o "$T/a.ts" "$T/train.ts" || fail "train a"
[ -s "$T/a.ts" ] && [ -s "$T/a.ckpt.ts" ] || fail "no model or checkpoint"
n=$(wc -l < "$T/log.tsv"); [ "$n" -eq 7 ] || [ "$n" -eq 8 ] || fail "log has $n lines, expected header + 6 or 7 (N or N+1, spec 4.2)"
ad-inspect --list "$T/a.ts" | head -1 | grep -q 'kind=config' || fail "model does not start with its configuration"
ad-train -q -j 1 --config "$T/tiny.conf" --seed 5 -o "$T/b.ts" < "$T/train.ts" || fail "train b (stdin, 1 thread)"
same_file "$T/a.ts" "$T/b.ts"
ok "same seed, file or stdin, 1 or 2 threads: same model bytes"
ad-train -q --config "$T/tiny.conf" --seed 6 -o "$T/c.ts" "$T/train.ts" || fail "train c"
cmp -s "$T/a.ts" "$T/c.ts" && fail "another seed gave the same model"
ad-train -q --config "$T/tiny.conf" --seed 5 --checkpoint "$T/x.ckpt" -o - "$T/train.ts" > "$T/d.ts" || fail "stdout"
same_file "$T/a.ts" "$T/d.ts"
ok "model on stdout"
ad-train -q --config "$T/tiny.conf" --seed 5 --precise-conv --stop-after 2 -o "$T/p.ts" "$T/train.ts" ||
  fail "--precise-conv"
grep -aq '^precise_conv=true$' "$T/p.ckpt.ts" || fail "--precise-conv is not in the checkpoint's configuration"
expect_fail 1 "another configuration.*precise_conv" ad-train -q --config "$T/tiny.conf" --seed 5 --resume \
  -o "$T/p.ts" "$T/train.ts"
ad-train -q --config "$T/tiny.conf" --seed 5 --set precise_conv=true --resume -o "$T/p.ts" "$T/train.ts" ||
  fail "resume with precise_conv = true"
ok "--precise-conv is the configuration key precise_conv"

# Resume: interrupted runs continue to the same final bytes.
ad-train -q --config "$T/pg.conf" -o "$T/full.ts" "$T/train.ts" || fail "pg full"
for stop in 2 3 5 8; do
  rm -f "$T/r.ts" "$T/r.ckpt.ts"
  ad-train -q --config "$T/pg.conf" --stop-after $stop -o "$T/r.ts" "$T/train.ts" || fail "pg stop $stop"
  [ ! -e "$T/r.ts" ] || fail "a stopped run wrote the final model"
  ad-train -q --config "$T/pg.conf" --resume -o "$T/r.ts" "$T/train.ts" || fail "pg resume after $stop"
  same_file "$T/full.ts" "$T/r.ts"
done
ok "resume after 2, 3, 5 and 8 iterations (stab4, trns8, stab8): same model bytes"
rm -f "$T/r.ts" "$T/r.ckpt.ts"
ad-train -q --config "$T/pg.conf" --stop-after 2 -o "$T/r.ts" "$T/train.ts" || fail "stop"
ad-train -q --config "$T/pg.conf" --stop-after 2 --resume -o "$T/r.ts" "$T/train.ts" || fail "resume twice"
ad-train -q --config "$T/pg.conf" --resume -o "$T/r.ts" "$T/train.ts" || fail "resume thrice"
same_file "$T/full.ts" "$T/r.ts"
ok "resumed twice: same model bytes"
expect_fail 1 "another configuration.*lr" ad-train -q --config "$T/pg.conf" --lr 0.5 --resume -o "$T/r.ts" "$T/train.ts"
gen-images -n 40 -c 1 -s 8 --seed 4 > "$T/other.ts"
expect_fail 1 "other images" ad-train -q --config "$T/pg.conf" --resume -o "$T/r.ts" "$T/other.ts"

# Bad input: nothing written.
gen-images -n 20 -c 1 -s 16 > "$T/big.ts"
expect_fail 1 "1x16x16.*takes 1x8x8" ad-train -q --config "$T/tiny.conf" -o "$T/bad.ts" "$T/big.ts"
gen-images -n 20 -c 3 -s 8 > "$T/rgb.ts"
expect_fail 1 "3x8x8.*takes 1x8x8" ad-train -q --config "$T/tiny.conf" -o "$T/bad.ts" "$T/rgb.ts"
expect_fail 1 "unknown key.*no_such_key|no_such_key.*unknown" ad-train -q --config "$T/tiny.conf" --set no_such_key=1 -o "$T/bad.ts" "$T/train.ts"
expect_fail 1 "fewer than the batch size" ad-train -q --config "$T/tiny.conf" --batch-size 64 -o "$T/bad.ts" "$T/train.ts"
expect_fail 1 "enc_type" ad-train -q --config "$T/tiny.conf" --set enc_type=dense -o "$T/bad.ts" "$T/train.ts"
expect_fail 1 "not a model file" ad-train -q --config "$T/tiny.conf" --checkpoint "$T/train.ts" --resume -o "$T/bad.ts" "$T/train.ts"
expect_fail 2 "Try" ad-train --config "$T/tiny.conf" --set nonsense "$T/train.ts"
[ ! -e "$T/bad.ts" ] && [ ! -e "$T/bad.ckpt.ts" ] || fail "a failed run left output"

# A diverging loss stops training; the last checkpoint stays intact.
cp "$T/tiny.conf" "$T/nan.conf"
printf 'stab_iters = 40\n' >> "$T/nan.conf"
sed -i '/^stab_iters = 6$/d; s/^lr = .*/lr = 1e30/; s/^checkpoint_every = .*/checkpoint_every = 1/' "$T/nan.conf"
ad-train -q --config "$T/nan.conf" -o "$T/n.ts" "$T/train.ts" 2>"$T/nan.err" && fail "lr 1e30 trained to the end"
grep -Eq "iteration [0-9]+ .*loss is (nan|inf|-nan|[0-9.e+]+); training stopped .*n.ckpt.ts" "$T/nan.err" ||
  fail "no NaN message: $(cat "$T/nan.err")"
[ ! -e "$T/n.ts" ] || fail "a diverged run wrote a model"
[ -s "$T/n.ckpt.ts" ] || fail "the last good checkpoint is missing"
ad-inspect --list "$T/n.ckpt.ts" | grep -q "global_iter=[1-9]" || fail "the last checkpoint is damaged"
ok "diverging loss: $(head -c 120 "$T/nan.err")"
