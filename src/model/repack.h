/* repack.h -- weight matrices rearranged at load for AVX-512 VNNI.
 *
 * A packed matrix keeps the source type's numbers (the same codes, scales and
 * mins, nothing re-quantised) but stores 16 output rows side by side: for each
 * block of the source type, the 16 rows' scales, then their codes interleaved
 * four bytes at a time, so one 64-byte load holds four consecutive codes of
 * each of the 16 rows and one vpdpbusd with a broadcast group of four
 * activation codes gives 16 partial dot products at once. One pass over a
 * weight block then serves up to 8 activation rows (prompt batches) or one
 * (decode), and the per-block scale work is done once per 16 rows instead of
 * once per row.
 *
 * Layouts (per group of 16 rows, blocks in order along the row, each read
 * front to back):
 *   q8_0:  per pair of blocks of 32: the 2 x 16 f16 scales (64 B), then per
 *          block 8 x 64 B of codes + 128 (u8; the activation sum corrects)
 *   q4_K:  per 256: 16 f16 d, 16 f16 dmin, 8 x 16 six-bit scales (u8), 8 x 16
 *          mins (u8, in pairs), 32 x 64 B of nibbles (low nibble: codes 0..3
 *          of an 8-code step, high nibble: codes 4..7)
 *   q4_0:  as q8_0, with per block 4 x 64 B of nibbles (code, zero point 8;
 *          low nibble: codes 0..3 of an 8-code step, high nibble: codes 4..7)
 *   q5_0:  as q4_0, with the codes' fifth bits (64 B) before each block's nibbles
 *   q5_K:  as q4_K up to the mins, then per sub-block of 32 its fifth bits
 *          (64 B, as q5_0) and its 4 x 64 B of nibbles
 *   q6_K:  per 256: 16 f16 d (and 32 B padding), 16 x 16 int8 scales, then
 *          per sub-block of 16: its high two bits (64 B), then 2 x 64 B of low
 *          nibbles (as q4_K)
 *   f16, bf16: the 16 rows as they are, one after the other (float kernels
 *          of fdot.h; only moved into the huge-page arena, and grouped so
 *          that decode shares them out like the others)
 * Rows past the end of the matrix are zero in the last group.
 *
 * Kernels for x86-64: AVX-512 VNNI on zmm (16 rows at once), and on ymm (two
 * halves of 8 rows) with VNNI (EVEX or VEX) or plain AVX2 (all but q8_0).
 * ARM with the dot-product extension: sdot by lane, 4 rows per vector.
 * EL_REPACK=0 turns packing off (the row kernels of qdot.h are used then, as
 * on other CPUs). */
#ifndef EL_MODEL_REPACK_H
#define EL_MODEL_REPACK_H

#include <stdint.h>

#include "edgelm/gguf.h"
#include "edgelm/threads.h"

/* Which kernels a packed matrix is for. */
typedef enum el_pk_isa {
    EL_PK_NONE = 0,
    EL_PK_AVX2 = 1,      /* vpmaddubsw into int16 pairs: q4_K, q6_K */
    EL_PK_VNNI256 = 2,   /* vpdpbusd on ymm (AVX-512 VL + VNNI) */
    EL_PK_AVX512 = 3,    /* vpdpbusd on zmm: the default where AVX-512 VNNI runs */
    EL_PK_AVXVNNI = 4,   /* vpdpbusd on ymm, VEX encoding (AVX-VNNI CPUs without AVX-512) */
    EL_PK_NEON = 5,      /* ARM sdot by lane (the dot-product extension) */
} el_pk_isa;

typedef struct el_packed {
    int isa;             /* el_pk_isa */
    el_type type;        /* the source type */
    int64_t in, out;     /* ne0 (length of a row), ne1 (rows) */
    int64_t groups;      /* ceil(out / 16) */
    size_t group_bytes;  /* bytes of one group of 16 rows */
    uint8_t *data;       /* 64-byte aligned */
    bool owns_data;      /* allocated by el_repack_as (else the caller's arena) */
} el_packed;

/* The kernels used here: the best this CPU runs; EL_REPACK=0 -> none,
 * EL_KERNELS=avx2 -> AVX2, EL_KERNELS=scalar -> none. */
el_pk_isa el_repack_isa(void);
const char *el_pk_isa_name(el_pk_isa isa);
/* Has isa a kernel for type t, and does this CPU run it? */
bool el_repack_supports(el_type t, el_pk_isa isa);
/* Can W be packed here (type, row length, el_repack_isa)? */
bool el_repack_wanted(const el_gguf_tensor *W);
/* Activation rows one kernel call takes at most. */
int el_packed_max_nc(const el_packed *p);
/* Bytes the packed copy of W takes (a multiple of 64). */
size_t el_repack_size(const el_gguf_tensor *W);
/* Pack W over the pool tp (may be NULL). release: W's data is a read-only
 * file mapping whose pages may be given back (madvise) as they are packed.
 * dst: el_repack_size(W) bytes, 64-byte aligned, that the caller owns (a
 * slice of an el_huge_alloc arena), or NULL to allocate them here.
 * NULL and err set on allocation failure. */
el_packed *el_repack(const el_gguf_tensor *W, el_threads *tp, bool release, uint8_t *dst, el_err *err);
/* The same for the kernels of a given ISA (tests). */
el_packed *el_repack_as(const el_gguf_tensor *W, el_pk_isa isa, el_threads *tp, bool release, uint8_t *dst,
                        el_err *err);
void el_packed_free(el_packed *p);
size_t el_packed_bytes(const el_packed *p);

/* Row r of the matrix as floats (the embedding lookup of tied weights). */
void el_packed_get_row(const el_packed *p, int64_t r, float *dst);

/* The activations p takes: 0 F32 as they are (F16, BF16), 1 quantised in
 * blocks of 32 (el_act_q8: q8_0, q4_0, q5_0), 2 in blocks of 256 (the
 * k-quants). Products sharing one quantised row must agree. */
int el_packed_act_kind(const el_packed *p);
/* Activation rows quantised for the packed kernels: bytes per row of in floats. */
size_t el_packed_act_row_bytes(const el_packed *p);
void el_packed_quantize_act(const el_packed *p, const float *x, void *dst);

/* Y rows [c0, c0+nc) x output groups [g0, g1): y(c, r) = act row c . weight row r.
 * act rows are act_row bytes apart, Y rows ldy floats apart; nc <= el_packed_max_nc. */
void el_packed_kernel(const el_packed *p, int64_t g0, int64_t g1, const uint8_t *act, size_t act_row, int nc,
                      float *Y, size_t ldy);

#endif
