# Cross-compile for 64-bit ARM (Raspberry Pi 5, Apple M-series under Linux) with
# Debian's gcc-aarch64-linux-gnu; tests run under qemu-aarch64 (Debian qemu-user)
# against the arm64 multiarch libraries (libc6:arm64 etc.).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
# qemu finds the arm64 loader and libraries in their multiarch places; "-L
# /usr/aarch64-linux-gnu" would mix in the cross toolchain's libc, which hangs
# in pthread_create under qemu 7.2.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
