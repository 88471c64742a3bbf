#!/usr/bin/env bash
# ad-train, adversarial ablations (WGAN-GP image discriminator): the log's
# discriminator columns, same seed -> same bytes, resume equality (also across
# progressive-growing stages, where the penalty passes the fade-in), the model
# file without the discriminator and scoring it, n_dis with adv_weight 0, bad keys.
. "$(dirname "$0")/../lib.sh"

# A tiny L1 autoencoder (no perceptual network needed), 8x8 grey, with a
# discriminator of 3 and 5 channels (a 1x1 skip conv in its down block).
cat > "$T/adv.conf" <<'CONF'
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
lr = 2e-4
adv_weight = 0.5
n_dis = 2
ddis_inner_dims = 3,5
CONF
cp "$T/adv.conf" "$T/pg.conf"
printf 'initial_image_res = 4\nstab_iters = 3\ntrns_iters = 3\n' >> "$T/pg.conf"
sed -i '/^stab_iters = 6$/d' "$T/pg.conf"
gen-images -n 40 -c 1 -s 8 --seed 3 > "$T/train.ts" || fail "gen-images"

ad-train -q -j 2 --config "$T/adv.conf" --seed 5 --log "$T/log.tsv" -o "$T/a.ts" "$T/train.ts" || fail "train a"
head -1 "$T/log.tsv" | grep -q $'loss\timages_per_s\trec_loss\tadv_loss\twass\tnorm\tgp$' ||
  fail "log header: $(head -1 "$T/log.tsv")"
# Every line: 11 fields, loss = rec_loss + adv_loss, finite terms, gp > 0.
awk -F'\t' 'NR > 1 { if (NF != 11) exit 1; if ($5 - ($7 + $8) > 1e-5 || ($7 + $8) - $5 > 1e-5) exit 2;
                     for (i = 7; i <= 11; i++) if ($i !~ /^-?[0-9]/) exit 3; if ($11 <= 0) exit 4; n++ }
            END { if (n < 6) exit 5 }' "$T/log.tsv" || fail "log rows (awk $?): $(sed -n 2p "$T/log.tsv")"
ok "log has rec_loss, adv_loss, wass, norm, gp: $(sed -n 2p "$T/log.tsv" | cut -f7-)"

ad-train -q -j 1 --config "$T/adv.conf" --seed 5 --log "$T/log1.tsv" -o "$T/b.ts" < "$T/train.ts" || fail "train b"
same_file "$T/a.ts" "$T/b.ts"
same_file "$T/a.ckpt.ts" "$T/b.ckpt.ts"
cmp -s <(cut -f1-5,7- "$T/log.tsv") <(cut -f1-5,7- "$T/log1.tsv") || fail "the logs differ"
ok "same seed, file or stdin, 1 or 2 threads: same model, checkpoint and log"
ad-train -q --config "$T/adv.conf" --seed 6 -o "$T/c.ts" "$T/train.ts" || fail "train c"
cmp -s "$T/a.ts" "$T/c.ts" && fail "another seed gave the same model"
ad-train -q --config "$T/adv.conf" --seed 5 --set adv_weight=0.25 -o "$T/w.ts" "$T/train.ts" || fail "weight"
cmp -s "$T/a.ts" "$T/w.ts" && fail "adv_weight does not change the model"

ad-inspect --list "$T/a.ts" | grep -q 'name=ddis' && fail "the model file holds the discriminator"
ad-inspect --list "$T/a.ckpt.ts" | grep -q 'name=ddis.res_8.0.model.2.model.0.weight' ||
  fail "the checkpoint has no discriminator"
ad-inspect --list "$T/a.ckpt.ts" | grep -q 'name=ddis.adam.v' || fail "the checkpoint has no discriminator Adam"
state=$(ad-inspect --list "$T/a.ckpt.ts" | grep 'kind=state')
t=$(sed -E 's/.*[[:space:]]adam_t=([0-9]+).*/\1/' <<< "$state")
grep -q "ddis_adam_t=$((2 * t))" <<< "$state" || fail "discriminator Adam steps: not 2 per iteration ($state)"
ad-score "$T/a.ts" "$T/train.ts" > "$T/scores.tsv" || fail "ad-score"
[ "$(wc -l < "$T/scores.tsv")" -eq 41 ] || fail "ad-score wrote $(wc -l < "$T/scores.tsv") lines"
ok "model without the discriminator; checkpoint with it and its Adam; ad-score scores the model"

# Resume: interrupted runs reach the same model and checkpoint bytes.
for stop in 1 2 5; do
  rm -f "$T/r.ts" "$T/r.ckpt.ts"
  ad-train -q --config "$T/adv.conf" --seed 5 --stop-after $stop -o "$T/r.ts" "$T/train.ts" || fail "stop $stop"
  ad-train -q --config "$T/adv.conf" --seed 5 --resume -o "$T/r.ts" "$T/train.ts" || fail "resume after $stop"
  same_file "$T/a.ts" "$T/r.ts"
  same_file "$T/a.ckpt.ts" "$T/r.ckpt.ts"
done
ok "resume after 1, 2 and 5 iterations: same model and checkpoint bytes"
ad-train -q --config "$T/pg.conf" -o "$T/pg.ts" "$T/train.ts" || fail "pg full"
for stop in 2 4; do
  rm -f "$T/r.ts" "$T/r.ckpt.ts"
  ad-train -q --config "$T/pg.conf" --stop-after $stop -o "$T/r.ts" "$T/train.ts" || fail "pg stop $stop"
  ad-train -q --config "$T/pg.conf" --resume -o "$T/r.ts" "$T/train.ts" || fail "pg resume after $stop"
  same_file "$T/pg.ts" "$T/r.ts"
done
ok "progressive growing (stab4, trns8, stab8) with the discriminator: resume after 2 and 4 gives the same bytes"
expect_fail 1 "another configuration.*adv_weight" \
  ad-train -q --config "$T/adv.conf" --seed 5 --set adv_weight=0 --resume -o "$T/a.ts" "$T/train.ts"

# adv_weight 0 with n_dis 2: no discriminator, but 3 batches per iteration
# (as the original), so another model than n_dis 0.
ad-train -q --config "$T/adv.conf" --seed 5 --set adv_weight=0 --log "$T/log0.tsv" -o "$T/z.ts" "$T/train.ts" ||
  fail "adv_weight 0"
head -1 "$T/log0.tsv" | grep -q 'wass' && fail "a run without discriminator logs its terms"
ad-inspect --list "$T/z.ckpt.ts" | grep -q 'name=ddis' && fail "adv_weight 0 saved a discriminator"
ad-train -q --config "$T/adv.conf" --seed 5 --set adv_weight=0 --set n_dis=0 -o "$T/z0.ts" "$T/train.ts" ||
  fail "n_dis 0"
cmp -s "$T/z.ts" "$T/z0.ts" && fail "n_dis 2 did not draw its batches"
ok "adv_weight 0: no discriminator; n_dis still draws its batches"

# Bad keys: exit 1, the key named, nothing written.
expect_fail 1 "n_dis = 99: must be 0..16" ad-train -q --config "$T/adv.conf" --set n_dis=99 -o "$T/bad.ts" "$T/train.ts"
expect_fail 1 "ddis_inner_dims has 1 entries" \
  ad-train -q --config "$T/adv.conf" --set ddis_inner_dims=4 -o "$T/bad.ts" "$T/train.ts"
expect_fail 1 "unknown ddis_type 'dense'" ad-train -q --config "$T/adv.conf" --set ddis_type=dense -o "$T/bad.ts" "$T/train.ts"
expect_fail 1 "adv_weight = -1" ad-train -q --config "$T/adv.conf" --set adv_weight=-1 -o "$T/bad.ts" "$T/train.ts"
[ ! -e "$T/bad.ts" ] && [ ! -e "$T/bad.ckpt.ts" ] || fail "a failed run left output"
ad-train --help-config | grep -q '^  ddis_inner_dims' || fail "--help-config lacks the discriminator keys"
