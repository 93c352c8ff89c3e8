/* types.h -- tensor element types with ggml's numbering and block layouts.
 *
 * The numeric values are the ones stored in GGUF tensor descriptors, so they
 * must never change. Quantised types store `block_size` elements in
 * `type_size` bytes; the block structs are in src/core/quant_blocks.h. */
#ifndef EDGELM_TYPES_H
#define EDGELM_TYPES_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum el_type {
    EL_TYPE_F32 = 0,
    EL_TYPE_F16 = 1,
    EL_TYPE_Q4_0 = 2,
    EL_TYPE_Q4_1 = 3,
    /* 4, 5: removed Q4_2 / Q4_3 */
    EL_TYPE_Q5_0 = 6,
    EL_TYPE_Q5_1 = 7,
    EL_TYPE_Q8_0 = 8,
    EL_TYPE_Q8_1 = 9,
    EL_TYPE_Q2_K = 10,
    EL_TYPE_Q3_K = 11,
    EL_TYPE_Q4_K = 12,
    EL_TYPE_Q5_K = 13,
    EL_TYPE_Q6_K = 14,
    EL_TYPE_Q8_K = 15,
    EL_TYPE_IQ2_XXS = 16,
    EL_TYPE_IQ2_XS = 17,
    EL_TYPE_IQ3_XXS = 18,
    EL_TYPE_IQ1_S = 19,
    EL_TYPE_IQ4_NL = 20,
    EL_TYPE_IQ3_S = 21,
    EL_TYPE_IQ2_S = 22,
    EL_TYPE_IQ4_XS = 23,
    EL_TYPE_I8 = 24,
    EL_TYPE_I16 = 25,
    EL_TYPE_I32 = 26,
    EL_TYPE_I64 = 27,
    EL_TYPE_F64 = 28,
    EL_TYPE_IQ1_M = 29,
    EL_TYPE_BF16 = 30,
    EL_TYPE_TQ1_0 = 34,
    EL_TYPE_TQ2_0 = 35,
    EL_TYPE_MXFP4 = 39,
    EL_TYPE_NVFP4 = 40,
    EL_TYPE_Q1_0 = 41,
    EL_TYPE_Q2_0 = 42,
    EL_TYPE_COUNT = 43
} el_type;

typedef struct el_type_traits {
    const char *name;     /* "f32", "q4_K", ... as ggml names them */
    int64_t block_size;   /* elements per block (1 for plain types) */
    size_t type_size;     /* bytes per block */
    bool is_quantized;
    bool can_dequantize;  /* edgelm has a reference dequantiser for it */
} el_type_traits;

/* Traits of a type id as read from a file; NULL for ids ggml never defined. */
const el_type_traits *el_type_info(uint32_t type);

/* Bytes needed for n elements of `type` (n must be a multiple of the block
 * size). Returns 0 for unknown types, bad n or when the size does not fit. */
size_t el_row_size(el_type type, int64_t n);

/* Reference (scalar) dequantisation of n elements, n a multiple of the block
 * size. src may be at any address (blocks of files with general.alignment 1
 * are not aligned). Returns -1 for types without a dequantiser. */
int el_dequantize_row(el_type type, const void *src, float *dst, int64_t n);

/* Reference (scalar) quantisation of n floats into `type` (n a multiple of
 * the block size): F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q8_1 Q2_K Q3_K Q4_K
 * Q5_K Q6_K Q8_K, with the same rounding and scale search as ggml's reference
 * quantize_row_*_ref (byte-identical output). dst holds el_row_size(type, n)
 * bytes, at any address. Returns -1 for other types. */
int el_quantize_row(el_type type, const float *src, void *dst, int64_t n);

/* Scalar conversions (IEEE half, bfloat16 with round-to-nearest-even). */
float el_fp16_to_fp32(uint16_t h);
uint16_t el_fp32_to_fp16(float f);
float el_bf16_to_fp32(uint16_t h);
uint16_t el_fp32_to_bf16(float f);

#ifdef __cplusplus
}
#endif
#endif
