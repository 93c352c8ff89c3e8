/* fuzz.h -- every fuzz target defines LLVMFuzzerTestOneInput. Built two ways:
 * with clang -fsanitize=fuzzer (scripts/fuzz.sh, coverage-guided), and with
 * any compiler against replay.c, which feeds it every file of a corpus
 * directory (run by ctest, so found crashes stay fixed). */
#ifndef EL_FUZZ_H
#define EL_FUZZ_H
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif
