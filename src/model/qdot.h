/* qdot.h -- integer dot products of quantised weight rows with activations
 * quantised on the fly (the way ggml does it: Q8 activations per 32 for the
 * legacy types, per 256 with 16-element sums for the k-quants), chosen at run
 * time by CPU features: AVX-512 VNNI (256-bit vpdpbusd), AVX2, or scalar.
 *
 * Unsigned weight codes meet signed activation codes in one u8 x s8 product;
 * the weight's offset (8 for q4_0, 16 for q5_0, 32 for q6_K) is removed with
 * the activation block's sum, q4_K / q5_K mins with the 16-element sums, and
 * q8_0 weights use the sign trick (|w| x sign(w)·a).
 *
 * Types: q8_0, q4_0, q5_0 (el_act_q8); q4_K, q5_K, q6_K (el_act_q8k). */
#ifndef EL_QDOT_H
#define EL_QDOT_H

#include <stdint.h>

#include "edgelm/types.h"

/* Activation block for legacy weight types: 32 codes. */
typedef struct el_act_q8 {
    float d;        /* x ~= d * q */
    int32_t sum;    /* sum of q */
    int8_t qs[32];
} el_act_q8;

/* Activation block for k-quant weight types: 256 codes. */
typedef struct el_act_q8k {
    float d;
    int16_t bsums[16];   /* sums of each 16 codes */
    int8_t qs[256];
} el_act_q8k;

typedef enum el_qdot_isa { EL_ISA_SCALAR = 0, EL_ISA_AVX2 = 1, EL_ISA_VNNI = 2, EL_ISA_NEON = 3 } el_qdot_isa;

/* Does this weight type have an integer kernel? Which activation format? */
bool el_qdot_supported(el_type wtype);
bool el_qdot_uses_k(el_type wtype);   /* el_act_q8k, else el_act_q8 */
size_t el_qdot_act_row_bytes(el_type wtype, int64_t n);

/* Quantise one activation row of n floats (n a multiple of 32 / 256). */
void el_qdot_quantize_act(el_type wtype, const float *x, void *dst, int64_t n);

/* out[i] = dot(weight row, activation row i) for i < nrows (1..4 rows that
 * share the weight row; act rows are act_stride bytes apart). */
typedef void (*el_qdot_fn)(int64_t n, const void *w, const void *act, size_t act_stride, int nrows, float *out);

/* The kernel for a weight type on the given ISA (NULL if none). */
el_qdot_fn el_qdot_get(el_type wtype, el_qdot_isa isa);
/* The best ISA this CPU runs (EL_KERNELS=scalar|avx2|vnni|neon forces one). */
el_qdot_isa el_qdot_best_isa(void);
const char *el_qdot_isa_name(el_qdot_isa isa);

#endif
