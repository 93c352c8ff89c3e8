#!/bin/sh
# Side-by-side speed: edgelm bench and llama.cpp's llama-bench on the same GGUF
# files, same threads, run alternately in one session (machines are noisy:
# compare the ratios of one run, not absolute numbers across runs).
#
#   LLAMA_BENCH=/path/to/llama-bench sh bench/side_by_side.sh [REPS]
#   MODELS="smollm2-135m-q4_0 qwen2.5-0.5b-q4_k_m" LLAMA_BENCH=... sh bench/side_by_side.sh 3
#   DEPTHS="0 2048" LLAMA_BENCH=... sh bench/side_by_side.sh 3   (tests at a filled cache, -d)
#
# Makes the synthetic models with `edgelm synth` (in $OUT, default
# /tmp/edgelm-bench; a name is LIKE-TYPE, as `edgelm synth --like LIKE --type
# TYPE`) and prints one markdown table. MODELS defaults to the two of the
# speed issue.
set -e
cd "$(dirname "$0")/.."
EL=${EL:-./build/edgelm}
LB=${LLAMA_BENCH:?set LLAMA_BENCH to the path of llama-bench}
OUT=${OUT:-/tmp/edgelm-bench}
REPS=${1:-3}
T=${THREADS:-2}
MODELS=${MODELS:-smollm2-135m-q8_0 llama-3.2-1b-q4_k_m}
DEPTHS=${DEPTHS:-0}
mkdir -p "$OUT"
for m in $MODELS; do
  [ -f "$OUT/$m.gguf" ] || $EL synth --like "${m%-*}" --type "${m##*-}" -o "$OUT/$m.gguf"
done
BW=$($EL membw -t "$T" --size 256 -r 5 --json | awk -F: '/"read"/ { gsub(/[ \t,]/, "", $2); print $2 }')
rows=""
for m in $MODELS; do
  f="$OUT/$m.gguf"
  for d in $DEPTHS; do
  for test in "-p 512 -n 0 -d $d" "-p 0 -n 128 -d $d"; do
    name=$(echo "$test" | awk '{ n = ($2 != "0") ? "pp"$2 : "tg"$4; if ($6 != "0") n = n "@d" $6; print n }')
    lc=$($LB -m "$f" -t "$T" $test -r "$REPS" -o csv 2>/dev/null | tail -1 | awk -F, '{print $(NF-1)}' | tr -d '"')
    # edgelm bench reads the bandwidth itself before and after every repetition
    el=$($EL bench -m "$f" -t "$T" $test -r "$REPS" -o csv 2>/dev/null | tail -1)
    elts=$(echo "$el" | awk -F, '{print $10}')
    share=$(echo "$el" | awk -F, '{ print $13 }')
    elbw=$(echo "$el" | awk -F, '{ print $15 }')
    # bytes a token reads: weights and K/V rows
    bpt=$(echo "$el" | awk -F, '{ print $16 + $18 }')
    ratio=$(awk -v a="$elts" -v b="$lc" 'BEGIN{ if (b > 0) printf "%.2fx", a/b; else print "?" }')
    rows="$rows$m $name $lc $elts $ratio $share $elbw $bpt
"
  done
  done
done
# the host's bandwidth moves during a session: measure it again; the strict
# roofline column divides by the highest bandwidth seen in the whole run
BW2=$($EL membw -t "$T" --size 256 -r 5 --json | awk -F: '/"read"/ { gsub(/[ \t,]/, "", $2); print $2 }')
BWMAX=$(printf '%s' "$rows" | awk -v a="$BW" -v b="$BW2" 'BEGIN { m = (a > b ? a : b) } { if ($7 + 0 > m) m = $7 + 0 } END { print m }')
echo "| model | test | llama.cpp t/s | edgelm t/s | ratio | edgelm roofline | bandwidth then (GB/s) | roofline vs best bandwidth |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
printf '%s' "$rows" | while read -r m name lc elts ratio share elbw bpt; do
  roof=$(awk -v s="$share" 'BEGIN { if (s >= 0) printf "%.0f%%", 100 * s; else print "-" }')
  bw=$(awk -v s="$share" -v b="$elbw" 'BEGIN { if (s >= 0) printf "%.1f", b; else print "-" }')
  strict=$(awk -v s="$share" -v t="$elts" -v by="$bpt" -v mx="$BWMAX" 'BEGIN { if (s >= 0) printf "%.0f%%", 100 * by * t / (mx * 1e9); else print "-" }')
  printf '| %s | %s | %.2f | %.2f | %s | %s | %s | %s |\n' "$m" "$name" "$lc" "$elts" "$ratio" "$roof" "$bw" "$strict"
done
echo
f1() { awk -v x="$1" 'BEGIN { printf "%.1f", x }'; }
echo "edgelm roofline: each repetition against the read bandwidth measured right before and after it (the"
echo "higher of the two), averaged; bandwidth then: the mean of those readings. Best bandwidth: the highest"
echo "of those means and of edgelm membw ($T threads, huge pages, best of 5) before and after the run:"
echo "$(f1 "$BW") and $(f1 "$BW2") GB/s; best $(f1 "$BWMAX") GB/s"
