/* fdot.h -- float dot products of F32, F16 and BF16 weight rows with F32
 * activations, chosen at run time by CPU features (like qdot.h for the
 * integer kernels).
 *
 * Weights are widened to F32 exactly (F16 by F16C vcvtph2ps / NEON fcvtl,
 * BF16 by a 16-bit shift) and multiplied with the activations by FMA into
 * F32 accumulators, so the only difference to the scalar reference is the
 * order of the float sums. One weight row meets up to 4 activation rows.
 *
 * The one exception is opt-in: EL_BF16_DOT=1 on a CPU with AVX512_BF16 makes
 * BF16 weights use vdpbf16ps, which needs the activations rounded to BF16
 * first (a relative error of up to 2^-8 per activation, what llama.cpp does
 * for BF16 weights). Without it every path is float-exact in the sense above. */
#ifndef EL_FDOT_H
#define EL_FDOT_H

#include <stddef.h>
#include <stdint.h>

#include "edgelm/types.h"

typedef enum el_fdot_isa {
    EL_FDOT_SCALAR = 0,      /* the reference: 8 partial sums like ops_dot_f32 */
    EL_FDOT_AVX2 = 1,        /* AVX2 + FMA + F16C, 256-bit */
    EL_FDOT_AVX512 = 2,      /* AVX-512 F/BW/VL, 512-bit */
    EL_FDOT_AVX512_BF16 = 3, /* as AVX512, plus vdpbf16ps for BF16 weights (BF16 activations) */
    EL_FDOT_NEON = 4         /* AArch64 NEON (F16 by conversion, no fp16 arithmetic) */
} el_fdot_isa;

/* out[r] = dot(weight row w, activation row r) for r < nr (1..4); activation
 * row r starts x_stride bytes after row r-1. n is any count >= 1 (no block
 * size). w may be at any address. */
typedef void (*el_fdot_fn)(int64_t n, const void *w, const void *x, size_t x_stride, int nr, float *out);

/* out[q * 4 + r] = dot(weight row q, activation row r) for q < nw, r < nr
 * (1..4); weight row q starts w_stride bytes after row q - 1. Each result is
 * bit for bit the el_fdot_fn one (the one-row kernel is the tile of one row);
 * EL_FDOT_TILE_NW rows at once go fastest (el_fdot_tile_rows says how many to
 * take of what is left). Decode keeps the one-row kernel: rows side by side
 * are short streams that the hardware prefetcher follows badly. */
#define EL_FDOT_TILE_NW 4
typedef void (*el_fdot_tile_fn)(int64_t n, const void *w, size_t w_stride, int nw, const void *x, size_t x_stride, int nr,
                                float *out);
/* NULL where only the one-row kernels exist */
el_fdot_tile_fn el_fdot_get_tile(el_type wtype, el_fdot_isa isa);
/* weight rows to hand the tile kernel next when left remain (16 -> 4 4 4 4) */
static inline int el_fdot_tile_rows(int64_t left) { return left >= EL_FDOT_TILE_NW ? EL_FDOT_TILE_NW : (int)left; }

bool el_fdot_supported(el_type wtype);   /* F32, F16, BF16 */
el_fdot_fn el_fdot_get(el_type wtype, el_fdot_isa isa);   /* NULL if none on this ISA */
/* Does that kernel take BF16 activations (el_fdot_round_bf16) instead of F32? */
bool el_fdot_bf16_act(el_type wtype, el_fdot_isa isa);
/* dst[i] = x[i] rounded to BF16 (to nearest even). */
void el_fdot_round_bf16(const float *x, uint16_t *dst, int64_t n);

/* The best ISA of this CPU. EL_KERNELS=scalar|avx2|vnni|neon forces the
 * matching level (vnni means AVX-512 here); EL_BF16_DOT=1 allows
 * EL_FDOT_AVX512_BF16. */
el_fdot_isa el_fdot_best_isa(void);
const char *el_fdot_isa_name(el_fdot_isa isa);

#endif
