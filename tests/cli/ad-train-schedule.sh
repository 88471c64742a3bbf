#!/usr/bin/env bash
# ad-train: --iters overrides every stage's count (per-resolution keys
# included), and a resumed run's log and loss curve cover the whole run.
. "$(dirname "$0")/../lib.sh"

cat > "$T/pg.conf" <<'CONF'
image_dim = 1
max_image_res = 8
initial_image_res = 4
latent_res = 1
latent_dim = 4
enc_inner_dims = 4,4
dec_inner_dims = 4,4
loss = l1
batch_size = 8
stab_iters = 30
trns_iters = 30
stab_iters.4 = 20
trns_iters.8 = 25
stab_iters.8 = 9
log_every = 1
sample_every = 0
checkpoint_every = 2
lr = 1e-3
CONF
gen-images -n 40 -c 1 -s 8 --seed 3 > "$T/train.ts" || fail "gen-images"

# Rows of the log per stage: "stab 4 N", "trns 8 N", "stab 8 N".
stages() { awk -F'\t' 'NR > 1 { n[$2 " " $3]++ } END { for (k in n) print k, n[k] }' "$1" | sort; }

ad-train -q --config "$T/pg.conf" --iters 3 --log "$T/pg.tsv" -o "$T/pg.ts" "$T/train.ts" || fail "pg --iters 3"
got=$(stages "$T/pg.tsv" | tr '\n' ';')
case "$got" in
  "stab 4 3;stab 8 3;trns 8 3;" | "stab 4 3;stab 8 4;trns 8 3;") ;;
  *) fail "pg --iters 3: stages ran $got, expected 3 each (the last 3 or 4)" ;;
esac
ok "pg --iters 3 overrides stab_iters.4, trns_iters.8, stab_iters.8: $got"

grep -v '^initial_image_res' "$T/pg.conf" > "$T/wo.conf"
ad-train -q --config "$T/wo.conf" --iters 4 --log "$T/wo.tsv" -o "$T/wo.ts" "$T/train.ts" || fail "wo_pg --iters 4"
got=$(stages "$T/wo.tsv" | tr '\n' ';')
case "$got" in "stab 8 4;" | "stab 8 5;") ;; *) fail "wo_pg --iters 4: $got (stab_iters.8 = 9 must not win)" ;; esac
ok "wo_pg --iters 4 overrides stab_iters.8: $got"
ad-train -q --config "$T/wo.conf" --set stab_iters.8=2 --log "$T/wo2.tsv" -o "$T/wo2.ts" "$T/train.ts" || fail "wo_pg"
[ "$(stages "$T/wo2.tsv")" = "stab 8 2" ] || fail "without --iters the per-resolution key counts: $(stages "$T/wo2.tsv")"
expect_fail 2 "--iters must be positive" ad-train --config "$T/wo.conf" --iters 0 -o "$T/bad.ts" "$T/train.ts"

# Resume: the log and the loss curve hold every iteration, once.
command -v gnuplot > /dev/null || skip "gnuplot not installed (loss curves)"
sed -i 's/^sample_every = 0/sample_every = 4/' "$T/pg.conf"
ad-train -q --config "$T/pg.conf" --iters 3 --log "$T/full.tsv" --samples "$T/full" -o "$T/full.ts" "$T/train.ts" ||
  fail "full run"
n=$(($(wc -l < "$T/full.tsv") - 1))
# Interrupted without a log, then resumed with one.
ad-train -q --config "$T/pg.conf" --iters 3 --stop-after 4 --samples "$T/r" -o "$T/r.ts" "$T/train.ts" || fail "stop 4"
ad-train -q --config "$T/pg.conf" --iters 3 --resume --log "$T/r.tsv" --samples "$T/r" -o "$T/r.ts" "$T/train.ts" ||
  fail "resume"
same_file "$T/full.ts" "$T/r.ts"
cut -f1-5 "$T/full.tsv" > "$T/full.cut"; cut -f1-5 "$T/r.tsv" > "$T/r.cut"   # column 6 is a speed
same_file "$T/full.cut" "$T/r.cut"
same_file "$T/full/loss.png" "$T/r/loss.png"
ok "stopped after 4, resumed: the log has all $n iterations, the loss curve is the full run's"
# Interrupted after a checkpoint (iteration 6) with more logged after it:
# the resumed log drops the lines the resumed run repeats.
rm -f "$T/r.ts" "$T/r.ckpt.ts"
ad-train -q --config "$T/pg.conf" --iters 3 --stop-after 6 --log "$T/k.tsv" -o "$T/r.ts" "$T/train.ts" || fail "stop 6"
printf '7\tstab\t8\t0.25\t9.99\t1.0\n' >> "$T/k.tsv"
ad-train -q --config "$T/pg.conf" --iters 3 --resume --log "$T/k.tsv" --samples "$T/k" -o "$T/r.ts" "$T/train.ts" ||
  fail "resume 2"
cut -f1-5 "$T/k.tsv" > "$T/k.cut"
same_file "$T/full.cut" "$T/k.cut"
same_file "$T/full/loss.png" "$T/k/loss.png"
ok "a log line written after the last checkpoint is not repeated"
