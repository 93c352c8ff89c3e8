/* quant_blocks.h -- block layouts of ggml's quantised types (byte-exact).
 *
 * Every block stores a fixed number of elements (32 for the "legacy" types,
 * 256 = QK_K for the k-quants) in a fixed number of bytes; the sizes are
 * checked at compile time below. Half-precision fields are raw IEEE fp16
 * bits (uint16_t), little-endian like the rest of the file. */
#ifndef EL_QUANT_BLOCKS_H
#define EL_QUANT_BLOCKS_H

#include <stdint.h>

#define EL_QK 32      /* elements per legacy block */
#define EL_QK_K 256   /* elements per k-quant super-block */
#define EL_K_SCALE_SIZE 12

/* x = d * (q - 8), q in 0..15; byte j holds elements j (low nibble) and j+16 */
typedef struct { uint16_t d; uint8_t qs[EL_QK / 2]; } el_block_q4_0;
/* x = d * q + m */
typedef struct { uint16_t d, m; uint8_t qs[EL_QK / 2]; } el_block_q4_1;
/* 5th bit of element j in bit j of qh (LE u32); x = d * (q - 16) */
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[EL_QK / 2]; } el_block_q5_0;
/* x = d * q + m */
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[EL_QK / 2]; } el_block_q5_1;
/* x = d * q */
typedef struct { uint16_t d; int8_t qs[EL_QK]; } el_block_q8_0;
/* x = d * q; s = d * sum(q) */
typedef struct { uint16_t d, s; int8_t qs[EL_QK]; } el_block_q8_1;

/* 16 sub-blocks of 16: 4-bit scale (low) and 4-bit min (high) per sub-block,
 * 2-bit quants; x = d * sc * q - dmin * m */
typedef struct {
    uint8_t scales[EL_QK_K / 16];
    uint8_t qs[EL_QK_K / 4];
    uint16_t d, dmin;
} el_block_q2_K;
/* 16 sub-blocks of 16: 6-bit scales packed in 12 bytes, 2 low bits in qs,
 * high bit in hmask; x = d * (sc - 32) * (q - 4 * !hbit) */
typedef struct {
    uint8_t hmask[EL_QK_K / 8];
    uint8_t qs[EL_QK_K / 4];
    uint8_t scales[12];
    uint16_t d;
} el_block_q3_K;
/* 8 sub-blocks of 32: 6-bit scales and mins packed in 12 bytes;
 * x = d * sc * q - dmin * m */
typedef struct {
    uint16_t d, dmin;
    uint8_t scales[EL_K_SCALE_SIZE];
    uint8_t qs[EL_QK_K / 2];
} el_block_q4_K;
/* as Q4_K plus a 5th bit per element in qh */
typedef struct {
    uint16_t d, dmin;
    uint8_t scales[EL_K_SCALE_SIZE];
    uint8_t qh[EL_QK_K / 8];
    uint8_t qs[EL_QK_K / 2];
} el_block_q5_K;
/* 16 sub-blocks of 16 with int8 scales; 4 low bits in ql, 2 high in qh;
 * x = d * sc * (q - 32) */
typedef struct {
    uint8_t ql[EL_QK_K / 2];
    uint8_t qh[EL_QK_K / 4];
    int8_t scales[EL_QK_K / 16];
    uint16_t d;
} el_block_q6_K;
/* intermediate type for dot products: float scale, int8 quants, sums of 16 */
typedef struct {
    float d;
    int8_t qs[EL_QK_K];
    int16_t bsums[EL_QK_K / 16];
} el_block_q8_K;

/* Scale and min j (0..7) of a Q4_K / Q5_K block, 6 bits each, packed in its
 * 12 scale bytes q. */
static inline void el_k4_scale_min(int j, const uint8_t *q, int *sc, int *m)
{
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

_Static_assert(sizeof(el_block_q4_0) == 18, "q4_0 block size");
_Static_assert(sizeof(el_block_q4_1) == 20, "q4_1 block size");
_Static_assert(sizeof(el_block_q5_0) == 22, "q5_0 block size");
_Static_assert(sizeof(el_block_q5_1) == 24, "q5_1 block size");
_Static_assert(sizeof(el_block_q8_0) == 34, "q8_0 block size");
_Static_assert(sizeof(el_block_q8_1) == 36, "q8_1 block size");
_Static_assert(sizeof(el_block_q2_K) == 84, "q2_K block size");
_Static_assert(sizeof(el_block_q3_K) == 110, "q3_K block size");
_Static_assert(sizeof(el_block_q4_K) == 144, "q4_K block size");
_Static_assert(sizeof(el_block_q5_K) == 176, "q5_K block size");
_Static_assert(sizeof(el_block_q6_K) == 210, "q6_K block size");
_Static_assert(sizeof(el_block_q8_K) == 292, "q8_K block size");

#endif
