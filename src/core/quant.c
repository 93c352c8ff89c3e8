/* quant.c -- element types: traits table (ggml numbering), fp16/bf16
 * conversions, reference scalar dequantisers and quantisers.
 *
 * Block layouts are ggml's (see quant_blocks.h); the quantisers follow the
 * same scale search as ggml's reference quantize_row_*_ref so files written
 * here decode the same everywhere. */
#include "edgelm/types.h"

#include <math.h>
#include <string.h>

#include "core/quant_blocks.h"

/* ---- traits ---- */

#define PLAIN(nm, sz) {nm, 1, sz, false, true}
#define QUANT(nm, bs, sz, deq) {nm, bs, sz, true, deq}

static const el_type_traits type_traits[EL_TYPE_COUNT] = {
    [EL_TYPE_F32] = PLAIN("f32", 4),
    [EL_TYPE_F16] = PLAIN("f16", 2),
    [EL_TYPE_Q4_0] = QUANT("q4_0", 32, 18, true),
    [EL_TYPE_Q4_1] = QUANT("q4_1", 32, 20, true),
    [EL_TYPE_Q5_0] = QUANT("q5_0", 32, 22, true),
    [EL_TYPE_Q5_1] = QUANT("q5_1", 32, 24, true),
    [EL_TYPE_Q8_0] = QUANT("q8_0", 32, 34, true),
    [EL_TYPE_Q8_1] = QUANT("q8_1", 32, 36, true),
    [EL_TYPE_Q2_K] = QUANT("q2_K", 256, 84, true),
    [EL_TYPE_Q3_K] = QUANT("q3_K", 256, 110, true),
    [EL_TYPE_Q4_K] = QUANT("q4_K", 256, 144, true),
    [EL_TYPE_Q5_K] = QUANT("q5_K", 256, 176, true),
    [EL_TYPE_Q6_K] = QUANT("q6_K", 256, 210, true),
    [EL_TYPE_Q8_K] = QUANT("q8_K", 256, 292, true),
    [EL_TYPE_IQ2_XXS] = QUANT("iq2_xxs", 256, 66, false),
    [EL_TYPE_IQ2_XS] = QUANT("iq2_xs", 256, 74, false),
    [EL_TYPE_IQ3_XXS] = QUANT("iq3_xxs", 256, 98, false),
    [EL_TYPE_IQ1_S] = QUANT("iq1_s", 256, 50, false),
    [EL_TYPE_IQ4_NL] = QUANT("iq4_nl", 32, 18, false),
    [EL_TYPE_IQ3_S] = QUANT("iq3_s", 256, 110, false),
    [EL_TYPE_IQ2_S] = QUANT("iq2_s", 256, 82, false),
    [EL_TYPE_IQ4_XS] = QUANT("iq4_xs", 256, 136, false),
    [EL_TYPE_I8] = {"i8", 1, 1, false, false},
    [EL_TYPE_I16] = {"i16", 1, 2, false, false},
    [EL_TYPE_I32] = {"i32", 1, 4, false, false},
    [EL_TYPE_I64] = {"i64", 1, 8, false, false},
    [EL_TYPE_F64] = {"f64", 1, 8, false, false},
    [EL_TYPE_IQ1_M] = QUANT("iq1_m", 256, 56, false),
    [EL_TYPE_BF16] = PLAIN("bf16", 2),
    /* 31..33: removed Q4_0_4_4, Q4_0_4_8, Q4_0_8_8 */
    [EL_TYPE_TQ1_0] = QUANT("tq1_0", 256, 54, false),
    [EL_TYPE_TQ2_0] = QUANT("tq2_0", 256, 66, false),
    /* 36..38: removed IQ4_NL_4_4, IQ4_NL_4_8, IQ4_NL_8_8 */
    [EL_TYPE_MXFP4] = QUANT("mxfp4", 32, 17, false),
    [EL_TYPE_NVFP4] = QUANT("nvfp4", 64, 36, false),
    [EL_TYPE_Q1_0] = QUANT("q1_0", 128, 18, false),
    [EL_TYPE_Q2_0] = QUANT("q2_0", 64, 18, false),
};

const el_type_traits *el_type_info(uint32_t type)
{
    if (type >= EL_TYPE_COUNT || !type_traits[type].name) return NULL;
    return &type_traits[type];
}

size_t el_row_size(el_type type, int64_t n)
{
    const el_type_traits *tr = el_type_info((uint32_t)type);
    if (!tr || n < 0 || n % tr->block_size) return 0;
    uint64_t blocks = (uint64_t)(n / tr->block_size);
    if (blocks > SIZE_MAX / tr->type_size) return 0;
    return (size_t)blocks * tr->type_size;
}

/* ---- scalar conversions ---- */

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float el_fp16_to_fp32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    if (exp == 0) {
        /* zero or subnormal: mant * 2^-24 is exact in fp32 */
        float v = (float)mant * 0x1p-24f;
        return bits_f32(f32_bits(v) | sign);
    }
    if (exp == 31) return bits_f32(sign | 0x7f800000u | (mant << 13)); /* inf / nan */
    return bits_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

/* Round q (with `shift` discarded low bits in `full`) to nearest, ties to even. */
static uint32_t round_shift_rne(uint32_t full, int shift)
{
    uint32_t q = full >> shift;
    uint32_t rem = full & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) q++;
    return q;
}

uint16_t el_fp32_to_fp16(float f)
{
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) /* nan: keep it quiet, keep the top payload bits */
        return (uint16_t)(sign | 0x7e00 | ((ax >> 13) & 0x3ff));
    if (ax >= 0x477ff000u) return sign | 0x7c00; /* >= 65520 rounds to inf */
    uint32_t exp = ax >> 23;
    if (exp < 113) {
        /* half subnormal (or zero): units of 2^-24 */
        if (exp < 101) return sign; /* below 2^-25: rounds to zero */
        uint32_t mant = (ax & 0x7fffffu) | 0x800000u;
        return (uint16_t)(sign | round_shift_rne(mant, (int)(126 - exp)));
    }
    uint32_t h = ((exp - 112) << 10) | ((ax & 0x7fffffu) >> 13);
    uint32_t rem = ax & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++; /* carry into the exponent is correct */
    return (uint16_t)(sign | h);
}

float el_bf16_to_fp32(uint16_t h)
{
    return bits_f32((uint32_t)h << 16);
}

uint16_t el_fp32_to_bf16(float f)
{
    uint32_t x = f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40); /* quiet nan */
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1)) >> 16);
}

#define H2F(h) el_fp16_to_fp32(h)

/* ---- dequantisers: y (n,) = dequant(blocks) ---- */

static void deq_q4_0(const el_block_q4_0 *b, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, y += EL_QK) {
        float d = H2F(b[i].d);
        for (int j = 0; j < EL_QK / 2; j++) {
            y[j] = d * ((b[i].qs[j] & 0xf) - 8);
            y[j + EL_QK / 2] = d * ((b[i].qs[j] >> 4) - 8);
        }
    }
}

static void deq_q4_1(const el_block_q4_1 *b, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, y += EL_QK) {
        float d = H2F(b[i].d), m = H2F(b[i].m);
        for (int j = 0; j < EL_QK / 2; j++) {
            y[j] = d * (b[i].qs[j] & 0xf) + m;
            y[j + EL_QK / 2] = d * (b[i].qs[j] >> 4) + m;
        }
    }
}

static uint32_t load_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void deq_q5_0(const el_block_q5_0 *b, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, y += EL_QK) {
        float d = H2F(b[i].d);
        uint32_t qh = load_u32le(b[i].qh);
        for (int j = 0; j < EL_QK / 2; j++) {
            int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;
            y[j] = d * (((b[i].qs[j] & 0xf) | h0 << 4) - 16);
            y[j + EL_QK / 2] = d * (((b[i].qs[j] >> 4) | h1 << 4) - 16);
        }
    }
}

static void deq_q5_1(const el_block_q5_1 *b, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, y += EL_QK) {
        float d = H2F(b[i].d), m = H2F(b[i].m);
        uint32_t qh = load_u32le(b[i].qh);
        for (int j = 0; j < EL_QK / 2; j++) {
            int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;
            y[j] = d * ((b[i].qs[j] & 0xf) | h0 << 4) + m;
            y[j + EL_QK / 2] = d * ((b[i].qs[j] >> 4) | h1 << 4) + m;
        }
    }
}

static void deq_q8_0(const el_block_q8_0 *b, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, y += EL_QK) {
        float d = H2F(b[i].d);
        for (int j = 0; j < EL_QK; j++) y[j] = d * b[i].qs[j];
    }
}

static void deq_q8_1(const el_block_q8_1 *b, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, y += EL_QK) {
        float d = H2F(b[i].d);
        for (int j = 0; j < EL_QK; j++) y[j] = d * b[i].qs[j];
    }
}

static void deq_q2_K(const el_block_q2_K *b, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        float d = H2F(b[i].d), dmin = H2F(b[i].dmin);
        const uint8_t *q = b[i].qs;
        int is = 0;
        /* two halves of 128; in each, 4 bit-planes (shift 0,2,4,6) of 32 bytes,
         * each plane covering 2 sub-blocks of 16 */
        for (int half = 0; half < 2; half++, q += 32)
            for (int shift = 0; shift < 8; shift += 2)
                for (int part = 0; part < 2; part++) {
                    uint8_t sc = b[i].scales[is++];
                    float dl = d * (sc & 0xf), ml = dmin * (sc >> 4);
                    for (int l = 0; l < 16; l++) *y++ = dl * ((q[part * 16 + l] >> shift) & 3) - ml;
                }
    }
}

/* Unpack the 16 6-bit scales of Q3_K (stored in 12 bytes): low 4 bits of
 * scale j in byte j%8 (nibble j/8), high 2 bits in byte 8 + j%4 (pair j/4). */
static void unpack_q3_K_scales(const uint8_t *s, int sc[16])
{
    for (int j = 0; j < 16; j++) {
        int lo = (s[j % 8] >> (4 * (j / 8))) & 0xf;
        int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
        sc[j] = (lo | hi << 4) - 32;
    }
}

static void deq_q3_K(const el_block_q3_K *b, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        float d = H2F(b[i].d);
        int sc[16];
        unpack_q3_K_scales(b[i].scales, sc);
        const uint8_t *q = b[i].qs;
        int is = 0;
        uint8_t m = 1;
        for (int half = 0; half < 2; half++, q += 32)
            for (int shift = 0; shift < 8; shift += 2, m <<= 1)
                for (int part = 0; part < 2; part++) {
                    float dl = d * sc[is++];
                    for (int l = 0; l < 16; l++) {
                        int k = part * 16 + l;
                        int v = ((q[k] >> shift) & 3) - ((b[i].hmask[k] & m) ? 0 : 4);
                        *y++ = dl * v;
                    }
                }
    }
}

static void deq_q4_K(const el_block_q4_K *b, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        float d = H2F(b[i].d), dmin = H2F(b[i].dmin);
        const uint8_t *q = b[i].qs;
        /* 4 chunks of 64: 32 bytes, low nibbles = sub-block 2c, high = 2c+1 */
        for (int c = 0; c < 4; c++, q += 32) {
            int sc, m;
            el_k4_scale_min(2 * c, b[i].scales, &sc, &m);
            float d1 = d * sc, m1 = dmin * m;
            el_k4_scale_min(2 * c + 1, b[i].scales, &sc, &m);
            float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 0xf) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - m2;
        }
    }
}

static void deq_q5_K(const el_block_q5_K *b, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        float d = H2F(b[i].d), dmin = H2F(b[i].dmin);
        const uint8_t *ql = b[i].qs, *qh = b[i].qh;
        for (int c = 0; c < 4; c++, ql += 32) {
            int sc, m;
            el_k4_scale_min(2 * c, b[i].scales, &sc, &m);
            float d1 = d * sc, m1 = dmin * m;
            el_k4_scale_min(2 * c + 1, b[i].scales, &sc, &m);
            float d2 = d * sc, m2 = dmin * m;
            uint8_t u1 = (uint8_t)(1u << (2 * c)), u2 = (uint8_t)(2u << (2 * c));
            for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xf) + ((qh[l] & u1) ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
        }
    }
}

static void deq_q6_K(const el_block_q6_K *b, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++) {
        float d = H2F(b[i].d);
        const uint8_t *ql = b[i].ql, *qh = b[i].qh;
        const int8_t *sc = b[i].scales;
        /* two halves of 128: 64 ql bytes, 32 qh bytes, 8 scales */
        for (int half = 0; half < 2; half++, y += 128, ql += 64, qh += 32, sc += 8)
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int q1 = ((ql[l] & 0xf) | ((qh[l] >> 0) & 3) << 4) - 32;
                int q2 = ((ql[l + 32] & 0xf) | ((qh[l] >> 2) & 3) << 4) - 32;
                int q3 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
                int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
                y[l] = d * sc[is + 0] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
    }
}

static void deq_q8_K(const el_block_q8_K *b, float *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, y += EL_QK_K)
        for (int j = 0; j < EL_QK_K; j++) y[j] = b[i].d * b[i].qs[j];
}

/* Blocks in a file need not be aligned for their struct (general.alignment
 * may be 1): decode in place when they are, else through an aligned copy of
 * one block at a time. */
#define DEQ_BLOCKS(T, fn, bs)                                                        \
    do {                                                                             \
        const uint8_t *p_ = src;                                                     \
        if ((uintptr_t)p_ % _Alignof(T) == 0) {                                      \
            fn((const T *)(const void *)p_, dst, nb);                                \
        } else {                                                                     \
            T tmp_;                                                                  \
            for (int64_t i_ = 0; i_ < nb; i_++) {                                    \
                memcpy(&tmp_, p_ + (size_t)i_ * sizeof(T), sizeof(T));              \
                fn(&tmp_, dst + i_ * (bs), 1);                                       \
            }                                                                        \
        }                                                                            \
        return 0;                                                                    \
    } while (0)

int el_dequantize_row(el_type type, const void *src, float *dst, int64_t n)
{
    const el_type_traits *tr = el_type_info((uint32_t)type);
    if (!tr || !tr->can_dequantize || n < 0 || n % tr->block_size) return -1;
    int64_t nb = n / tr->block_size;
    switch (type) {
    case EL_TYPE_F32: memcpy(dst, src, (size_t)n * 4); return 0;
    case EL_TYPE_F16: {
        const uint8_t *p = src;
        for (int64_t i = 0; i < n; i++) dst[i] = el_fp16_to_fp32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        return 0;
    }
    case EL_TYPE_BF16: {
        const uint8_t *p = src;
        for (int64_t i = 0; i < n; i++) dst[i] = el_bf16_to_fp32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        return 0;
    }
    case EL_TYPE_Q4_0: DEQ_BLOCKS(el_block_q4_0, deq_q4_0, EL_QK);
    case EL_TYPE_Q4_1: DEQ_BLOCKS(el_block_q4_1, deq_q4_1, EL_QK);
    case EL_TYPE_Q5_0: DEQ_BLOCKS(el_block_q5_0, deq_q5_0, EL_QK);
    case EL_TYPE_Q5_1: DEQ_BLOCKS(el_block_q5_1, deq_q5_1, EL_QK);
    case EL_TYPE_Q8_0: DEQ_BLOCKS(el_block_q8_0, deq_q8_0, EL_QK);
    case EL_TYPE_Q8_1: DEQ_BLOCKS(el_block_q8_1, deq_q8_1, EL_QK);
    case EL_TYPE_Q2_K: DEQ_BLOCKS(el_block_q2_K, deq_q2_K, EL_QK_K);
    case EL_TYPE_Q3_K: DEQ_BLOCKS(el_block_q3_K, deq_q3_K, EL_QK_K);
    case EL_TYPE_Q4_K: DEQ_BLOCKS(el_block_q4_K, deq_q4_K, EL_QK_K);
    case EL_TYPE_Q5_K: DEQ_BLOCKS(el_block_q5_K, deq_q5_K, EL_QK_K);
    case EL_TYPE_Q6_K: DEQ_BLOCKS(el_block_q6_K, deq_q6_K, EL_QK_K);
    case EL_TYPE_Q8_K: DEQ_BLOCKS(el_block_q8_K, deq_q8_K, EL_QK_K);
    default: return -1;
    }
}

/* ---- quantisers (reference, scalar) ----
 * Same arithmetic as ggml's quantize_row_*_ref, so the bytes match. */

/* Round to nearest, ties to even (valid for |v| < 2^22, like ggml's helper). */
static int nearest_int(float v)
{
    float t = v + 12582912.f; /* 1.5 * 2^23 */
    int32_t i;
    memcpy(&i, &t, 4);
    return (i & 0x007fffff) - 0x00400000;
}

/* Truncating float->int with the result clamped to [lo, hi] (no UB on nan/inf). */
static int trunc_clamp(float v, int lo, int hi)
{
    if (!(v > (float)lo)) return lo;
    if (v >= (float)hi) return hi;
    return (int)v;
}

static inline int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void store_f16(uint8_t *p, uint16_t h)
{
    p[0] = (uint8_t)h;
    p[1] = (uint8_t)(h >> 8);
}

/* value with the largest magnitude (first one on ties) and that magnitude */
static float signed_absmax(const float *x, int n, float *amax_out)
{
    float amax = 0, max = 0;
    for (int j = 0; j < n; j++)
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    if (amax_out) *amax_out = amax;
    return max;
}

static void quant_q4_0(const float *x, el_block_q4_0 *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, x += EL_QK) {
        float max = signed_absmax(x, EL_QK, NULL);
        float d = max / -8, id = d ? 1.0f / d : 0.0f;
        y[i].d = el_fp32_to_fp16(d);
        for (int j = 0; j < EL_QK / 2; j++) {
            int q0 = trunc_clamp(x[j] * id + 8.5f, 0, 15);
            int q1 = trunc_clamp(x[j + EL_QK / 2] * id + 8.5f, 0, 15);
            y[i].qs[j] = (uint8_t)(q0 | q1 << 4);
        }
    }
}

static void minmax(const float *x, int n, float *mn, float *mx)
{
    float lo = INFINITY, hi = -INFINITY;
    for (int j = 0; j < n; j++) {
        if (x[j] < lo) lo = x[j];
        if (x[j] > hi) hi = x[j];
    }
    *mn = lo;
    *mx = hi;
}

static void quant_q4_1(const float *x, el_block_q4_1 *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, x += EL_QK) {
        float mn, mx;
        minmax(x, EL_QK, &mn, &mx);
        float d = (mx - mn) / 15, id = d ? 1.0f / d : 0.0f;
        y[i].d = el_fp32_to_fp16(d);
        y[i].m = el_fp32_to_fp16(mn);
        for (int j = 0; j < EL_QK / 2; j++) {
            int q0 = trunc_clamp((x[j] - mn) * id + 0.5f, 0, 15);
            int q1 = trunc_clamp((x[j + EL_QK / 2] - mn) * id + 0.5f, 0, 15);
            y[i].qs[j] = (uint8_t)(q0 | q1 << 4);
        }
    }
}

static void put_u32le(uint8_t *p, uint32_t v)
{
    for (int k = 0; k < 4; k++) p[k] = (uint8_t)(v >> (8 * k));
}

static void quant_q5_0(const float *x, el_block_q5_0 *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, x += EL_QK) {
        float max = signed_absmax(x, EL_QK, NULL);
        float d = max / -16, id = d ? 1.0f / d : 0.0f;
        y[i].d = el_fp32_to_fp16(d);
        uint32_t qh = 0;
        for (int j = 0; j < EL_QK / 2; j++) {
            int q0 = trunc_clamp(x[j] * id + 16.5f, 0, 31);
            int q1 = trunc_clamp(x[j + EL_QK / 2] * id + 16.5f, 0, 31);
            y[i].qs[j] = (uint8_t)((q0 & 0xf) | (q1 & 0xf) << 4);
            qh |= (uint32_t)(q0 >> 4) << j;
            qh |= (uint32_t)(q1 >> 4) << (j + 16);
        }
        put_u32le(y[i].qh, qh);
    }
}

static void quant_q5_1(const float *x, el_block_q5_1 *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, x += EL_QK) {
        float mn, mx;
        minmax(x, EL_QK, &mn, &mx);
        float d = (mx - mn) / 31, id = d ? 1.0f / d : 0.0f;
        y[i].d = el_fp32_to_fp16(d);
        y[i].m = el_fp32_to_fp16(mn);
        uint32_t qh = 0;
        for (int j = 0; j < EL_QK / 2; j++) {
            int q0 = trunc_clamp((x[j] - mn) * id + 0.5f, 0, 31);
            int q1 = trunc_clamp((x[j + EL_QK / 2] - mn) * id + 0.5f, 0, 31);
            y[i].qs[j] = (uint8_t)((q0 & 0xf) | (q1 & 0xf) << 4);
            qh |= (uint32_t)(q0 >> 4) << j;
            qh |= (uint32_t)(q1 >> 4) << (j + 16);
        }
        put_u32le(y[i].qh, qh);
    }
}

/* roundf (half away from zero) into [-127, 127] without UB on nan */
static int8_t round_i8(float v)
{
    if (!(v == v)) return 0;
    float r = roundf(v);
    return (int8_t)(r > 127 ? 127 : r < -127 ? -127 : r);
}

static void quant_q8_0(const float *x, el_block_q8_0 *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, x += EL_QK) {
        float amax = 0;
        for (int j = 0; j < EL_QK; j++) amax = fmaxf(amax, fabsf(x[j]));
        float d = amax / 127, id = d ? 1.0f / d : 0.0f;
        y[i].d = el_fp32_to_fp16(d);
        for (int j = 0; j < EL_QK; j++) y[i].qs[j] = round_i8(x[j] * id);
    }
}

static void quant_q8_1(const float *x, el_block_q8_1 *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, x += EL_QK) {
        float amax = 0;
        for (int j = 0; j < EL_QK; j++) amax = fmaxf(amax, fabsf(x[j]));
        float d = amax / 127, id = d ? 1.0f / d : 0.0f;
        y[i].d = el_fp32_to_fp16(d);
        int sum = 0;
        for (int j = 0; j < EL_QK; j++) {
            y[i].qs[j] = round_i8(x[j] * id);
            sum += y[i].qs[j];
        }
        y[i].s = el_fp32_to_fp16((float)sum * d);
    }
}

/* Fit x ~ scale * L + min (L in 0..nmax, min <= 0) minimising the weighted
 * squared (or absolute, use_mad) error: start from the min/max grid, then try
 * nstep+1 slightly different grid scales and solve the 2x2 least squares for
 * each. Returns the scale; *neg_min = -min. */
static float fit_scale_min(int n, int nmax, const float *x, const float *w, uint8_t *L, float *neg_min,
                           uint8_t *Laux, float rmin, float rdelta, int nstep, bool use_mad)
{
    float mn = x[0], mx = x[0], sum_w = w[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < mn) mn = x[i];
        if (x[i] > mx) mx = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (mn > 0) mn = 0;
    if (mx == mn) {
        memset(L, 0, (size_t)n);
        *neg_min = -mn;
        return 0.f;
    }
    float iscale = nmax / (mx - mn), scale = 1 / iscale, best = 0;
    for (int i = 0; i < n; i++) {
        L[i] = (uint8_t)clampi(nearest_int(iscale * (x[i] - mn)), 0, nmax);
        float diff = scale * L[i] + mn - x[i];
        best += w[i] * (use_mad ? fabsf(diff) : diff * diff);
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * is + nmax) / (mx - mn);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            int l = clampi(nearest_int(iscale * (x[i] - mn)), 0, nmax);
            Laux[i] = (uint8_t)l;
            sum_l += w[i] * l;
            sum_l2 += w[i] * l * l;
            sum_xl += w[i] * l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (!(D > 0)) continue;
        float s = (sum_w * sum_xl - sum_x * sum_l) / D;
        float m = (sum_l2 * sum_x - sum_l * sum_xl) / D;
        if (m > 0) {
            m = 0;
            s = sum_xl / sum_l2;
        }
        float err = 0;
        for (int i = 0; i < n; i++) {
            float diff = s * Laux[i] + m - x[i];
            err += w[i] * (use_mad ? fabsf(diff) : diff * diff);
        }
        if (err < best) {
            memcpy(L, Laux, (size_t)n);
            best = err;
            scale = s;
            mn = m;
        }
    }
    *neg_min = -mn;
    return scale;
}

/* Pack 6-bit scale ls and min lm of sub-block j into the 12-byte Q4_K/Q5_K
 * field (inverse of el_k4_scale_min). */
static void pack_scale_min_k4(uint8_t *s, int j, int ls, int lm)
{
    if (j < 4) {
        s[j] = (uint8_t)ls;
        s[j + 4] = (uint8_t)lm;
    } else {
        s[j + 4] = (uint8_t)((ls & 0xf) | (lm & 0xf) << 4);
        s[j - 4] |= (uint8_t)((ls >> 4) << 6);
        s[j] |= (uint8_t)((lm >> 4) << 6);
    }
}

/* Shared by Q4_K (nmax 15) and Q5_K (nmax 31): per 32-element sub-block scale
 * and min search, then 6-bit quantisation of scales and mins against the
 * super-block maxima, then requantisation of the elements with the final
 * scales. Writes d, dmin, scales and L (0..nmax). */
static void quant_k_scales_mins(const float *x, int nmax, float rmin, int nstep, uint16_t *d_out,
                                uint16_t *dmin_out, uint8_t scales_out[EL_K_SCALE_SIZE], uint8_t L[EL_QK_K])
{
    float mins[8], scales[8], w[32];
    uint8_t Laux[32];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; j++) {
        const float *xs = x + 32 * j;
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++) sum_x2 += xs[l] * xs[l];
        float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++) w[l] = av_x + fabsf(xs[l]);
        scales[j] = fit_scale_min(32, nmax, xs, w, L + 32 * j, &mins[j], Laux, rmin, 0.1f, nstep, false);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    memset(scales_out, 0, EL_K_SCALE_SIZE);
    for (int j = 0; j < 8; j++) {
        int ls = (uint8_t)nearest_int(inv_scale * scales[j]); /* uint8 wrap as in ggml */
        int lm = (uint8_t)nearest_int(inv_min * mins[j]);
        pack_scale_min_k4(scales_out, j, ls < 63 ? ls : 63, lm < 63 ? lm : 63);
    }
    *d_out = el_fp32_to_fp16(max_scale / 63.f);
    *dmin_out = el_fp32_to_fp16(max_min / 63.f);
    for (int j = 0; j < 8; j++) {
        int sc, m;
        el_k4_scale_min(j, scales_out, &sc, &m);
        float d = el_fp16_to_fp32(*d_out) * sc;
        if (!d) continue;
        float dm = el_fp16_to_fp32(*dmin_out) * m;
        for (int l = 0; l < 32; l++) L[32 * j + l] = (uint8_t)clampi(nearest_int((x[32 * j + l] + dm) / d), 0, nmax);
    }
}

static void quant_q4_K(const float *x, el_block_q4_K *y, int64_t nb)
{
    uint8_t L[EL_QK_K];
    for (int64_t i = 0; i < nb; i++, x += EL_QK_K) {
        quant_k_scales_mins(x, 15, -1.f, 20, &y[i].d, &y[i].dmin, y[i].scales, L);
        uint8_t *q = y[i].qs;
        for (int j = 0; j < EL_QK_K; j += 64, q += 32)
            for (int l = 0; l < 32; l++) q[l] = (uint8_t)(L[j + l] | L[j + l + 32] << 4);
    }
}

static void quant_q5_K(const float *x, el_block_q5_K *y, int64_t nb)
{
    uint8_t L[EL_QK_K];
    for (int64_t i = 0; i < nb; i++, x += EL_QK_K) {
        quant_k_scales_mins(x, 31, -0.5f, 15, &y[i].d, &y[i].dmin, y[i].scales, L);
        uint8_t *ql = y[i].qs, *qh = y[i].qh;
        memset(qh, 0, EL_QK_K / 8);
        uint8_t m1 = 1, m2 = 2;
        for (int n = 0; n < EL_QK_K; n += 64, ql += 32, m1 <<= 2, m2 <<= 2)
            for (int j = 0; j < 32; j++) {
                int l1 = L[n + j], l2 = L[n + j + 32];
                if (l1 > 15) { l1 -= 16; qh[j] |= m1; }
                if (l2 > 15) { l2 -= 16; qh[j] |= m2; }
                ql[j] = (uint8_t)(l1 | l2 << 4);
            }
    }
}

#define GROUP_MAX_EPS 1e-15f

/* Symmetric fit x ~ scale * (L - nmax), L in 0..2*nmax-1, weights x^2:
 * try 19 grid scales around nmax/max and keep the best least-squares one. */
static float fit_scale_sym(int n, int nmax, const float *x, int8_t *L)
{
    float amax = 0, max = 0;
    for (int i = 0; i < n; i++)
        if (fabsf(x[i]) > amax) {
            amax = fabsf(x[i]);
            max = x[i];
        }
    if (amax < GROUP_MAX_EPS) {
        memset(L, 0, (size_t)n);
        return 0.f;
    }
    float iscale = -nmax / max, sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)(l + nmax);
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; i++) {
            int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++) L[i] = (int8_t)(nmax + clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

static void quant_q6_K(const float *x, el_block_q6_K *y, int64_t nb)
{
    int8_t L[EL_QK_K];
    float scales[16];
    for (int64_t i = 0; i < nb; i++, x += EL_QK_K) {
        float max_scale = 0, max_abs = 0;
        for (int ib = 0; ib < 16; ib++) {
            scales[ib] = fit_scale_sym(16, 32, x + 16 * ib, L + 16 * ib);
            if (fabsf(scales[ib]) > max_abs) {
                max_abs = fabsf(scales[ib]);
                max_scale = scales[ib];
            }
        }
        memset(&y[i], 0, sizeof y[i]);
        if (max_abs < GROUP_MAX_EPS) continue;
        float iscale = -128.f / max_scale;
        y[i].d = el_fp32_to_fp16(1 / iscale);
        for (int ib = 0; ib < 16; ib++) {
            int s = nearest_int(iscale * scales[ib]);
            y[i].scales[ib] = (int8_t)(s < 127 ? s : 127);
        }
        for (int j = 0; j < 16; j++) {
            float d = el_fp16_to_fp32(y[i].d) * y[i].scales[j];
            if (!d) continue;
            for (int l = 0; l < 16; l++)
                L[16 * j + l] = (int8_t)(clampi(nearest_int(x[16 * j + l] / d), -32, 31) + 32);
        }
        uint8_t *ql = y[i].ql, *qh = y[i].qh;
        for (int j = 0; j < EL_QK_K; j += 128, ql += 64, qh += 32)
            for (int l = 0; l < 32; l++) {
                int a = L[j + l], b = L[j + l + 32], c = L[j + l + 64], e = L[j + l + 96];
                ql[l] = (uint8_t)((a & 0xf) | (c & 0xf) << 4);
                ql[l + 32] = (uint8_t)((b & 0xf) | (e & 0xf) << 4);
                qh[l] = (uint8_t)((a >> 4) | (b >> 4) << 2 | (c >> 4) << 4 | (e >> 4) << 6);
            }
    }
}

/* Q2_K: 16 sub-blocks of 16, each fitted as scale * L - min (L in 0..3,
 * absolute-error search), then 4-bit scales and mins against the maxima. */
static void quant_q2_K(const float *x, el_block_q2_K *y, int64_t nb)
{
    uint8_t L[EL_QK_K], Laux[16];
    float w[16], mins[16], scales[16];
    for (int64_t i = 0; i < nb; i++, x += EL_QK_K) {
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < 16; j++) {
            for (int l = 0; l < 16; l++) w[l] = fabsf(x[16 * j + l]);
            scales[j] = fit_scale_min(16, 3, x + 16 * j, w, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, true);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        memset(y[i].scales, 0, 16);
        y[i].d = y[i].dmin = 0;
        if (max_scale > 0) {
            float iscale = 15.f / max_scale;
            for (int j = 0; j < 16; j++) y[i].scales[j] = (uint8_t)nearest_int(iscale * scales[j]);
            y[i].d = el_fp32_to_fp16(max_scale / 15.f);
        }
        if (max_min > 0) {
            float iscale = 15.f / max_min;
            for (int j = 0; j < 16; j++) y[i].scales[j] |= (uint8_t)(nearest_int(iscale * mins[j]) << 4);
            y[i].dmin = el_fp32_to_fp16(max_min / 15.f);
        }
        for (int j = 0; j < 16; j++) {
            float d = el_fp16_to_fp32(y[i].d) * (y[i].scales[j] & 0xf);
            if (!d) continue;
            float dm = el_fp16_to_fp32(y[i].dmin) * (y[i].scales[j] >> 4);
            for (int l = 0; l < 16; l++) L[16 * j + l] = (uint8_t)clampi(nearest_int((x[16 * j + l] + dm) / d), 0, 3);
        }
        for (int j = 0; j < EL_QK_K; j += 128)
            for (int l = 0; l < 32; l++)
                y[i].qs[j / 4 + l] = (uint8_t)(L[j + l] | L[j + l + 32] << 2 | L[j + l + 64] << 4 | L[j + l + 96] << 6);
    }
}

/* Symmetric 3-bit fit of n values (L in 0..2*nmax-1 after the +nmax shift),
 * weights x^2, refined by up to 5 passes of single-element moves that raise
 * (sum w x l)^2 / (sum w l^2). Returns the scale. */
static float fit_scale_q3(int n, int nmax, const float *x, int8_t *L)
{
    float amax = 0, max = 0;
    for (int i = 0; i < n; i++)
        if (fabsf(x[i]) > amax) {
            amax = fabsf(x[i]);
            max = x[i];
        }
    if (amax < GROUP_MAX_EPS) {
        memset(L, 0, (size_t)n);
        return 0.f;
    }
    float iscale = -nmax / max, sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        int l = clampi(nearest_int(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)l;
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    for (int itry = 0; itry < 5; itry++) {
        int changed = 0;
        for (int i = 0; i < n; i++) {
            float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * L[i];
            if (!(slx > 0)) continue;
            float sl2 = suml2 - w * L[i] * L[i];
            int nl = clampi(nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
            if (nl == L[i]) continue;
            slx += w * x[i] * nl;
            sl2 += w * nl * nl;
            if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                L[i] = (int8_t)nl;
                sumlx = slx;
                suml2 = sl2;
                changed++;
            }
        }
        if (!changed) break;
    }
    for (int i = 0; i < n; i++) L[i] = (int8_t)(L[i] + nmax);
    return sumlx / suml2;
}

/* Q3_K: 16 sub-blocks of 16 with signed 6-bit scales against the largest
 * (by magnitude) sub-block scale, values -4..3 split into 2 low bits (qs)
 * and a high bit (hmask). */
static void quant_q3_K(const float *x, el_block_q3_K *y, int64_t nb)
{
    int8_t L[EL_QK_K];
    float scales[16];
    for (int64_t i = 0; i < nb; i++, x += EL_QK_K) {
        float max_scale = 0, amax = 0;
        for (int j = 0; j < 16; j++) {
            scales[j] = fit_scale_q3(16, 4, x + 16 * j, L + 16 * j);
            if (fabsf(scales[j]) > amax) {
                amax = fabsf(scales[j]);
                max_scale = scales[j];
            }
        }
        memset(y[i].scales, 0, 12);
        y[i].d = 0;
        if (max_scale) {
            float iscale = -32.f / max_scale;
            for (int j = 0; j < 16; j++) {
                int l = clampi((int8_t)nearest_int(iscale * scales[j]), -32, 31) + 32;
                if (j < 8) y[i].scales[j] = (uint8_t)(l & 0xf);
                else y[i].scales[j - 8] |= (uint8_t)((l & 0xf) << 4);
                y[i].scales[j % 4 + 8] |= (uint8_t)((l >> 4) << (2 * (j / 4)));
            }
            y[i].d = el_fp32_to_fp16(1 / iscale);
        }
        int sc[16];
        unpack_q3_K_scales(y[i].scales, sc);
        for (int j = 0; j < 16; j++) {
            float d = el_fp16_to_fp32(y[i].d) * sc[j];
            if (!d) continue;
            for (int l = 0; l < 16; l++) L[16 * j + l] = (int8_t)(clampi(nearest_int(x[16 * j + l] / d), -4, 3) + 4);
        }
        memset(y[i].hmask, 0, 32);
        for (int j = 0; j < EL_QK_K; j++)
            if (L[j] > 3) {
                y[i].hmask[j % 32] |= (uint8_t)(1 << (j / 32));
                L[j] -= 4;
            }
        for (int j = 0; j < EL_QK_K; j += 128)
            for (int l = 0; l < 32; l++)
                y[i].qs[j / 4 + l] = (uint8_t)(L[j + l] | L[j + l + 32] << 2 | L[j + l + 64] << 4 | L[j + l + 96] << 6);
    }
}

static void quant_q8_K(const float *x, el_block_q8_K *y, int64_t nb)
{
    for (int64_t i = 0; i < nb; i++, x += EL_QK_K) {
        float amax;
        float max = signed_absmax(x, EL_QK_K, &amax);
        memset(&y[i], 0, sizeof y[i]);
        if (!amax) continue;
        float iscale = -127.f / max;
        for (int j = 0; j < EL_QK_K; j++) {
            int v = nearest_int(iscale * x[j]);
            y[i].qs[j] = (int8_t)(v < 127 ? v : 127);
        }
        for (int j = 0; j < 16; j++) {
            int sum = 0;
            for (int l = 0; l < 16; l++) sum += y[i].qs[16 * j + l];
            y[i].bsums[j] = (int16_t)sum;
        }
        y[i].d = 1 / iscale;
    }
}

/* Output blocks may be unaligned too (any byte offset of a buffer): encode
 * in place when aligned, else one block at a time into an aligned copy. */
#define QUANT_BLOCKS(T, fn, bs)                                                      \
    do {                                                                             \
        uint8_t *p_ = dst;                                                           \
        if ((uintptr_t)p_ % _Alignof(T) == 0) {                                      \
            fn(src, (T *)(void *)p_, nb);                                            \
        } else {                                                                     \
            T tmp_;                                                                  \
            for (int64_t i_ = 0; i_ < nb; i_++) {                                    \
                fn(src + i_ * (bs), &tmp_, 1);                                       \
                memcpy(p_ + (size_t)i_ * sizeof(T), &tmp_, sizeof(T));              \
            }                                                                        \
        }                                                                            \
        return 0;                                                                    \
    } while (0)

int el_quantize_row(el_type type, const float *src, void *dst, int64_t n)
{
    const el_type_traits *tr = el_type_info((uint32_t)type);
    if (!tr || n < 0 || n % tr->block_size) return -1;
    int64_t nb = n / tr->block_size;
    switch (type) {
    case EL_TYPE_F32: memcpy(dst, src, (size_t)n * 4); return 0;
    case EL_TYPE_F16: {
        uint8_t *p = dst;
        for (int64_t i = 0; i < n; i++) store_f16(p + 2 * i, el_fp32_to_fp16(src[i]));
        return 0;
    }
    case EL_TYPE_BF16: {
        uint8_t *p = dst;
        for (int64_t i = 0; i < n; i++) store_f16(p + 2 * i, el_fp32_to_bf16(src[i]));
        return 0;
    }
    case EL_TYPE_Q4_0: QUANT_BLOCKS(el_block_q4_0, quant_q4_0, EL_QK);
    case EL_TYPE_Q4_1: QUANT_BLOCKS(el_block_q4_1, quant_q4_1, EL_QK);
    case EL_TYPE_Q5_0: QUANT_BLOCKS(el_block_q5_0, quant_q5_0, EL_QK);
    case EL_TYPE_Q5_1: QUANT_BLOCKS(el_block_q5_1, quant_q5_1, EL_QK);
    case EL_TYPE_Q8_0: QUANT_BLOCKS(el_block_q8_0, quant_q8_0, EL_QK);
    case EL_TYPE_Q8_1: QUANT_BLOCKS(el_block_q8_1, quant_q8_1, EL_QK);
    case EL_TYPE_Q2_K: QUANT_BLOCKS(el_block_q2_K, quant_q2_K, EL_QK_K);
    case EL_TYPE_Q3_K: QUANT_BLOCKS(el_block_q3_K, quant_q3_K, EL_QK_K);
    case EL_TYPE_Q4_K: QUANT_BLOCKS(el_block_q4_K, quant_q4_K, EL_QK_K);
    case EL_TYPE_Q5_K: QUANT_BLOCKS(el_block_q5_K, quant_q5_K, EL_QK_K);
    case EL_TYPE_Q6_K: QUANT_BLOCKS(el_block_q6_K, quant_q6_K, EL_QK_K);
    case EL_TYPE_Q8_K: QUANT_BLOCKS(el_block_q8_K, quant_q8_K, EL_QK_K);
    default: return -1;
    }
}
