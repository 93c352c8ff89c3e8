#!/bin/sh
# Coverage-guided fuzzing with libFuzzer (clang) + ASan + UBSan.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     default: 60 s, every target
# Each target starts from its checked-in seeds (tests/fuzz/corpus/NAME) and grows a
# working corpus in build-fuzz/corpus/NAME. Crashes land in build-fuzz/crashes/NAME/;
# copy each into tests/fuzz/corpus/NAME once fixed so the replay tests keep it fixed.
set -e
cd "$(dirname "$0")/.."
EL_EXTRA_PKGS="clang libclang-rt-14-dev" sh scripts/deps.sh
SECS=${1:-60}
[ $# -gt 0 ] && shift
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DEL_FUZZ=ON -DEL_SANITIZE=ON \
      -DEL_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc 2>/dev/null || echo 2)"
TARGETS="$*"
[ -z "$TARGETS" ] && TARGETS=$(cd build-fuzz && ls fuzz_* | sed 's/^fuzz_//')
summary=""
status=0
for t in $TARGETS; do
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/crashes/$t"
  log="build-fuzz/fuzz_$t.log"
  echo "fuzzing $t for $SECS s ..." >&2
  set +e
  ASAN_OPTIONS=detect_leaks=1 ./build-fuzz/fuzz_$t -max_total_time="$SECS" -max_len=65536 \
     -rss_limit_mb=4096 -artifact_prefix="build-fuzz/crashes/$t/" -print_final_stats=1 \
     "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'Done [0-9]* runs' "$log" | tail -1 | awk '{print $2}')
  crashes=$(ls "build-fuzz/crashes/$t" | wc -l)
  [ $rc -ne 0 ] && status=1
  summary="$summary$(printf '%-20s %12s execs  %3s crashes  exit %d' "$t" "${runs:-?}" "$crashes" "$rc")
"
done
printf '\n%-20s %12s\n' target executions
printf '%s' "$summary"
exit $status
