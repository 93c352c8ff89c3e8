/* vexpf.h -- expf of many arguments at once, bit for bit the C library's.
 *
 * llama.cpp's CPU attention calls the C library's expf once per key; to give
 * the same numbers edgelm must too, and one call at a time costs more than
 * the rest of a decode step's attention. glibc's expf (since 2.27) is a short
 * table-and-polynomial algorithm in double precision (published by Arm:
 * a 32-entry table of 2^(i/32), a degree-3 polynomial, round-to-nearest by
 * adding 1.5 * 2^52), and on a CPU with FMA the library's own copy fuses one
 * multiply-subtract. el_vexpf repeats those double operations 8 lanes at a
 * time with AVX-512. Checked against this machine's expf once, on first use
 * (el_vexpf_exact); where it does not agree (another C library) every value
 * comes from expf itself. tests/test_vexpf.c compares it with expf on every
 * float in [-104, 0], the range a softmax uses. */
#ifndef EDGELM_VEXPF_H
#define EDGELM_VEXPF_H

#include <stdbool.h>

/* y[i] = expf(x[i]) for i < n, identical to the C library's result. */
void el_vexpf(const float *x, float *y, int n);

/* true when the vector path is in use (AVX-512 and it reproduced this C
 * library's expf on the check's arguments) */
bool el_vexpf_exact(void);

#endif
