#!/bin/sh
# Side-by-side speed: edgelm bench and llama.cpp's llama-bench on the same GGUF
# files, same threads, run alternately in one session (machines are noisy:
# compare the ratios of one run, not absolute numbers across runs).
#
#   LLAMA_BENCH=/path/to/llama-bench sh bench/side_by_side.sh [REPS]
#
# Makes the two synthetic models of the speed issue with `edgelm synth` (in
# $OUT, default /tmp/edgelm-bench) and prints one markdown table.
set -e
cd "$(dirname "$0")/.."
EL=${EL:-./build/edgelm}
LB=${LLAMA_BENCH:?set LLAMA_BENCH to the path of llama-bench}
OUT=${OUT:-/tmp/edgelm-bench}
REPS=${1:-3}
T=${THREADS:-2}
mkdir -p "$OUT"
[ -f "$OUT/smollm2-135m-q8_0.gguf" ] || $EL synth --like smollm2-135m --type q8_0 -o "$OUT/smollm2-135m-q8_0.gguf"
[ -f "$OUT/llama-3.2-1b-q4_k_m.gguf" ] || $EL synth --like llama-3.2-1b --type q4_k_m -o "$OUT/llama-3.2-1b-q4_k_m.gguf"
BW=$($EL membw -t "$T" --size 256 -r 5 --json | awk -F: '/"read"/ { gsub(/[ \t,]/, "", $2); print $2 }')
rows=""
for m in smollm2-135m-q8_0 llama-3.2-1b-q4_k_m; do
  f="$OUT/$m.gguf"
  for test in "-p 512 -n 0" "-p 0 -n 128"; do
    name=$(echo "$test" | awk '{ if ($2 != "0") print "pp"$2; else print "tg"$4 }')
    lc=$($LB -m "$f" -t "$T" $test -r "$REPS" -o csv 2>/dev/null | tail -1 | awk -F, '{print $(NF-1)}' | tr -d '"')
    el=$($EL bench -m "$f" -t "$T" $test -r "$REPS" --membw "$BW" -o csv 2>/dev/null | tail -1)
    elts=$(echo "$el" | awk -F, '{print $10}')
    share=$(echo "$el" | awk -F, '{ print $13 }')
    ratio=$(awk -v a="$elts" -v b="$lc" 'BEGIN{ if (b > 0) printf "%.2fx", a/b; else print "?" }')
    rows="$rows$m $name $lc $elts $ratio $share
"
  done
done
# the host's bandwidth moves during a session: measure it again and take the
# higher of the two for the roofline (the stricter share)
BW2=$($EL membw -t "$T" --size 256 -r 5 --json | awk -F: '/"read"/ { gsub(/[ \t,]/, "", $2); print $2 }')
BWMAX=$(awk -v a="$BW" -v b="$BW2" 'BEGIN { print (a > b ? a : b) }')
echo "| model | test | llama.cpp t/s | edgelm t/s | ratio | edgelm roofline |"
echo "|---|---|---:|---:|---:|---:|"
printf '%s' "$rows" | while read -r m name lc elts ratio share; do
  roof=$(awk -v s="$share" -v bw="$BW" -v mx="$BWMAX" 'BEGIN { if (s >= 0) printf "%.0f%%", 100 * s * bw / mx; else print "-" }')
  printf '| %s | %s | %.2f | %.2f | %s | %s |\n' "$m" "$name" "$lc" "$elts" "$ratio" "$roof"
done
echo
echo "read bandwidth (edgelm membw, $T threads, arrays in huge pages, measured, best of 5 before and after): $BW and $BW2 GB/s; the roofline uses $BWMAX"
