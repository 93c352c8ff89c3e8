#!/bin/sh
# Build edgelm and run the whole test suite (ctest). Installs missing Debian packages.
#   scripts/test.sh              normal build in build/
#   scripts/test.sh --sanitize   ASan + UBSan build in build-asan/
set -e
cd "$(dirname "$0")/.."
# chromium: the report test renders the HTML report in a headless browser
EL_EXTRA_PKGS="chromium $EL_EXTRA_PKGS" sh scripts/deps.sh
BUILD=build
FLAGS=""
if [ "$1" = "--sanitize" ]; then BUILD=build-asan; FLAGS="-DEL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug"; fi
JOBS=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$BUILD" $FLAGS >/dev/null
cmake --build "$BUILD" -j "$JOBS"
cd "$BUILD"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --output-on-failure -j "$JOBS"
