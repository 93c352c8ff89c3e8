/* qdot.c -- integer dot-product kernels (see qdot.h).
 *
 * Every kernel exists three times with the same integer arithmetic: scalar
 * (the reference, and what non-x86 builds use), AVX2 (maddubs/madd) and
 * AVX-512 VNNI on 256-bit registers (vpdpbusd). Only the float scaling at
 * the end of each block differs in rounding between them. */
#include "qdot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/quant_blocks.h"
#include "edgelm/threads.h"

static inline float h2f(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return el_fp16_to_fp32(h);
}

/* ---- activation quantisation -------------------------------------------- */

bool el_qdot_supported(el_type t)
{
    return t == EL_TYPE_Q8_0 || t == EL_TYPE_Q4_0 || t == EL_TYPE_Q5_0 || t == EL_TYPE_Q4_K || t == EL_TYPE_Q5_K ||
           t == EL_TYPE_Q6_K;
}

bool el_qdot_uses_k(el_type t) { return t == EL_TYPE_Q4_K || t == EL_TYPE_Q5_K || t == EL_TYPE_Q6_K; }

size_t el_qdot_act_row_bytes(el_type t, int64_t n)
{
    return el_qdot_uses_k(t) ? (size_t)(n / 256) * sizeof(el_act_q8k) : (size_t)(n / 32) * sizeof(el_act_q8);
}

static void quantize_act_scalar(el_type t, const float *x, void *dst, int64_t n)
{
    if (el_qdot_uses_k(t)) {
        el_act_q8k *b = dst;
        for (int64_t i = 0; i < n / 256; i++, x += 256) {
            float amax = 0;
            for (int j = 0; j < 256; j++) amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
            float d = amax / 127.0f, id = d > 0 ? 1.0f / d : 0.0f;
            b[i].d = d;
            for (int j = 0; j < 256; j++) b[i].qs[j] = (int8_t)lrintf(x[j] * id);
            for (int g = 0; g < 16; g++) {
                int s = 0;
                for (int j = 0; j < 16; j++) s += b[i].qs[g * 16 + j];
                b[i].bsums[g] = (int16_t)s;
            }
        }
    } else {
        el_act_q8 *b = dst;
        for (int64_t i = 0; i < n / 32; i++, x += 32) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
            float d = amax / 127.0f, id = d > 0 ? 1.0f / d : 0.0f;
            int s = 0;
            b[i].d = d;
            for (int j = 0; j < 32; j++) s += b[i].qs[j] = (int8_t)lrintf(x[j] * id);
            b[i].sum = s;
        }
    }
}

/* ---- weight-code unpacking (shared by all paths) --------------------------- */

/* q4_0 / q5_0: 32 unsigned codes of one block */
static inline void codes_q4_0(const uint8_t *blk, uint8_t *u)
{
    const uint8_t *qs = blk + 2;
    for (int j = 0; j < 16; j++) u[j] = qs[j] & 15, u[j + 16] = qs[j] >> 4;
}

static inline void codes_q5_0(const uint8_t *blk, uint8_t *u)
{
    uint32_t qh;
    memcpy(&qh, blk + 2, 4);
    const uint8_t *qs = blk + 6;
    for (int j = 0; j < 16; j++) {
        u[j] = (uint8_t)((qs[j] & 15) | (((qh >> j) & 1) << 4));
        u[j + 16] = (uint8_t)((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
    }
}

/* q6_K: 256 unsigned codes (0..63) in element order */
static inline void codes_q6_K(const el_block_q6_K *b, uint8_t *u)
{
    const uint8_t *ql = b->ql, *qh = b->qh;
    for (int half = 0; half < 2; half++, ql += 64, qh += 32, u += 128)
        for (int l = 0; l < 32; l++) {
            u[l] = (uint8_t)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4));
            u[l + 32] = (uint8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4));
            u[l + 64] = (uint8_t)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
            u[l + 96] = (uint8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
        }
}

/* q5_K: the 32 unsigned codes (0..31) of sub-block j (0..7). Sub-blocks 2c and
 * 2c+1 share the 32 bytes qs[32c..]: low nibbles for 2c, high for 2c+1; the
 * fifth bit of element l of sub-block j is bit j of qh[l]. */
static inline void codes_q5_K(const el_block_q5_K *b, int j, uint8_t *u)
{
    const uint8_t *ql = b->qs + 32 * (j / 2);
    int sh = 4 * (j & 1);
    for (int l = 0; l < 32; l++) u[l] = (uint8_t)(((ql[l] >> sh) & 15) | (((b->qh[l] >> j) & 1) << 4));
}

/* ---- scalar reference kernels ---------------------------------------------- */

static inline int32_t dot32_u8s8(const uint8_t *u, const int8_t *s)
{
    int32_t acc = 0;
    for (int j = 0; j < 32; j++) acc += (int32_t)u[j] * s[j];
    return acc;
}

#define ACT(a, stride, r) ((const void *)((const uint8_t *)(a) + (size_t)(r) * (stride)))

static void q8_0_scalar(int64_t n, const void *w, const void *act, size_t st, int nr, float *out)
{
    const el_block_q8_0 *wb = w;
    for (int r = 0; r < nr; r++) {
        const el_act_q8 *a = ACT(act, st, r);
        float acc = 0;
        for (int64_t i = 0; i < n / 32; i++) {
            int32_t s = 0;
            for (int j = 0; j < 32; j++) s += (int32_t)wb[i].qs[j] * a[i].qs[j];
            acc += h2f((const uint8_t *)&wb[i]) * a[i].d * (float)s;
        }
        out[r] = acc;
    }
}

static void q4_0_scalar(int64_t n, const void *w, const void *act, size_t st, int nr, float *out)
{
    const uint8_t *wb = w;
    uint8_t u[32];
    for (int r = 0; r < nr; r++) {
        const el_act_q8 *a = ACT(act, st, r);
        float acc = 0;
        for (int64_t i = 0; i < n / 32; i++) {
            codes_q4_0(wb + i * 18, u);
            acc += h2f(wb + i * 18) * a[i].d * (float)(dot32_u8s8(u, a[i].qs) - 8 * a[i].sum);
        }
        out[r] = acc;
    }
}

static void q5_0_scalar(int64_t n, const void *w, const void *act, size_t st, int nr, float *out)
{
    const uint8_t *wb = w;
    uint8_t u[32];
    for (int r = 0; r < nr; r++) {
        const el_act_q8 *a = ACT(act, st, r);
        float acc = 0;
        for (int64_t i = 0; i < n / 32; i++) {
            codes_q5_0(wb + i * 22, u);
            acc += h2f(wb + i * 22) * a[i].d * (float)(dot32_u8s8(u, a[i].qs) - 16 * a[i].sum);
        }
        out[r] = acc;
    }
}

static void q4_K_scalar(int64_t n, const void *w, const void *act, size_t st, int nr, float *out)
{
    const el_block_q4_K *wb = w;
    uint8_t u[32];
    for (int r = 0; r < nr; r++) {
        const el_act_q8k *a = ACT(act, st, r);
        float acc = 0;
        for (int64_t i = 0; i < n / 256; i++) {
            const uint8_t *q = wb[i].qs;
            int32_t sumq = 0, summ = 0;
            for (int j = 0; j < 8; j++) {
                int sc, m;
                el_k4_scale_min(j, wb[i].scales, &sc, &m);
                const uint8_t *qq = q + (j / 2) * 32;
                for (int l = 0; l < 32; l++) u[l] = j & 1 ? qq[l] >> 4 : qq[l] & 15;
                sumq += sc * dot32_u8s8(u, a[i].qs + j * 32);
                summ += m * (a[i].bsums[2 * j] + a[i].bsums[2 * j + 1]);
            }
            float d = h2f((const uint8_t *)&wb[i].d) * a[i].d, dmin = h2f((const uint8_t *)&wb[i].dmin) * a[i].d;
            acc += d * (float)sumq - dmin * (float)summ;
        }
        out[r] = acc;
    }
}

/* q5_K: as q4_K with 5-bit codes; x = d * sc * q - dmin * m per sub-block of 32 */
static void q5_K_scalar(int64_t n, const void *w, const void *act, size_t st, int nr, float *out)
{
    const el_block_q5_K *wb = w;
    uint8_t u[32];
    for (int r = 0; r < nr; r++) {
        const el_act_q8k *a = ACT(act, st, r);
        float acc = 0;
        for (int64_t i = 0; i < n / 256; i++) {
            int32_t sumq = 0, summ = 0;
            for (int j = 0; j < 8; j++) {
                int sc, m;
                el_k4_scale_min(j, wb[i].scales, &sc, &m);
                codes_q5_K(&wb[i], j, u);
                sumq += sc * dot32_u8s8(u, a[i].qs + j * 32);
                summ += m * (a[i].bsums[2 * j] + a[i].bsums[2 * j + 1]);
            }
            float d = h2f((const uint8_t *)&wb[i].d) * a[i].d, dmin = h2f((const uint8_t *)&wb[i].dmin) * a[i].d;
            acc += d * (float)sumq - dmin * (float)summ;
        }
        out[r] = acc;
    }
}

static void q6_K_scalar(int64_t n, const void *w, const void *act, size_t st, int nr, float *out)
{
    const el_block_q6_K *wb = w;
    uint8_t u[256];
    for (int64_t i0 = 0; i0 < nr; i0++) out[i0] = 0;
    for (int64_t i = 0; i < n / 256; i++) {
        codes_q6_K(&wb[i], u);
        float d = h2f((const uint8_t *)&wb[i].d);
        for (int r = 0; r < nr; r++) {
            const el_act_q8k *a = (const el_act_q8k *)ACT(act, st, r) + i;
            int32_t s = 0;
            for (int g = 0; g < 16; g++) {
                int32_t p = 0;
                for (int l = 0; l < 16; l++) p += (int32_t)u[g * 16 + l] * a->qs[g * 16 + l];
                s += wb[i].scales[g] * (p - 32 * a->bsums[g]);
            }
            out[r] += d * a->d * (float)s;
        }
    }
}

/* ---- x86: AVX2 and AVX-512 VNNI ------------------------------------------- */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define T_AVX2 __attribute__((target("avx2,fma,f16c")))
#define ALWAYS_PRE static inline __attribute__((always_inline))
#define T_VNNI __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni")))

/* 32 codes u (0..255) x 32 signed s -> 8 int32 lanes */
ALWAYS_PRE T_AVX2 __m256i dot_avx2(__m256i u, __m256i s)
{
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}
ALWAYS_PRE T_VNNI __m256i dot_vnni(__m256i u, __m256i s)
{
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
}

ALWAYS_PRE T_AVX2 float hsum8(__m256 v)
{
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

ALWAYS_PRE T_AVX2 __m256i unpack_q4(const uint8_t *qs16)
{
    __m128i b = _mm_loadu_si128((const __m128i *)qs16);
    __m256i x = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
    return _mm256_and_si256(x, _mm256_set1_epi8(15));
}

ALWAYS_PRE T_AVX2 __m256i unpack_q5(const uint8_t *blk)
{
    /* low nibbles + bit j of qh in bit 4 of byte j */
    __m256i lo = unpack_q4(blk + 6);
    uint32_t qh;
    memcpy(&qh, blk + 2, 4);
    const __m256i shuf = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303);
    __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh), shuf);
    const __m256i bitm = _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe);
    bytes = _mm256_or_si256(bytes, bitm);
    bytes = _mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1));   /* 0xff where the bit is set */
    return _mm256_or_si256(lo, _mm256_and_si256(bytes, _mm256_set1_epi8(16)));
}

/* Each kernel body takes the row count NR as a compile-time constant (the
 * dispatcher below instantiates 1..4), so the per-row accumulators stay in
 * registers. */
#define ALWAYS static inline __attribute__((always_inline))

/* Legacy types. CODES gives the 32 unsigned (or, for q8_0, signed) codes of a
 * block; OFF is the weight's zero point. */
#define LEGACY_KERNEL(NAME, TGT, DOT, BSZ, CODES, OFF, Q8)                                              \
    ALWAYS TGT void NAME##_body(int64_t n, const void *w, const void *act, size_t st, float *out, const int NR) \
    {                                                                                                  \
        const uint8_t *wb = w;                                                                         \
        __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;                      \
        const el_act_q8 *a0 = ACT(act, st, 0), *a1 = ACT(act, st, NR > 1 ? 1 : 0);                     \
        const el_act_q8 *a2 = ACT(act, st, NR > 2 ? 2 : 0), *a3 = ACT(act, st, NR > 3 ? 3 : 0);        \
        int64_t nb = n / 32;                                                                           \
        for (int64_t i = 0; i < nb; i++, wb += BSZ) {                                                  \
            __m256 dw = _mm256_set1_ps(_cvtsh_ss(*(const uint16_t *)wb));                              \
            __m256i u = CODES, sg = u;                                                                 \
            if (Q8) u = _mm256_sign_epi8(sg, sg);                                                      \
            _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++) {                                     \
                const el_act_q8 *a = (r == 0 ? a0 : r == 1 ? a1 : r == 2 ? a2 : a3) + i;               \
                __m256i sv = _mm256_loadu_si256((const __m256i *)a->qs);                               \
                if (Q8) sv = _mm256_sign_epi8(sv, sg);                                                 \
                __m256i p = DOT(u, sv);                                                                \
                __m256 f = _mm256_cvtepi32_ps(p);                                                      \
                if (OFF) f = _mm256_sub_ps(f, _mm256_setr_ps((float)(OFF * a->sum), 0, 0, 0, 0, 0, 0, 0)); \
                __m256 sc = _mm256_mul_ps(dw, _mm256_set1_ps(a->d));                                   \
                if (r == 0) acc0 = _mm256_fmadd_ps(sc, f, acc0);                                       \
                if (r == 1) acc1 = _mm256_fmadd_ps(sc, f, acc1);                                       \
                if (r == 2) acc2 = _mm256_fmadd_ps(sc, f, acc2);                                       \
                if (r == 3) acc3 = _mm256_fmadd_ps(sc, f, acc3);                                       \
            }                                                                                          \
        }                                                                                              \
        out[0] = hsum8(acc0);                                                                          \
        if (NR > 1) out[1] = hsum8(acc1);                                                              \
        if (NR > 2) out[2] = hsum8(acc2);                                                              \
        if (NR > 3) out[3] = hsum8(acc3);                                                              \
    }                                                                                                  \
    static TGT void NAME(int64_t n, const void *w, const void *act, size_t st, int nr, float *out)      \
    {                                                                                                  \
        switch (nr) {                                                                                  \
        case 1: NAME##_body(n, w, act, st, out, 1); break;                                             \
        case 2: NAME##_body(n, w, act, st, out, 2); break;                                             \
        case 3: NAME##_body(n, w, act, st, out, 3); break;                                             \
        default: NAME##_body(n, w, act, st, out, 4); break;                                            \
        }                                                                                              \
    }

LEGACY_KERNEL(q8_0_avx2, T_AVX2, dot_avx2, 34, _mm256_loadu_si256((const __m256i *)(wb + 2)), 0, 1)
LEGACY_KERNEL(q8_0_vnni, T_VNNI, dot_vnni, 34, _mm256_loadu_si256((const __m256i *)(wb + 2)), 0, 1)
LEGACY_KERNEL(q4_0_avx2, T_AVX2, dot_avx2, 18, unpack_q4(wb + 2), 8, 0)
LEGACY_KERNEL(q4_0_vnni, T_VNNI, dot_vnni, 18, unpack_q4(wb + 2), 8, 0)
LEGACY_KERNEL(q5_0_avx2, T_AVX2, dot_avx2, 22, unpack_q5(wb), 16, 0)
LEGACY_KERNEL(q5_0_vnni, T_VNNI, dot_vnni, 22, unpack_q5(wb), 16, 0)

/* k-quants: the super-block's codes are unpacked once and meet NR rows */
#define KQ_DISPATCH(NAME, TGT)                                                                          \
    static TGT void NAME(int64_t n, const void *w, const void *act, size_t st, int nr, float *out)      \
    {                                                                                                  \
        switch (nr) {                                                                                  \
        case 1: NAME##_body(n, w, act, st, out, 1); break;                                             \
        case 2: NAME##_body(n, w, act, st, out, 2); break;                                             \
        case 3: NAME##_body(n, w, act, st, out, 3); break;                                             \
        default: NAME##_body(n, w, act, st, out, 4); break;                                            \
        }                                                                                              \
    }

/* int16 pairs x int16 scales, pair-summed into int32 and added to acc: madd +
 * add on AVX2, one vpdpwssd with AVX-512 VNNI (the same wrapping int32 sum). */
ALWAYS_PRE T_AVX2 __m256i scdot_avx2(__m256i acc, __m256i p16, __m256i sc)
{
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p16, sc));
}
ALWAYS_PRE T_VNNI __m256i scdot_vnni(__m256i acc, __m256i p16, __m256i sc) { return _mm256_dpwssd_epi32(acc, p16, sc); }

/* the 12 scale bytes of q4_K / q5_K -> 8 scales and 8 mins as int16 */
ALWAYS_PRE T_AVX2 void k4_scales_mins(const uint8_t *scales, __m128i *sc, __m128i *mn)
{
    uint32_t u32[4];
    memcpy(u32, scales, 12);
    u32[3] = ((u32[2] >> 4) & 0x0f0f0f0f) | (((u32[1] >> 6) & 0x03030303) << 4);
    uint32_t mins_lo = u32[1] & 0x3f3f3f3f;
    u32[1] = (u32[2] & 0x0f0f0f0f) | (((u32[0] >> 6) & 0x03030303) << 4);
    u32[2] = mins_lo;
    u32[0] &= 0x3f3f3f3f;
    __m128i smb = _mm_loadu_si128((const __m128i *)u32);
    *sc = _mm_cvtepu8_epi16(smb);
    *mn = _mm_cvtepu8_epi16(_mm_srli_si128(smb, 8));
}

/* sum over the 8 sub-blocks of min x (sum of its 32 activation codes) */
ALWAYS_PRE T_AVX2 int32_t k4_mins_dot(const int16_t *bsums, __m128i mn16x8)
{
    __m128i pairs = _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)bsums), _mm_loadu_si128((const __m128i *)(bsums + 8)));
    __m128i bs = _mm_madd_epi16(pairs, mn16x8);
    bs = _mm_add_epi32(bs, _mm_shuffle_epi32(bs, 0x4e));
    bs = _mm_add_epi32(bs, _mm_shuffle_epi32(bs, 0xb1));
    return _mm_cvtsi128_si32(bs);
}

#define Q4K_KERNEL(NAME, TGT, DOT)                                                                      \
    ALWAYS TGT void NAME##_body(int64_t n, const void *w, const void *act, size_t st, float *out, const int NR) \
    {                                                                                                  \
        const el_block_q4_K *wb = w;                                                                   \
        __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()}; \
        float accm[4] = {0, 0, 0, 0};                                                                  \
        const __m256i m4 = _mm256_set1_epi8(15);                                                       \
        for (int64_t i = 0; i < n / 256; i++) {                                                        \
            __m128i sc16x8, mn16x8;                                                                    \
            k4_scales_mins(wb[i].scales, &sc16x8, &mn16x8);                                            \
            float d = _cvtsh_ss(wb[i].d), dmin = _cvtsh_ss(wb[i].dmin);                                \
            __m256i sc16[8];                                                                           \
            _Pragma("GCC unroll 8") for (int j = 0; j < 8; j++)                                        \
                sc16[j] = _mm256_broadcastsi128_si256(_mm_shuffle_epi8(sc16x8, _mm_set1_epi16((short)(0x0100 + 0x0202 * j)))); \
            __m256i q[8];                                                                              \
            for (int j = 0; j < 4; j++) {                                                              \
                __m256i raw = _mm256_loadu_si256((const __m256i *)(wb[i].qs + 32 * j));                \
                q[2 * j] = _mm256_and_si256(raw, m4);                                                  \
                q[2 * j + 1] = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);                        \
            }                                                                                          \
            _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++) {                                     \
                const el_act_q8k *a = (const el_act_q8k *)ACT(act, st, r) + i;                         \
                __m256i s32 = _mm256_setzero_si256();                                                  \
                _Pragma("GCC unroll 8") for (int j = 0; j < 8; j++) {                                  \
                    /* u8 x s8 -> pairs in int16 (<= 2*15*127), then x scale and pair-summed in int32 */ \
                    __m256i p16 = _mm256_maddubs_epi16(q[j], _mm256_loadu_si256((const __m256i *)(a->qs + 32 * j))); \
                    s32 = DOT(s32, p16, sc16[j]);                                                      \
                }                                                                                      \
                int32_t summ = k4_mins_dot(a->bsums, mn16x8);                                          \
                acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * a->d), _mm256_cvtepi32_ps(s32), acc[r]);  \
                accm[r] += dmin * a->d * (float)summ;                                                  \
            }                                                                                          \
        }                                                                                              \
        for (int r = 0; r < NR; r++) out[r] = hsum8(acc[r]) - accm[r];                                 \
    }                                                                                                  \
    KQ_DISPATCH(NAME, TGT)

Q4K_KERNEL(q4_K_avx2, T_AVX2, scdot_avx2)
Q4K_KERNEL(q4_K_vnni, T_VNNI, scdot_vnni)

/* q5_K: q4_K's 6-bit scales and mins with 5-bit codes. The u8 x s8 pairs of a
 * sub-block (<= 2*31*127 in int16) are multiplied by its scale and pair-summed
 * into int32 with scdot (above). */


/* bit j of every byte of hb, moved to bit 4 (j is a constant once inlined) */
ALWAYS_PRE T_AVX2 __m256i q5k_bit4(__m256i hb, int j)
{
    __m256i h = _mm256_and_si256(hb, _mm256_set1_epi8((char)(1 << j)));
    return j <= 4 ? _mm256_slli_epi16(h, 4 - j) : _mm256_srli_epi16(h, j - 4);
}

#define Q5K_KERNEL(NAME, TGT, SCDOT)                                                                    \
    ALWAYS TGT void NAME##_body(int64_t n, const void *w, const void *act, size_t st, float *out, const int NR) \
    {                                                                                                  \
        const el_block_q5_K *wb = w;                                                                   \
        __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()}; \
        float accm[4] = {0, 0, 0, 0};                                                                  \
        const __m256i m4 = _mm256_set1_epi8(15);                                                       \
        for (int64_t i = 0; i < n / 256; i++) {                                                        \
            __m128i sc16x8, mn16x8;                                                                    \
            k4_scales_mins(wb[i].scales, &sc16x8, &mn16x8);                                            \
            float d = _cvtsh_ss(wb[i].d), dmin = _cvtsh_ss(wb[i].dmin);                                \
            __m256i sc16[8];                                                                           \
            _Pragma("GCC unroll 8") for (int j = 0; j < 8; j++)                                        \
                sc16[j] = _mm256_broadcastsi128_si256(_mm_shuffle_epi8(sc16x8, _mm_set1_epi16((short)(0x0100 + 0x0202 * j)))); \
            __m256i hb = _mm256_loadu_si256((const __m256i *)wb[i].qh);                                \
            __m256i q[8];                                                                              \
            _Pragma("GCC unroll 4") for (int c = 0; c < 4; c++) {                                      \
                __m256i raw = _mm256_loadu_si256((const __m256i *)(wb[i].qs + 32 * c));                \
                q[2 * c] = _mm256_or_si256(_mm256_and_si256(raw, m4), q5k_bit4(hb, 2 * c));            \
                q[2 * c + 1] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(raw, 4), m4), q5k_bit4(hb, 2 * c + 1)); \
            }                                                                                          \
            _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++) {                                     \
                const el_act_q8k *a = (const el_act_q8k *)ACT(act, st, r) + i;                         \
                __m256i s32 = _mm256_setzero_si256();                                                  \
                _Pragma("GCC unroll 8") for (int j = 0; j < 8; j++) {                                  \
                    __m256i p16 = _mm256_maddubs_epi16(q[j], _mm256_loadu_si256((const __m256i *)(a->qs + 32 * j))); \
                    s32 = SCDOT(s32, p16, sc16[j]);                                                    \
                }                                                                                      \
                int32_t summ = k4_mins_dot(a->bsums, mn16x8);                                          \
                acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * a->d), _mm256_cvtepi32_ps(s32), acc[r]);  \
                accm[r] += dmin * a->d * (float)summ;                                                  \
            }                                                                                          \
        }                                                                                              \
        for (int r = 0; r < NR; r++) out[r] = hsum8(acc[r]) - accm[r];                                 \
    }                                                                                                  \
    KQ_DISPATCH(NAME, TGT)

Q5K_KERNEL(q5_K_avx2, T_AVX2, scdot_avx2)
Q5K_KERNEL(q5_K_vnni, T_VNNI, scdot_vnni)

/* q6_K: codes 0..63 (zero point 32), int8 scale per 16 */
#define Q6K_KERNEL(NAME, TGT, DOT)                                                                      \
    ALWAYS TGT void NAME##_body(int64_t n, const void *w, const void *act, size_t st, float *out, const int NR) \
    {                                                                                                  \
        const el_block_q6_K *wb = w;                                                                   \
        __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()}; \
        const __m256i m4 = _mm256_set1_epi8(15), m3 = _mm256_set1_epi8(3);                             \
        for (int64_t i = 0; i < n / 256; i++) {                                                        \
            float d = _cvtsh_ss(wb[i].d);                                                              \
            __m256i q[8];                                                                              \
            for (int h = 0; h < 2; h++) {                                                              \
                const uint8_t *ql = wb[i].ql + 64 * h, *qh = wb[i].qh + 32 * h;                        \
                __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);                                  \
                __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));                           \
                __m256i hh = _mm256_loadu_si256((const __m256i *)qh);                                  \
                q[4 * h + 0] = _mm256_or_si256(_mm256_and_si256(l0, m4),                               \
                                               _mm256_slli_epi16(_mm256_and_si256(hh, m3), 4));        \
                q[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(l1, m4),                               \
                                               _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hh, 2), m3), 4)); \
                q[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),         \
                                               _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hh, 4), m3), 4)); \
                q[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),         \
                                               _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hh, 6), m3), 4)); \
            }                                                                                          \
            __m256i scv[8];                                                                            \
            const int8_t *sc8 = wb[i].scales;                                                          \
            __m128i s16lo = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)sc8));               \
            __m128i s16hi = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(sc8 + 8)));         \
            _Pragma("GCC unroll 8") for (int g = 0; g < 8; g++) {                                      \
                __m128i src = g < 4 ? s16lo : s16hi;                                                   \
                int k = 2 * (g & 3);                                                                   \
                scv[g] = _mm256_set_m128i(_mm_shuffle_epi8(src, _mm_set1_epi16((short)(0x0100 + 0x0202 * (k + 1)))), \
                                          _mm_shuffle_epi8(src, _mm_set1_epi16((short)(0x0100 + 0x0202 * k)))); \
            }                                                                                          \
            _Pragma("GCC unroll 4") for (int r = 0; r < NR; r++) {                                     \
                const el_act_q8k *a = (const el_act_q8k *)ACT(act, st, r) + i;                         \
                __m256i s32 = _mm256_setzero_si256();                                                  \
                _Pragma("GCC unroll 8") for (int g = 0; g < 8; g++) {                                  \
                    __m256i p16 = _mm256_maddubs_epi16(q[g], _mm256_loadu_si256((const __m256i *)(a->qs + 32 * g))); \
                    s32 = DOT(s32, p16, scv[g]);                                                       \
                }                                                                                      \
                __m128i ob = _mm_add_epi32(_mm_madd_epi16(s16lo, _mm_loadu_si128((const __m128i *)a->bsums)), \
                                           _mm_madd_epi16(s16hi, _mm_loadu_si128((const __m128i *)(a->bsums + 8)))); \
                ob = _mm_add_epi32(ob, _mm_shuffle_epi32(ob, 0x4e));                                   \
                ob = _mm_add_epi32(ob, _mm_shuffle_epi32(ob, 0xb1));                                   \
                int32_t off = _mm_cvtsi128_si32(ob);                                                   \
                s32 = _mm256_sub_epi32(s32, _mm256_setr_epi32(32 * off, 0, 0, 0, 0, 0, 0, 0));         \
                acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * a->d), _mm256_cvtepi32_ps(s32), acc[r]);  \
            }                                                                                          \
        }                                                                                              \
        for (int r = 0; r < NR; r++) out[r] = hsum8(acc[r]);                                           \
    }                                                                                                  \
    KQ_DISPATCH(NAME, TGT)

Q6K_KERNEL(q6_K_avx2, T_AVX2, scdot_avx2)
Q6K_KERNEL(q6_K_vnni, T_VNNI, scdot_vnni)
#define HAVE_X86_KERNELS 1
#endif

#ifdef HAVE_X86_KERNELS
/* 32 floats -> 32 int8 codes (round to nearest even, like lrintf), returns their sum */
ALWAYS_PRE T_AVX2 int quant32_avx2(const float *x, float id, int8_t *q)
{
    __m256 m = _mm256_set1_ps(id);
    __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), m));
    __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8), m));
    __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 16), m));
    __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 24), m));
    __m256i sum = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
    __m256i p01 = _mm256_packs_epi32(i0, i1), p23 = _mm256_packs_epi32(i2, i3);
    __m256i p = _mm256_packs_epi16(p01, p23);
    p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)q, p);
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

ALWAYS_PRE T_AVX2 float amax_avx2(const float *x, int n)
{
    __m256 sign = _mm256_set1_ps(-0.0f), mx = _mm256_setzero_ps();
    for (int j = 0; j < n; j += 8) mx = _mm256_max_ps(mx, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
    __m128 v = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
    v = _mm_max_ps(v, _mm_movehl_ps(v, v));
    v = _mm_max_ss(v, _mm_movehdup_ps(v));
    return _mm_cvtss_f32(v);
}

static T_AVX2 void quantize_act_avx2(el_type t, const float *x, void *dst, int64_t n)
{
    if (el_qdot_uses_k(t)) {
        el_act_q8k *b = dst;
        for (int64_t i = 0; i < n / 256; i++, x += 256) {
            float d = amax_avx2(x, 256) / 127.0f, id = d > 0 ? 1.0f / d : 0.0f;
            b[i].d = d;
            for (int g = 0; g < 8; g++) {
                quant32_avx2(x + 32 * g, id, b[i].qs + 32 * g);
                for (int h = 0; h < 2; h++) {
                    int s = 0;
                    for (int j = 0; j < 16; j++) s += b[i].qs[32 * g + 16 * h + j];
                    b[i].bsums[2 * g + h] = (int16_t)s;
                }
            }
        }
    } else {
        el_act_q8 *b = dst;
        for (int64_t i = 0; i < n / 32; i++, x += 32) {
            float d = amax_avx2(x, 32) / 127.0f, id = d > 0 ? 1.0f / d : 0.0f;
            b[i].d = d;
            b[i].sum = quant32_avx2(x, id, b[i].qs);
        }
    }
}
#endif

void el_qdot_quantize_act(el_type t, const float *x, void *dst, int64_t n)
{
#ifdef HAVE_X86_KERNELS
    if (el_qdot_best_isa() != EL_ISA_SCALAR) {
        quantize_act_avx2(t, x, dst, n);
        return;
    }
#endif
    quantize_act_scalar(t, x, dst, n);
}


/* ---- ARM: NEON with the dot-product extension (Cortex-A76, Apple M) --------- */

#if defined(__aarch64__) && defined(__GNUC__)
#include <arm_neon.h>
#define T_NEON __attribute__((target("arch=armv8.2-a+dotprod")))

static T_NEON void q8_0_neon(int64_t n, const void *w, const void *act, size_t st, int nr, float *out)
{
    for (int r = 0; r < nr; r++) {
        const el_act_q8 *a = ACT(act, st, r);
        const uint8_t *wb = w;
        float32x4_t acc = vdupq_n_f32(0);
        for (int64_t i = 0; i < n / 32; i++, wb += 34) {
            int32x4_t p = vdupq_n_s32(0);
            p = vdotq_s32(p, vld1q_s8((const int8_t *)wb + 2), vld1q_s8(a[i].qs));
            p = vdotq_s32(p, vld1q_s8((const int8_t *)wb + 18), vld1q_s8(a[i].qs + 16));
            acc = vmlaq_n_f32(acc, vcvtq_f32_s32(p), h2f(wb) * a[i].d);
        }
        out[r] = vaddvq_f32(acc);
    }
}

/* q4_0 / q5_0: codes minus the zero point as signed bytes */
static T_NEON void q4_0_neon(int64_t n, const void *w, const void *act, size_t st, int nr, float *out)
{
    const int8x16_t eight = vdupq_n_s8(8);
    for (int r = 0; r < nr; r++) {
        const el_act_q8 *a = ACT(act, st, r);
        const uint8_t *wb = w;
        float32x4_t acc = vdupq_n_f32(0);
        for (int64_t i = 0; i < n / 32; i++, wb += 18) {
            uint8x16_t raw = vld1q_u8(wb + 2);
            int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(raw, vdupq_n_u8(15))), eight);
            int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(raw, 4)), eight);
            int32x4_t p = vdotq_s32(vdotq_s32(vdupq_n_s32(0), lo, vld1q_s8(a[i].qs)), hi, vld1q_s8(a[i].qs + 16));
            acc = vmlaq_n_f32(acc, vcvtq_f32_s32(p), h2f(wb) * a[i].d);
        }
        out[r] = vaddvq_f32(acc);
    }
}

static T_NEON void q5_0_neon(int64_t n, const void *w, const void *act, size_t st, int nr, float *out)
{
    uint8_t u[32];
    const int8x16_t sixteen = vdupq_n_s8(16);
    for (int r = 0; r < nr; r++) {
        const el_act_q8 *a = ACT(act, st, r);
        const uint8_t *wb = w;
        float32x4_t acc = vdupq_n_f32(0);
        for (int64_t i = 0; i < n / 32; i++, wb += 22) {
            codes_q5_0(wb, u);
            int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vld1q_u8(u)), sixteen);
            int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vld1q_u8(u + 16)), sixteen);
            int32x4_t p = vdotq_s32(vdotq_s32(vdupq_n_s32(0), lo, vld1q_s8(a[i].qs)), hi, vld1q_s8(a[i].qs + 16));
            acc = vmlaq_n_f32(acc, vcvtq_f32_s32(p), h2f(wb) * a[i].d);
        }
        out[r] = vaddvq_f32(acc);
    }
}

static T_NEON void q4_K_neon(int64_t n, const void *w, const void *act, size_t st, int nr, float *out)
{
    const el_block_q4_K *wb = w;
    const uint8x16_t m4 = vdupq_n_u8(15);
    for (int r = 0; r < nr; r++) {
        float acc = 0;
        for (int64_t i = 0; i < n / 256; i++) {
            const el_act_q8k *a = (const el_act_q8k *)ACT(act, st, r) + i;
            int sc[8], mn[8];
            for (int j = 0; j < 8; j++) el_k4_scale_min(j, wb[i].scales, &sc[j], &mn[j]);
            int32_t sumq = 0, summ = 0;
            for (int j = 0; j < 4; j++) {
                uint8x16_t r0 = vld1q_u8(wb[i].qs + 32 * j), r1 = vld1q_u8(wb[i].qs + 32 * j + 16);
                const int8_t *q8 = a->qs + 64 * j;
                int32x4_t pl = vdotq_s32(vdupq_n_s32(0), vreinterpretq_s8_u8(vandq_u8(r0, m4)), vld1q_s8(q8));
                pl = vdotq_s32(pl, vreinterpretq_s8_u8(vandq_u8(r1, m4)), vld1q_s8(q8 + 16));
                int32x4_t ph = vdotq_s32(vdupq_n_s32(0), vreinterpretq_s8_u8(vshrq_n_u8(r0, 4)), vld1q_s8(q8 + 32));
                ph = vdotq_s32(ph, vreinterpretq_s8_u8(vshrq_n_u8(r1, 4)), vld1q_s8(q8 + 48));
                sumq += sc[2 * j] * vaddvq_s32(pl) + sc[2 * j + 1] * vaddvq_s32(ph);
            }
            for (int j = 0; j < 8; j++) summ += mn[j] * (a->bsums[2 * j] + a->bsums[2 * j + 1]);
            acc += h2f((const uint8_t *)&wb[i].d) * a->d * (float)sumq - h2f((const uint8_t *)&wb[i].dmin) * a->d * (float)summ;
        }
        out[r] = acc;
    }
}

/* q5_K: the super-block's codes are unpacked once (sli puts the fifth bit
 * above the nibble) and meet every row; scales applied per sub-block in int32 */
static T_NEON void q5_K_neon(int64_t n, const void *w, const void *act, size_t st, int nr, float *out)
{
    const el_block_q5_K *wb = w;
    const uint8x16_t one = vdupq_n_u8(1);
    for (int r = 0; r < nr; r++) out[r] = 0;
    for (int64_t i = 0; i < n / 256; i++) {
        int sc[8], mn[8];
        for (int j = 0; j < 8; j++) el_k4_scale_min(j, wb[i].scales, &sc[j], &mn[j]);
        int8x16_t q[16];   /* sub-block j: q[2j] (elements 0..15), q[2j+1] (16..31) */
        uint8x16_t h0 = vld1q_u8(wb[i].qh), h1 = vld1q_u8(wb[i].qh + 16);
        for (int c = 0; c < 4; c++) {
            uint8x16_t r0 = vld1q_u8(wb[i].qs + 32 * c), r1 = vld1q_u8(wb[i].qs + 32 * c + 16);
            /* sli keeps the destination's low 4 bits: (bit << 4) | nibble */
            q[4 * c + 0] = vreinterpretq_s8_u8(vsliq_n_u8(r0, vandq_u8(h0, one), 4));
            q[4 * c + 1] = vreinterpretq_s8_u8(vsliq_n_u8(r1, vandq_u8(h1, one), 4));
            h0 = vshrq_n_u8(h0, 1), h1 = vshrq_n_u8(h1, 1);
            q[4 * c + 2] = vreinterpretq_s8_u8(vsliq_n_u8(vshrq_n_u8(r0, 4), vandq_u8(h0, one), 4));
            q[4 * c + 3] = vreinterpretq_s8_u8(vsliq_n_u8(vshrq_n_u8(r1, 4), vandq_u8(h1, one), 4));
            h0 = vshrq_n_u8(h0, 1), h1 = vshrq_n_u8(h1, 1);
        }
        float d = h2f((const uint8_t *)&wb[i].d), dmin = h2f((const uint8_t *)&wb[i].dmin);
        for (int r = 0; r < nr; r++) {
            const el_act_q8k *a = (const el_act_q8k *)ACT(act, st, r) + i;
            int32x4_t acc = vdupq_n_s32(0);
            for (int j = 0; j < 8; j++) {
                int32x4_t p = vdotq_s32(vdupq_n_s32(0), q[2 * j], vld1q_s8(a->qs + 32 * j));
                p = vdotq_s32(p, q[2 * j + 1], vld1q_s8(a->qs + 32 * j + 16));
                acc = vmlaq_n_s32(acc, p, sc[j]);
            }
            int32_t summ = 0;
            for (int j = 0; j < 8; j++) summ += mn[j] * (a->bsums[2 * j] + a->bsums[2 * j + 1]);
            float dd = d * a->d, dm = dmin * a->d;
            out[r] += dd * (float)vaddvq_s32(acc) - dm * (float)summ;
        }
    }
}

static T_NEON void q6_K_neon(int64_t n, const void *w, const void *act, size_t st, int nr, float *out)
{
    const el_block_q6_K *wb = w;
    const uint8x16_t m4 = vdupq_n_u8(15), m3 = vdupq_n_u8(3);
    const int8x16_t off = vdupq_n_s8(32);
    for (int r = 0; r < nr; r++) {
        float acc = 0;
        for (int64_t i = 0; i < n / 256; i++) {
            const el_act_q8k *a = (const el_act_q8k *)ACT(act, st, r) + i;
            int32_t s = 0;
            for (int h = 0; h < 2; h++) {
                const uint8_t *ql = wb[i].ql + 64 * h, *qh = wb[i].qh + 32 * h;
                const int8_t *q8 = a->qs + 128 * h, *scl = wb[i].scales + 8 * h;
                for (int k = 0; k < 2; k++) {   /* 16-byte halves of the 32-element rows */
                    uint8x16_t l0 = vld1q_u8(ql + 16 * k), l1 = vld1q_u8(ql + 32 + 16 * k), hh = vld1q_u8(qh + 16 * k);
                    int8x16_t q0 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vandq_u8(l0, m4), vshlq_n_u8(vandq_u8(hh, m3), 4))), off);
                    int8x16_t q1 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vandq_u8(l1, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hh, 2), m3), 4))), off);
                    int8x16_t q2 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hh, 4), m3), 4))), off);
                    int8x16_t q3 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vshrq_n_u8(hh, 6), 4))), off);
                    /* element l (+32, +64, +96) of this half uses scale (l/16) (+2, +4, +6) */
                    s += scl[k + 0] * vaddvq_s32(vdotq_s32(vdupq_n_s32(0), q0, vld1q_s8(q8 + 16 * k)));
                    s += scl[k + 2] * vaddvq_s32(vdotq_s32(vdupq_n_s32(0), q1, vld1q_s8(q8 + 32 + 16 * k)));
                    s += scl[k + 4] * vaddvq_s32(vdotq_s32(vdupq_n_s32(0), q2, vld1q_s8(q8 + 64 + 16 * k)));
                    s += scl[k + 6] * vaddvq_s32(vdotq_s32(vdupq_n_s32(0), q3, vld1q_s8(q8 + 96 + 16 * k)));
                }
            }
            acc += h2f((const uint8_t *)&wb[i].d) * a->d * (float)s;
        }
        out[r] = acc;
    }
}
#define HAVE_NEON_KERNELS 1
#endif

/* ---- dispatch --------------------------------------------------------------- */

el_qdot_fn el_qdot_get(el_type t, el_qdot_isa isa)
{
#ifdef HAVE_NEON_KERNELS
    if (isa == EL_ISA_NEON) {
        switch (t) {
        case EL_TYPE_Q8_0: return q8_0_neon;
        case EL_TYPE_Q4_0: return q4_0_neon;
        case EL_TYPE_Q5_0: return q5_0_neon;
        case EL_TYPE_Q4_K: return q4_K_neon;
        case EL_TYPE_Q5_K: return q5_K_neon;
        case EL_TYPE_Q6_K: return q6_K_neon;
        default: return NULL;
        }
    }
#endif
#ifdef HAVE_X86_KERNELS
    if (isa == EL_ISA_VNNI) {
        switch (t) {
        case EL_TYPE_Q8_0: return q8_0_vnni;
        case EL_TYPE_Q4_0: return q4_0_vnni;
        case EL_TYPE_Q5_0: return q5_0_vnni;
        case EL_TYPE_Q4_K: return q4_K_vnni;
        case EL_TYPE_Q5_K: return q5_K_vnni;
        case EL_TYPE_Q6_K: return q6_K_vnni;
        default: return NULL;
        }
    }
    if (isa == EL_ISA_AVX2) {
        switch (t) {
        case EL_TYPE_Q8_0: return q8_0_avx2;
        case EL_TYPE_Q4_0: return q4_0_avx2;
        case EL_TYPE_Q5_0: return q5_0_avx2;
        case EL_TYPE_Q4_K: return q4_K_avx2;
        case EL_TYPE_Q5_K: return q5_K_avx2;
        case EL_TYPE_Q6_K: return q6_K_avx2;
        default: return NULL;
        }
    }
#endif
    if (isa != EL_ISA_SCALAR) return NULL;
    switch (t) {
    case EL_TYPE_Q8_0: return q8_0_scalar;
    case EL_TYPE_Q4_0: return q4_0_scalar;
    case EL_TYPE_Q5_0: return q5_0_scalar;
    case EL_TYPE_Q4_K: return q4_K_scalar;
    case EL_TYPE_Q5_K: return q5_K_scalar;
    case EL_TYPE_Q6_K: return q6_K_scalar;
    default: return NULL;
    }
}

el_qdot_isa el_qdot_best_isa(void)
{
    const char *force = getenv("EL_KERNELS");
    const el_cpu_features *f = el_cpu();
    el_qdot_isa best = EL_ISA_SCALAR;
#ifdef HAVE_X86_KERNELS
    if (f->avx2 && f->fma && f->f16c) best = EL_ISA_AVX2;
    if (best == EL_ISA_AVX2 && f->avx512f && f->avx512vl && f->avx512vnni) best = EL_ISA_VNNI;
#elif defined(HAVE_NEON_KERNELS)
    if (f->neon_dotprod) best = EL_ISA_NEON;
#else
    (void)f;
#endif
    if (force) {
        if (strcmp(force, "neon") == 0 && best == EL_ISA_NEON) return EL_ISA_NEON;
        if (strcmp(force, "scalar") == 0) return EL_ISA_SCALAR;
        if (strcmp(force, "avx2") == 0 && best >= EL_ISA_AVX2) return EL_ISA_AVX2;
        if (strcmp(force, "vnni") == 0 && best >= EL_ISA_VNNI) return EL_ISA_VNNI;
    }
    return best;
}

const char *el_qdot_isa_name(el_qdot_isa isa)
{
    return isa == EL_ISA_NEON ? "neon-dotprod" : isa == EL_ISA_VNNI ? "avx512-vnni" : isa == EL_ISA_AVX2 ? "avx2" : "scalar";
}
