#!/bin/sh
# Build edgelm for aarch64 and run the numeric tests under qemu-aarch64:
# kernels against the float reference, the quantisers, the thread pool and the
# stories260K / tiny-* golden tests. Installs the cross toolchain, qemu-user and
# the arm64 libraries (multiarch) when missing.
set -e
cd "$(dirname "$0")/.."
if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64 >/dev/null ||
   ! dpkg-query -W -f='${Status}' libpng-dev:arm64 2>/dev/null | grep -q "install ok installed"; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  if ! { $SUDO dpkg --add-architecture arm64 && $SUDO apt-get update -qq &&
         DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
         qemu-user libc6:arm64 libutf8proc-dev:arm64 libpcre2-dev:arm64 libcjson-dev:arm64 libcmocka-dev:arm64 \
         libpng-dev:arm64 >/dev/null; }; then
    echo "test-arm: could not install the aarch64 cross toolchain, qemu-user and arm64 libraries" >&2
    exit 3
  fi
fi
cmake -S . -B build-arm -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64.cmake >/dev/null
cmake --build build-arm -j "$(nproc 2>/dev/null || echo 2)" --target test_quant test_qdot test_repack test_golden test_threads
cd build-arm
ctest --output-on-failure -R "^(test_quant|test_qdot|test_repack|test_golden|test_threads)$"
